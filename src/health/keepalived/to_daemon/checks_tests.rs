//! Reals whose checkers the virtual's one check cannot run carry their own.

use std::time::Duration;

use crate::health::config::{CheckType, RealCheck};
use crate::health::keepalived::tests::{FILE, clean};
use crate::health::keepalived::to_daemon::tests::mapped;
use crate::health::keepalived::to_daemon::to_daemon;

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
        connect_ip: None,
        bind: None,
        bind_device: None,
        mark: None,
        check_interval: 10,
        // warmup defaults to the checker's delay_loop.
        warmup: Duration::from_secs(10),
        failure_count: 3,
        retry_delay: Some(Duration::from_secs(4)),
        keepalived_http: None,
        keepalived_check: None,
        keepalived_misc: None,
        keepalived_file: None,
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

/// `connect_ip` and `bindto`/`bind_port` ride on the real's own check, so a virtual
/// whose checkers use them has no one check of its own; `bind_port` without `bindto`
/// binds nothing (keepalived binds only an address with a family, which only `bindto`
/// gives), and a `connect_ip` that is the real's own address is no route.
#[test]
fn connect_ip_and_bindto_become_the_real_s_check_route() {
    let c = mapped(
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n            connect_ip 10.1.0.11\n            connect_port 9000\n            bindto 10.1.0.1\n            bind_port 4000\n        }\n    }\n    real_server 10.0.0.12 80 {\n        TCP_CHECK {\n            connect_ip 10.0.0.12\n            bind_port 4001\n        }\n    }\n    real_server 10.0.0.13 80 {\n        TCP_CHECK {\n            bindto 10.1.0.1\n        }\n    }\n}\n",
    );
    let v = &c.virtuals[0];
    assert_eq!(
        v.check.check_type,
        CheckType::On,
        "no one check of the virtual"
    );
    let routes: Vec<_> = v
        .reals
        .iter()
        .map(|r| {
            let [check] = &r.checks[..] else {
                panic!("one check: {:#?}", r.checks)
            };
            (check.check_port, check.connect_ip, check.bind)
        })
        .collect();
    assert_eq!(
        routes,
        [
            (
                Some(9000),
                Some("10.1.0.11".parse().unwrap()),
                Some("10.1.0.1:4000".parse().unwrap())
            ),
            (Some(80), None, None),
            (Some(80), None, Some("10.1.0.1:0".parse().unwrap())),
        ]
    );
}

/// `bind_if` and `fwmark` ride on the real's own check too (a virtual whose checkers name
/// a device or a mark has no one check), and only there: a real without them binds to no
/// device and marks nothing, and so does `fwmark 0`, as in keepalived.
#[test]
fn bind_if_and_fwmark_become_the_real_s_check_device_and_mark() {
    let c = mapped(
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n            bind_if eth1\n            fwmark 7\n        }\n    }\n    real_server 10.0.0.12 80 {\n        TCP_CHECK {\n        }\n    }\n    real_server 10.0.0.13 80 {\n        TCP_CHECK {\n            fwmark 0\n        }\n    }\n}\n",
    );
    let v = &c.virtuals[0];
    assert_eq!(v.check.check_type, CheckType::On, "no one check");
    let sources: Vec<_> = v
        .reals
        .iter()
        .map(|r| (r.checks[0].bind_device.as_deref(), r.checks[0].mark))
        .collect();
    assert_eq!(
        sources,
        [(Some("eth1"), Some(7)), (None, None), (None, None)]
    );
}

/// Any `warmup` runs: the virtual's one check and each real's own check carry theirs
/// (0, the default delay_loop, or another value).
#[test]
fn warmup_of_any_value_is_carried_to_the_checks() {
    let one = mapped(
        "virtual_server 192.0.2.10 80 {\n    delay_loop 9\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n            warmup 3\n        }\n    }\n}\n",
    );
    let v = &one.virtuals[0];
    assert_eq!(v.check.check_type, CheckType::Connect);
    let k = v.keepalived.as_ref().expect("keepalived's rules");
    assert_eq!(k.warmup, Duration::from_secs(3));
    let own = mapped(MIXED);
    let warmups: Vec<Vec<Duration>> = own.virtuals[0]
        .reals
        .iter()
        .map(|r| r.checks.iter().map(|c| c.warmup).collect())
        .collect();
    let s = Duration::from_secs;
    assert_eq!(warmups, [vec![s(10), s(5)], vec![s(10)], vec![]]);
    assert_eq!(own.virtuals[0].keepalived.as_ref().unwrap().warmup, s(0));
}

#[test]
fn a_refused_checker_among_several_refuses_the_file() {
    let text = "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n        }\n        TCP_CHECK {\n            connect_timeout 1.5\n        }\n    }\n}\n";
    let refusals = to_daemon(&clean(text)).expect_err("refused");
    let lines: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [format!(
            "{FILE}:8: a connect_timeout that is not whole seconds is not supported by lvsctl health yet"
        )]
    );
}

fn with_script_user(user: &str, body: &str) -> String {
    format!(
        "global_defs {{\n    enable_script_security\n    script_user {user}\n}}\nvirtual_server 192.0.2.10 80 {{\n    delay_loop 7\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {{\n{body}    }}\n}}\n"
    )
}

