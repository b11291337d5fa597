use std::time::Duration;

use super::*;

const L: Duration = Duration::from_secs(10);
const D: Duration = Duration::from_secs(2);

fn checker(rule: Rule, retry: u32, alpha: bool) -> Checker {
    Checker::new(Settings {
        rule,
        retry,
        delay_loop: L,
        delay_before_retry: D,
        alpha,
    })
}

/// (verdict, wait) of each result in turn.
fn run(c: &mut Checker, checks: &[Check]) -> Vec<(Option<Verdict>, Duration)> {
    checks
        .iter()
        .map(|&k| {
            let s = c.observe(k);
            (s.verdict, s.wait)
        })
        .collect()
}

use Check::{Fail, NotMade, Pass};
use Verdict::{Down, Up};

/// validate_check_config (check_data.c) starts every checker with `retry_it = retry`:
/// tcp_epilog then takes a real in service from the start out at its first failure, a
/// delay_loop before the next check; only the failures after that are retried (tcp_epilog
/// retries whatever the state: D, D, then L, and no second call down).
#[test]
fn tcp_first_failure_takes_the_real_out_at_once() {
    let mut c = checker(Rule::Tcp, 2, false);
    assert_eq!(
        run(&mut c, &[Fail, Fail, Fail, Fail, Pass]),
        [
            (Some(Down), L),
            (None, D),
            (None, D),
            (None, L),
            (Some(Up), L)
        ]
    );
    // alpha: the same first failure is the checker's first decision, reported.
    let mut c = checker(Rule::Tcp, 2, true);
    assert_eq!(run(&mut c, &[Fail, Pass]), [(Some(Down), L), (Some(Up), L)]);
}

/// tcp_epilog, retry 2, after a pass: two retries D apart, the third failure calls the
/// real down; while down the retries go on (D, D, then L); one pass brings it back.
#[test]
fn tcp_retries_whatever_the_state() {
    let mut c = checker(Rule::Tcp, 2, false);
    assert_eq!(
        run(
            &mut c,
            &[Pass, Fail, Fail, Fail, Fail, Fail, Fail, Pass, Pass]
        ),
        [
            (Some(Up), L),
            (None, D),
            (None, D),
            (Some(Down), L),
            (None, D),
            (None, D),
            (None, L),
            (Some(Up), L),
            (None, L),
        ]
    );
    // The first pass of a real up from the start is its first decision.
    let mut c = checker(Rule::Tcp, 0, false);
    assert_eq!(run(&mut c, &[Pass, Pass]), [(Some(Up), L), (None, L)]);
}

/// dns_final, retry 1, after a pass: retries while up; a real already down is checked
/// every delay_loop.
#[test]
fn dns_does_not_retry_a_real_already_down() {
    let mut c = checker(Rule::Dns, 1, false);
    assert_eq!(
        run(&mut c, &[Pass, Fail, Fail, Fail, Fail, Pass, Fail]),
        [
            (Some(Up), L),
            (None, D),
            (Some(Down), L),
            (None, L),
            (None, L),
            (Some(Up), L),
            (None, D),
        ]
    );
}

/// dns_final with the counter full from the start: the first failure (`!has_run`,
/// `retry_it >= retry`) calls the real down, with or without alpha.
#[test]
fn dns_first_failure_takes_the_real_out_at_once() {
    for alpha in [false, true] {
        let mut c = checker(Rule::Dns, 1, alpha);
        assert_eq!(
            run(&mut c, &[Fail, Fail, Pass]),
            [(Some(Down), L), (None, L), (Some(Up), L)],
            "alpha {alpha}"
        );
    }
}

/// udp_epilog / icmp_epilog, retry 1: retries only while up (after a pass); the first
/// failure, with the counter full, calls the real down at once, with or without alpha.
#[test]
fn udp_and_icmp_retry_only_while_up() {
    let mut c = checker(Rule::UdpIcmp, 1, false);
    assert_eq!(
        run(&mut c, &[Pass, Fail, Fail, Fail, Pass]),
        [
            (Some(Up), L),
            (None, D),
            (Some(Down), L),
            (None, L),
            (Some(Up), L)
        ]
    );
    for alpha in [false, true] {
        let mut c = checker(Rule::UdpIcmp, 1, alpha);
        assert_eq!(
            run(&mut c, &[Fail, Fail, Pass]),
            [(Some(Down), L), (None, L), (Some(Up), L)],
            "alpha {alpha}"
        );
    }
    let mut c = checker(Rule::UdpIcmp, 0, true);
    assert_eq!(run(&mut c, &[Fail, Fail]), [(Some(Down), L), (None, L)]);
    assert!(!c.is_up());
}

/// A check that could not be made changes nothing: neither the full counter of the start
/// nor the retries after a pass.
#[test]
fn a_check_not_made_only_waits_the_delay_loop() {
    for rule in [Rule::Tcp, Rule::Dns, Rule::UdpIcmp] {
        let mut c = checker(rule, 1, false);
        assert_eq!(
            run(&mut c, &[NotMade, Pass, Fail, NotMade, Fail]),
            [
                (None, L),
                (Some(Up), L),
                (None, D),
                (None, L),
                (Some(Down), L)
            ],
            "{rule:?}"
        );
        let mut c = checker(rule, 1, false);
        assert_eq!(
            run(&mut c, &[NotMade, Fail]),
            [(None, L), (Some(Down), L)],
            "{rule:?}"
        );
    }
}
