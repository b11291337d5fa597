//! Parsing the health command line into [`Args`], and writing `Args` back as a command
//! line (the detached daemon's), both driven by the option table.
//!
//! The forms: ldirectord's `[-d] [--] [CONFIG] COMMAND` and `-h|-?|--help|-v|--version`;
//! lvsctl's options may stand anywhere before `--`; `-d` or `--foreground` with no
//! command means `start`; `check-config FILE` validates offline. Anything else is a
//! [`UsageError`], which exits as ldirectord's usage does.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

use super::table::{Command, ForChild, OPTIONS, Opt, option};

/// ldirectord prints its usage and exits 255 (`exit(-1)`) for an unknown command, an
/// unknown option or no command at all; every command-line error here does the same.
pub const USAGE_EXIT: u8 = 255;

/// A command line that names no valid run; printed before the usage.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UsageError {
    #[error("unknown option {0}")]
    UnknownOption(String),
    #[error("{option} needs {value}")]
    MissingValue {
        option: &'static str,
        value: &'static str,
    },
    #[error("--metrics {0}: not an address:port")]
    BadAddress(String),
    #[error("unknown command {0}")]
    UnknownCommand(String),
    #[error("no command")]
    NoCommand,
    #[error("{0} needs a FILE")]
    NoFile(&'static str),
    #[error("convert needs the format of FILE: keepalived or ldirectord, not {0:?}")]
    UnknownFormat(String),
    #[error("too many arguments: {0}")]
    TooMany(String),
}

/// The configuration formats lvsctl health reads: `convert` reads the first two, and the
/// daemon runs an ldirectord.cf as CONFIG or the others through `--keepalived FILE` and
/// `--piranha FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Keepalived,
    Ldirectord,
    /// Piranha's lvs.cf.
    Piranha,
}

impl SourceFormat {
    /// The formats `convert` reads, by the word it takes.
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "keepalived" => Some(Self::Keepalived),
            "ldirectord" => Some(Self::Ldirectord),
            _ => None,
        }
    }

    pub const fn word(self) -> &'static str {
        match self {
            Self::Keepalived => "keepalived",
            Self::Ldirectord => "ldirectord",
            Self::Piranha => "piranha",
        }
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub debug: bool,
    pub foreground: bool,
    /// Internal: the detached child of `start` (logs to the configured logfile).
    pub detached: bool,
    pub json: bool,
    pub strict: bool,
    pub pid_file: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub metrics: Option<SocketAddr>,
    /// `sendmail -t` program for alert mails (lvsctl extension).
    pub sendmail: Option<PathBuf>,
    /// CONFIG as given (for `check-config` and `convert`, their FILE).
    pub config: Option<String>,
    /// What `convert` reads FILE as.
    pub convert_from: Option<SourceFormat>,
    /// `--keepalived FILE` or `--piranha FILE`: `config` is FILE, in this format.
    pub format: Option<SourceFormat>,
    pub command: Command,
}

impl Args {
    /// `command` with no options and no CONFIG.
    pub fn new(command: Command) -> Self {
        Self {
            debug: false,
            foreground: false,
            detached: false,
            json: false,
            strict: false,
            pid_file: None,
            socket: None,
            metrics: None,
            sendmail: None,
            config: None,
            convert_from: None,
            format: None,
            command,
        }
    }

