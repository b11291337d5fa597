use super::*;
use crate::health::config::{StaticEnv, parse_config};

const CF: &str = "checkinterval=1\nfailurecount=2\nquiescent=no\nvirtual=10.0.0.1:80\n\treal=10.1.0.1:80 masq 3\n\treal=10.1.0.2:80 masq 3\n\tfallback=127.0.0.1:80 masq\n\tchecktype=connect\n\tfallbackcommand=/bin/fb\n";

fn config(text: &str) -> Config {
    parse_config("t.cf", text, &StaticEnv::default()).unwrap().0
}

fn report(reg: &Registry, i: usize, outcome: Outcome) -> Report {
    let vs = &reg.virtuals[0];
    Report {
        id: (vs.v.key, vs.reals[i].dest.key()),
        generation: vs.reals[i].generation,
        outcome,
        maintenance: false,
        at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_millis(3),
    }
}

#[test]
fn first_result_decides_then_failurecount_applies() {
    let mut reg = Registry::build(&config(CF), None);
    let r = report(&reg, 0, Outcome::Up);
    assert_eq!(reg.record(&r), (true, vec![]));
    let down = report(&reg, 0, Outcome::Down("refused".into()));
    let (changed, lines) = reg.record(&down);
    assert!(!changed);
    assert_eq!(
        lines,
        ["Soft failure real server: 10.1.0.1:80 (10.0.0.1:80) failure 1/2"]
    );
    assert!(reg.record(&down).0);
}

#[test]
fn fallback_command_runs_on_transitions_only_once_settled() {
    let mut reg = Registry::build(&config(CF), None);
    let d0 = report(&reg, 0, Outcome::Down("x".into()));
    reg.record(&d0);
    assert!(
        reg.due_fallback_commands().is_empty(),
        "one real still pending"
    );
    let d1 = report(&reg, 1, Outcome::Down("x".into()));
    reg.record(&d1);
    assert_eq!(
        reg.due_fallback_commands(),
        ["/bin/fb start 10.0.0.1:80 tcp"]
    );
    assert!(reg.due_fallback_commands().is_empty());
    let up = report(&reg, 1, Outcome::Up);
    reg.record(&up);
    assert_eq!(
        reg.due_fallback_commands(),
        ["/bin/fb stop 10.0.0.1:80 tcp"]
    );
}

#[test]
fn reload_keeps_state_of_unchanged_checks_only() {
    let mut reg = Registry::build(&config(CF), None);
    for i in 0..2 {
        let r = report(&reg, i, Outcome::Up);
        reg.record(&r);
    }
    let changed = CF.replace("10.1.0.2:80 masq 3", "10.1.0.2:80 masq 4");
    let next = Registry::build(&config(&format!("# moved\n{changed}")), Some(&reg));
    assert!(next.virtuals[0].reals[0].health.is_some());
    assert!(next.virtuals[0].reals[1].health.is_none());
}
