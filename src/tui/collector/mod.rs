//! The collector thread: the only code of `lvsctl top` that talks to the kernel.
//!
//! It creates the backend itself (netlink sockets belong to the thread's network namespace
//! and the backend is not `Sync`), polls it every interval, runs confirmed writes, streams
//! connections while the Connections view is open, resolves names and polls the health
//! source. The UI thread only ever receives owned snapshots, so a slow kernel (a 1M-entry
//! connection table on a kernel without the 2024 procfs fix takes minutes) slows the data,
//! never the keyboard.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ipvs::{Backend, BackendFactory, IpvsError, ServiceEntry, ServiceKey};
use crate::names::Resolver;
use crate::tui::action::{Action, Command};
use crate::tui::conns::{Accumulator, ConnQuery};
use crate::tui::health::HealthSource;
use crate::tui::pacing::Pacer;
use crate::tui::snapshot::{CollectError, Details, Names, Snapshot};

/// How often a streaming connection read reports progress.
const PARTIAL_EVERY: Duration = Duration::from_millis(200);

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

pub struct Collector {
    sources: Sources,
    backend: Option<Box<dyn Backend>>,
    events: Sender<Action>,
    commands: Receiver<Command>,
    signals: Arc<Signals>,
    interval: Duration,
    paused: bool,
    names: bool,
    /// Read the Details view's facts with each poll (only while that view is visible).
    details: bool,
    conns: Option<ConnQuery>,
    /// The generation of the last connection query read to the end: later reads of it
    /// replace the rows on screen in one piece instead of streaming partial results.
    conns_complete: Option<u64>,
    /// Keeps refreshing within the CPU budget: a table that takes seconds to list (a
    /// million connections, 10,000 services under emulation) is refreshed less often.
    pacer: Pacer,
    /// Wall time spent polling, the CPU estimate where `/proc/self/stat` cannot be read.
    busy: Duration,
    start: Instant,
    host_cache: HashMap<IpAddr, Option<String>>,
    port_cache: HashMap<(u16, &'static str), Option<String>>,
}

/// Start the collector thread.
pub fn spawn(
    sources: Sources,
    events: Sender<Action>,
    commands: Receiver<Command>,
    signals: Arc<Signals>,
    interval: Duration,
    names: bool,
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
                interval,
                paused: false,
                names,
                details: false,
                conns: None,
                conns_complete: None,
                pacer: Pacer::default(),
                busy: Duration::ZERO,
                start: Instant::now(),
                host_cache: HashMap::new(),
                port_cache: HashMap::new(),
            }
            .run();
        })
}

/// CPU time of this whole process (all threads) from `/proc/self/stat`, in USER_HZ
/// ticks, which are 1/100 s on every architecture Linux exposes them on.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let mut fields = stat.rsplit_once(") ")?.1.split_ascii_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        utime.saturating_add(stime).saturating_mul(10),
    ))
}

impl Collector {
    fn run(mut self) {
        let mut next = Instant::now();
        loop {
            let wait = next.saturating_duration_since(Instant::now());
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
            let started = Instant::now();
            if !self.paused && !self.poll() {
                return;
            }
            self.busy += started.elapsed();
            let cpu = process_cpu().unwrap_or(self.busy);
            let delay = self
                .pacer
                .next_delay(self.interval, self.start.elapsed(), cpu);
            next = Instant::now() + delay;
        }
    }

