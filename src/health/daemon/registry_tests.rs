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
        checker: 0,
        generation: vs.reals[i].generation,
        outcome,
        maintenance: false,
        at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_millis(3),
        verdict: None,
        weight: None,
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
        ["Soft failure real server: 10.1.0.1:80 (tcp:10.0.0.1:80) failure 1/2"]
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

/// The AddDest ops a cycle would send for the registry's desired state against `live`.
fn adds(reg: &Registry, live: &[crate::ipvs::model::ServiceEntry]) -> Vec<String> {
    use crate::ipvs::backend::Op;
    crate::health::daemon::plan::plan(&reg.desired(Vec::new()), live)
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::AddDest(_, d) => Some(format!("{} w{}", d.key(), d.weight)),
            _ => None,
        })
        .collect()
}

fn live_of(reg: &Registry) -> Vec<crate::ipvs::model::ServiceEntry> {
    let mut fake = crate::ipvs::fake::FakeBackend::new();
    crate::health::daemon::kernel::sync_once(&mut fake, &reg.desired(Vec::new()));
    crate::ipvs::backend::Backend::entries(&mut fake).unwrap()
}

const NO_FALLBACK: &str =
    "checkinterval=1\nvirtual=10.0.0.1:80\n\treal=10.1.0.1:80 masq 3\n\tchecktype=connect\n";

#[test]
fn a_new_real_is_added_only_after_its_first_passing_check_at_start_and_reload() {
    let mut reg = Registry::build(&config(NO_FALLBACK), None);
    assert!(
        adds(&reg, &[]).is_empty(),
        "nothing before the first result"
    );
    let down = report(&reg, 0, Outcome::Down("refused".into()));
    reg.record(&down);
    assert!(
        adds(&reg, &[]).is_empty(),
        "a failed first check adds nothing"
    );
    let up = report(&reg, 0, Outcome::Up);
    reg.record(&up);
    assert_eq!(adds(&reg, &[]), ["10.1.0.1:80 w3"]);

    // Reload with a second real: the first keeps its state, the new one waits for a pass.
    let live = live_of(&reg);
    let two = NO_FALLBACK.replace("\tchecktype", "\treal=10.1.0.2:80 masq 5\n\tchecktype");
    let mut reg = Registry::build(&config(&two), Some(&reg));
    assert!(
        adds(&reg, &live).is_empty(),
        "no blip for the unchecked real"
    );
    assert!(!reg.settled());
    let down = report(&reg, 1, Outcome::Down("refused".into()));
    reg.record(&down);
    assert!(adds(&reg, &live).is_empty());
    assert!(reg.settled());
    let up = report(&reg, 1, Outcome::Up);
    reg.record(&up);
    assert_eq!(adds(&reg, &live), ["10.1.0.2:80 w5"]);
}

#[test]
fn rise_holds_a_real_back_until_enough_passes_in_a_row() {
    let cf = NO_FALLBACK.replace(
        "checkinterval=1\n",
        "checkinterval=1\nrise=3\nfailurecount=2\n",
    );
    let mut reg = Registry::build(&config(&cf), None);
    let up = report(&reg, 0, Outcome::Up);
    let down = report(&reg, 0, Outcome::Down("refused".into()));
    reg.record(&up);
    assert!(adds(&reg, &[]).is_empty(), "1 of 3");
    assert_eq!(
        reg.record(&up),
        (
            false,
            vec!["Rising real server: 10.1.0.1:80 (tcp:10.0.0.1:80) success 2/3".to_owned()]
        )
    );
    reg.record(&down);
    reg.record(&up);
    reg.record(&up);
    assert!(adds(&reg, &[]).is_empty(), "a failure restarted the count");
    assert!(reg.record(&up).0, "third pass in a row");
    assert_eq!(adds(&reg, &[]), ["10.1.0.1:80 w3"]);
    // Going down still follows failurecount.
    assert!(!reg.record(&down).0);
    assert!(reg.record(&down).0);
}

