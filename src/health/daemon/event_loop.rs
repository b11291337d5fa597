//! The event loop: check reports in, one kernel cycle out per batch of changes, plus
//! signals (HUP reload, TERM/INT stop), autoreload, drift repair, status requests, and
//! check tasks that panicked. Nothing here blocks: file and name lookups of a reload run on
//! their own thread (see `reload`), log lines on the logger's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::alert::DaemonStatus;
use super::budget::Budget;
use super::checks::Checks;
use super::checks::TaskId;
use super::execute::{InstanceCmd, Launcher, on_reload};
use super::faults::{self, PANICKED, descriptors_needed};
use super::kernel::{KernelHandle, SyncReport};
use super::log::Logger;
use super::notices::Notices;
use super::registry::{Registry, Report};
use super::reload::{ConfigWatch, PendingReload, read_done};
use super::reverse::{self, ReverseNames};
use super::rlimit;
use super::run::{DaemonError, DaemonOptions};
use super::table::TableSteps;
use super::tasks::CheckJob;
use crate::health::config::Config;
use crate::health::status::{self, Counters, StatusReport};
use crate::ipvs::BackendFactory;
use crate::ipvs::model::{DestKey, ServiceKey};

/// The running daemon: what the event loop owns and the reload and stop change.
pub(super) struct Daemon {
    pub(super) opts: DaemonOptions,
    pub(super) config: Config,
    /// What autoreload knows of the file.
    pub(super) watch: ConfigWatch,
    /// A reload whose file is being read.
    pub(super) reloading: Option<PendingReload>,
    pub(super) registry: Registry,
    pub(super) checks: Checks,
    pub(super) next_generation: u64,
    pub(super) reports: mpsc::UnboundedSender<Report>,
    pub(super) kernel: KernelHandle,
    pub(super) log: Logger,
    pub(super) notices: Notices,
    pub(super) launcher: Option<Launcher>,
    pub(super) weights: HashMap<(ServiceKey, DestKey), i32>,
    /// Owned services to delete in the next cycle (they left the config).
    pub(super) pending_remove: Vec<(ServiceKey, String)>,
    /// keepalived's whole-table steps for the next cycle (start, reload).
    pub(super) pending_table: TableSteps,
    pub(super) last_sync: Instant,
    /// Reverse-DNS names of the reals, for the maintenance directory.
    pub(super) reverse: Arc<ReverseNames>,
    /// Local trouble, for the status document and the metrics.
    pub(super) counters: Arc<Counters>,
    /// The descriptors the checks may hold at once (see `budget`).
    pub(super) budget: Arc<Budget>,
}

