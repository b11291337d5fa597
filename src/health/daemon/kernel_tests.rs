//! The kernel thread's cycles against the in-memory kernel: one batch per cycle, reads
//! of the owned services only, weights as acknowledged, snapshots and when they are trusted.

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
                inhibit: None,
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
            fallback_inhibit: false,
            zero_on_add: false,
        }],
        remove: Vec::new(),
        phase: Phase::Start,
        readd_quiescent: false,
        table: table::TableSteps::default(),
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
        table: table::TableSteps::default(),
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

#[test]
fn a_flush_before_the_plan_is_seen_by_it_even_through_a_fresh_snapshot() {
    let mut fake = FakeBackend::new();
    let mut snapshot = Snapshot::default();
    let now = Instant::now();
    let d = desired(&[Some(Health::Up)]);
    snapshot.sync(&mut fake, &d, now);
    let key = d.virtuals[0].service.key;
    let stop = Desired {
        remove: vec![(key, "10.0.0.1:80".into())],
        phase: Phase::Stop,
        table: table::TableSteps {
            flush: true,
            timeouts: table::TimeoutStep::Restore,
        },
        ..Desired::default()
    };
    // Within MAX_SNAPSHOT_AGE: without the flush's forced read, the plan would delete a
    // service that is gone and log a failure.
    let r = snapshot.sync(&mut fake, &stop, now);
    assert_eq!(r.messages, ["Flushed the IPVS table"]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.ops, 0);
    assert!(fake.services().unwrap().is_empty());
}
