//! Entry point: choose the face from argv[0] (and the first argument), nothing else.

use std::process::ExitCode;

use lvsctl::cli::dispatch::{Face, choose};

fn main() -> ExitCode {
    match choose(std::env::args_os().collect()) {
        Face::Ipvsadm { argv0, args } => {
            lvsctl::cli::ipvsadm_main(std::iter::once(argv0).chain(args).map(Into::into).collect())
        }
        Face::IpvsadmSave { args } => lvsctl::cli::ipvsadm_save_main(&args),
        Face::IpvsadmRestore { args } => lvsctl::cli::ipvsadm_restore_main(&args),
        Face::Ldirectord { args } => {
            lvsctl::cli::health_main(args.into_iter().map(Into::into).collect())
        }
        Face::Modern { args } => lvsctl::cli::modern::main(args),
    }
}
