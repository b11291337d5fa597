//! The executor against the kernel-faithful FakeBackend: write counts, batching, stopping
//! at a failed batch or a signal, rollback to an identical table, the drain wait.

use std::cell::Cell;
use std::fmt::Write as _;
use std::time::Duration;

use super::plan::{LIVE, WANT, entries};
use crate::ipvs::Backend;
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{Dest, Rates, ServiceEntry};
use crate::rules::apply::{DrainOptions, Hooks, execute, rollback};
use crate::rules::interrupt::Interrupt;
use crate::rules::plan::{PlanOptions, plan};

const ALL: PlanOptions = PlanOptions {
    prune: true,
    drain: false,
};

/// A fake holding `text`'s table, its write log cleared.
fn fake_with(text: &str) -> FakeBackend {
    let mut fake = FakeBackend::new();
    let seed = plan(&entries(text), &[], ALL);
    assert!(execute(&mut fake, &seed, 4096, None, &mut Hooks::none()).succeeded());
    fake.reset_write_log();
    fake
}

/// Configuration only, in a canonical order.
fn config(fake: &mut FakeBackend) -> Vec<String> {
    let mut lines = Vec::new();
    for e in fake.entries().unwrap() {
        let s = &e.service;
        let svc = format!(
            "{:?} {} {:?} {} {:?} {:?}",
            s.key,
            s.scheduler,
            s.flags.configured(),
            s.timeout,
            s.netmask,
            s.pe_name
        );
        for d in &e.dests {
            lines.push(format!(
                "{svc} {:?} {:?} {} {} {} {:?}",
                d.key(),
                d.fwd,
                d.weight,
                d.u_threshold,
                d.l_threshold,
                d.tunnel
            ));
        }
        lines.push(svc);
    }
    lines.sort();
    lines
}

fn config_of(text: &str) -> Vec<String> {
    config(&mut fake_with(text))
}

