//! Bench helper: the health daemon's per-cycle work at scale, on the in-memory backend, so
//! it can be timed and profiled (`valgrind --tool=callgrind`) on a machine without IPVS.
//!
//!   cargo run --release --example health-cycle -- [REALS] [CYCLES]     (default 1000 200)
//!
//! One virtual with REALS reals, all checked up. Then, as the daemon does at 1 check per
//! real per second:
//!   report   one check result recorded in the registry (the same health: no change);
//!   steady   one drift-repair cycle: desired state, kernel read, plan, nothing to write;
//!   change   one real fails soon after another cycle: desired state, plan on the kernel
//!            thread's snapshot, one delete (no read: see kernel::MAX_SNAPSHOT_AGE).
//! Prints the mean time of each and the cost of one second of the daemon's steady state
//! (REALS reports + one drift-repair cycle).

use std::fmt::Write;
use std::time::{Duration, Instant, SystemTime};

use anyhow::bail;
use lvsctl::health::check::Outcome;
use lvsctl::health::config::{SystemEnv, parse_config};
use lvsctl::health::daemon::kernel::{Snapshot, sync_once};
use lvsctl::health::daemon::registry::{CheckId, Registry, Report};
use lvsctl::ipvs::fake::FakeBackend;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reals: u16 = args.first().map_or(Ok(1000), |s| s.parse())?;
    let cycles: u32 = args.get(1).map_or(Ok(200), |s| s.parse())?;
    let mut text = String::from(
        "checkinterval=1\nchecktimeout=3\nquiescent=no\nvirtual=10.0.0.1:80\n\tchecktype=connect\n",
    );
    for i in 1..=reals {
        let _ = writeln!(text, "\treal=10.2.0.1:{} masq 1", 20000 + u32::from(i));
    }
    let Ok((config, _)) = parse_config("bench.cf", &text, &SystemEnv::new()) else {
        bail!("the generated config does not parse");
    };
    let mut registry = Registry::build(&config, None);
    let ids: Vec<CheckId> = registry.virtuals[0]
        .reals
        .iter()
        .map(|s| (registry.virtuals[0].v.key, s.dest.key()))
        .collect();
    let report = |id: CheckId, outcome: Outcome| Report {
        id,
        checker: 0,
        generation: 0,
        outcome,
        maintenance: false,
        at: SystemTime::now(),
        duration: Duration::from_millis(1),
        verdict: None,
        weight: None,
    };
    for id in &ids {
        registry.record(&report(*id, Outcome::Up));
    }
    let mut fake = FakeBackend::new();
    let first = sync_once(&mut fake, &registry.desired(Vec::new()));
    if first.ops != usize::from(reals) + 1 || !first.errors.is_empty() {
        bail!("first cycle: {} ops, errors {:?}", first.ops, first.errors);
    }

    let n = u32::from(reals) * 10;
    let t = Instant::now();
    for i in 0..n {
        let id = ids[i as usize % ids.len()];
        registry.record(&report(id, Outcome::Up));
    }
    let per_report = t.elapsed() / n;

    let t = Instant::now();
    for _ in 0..cycles {
        let r = sync_once(&mut fake, &registry.desired(Vec::new()));
        assert_eq!(r.ops, 0);
    }
    let per_steady = t.elapsed() / cycles;

    let mut per_change = Duration::ZERO;
    let mut snapshot = Snapshot::default();
    snapshot.sync(&mut fake, &registry.desired(Vec::new()), Instant::now());
    for c in 0..cycles {
        let id = ids[c as usize % ids.len()];
        registry.record(&report(id, Outcome::Down("refused".into())));
        let t = Instant::now();
        let r = snapshot.sync(&mut fake, &registry.desired(Vec::new()), t);
        per_change += t.elapsed();
        assert_eq!(r.ops, 1);
        registry.record(&report(id, Outcome::Up));
        snapshot.sync(&mut fake, &registry.desired(Vec::new()), Instant::now());
    }
    per_change /= cycles;

    println!("{reals} reals, {cycles} cycles (in-memory backend)");
    println!("report  {:>9.1} us", per_report.as_secs_f64() * 1e6);
    println!("steady  {:>9.1} us", per_steady.as_secs_f64() * 1e6);
    println!("change  {:>9.1} us", per_change.as_secs_f64() * 1e6);
    println!(
        "one second of steady state ({reals} reports + 1 drift-repair cycle): {:.2} ms",
        (per_report * u32::from(reals) + per_steady).as_secs_f64() * 1e3
    );
    Ok(())
}