#[test]
fn with_rise_a_real_already_serving_at_start_stays_while_it_earns_its_passes() {
    let cf = NO_FALLBACK.replace("checkinterval=1\n", "checkinterval=1\nrise=3\n");
    // The table as a previous daemon (cleanstop=no) left it: the real in at full weight.
    let mut serving = Registry::build(&config(&cf), None);
    for _ in 0..3 {
        let up = report(&serving, 0, Outcome::Up);
        serving.record(&up);
    }
    let live = live_of(&serving);
    assert_eq!(live[0].dests.len(), 1);

    let mut reg = Registry::build(&config(&cf), None);
    let up = report(&reg, 0, Outcome::Up);
    let (changed, lines) = reg.record(&up);
    assert!(!changed);
    assert_eq!(
        lines,
        ["Rising real server: 10.1.0.1:80 (tcp:10.0.0.1:80) success 1/3"]
    );
    let ops = crate::health::daemon::plan::plan(&reg.desired(Vec::new()), &live).ops;
    assert!(
        ops.is_empty(),
        "undecided: the serving real is left alone, got {ops:?}"
    );
    reg.record(&up);
    assert!(reg.record(&up).0, "decided up on the third pass");
    // A failure while undecided decides at once (it is not a soft failure).
    let mut reg = Registry::build(&config(&cf), None);
    let up = report(&reg, 0, Outcome::Up);
    let down = report(&reg, 0, Outcome::Down("refused".into()));
    reg.record(&up);
    assert!(reg.record(&down).0);
    let ops = crate::health::daemon::plan::plan(&reg.desired(Vec::new()), &live).ops;
    assert_eq!(ops.len(), 1, "the failing real is removed: {ops:?}");
}

#[test]
fn fallbackcommand_arguments_for_every_kind_of_virtual() {
    let cf = "fallbackcommand=/bin/fb\nvirtual=10.0.0.1:53\n\treal=10.1.0.1:53 masq\n\tchecktype=connect\n\n\
              virtual6=[2001:db8::10]:80\n\treal6=[2001:db8::1]:80 masq\n\tchecktype=connect\n\n\
              virtual=7\n\treal=10.1.0.1 gate\n\tchecktype=connect\n";
    let c = config(cf);
    let args: Vec<String> = c.virtuals.iter().map(fallback_command_target).collect();
    assert_eq!(args, ["10.0.0.1:53 udp", "[2001:db8::10]:80 tcp", ":0 fwm"]);
    // The global fallbackcommand applies to every virtual, on its own transitions.
    let mut reg = Registry::build(&c, None);
    for vi in 0..3 {
        let vs = &reg.virtuals[vi];
        let r = Report {
            id: (vs.v.key, vs.reals[0].dest.key()),
            checker: 0,
            generation: vs.reals[0].generation,
            outcome: Outcome::Down("x".into()),
            maintenance: false,
            at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            verdict: None,
            weight: None,
        };
        reg.record(&r);
    }
    assert_eq!(
        reg.due_fallback_commands(),
        [
            "/bin/fb start 10.0.0.1:53 udp",
            "/bin/fb start [2001:db8::10]:80 tcp",
            "/bin/fb start :0 fwm"
        ]
    );
}