    /// Sets `opt` (with its value, for an option that takes one). `--help` and
    /// `--version` choose the command; a later one wins.
    fn set(
        &mut self,
        opt: Opt,
        value: &str,
        chosen: &mut Option<Command>,
    ) -> Result<(), UsageError> {
        match opt {
            Opt::Detached => self.detached = true,
            Opt::Debug => self.debug = true,
            Opt::Help => *chosen = Some(Command::Help),
            Opt::Version => *chosen = Some(Command::Version),
            Opt::Foreground => self.foreground = true,
            Opt::PidFile => self.pid_file = Some(value.into()),
            Opt::Socket => self.socket = Some(value.into()),
            Opt::Metrics => {
                let addr = value
                    .parse()
                    .map_err(|_| UsageError::BadAddress(value.to_owned()))?;
                self.metrics = Some(addr);
            }
            Opt::Sendmail => self.sendmail = Some(value.into()),
            Opt::Json => self.json = true,
            Opt::Strict => self.strict = true,
            Opt::Keepalived | Opt::Piranha => {
                self.format = Some(Self::format_of(opt));
                self.config = Some(value.to_owned());
            }
        }
        Ok(())
    }

    /// The arguments after `opt`'s name when it is set: none for a flag, its value for
    /// an option that takes one. None when unset.
    fn written(&self, opt: Opt) -> Option<Vec<OsString>> {
        let flag = |set: bool| set.then(Vec::new);
        let path = |p: &Option<PathBuf>| p.clone().map(|p| vec![p.into_os_string()]);
        match opt {
            Opt::Detached => flag(self.detached),
            Opt::Debug => flag(self.debug),
            Opt::Help => flag(self.command == Command::Help),
            Opt::Version => flag(self.command == Command::Version),
            Opt::Foreground => flag(self.foreground),
            Opt::PidFile => path(&self.pid_file),
            Opt::Socket => path(&self.socket),
            Opt::Metrics => self.metrics.map(|m| vec![m.to_string().into()]),
            Opt::Sendmail => path(&self.sendmail),
            Opt::Json => flag(self.json),
            Opt::Strict => flag(self.strict),
            Opt::Keepalived | Opt::Piranha => self
                .config
                .clone()
                .filter(|_| self.format == Some(Self::format_of(opt)))
                .map(|c| vec![c.into()]),
        }
    }

    /// Copies `opt` from `from`: what [`ForChild::Copy`] means.
    fn copy(&mut self, from: &Self, opt: Opt) {
        match opt {
            Opt::Detached => self.detached = from.detached,
            Opt::Debug => self.debug = from.debug,
            Opt::Help | Opt::Version => {}
            Opt::Foreground => self.foreground = from.foreground,
            Opt::PidFile => self.pid_file.clone_from(&from.pid_file),
            Opt::Socket => self.socket.clone_from(&from.socket),
            Opt::Metrics => self.metrics = from.metrics,
            Opt::Sendmail => self.sendmail.clone_from(&from.sendmail),
            Opt::Json => self.json = from.json,
            Opt::Strict => self.strict = from.strict,
            Opt::Keepalived | Opt::Piranha => {
                if from.format == Some(Self::format_of(opt)) {
                    self.format = from.format;
                }
            }
        }
    }

    /// The format an option that names a FILE selects.
    fn format_of(opt: Opt) -> SourceFormat {
        if opt == Opt::Piranha {
            SourceFormat::Piranha
        } else {
            SourceFormat::Keepalived
        }
    }

    /// The command line (argv[0] excluded) that [`parse_args`] reads back as `self`.
    pub fn to_argv(&self) -> Vec<OsString> {
        let mut argv = Vec::new();
        for spec in OPTIONS {
            if let Some(value) = self.written(spec.opt) {
                argv.push(spec.name().into());
                argv.extend(value);
            }
        }
        let mut positional = Vec::new();
        match self.command {
            Command::Help | Command::Version => {}
            cmd if self.format.is_some() => positional.push(cmd.spelling().to_owned()),
            Command::CheckConfig => {
                positional.push(Command::CheckConfig.spelling().to_owned());
                positional.extend(self.config.clone());
            }
            Command::Convert => {
                positional.push(Command::Convert.spelling().to_owned());
                positional.extend(self.convert_from.map(|f| f.word().to_owned()));
                positional.extend(self.config.clone());
            }
            cmd => {
                positional.extend(self.config.clone());
                positional.push(cmd.spelling().to_owned());
            }
        }
        if positional.iter().any(|p| p.starts_with('-') && p.len() > 1) {
            argv.push("--".into());
        }
        argv.extend(positional.into_iter().map(OsString::from));
        argv
    }

