//! lvsctl: one tool for Linux Virtual Server directors.
//!
//! Faces stand on shared layers, never on each other (`tests/layering.rs` checks it):
//!
//! * shared layers: [`ipvs`], the only module that talks to the kernel (model, netlink,
//!   procfs, an in-memory fake); [`names`], host and service names and this host's name;
//!   [`units`], human numbers; [`ipvsadm`], ipvsadm's grammar and output formats;
//!   [`schema`], the JSON document of `list --json` and rules files;
//! * faces: [`rules`], rules files (`check`, `diff`, `apply`); [`tui`], `lvsctl top`;
//!   [`health`], the ldirectord-compatible checker daemon;
//! * [`cli`], the wiring: argv, the ipvsadm personality's executor, the modern
//!   subcommands, and each face given its backend, resolver and streams.

pub mod cli;
pub mod health;
pub mod ipvs;
pub mod ipvsadm;
pub mod names;
pub mod rules;
pub mod schema;
pub mod tui;
pub mod units;
