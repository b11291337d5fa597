//! Command-line faces of lvsctl.

pub mod backend;
pub mod dispatch;
pub mod generate;
pub mod ipvsadm;
pub mod modern;

use std::ffi::OsString;
use std::process::ExitCode;

/// The strict ipvsadm personality (argv[0] included).
pub fn ipvsadm_main(_argv: Vec<OsString>) -> ExitCode {
    eprintln!("lvsctl: the ipvsadm personality is not wired yet");
    ExitCode::from(2)
}

/// `lvsctl health ...` / `ldirectord ...`.
pub fn health_main(_args: Vec<OsString>) -> ExitCode {
    eprintln!("lvsctl: health is not wired yet");
    ExitCode::from(2)
}

/// `lvsctl top`.
pub fn top_main(_args: &modern::args::TopArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("top is not wired yet")
}

/// Debian's `ipvsadm-save [-n]`.
pub fn ipvsadm_save_main(_args: &[String]) -> ExitCode {
    ExitCode::from(2)
}

/// Debian's `ipvsadm-restore`.
pub fn ipvsadm_restore_main(_args: &[String]) -> ExitCode {
    ExitCode::from(2)
}
