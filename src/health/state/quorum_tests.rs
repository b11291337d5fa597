//! Transcripts of keepalived 2.2.7's `update_quorum_state` and `set_quorum_states`
//! (keepalived/check/ipwrapper.c), step by step: (weight sum, init) → transition.

use super::*;

fn rule(quorum: u32, hysteresis: u32, sorry_server: bool) -> QuorumRule {
    QuorumRule {
        quorum,
        hysteresis,
        sorry_server,
    }
}

/// Runs `steps` from keepalived's start state (decided on a sum of 0, then the start's
/// `update_quorum_state(vs, true)` on `start_sum`); returns (up, sorry_in, transition) per
/// step, the start first.
fn run(r: QuorumRule, start_sum: u64, steps: &[u64]) -> Vec<(bool, bool, Option<Transition>)> {
    let mut s = r.initial(0);
    let mut out = vec![];
    let t = r.update(&mut s, start_sum, true);
    out.push((s.up, s.sorry_in, t));
    for &sum in steps {
        let t = r.update(&mut s, sum, false);
        out.push((s.up, s.sorry_in, t));
    }
    out
}

#[test]
fn keepalived_decides_the_start_state_from_no_live_real_so_it_starts_down() {
    // set_quorum_states runs while no real is alive yet.
    assert!(!rule(1, 0, false).initial(0).up);
    assert!(!rule(3, 2, true).initial(0).up);
    // Every real of weight 0: quorum lowered to 0, hysteresis to 0 - 1 (unsigned).
    assert!(!rule(0, u32::MAX, true).initial(0).up);
}

#[test]
fn gained_when_the_sum_reaches_quorum_plus_hysteresis_lost_below_quorum_minus_hysteresis() {
    let r = rule(4, 1, false);
    let steps = run(r, 3, &[4, 5, 4, 3, 2, 5]);
    let ups: Vec<bool> = steps.iter().map(|s| s.0).collect();
    // start 3 < 5: down; 4 < 5: down; 5: gained; 4, 3 >= 3: still up; 2 < 3: lost; 5: gained.
    assert_eq!(ups, [false, false, true, true, true, false, true]);
    let t = steps[2].2.unwrap();
    assert_eq!((t.up, t.threshold, t.weight_sum), (true, 5, 5));
    assert_eq!(
        t.line(r, "10.0.0.1:80"),
        "Gained quorum 4+1=5 <= 5 for VS 10.0.0.1:80"
    );
    let t = steps[5].2.unwrap();
    assert_eq!((t.up, t.threshold, t.weight_sum), (false, 3, 2));
    assert_eq!(
        t.line(r, "10.0.0.1:80"),
        "Lost quorum 4-1=3 > 2 for VS 10.0.0.1:80"
    );
    // Steps that cross no bound change nothing.
    assert_eq!(steps[3].2, None);
    assert_eq!(steps[4].2, None);
}

#[test]
fn start_with_enough_live_weight_gains_the_quorum_at_start() {
    let r = rule(2, 0, true);
    let steps = run(r, 2, &[]);
    let t = steps[0].2.unwrap();
    // The sorry server was never in: nothing to take out.
    assert_eq!((t.up, t.init, t.sorry), (true, true, None));
    assert!(!steps[0].1);
}

#[test]
fn start_short_of_the_quorum_with_a_sorry_server_puts_it_in() {
    let r = rule(2, 0, true);
    let steps = run(r, 1, &[2, 1, 0]);
    let t = steps[0].2.unwrap();
    assert_eq!((t.up, t.init, t.sorry), (false, true, Some(true)));
    assert_eq!(
        t.line(r, "v"),
        "Starting with quorum down 2-0=2 > 1 for VS v"
    );
    assert!(steps[0].1);
    // Gained: the sorry server goes out.
    assert_eq!(steps[1].2.unwrap().sorry, Some(false));
    assert_eq!((steps[1].0, steps[1].1), (true, false));
    // Lost: it goes back in.
    assert_eq!(steps[2].2.unwrap().sorry, Some(true));
    assert_eq!((steps[2].0, steps[2].1), (false, true));
    // Down already: a further drop says nothing.
    assert_eq!(steps[3].2, None);
}

#[test]
fn start_short_of_the_quorum_without_a_sorry_server_says_nothing() {
    let steps = run(rule(2, 0, false), 1, &[0]);
    assert_eq!(steps[0], (false, false, None));
    assert_eq!(steps[1], (false, false, None));
}

#[test]
fn the_quorum_is_lost_when_the_sum_falls_to_0_even_when_the_lower_bound_is_0() {
    // quorum 0 (every real of weight 0 keeps it lowered to 0) cannot be gained at all
    // with hysteresis 4294967295, so take quorum 3, hysteresis 2 after a reload kept it
    // up: quorum - hysteresis = 1, and the sum 0 loses it by the explicit `!weight_sum`.
    let r = rule(3, 2, false);
    let mut s = QuorumState {
        up: true,
        sorry_in: false,
    };
    assert_eq!(r.update(&mut s, 1, false), None);
    let t = r.update(&mut s, 0, false).unwrap();
    assert_eq!((t.up, t.threshold), (false, 1));
}

#[test]
fn quorum_0_from_reals_all_of_weight_0_never_gains() {
    // quorum + hysteresis = 0 + 4294967295 in 32 bits.
    let r = rule(0, u32::MAX, true);
    let steps = run(r, 0, &[0, 0]);
    let t = steps[0].2.unwrap();
    assert_eq!((t.up, t.threshold, t.sorry), (false, u32::MAX, Some(true)));
    assert!(steps.iter().all(|s| !s.0 && s.1));
}

#[test]
fn a_reload_that_keeps_the_sorry_server_in_does_not_start_down_again() {
    let r = rule(2, 0, true);
    let mut s = QuorumState {
        up: false,
        sorry_in: true,
    };
    assert_eq!(r.update(&mut s, 1, true), None);
}
