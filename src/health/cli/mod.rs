//! ldirectord's command line: `[-d] [CONFIG] COMMAND` with the same commands, pid file and
//! exit codes (docs/ldirectord-compat.md, Command line), plus lvsctl's options and
//! `check-config FILE [--strict]`.
//!
//! `table` defines every option and command once; `parse` reads a command line into
//! [`Args`] and writes one back; `help` writes the usage and `--help`; `process` finds,
//! signals and detaches daemons; `offline` runs `check-config` and `convert`. This file
//! runs the daemon's commands.
//!
//! Deliberate differences: `stop`, `status` and `reload` do not need a parsable config
//! (ldirectord fails `stop` with exit 2 on a broken file while the daemon keeps running),
//! `stop` waits for the daemon to finish its cleanup, and `status` also prints the health
//! table from the status socket.

mod help;
mod offline;
mod parse;
mod pidfile;
mod process;
pub mod table;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use help::{help, synopsis, usage};
pub use parse::{Args, SourceFormat, USAGE_EXIT, UsageError, parse_args};
pub use pidfile::{PidFile, PidFileError};
pub use process::{is_this_program, running_pid};
pub use table::Command;

use crate::health::config::{ConfigLocation, locate_config};
use crate::health::daemon::{self, ConfigFormat, Console, DaemonOptions, Notifier};
use crate::health::status;
use crate::ipvs::BackendFactory;
use offline::{check_config, convert};
use process::{detach_self, signal, spawn_detached, stop};

/// Runs the health face; returns the exit code.
pub fn main(args: &[String], factory: impl Fn() -> BackendFactory) -> u8 {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n{}", usage());
            return USAGE_EXIT;
        }
    };
    match args.command {
        Command::Help => {
            println!("{}", help());
            0
        }
        Command::Version => {
            println!(
                "lvsctl health {} (ldirectord-compatible)",
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Command::CheckConfig => check_config(&args),
        Command::Convert => convert(&args),
        Command::Start => on_daemon(&args, |d| start(&args, d, d.running, &factory)),
        Command::Stop => on_daemon(&args, |d| match d.running {
            Some(pid) if !stop(pid, d.pid_file.as_deref()) => not_ours(d, pid),
            _ => 0,
        }),
        Command::Restart => on_daemon(&args, |d| restart(&args, d, &factory)),
        // ldirectord's try-restart: a restart only when a daemon runs.
        Command::TryRestart => on_daemon(&args, |d| match d.running {
            Some(_) => restart(&args, d, &factory),
            None => 0,
        }),
        Command::Reload | Command::ForceReload => on_daemon(&args, |d| match d.running {
            Some(pid) if signal(pid, rustix::process::Signal::HUP) => 0,
            Some(pid) if !process::is_this_program(pid) => not_ours(d, pid),
            _ => 1,
        }),
        Command::Status => on_daemon(&args, |d| status_cmd(&args, d)),
    }
}

/// The daemon a command is about: its configuration, pid file and process.
struct Daemon {
    location: ConfigLocation,
    pid_file: Option<PathBuf>,
    /// Its pid, when the pid file names a live ldirectord or lvsctl.
    running: Option<i32>,
}

/// Runs `command` on the daemon of the configuration `args` names; exit 1 when there is
/// no such file, as in ldirectord.
fn on_daemon(args: &Args, command: impl FnOnce(&Daemon) -> u8) -> u8 {
    let located = match &args.config {
        Some(file) if args.format.is_some() => given_location(Path::new(file)),
        _ => locate_config(args.config.as_deref(), Path::is_file),
    };
    let location = match located {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let pid_file = pid_file_for(args, &location);
    let running = pid_file.as_deref().and_then(running_pid);
    command(&Daemon {
        location,
        pid_file,
        running,
    })
}

/// A keepalived.conf or an lvs.cf is where it is said to be (neither keepalived nor pulse
/// has a search path), and is named by its last component, as an ldirectord.cf given by
/// path is.
fn given_location(file: &Path) -> Result<ConfigLocation, String> {
    if !file.is_file() {
        return Err(format!("config file {} not found", file.display()));
    }
    Ok(ConfigLocation {
        path: file.to_path_buf(),
        name: file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
    })
}

/// What the daemon's file is written as.
fn format(args: &Args) -> ConfigFormat {
    match args.format {
        Some(SourceFormat::Keepalived) => ConfigFormat::Keepalived,
        Some(SourceFormat::Piranha) => ConfigFormat::Piranha,
        Some(SourceFormat::Ldirectord) | None => ConfigFormat::Ldirectord,
    }
}

fn restart(args: &Args, d: &Daemon, factory: &impl Fn() -> BackendFactory) -> u8 {
    if let Some(pid) = d.running
        && !stop(pid, d.pid_file.as_deref())
    {
        return not_ours(d, pid);
    }
    start(args, d, None, factory)
}

/// The pid file names a live process that is not this program (its pid was reused, or it
/// is another ldirectord): it is not signalled, and the command fails.
fn not_ours(d: &Daemon, pid: i32) -> u8 {
    let file = d.pid_file.as_deref().map(Path::display);
    eprintln!(
        "process {pid} named by {} is not lvsctl: not signalled",
        file.map_or_else(|| "the pid file".to_owned(), |f| f.to_string())
    );
    1
}

/// `-d` runs without a pid file unless one is named (ldirectord's behaviour).
fn pid_file_for(args: &Args, location: &ConfigLocation) -> Option<PathBuf> {
    match (&args.pid_file, args.debug) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => Some(location.pid_file()),
    }
}

/// `running`: the daemon's pid unless `restart` has just stopped it.
fn start(
    args: &Args,
    d: &Daemon,
    running: Option<i32>,
    factory: &impl Fn() -> BackendFactory,
) -> u8 {
    if args.detached {
        detach_self();
    }
    let location = &d.location;
    let held = d.pid_file.as_deref().and_then(pidfile::locked_by);
    if let Some(pid) = running.or(held.and_then(|h| h.pid)) {
        eprintln!(
            "ldirectord for {} is already running with pid: {pid}",
            location.path.display()
        );
        return 0;
    }
    let config = match daemon::run_config_check(&location.path, format(args)) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{e}");
            return 2;
        }
    };
    let mode = start_mode(args, config.globals.supervised);
    let pid_file = d.pid_file.as_deref().filter(|_| mode.pid_file);
    if mode.detach {
        return spawn_detached(args, location, pid_file);
    }
    // Held until the daemon has finished; dropping it removes the file.
    let _held = match pid_file.map(PidFile::acquire).transpose() {
        Ok(held) => held,
        Err(PidFileError::Locked { pid, .. }) => {
            eprintln!(
                "ldirectord for {} is already running{}",
                location.path.display(),
                pid.map(|p| format!(" with pid: {p}")).unwrap_or_default()
            );
            return 0;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let mut opts = DaemonOptions::new(location.clone());
    opts.format = format(args);
    opts.socket.clone_from(&args.socket);
    opts.metrics = args.metrics;
    opts.console = mode.console;
    process::program_ident().clone_into(&mut opts.ident);
    opts.notifier = Notifier::from_env();
    if let Some(s) = &args.sendmail {
        opts.sendmail.clone_from(s);
    }
    let result = daemon::run(&opts, factory());
    match result {
        Ok(()) => 0,
        Err(daemon::DaemonError::Config(e)) => {
            eprint!("{e}");
            2
        }
        Err(e) => {
            eprintln!("lvsctl health: {e}");
            1
        }
    }
}

/// How `start` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StartMode {
    /// Start a detached copy and return (plain `start`).
    detach: bool,
    console: Console,
    /// Whether the pid file (if any) is written.
    pid_file: bool,
}

