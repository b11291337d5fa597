//! Reals whose checkers the virtual's one check cannot run carry their own.

use std::time::Duration;

use crate::health::config::{CheckType, Config, RealCheck};
use crate::health::keepalived::tests::{FILE, clean};
use crate::health::keepalived::to_daemon::to_daemon;

#[track_caller]
fn mapped(text: &str) -> Config {
    match to_daemon(FILE, &clean(text)) {
        Ok(c) => c,
        Err(refusals) => panic!("refused: {refusals:#?}"),
    }
}

const MIXED: &str = "\
virtual_server 192.0.2.10 80 {
    delay_loop 10
    lb_algo rr
    lb_kind DR
    protocol TCP
    alpha
    real_server 10.0.0.11 80 {
        TCP_CHECK {
            connect_timeout 3
            retry 2
            delay_before_retry 4
        }
        HTTP_GET {
            url {
                path /health
            }
            connect_port 8080
            delay_loop 5
        }
    }
    real_server 10.0.0.12 80 {
        TCP_CHECK {
            connect_port 81
        }
    }
    real_server 10.0.0.13 80 {
    }
}
";

#[test]
fn several_and_differing_checkers_become_checks_of_each_real() {
    let c = mapped(MIXED);
    let v = &c.virtuals[0];
    // The virtual's own check is keepalived's for a real without checkers: always up.
    assert_eq!(v.check.check_type, CheckType::On);
    assert_eq!(v.start_up, Some(true));
    assert_eq!(v.keepalived_http, None);
    // Drift repair on the shortest delay_loop of the checkers.
    assert_eq!(v.check_interval, 5);
    assert_eq!(c.globals.check_interval, 5);
    let [checked, other, unchecked] = &v.reals[..] else {
        panic!("three reals: {:#?}", v.reals)
    };
    let [tcp, http] = &checked.checks[..] else {
        panic!("two checks: {:#?}", checked.checks)
    };
    let want_tcp = RealCheck {
        check: tcp.check.clone(),
        check_port: Some(80),
        check_interval: 10,
        failure_count: 3,
        retry_delay: Some(Duration::from_secs(4)),
        keepalived_http: None,
        // alpha is inherited from the virtual server by each checker.
        start_up: Some(false),
    };
    assert_eq!(*tcp, want_tcp);
    assert_eq!(tcp.check.check_type, CheckType::Connect);
    assert_eq!(tcp.check.check_timeout, 3);
    assert_eq!(http.check_port, Some(8080));
    assert_eq!(http.check_interval, 5);
    assert_eq!(http.start_up, Some(false));
    let k = http
        .keepalived_http
        .as_ref()
        .expect("keepalived's HTTP checker");
    assert_eq!(k.urls[0].path, "/health");
    assert!(k.alpha);
    // One checker that differs from the others' is a check of its own too.
    assert_eq!(other.checks.len(), 1);
    assert_eq!(other.checks[0].check_port, Some(81));
    assert_eq!(other.checks[0].failure_count, 2, "retry 1 by default");
    // A real without checkers beside checked ones keeps the virtual's check: keepalived
    // never counts a failed checker for it, so it stays in service.
    assert!(unchecked.checks.is_empty());
}

#[test]
fn agreeing_single_checkers_stay_the_virtual_s_one_check() {
    let c = mapped(
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n        }\n    }\n    real_server 10.0.0.12 80 {\n        TCP_CHECK {\n            connect_port 81\n        }\n    }\n}\n",
    );
    let v = &c.virtuals[0];
    assert_eq!(v.check.check_type, CheckType::Connect);
    assert!(v.reals.iter().all(|r| r.checks.is_empty()));
    assert_eq!(v.reals[1].check_port, Some(81));
}

#[test]
fn a_refused_checker_among_several_refuses_the_file() {
    let text = "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n        }\n        SMTP_CHECK {\n        }\n    }\n}\n";
    let refusals = to_daemon(FILE, &clean(text)).expect_err("refused");
    let lines: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [format!(
            "{FILE}:8: SMTP_CHECK is not supported by lvsctl health yet"
        )]
    );
}
