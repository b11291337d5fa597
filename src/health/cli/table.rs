//! The health command line as data: every option and every command once, with its help.
//!
//! The parser, `--help`, the usage line, the man page's SYNOPSIS, COMMANDS and OPTIONS and
//! the argv of the detached daemon are all made from [`OPTIONS`] and [`Command`], so none
//! of them can name an option that another lacks. ldirectord's own command line is
//! `ldirectord [-d|--debug] [--] [CONFIG] COMMAND` and `ldirectord -h|-?|--help|-v|--version`
//! (docs/ldirectord-compat.md, Command line); everything else here is marked `extension`.

/// What an option sets in [`Args`](super::Args).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    Detached,
    Debug,
    Help,
    Version,
    Foreground,
    PidFile,
    Socket,
    Metrics,
    Sendmail,
    Json,
    Strict,
    Keepalived,
    Piranha,
}

/// Where an option shows in the usage lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synopsis {
    /// The line of ldirectord's commands.
    Daemon,
    /// The `check-config` line.
    CheckConfig,
    /// The line of a daemon run on another format's file (`--keepalived FILE`,
    /// `--piranha FILE`): these options are alternatives.
    OtherFormat,
    /// The line of options that replace a command (`--help`, `--version`).
    Alone,
    /// Nowhere: internal to lvsctl.
    Hidden,
}

/// How plain `start` passes an option on to the detached copy of itself it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForChild {
    /// Not passed: it only matters to the process that was started by hand.
    Drop,
    /// Passed as given.
    Copy,
    /// Set by `start` itself: the child's own value.
    Own,
}

/// One option.
#[derive(Debug)]
pub struct OptionSpec {
    pub opt: Opt,
    /// Every spelling; the last is the one lvsctl writes (the detached argv).
    pub names: &'static [&'static str],
    /// The value's name in help texts, for an option that takes the next argument.
    pub value: Option<&'static str>,
    /// One paragraph, for `--help` and the man page alike.
    pub help: &'static str,
    /// Added by lvsctl: ldirectord answers it with its usage.
    pub extension: bool,
    pub synopsis: Synopsis,
    pub child: ForChild,
}

impl OptionSpec {
    /// The name lvsctl writes when it builds a command line.
    pub fn name(&self) -> &'static str {
        self.names.last().copied().unwrap_or_default()
    }

    /// `-d, --debug` or `--pid-file FILE`: the term of a help entry.
    pub fn term(&self) -> String {
        let names = self.names.join(", ");
        self.value.map_or(names.clone(), |v| format!("{names} {v}"))
    }
}