/// `_service_up`/`_service_down` name the real by its configured port and the virtual by
/// `get_virtual_id_str` (`<proto>:<vip:port>`, `fwm:<mark>`); `purge_service` at stop uses
/// the configured port too.
#[test]
fn soft_failure_lines_use_ldirectords_real_and_virtual_ids() {
    let cf = "checkinterval=1\nfailurecount=3\ncleanstop=yes\n\
virtual=10.0.0.1:80\n\treal=10.1.0.1:8080 gate\n\tchecktype=connect\n\
virtual=7\n\treal=10.1.0.2:80 masq\n\tchecktype=connect\n\tprotocol=fwm\n\
virtual6=[2001:db8::1]:53\n\treal6=[2001:db8::2]:53 masq\n\tprotocol=udp\n\tchecktype=connect\n";
    let mut reg = Registry::build(&config(cf), None);
    let mut lines = Vec::new();
    for vi in 0..3 {
        let vs = &reg.virtuals[vi];
        let id = (vs.v.key, vs.reals[0].dest.key());
        let generation = vs.reals[0].generation;
        for outcome in [Outcome::Up, Outcome::Down("x".into()), Outcome::Up] {
            let r = Report {
                id,
                checker: 0,
                generation,
                outcome,
                maintenance: false,
                at: SystemTime::UNIX_EPOCH,
                duration: Duration::ZERO,
                verdict: None,
                weight: None,
            };
            lines.extend(reg.record(&r).1);
        }
    }
    assert_eq!(
        lines,
        [
            "Soft failure real server: 10.1.0.1:8080 (tcp:10.0.0.1:80) failure 1/3",
            "Resetting soft failure count: 10.1.0.1:8080 (tcp:10.0.0.1:80)",
            "Soft failure real server: 10.1.0.2:80 (fwm:7) failure 1/3",
            "Resetting soft failure count: 10.1.0.2:80 (fwm:7)",
            "Soft failure real server: [2001:db8::2]:53 (udp:[2001:db8::1]:53) failure 1/3",
            "Resetting soft failure count: [2001:db8::2]:53 (udp:[2001:db8::1]:53)",
        ]
    );
    assert_eq!(
        reg.stop_purges(|_| true)[0],
        "Purged real server (stop): 10.1.0.1:8080 (10.0.0.1:80)"
    );
}

#[test]
fn a_local_fault_leaves_an_undecided_real_undecided() {
    let mut reg = Registry::build(&config(CF), None);
    let fault = report(
        &reg,
        0,
        Outcome::LocalFault("connect: too many open files".into()),
    );
    assert_eq!(
        reg.record(&fault),
        (
            false,
            vec![
                "Real server not checked: 10.1.0.1:80 (tcp:10.0.0.1:80): connect: too many open files"
                    .to_owned()
            ]
        )
    );
    for _ in 0..2 {
        assert_eq!(reg.record(&fault), (false, vec![]));
    }
    assert!(reg.virtuals[0].reals[0].health.is_none());
    let up = report(&reg, 0, Outcome::Up);
    assert_eq!(
        reg.record(&up),
        (
            true,
            vec!["Real server checked again: 10.1.0.1:80 (tcp:10.0.0.1:80)".to_owned()]
        )
    );
}

/// A decided real keeps its state and counts through a run of local faults; the log gets
/// one line when the run starts and one when it ends, the status the reason meanwhile.
#[test]
fn a_run_of_local_faults_is_logged_once_and_shown_as_not_checked() {
    let mut reg = Registry::build(&config(CF), None);
    let up = report(&reg, 0, Outcome::Up);
    reg.record(&up);
    let before = reg.virtuals[0].reals[0].health;
    let fault = report(&reg, 0, Outcome::LocalFault("no ports".into()));
    let mut lines = Vec::new();
    for _ in 0..5 {
        let (changed, l) = reg.record(&fault);
        assert!(!changed);
        lines.extend(l);
    }
    assert_eq!(
        lines,
        ["Real server not checked: 10.1.0.1:80 (tcp:10.0.0.1:80): no ports"]
    );
    let slot = &reg.virtuals[0].reals[0];
    assert_eq!(slot.health, before, "state and counts untouched");
    assert_eq!(
        slot.last.as_ref().and_then(|l| l.reason.as_deref()),
        Some("not checked: no ports")
    );
    let down = report(&reg, 0, Outcome::Down("refused".into()));
    let (_, l) = reg.record(&down);
    assert_eq!(
        l,
        [
            "Real server checked again: 10.1.0.1:80 (tcp:10.0.0.1:80)",
            "Soft failure real server: 10.1.0.1:80 (tcp:10.0.0.1:80) failure 1/2"
        ]
    );
}