/// `-d` logs to stderr as ldirectord -d does, `--foreground` in the file format;
/// `supervised=yes` (unless `-d`) stays in the foreground, logs to stdout and writes no pid
/// file unless one is named, as ldirectord's supervised mode writes none; the detached copy
/// logs to the configured logfile.
fn start_mode(args: &Args, supervised: bool) -> StartMode {
    let supervised = supervised && !args.debug;
    let console = if supervised {
        Console::Supervised
    } else if args.detached {
        Console::None
    } else if args.debug {
        Console::Debug
    } else {
        Console::Stderr
    };
    StartMode {
        detach: !(args.debug || args.foreground || args.detached || supervised),
        console,
        pid_file: !supervised || args.pid_file.is_some(),
    }
}

fn status_cmd(args: &Args, d: &Daemon) -> u8 {
    let (location, pid_file) = (&d.location, d.pid_file.as_deref());
    let cfg = location.path.display();
    match d.running {
        Some(pid) => {
            eprintln!("ldirectord for {cfg} is running with pid: {pid}");
            let socket = args
                .socket
                .clone()
                .unwrap_or_else(|| status::socket_path(&location.name));
            match status::query(&socket) {
                Ok(r) if args.json => {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                }
                Ok(r) => print!("{}", status::render_table(&r)),
                Err(e) => eprintln!("status socket {}: {e}", socket.display()),
            }
            // ldirectord forwards `status` to its `execute` instances, and exits 0
            // whatever they say (see `daemon::execute`).
            let execute = daemon::run_config_check(&location.path, format(args))
                .map(|c| c.globals.execute)
                .unwrap_or_default();
            if let Some(launcher) = daemon::execute::Launcher::current(process::program_ident()) {
                let _ = std::io::Write::flush(&mut std::io::stdout());
                launcher.status(&execute, Duration::from_secs(70));
            }
            0
        }
        None if pid_file.is_some_and(Path::exists) => {
            eprintln!(
                "ldirectord stale pid file {}",
                pid_file
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
            1
        }
        None => {
            eprintln!("ldirectord for {cfg} is stopped");
            3
        }
    }
}

#[cfg(test)]
mod tests;
