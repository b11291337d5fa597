//! The collector thread: the only code of `lvsctl top` that talks to the kernel.
//!
//! It creates the backend itself (netlink sockets belong to the thread's network namespace
//! and the backend is not `Sync`), runs confirmed writes, resolves names and polls the
//! health source. The UI thread only ever receives owned snapshots, so a slow kernel slows
//! the data, never the keyboard.
//!
//! What it reads follows the screen, not the table ([`refresh`]): every interval, the
//! services and real servers of the rows on screen (the UI says which, and a service that
//! comes on screen is read at once); everything that needs the whole table is read in the
//! background, a slice at a time within a CPU budget ([`crate::tui::sweep`]), and so is a
//! long read of the connection table ([`conns`]), paused between slices so refreshes go on.

mod conns;
mod meter;
mod names;
mod refresh;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use meter::{Meter, ThreadCpu};

use crate::ipvs::{Backend, BackendFactory, IpvsError, ServiceKey};
use crate::names::Resolver;
use crate::tui::action::{Action, Command};
use crate::tui::health::{HealthMap, HealthSource};
use crate::tui::pacing::Pacer;
use crate::tui::snapshot::TableRead;
use crate::tui::sweep::{self, Budget, Sweep};

/// The collector's outside world, injected so tests can drive it with a fake.
pub struct Sources {
    /// Called on the collector thread, and again after IPVS could not be reached.
    pub factory: BackendFactory,
    pub health: Box<dyn HealthSource + Send>,
    pub resolver: Box<dyn Resolver>,
}

/// Flags the UI thread raises to steer a collector that may be deep inside a long read.
#[derive(Debug, Default)]
pub struct Signals {
    /// Generation of the connection query the UI wants; a read of another one stops.
    pub conn_generation: AtomicU64,
    /// A command (a kernel write, quit) is queued: a long read stops so it runs now.
    pub command_waiting: AtomicBool,
}

/// How the collector starts.
pub struct Settings {
    pub interval: Duration,
    /// Resolve names (not `-n`).
    pub names: bool,
    /// This thread's CPU clock, which the background budgets are kept in.
    pub meter: Box<dyn Meter>,
    /// The sweep's share of a core while the table changes, in permille
    /// ([`sweep::BUSY_PERMILLE`]).
    pub sweep_permille: u32,
    /// The connection read's share ([`sweep::CONNS_PERMILLE`]).
    pub conns_permille: u32,
    /// How often the sweep's slices are handed to the UI (see `refresh`).
    pub sweep_flush: Duration,
}

impl Settings {
    /// The dashboard's settings: the real thread clock and the budgets of `sweep`.
    pub fn new(interval: Duration, names: bool) -> Self {
        Self {
            interval,
            names,
            meter: Box::new(ThreadCpu),
            sweep_permille: sweep::BUSY_PERMILLE,
            conns_permille: sweep::CONNS_PERMILLE,
            sweep_flush: refresh::SWEEP_FLUSH,
        }
    }
}

pub struct Collector {
    sources: Sources,
    backend: Option<Box<dyn Backend>>,
    events: Sender<Action>,
    commands: Receiver<Command>,
    signals: Arc<Signals>,
    interval: Duration,
    paused: bool,
    /// Read the Details view's facts with each poll (only while that view is visible).
    details: bool,
    meter: Box<dyn Meter>,
    /// Keeps the refreshes themselves within the CPU budget, should the screen's reads
    /// ever cost more than that (a tiny interval on a slow kernel).
    pacer: Pacer,
    start: Instant,
    /// CPU spent in the background (sweep, listings, connection reads): not the pacer's to
    /// account for, the budgets own it.
    background_cpu: Duration,
    /// The services whose rows are on screen, as the UI last said.
    screen: Vec<ServiceKey>,
    /// The services in the order of the last listing.
    order: Vec<ServiceKey>,
    /// When each service's real servers were last read, so one coming on screen is read
    /// at once only when that is not recent.
    dests_read: HashMap<ServiceKey, Duration>,
    sweep: Sweep,
    sweep_budget: Budget,
    /// The sweep's share while the table changes.
    sweep_permille: u32,
    idle: refresh::IdleWatch,
    /// The screen's last reading, to tell an idle refresh that found nothing new.
    last_screen: TableRead,
    /// The sweep's reads not handed to the UI yet, and when they last were.
    pending: TableRead,
    last_flush: Option<Duration>,
    sweep_flush: Duration,
    last_health: HealthMap,
    /// Collector time of the last snapshot sent, and whether it said idle.
    last_sent: Option<Duration>,
    was_idle: bool,
    names: names::NameCache,
    conns: conns::ConnState,
}

