//! T24–T26 on the pure state machine and the desired-destination function.

use super::*;
use crate::health::config::{StaticEnv, parse_config};
use crate::ipvs::model::ForwardMethod;

fn down(reason: &str) -> Outcome {
    Outcome::Down(reason.to_owned())
}

fn virtual_of(extra: &str) -> VirtualService {
    let text = format!(
        "virtual=192.0.2.1:80\n    real=10.0.0.1:8080 gate 5\n    real=10.0.0.2:80 masq 3\n    fallback=127.0.0.1:80\n{extra}"
    );
    let env = StaticEnv::with_common_services();
    parse_config("t.cf", &text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0)
}

/// T24: failurecount=3: two soft failures, the third goes down, one success goes up.
#[test]
fn t24_failurecount_three_gives_two_soft_failures_then_removal() {
    let t = Thresholds { fall: 3, rise: 1 };
    let mut r = RealHealth::new(Health::Up);
    assert_eq!(
        r.observe(&down("x"), t),
        Event::SoftFailure { count: 1, fall: 3 }
    );
    assert_eq!(
        r.observe(&down("x"), t),
        Event::SoftFailure { count: 2, fall: 3 }
    );
    assert_eq!(r.observe(&down("x"), t), Event::WentDown);
    assert_eq!(r.observe(&down("x"), t), Event::Unchanged);
    assert_eq!(
        r.observe(&Outcome::Up, t),
        Event::WentUp,
        "one success restores"
    );
}

#[test]
fn a_success_resets_soft_failures() {
    let t = Thresholds { fall: 3, rise: 1 };
    let mut r = RealHealth::new(Health::Up);
    r.observe(&down("x"), t);
    assert_eq!(r.observe(&Outcome::Up, t), Event::SoftFailuresReset);
    assert_eq!(
        r.observe(&down("x"), t),
        Event::SoftFailure { count: 1, fall: 3 }
    );
}

#[test]
fn rise_needs_consecutive_successes() {
    let t = Thresholds { fall: 1, rise: 3 };
    let mut r = RealHealth::new(Health::Down);
    assert_eq!(
        r.observe(&Outcome::Up, t),
        Event::Rising { count: 1, rise: 3 }
    );
    assert_eq!(r.observe(&down("x"), t), Event::Unchanged);
    assert_eq!(
        r.observe(&Outcome::Up, t),
        Event::Rising { count: 1, rise: 3 }
    );
    assert_eq!(
        r.observe(&Outcome::Up, t),
        Event::Rising { count: 2, rise: 3 }
    );
    assert_eq!(r.observe(&Outcome::Up, t), Event::WentUp);
}

#[test]
fn not_checked_changes_nothing_and_maintenance_bypasses_failurecount() {
    let t = Thresholds { fall: 5, rise: 1 };
    let mut r = RealHealth::new(Health::Up);
    assert_eq!(r.observe(&Outcome::NotChecked, t), Event::Unchanged);
    assert_eq!(r.force_down(), Event::WentDown);
    assert_eq!(r.force_down(), Event::Unchanged);
}

#[test]
fn thresholds_come_from_failurecount_and_rise() {
    assert_eq!(
        Thresholds::for_virtual(&virtual_of("    failurecount=4\n")),
        Thresholds { fall: 4, rise: 1 }
    );
    assert_eq!(
        Thresholds::for_virtual(&virtual_of("    failurecount=4\n    rise=2\n")),
        Thresholds { fall: 4, rise: 2 }
    );
}

#[test]
fn up_reals_are_entered_with_configured_weight_and_mapped_port() {
    let v = virtual_of("");
    let dests = desired_dests(&v, &[Health::Up, Health::Up], |_| false, false);
    let summary: Vec<_> = dests
        .iter()
        .map(|d| (d.addr.to_string(), d.port, d.weight, d.fwd))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("10.0.0.1".to_owned(), 80, 5, ForwardMethod::Route),
            ("10.0.0.2".to_owned(), 80, 3, ForwardMethod::Masq),
        ]
    );
}

/// T25: quiescent → weight 0; the fallback is only ever at weight 1.
#[test]
fn t25_quiescent_sets_weight_zero_and_never_quiesces_the_fallback() {
    let v = virtual_of("    quiescent=yes\n");
    let dests = desired_dests(&v, &[Health::Down, Health::Up], |_| true, false);
    assert_eq!(
        dests.iter().map(|d| d.weight).collect::<Vec<_>>(),
        vec![0, 3]
    );
    // A quiesced real missing from the kernel is only re-added with readdquiescent.
    let missing = desired_dests(&v, &[Health::Down, Health::Up], |_| false, false);
    assert_eq!(missing.len(), 1);
    let readded = desired_dests(&v, &[Health::Down, Health::Up], |_| false, true);
    assert_eq!(readded.len(), 2);
    // All down: quiesced reals stay at 0 and the fallback comes in at weight 1.
    let all_down = desired_dests(&v, &[Health::Down, Health::Down], |_| true, false);
    assert_eq!(
        all_down.iter().map(|d| d.weight).collect::<Vec<_>>(),
        vec![0, 0, 1]
    );
}

/// T26: fallback at weight 1 only while no real is up; fallbackcommand start/stop only on changes.
#[test]
fn t26_fallback_only_while_no_real_is_up_and_the_command_runs_on_changes() {
    let v = virtual_of("");
    let none_up = desired_dests(&v, &[Health::Down, Health::Down], |_| true, false);
    assert_eq!(none_up.len(), 1);
    assert_eq!(
        (
            none_up[0].addr.to_string(),
            none_up[0].port,
            none_up[0].weight
        ),
        ("127.0.0.1".to_owned(), 80, 1)
    );
    let one_up = desired_dests(&v, &[Health::Down, Health::Up], |_| true, false);
    assert!(one_up.iter().all(|d| d.addr.to_string() != "127.0.0.1"));

    assert_eq!(fallback_command_arg(false, None), Some("start"));
    assert_eq!(fallback_command_arg(false, Some("start")), None);
    assert_eq!(fallback_command_arg(true, Some("start")), Some("stop"));
    assert_eq!(fallback_command_arg(true, Some("stop")), None);
}

#[test]
fn a_local_fault_keeps_the_state_and_the_counts() {
    let t = Thresholds { fall: 2, rise: 2 };
    let mut r = RealHealth::new(Health::Up);
    assert_eq!(
        r.observe(&Outcome::Down("refused".into()), t),
        Event::SoftFailure { count: 1, fall: 2 }
    );
    let fault = Outcome::LocalFault("connect: too many open files".into());
    for _ in 0..5 {
        assert_eq!(r.observe(&fault, t), Event::Unchanged);
    }
    assert_eq!((r.health, r.failures), (Health::Up, 1));
    assert_eq!(
        r.observe(&Outcome::Down("refused".into()), t),
        Event::WentDown
    );
}
