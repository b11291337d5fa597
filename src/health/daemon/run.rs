//! The event loop: check reports in, one kernel cycle out per batch of changes, plus
//! signals (HUP reload, TERM/INT stop), autoreload, drift repair and status requests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use thiserror::Error;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::alert::DaemonStatus;
use super::execute::{InstanceCmd, Launcher, on_reload};
use super::kernel::{KernelHandle, SyncReport};
use super::log::{Console, Logger};
use super::notices::Notices;
use super::notify::Notifier;
use super::registry::{CheckId, Registry, Report};
use super::reverse::{self, ReverseNames};
use super::tasks::{self, CheckJob};
use crate::health::config::{Config, ConfigLocation, SystemEnv, parse_config, render};
use crate::health::status::{self, StatusReport};
use crate::ipvs::BackendFactory;
use crate::ipvs::error::IpvsError;
use crate::ipvs::model::{DestKey, ServiceKey};
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

/// How this daemon instance runs.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub location: ConfigLocation,
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
    /// Reverse lookups for the maintenance directory (the system resolver).
    pub resolver: Arc<dyn Resolver>,
}

impl DaemonOptions {
    /// The defaults for `location`: stderr logging, no status socket override, the
    /// real syslog socket and sendmail, no systemd.
    pub fn new(location: ConfigLocation) -> Self {
        Self {
            location,
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
    let (config, _digest) = read_config(&opts.location.path).map_err(DaemonError::Config)?;
    let log = opts.logger(&config);
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(check_workers())
        .thread_name("lvsctl-check")
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)
        .and_then(|rt| rt.block_on(main_loop(opts, config, factory, log.clone())));
    if let Err(e) = &result {
        log.log(&format!("Linux Director Daemon could not run: {e}"));
    }
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
/// rendered errors.
pub fn read_config(path: &std::path::Path) -> Result<(Config, u64), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = path.display().to_string();
    let (config, _warnings) =
        parse_config(&file, &text, &SystemEnv::new()).map_err(|errors| render(&[], &errors))?;
    Ok((config, digest(&text)))
}

fn digest(text: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

struct Daemon {
    opts: DaemonOptions,
    config: Config,
    digest: u64,
    mtime: Option<SystemTime>,
    registry: Registry,
    tasks: HashMap<CheckId, JoinHandle<()>>,
    next_generation: u64,
    reports: mpsc::UnboundedSender<Report>,
    kernel: KernelHandle,
    log: Logger,
    notices: Notices,
    launcher: Option<Launcher>,
    weights: HashMap<(ServiceKey, DestKey), i32>,
    /// Owned services to delete in the next cycle (they left the config).
    pending_remove: Vec<(ServiceKey, String)>,
    last_sync: Instant,
    /// Reverse-DNS names of the reals, for the maintenance directory.
    reverse: Arc<ReverseNames>,
}

async fn main_loop(
    opts: &DaemonOptions,
    config: Config,
    factory: BackendFactory,
    log: Logger,
) -> Result<(), DaemonError> {
    let kernel = KernelHandle::start(factory)?;
    let notices = Notices::start(&config, &log, opts.sendmail.clone());
    let (reports, mut report_rx) = mpsc::unbounded_channel();
    let (ask_tx, mut ask_rx) = mpsc::unbounded_channel::<oneshot::Sender<StatusReport>>();
    let digest = read_config(&opts.location.path).map_or(0, |(_, d)| d);
    let mut d = Daemon {
        registry: Registry::build(&config, None),
        mtime: mtime(&opts.location.path),
        opts: opts.clone(),
        config,
        digest,
        tasks: HashMap::new(),
        next_generation: 1,
        reports,
        kernel,
        log,
        notices,
        launcher: opts
            .launcher
            .clone()
            .or_else(|| Launcher::current(&opts.ident)),
        weights: HashMap::new(),
        pending_remove: Vec::new(),
        last_sync: Instant::now(),
        reverse: Arc::new(ReverseNames::new(
            opts.resolver.clone(),
            reverse::REFRESH,
            reverse::TIMEOUT,
        )),
    };
    d.log.log(&format!(
        "Starting Linux Director Daemon (lvsctl {}) with pid: {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    ));
    d.respawn_checks();
    d.sync().await;
    let instances = starts(&d.config.globals.execute);
    d.instances(instances);
    let socket = opts
        .socket
        .clone()
        .unwrap_or_else(|| status::socket_path(&opts.location.name));
    let _metrics = opts.metrics.and_then(|addr| {
        status::serve_metrics(addr, ask_tx.clone())
            .map_err(|e| d.log.log(&format!("metrics endpoint {addr}: {e}")))
            .ok()
    });
    let _server = match status::serve(&socket, ask_tx) {
        Ok(h) => Some(h),
        Err(e) => {
            d.log
                .log(&format!("status socket {}: {e}", socket.display()));
            None
        }
    };
    let signals = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = signals else {
        return Err(DaemonError::Runtime(std::io::Error::other(
            "cannot install signal handlers",
        )));
    };
    let notifier = &opts.notifier;
    notifier.notify("READY=1");
    // Pings come from this loop, so a loop stuck on anything gets the daemon restarted.
    let mut watchdog = tokio::time::interval(notifier.watchdog.unwrap_or(Duration::from_hours(1)));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let stop_hook = opts.shutdown.clone().unwrap_or_default();
    let signal_name = loop {
        tokio::select! {
            Some(r) = report_rx.recv() => {
                let mut dirty = d.record(&r);
                while let Ok(r) = report_rx.try_recv() {
                    dirty |= d.record(&r);
                }
                if dirty {
                    d.sync().await;
                }
            }
            Some(reply) = ask_rx.recv() => {
                let _ = reply.send(status::snapshot(&d.opts.location.name, &d.registry, &d.weights));
            }
            _ = hup.recv() => {
                d.log.log("Reloading Linux Director Daemon config on signal");
                d.reload().await;
            }
            _ = term.recv() => break "TERM",
            _ = int.recv() => break "INT",
            () = stop_hook.notified() => break "TERM",
            _ = tick.tick() => {
                d.maybe_autoreload().await;
                let interval = Duration::from_secs(u64::from(d.config.globals.check_interval.max(1)));
                if d.last_sync.elapsed() >= interval {
                    d.sync().await; // drift repair
                }
                d.notices.tick();
            }
            _ = watchdog.tick(), if notifier.watchdog.is_some() => notifier.notify("WATCHDOG=1"),
        }
    };
    notifier.notify("STOPPING=1");
    d.notices.status = DaemonStatus::Stopping;
    d.log.log(&format!(
        "Linux Director Daemon terminated on signal: {signal_name}"
    ));
    d.shutdown().await;
    let _ = std::fs::remove_file(&socket);
    d.notices.finish(Duration::from_secs(10)).await;
    Ok(())
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Daemon {
    fn record(&mut self, r: &Report) -> bool {
        if let Some((v, slot)) = self.registry.slot(&r.id)
            && slot.generation == r.generation
        {
            self.notices.check_result(v, &slot.real, r);
        }
        let (changed, lines) = self.registry.record(r);
        for line in lines {
            self.log.log(&line);
        }
        self.notices.settled(self.registry.settled());
        changed
    }

    /// Starts a task for every check without one, stops tasks of checks that are gone or
    /// changed (their slot got generation 0 from the registry).
    fn respawn_checks(&mut self) {
        let mut wanted: std::collections::HashSet<CheckId> = std::collections::HashSet::new();
        let maintenance_dir = self.config.globals.maintenance_dir.clone();
        // Names are only needed with a maintenance directory; asking now gets them looked
        // up before the first checks run.
        let reverse = maintenance_dir.as_ref().map(|_| self.reverse.clone());
        for vs in &mut self.registry.virtuals {
            for slot in &mut vs.reals {
                let id = (vs.v.key, slot.dest.key());
                wanted.insert(id);
                if let Some(names) = &reverse {
                    names.get(slot.real.addr);
                }
                if slot.generation != 0 && self.tasks.contains_key(&id) {
                    continue;
                }
                if let Some(old) = self.tasks.remove(&id) {
                    old.abort();
                }
                slot.generation = self.next_generation;
                self.next_generation += 1;
                let job = CheckJob::new(
                    &vs.v,
                    &slot.real,
                    id,
                    slot.generation,
                    maintenance_dir.clone(),
                    reverse.clone(),
                );
                self.tasks
                    .insert(id, tasks::spawn(job, self.reports.clone()));
            }
        }
        self.tasks.retain(|id, handle| {
            let keep = wanted.contains(id);
            if !keep {
                handle.abort();
            }
            keep
        });
    }

    async fn sync(&mut self) {
        let remove = std::mem::take(&mut self.pending_remove);
        let desired = self.registry.desired(remove);
        let report = self.kernel.sync(desired).await;
        self.absorb(report);
        for cmd in self.registry.due_fallback_commands() {
            self.log.log(&format!("Running fallback command: {cmd}"));
            run_shell(&cmd);
        }
        self.last_sync = Instant::now();
    }

    fn absorb(&mut self, report: SyncReport) {
        for m in &report.messages {
            self.log.log(m);
        }
        self.notices.kernel_messages(&report.messages);
        for e in &report.errors {
            self.log.log(e);
        }
        if report.errors.is_empty() || !report.weights.is_empty() {
            self.weights = report.weights;
        }
    }

    async fn reload(&mut self) {
        let (config, digest) = match read_config(&self.opts.location.path) {
            Ok(c) => c,
            Err(errors) => {
                self.log
                    .log("Reload failed: the old configuration stays in effect");
                for line in errors.lines() {
                    self.log.log(line);
                }
                return;
            }
        };
        self.instances(on_reload(
            &self.config.globals.execute,
            &config.globals.execute,
        ));
        let registry = Registry::build(&config, Some(&self.registry));
        for vs in &self.registry.virtuals {
            if registry.virtual_slot(&vs.v.key).is_none() {
                self.pending_remove.push((vs.v.key, vs.label()));
            }
        }
        self.registry = registry;
        self.log = self.log.retarget(&config.globals.logfile);
        self.notices.reconfigure(&config);
        self.notices.status = DaemonStatus::Reloading;
        self.config = config;
        self.digest = digest;
        self.mtime = mtime(&self.opts.location.path);
        self.reverse.expire();
        self.respawn_checks();
        self.sync().await;
        // The reload's own kernel changes were made while `reloading`.
        self.notices.settled(self.registry.settled());
    }

    /// ldirectord's `check_cfgfile`, once a second: a changed mtime and content is logged,
    /// reloaded only with `autoreload=yes`, and `callback` (if executable) runs either way,
    /// after the reload, with the file's path (spec §3.6).
    async fn maybe_autoreload(&mut self) {
        let path = self.opts.location.path.clone();
        let now = mtime(&path);
        if now == self.mtime {
            return;
        }
        self.mtime = now;
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        if digest(&text) == self.digest {
            return;
        }
        self.digest = digest(&text);
        self.log.log(&format!(
            "Configuration file '{}' has changed on disk",
            path.display()
        ));
        if self.config.globals.autoreload {
            self.log.log(" - reread new configuration");
            self.reload().await;
        } else {
            self.log.log(" - ignore new configuration");
        }
        // The configuration in effect after the reload names the callback, as in ldirectord.
        let callback = self.config.globals.callback.clone();
        if let Some(cb) = callback.filter(|cb| is_executable(std::path::Path::new(cb))) {
            run_shell(&format!("{cb} {}", path.display()));
        }
    }

    /// Stops every check, then deletes the owned services with `cleanstop` in one batch;
    /// the others are left exactly as they are (spec §3.7).
    async fn shutdown(&mut self) {
        for (_, handle) in self.tasks.drain() {
            handle.abort();
        }
        let stops = self.config.globals.execute.iter();
        let stopping = self.instances(stops.map(|n| (n.clone(), InstanceCmd::Stop)).collect());
        // The service deletion below removes these reals in the same batch.
        let purged = self
            .registry
            .stop_purges(|id| self.weights.contains_key(id));
        for line in &purged {
            self.log.log(line);
        }
        self.notices.kernel_messages(&purged);
        let remove: Vec<(ServiceKey, String)> = self
            .registry
            .virtuals
            .iter()
            .filter(|vs| vs.v.cleanstop)
            .map(|vs| (vs.v.key, vs.label()))
            .collect();
        let desired = crate::health::daemon::plan::Desired {
            virtuals: Vec::new(),
            remove,
            phase: crate::health::daemon::plan::Phase::Stop,
            readd_quiescent: false,
        };
        let report = self.kernel.sync(desired).await;
        self.absorb(report);
        if let Some(task) = stopping {
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
    }

    /// Runs `execute=` instance commands off the loop.
    fn instances(&self, cmds: Vec<(String, InstanceCmd)>) -> Option<JoinHandle<()>> {
        self.launcher.as_ref()?.spawn(cmds, self.log.clone())
    }
}

fn starts(names: &[String]) -> Vec<(String, InstanceCmd)> {
    on_reload(&[], names)
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// ldirectord runs fallbackcommand and callback through the shell, without waiting.
fn run_shell(cmd: &str) {
    let _ = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .spawn();
}

/// Parses the config file, for `start`'s exit-2 check before daemonizing.
pub fn run_config_check(path: &std::path::Path) -> Result<Config, String> {
    read_config(path).map(|(c, _)| c)
}