pub(super) async fn main_loop(
    opts: &DaemonOptions,
    config: Config,
    digest: u64,
    factory: BackendFactory,
    log: Logger,
) -> Result<(), DaemonError> {
    let budget = Budget::new(None);
    for line in rlimit::apply(descriptors_needed(&config), &budget) {
        log.log(&line);
    }
    let kernel = KernelHandle::start(factory)?;
    let table = config.globals.keepalived_table;
    let notices = Notices::start(&config, &log, opts.sendmail.clone());
    let (reports, mut report_rx) = mpsc::unbounded_channel();
    let (ask_tx, mut ask_rx) = mpsc::unbounded_channel::<oneshot::Sender<Arc<StatusReport>>>();
    let mtime = std::fs::metadata(&opts.location.path)
        .and_then(|m| m.modified())
        .ok();
    let mut d = Daemon {
        registry: Registry::build(&config, None),
        watch: ConfigWatch::new(digest, mtime),
        reloading: None,
        opts: opts.clone(),
        config,
        checks: Checks::default(),
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
        pending_table: TableSteps::start(&table),
        last_sync: Instant::now(),
        reverse: Arc::new(ReverseNames::new(
            opts.resolver.clone(),
            reverse::REFRESH,
            reverse::TIMEOUT,
        )),
        counters: Arc::new(Counters::new(faults::CLASSES)),
        budget,
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
    let api_log: status::Log = {
        let log = d.log.clone();
        Arc::new(move |line: &str| log.log(line))
    };
    let _metrics = opts.metrics.and_then(|addr| {
        status::serve_metrics(addr, ask_tx.clone(), api_log.clone(), d.counters.clone())
            .map_err(|e| d.log.log(&format!("metrics endpoint {addr}: {e}")))
            .ok()
    });
    let _server = match status::serve(&socket, ask_tx, api_log, d.counters.clone()) {
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
                d.run_scripts();
            }
            Some(reply) = ask_rx.recv() => {
                // One document for every client waiting now: a hundred clients connecting
                // at once cost one snapshot, not a hundred turns of the loop.
                let report = Arc::new(status::snapshot(
                    &d.opts.location.name,
                    &d.registry,
                    &d.weights,
                    &d.counters,
                ));
                let _ = reply.send(Arc::clone(&report));
                while let Ok(reply) = ask_rx.try_recv() {
                    let _ = reply.send(Arc::clone(&report));
                }
            }
            (id, why) = d.checks.panicked() => {
                if d.check_panicked(id, &why) {
                    d.sync().await;
                }
            }
            result = read_done(&mut d.reloading) => d.reload_read(result).await,
            _ = hup.recv() => {
                d.log.log("Reloading Linux Director Daemon config on signal");
                d.request_reload(false);
            }
            _ = term.recv() => break "TERM",
            _ = int.recv() => break "INT",
            () = stop_hook.notified() => break "TERM",
            _ = tick.tick() => {
                d.maybe_autoreload();
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
    status::remove_socket(&socket);
    d.notices.finish(Duration::from_secs(10)).await;
    let log = d.log.clone();
    let _ = tokio::task::spawn_blocking(move || log.flush()).await;
    Ok(())
}

impl Daemon {
    pub(super) fn record(&mut self, r: &Report) -> bool {
        if let Some((v, slot)) = self.registry.slot(&r.id)
            && slot.current(r)
        {
            self.notices.check_result(v, &slot.real, r);
            if let Some(class) = faults::of(&r.outcome) {
                self.counters.not_checked(class);
            }
        }
        let (changed, lines) = self.registry.record(r);
        for line in lines {
            self.log.log(&line);
        }
        // Asked only while starting or reloading: the answer walks every real, and a
        // thousand reals report a thousand times a second.
        if self.notices.settling() {
            self.notices.settled(self.registry.settled());
        }
        changed
    }

    /// A check task panicked: logged and counted, the run recorded as not checked (the
    /// real keeps its state), and the task started again. Returns whether the kernel may
    /// need a cycle.
    pub(super) fn check_panicked(&mut self, (id, checker): TaskId, why: &str) -> bool {
        self.counters.check_panicked();
        let Some((v, slot)) = self.registry.slot(&id) else {
            return false;
        };
        let generation = match slot.checkers.get(checker) {
            Some(c) => c.generation,
            None => slot.generation,
        };
        self.log.log(&format!(
            "The check of real server {} ({}) panicked ({why}); it was started again",
            super::registry::real_name(&slot.real),
            super::registry::virtual_id(v)
        ));
        let report = Report {
            id,
            checker,
            generation,
            outcome: crate::health::check::Outcome::LocalFault(format!("{PANICKED}: {why}")),
            maintenance: false,
            at: std::time::SystemTime::now(),
            duration: Duration::ZERO,
            verdict: None,
            weight: None,
        };
        let changed = self.record(&report);
        self.respawn_checks();
        changed
    }

    /// Starts a task for every check without one, stops tasks of checks that are gone or
    /// changed (their slot got generation 0 from the registry).
    pub(super) fn respawn_checks(&mut self) {
        let mut wanted: std::collections::HashSet<TaskId> = std::collections::HashSet::new();
        let maintenance_dir = self.config.globals.maintenance_dir.clone();
        // Names are only needed with a maintenance directory; asking now gets them looked
        // up before the first checks run.
        let reverse = maintenance_dir.as_ref().map(|_| self.reverse.clone());
        for vs in &mut self.registry.virtuals {
            for slot in &mut vs.reals {
                let id = (vs.v.key, slot.dest.key());
                if let Some(names) = &reverse {
                    names.get(slot.real.addr);
                }
                // A real's own checks (keepalived's checkers), one task each; else the
                // virtual's check.
                let own = !slot.checkers.is_empty();
                for checker in 0..slot.checkers.len().max(1) {
                    let task = (id, checker);
                    wanted.insert(task);
                    let generation = match slot.checkers.get_mut(checker) {
                        Some(c) => &mut c.generation,
                        None => &mut slot.generation,
                    };
                    if *generation != 0 && self.checks.contains(&task) {
                        continue;
                    }
                    *generation = self.next_generation;
                    self.next_generation += 1;
                    let generation = *generation;
                    let job = if own {
                        CheckJob::of_real_check(
                            &vs.v,
                            &slot.real,
                            checker,
                            id,
                            generation,
                            maintenance_dir.clone(),
                            reverse.clone(),
                            self.budget.clone(),
                        )
                    } else {
                        Some(CheckJob::new(
                            &vs.v,
                            &slot.real,
                            id,
                            generation,
                            maintenance_dir.clone(),
                            reverse.clone(),
                            self.budget.clone(),
                        ))
                    };
                    let Some(mut job) = job else { continue };
                    #[cfg(test)]
                    {
                        job.hook.clone_from(&self.opts.check_hook);
                    }
                    // A task started again (after a panic) goes on from the real's health.
                    if let (Some(r), Some(h)) = (job.reentry, slot.health) {
                        job.reentry = Some(r.resumed(h.health));
                    }
                    self.checks.start(job, self.reports.clone());
                }
            }
        }
        self.checks.retain(|id| wanted.contains(id));
    }

    pub(super) async fn sync(&mut self) {
        for line in std::mem::take(&mut self.registry.quorum_lines) {
            self.log.log(&line);
        }
        let remove = std::mem::take(&mut self.pending_remove);
        let mut desired = self.registry.desired(remove);
        desired.table = std::mem::take(&mut self.pending_table);
        let report = self.kernel.sync(desired).await;
        self.absorb(report);
        for cmd in self.registry.due_fallback_commands() {
            self.log.log(&format!("Running fallback command: {cmd}"));
            run_shell(&cmd);
        }
        self.run_scripts();
        self.last_sync = Instant::now();
    }

    pub(super) fn absorb(&mut self, report: SyncReport) {
        for _ in 0..report.restarts {
            self.counters.ipvs_restarted();
        }
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

    /// Runs `execute=` instance commands off the loop.
    pub(super) fn instances(&self, cmds: Vec<(String, InstanceCmd)>) -> Option<JoinHandle<()>> {
        self.launcher.as_ref()?.spawn(cmds, self.log.clone())
    }
}

fn starts(names: &[String]) -> Vec<(String, InstanceCmd)> {
    on_reload(&[], names)
}

/// ldirectord runs fallbackcommand and callback through the shell, without waiting.
pub(super) fn run_shell(cmd: &str) {
    let _ = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .spawn();
}