/// Under keepalived's HTTP rules only the checker's verdicts move a real: a failed result
/// without one (a retry pending) or a pass without one (a failed url forgotten) does not,
/// and no soft failure is logged.
#[test]
fn keepalived_http_reals_follow_the_verdicts_only() {
    use crate::health::state::keepalived_http::Verdict;
    let mut reg = Registry::build(&config(CF), None);
    reg.virtuals[0].v.keepalived_http = Some(crate::health::config::KeepalivedHttp {
        retry: 1,
        delay_before_retry: Duration::from_secs(3),
        alpha: false,
        fast_recovery: false,
        tls: false,
        protocol: crate::health::config::KeepalivedProtocol::Http10,
        urls: vec![crate::health::config::KeepalivedUrl {
            path: "/".into(),
            status: vec![(200, 299)],
            digest: None,
            virtualhost: None,
            sni: None,
            regex: None,
        }],
        client_cert: None,
    });
    let with = |reg: &Registry, outcome: Outcome, verdict: Option<Verdict>| Report {
        verdict,
        ..report(reg, 0, outcome)
    };
    let up = with(&reg, Outcome::Up, Some(Verdict::Up));
    assert_eq!(reg.record(&up), (true, vec![]));
    let failed = with(&reg, Outcome::Down("HTTP status code 404".into()), None);
    assert_eq!(reg.record(&failed), (false, vec![]));
    assert_eq!(reg.record(&failed), (false, vec![]));
    let down = with(
        &reg,
        Outcome::Down("HTTP status code 404".into()),
        Some(Verdict::Down),
    );
    assert_eq!(reg.record(&down), (true, vec![]));
    let passed = with(&reg, Outcome::Up, None);
    assert_eq!(reg.record(&passed), (false, vec![]));
    assert_eq!(reg.record(&up), (true, vec![]));
    assert_eq!(reg.record(&up), (false, vec![]));
}

/// Under keepalived's one-shot checkers (here TCP_CHECK, `retry 2`) the checker's
/// verdicts move a real; the failures it retries while the real is in service are logged
/// as soft failures out of `retry` + 1, as the thresholds' are, and none is logged for a
/// failure that takes the real out at once (the first, see
/// crate::health::state::keepalived_epilog) or for the retries of a real already out.
#[test]
fn keepalived_tcp_reals_follow_the_verdicts_and_log_the_retries() {
    use crate::health::state::keepalived_http::Verdict;
    let mut c = config(CF);
    c.virtuals[0].failure_count = 3;
    c.virtuals[0].retry_delay = Some(Duration::from_secs(1));
    c.virtuals[0].start_up = Some(true);
    let mut reg = Registry::build(&c, None);
    let with = |reg: &Registry, outcome: Outcome, verdict: Option<Verdict>| Report {
        verdict,
        ..report(reg, 0, outcome)
    };
    let refused = || Outcome::Down("refused".into());
    let soft = |n: u32| {
        vec![format!(
            "Soft failure real server: 10.1.0.1:80 (tcp:10.0.0.1:80) failure {n}/3"
        )]
    };
    assert_eq!(
        reg.record(&with(&reg, refused(), Some(Verdict::Down))),
        (true, vec![])
    );
    assert_eq!(reg.record(&with(&reg, refused(), None)), (false, vec![]));
    assert_eq!(
        reg.record(&with(&reg, Outcome::Up, Some(Verdict::Up))),
        (true, vec![])
    );
    assert_eq!(reg.record(&with(&reg, refused(), None)), (false, soft(1)));
    assert_eq!(reg.record(&with(&reg, refused(), None)), (false, soft(2)));
    assert_eq!(
        reg.record(&with(&reg, Outcome::Up, None)),
        (
            false,
            vec!["Resetting soft failure count: 10.1.0.1:80 (tcp:10.0.0.1:80)".to_owned()]
        )
    );
    assert_eq!(reg.record(&with(&reg, refused(), None)), (false, soft(1)));
    assert_eq!(reg.record(&with(&reg, refused(), None)), (false, soft(2)));
    assert_eq!(
        reg.record(&with(&reg, refused(), Some(Verdict::Down))),
        (true, vec![])
    );
    assert_eq!(reg.record(&with(&reg, refused(), None)), (false, vec![]));
}
