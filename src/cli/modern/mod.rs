//! The modern face: `lvsctl <subcommand>`, defined with clap's derive API.

pub mod args;
pub mod conns;
pub mod list;
pub mod rules;
pub mod run;
pub mod spec;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::modern::args::{Cli, Command};

/// Run `lvsctl <subcommand>` and turn the outcome into an exit status: 0 success, 1 error
/// (with `lvsctl: <message>` on stderr), 2 usage error (clap's own).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lvsctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn table_style() -> list::Style {
    let tty = std::io::stdout().is_terminal();
    list::Style {
        color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: None,
    }
}

fn rules_exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut confirm = run::TerminalConfirm;
    match cli.command {
        Command::Generate { out_dir } => {
            crate::cli::generate::write_all(&out_dir)?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Ipvsadm { args } => {
            let mut argv = vec![OsString::from("ipvsadm")];
            argv.extend(args);
            return Ok(crate::cli::ipvsadm_main(argv));
        }
        Command::Health { args } => return Ok(crate::cli::health_main(args)),
        Command::Top(args) => return crate::cli::top::top_main(&args),
        Command::Check(args) => return Ok(rules_exit(rules::check_main(&args.files))),
        Command::Diff(args) => return Ok(rules_exit(rules::diff_main(&args.into()))),
        Command::Apply(args) => return Ok(rules_exit(rules::apply_main(&args.into()))),
        _ => {}
    }
    let mut backend = crate::cli::backend::open()?;
    let backend = backend.as_mut();
    match cli.command {
        Command::List(args) => run::list(backend, &args, table_style(), &mut out)?,
        Command::Conns(args) => run::conns(backend, &args, &mut out)?,
        Command::Timeouts(a) => run::timeouts(backend, a.json, &mut out)?,
        Command::Daemon(a) => run::daemon(backend, a.json, &mut out)?,
        Command::Info(a) => run::info(backend, a.json, &mut out)?,
        Command::Clear(y) => run::clear(backend, y.yes, &mut confirm, &mut out)?,
        Command::Delete(args) => run::delete(backend, &args, &mut confirm, &mut out)?,
        Command::Generate { .. }
        | Command::Ipvsadm { .. }
        | Command::Health { .. }
        | Command::Top(_)
        | Command::Check(_)
        | Command::Diff(_)
        | Command::Apply(_) => {}
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