#[test]
fn apply_reaches_the_file_and_a_second_apply_writes_nothing() {
    let mut fake = fake_with(LIVE);
    let live = fake.entries().unwrap();
    let p = plan(&entries(WANT), &live, ALL);
    let exec = execute(&mut fake, &p, 2048, None, &mut Hooks::none());
    assert!(exec.succeeded(), "{:?}", exec.failed);
    assert_eq!(exec.writes(), p.steps.len());
    assert_eq!(fake.writes_applied(), p.steps.len());
    assert_eq!(config(&mut fake), config_of(WANT));
    let again = plan(&entries(WANT), &fake.entries().unwrap(), ALL);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn unchanged_objects_keep_their_counters() {
    let mut fake = fake_with(LIVE);
    let live: Vec<ServiceEntry> = fake.entries().unwrap();
    let web = live[0].service.key;
    let kept = live[0]
        .dests
        .iter()
        .find(|d| d.addr.to_string() == "192.168.1.1")
        .unwrap()
        .key();
    let stats = crate::ipvs::model::Stats {
        conns: 42,
        ..Default::default()
    };
    assert!(fake.set_service_traffic(&web, stats, Rates::default()));
    assert!(fake.set_dest_traffic(&web, &kept, stats, Rates::default()));
    let p = plan(
        &entries(WANT),
        &fake.entries().unwrap(),
        PlanOptions::default(),
    );
    assert!(execute(&mut fake, &p, 2048, None, &mut Hooks::none()).succeeded());
    let after = fake.entries().unwrap();
    let web_after = after.iter().find(|e| e.service.key == web).unwrap();
    assert_eq!(web_after.service.stats.conns, 42);
    let d: &Dest = web_after.dests.iter().find(|d| d.key() == kept).unwrap();
    assert_eq!(d.stats.conns, 42);
}

#[test]
fn a_failure_midway_stops_reports_and_rolls_back_exactly() {
    let mut fake = fake_with(LIVE);
    let before = fake.entries().unwrap();
    let p = plan(&entries(WANT), &before, ALL);
    // The second write of the first phase fails; batches of 2 make it end that phase.
    fake.fail_op_number(fake.ops_submitted() + 1, libc::ENOENT);
    let exec = execute(&mut fake, &p, 2, None, &mut Hooks::none());
    assert!(!exec.succeeded());
    assert_eq!(exec.failed.len(), 1);
    assert_eq!(
        exec.applied.len(),
        1,
        "only the write before the failure in its batch"
    );
    assert_eq!(exec.not_applied.len(), p.steps.len() - 2);
    assert_ne!(config(&mut fake), config_of(LIVE));
    let (back, rb) = rollback(&mut fake, &p, &before, 2048).unwrap();
    assert!(rb.succeeded(), "{:?}", rb.failed);
    assert_eq!(rb.writes(), back.steps.len());
    assert_eq!(config(&mut fake), config_of(LIVE));
}

#[test]
fn a_failure_inside_a_batch_does_not_hide_the_ops_after_it() {
    let mut fake = FakeBackend::new();
    let p = plan(&entries(WANT), &[], PlanOptions::default());
    fake.fail_op_number(0, libc::ENOENT);
    let exec = execute(&mut fake, &p, 2048, None, &mut Hooks::none());
    // The services phase went out as one batch: the kernel ran its other two ops.
    assert_eq!(exec.failed.len(), 1);
    assert_eq!(exec.applied.len(), 2);
    assert_eq!(exec.not_applied.len(), p.steps.len() - 3);
    assert_eq!(exec.writes(), 3);
}

#[test]
fn drain_waits_for_active_connections_then_deletes() {
    let mut fake = fake_with(LIVE);
    let live = fake.entries().unwrap();
    let web = live[0].service.key;
    let gone = live[0]
        .dests
        .iter()
        .find(|d| d.addr.to_string() == "192.168.1.2")
        .unwrap()
        .key();
    assert!(fake.set_dest_conns(&web, &gone, (2, 0, 0)));
    let p = plan(
        &entries(WANT),
        &live,
        PlanOptions {
            prune: false,
            drain: true,
        },
    );
    let mut slept = Duration::ZERO;
    let opts = DrainOptions {
        timeout: Duration::from_secs(3),
        poll: Duration::from_secs(1),
    };
    let exec = execute(
        &mut fake,
        &p,
        2048,
        Some(opts),
        &mut Hooks {
            sleep: Box::new(|d| slept += d),
            stop: Box::new(|| None),
        },
    );
    assert!(exec.succeeded(), "{:?}", exec.failed);
    let wait = exec.drain.unwrap();
    assert!(!wait.emptied);
    assert_eq!(
        (wait.waited, slept),
        (Duration::from_secs(3), Duration::from_secs(3))
    );
    assert!(fake.dests(&web).unwrap().iter().all(|d| d.key() != gone));
}

#[test]
fn drain_stops_waiting_once_connections_end() {
    let mut fake = fake_with(LIVE);
    let live = fake.entries().unwrap();
    let p = plan(
        &entries(WANT),
        &live,
        PlanOptions {
            prune: false,
            drain: true,
        },
    );
    let opts = DrainOptions {
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
    };
    let exec = execute(
        &mut fake,
        &p,
        2048,
        Some(opts),
        &mut Hooks {
            sleep: Box::new(|_| panic!("no wait needed")),
            stop: Box::new(|| None),
        },
    );
    assert_eq!(exec.drain.map(|w| w.emptied), Some(true));
}

/// `services` services with four real servers each, in `ipvsadm -Sn` form.
fn big(services: usize) -> String {
    let mut text = String::new();
    for i in 0..services {
        let _ = writeln!(text, "-A -t 10.1.{}.{}:80 -s wlc", i / 250, i % 250);
        for j in 1..=4 {
            let _ = writeln!(
                text,
                "-a -t 10.1.{}.{}:80 -r 192.168.{j}.1:80 -m -w 1",
                i / 250,
                i % 250
            );
        }
    }
    text
}

#[test]
fn a_signal_stops_the_execution_between_two_batches() {
    let mut fake = FakeBackend::new();
    let p = plan(&entries(&big(100)), &[], PlanOptions::default());
    // Batches of 40: the services go out in three (40, 40, 20), then the real servers.
    // The signal arrives while the fourth batch is in the kernel: seen before the fifth.
    let asked = Cell::new(0);
    let exec = execute(
        &mut fake,
        &p,
        40,
        None,
        &mut Hooks {
            sleep: Box::new(|_| {}),
            stop: Box::new(|| {
                asked.set(asked.get() + 1);
                (asked.get() > 4).then_some(Interrupt::Term)
            }),
        },
    );
    assert_eq!(exec.interrupted, Some(Interrupt::Term));
    assert!(!exec.succeeded());
    assert!(exec.failed.is_empty());
    assert_eq!(exec.applied.len(), 140, "four whole batches");
    assert_eq!(exec.not_applied.len(), 500 - 140);
    assert_eq!(fake.writes_applied(), 140, "nothing sent after the signal");
    assert_eq!(asked.get(), 5, "asked once per batch until it stopped");
    // The kernel holds exactly the applied writes: the 100 services, 40 real servers.
    let held: usize = fake
        .entries()
        .unwrap()
        .iter()
        .map(|e| 1 + e.dests.len())
        .sum();
    assert_eq!(held, 140);
}

#[test]
fn a_signal_during_the_drain_wait_keeps_the_drained_real_servers() {
    let mut fake = fake_with(LIVE);
    let live = fake.entries().unwrap();
    let web = live[0].service.key;
    let gone = live[0]
        .dests
        .iter()
        .find(|d| d.addr.to_string() == "192.168.1.2")
        .unwrap()
        .key();
    assert!(fake.set_dest_conns(&web, &gone, (2, 0, 0)));
    let p = plan(
        &entries(WANT),
        &live,
        PlanOptions {
            prune: false,
            drain: true,
        },
    );
    let opts = DrainOptions {
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
    };
    let slept = Cell::new(0);
    let exec = execute(
        &mut fake,
        &p,
        2048,
        Some(opts),
        &mut Hooks {
            sleep: Box::new(|_| slept.set(slept.get() + 1)),
            stop: Box::new(|| (slept.get() >= 2).then_some(Interrupt::Int)),
        },
    );
    assert_eq!(exec.interrupted, Some(Interrupt::Int));
    let wait = exec.drain.unwrap();
    assert!(!wait.emptied);
    assert_eq!(
        wait.waited,
        Duration::from_secs(2),
        "stopped at the next poll"
    );
    let held = fake.dests(&web).unwrap();
    let drained = held.iter().find(|d| d.key() == gone).expect("not deleted");
    assert_eq!(drained.weight, 0, "drained, then left as it was");
    assert!(
        exec.not_applied
            .iter()
            .any(|op| matches!(op, crate::ipvs::Op::DelDest(_, k) if *k == gone)),
        "{:?}",
        exec.not_applied
    );
}

#[test]
fn many_ops_go_out_in_few_backend_calls() {
    let text = big(500);
    let mut fake = FakeBackend::new();
    let p = plan(&entries(&text), &[], PlanOptions::default());
    let exec = execute(&mut fake, &p, 2048, None, &mut Hooks::none());
    assert!(exec.succeeded());
    assert_eq!(fake.writes_applied(), 2500);
    assert_eq!(
        fake.apply_calls(),
        2,
        "one call for the services, one for the 2000 real servers"
    );
}
