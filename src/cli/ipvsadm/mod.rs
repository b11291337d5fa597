//! The strict ipvsadm 1.31 personality: same grammar, same output bytes, same exit codes.
//!
//! The grammar and the output formats are the shared [`crate::ipvsadm`] layer (rules files
//! read the same lines); what lives here runs them: [`exec`] against a backend, with the
//! process's streams, and [`clap_def`] for completions and the man page.

pub mod clap_def;
pub mod exec;
