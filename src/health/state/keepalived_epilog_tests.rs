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

/// tcp_epilog, retry 2: two retries D apart, the third failure calls the real down; while
/// down the retries go on (D, D, then L); one pass brings it back.
#[test]
fn tcp_retries_whatever_the_state() {
    let mut c = checker(Rule::Tcp, 2, false);
    assert_eq!(
        run(&mut c, &[Fail, Fail, Fail, Fail, Fail, Fail, Pass, Pass]),
        [
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

/// dns_final, retry 1: retries while up or undecided; a real already down is checked
/// every delay_loop.
#[test]
fn dns_does_not_retry_a_real_already_down() {
    let mut c = checker(Rule::Dns, 1, false);
    assert_eq!(
        run(&mut c, &[Fail, Fail, Fail, Fail, Pass, Fail]),
        [
            (None, D),
            (Some(Down), L),
            (None, L),
            (None, L),
            (Some(Up), L),
            (None, D),
        ]
    );
    // alpha: the first failure is retried, and its retry marks the checker as run
    // (`has_run = true` on dns_final's retry path), so the real, down from the start, is
    // never called down and is checked every delay_loop from then on.
    let mut c = checker(Rule::Dns, 1, true);
    assert_eq!(
        run(&mut c, &[Fail, Fail, Fail]),
        [(None, D), (None, L), (None, L)]
    );
}

/// udp_epilog / icmp_epilog, retry 1: retries only while up; under alpha a failing real
/// is never retried and, with retries configured, never called down either.
#[test]
fn udp_and_icmp_retry_only_while_up() {
    let mut c = checker(Rule::UdpIcmp, 1, false);
    assert_eq!(
        run(&mut c, &[Fail, Fail, Fail, Pass]),
        [(None, D), (Some(Down), L), (None, L), (Some(Up), L)]
    );
    let mut c = checker(Rule::UdpIcmp, 1, true);
    assert_eq!(
        run(&mut c, &[Fail, Fail, Pass]),
        [(None, L), (None, L), (Some(Up), L)]
    );
    let mut c = checker(Rule::UdpIcmp, 0, true);
    assert_eq!(run(&mut c, &[Fail, Fail]), [(Some(Down), L), (None, L)]);
    assert!(!c.is_up());
}

/// A check that could not be made changes nothing.
#[test]
fn a_check_not_made_only_waits_the_delay_loop() {
    for rule in [Rule::Tcp, Rule::Dns, Rule::UdpIcmp] {
        let mut c = checker(rule, 1, false);
        assert_eq!(
            run(&mut c, &[NotMade, Fail, NotMade, Fail]),
            [(None, L), (None, D), (None, L), (Some(Down), L)],
            "{rule:?}"
        );
    }
}
