//! The one thread that talks to IPVS.
//!
//! The netlink backend is synchronous and bound to the network namespace of the thread that
//! opened it, so it is created *on* this thread by a factory and never moves. Each request
//! carries the whole [`Desired`] state; the thread reads the owned services (or reuses a
//! [`Snapshot`] younger than [`MAX_SNAPSHOT_AGE`]), plans with the pure [`plan`], submits
//! the cycle's ops as **one** [`Backend::apply`] batch, and reports the owned entries'
//! weights as the kernel acknowledged them (not our intentions).
//!
//! A panic on that thread (a bug in planning or decoding) must not leave the kernel frozen
//! in its last state: the next cycle notices the thread is gone, starts a new one, which
//! opens a fresh backend through the same factory and reads the table afresh, and runs the
//! cycle there. The cycle's report says so, and counts it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::checks::message;
use crate::health::daemon::plan::{Desired, Phase, plan};
use crate::health::daemon::table;
use crate::ipvs::backend::{Backend, BackendFactory, Op};
use crate::ipvs::error::IpvsError;
use crate::ipvs::model::{DestKey, ServiceEntry, ServiceKey, Timeouts};

/// What one cycle did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// One ldirectord-style line per op that succeeded.
    pub messages: Vec<String>,
    /// Failed ops and failed reads, for the log.
    pub errors: Vec<String>,
    /// Kernel weights of the owned services' entries after the cycle.
    pub weights: HashMap<(ServiceKey, DestKey), i32>,
    pub ops: usize,
    /// Times the IPVS thread had panicked and was started again for this cycle.
    pub restarts: u32,
}

struct Request {
    /// Shared, so the cycle can be sent again to a new thread without a copy.
    desired: Arc<Desired>,
    reply: oneshot::Sender<SyncReport>,
}

/// The factory, shared with every thread started from it.
type SharedFactory = Arc<Mutex<BackendFactory>>;

/// The sending side; dropping it ends the thread.
pub struct KernelHandle {
    tx: mpsc::Sender<Request>,
    thread: Option<thread::JoinHandle<()>>,
    factory: SharedFactory,
}

impl std::fmt::Debug for KernelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelHandle")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}

/// How long a new thread may take to open its backend.
const OPEN_LIMIT: Duration = Duration::from_secs(10);

impl KernelHandle {
    /// Starts the thread and waits until the factory has opened the backend.
    pub fn start(factory: BackendFactory) -> Result<Self, IpvsError> {
        let factory = Arc::new(Mutex::new(factory));
        let (tx, thread) = spawn(&factory)?;
        Ok(Self {
            tx,
            thread: Some(thread),
            factory,
        })
    }

    /// Runs one cycle on the kernel thread, starting a new thread first when the last one
    /// died.
    pub async fn sync(&mut self, desired: Desired) -> SyncReport {
        let desired = Arc::new(desired);
        let (reply, rx) = oneshot::channel();
        let sent = self.tx.send(Request {
            desired: Arc::clone(&desired),
            reply,
        });
        if sent.is_ok()
            && let Ok(report) = rx.await
        {
            return report;
        }
        let why = self.ended();
        let mut report = match self.restart() {
            Ok(()) => {
                let (reply, rx) = oneshot::channel();
                let again = self.tx.send(Request { desired, reply });
                match again {
                    Ok(()) => rx
                        .await
                        .unwrap_or_else(|_| failed("the new IPVS thread ended during a cycle")),
                    Err(_) => failed("the new IPVS thread is gone"),
                }
            }
            Err(e) => failed(&format!("cannot start the IPVS thread again: {e}")),
        };
        report.errors.insert(
            0,
            format!("The IPVS thread {why}; a new one opened the backend again"),
        );
        report.restarts += 1;
        report
    }

    /// How the thread ended, from its panic when it panicked.
    fn ended(&mut self) -> String {
        let Some(thread) = self.thread.take() else {
            return "was gone".to_owned();
        };
        // The reply was dropped while unwinding; the thread finishes right after.
        let deadline = Instant::now() + Duration::from_millis(500);
        while !thread.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        if !thread.is_finished() {
            return "stopped answering".to_owned();
        }
        match thread.join() {
            Err(panic) => format!("panicked ({})", message(panic.as_ref())),
            Ok(()) => "ended".to_owned(),
        }
    }

