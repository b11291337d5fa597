//! `lvsctl health`: the ldirectord-compatible health checker.
//!
//! `config` reads ldirectord.cf into resolved, typed data; `desired` maps it to the IPVS
//! objects the reconciler should make the kernel hold; `check` runs one health check under a
//! hard deadline; `state` turns check outcomes into up/down transitions and the set of
//! destinations each virtual should have; `maintenance` finds ldirectord's force-down files;
//! `daemon` runs the checks and reconciles the kernel; `status` serves and reads the JSON
//! status socket; `cli` is ldirectord's command line; `manual` is the man page's long text.
//! `keepalived` and `piranha` read the two other configuration formats (keepalived.conf's
//! LVS part, Piranha's lvs.cf) into typed models of their own.

pub mod check;
pub mod cli;
pub mod config;
pub mod convert;
pub mod daemon;
pub mod desired;
pub mod keepalived;
pub mod maintenance;
pub mod manual;
pub mod piranha;
pub mod state;
pub mod status;
