//! The one thread that talks to IPVS.
//!
//! The netlink backend is synchronous and bound to the network namespace of the thread that
//! opened it, so it is created *on* this thread by a factory and never moves. Each request
//! carries the whole [`Desired`] state; the thread reads the live table, plans with the pure
//! [`plan`], submits the cycle's ops as **one** [`Backend::apply`] batch, and reads the
//! owned services back so the status API shows the kernel's weights, not our intentions.

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use crate::health::daemon::plan::{Desired, plan};
use crate::ipvs::backend::Backend;
use crate::ipvs::error::IpvsError;
use crate::ipvs::model::{DestKey, ServiceEntry, ServiceKey};

/// Opens the backend on the kernel thread.
pub type BackendFactory = Box<dyn FnOnce() -> Result<Box<dyn Backend>, IpvsError> + Send>;

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
    pub fn start(factory: BackendFactory) -> Result<Self, IpvsError> {
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
                while let Ok(req) = rx.recv() {
                    let report = sync_once(backend.as_mut(), &req.desired);
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

/// Read, plan, apply as one batch, read back.
pub fn sync_once(backend: &mut dyn Backend, desired: &Desired) -> SyncReport {
    let mut report = SyncReport::default();
    let live = match backend.entries() {
        Ok(live) => live,
        Err(e) => return failed(&format!("cannot read the IPVS table: {e}")),
    };
    let p = plan(desired, &live);
    report.ops = p.ops.len();
    let live = if p.ops.is_empty() {
        live
    } else {
        let results = backend.apply(&p.ops);
        for ((op, message), result) in p.ops.iter().zip(p.messages).zip(results) {
            match result {
                Ok(()) => report.messages.push(message),
                Err(e) => report
                    .errors
                    .push(format!("{message}: failed ({e}) [{:?}]", op.kind())),
            }
        }
        match backend.entries() {
            Ok(live) => live,
            Err(e) => {
                report
                    .errors
                    .push(format!("cannot read the IPVS table back: {e}"));
                Vec::new()
            }
        }
    };
    report.weights = owned_weights(desired, &live);
    report
}

fn owned_weights(desired: &Desired, live: &[ServiceEntry]) -> HashMap<(ServiceKey, DestKey), i32> {
    live.iter()
        .filter(|e| {
            desired
                .virtuals
                .iter()
                .any(|v| v.service.key == e.service.key)
        })
        .flat_map(|e| {
            e.dests
                .iter()
                .map(move |d| ((e.service.key, d.key()), d.weight))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::daemon::plan::{DesiredReal, DesiredVirtual};
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
            .map(|(i, h)| DesiredReal {
                dest: Dest::new(format!("10.1.0.{}", i + 1).parse().unwrap(), 80),
                health: *h,
            })
            .collect();
        Desired {
            virtuals: vec![DesiredVirtual {
                service: Service::new(key),
                label: "10.0.0.1:80".into(),
                reals,
                quiescent: false,
                fallback: None,
            }],
            remove: Vec::new(),
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
}