    fn restart(&mut self) -> Result<(), IpvsError> {
        let (tx, thread) = spawn(&self.factory)?;
        self.tx = tx;
        self.thread = Some(thread);
        Ok(())
    }
}

/// A thread that opens a backend from `factory` and runs cycles on it; returns once the
/// backend is open (or why it could not be).
fn spawn(
    factory: &SharedFactory,
) -> Result<(mpsc::Sender<Request>, thread::JoinHandle<()>), IpvsError> {
    let (tx, rx) = mpsc::channel::<Request>();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), IpvsError>>();
    let factory = Arc::clone(factory);
    let thread = thread::Builder::new()
        .name("ipvs".into())
        .spawn(move || {
            let opened = {
                let mut open = factory.lock().unwrap_or_else(PoisonError::into_inner);
                (*open)()
            };
            let mut backend = match opened {
                Ok(b) => {
                    let _ = ready_tx.send(Ok(()));
                    b
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut snapshot = Snapshot::default();
            while let Ok(req) = rx.recv() {
                let report = snapshot.sync(backend.as_mut(), &req.desired, Instant::now());
                let _ = req.reply.send(report);
            }
        })
        .map_err(IpvsError::Socket)?;
    match ready_rx.recv_timeout(OPEN_LIMIT) {
        Ok(Ok(())) => Ok((tx, thread)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(IpvsError::Socket(std::io::Error::other(
            "the IPVS thread ended before opening the backend",
        ))),
    }
}

fn failed(why: &str) -> SyncReport {
    SyncReport {
        errors: vec![why.to_owned()],
        ..SyncReport::default()
    }
}

/// How long a cycle may plan against the owned entries as last read (with its own
/// acknowledged ops folded in) instead of reading them again.
///
/// A failed check must reach the kernel quickly, and reading a thousand reals costs more
/// than everything else in such a cycle (~50 ms under emulation): so a cycle that follows
/// another one closely reuses its view. Changes made behind our back are still seen within
/// this age by any cycle, and the event loop runs a drift-repair cycle every checkinterval
/// (at least one second) when nothing else did, which is then always a fresh read.
pub const MAX_SNAPSHOT_AGE: Duration = Duration::from_secs(1);

/// The owned part of the table as this thread believes it to be.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The services read (a service missing from the kernel was read too: it is absent).
    keys: Vec<ServiceKey>,
    entries: Vec<ServiceEntry>,
    /// When `entries` was read; None forces a read (nothing read yet, or a failed op).
    read_at: Option<Instant>,
    /// The kernel's timeouts before `lvs_timeouts` changed them (`table`).
    original_timeouts: Option<Timeouts>,
}

impl Snapshot {
    /// One cycle: read unless the snapshot is fresh and covers every owned service, plan,
    /// apply as one batch, fold the acknowledged ops in.
    ///
    /// Only the services the configuration owns (and those it is removing) are read, one
    /// GET_SERVICE and one GET_DEST each: a full table dump would make every cycle cost as
    /// much as the whole director's table, owned or not. The kernel's answers to the batch
    /// are folded into the snapshot instead of reading it all again: each acknowledged op did
    /// exactly what it says. A refused op may mean the snapshot was wrong, so the next cycle
    /// reads again.
    pub fn sync(
        &mut self,
        backend: &mut dyn Backend,
        desired: &Desired,
        now: Instant,
    ) -> SyncReport {
        let mut report = SyncReport::default();
        if desired.table != table::TableSteps::default() {
            let stopping = desired.phase == Phase::Stop;
            let done = table::run(
                backend,
                desired.table,
                &mut self.original_timeouts,
                stopping,
            );
            if done.flushed {
                self.read_at = None;
            }
            report.messages = done.messages;
            report.errors = done.errors;
        }
        let keys = owned_keys(desired);
        let fresh = self
            .read_at
            .is_some_and(|at| now.saturating_duration_since(at) < MAX_SNAPSHOT_AGE);
        if !fresh || keys.iter().any(|k| !self.keys.contains(k)) {
            match read_owned(backend, &keys) {
                Ok(entries) => {
                    self.entries = entries;
                    self.keys = keys;
                    self.read_at = Some(now);
                }
                Err(e) => {
                    self.read_at = None;
                    report
                        .errors
                        .push(format!("cannot read the IPVS table: {e}"));
                    return report;
                }
            }
        }
        let p = plan(desired, &self.entries);
        report.ops = p.ops.len();
        if !p.ops.is_empty() {
            let results = backend.apply(&p.ops);
            for ((op, message), result) in p.ops.iter().zip(p.messages).zip(results) {
                match result {
                    Ok(()) => {
                        apply_acked(&mut self.entries, op);
                        report.messages.push(message);
                    }
                    Err(e) => {
                        self.read_at = None;
                        report
                            .errors
                            .push(format!("{message}: failed ({e}) [{:?}]", op.kind()));
                    }
                }
            }
        }
        report.weights = owned_weights(desired, &self.entries);
        report
    }
}

/// One cycle that reads the kernel first, whatever was read before.
pub fn sync_once(backend: &mut dyn Backend, desired: &Desired) -> SyncReport {
    Snapshot::default().sync(backend, desired, Instant::now())
}

/// The services a cycle looks at: the configured ones and those being removed.
fn owned_keys(desired: &Desired) -> Vec<ServiceKey> {
    let mut keys: Vec<ServiceKey> = Vec::with_capacity(desired.virtuals.len());
    let all = desired
        .virtuals
        .iter()
        .map(|v| v.service.key)
        .chain(desired.remove.iter().map(|(k, _)| *k));
    for key in all {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The owned services as the kernel holds them; a service that does not exist is absent.
fn read_owned(
    backend: &mut dyn Backend,
    keys: &[ServiceKey],
) -> Result<Vec<ServiceEntry>, IpvsError> {
    let mut out: Vec<ServiceEntry> = Vec::with_capacity(keys.len());
    for key in keys {
        let service = match backend.service(key) {
            Ok(s) => s,
            Err(IpvsError::Kernel { errno, .. }) if errno == libc::ESRCH => continue,
            Err(e) => return Err(e),
        };
        let dests = backend.dests(key)?;
        out.push(ServiceEntry { service, dests });
    }
    Ok(out)
}

/// What an op the kernel acknowledged did to the table (only the kinds [`plan`] emits).
fn apply_acked(live: &mut Vec<ServiceEntry>, op: &Op) {
    let entry = |live: &mut Vec<ServiceEntry>, key: &ServiceKey| {
        live.iter_mut().position(|e| e.service.key == *key)
    };
    match op {
        Op::AddService(s) => live.push(ServiceEntry {
            service: s.clone(),
            dests: Vec::new(),
        }),
        Op::EditService(s) => {
            if let Some(i) = entry(live, &s.key) {
                live[i].service = s.clone();
            }
        }
        Op::DelService(key) => live.retain(|e| e.service.key != *key),
        Op::AddDest(key, d) => {
            if let Some(i) = entry(live, key) {
                live[i].dests.push(d.clone());
            }
        }
        Op::EditDest(key, d) => {
            if let Some(i) = entry(live, key)
                && let Some(now) = live[i].dests.iter_mut().find(|x| x.key() == d.key())
            {
                *now = d.clone();
            }
        }
        Op::DelDest(key, dk) => {
            if let Some(i) = entry(live, key) {
                live[i].dests.retain(|x| x.key() != *dk);
            }
        }
        _ => {}
    }
}

/// Weights of the configured virtuals' entries (not of services being removed).
fn owned_weights(desired: &Desired, live: &[ServiceEntry]) -> HashMap<(ServiceKey, DestKey), i32> {
    let owned: Vec<&ServiceEntry> = live
        .iter()
        .filter(|e| {
            desired
                .virtuals
                .iter()
                .any(|v| v.service.key == e.service.key)
        })
        .collect();
    let mut out = HashMap::with_capacity(owned.iter().map(|e| e.dests.len()).sum());
    for e in owned {
        for d in &e.dests {
            out.insert((e.service.key, d.key()), d.weight);
        }
    }
    out
}

#[cfg(test)]
#[path = "kernel_tests.rs"]
mod tests;
