//! The event loop: check reports in, one kernel cycle out per batch of changes, plus
//! signals (HUP reload, TERM/INT stop), autoreload, drift repair and status requests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use thiserror::Error;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::kernel::{BackendFactory, KernelHandle, SyncReport};
use super::log::Logger;
use super::notify;
use super::registry::{CheckId, Registry, Report};
use super::tasks::{self, CheckJob};
use crate::health::config::{Config, ConfigLocation, SystemEnv, parse_config, render};
use crate::health::status::{self, StatusReport};
use crate::ipvs::error::IpvsError;
use crate::ipvs::model::{DestKey, ServiceKey};

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
    /// Logs to stderr (`-d`, `--foreground`) instead of the configured logfile.
    pub log_to_stderr: bool,
}

/// Reads the config (an error is fatal here, exit 2), then runs until TERM/INT.
pub fn run(opts: &DaemonOptions, factory: BackendFactory) -> Result<(), DaemonError> {
    let (config, _digest) = read_config(&opts.location.path).map_err(DaemonError::Config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    rt.block_on(main_loop(opts, config, factory))
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
    weights: HashMap<(ServiceKey, DestKey), i32>,
    /// Owned services to delete in the next cycle (they left the config).
    pending_remove: Vec<(ServiceKey, String)>,
    last_sync: Instant,
}

async fn main_loop(
    opts: &DaemonOptions,
    config: Config,
    factory: BackendFactory,
) -> Result<(), DaemonError> {
    let log = Logger::new(
        &opts.location.name,
        &config.globals.logfile,
        opts.log_to_stderr,
    );
    let kernel = KernelHandle::start(factory)?;
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
        weights: HashMap::new(),
        pending_remove: Vec::new(),
        last_sync: Instant::now(),
    };
    d.log.log(&format!(
        "Starting Linux Director Daemon (lvsctl {}) with pid: {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    ));
    d.respawn_checks();
    d.sync().await;
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
    notify::notify("READY=1");
    let watchdog = notify::watchdog_interval();
    let mut last_watchdog = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
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
            _ = tick.tick() => {
                d.maybe_autoreload().await;
                let interval = Duration::from_secs(u64::from(d.config.globals.check_interval.max(1)));
                if d.last_sync.elapsed() >= interval {
                    d.sync().await; // drift repair
                }
                if let Some(every) = watchdog
                    && last_watchdog.elapsed() >= every
                {
                    notify::notify("WATCHDOG=1");
                    last_watchdog = Instant::now();
                }
            }
        }
    };
    notify::notify("STOPPING=1");
    d.log.log(&format!(
        "Linux Director Daemon terminated on signal: {signal_name}"
    ));
    d.shutdown().await;
    let _ = std::fs::remove_file(&socket);
    Ok(())
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Daemon {
    fn record(&mut self, r: &Report) -> bool {
        let (changed, lines) = self.registry.record(r);
        for line in lines {
            self.log.log(&line);
        }
        changed
    }

    /// Starts a task for every check without one, stops tasks of checks that are gone or
    /// changed (their slot got generation 0 from the registry).
    fn respawn_checks(&mut self) {
        let mut wanted: std::collections::HashSet<CheckId> = std::collections::HashSet::new();
        let maintenance_dir = self.config.globals.maintenance_dir.clone();
        for vs in &mut self.registry.virtuals {
            for slot in &mut vs.reals {
                let id = (vs.v.key, slot.dest.key());
                wanted.insert(id);
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
        let registry = Registry::build(&config, Some(&self.registry));
        for vs in &self.registry.virtuals {
            if registry.virtual_slot(&vs.v.key).is_none() {
                self.pending_remove.push((vs.v.key, vs.label()));
            }
        }
        self.registry = registry;
        self.config = config;
        self.digest = digest;
        self.mtime = mtime(&self.opts.location.path);
        self.respawn_checks();
        self.sync().await;
    }

    async fn maybe_autoreload(&mut self) {
        if !self.config.globals.autoreload {
            return;
        }
        let now = mtime(&self.opts.location.path);
        if now == self.mtime {
            return;
        }
        self.mtime = now;
        let Ok(text) = std::fs::read_to_string(&self.opts.location.path) else {
            return;
        };
        if digest(&text) == self.digest {
            return;
        }
        self.digest = digest(&text);
        self.log.log(&format!(
            "Configuration file '{}' has changed on disk",
            self.opts.location.path.display()
        ));
        if let Some(cb) = &self.config.globals.callback {
            run_shell(&format!("{cb} {}", self.opts.location.path.display()));
        }
        self.reload().await;
    }

    /// Stops every check, then deletes the owned services with `cleanstop` in one batch;
    /// the others are left exactly as they are (spec §3.7).
    async fn shutdown(&mut self) {
        for (_, handle) in self.tasks.drain() {
            handle.abort();
        }
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
            readd_quiescent: false,
        };
        let report = self.kernel.sync(desired).await;
        self.absorb(report);
    }
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
pub fn run_config_check(path: &std::path::Path) -> Result<(), String> {
    read_config(path).map(|_| ())
}