    /// The arguments of the detached copy that plain `start` runs: `start` on `config`,
    /// `--detached`, the pid file `start` settled on, and the options the table marks
    /// [`ForChild::Copy`].
    pub fn detached_child(&self, config: Option<String>, pid_file: Option<PathBuf>) -> Self {
        let mut child = Self::new(Command::Start);
        for spec in OPTIONS.iter().filter(|s| s.child == ForChild::Copy) {
            child.copy(self, spec.opt);
        }
        child.detached = true;
        child.pid_file = pid_file;
        child.config = config;
        child
    }
}

/// Parses the health command line (argv[0] excluded).
pub fn parse_args(args: &[String]) -> Result<Args, UsageError> {
    let mut out = Args::new(Command::Start);
    let mut chosen = None;
    let mut positional: Vec<&str> = Vec::new();
    let mut it = args.iter();
    let mut options_end = false;
    while let Some(a) = it.next() {
        if options_end || !a.starts_with('-') || a == "-" {
            positional.push(a);
            continue;
        }
        if a == "--" {
            options_end = true;
            continue;
        }
        let spec = option(a).ok_or_else(|| UsageError::UnknownOption(a.clone()))?;
        let value = match spec.value {
            None => "",
            Some(value) => it.next().ok_or(UsageError::MissingValue {
                option: spec.name(),
                value,
            })?,
        };
        out.set(spec.opt, value, &mut chosen)?;
    }
    if let Some(command) = chosen {
        out.command = command;
        return Ok(out);
    }
    let starts = out.foreground || out.debug;
    if out.format.is_some() {
        out.command = format_command(&positional, starts)?;
        return Ok(out);
    }
    let (config, command) = match positional.as_slice() {
        ["check-config", rest @ ..] => {
            let file = rest.first().ok_or(UsageError::NoFile("check-config"))?;
            (Some(*file), Command::CheckConfig)
        }
        ["convert", rest @ ..] => {
            let (format, file) = match rest {
                [] | [_] => return Err(UsageError::NoFile("convert")),
                [format, file] => (*format, *file),
                [_, _, more @ ..] => return Err(UsageError::TooMany(more.join(" "))),
            };
            out.convert_from = Some(
                SourceFormat::from_word(format)
                    .ok_or_else(|| UsageError::UnknownFormat(format.to_owned()))?,
            );
            (Some(file), Command::Convert)
        }
        [] if starts => (None, Command::Start),
        [] => return Err(UsageError::NoCommand),
        [word] => match Command::ldirectord(word) {
            Some(cmd) => (None, cmd),
            None if starts => (Some(*word), Command::Start),
            None => return Err(UsageError::UnknownCommand((*word).to_owned())),
        },
        [config, word] => match Command::ldirectord(word) {
            Some(cmd) => (Some(*config), cmd),
            None => return Err(UsageError::UnknownCommand((*word).to_owned())),
        },
        [_, _, rest @ ..] => return Err(UsageError::TooMany(rest.join(" "))),
    };
    out.config = config.map(str::to_owned);
    out.command = command;
    Ok(out)
}

/// The command after `--keepalived FILE` or `--piranha FILE`: one of ldirectord's or
/// `check-config`, and no CONFIG (FILE is the configuration).
fn format_command(positional: &[&str], starts: bool) -> Result<Command, UsageError> {
    match positional {
        [] if starts => Ok(Command::Start),
        [] => Err(UsageError::NoCommand),
        ["check-config"] => Ok(Command::CheckConfig),
        [word] => {
            Command::ldirectord(word).ok_or_else(|| UsageError::UnknownCommand((*word).to_owned()))
        }
        [_, rest @ ..] => Err(UsageError::TooMany(rest.join(" "))),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