/// Start the collector thread.
pub fn spawn(
    sources: Sources,
    events: Sender<Action>,
    commands: Receiver<Command>,
    signals: Arc<Signals>,
    settings: Settings,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("lvsctl-top-collector".to_owned())
        .spawn(move || {
            // Built on the thread: the backend is created here and never crosses threads.
            Collector {
                sources,
                backend: None,
                events,
                commands,
                signals,
                interval: settings.interval,
                paused: false,
                details: false,
                meter: settings.meter,
                pacer: Pacer::default(),
                start: Instant::now(),
                background_cpu: Duration::ZERO,
                screen: Vec::new(),
                order: Vec::new(),
                dests_read: HashMap::new(),
                sweep: Sweep::default(),
                sweep_budget: Budget::new(settings.sweep_permille),
                sweep_permille: settings.sweep_permille,
                idle: refresh::IdleWatch::default(),
                last_screen: TableRead::default(),
                pending: TableRead::default(),
                last_flush: None,
                sweep_flush: settings.sweep_flush,
                last_health: HealthMap::new(),
                last_sent: None,
                was_idle: false,
                names: names::NameCache::new(settings.names),
                conns: conns::ConnState::new(settings.conns_permille),
            }
            .run();
        })
}

impl Collector {
    fn run(mut self) {
        let mut next = Instant::now();
        let start_cpu = self.foreground_cpu();
        self.pacer.begin(self.now(), start_cpu);
        loop {
            let mut wait = next.saturating_duration_since(Instant::now());
            if !self.paused
                && let Some(until) = self.conns.until_slice(self.now())
            {
                wait = wait.min(until);
            }
            match self.commands.recv_timeout(wait) {
                Ok(Command::Quit) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(cmd) => {
                    self.signals.command_waiting.store(false, Ordering::Relaxed);
                    if self.handle(cmd) {
                        next = Instant::now();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() < next {
                // Between refreshes: the next slice of a long connection read.
                if !self.paused && !self.conn_slice(next) {
                    return;
                }
                continue;
            }
            if !self.paused && !self.refresh() {
                return;
            }
            let cpu = self.foreground_cpu();
            let delay = self
                .pacer
                .next_delay(self.interval, self.start.elapsed(), cpu);
            next = Instant::now() + delay;
        }
    }

    /// Carry out a command; true when a refresh should follow at once.
    fn handle(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Apply { label, ops } => {
                let results = match self.backend() {
                    Ok(b) => b
                        .apply(&ops)
                        .into_iter()
                        .map(|r| r.map_err(|e| e.to_string()))
                        .collect(),
                    Err(e) => vec![Err(e.to_string())],
                };
                self.send(Action::Applied { label, results });
                true
            }
            Command::SetInterval(d) => {
                self.interval = d;
                false
            }
            Command::SetPaused(p) => {
                self.paused = p;
                !p
            }
            Command::SetNames(on) => {
                self.names.set_enabled(on);
                on
            }
            Command::WatchDetails(on) => {
                self.details = on;
                on
            }
            Command::WatchServices(keys) => {
                self.watch(keys);
                false
            }
            Command::WatchConns(q) => self.conns.watch(q),
            Command::Quit => false,
        }
    }

    fn send(&self, action: Action) -> bool {
        self.events.send(action).is_ok()
    }

    fn backend(&mut self) -> Result<&mut Box<dyn Backend>, IpvsError> {
        if self.backend.is_none() {
            self.backend = Some((self.sources.factory)()?);
        }
        self.backend
            .as_mut()
            .ok_or_else(|| IpvsError::Malformed("backend missing".to_owned()))
    }

    /// This thread's CPU time less what the background budgets spent: the refreshes' own
    /// cost, the pacer's to account for. (The UI thread's share of a refresh is drawing
    /// the screen and taking in its rows; what grows with the table reaches it at most
    /// every few seconds, see `refresh`.)
    fn foreground_cpu(&mut self) -> Duration {
        self.meter.cpu().saturating_sub(self.background_cpu)
    }

    /// Collector time now.
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

#[cfg(test)]
mod reads_tests;
