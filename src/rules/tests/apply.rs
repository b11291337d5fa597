use std::fmt::Write as _;
use std::time::Duration;

use super::kernel::TestKernel;
use super::plan::{LIVE, WANT, entries};
use crate::rules::apply::{DrainOptions, execute, rollback};
use crate::rules::plan::{PlanOptions, plan};

fn same_tables(
    a: &[crate::ipvs::model::ServiceEntry],
    b: &[crate::ipvs::model::ServiceEntry],
) -> bool {
    let norm = |t: &[crate::ipvs::model::ServiceEntry]| {
        let mut v: Vec<String> = t
            .iter()
            .flat_map(|e| {
                let s = format!(
                    "{:?}",
                    crate::ipvs::model::Service {
                        stats: crate::ipvs::model::Stats::default(),
                        ..e.service.clone()
                    }
                );
                std::iter::once(s.clone()).chain(e.dests.iter().map(move |d| {
                    format!(
                        "{s} {:?}",
                        crate::ipvs::model::Dest {
                            active_conns: 0,
                            stats: crate::ipvs::model::Stats::default(),
                            ..d.clone()
                        }
                    )
                }))
            })
            .collect();
        v.sort();
        v
    };
    norm(a) == norm(b)
}

#[test]
fn apply_reaches_the_file_and_a_second_apply_writes_nothing() {
    let mut k = TestKernel::with(entries(LIVE));
    let want = entries(WANT);
    let p = plan(
        &want,
        &k.table.clone(),
        PlanOptions {
            prune: true,
            drain: false,
        },
    );
    let exec = execute(&mut k, &p, 2048, None, &mut |_| {});
    assert!(exec.succeeded());
    assert_eq!(exec.writes(), p.steps.len());
    assert_eq!(k.writes, p.steps.len());
    assert!(same_tables(&k.table, &want));
    let again = plan(
        &want,
        &k.table.clone(),
        PlanOptions {
            prune: true,
            drain: false,
        },
    );
    assert!(again.is_empty());
}

#[test]
fn unchanged_objects_keep_their_counters() {
    let mut k = TestKernel::with(entries(LIVE));
    k.table[0].service.stats.conns = 42;
    k.table[0].dests[0].stats.conns = 7;
    let live = k.table.clone();
    let p = plan(&entries(WANT), &live, PlanOptions::default());
    assert!(execute(&mut k, &p, 2048, None, &mut |_| {}).succeeded());
    assert_eq!(k.table[0].service.stats.conns, 42);
    let kept = k.table[0]
        .dests
        .iter()
        .find(|d| d.port == 80 && d.addr.to_string() == "192.168.1.1")
        .unwrap();
    assert_eq!(kept.stats.conns, 7);
}

#[test]
fn a_failure_midway_stops_reports_and_rolls_back_exactly() {
    let mut k = TestKernel::with(entries(LIVE));
    let before = k.table.clone();
    let p = plan(
        &entries(WANT),
        &before,
        PlanOptions {
            prune: true,
            drain: false,
        },
    );
    // Write 1 of the first phase fails: later phases are never sent.
    k.fail_write = Some((1, libc::ENOENT));
    let exec = execute(&mut k, &p, 2, None, &mut |_| {});
    assert!(!exec.succeeded());
    assert_eq!(exec.failed.len(), 1);
    assert_eq!(
        exec.applied.len() + exec.failed.len() + exec.not_applied.len(),
        p.steps.len()
    );
    assert_eq!(
        exec.applied.len(),
        1,
        "only the write before the failure in its batch"
    );
    assert!(!same_tables(&k.table, &before));
    let (back, rb) = rollback(&mut k, &p, &before, 2048).unwrap();
    assert!(rb.succeeded(), "{:?}", rb.failed);
    assert_eq!(rb.writes(), back.steps.len());
    assert!(same_tables(&k.table, &before));
}

#[test]
fn failures_in_a_batch_do_not_hide_the_ops_after_them() {
    let mut k = TestKernel::with(Vec::new());
    let want = entries(WANT);
    let p = plan(&want, &[], PlanOptions::default());
    k.fail_write = Some((0, libc::ENOENT));
    let exec = execute(&mut k, &p, 2048, None, &mut |_| {});
    // The services phase went out as one batch: the kernel ran its other ops.
    assert_eq!(exec.failed.len(), 1);
    assert_eq!(exec.applied.len(), 2);
    assert_eq!(exec.not_applied.len(), p.steps.len() - 3);
}

#[test]
fn drain_waits_for_active_connections_then_deletes() {
    let mut k = TestKernel::with(entries(LIVE));
    k.table[0].dests[1].active_conns = 2;
    let p = plan(
        &entries(WANT),
        &k.table.clone(),
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
    let exec = execute(&mut k, &p, 2048, Some(opts), &mut |d| slept += d);
    assert!(exec.succeeded());
    let wait = exec.drain.unwrap();
    assert!(!wait.emptied);
    assert_eq!(wait.waited, Duration::from_secs(3));
    assert_eq!(slept, Duration::from_secs(3));
    assert!(
        k.table[0]
            .dests
            .iter()
            .all(|d| d.addr.to_string() != "192.168.1.2")
    );
}

#[test]
fn many_ops_go_out_in_few_backend_calls() {
    let mut text = String::new();
    for i in 0..500 {
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
    let want = entries(&text);
    let mut k = TestKernel::with(Vec::new());
    let p = plan(&want, &[], PlanOptions::default());
    let exec = execute(&mut k, &p, 2048, None, &mut |_| {});
    assert!(exec.succeeded());
    assert_eq!(k.writes, 2500);
    assert_eq!(
        k.calls, 2,
        "one call for the services, one for the 2000 real servers"
    );
}