/// Every option, in the order help texts list them. `--detached` comes first because it
/// is then the first argument of the detached daemon, which `ps` shows.
pub static OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        opt: Opt::Detached,
        names: &["--detached"],
        value: None,
        help: "Internal: the copy of itself that start runs in the background; it logs to \
               the configured logfile.",
        extension: true,
        synopsis: Synopsis::Hidden,
        child: ForChild::Own,
    },
    OptionSpec {
        opt: Opt::Debug,
        names: &["-d", "--debug"],
        value: None,
        help: "Stay in the foreground and print every log line to stderr as ldirectord -d \
               does; no pid file unless --pid-file names one.",
        extension: false,
        synopsis: Synopsis::Daemon,
        child: ForChild::Drop,
    },
    OptionSpec {
        opt: Opt::Help,
        names: &["-h", "-?", "--help"],
        value: None,
        help: "Print the usage, the options and what differs from ldirectord, and exit \
               (ldirectord shows its manual page instead).",
        extension: false,
        synopsis: Synopsis::Alone,
        child: ForChild::Drop,
    },
    OptionSpec {
        opt: Opt::Version,
        names: &["-v", "--version"],
        value: None,
        help: "Print the version and exit.",
        extension: false,
        synopsis: Synopsis::Alone,
        child: ForChild::Drop,
    },
    OptionSpec {
        opt: Opt::Foreground,
        names: &["--foreground"],
        value: None,
        help: "Stay in the foreground for systemd (Type=notify): log to stderr, send \
               READY=1, WATCHDOG=1 (at half of WatchdogSec) and STOPPING=1.",
        extension: true,
        synopsis: Synopsis::Daemon,
        child: ForChild::Drop,
    },
    OptionSpec {
        opt: Opt::PidFile,
        names: &["--pid-file"],
        value: Some("FILE"),
        help: "Instead of /var/run/ldirectord.NAME.pid.",
        extension: true,
        synopsis: Synopsis::Daemon,
        child: ForChild::Own,
    },
    OptionSpec {
        opt: Opt::Socket,
        names: &["--socket"],
        value: Some("FILE"),
        help: "The status socket, instead of /run/lvsctl/health.NAME.sock.",
        extension: true,
        synopsis: Synopsis::Daemon,
        child: ForChild::Copy,
    },
    OptionSpec {
        opt: Opt::Metrics,
        names: &["--metrics"],
        value: Some("ADDR:PORT"),
        help: "Serve Prometheus text metrics there (give a loopback address unless the \
               metrics may be public).",
        extension: true,
        synopsis: Synopsis::Daemon,
        child: ForChild::Copy,
    },
    OptionSpec {
        opt: Opt::Sendmail,
        names: &["--sendmail"],
        value: Some("PATH"),
        help: "Program for alert mails, run as PATH -t -oi (default /usr/sbin/sendmail); \
               smtp= in the file sends over SMTP instead.",
        extension: true,
        synopsis: Synopsis::Daemon,
        child: ForChild::Copy,
    },
    OptionSpec {
        opt: Opt::Json,
        names: &["--json"],
        value: None,
        help: "status prints the status document as JSON.",
        extension: true,
        synopsis: Synopsis::Daemon,
        child: ForChild::Drop,
    },
    OptionSpec {
        opt: Opt::Strict,
        names: &["--strict"],
        value: None,
        help: "check-config counts every warning as an error.",
        extension: true,
        synopsis: Synopsis::CheckConfig,
        child: ForChild::Drop,
    },
    OptionSpec {
        opt: Opt::Keepalived,
        names: &["--keepalived"],
        value: Some("FILE"),
        help: "Run, check or control the daemon of a keepalived.conf's LVS part instead of \
               an ldirectord.cf, with keepalived's semantics; what lvsctl cannot run so is \
               refused with FILE:LINE (start exits 2). FILE is taken as given (no /etc/ha.d \
               search) and its last component is NAME, as for an ldirectord.cf given by \
               path: the pid file /var/run/ldirectord.NAME.pid, the status socket \
               /run/lvsctl/health.NAME.sock, and NAME in every log line; logs go to syslog \
               (facility daemon), as keepalived's do.",
        extension: true,
        synopsis: Synopsis::OtherFormat,
        // The flag; FILE is the child's CONFIG, made absolute as any CONFIG is.
        child: ForChild::Copy,
    },
    OptionSpec {
        opt: Opt::Piranha,
        names: &["--piranha"],
        value: Some("FILE"),
        help: "Run, check or control the daemon of Piranha's lvs.cf (its virtual servers \
               and nanny's checks; pulse's failover settings are ignored) instead of an \
               ldirectord.cf, with the semantics docs/piranha.md states: a failed real \
               comes back after passing for `reentry` seconds. What lvsctl cannot run so \
               is refused with FILE:LINE (start exits 2). FILE and NAME as for \
               --keepalived; logs go to syslog (facility daemon).",
        extension: true,
        synopsis: Synopsis::OtherFormat,
        child: ForChild::Copy,
    },
];

/// The option spelled `name`.
pub fn option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.names.contains(&name))
}

/// What one run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Start,
    Stop,
    Restart,
    TryRestart,
    Reload,
    ForceReload,
    Status,
    /// lvsctl's offline validation.
    CheckConfig,
    /// Writes a keepalived.conf as an ldirectord.cf or the reverse.
    Convert,
    /// Selected by `-h`/`--help` rather than a word.
    Help,
    /// Selected by `-v`/`--version` rather than a word.
    Version,
}

/// What the help texts say about a command. Commands that share one (ldirectord's
/// aliases) are listed together.
#[derive(Debug)]
pub struct CommandDoc {
    /// The operand that follows the command word, if any.
    pub operand: Option<&'static str>,
    /// One line, for `--help`.
    pub summary: &'static str,
    /// The man page's paragraph.
    pub description: &'static str,
}

static START: CommandDoc = CommandDoc {
    operand: None,
    summary: "check the configuration (exit 2 on an error), then run the daemon",
    description: "Checks the configuration, then runs the daemon: detached, unless \
                  supervised=yes, -d or --foreground keep it in the foreground. When a daemon \
                  for the configuration already runs (its pid file is locked, or names a live \
                  ldirectord or lvsctl), says so and exits 0, as ldirectord does; 2 on a \
                  configuration error.",
};
static STOP: CommandDoc = CommandDoc {
    operand: None,
    summary: "stop the daemon and wait until it has cleaned up",
    description: "Sends TERM to the daemon named by the pid file and waits for it to exit. \
                  A pid file naming a process that is not this program (a reused pid) is \
                  not acted on: nothing is signalled and stop exits 1.",
};
static RESTART: CommandDoc = CommandDoc {
    operand: None,
    summary: "stop, then start; try-restart only when a daemon runs",
    description: "stop, then start; try-restart does nothing when no daemon runs.",
};
static RELOAD: CommandDoc = CommandDoc {
    operand: None,
    summary: "reread the configuration (HUP); exit 1 when no daemon runs",
    description: "Sends HUP: the daemon rereads the file, keeps the state of unchanged checks \
                  and applies only the difference. A broken file is logged and the running \
                  configuration kept; autoreload acts only once the file has stopped \
                  changing. Exits 1 when no daemon runs (or the pid file names a process \
                  that is not this program).",
};
static STATUS: CommandDoc = CommandDoc {
    operand: None,
    summary: "exit 0 and print the health table when running, 3 stopped, 1 stale pid file",
    description: "Exits 0 when the daemon runs (and prints its virtuals and reals from the \
                  status socket), 3 when it is stopped, 1 for a stale pid file.",
};
static CHECK_CONFIG: CommandDoc = CommandDoc {
    operand: Some("FILE"),
    summary: "validate offline: FILE:LINE errors exit 2, warnings for ldirectord's leniency",
    description: "Validates offline, without root: every error with FILE:LINE and what is \
                  wrong, warnings for what ldirectord silently accepts. Exits 2 on errors, \
                  otherwise 0.",
};

