//! lvsctl: one tool for Linux Virtual Server directors.
//!
//! `ipvs` is the only module that talks to the kernel; `cli` holds the ipvsadm personality
//! and the modern subcommands; `tui` is `lvsctl top`; `health` is the ldirectord-compatible
//! checker daemon.

pub mod cli;
pub mod health;
pub mod ipvs;
pub mod ipvsadm;
pub mod names;
pub mod rules;
pub mod schema;
pub mod tui;
pub mod units;
