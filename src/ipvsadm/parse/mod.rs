//! ipvsadm 1.31 command-line parsing: popt's grammar, the option table, and validation in
//! ipvsadm's order, so that the first error reported is the one ipvsadm reports.
//!
//! Pure: no I/O except name lookups through the injected [`Resolver`]. The stages are
//! [`tokenizer`] (argv → options/positionals, popt rules) → [`apply`] (per-option
//! validation into the raw [`entry`]) → [`finish`] (cross-option checks, defaults, typed
//! [`IpvsadmCommand`]). [`restore`] splits `-R` input into argv lists.
//!
//! Executing: on `Err(e)` print `e.message` and a newline to stderr and exit with
//! `e.exit_code`. A restore (`-R`) reads stdin, and for each line of
//! [`restore_lines`] calls [`parse_restore_line`]: on `Err(e)` print the message, then stop
//! with `e.exit_code` if `e.kind.aborts_restore()`, else record status 255 and go on;
//! `Help`/`Version` print and exit 0 at once; other commands run (a kernel error prints its
//! message, records 255 and goes on). The restore's exit status is the last line's status
//! (0 for empty input).

pub mod address;
pub mod apply;
pub mod command;
pub mod compat;
pub mod entry;
pub mod error;
pub mod finish;
pub mod numbers;
pub mod restore;
pub mod table;
pub mod tokenizer;

#[cfg(test)]
mod tests;

pub use command::{IpvsadmCommand, ListMode, ListRequest, ListTarget};
pub use error::{ErrorKind, Failure, ParseError, TokenReason};
pub use restore::restore_lines;
pub use table::{OPTIONS, OptionSpec, ValueKind};

use crate::ipvs::model::DaemonRole;
use crate::names::Resolver;
use entry::Entry;
use table::{Command, Role};
use tokenizer::Tokenizer;

/// Parses one ipvsadm command line. `args` excludes `argv[0]`; `argv0` is only used
/// verbatim in the "Try …" message. No arguments at all means a plain listing (`-L`).
pub fn parse(
    argv0: &str,
    args: &[String],
    resolver: &dyn Resolver,
) -> Result<IpvsadmCommand, ParseError> {
    if args.is_empty() {
        return Ok(IpvsadmCommand::List(ListRequest::default()));
    }
    parse_line(argv0, args, resolver).map_err(ParseError::from)
}

/// Parses one line of `-R` input (tokens from [`restore_lines`], without `argv[0]`).
///
/// Identical to [`parse`] except that a nested `-R` is refused the way ipvsadm refuses it:
/// after all other checks passed, with the "Try …" message (exit 255, aborts the restore).
pub fn parse_restore_line(
    argv0: &str,
    args: &[String],
    resolver: &dyn Resolver,
) -> Result<IpvsadmCommand, ParseError> {
    match parse(argv0, args, resolver)? {
        IpvsadmCommand::Restore => Err(ParseError::from(Failure::TryHelp {
            argv0: argv0.to_owned(),
        })),
        cmd => Ok(cmd),
    }
}

fn parse_line(
    argv0: &str,
    args: &[String],
    resolver: &dyn Resolver,
) -> Result<IpvsadmCommand, Failure> {
    let mut tokens = Tokenizer::new(args);
    let try_help = || Failure::TryHelp {
        argv0: argv0.to_owned(),
    };
    let first = tokens
        .next_option()
        .and_then(Result::ok)
        .ok_or_else(try_help)?;
    let cmd = match first.spec.role {
        Role::Help => return Ok(IpvsadmCommand::Help),
        Role::Version => return Ok(IpvsadmCommand::Version),
        Role::Command(cmd) => cmd,
        Role::Tracked(_) | Role::Untracked => return Err(try_help()),
    };
    let mut entry = Entry::new(cmd);
    entry.daemon_role = daemon_role(cmd, first.value)?;
    while let Some(tok) = tokens.next_option() {
        let tok = tok?;
        if tok.spec.is_command() {
            return Err(Failure::InvalidOption(tok.last_element.to_owned()));
        }
        apply::apply(&mut entry, &tok, resolver)?;
    }
    finish::finish(entry, tokens.positionals())
}

/// The value of `--start-daemon`/`--stop-daemon`, checked as soon as it is read.
fn daemon_role(cmd: Command, value: Option<&str>) -> Result<Option<DaemonRole>, Failure> {
    let failure = match cmd {
        Command::StartDaemon => Failure::StartDaemonParam,
        Command::StopDaemon => Failure::StopDaemonParam,
        _ => return Ok(None),
    };
    match value {
        Some("master") => Ok(Some(DaemonRole::Master)),
        Some("backup") => Ok(Some(DaemonRole::Backup)),
        _ => Err(failure),
    }
}
