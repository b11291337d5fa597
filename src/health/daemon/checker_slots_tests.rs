//! The registry with reals carrying checks of their own: the AND of their states, the
//! worst shown, reload keeping unchanged checks.

use std::time::{Duration, SystemTime};

use crate::health::check::Outcome;
use crate::health::config::Config;
use crate::health::daemon::registry::{Registry, Report};
use crate::health::keepalived::{MemEnv, Options, read, to_daemon};
use crate::health::state::Health;
use crate::health::state::keepalived_epilog::{Check, Checker, Settings};

fn config(second_timeout: u32) -> Config {
    let text = format!(
        "virtual_server 192.0.2.10 80 {{
    delay_loop 5
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.0.11 80 {{
        TCP_CHECK {{
            retry 0
        }}
        TCP_CHECK {{
            connect_port 81
            connect_timeout {second_timeout}
            retry 1
        }}
    }}
}}
"
    );
    let file = "/etc/keepalived/keepalived.conf";
    let read = read(file, &text, &MemEnv::default(), &Options::default());
    to_daemon(&read.config.expect("read")).expect("mapped")
}

fn report(reg: &Registry, checker: usize, outcome: Outcome) -> Report {
    let vs = &reg.virtuals[0];
    let slot = &vs.reals[0];
    Report {
        id: (vs.v.key, slot.dest.key()),
        checker,
        generation: slot.checkers[checker].generation,
        outcome,
        maintenance: false,
        at: SystemTime::now(),
        duration: Duration::from_millis(1),
        verdict: None,
        weight: None,
    }
}

fn health(reg: &Registry) -> Option<Health> {
    reg.virtuals[0].reals[0].health.map(|h| h.health)
}

fn down(why: &str) -> Outcome {
    Outcome::Down(why.to_owned())
}

/// The reals' checkers (crate::health::state::keepalived_epilog), run as their tasks
/// run them: each report carries the verdict its task would send.
struct Checks(Vec<Checker>);

impl Checks {
    fn of(reg: &Registry) -> Self {
        let checks = &reg.virtuals[0].reals[0].real.checks;
        let settings = checks
            .iter()
            .map(|c| Settings::of_check(c).expect("a TCP_CHECK"));
        Self(settings.map(Checker::new).collect())
    }

    fn report(&mut self, reg: &Registry, checker: usize, outcome: Outcome) -> Report {
        let check = match outcome {
            Outcome::Up => Check::Pass,
            Outcome::Down(_) => Check::Fail,
            _ => Check::NotMade,
        };
        let mut r = report(reg, checker, outcome);
        r.verdict = self.0[checker].observe(check).verdict;
        r
    }
}

#[test]
fn the_real_is_up_only_while_every_check_is() {
    let mut reg = Registry::build(&config(5), None);
    let mut ks = Checks::of(&reg);
    assert_eq!(
        health(&reg),
        Some(Health::Up),
        "no alpha: up from the start"
    );
    // Both checks pass first (keepalived starts their retries used up).
    assert!(!reg.record(&ks.report(&reg, 0, Outcome::Up)).0);
    assert!(!reg.record(&ks.report(&reg, 1, Outcome::Up)).0);
    // The second check has retry 1: after a pass its first failure is soft, the real
    // stays in.
    let (changed, lines) = reg.record(&ks.report(&reg, 1, down("refused")));
    assert!(!changed);
    assert_eq!(
        lines,
        ["Soft failure real server: 10.0.0.11:80 (tcp:192.0.2.10:80) failure 1/2"]
    );
    let (changed, _) = reg.record(&ks.report(&reg, 1, down("refused")));
    assert!(changed);
    assert_eq!(health(&reg), Some(Health::Down));
    // The status shows the failed check's last result.
    let last = reg.virtuals[0].reals[0].last.clone().expect("a last check");
    assert_eq!(last.reason.as_deref(), Some("refused"));
    // The first check passing changes nothing; failing too keeps the real out.
    assert!(!reg.record(&ks.report(&reg, 0, Outcome::Up)).0);
    assert!(!reg.record(&ks.report(&reg, 0, down("reset"))).0);
    // The second check passes: still out while the first has failed.
    assert!(!reg.record(&ks.report(&reg, 1, Outcome::Up)).0);
    assert_eq!(health(&reg), Some(Health::Down));
    // The first passes: back.
    assert!(reg.record(&ks.report(&reg, 0, Outcome::Up)).0);
    assert_eq!(health(&reg), Some(Health::Up));
}