#[test]
fn a_misc_check_is_a_check_of_its_own_running_the_script() {
    let c = mapped(&with_script_user(
        "keepalived_script",
        "        MISC_CHECK {\n            misc_path \"/usr/local/bin/check.sh 'a b' c\"\n        }\n",
    ));
    let v = &c.virtuals[0];
    assert_eq!(v.check.check_type, CheckType::On);
    let [check] = &v.reals[0].checks[..] else {
        panic!("one check: {:#?}", v.reals[0].checks)
    };
    assert_eq!(check.check.check_type, CheckType::External);
    assert_eq!(check.check_interval, 7);
    assert_eq!(check.start_up, Some(true));
    let m = check
        .keepalived_misc
        .as_ref()
        .expect("keepalived's MISC_CHECK");
    assert_eq!(m.argv, ["/usr/local/bin/check.sh", "a b", "c"]);
    assert_eq!(m.user, "keepalived_script");
    assert_eq!(m.group, None);
    // misc_timeout defaults to the virtual server's delay_loop, retry to 0 for
    // MISC_CHECK, delay_before_retry to 1 s.
    assert_eq!(m.timeout, Duration::from_secs(7));
    assert_eq!(m.retry, 0);
    assert_eq!(m.delay_before_retry, Duration::from_secs(1));
    assert!(!m.alpha);
}

#[test]
fn misc_dynamic_beside_a_sorry_server_and_scripts_run_as_root_are_refused() {
    let text = with_script_user(
        "root",
        "        MISC_CHECK {\n            misc_path /usr/local/bin/check.sh\n            misc_dynamic\n        }\n",
    )
    .replace("    protocol TCP\n", "    protocol TCP\n    sorry_server 10.0.0.99 80\n");
    let refusals = to_daemon(&clean(&text)).expect_err("refused");
    let lines: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            format!(
                "{FILE}:12: misc_dynamic beside a sorry_server or quorum_up/quorum_down is not supported by lvsctl health yet"
            ),
            format!(
                "{FILE}:12: a MISC_CHECK script run as root is not supported by lvsctl health yet"
            ),
        ]
    );
}

#[test]
fn misc_dynamic_is_carried_to_the_check() {
    let c = mapped(&with_script_user(
        "keepalived_script",
        "        MISC_CHECK {\n            misc_path /usr/local/bin/check.sh\n            misc_dynamic\n        }\n",
    ));
    let m = c.virtuals[0].reals[0].checks[0]
        .keepalived_misc
        .as_ref()
        .expect("keepalived's MISC_CHECK");
    assert!(m.dynamic);
}

#[test]
fn an_smtp_check_beside_a_tcp_check_is_a_real_s_own_check_with_its_exchange() {
    let c = mapped(
        "virtual_server 192.0.2.10 25 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 25 {\n        TCP_CHECK {\n        }\n        SMTP_CHECK {\n            connect_timeout 2\n            helo_name probe.example\n        }\n    }\n}\n",
    );
    let checks = &c.virtuals[0].reals[0].checks;
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].keepalived_check, None);
    assert_eq!(
        checks[1].keepalived_check,
        Some(crate::health::config::KeepalivedCheck::Smtp {
            helo_name: "probe.example".to_owned()
        })
    );
    // Six steps of connect_timeout for the run's deadline (`steps`).
    assert_eq!(checks[1].check.negotiate_timeout, 12);
}

/// FILE_CHECK is a real's own check following its track_file, with the FILE_CHECK's own
/// weight and direction, else the track_file's; beside a sorry server (whose quorum the
/// file's weight would move) it is refused, as is a track_file with `init_file`.
#[test]
fn a_file_check_follows_its_track_file() {
    use crate::health::config::KeepalivedFile;
    let text = |sorry: &str, init: &str| {
        format!(
            "track_file t {{\n    file /run/t\n    weight 4 reverse\n{init}}}\nvirtual_server 192.0.2.10 80 {{\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n{sorry}    real_server 10.0.0.11 80 {{\n        FILE_CHECK {{\n            track_file t\n        }}\n        FILE_CHECK {{\n            track_file t\n            weight 0\n        }}\n    }}\n}}\n"
        )
    };
    let c = mapped(&text("", ""));
    let v = &c.virtuals[0];
    assert_eq!(
        v.check.check_type,
        CheckType::On,
        "no one check of the virtual"
    );
    let files: Vec<_> = v.reals[0]
        .checks
        .iter()
        .map(|c| (c.keepalived_file.clone(), c.start_up, c.warmup))
        .collect();
    let file = |weight, reverse| {
        Some(KeepalivedFile {
            path: "/run/t".into(),
            weight,
            reverse,
        })
    };
    assert_eq!(
        files,
        [
            (file(4, true), Some(true), Duration::ZERO),
            (file(0, false), Some(true), Duration::ZERO),
        ]
    );
    let refusals = |t: &str| -> Vec<String> {
        to_daemon(&clean(t))
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        refusals(&text("    sorry_server 10.0.0.99 80\n", "")),
        [
            format!(
                "{FILE}:11: FILE_CHECK beside a sorry_server or quorum_up/quorum_down is not supported by lvsctl health yet"
            ),
            format!(
                "{FILE}:14: FILE_CHECK beside a sorry_server or quorum_up/quorum_down is not supported by lvsctl health yet"
            ),
        ]
    );
    assert_eq!(
        refusals(&text("", "    init_file 1\n")),
        [format!(
            "{FILE}:1: track_file with init_file is not supported by lvsctl health yet"
        )]
    );
}
