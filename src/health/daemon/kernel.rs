//! The one thread that talks to IPVS.
//!
//! The netlink backend is synchronous and bound to the network namespace of the thread that
//! opened it, so it is created *on* this thread by a factory and never moves. Each request
//! carries the whole [`Desired`] state; the thread reads the owned services (or reuses a
//! [`Snapshot`] younger than [`MAX_SNAPSHOT_AGE`]), plans with the pure [`plan`], submits
//! the cycle's ops as **one** [`Backend::apply`] batch, and reports the owned entries'
//! weights as the kernel acknowledged them (not our intentions).

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::health::daemon::plan::{Desired, plan};
use crate::ipvs::backend::{Backend, BackendFactory, Op};
use crate::ipvs::error::IpvsError;
use crate::ipvs::model::{DestKey, ServiceEntry, ServiceKey};

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
}

struct Request {
    desired: Desired,
    reply: oneshot::Sender<SyncReport>,
}

/// The sending side; dropping it ends the thread.
#[derive(Debug)]
pub struct KernelHandle {
    tx: mpsc::Sender<Request>,
}

impl KernelHandle {
    /// Starts the thread and waits until the factory has opened the backend.
    pub fn start(mut factory: BackendFactory) -> Result<Self, IpvsError> {
        let (tx, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), IpvsError>>();
        thread::Builder::new()
            .name("ipvs".into())
            .spawn(move || {
                let mut backend = match factory() {
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
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self { tx }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(IpvsError::Socket(std::io::Error::other(
                "the IPVS thread ended before opening the backend",
            ))),
        }
    }

    /// Runs one cycle on the kernel thread.
    pub async fn sync(&self, desired: Desired) -> SyncReport {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Request { desired, reply }).is_err() {
            return failed("the IPVS thread is gone");
        }
        rx.await
            .unwrap_or_else(|_| failed("the IPVS thread ended during a cycle"))
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
                    return failed(&format!("cannot read the IPVS table: {e}"));
                }
            }
        }
        let mut report = SyncReport::default();
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
mod tests {
    use super::*;
    use crate::health::daemon::plan::{DesiredReal, DesiredVirtual, Phase};
    use crate::health::state::Health;
    use crate::ipvs::fake::FakeBackend;
    use crate::ipvs::model::{Dest, Protocol, Service};

