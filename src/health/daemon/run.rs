//! The daemon's entry point: its options and errors, reading the configuration, and the
//! runtime that `event_loop` runs on. `event_loop` is the loop itself, `reload` its
//! configuration changes (HUP, autoreload) and `shutdown` the stop.

use std::path::PathBuf;
use std::sync::Arc;

use thiserror::Error;

use super::event_loop::main_loop;
use super::execute::Launcher;
use super::log::{Console, Logger};
use super::notify::Notifier;
use crate::health::config::{Config, ConfigLocation, ParseEnv, SystemEnv, parse_config, render};
use crate::ipvs::BackendFactory;
use crate::ipvs::error::IpvsError;
use crate::names::{Resolver, SystemResolver};

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Kernel(#[from] IpvsError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// What the daemon's file is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfigFormat {
    #[default]
    Ldirectord,
    /// A keepalived.conf, run with keepalived's semantics or refused
    /// (`keepalived::to_daemon`).
    Keepalived,
    /// Piranha's lvs.cf, run as docs/piranha.md says or refused (`piranha::to_daemon`).
    Piranha,
}

/// How this daemon instance runs.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub location: ConfigLocation,
    pub format: ConfigFormat,
    pub socket: Option<PathBuf>,
    /// Loopback address for the Prometheus endpoint, if wanted.
    pub metrics: Option<std::net::SocketAddr>,
    /// Whether logs go to a console stream instead of the configured logfile.
    pub console: Console,
    /// Syslog program name: `ldirectord` when run under that name, else `lvsctl`.
    pub ident: String,
    /// Where a syslog `logfile` is written (normally `/dev/log`).
    pub syslog_socket: PathBuf,
    /// systemd's notification socket and watchdog (see `notify`).
    pub notifier: Notifier,
    /// The `sendmail -t` program for alert mails.
    pub sendmail: PathBuf,
    /// Stops the daemon like TERM does, for embedding and tests.
    pub shutdown: Option<Arc<tokio::sync::Notify>>,
    /// How `execute=` instances are run; None = this executable.
    pub launcher: Option<Launcher>,
    /// Name lookups (the system resolver): the host and service names of the file when it
    /// is read, the reverse names for the maintenance directory.
    pub resolver: Arc<dyn Resolver>,
    /// Tests only: stands in for check runs (see `tasks::CheckHook`).
    #[cfg(test)]
    pub check_hook: Option<super::tasks::CheckHook>,
}

impl DaemonOptions {
    /// The defaults for `location`: stderr logging, no status socket override, the
    /// real syslog socket and sendmail, no systemd.
    pub fn new(location: ConfigLocation) -> Self {
        Self {
            location,
            format: ConfigFormat::Ldirectord,
            socket: None,
            metrics: None,
            console: Console::Stderr,
            ident: "lvsctl".to_owned(),
            syslog_socket: PathBuf::from(super::syslog::DEV_LOG),
            notifier: Notifier::default(),
            sendmail: PathBuf::from(super::mail::SENDMAIL),
            shutdown: None,
            launcher: None,
            resolver: Arc::new(SystemResolver::new()),
            #[cfg(test)]
            check_hook: None,
        }
    }

    fn logger(&self, config: &Config) -> Logger {
        Logger::new(
            &self.location.name,
            &config.globals.logfile,
            self.console,
            &self.ident,
            self.syslog_socket.clone(),
        )
    }
}

/// Reads the config (an error is fatal here, exit 2), then runs until TERM/INT. Fatal
/// errors are also logged, since a detached daemon has nowhere else to say them.
pub fn run(opts: &DaemonOptions, factory: BackendFactory) -> Result<(), DaemonError> {
    let (config, digest) = read_config_with(&opts.location.path, opts.format, &opts.resolver)
        .map_err(DaemonError::Config)?;
    let log = opts.logger(&config);
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(check_workers())
        .thread_name("lvsctl-check")
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)
        .and_then(|rt| rt.block_on(main_loop(opts, config, digest, factory, log.clone())));
    if let Err(e) = &result {
        log.log(&format!("Linux Director Daemon could not run: {e}"));
    }
    log.flush();
    result
}