static CONVERT: CommandDoc = CommandDoc {
    operand: Some("keepalived|ldirectord FILE"),
    summary: "print FILE in the other format; what cannot be carried over goes to stderr, exit 1",
    description: "Prints FILE, read as the named format, in the other one: a keepalived.conf's \
                  LVS part as an ldirectord.cf, an ldirectord.cf as a keepalived.conf. Every \
                  value is written explicitly. What the other format cannot express is listed \
                  on stderr with FILE:LINE and left as a comment in the output; the exit \
                  status is then 1 (0 when everything was carried over, 2 when FILE cannot be \
                  read).",
};

impl Command {
    /// ldirectord's commands, in its usage's order: the words that may follow CONFIG.
    pub const LDIRECTORD: [Self; 7] = [
        Self::Start,
        Self::Stop,
        Self::Restart,
        Self::TryRestart,
        Self::Reload,
        Self::ForceReload,
        Self::Status,
    ];

    /// The commands that are words (the help texts' command list).
    pub const WORDS: [Self; 9] = [
        Self::Start,
        Self::Stop,
        Self::Restart,
        Self::TryRestart,
        Self::Reload,
        Self::ForceReload,
        Self::Status,
        Self::CheckConfig,
        Self::Convert,
    ];

    /// How the command is spelled on the command line.
    pub const fn spelling(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
            Self::TryRestart => "try-restart",
            Self::Reload => "reload",
            Self::ForceReload => "force-reload",
            Self::Status => "status",
            Self::CheckConfig => "check-config",
            Self::Convert => "convert",
            Self::Help => "--help",
            Self::Version => "--version",
        }
    }

    /// The ldirectord command spelled `word`.
    pub fn ldirectord(word: &str) -> Option<Self> {
        Self::LDIRECTORD.into_iter().find(|c| c.spelling() == word)
    }

    /// None for the commands an option selects: [`OPTIONS`] documents those.
    pub fn doc(self) -> Option<&'static CommandDoc> {
        match self {
            Self::Start => Some(&START),
            Self::Stop => Some(&STOP),
            Self::Restart | Self::TryRestart => Some(&RESTART),
            Self::Reload | Self::ForceReload => Some(&RELOAD),
            Self::Status => Some(&STATUS),
            Self::CheckConfig => Some(&CHECK_CONFIG),
            Self::Convert => Some(&CONVERT),
            Self::Help | Self::Version => None,
        }
    }
}

/// The command words grouped as the help texts list them: `(term, doc)`, where the term
/// joins commands that share one doc (`restart, try-restart`) and adds the operand.
pub fn command_entries() -> Vec<(String, &'static CommandDoc)> {
    let mut out: Vec<(Vec<&str>, &'static CommandDoc)> = Vec::new();
    for cmd in Command::WORDS {
        let Some(doc) = cmd.doc() else { continue };
        match out.last_mut() {
            Some((words, last)) if std::ptr::eq(*last, doc) => words.push(cmd.spelling()),
            _ => out.push((vec![cmd.spelling()], doc)),
        }
    }
    out.into_iter()
        .map(|(words, doc)| {
            let words = words.join(", ");
            let term = doc
                .operand
                .map_or(words.clone(), |o| format!("{words} {o}"));
            (term, doc)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_named_once_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for spec in OPTIONS {
            assert!(!spec.help.is_empty(), "{:?}", spec.opt);
            assert!(spec.name().starts_with("--"), "{:?}", spec.opt);
            for name in spec.names {
                assert!(seen.insert(*name), "{name} twice");
                assert!(std::ptr::eq(option(name).unwrap(), spec));
            }
        }
        // ldirectord's own options are exactly these.
        let ldirectord: Vec<&str> = OPTIONS
            .iter()
            .filter(|s| !s.extension)
            .flat_map(|s| s.names.iter().copied())
            .collect();
        assert_eq!(
            ldirectord,
            ["-d", "--debug", "-h", "-?", "--help", "-v", "--version"]
        );
    }

    #[test]
    fn aliases_share_one_entry() {
        let terms: Vec<String> = command_entries().into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            terms,
            [
                "start",
                "stop",
                "restart, try-restart",
                "reload, force-reload",
                "status",
                "check-config FILE",
                "convert keepalived|ldirectord FILE"
            ]
        );
        assert_eq!(
            Command::ldirectord("force-reload"),
            Some(Command::ForceReload)
        );
        assert_eq!(Command::ldirectord("check-config"), None);
        assert_eq!(Command::ldirectord("bogus"), None);
    }
}