    fn desired(healths: &[Option<Health>]) -> Desired {
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        let reals = healths
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let dest = Dest::new(format!("10.1.0.{}", i + 1).parse().unwrap(), 80);
                DesiredReal {
                    name: dest.key(),
                    dest,
                    health: *h,
                }
            })
            .collect();
        Desired {
            virtuals: vec![DesiredVirtual {
                service: Service::new(key),
                label: "10.0.0.1:80".into(),
                reals,
                quiescent: false,
                fallback: None,
                fallback_name: None,
            }],
            remove: Vec::new(),
            phase: Phase::Start,
            readd_quiescent: false,
        }
    }

    #[test]
    fn a_cycle_is_one_batch_and_a_steady_state_writes_nothing() {
        let mut fake = FakeBackend::new();
        let up = vec![Some(Health::Up); 50];
        let r = sync_once(&mut fake, &desired(&up));
        assert_eq!((r.ops, r.errors.len()), (51, 0));
        assert_eq!(fake.ops_submitted(), 51);
        assert_eq!(r.weights.len(), 50);
        fake.reset_write_log();
        let r = sync_once(&mut fake, &desired(&up));
        assert_eq!(r.ops, 0);
        assert_eq!(fake.writes_applied(), 0);
    }

    #[test]
    fn a_failed_op_is_logged_and_the_rest_of_the_batch_still_applies() {
        let mut fake = FakeBackend::new();
        let mut healths = vec![Some(Health::Up); 3];
        sync_once(&mut fake, &desired(&healths[..1]));
        healths[0] = Some(Health::Down);
        fake.fail_op_number(fake.ops_submitted(), libc::ENOMEM);
        let r = sync_once(&mut fake, &desired(&healths));
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert!(r.errors[0].starts_with("Deleted real server: 10.1.0.1:80"));
        assert_eq!(r.messages.len(), 2);
        // The next cycle repairs what failed.
        let r = sync_once(&mut fake, &desired(&healths));
        assert_eq!((r.ops, r.errors.len()), (1, 0));
    }

    #[test]
    fn a_cycle_reads_only_the_owned_services() {
        let mut fake = FakeBackend::new();
        let foreign = ServiceKey::Fwmark {
            af: crate::ipvs::model::AddressFamily::Inet,
            mark: 7,
        };
        let ops: Vec<Op> = std::iter::once(Op::AddService(Service::new(foreign)))
            .chain((1..=200).map(|i| {
                Op::AddDest(
                    foreign,
                    Dest::new(format!("10.9.0.{}", i % 250 + 1).parse().unwrap(), i),
                )
            }))
            .collect();
        assert!(fake.apply(&ops).iter().all(Result::is_ok));
        let d = desired(&[Some(Health::Up); 3]);
        let r = sync_once(&mut fake, &d);
        assert_eq!((r.ops, r.errors.len()), (4, 0), "{:?}", r.errors);
        let r = sync_once(&mut fake, &d);
        assert_eq!(r.ops, 0);
        let owned = d.virtuals[0].service.key;
        assert_eq!(fake.reads().services, 0);
        // The first cycle found no service; the second read the owned one's dests only.
        assert_eq!((fake.reads().dests, fake.dest_reads_of(&owned)), (1, 1));
        // The foreign service is intact and absent from the weights.
        assert_eq!(fake.dests(&foreign).unwrap().len(), 200);
        assert!(r.weights.keys().all(|(k, _)| *k == owned));
    }

    #[test]
    fn weights_are_what_the_kernel_acknowledged() {
        let mut fake = FakeBackend::new();
        let mut healths = vec![Some(Health::Up); 4];
        let r = sync_once(&mut fake, &desired(&healths));
        let key = desired(&healths).virtuals[0].service.key;
        let kernel = |fake: &mut FakeBackend| -> HashMap<(ServiceKey, DestKey), i32> {
            fake.dests(&key)
                .unwrap()
                .iter()
                .map(|d| ((key, d.key()), d.weight))
                .collect()
        };
        assert_eq!(r.weights, kernel(&mut fake));
        // One delete acknowledged, one refused: the weights follow the kernel, not the plan.
        healths[0] = Some(Health::Down);
        healths[1] = Some(Health::Down);
        fake.fail_op_number(fake.ops_submitted() + 1, libc::ENOMEM);
        let r = sync_once(&mut fake, &desired(&healths));
        assert_eq!((r.messages.len(), r.errors.len()), (1, 1));
        assert_eq!(r.weights.len(), 3);
        assert_eq!(r.weights, kernel(&mut fake));
        // Drift: a weight changed behind our back is read and repaired in one cycle.
        let mut edited = Dest::new("10.1.0.3".parse().unwrap(), 80);
        edited.weight = 9;
        assert!(fake.apply_one(&Op::EditDest(key, edited)).is_ok());
        let r = sync_once(&mut fake, &desired(&healths));
        assert_eq!((r.ops, r.errors.len()), (2, 0), "{:?}", r.messages);
        assert_eq!(r.weights, kernel(&mut fake));
        assert!(r.weights.values().all(|w| *w == 1));
    }

    #[test]
    fn a_removed_service_is_read_and_deleted() {
        let mut fake = FakeBackend::new();
        let d = desired(&[Some(Health::Up)]);
        sync_once(&mut fake, &d);
        let key = d.virtuals[0].service.key;
        let gone = Desired {
            virtuals: Vec::new(),
            remove: vec![(key, "10.0.0.1:80".into())],
            phase: Phase::Stop,
            readd_quiescent: false,
        };
        let r = sync_once(&mut fake, &gone);
        assert_eq!(r.messages, ["Purged virtual server (stop): 10.0.0.1:80"]);
        assert!(r.weights.is_empty());
        assert!(fake.services().unwrap().is_empty());
        // Already gone: nothing to do, and not an error.
        let r = sync_once(&mut fake, &gone);
        assert_eq!((r.ops, r.errors.len()), (0, 0));
    }

    #[test]
    fn a_cycle_soon_after_another_plans_on_its_snapshot() {
        let mut fake = FakeBackend::new();
        let mut snap = Snapshot::default();
        let t0 = Instant::now();
        let mut healths = vec![Some(Health::Up); 5];
        let d = desired(&healths);
        let key = d.virtuals[0].service.key;
        snap.sync(&mut fake, &d, t0); // service absent: created
        let r = snap.sync(&mut fake, &d, t0 + Duration::from_millis(10));
        assert_eq!(r.ops, 0);
        assert_eq!(fake.reads().dests, 0, "the snapshot knew the service");
        // A failure 0.5 s later goes out without a read, and the weights follow it.
        healths[2] = Some(Health::Down);
        let r = snap.sync(
            &mut fake,
            &desired(&healths),
            t0 + Duration::from_millis(500),
        );
        assert_eq!(
            r.messages,
            ["Deleted real server: 10.1.0.3:80 (10.0.0.1:80)"]
        );
        assert_eq!(fake.reads().dests, 0);
        assert_eq!(r.weights.len(), 4);
        // Drift behind our back is seen by the first cycle after MAX_SNAPSHOT_AGE.
        assert!(
            fake.apply_one(&Op::DelDest(key, d.virtuals[0].reals[0].dest.key()))
                .is_ok()
        );
        let late = t0 + MAX_SNAPSHOT_AGE;
        let r = snap.sync(&mut fake, &desired(&healths), late);
        assert_eq!((fake.reads().dests, fake.dest_reads_of(&key)), (1, 1));
        assert_eq!(
            r.messages,
            ["Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)"]
        );
        assert_eq!(r.weights.len(), 4);
    }

    #[test]
    fn a_refused_op_makes_the_next_cycle_read_again() {
        let mut fake = FakeBackend::new();
        let mut snap = Snapshot::default();
        let t0 = Instant::now();
        let mut healths = vec![Some(Health::Up); 3];
        snap.sync(&mut fake, &desired(&healths), t0);
        // Someone deletes the real behind our back; our delete then fails (ENOENT)...
        let d = desired(&healths);
        let key = d.virtuals[0].service.key;
        let real = d.virtuals[0].reals[1].dest.key();
        assert!(fake.apply_one(&Op::DelDest(key, real)).is_ok());
        healths[1] = Some(Health::Down);
        let soon = t0 + Duration::from_millis(100);
        let r = snap.sync(&mut fake, &desired(&healths), soon);
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert_eq!(fake.reads().dests, 0);
        // ... and the next cycle, however soon, reads the kernel and has nothing left to do.
        let r = snap.sync(&mut fake, &desired(&healths), soon);
        assert_eq!((r.ops, r.errors.len()), (0, 0));
        assert_eq!((fake.reads().dests, fake.dest_reads_of(&key)), (1, 1));
        assert_eq!(r.weights.len(), 2);
    }
}
