//! The modern face: `lvsctl <subcommand>`, defined with clap's derive API.

pub mod args;
pub mod conns;
pub mod human;
pub mod list;
pub mod schema;
pub mod spec;