/// keepalived starts every checker with its retries used up: the second check (retry 1)
/// takes the real out at its first failure when it has not passed yet, without a soft
/// failure (the only line is the quorum's: the real's weight 1 was all of it).
#[test]
fn a_check_failing_from_the_start_takes_the_real_out_at_once() {
    let mut reg = Registry::build(&config(5), None);
    let mut ks = Checks::of(&reg);
    assert_eq!(
        reg.record(&ks.report(&reg, 1, down("refused"))),
        (
            true,
            vec!["Lost quorum 1-0=1 > 0 for VS 192.0.2.10:80".to_owned()]
        )
    );
    assert_eq!(health(&reg), Some(Health::Down));
}

#[test]
fn a_report_from_a_replaced_task_or_an_unknown_check_is_ignored() {
    let mut reg = Registry::build(&config(5), None);
    reg.virtuals[0].reals[0].checkers[0].generation = 7;
    let mut stale = report(&reg, 0, down("refused"));
    stale.generation = 6;
    assert_eq!(reg.record(&stale), (false, Vec::new()));
    let mut unknown = report(&reg, 0, down("refused"));
    unknown.checker = 2;
    assert_eq!(reg.record(&unknown), (false, Vec::new()));
    assert_eq!(health(&reg), Some(Health::Up));
}

#[test]
fn reload_keeps_the_state_of_unchanged_checks() {
    let mut old = Registry::build(&config(5), None);
    for (i, c) in old.virtuals[0].reals[0].checkers.iter_mut().enumerate() {
        c.generation = 10 + i as u64;
    }
    let mut ks = Checks::of(&old);
    old.record(&ks.report(&old, 0, down("refused")));
    assert_eq!(health(&old), Some(Health::Down));
    // Same file: every check and its task carried over.
    let same = Registry::build(&config(5), Some(&old));
    let slot = &same.virtuals[0].reals[0];
    assert_eq!(health(&same), Some(Health::Down));
    assert_eq!(slot.checkers[0].generation, 10);
    assert_eq!(slot.checkers[1].generation, 11);
    // The second check changed: it starts again (up, a new task); the first keeps its
    // failure, so the real stays out.
    let changed = Registry::build(&config(3), Some(&old));
    let slot = &changed.virtuals[0].reals[0];
    assert_eq!(slot.checkers[0].generation, 10);
    assert_eq!(slot.checkers[1].generation, 0);
    assert_eq!(health(&changed), Some(Health::Down));
}

#[test]
fn the_added_weights_make_the_kernel_weight_within_its_range() {
    let reg = Registry::build(&config(5), None);
    let slot = &reg.virtuals[0].reals[0];
    let with = |added: [i64; 2]| {
        let mut checkers = slot.checkers.clone();
        for (c, a) in checkers.iter_mut().zip(added) {
            c.added_weight = a;
        }
        super::effective_weight(&slot.real, &checkers)
    };
    // Weight 1 as configured.
    assert_eq!(with([0, 0]), None);
    assert_eq!(with([9, 0]), Some(10));
    assert_eq!(with([9, -4]), Some(6));
    assert_eq!(with([-5, 0]), Some(0));
    assert_eq!(with([i64::MAX, 1]), Some(i32::MAX));
}

/// The descriptors the daemon asks for count each of a real's own checks.
#[test]
fn every_check_of_a_real_counts_for_the_descriptors() {
    use crate::health::daemon::faults::{MARGIN, descriptors_needed};
    assert_eq!(descriptors_needed(&config(5)), 2 + MARGIN);
}