/// Check threads: two, or one on a single CPU. A check's CPU is mostly the kernel's (its
/// TCP handshake, and on a director that also hosts its reals, their half of it too), so
/// one thread caps the daemon at one core, and near that cap checks queue behind each
/// other and their results reach the kernel late. Measured in the TCG VM at 1,000 http
/// checks a second (bench/health-vs-ldirectord.sh): one thread, p99 detection 4.17-4.23 s
/// against the 4.1 s bound at 0.72-0.75 s of CPU per 1,000 checks; two threads, 3.98-4.0 s
/// at 0.97-0.99 s. More threads only add work stealing between idle workers.
fn check_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// The parsed config and a digest of its bytes (autoreload compares digests), or the
/// rendered errors; names resolved by the system resolver.
pub fn read_config(path: &std::path::Path, format: ConfigFormat) -> Result<(Config, u64), String> {
    match format {
        ConfigFormat::Ldirectord => read_config_env(path, &SystemEnv::new()),
        ConfigFormat::Keepalived => read_keepalived(path),
        ConfigFormat::Piranha => read_piranha(path, &SystemResolver::new()),
    }
}

/// [`read_config`] with names resolved by `resolver`. It may block for as long as the
/// resolver does: the running daemon calls it off its event loop (see `reload`).
pub fn read_config_with(
    path: &std::path::Path,
    format: ConfigFormat,
    resolver: &Arc<dyn Resolver>,
) -> Result<(Config, u64), String> {
    match format {
        ConfigFormat::Keepalived => return read_keepalived(path),
        ConfigFormat::Piranha => return read_piranha(path, resolver.as_ref()),
        ConfigFormat::Ldirectord => {}
    }
    read_config_env(
        path,
        &DaemonEnv {
            names: Arc::clone(resolver),
            system: SystemEnv::new(),
        },
    )
}

fn read_config_env(path: &std::path::Path, env: &dyn ParseEnv) -> Result<(Config, u64), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = path.display().to_string();
    let (config, _warnings) =
        parse_config(&file, &text, env).map_err(|errors| render(&[], &errors))?;
    Ok((config, digest(&text)))
}

/// A keepalived.conf as the daemon runs it: what keepalived would not run (its own
/// diagnostics) or lvsctl cannot run as keepalived does (refusals) is the error. The
/// digest is of the configuration read, which spans the included files.
fn read_keepalived(path: &std::path::Path) -> Result<(Config, u64), String> {
    use crate::health::keepalived;
    let env = keepalived::SystemEnv::default();
    let outcome = keepalived::read_file(path, &env, &keepalived::Options::default());
    let file = path.display().to_string();
    let Some(read) = &outcome.config else {
        return Err(keepalived::render(&file, &outcome));
    };
    let mut config =
        keepalived::to_daemon(read).map_err(|refusals| keepalived::render_refusals(&refusals))?;
    keepalived::load_ssl(&file, read, &mut config, &|p| std::fs::read(p))
        .map_err(|e| format!("{e}\n"))?;
    let digest = digest(&format!("{config:?}"));
    Ok((config, digest))
}

/// An lvs.cf as the daemon runs it: its errors (warnings are only check-config's) or what
/// lvsctl cannot run as docs/piranha.md says (refusals) are the error.
fn read_piranha(path: &std::path::Path, names: &dyn Resolver) -> Result<(Config, u64), String> {
    use crate::health::piranha;
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("cannot read {}: {e}\n", path.display()))?;
    let file = path.display().to_string();
    let (read, _) = piranha::parse_piranha(&text, names).map_err(|diags| {
        let errors = diags
            .iter()
            .filter(|d| d.severity == piranha::Severity::Error);
        errors.fold(String::new(), |out, d| out + &d.render(&file) + "\n")
    })?;
    let config = piranha::to_daemon(&file, &read).map_err(|r| piranha::render_refusals(&r))?;
    Ok((config, digest(&text)))
}

/// The machine as the daemon reads its file: its own resolver, the rest as the system has it.
#[derive(Debug)]
struct DaemonEnv {
    names: Arc<dyn Resolver>,
    system: SystemEnv,
}

impl ParseEnv for DaemonEnv {
    fn names(&self) -> &dyn Resolver {
        self.names.as_ref()
    }
    fn hostname(&self) -> String {
        self.system.hostname()
    }
    fn dir_exists(&self, path: &str) -> bool {
        self.system.dir_exists(path)
    }
    fn appendable(&self, path: &str) -> Result<(), String> {
        self.system.appendable(path)
    }
}

pub(super) fn digest(text: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Parses the config file, for `start`'s exit-2 check before daemonizing.
pub fn run_config_check(path: &std::path::Path, format: ConfigFormat) -> Result<Config, String> {
    read_config(path, format).map(|(c, _)| c)
}
