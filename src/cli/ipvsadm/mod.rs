//! The strict ipvsadm 1.31 personality: same grammar, same output bytes, same exit codes.

pub mod clap_def;
pub mod exec;
pub mod format;
pub mod parse;