    /// Carry out a command; true when a poll should follow at once.
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
                self.names = on;
                on
            }
            Command::WatchDetails(on) => {
                self.details = on;
                on
            }
            Command::WatchConns(q) => {
                let wanted = q.is_some();
                self.conns = q;
                wanted
            }
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

    /// One refresh; false when the UI is gone.
    fn poll(&mut self) -> bool {
        let at = self.start.elapsed();
        let backend = match self.backend() {
            Ok(b) => b,
            // No backend at all: whatever the reason, IPVS cannot be reached.
            Err(e) => return self.send(Action::CollectFailed(CollectError::unavailable(&e))),
        };
        let entries = match backend.entries() {
            Ok(e) => e,
            Err(e) => {
                let err = CollectError::from_ipvs(&e);
                if matches!(err, CollectError::Unavailable { .. }) {
                    // Start over with a fresh backend next time (e.g. after modprobe).
                    self.backend = None;
                }
                return self.send(Action::CollectFailed(err));
            }
        };
        let read_details = self.details;
        let Ok(backend) = self.backend() else {
            return true;
        };
        let global = backend.global_stats().ok();
        let text = |e: IpvsError| e.to_string();
        let details = if read_details {
            Details {
                info: Some(backend.info().map_err(text)),
                timeouts: Some(backend.timeouts().map_err(text)),
                daemons: Some(backend.daemons().map_err(text)),
                sysctls: Some(backend.sysctls().map_err(text)),
            }
        } else {
            Details::default()
        };
        let health = self.sources.health.statuses();
        let names = if self.names {
            self.resolve(&entries)
        } else {
            Names::default()
        };
        let snapshot = Snapshot {
            at,
            entries,
            global,
            details,
            health,
            names,
        };
        if !self.send(Action::Snapshot(Box::new(snapshot))) {
            return false;
        }
        self.read_conns()
    }

    /// Read the connection table for the current query. The first read of a query streams
    /// partial results (new rows only, so nothing is copied twice); later reads of the same
    /// query send one answer at the end, and the previous one stays on screen meanwhile.
    fn read_conns(&mut self) -> bool {
        let Some(query) = self.conns.clone() else {
            return true;
        };
        let generation = query.generation;
        let stream = self.conns_complete != Some(generation);
        let signals = Arc::clone(&self.signals);
        let events = self.events.clone();
        let mut acc = Accumulator::new(query);
        let mut last = Instant::now();
        let mut alive = true;
        let result = match self.backend() {
            Ok(b) => b.connections(&mut |c| {
                acc.push(c);
                if stream && last.elapsed() >= PARTIAL_EVERY {
                    last = Instant::now();
                    alive = events.send(Action::Conns(Box::new(acc.partial()))).is_ok();
                }
                alive
                    && signals.conn_generation.load(Ordering::Relaxed) == generation
                    && !signals.command_waiting.load(Ordering::Relaxed)
            }),
            Err(e) => Err(e),
        };
        if !alive {
            return false;
        }
        if self.signals.conn_generation.load(Ordering::Relaxed) != generation
            || self.signals.command_waiting.load(Ordering::Relaxed)
        {
            // Superseded or interrupted: the next poll reads again.
            return true;
        }
        match result {
            Ok(()) => {
                self.conns_complete = Some(generation);
                self.send(Action::Conns(Box::new(acc.finish())))
            }
            Err(e) => self.send(Action::CollectFailed(CollectError::Poll(format!(
                "connections: {e}"
            )))),
        }
    }

    /// Names of every service and real server address, cached across polls (a reverse DNS
    /// lookup may take seconds the first time).
    fn resolve(&mut self, entries: &[ServiceEntry]) -> Names {
        let mut names = Names::default();
        for e in entries {
            let proto = e
                .service
                .key
                .protocol()
                .and_then(crate::ipvs::Protocol::services_name);
            let mut endpoints: Vec<(IpAddr, u16)> =
                e.dests.iter().map(|d| (d.addr, d.port)).collect();
            if let ServiceKey::Addr { addr, port, .. } = e.service.key {
                endpoints.push((addr, port));
            }
            for (addr, port) in endpoints {
                let resolver = &self.sources.resolver;
                let host = self
                    .host_cache
                    .entry(addr)
                    .or_insert_with(|| resolver.host_name(addr));
                if let Some(h) = host {
                    names.hosts.insert(addr, h.clone());
                }
                if let Some(p) = proto {
                    let name = self
                        .port_cache
                        .entry((port, p))
                        .or_insert_with(|| resolver.service_name(port, p));
                    if let Some(n) = name {
                        names.ports.insert((port, p), n.clone());
                    }
                }
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_reads_this_process() {
        let before = process_cpu().expect("/proc/self/stat");
        // Burn a little CPU; the reading must not go backwards.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(process_cpu().expect("/proc/self/stat") >= before);
    }
}
