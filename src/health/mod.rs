//! `lvsctl health`: the ldirectord-compatible health checker.
//!
//! `config` reads ldirectord.cf into resolved, typed data; `desired` maps it to the IPVS
//! objects the reconciler should make the kernel hold.

pub mod check;
pub mod config;
pub mod desired;
