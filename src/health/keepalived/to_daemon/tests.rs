use std::time::Duration;

use super::*;
use crate::health::config::CheckType;
use crate::health::keepalived::tests::{FILE, clean, outcome};
use crate::ipvs::model::{Netmask, Protocol, ServiceKey};

/// `text` mapped to the daemon's configuration; it must not be refused. (Shared by the
/// to_daemon test modules.)
#[track_caller]
pub(super) fn mapped(text: &str) -> Config {
    match to_daemon(&clean(text)) {
        Ok(c) => c,
        Err(refusals) => panic!("refused: {refusals:#?}"),
    }
}

/// The refusals of a file keepalived accepts, as `LINE: text`.
#[track_caller]
pub(super) fn refused(text: &str) -> Vec<String> {
    let o = outcome(text);
    let config = o.config.expect("a configuration");
    let refusals = to_daemon(&config).expect_err("refused");
    refusals
        .iter()
        .map(|r| {
            let full = r.to_string();
            full.strip_prefix(&format!("{FILE}:"))
                .unwrap_or(&full)
                .trim_start()
                .to_owned()
        })
        .collect()
}

const WEB: &str = "\
virtual_server 192.0.2.10 80 {
    delay_loop 6
    lb_algo wrr
    lb_kind NAT
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    protocol TCP
    real_server 10.0.0.11 8080 {
        weight 3
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 4
            retry 2
            delay_before_retry 2
        }
    }
    real_server 10.0.0.12 8080 {
        weight 1
        inhibit_on_failure
        TCP_CHECK {
            connect_port 8081
            connect_timeout 4
            retry 2
            delay_before_retry 2
        }
    }
}
virtual_server fwmark 7 {
    delay_loop 10
    lb_algo sh
    lb_kind DR
    sh-port
    alpha
    real_server 10.0.0.21 0 {
        TCP_CHECK {
            connect_port 443
        }
    }
}
";

#[test]
fn a_web_and_a_fwmark_service_map_onto_the_daemon_config() {
    let c = mapped(WEB);
    assert_eq!(c.virtuals.len(), 2);
    let web = &c.virtuals[0];
    assert_eq!(
        web.key,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "192.0.2.10".parse().unwrap(),
            port: 80
        }
    );
    assert_eq!(web.line, 1);
    assert_eq!(web.scheduler, "wrr");
    assert_eq!(web.persistent, Some(300));
    assert_eq!(
        web.netmask,
        Some(Netmask::V4("255.255.255.0".parse().unwrap()))
    );
    assert_eq!(web.check.check_type, CheckType::Connect);
    assert_eq!(
        (web.check.check_timeout, web.check.negotiate_timeout),
        (4, 4)
    );
    assert_eq!(web.check_interval, 6);
    // retry 2: down at the third failure in a row, the retries 2 s apart.
    assert_eq!(web.failure_count, 3);
    assert_eq!(web.retry_delay, Some(Duration::from_secs(2)));
    assert_eq!(web.rise, 1);
    // inhibit_on_failure: weight 0 instead of removal; no alpha: in service at start.
    assert!(web.quiescent);
    assert_eq!(web.start_up, Some(true));
    assert!(web.fallback.is_none());
    let reals: Vec<_> = web
        .reals
        .iter()
        .map(|r| {
            (
                r.addr.to_string(),
                r.port,
                r.forward,
                r.weight,
                r.check_port,
            )
        })
        .collect();
    assert_eq!(
        reals,
        [
            ("10.0.0.11".into(), 8080, Forward::Masq, 3, Some(8080)),
            ("10.0.0.12".into(), 8080, Forward::Masq, 1, Some(8081)),
        ]
    );
    let mark = &c.virtuals[1];
    assert!(matches!(mark.key, ServiceKey::Fwmark { mark: 7, .. }));
    assert_eq!(mark.sched_flags.as_deref(), Some("sh-port"));
    assert_eq!(mark.check.check_type, CheckType::Connect);
    // keepalived's defaults: connect_timeout 5, retry 1, delay_before_retry 1.
    assert_eq!(mark.check.check_timeout, 5);
    assert_eq!(mark.failure_count, 2);
    assert_eq!(mark.retry_delay, Some(Duration::from_secs(1)));
    assert_eq!(mark.start_up, Some(false), "alpha");
    assert!(!mark.quiescent);
    assert_eq!(mark.reals[0].forward, Forward::Gate);
    assert_eq!(mark.reals[0].check_port, Some(443));
    // The whole file: syslog as keepalived, each virtual on its own delay_loop, drift
    // repaired on the shortest.
    assert_eq!(c.globals.logfile, LogTarget::Syslog("daemon".into()));
    assert!(c.globals.fork && c.globals.readd_quiescent && c.globals.cleanstop);
    assert_eq!(c.globals.check_interval, 6);
    assert!(c.globals.email.alert.is_empty());
}

#[test]
fn reals_without_checkers_are_always_in_service() {
    let c = mapped(
        "virtual_server 192.0.2.10 53 {\n    lb_algo rr\n    lb_kind DR\n    protocol UDP\n    ops\n    real_server 10.0.0.11 53 {\n    }\n}\n",
    );
    let v = &c.virtuals[0];
    assert_eq!(v.check.check_type, CheckType::On);
    assert_eq!(v.start_up, Some(true));
    assert!(v.ops);
}

fn vs_with(real_body: &str) -> String {
    format!(
        "virtual_server 192.0.2.10 80 {{\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 80 {{\n{real_body}    }}\n}}\n"
    )
}

#[test]
fn what_keepalived_does_otherwise_is_refused_with_its_line() {
    let cases: &[(&str, &[&str])] = &[
        (
            "        HTTP_GET {\n            url {\n                path /\n                regex ok.*\n            }\n        }\n",
            &[
                "6: a regex other than a literal (without \\^$.[|()?*+{) in an HTTP_GET url is not supported by lvsctl health yet",
            ],
        ),
        (
            "        TCP_CHECK {\n            connect_timeout 1.5\n        }\n",
            &[
                "6: a connect_timeout that is not whole seconds is not supported by lvsctl health yet",
            ],
        ),
    ];
    for (body, want) in cases {
        assert_eq!(refused(&vs_with(body)), *want, "{body}");
    }
}

#[test]
fn virtual_server_settings_without_keepalived_semantics_are_refused() {
    let text = "\
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    quorum 2
    sorry_server 10.0.0.99 80
    omega
    quorum_up /usr/local/bin/notify.sh
    real_server 10.0.0.11 80 {
        weight 2
    }
}
virtual_server 192.0.2.11 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    persistence_engine sip
    real_server 10.0.0.11 80 {
    }
}
";
    let want = ["13: persistence_engine is not supported by lvsctl health yet"];
    assert_eq!(refused(text), want);
}

/// Checkers that differ, and a real without checkers beside checked ones, run (each real
/// with checks of its own: `checks_tests`), and each real keeps its own
/// `inhibit_on_failure`, as in keepalived.
#[test]
fn inhibit_on_failure_is_each_real_s_own() {
    let text = "\
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.0.11 80 {
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 3
        }
    }
    real_server 10.0.0.12 80 {
        TCP_CHECK {
            connect_timeout 4
        }
    }
    real_server 10.0.0.13 80 {
    }
}
";
    let c = mapped(text);
    let v = &c.virtuals[0];
    let inhibits: Vec<_> = v.reals.iter().map(|r| (r.inhibit, v.inhibits(r))).collect();
    assert_eq!(
        inhibits,
        [
            (Some(true), true),
            (Some(false), false),
            (Some(false), false)
        ]
    );
}

#[test]
fn whole_table_settings_reach_the_daemon() {
    let check = || vs_with("        TCP_CHECK {\n        }\n");
    let c = mapped(&format!(
        "global_defs {{\n    lvs_flush\n    lvs_flush_onstop\n    lvs_timeouts tcp 900 udp 60\n}}\n{}",
        check()
    ));
    let t = c.globals.keepalived_table;
    assert!(t.flush_at_start && t.flush_at_stop);
    assert_eq!(
        (t.timeouts.tcp, t.timeouts.tcp_fin, t.timeouts.udp),
        (900, 0, 60)
    );
    // Either flush runs omega's quorum_down only at stop.
    assert!(c.virtuals[0].keepalived.as_ref().unwrap().flush_on_stop);
    // With VS only the configured services are deleted, as the daemon does anyway.
    let c = mapped(&format!(
        "global_defs {{\n    lvs_flush_onstop VS\n}}\n{}",
        check()
    ));
    assert!(c.virtuals[0].keepalived.as_ref().unwrap().flush_on_stop);
    assert_eq!(
        c.globals.keepalived_table,
        crate::health::config::KeepalivedTable::default()
    );
    let c = mapped(&check());
    assert!(!c.virtuals[0].keepalived.as_ref().unwrap().flush_on_stop);
}

#[test]
fn quorum_and_hysteresis_reach_the_daemon() {
    let c = mapped(
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    quorum 3\n    hysteresis 1\n    sorry_server 10.0.0.99 8080\n    real_server 10.0.0.11 80 {\n        weight 3\n        TCP_CHECK {\n        }\n    }\n    real_server 10.0.0.12 80 {\n        weight 0\n        TCP_CHECK {\n        }\n    }\n}\n",
    );
    assert_eq!(
        c.virtuals[0]
            .keepalived
            .as_ref()
            .map(|k| (k.quorum, k.hysteresis, k.sorry_inhibit)),
        Some((3, 1, false))
    );
    assert!(c.virtuals[0].fallback.is_some());
    let c = mapped(&vs_with("        TCP_CHECK {\n        }\n"));
    assert_eq!(
        c.virtuals[0]
            .keepalived
            .as_ref()
            .map(|k| (k.quorum, k.hysteresis, k.sorry_inhibit)),
        Some((1, 0, false))
    );
}

#[test]
fn a_sorry_server_is_the_fallback_of_the_default_quorum() {
    let c = mapped(
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    sorry_server 10.0.0.99 8080\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n        }\n    }\n}\n",
    );
    let f = c.virtuals[0].fallback.as_ref().unwrap();
    assert_eq!(
        (f.addr.to_string(), f.port, f.forward, f.line),
        ("10.0.0.99".into(), 8080, Forward::Masq, 1)
    );
    let text = "\
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    sorry_server 10.0.0.11 81
    sorry_server_inhibit
    real_server 10.0.0.11 80 {
        TCP_CHECK {
        }
    }
    real_server 10.0.0.12 80 {
        weight 0
        TCP_CHECK {
        }
    }
}
";
    // keepalived puts a DR sorry server on the virtual's port, as it does a DR real.
    assert_eq!(
        refused(text),
        ["1: a sorry_server that is also a real_server is not supported by lvsctl health yet",]
    );
    let nat_without_port = "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    sorry_server 10.0.0.99 0\n    real_server 10.0.0.11 80 {\n        TCP_CHECK {\n        }\n    }\n}\n";
    assert_eq!(
        refused(nat_without_port),
        [
            "1: a sorry_server port other than the virtual server's (but with NAT) is not supported by lvsctl health yet"
        ]
    );
}

/// HTTP_GET's url, status codes, digest, Host and protocol reach the daemon's keepalived
/// HTTP checker; its timings stay keepalived's (delay_before_retry 3 s by default).
#[test]
fn an_http_get_maps_onto_keepalived_s_http_checker() {
    use crate::health::config::{KeepalivedHttp, KeepalivedProtocol, KeepalivedUrl};
    let text = "\
virtual_server 192.0.2.10 80 {
    delay_loop 5
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.11 8080 {
        HTTP_GET {
            url {
                path /health
                digest 0123456789abcdef0123456789abcdef
                status_code 200 404
                virtualhost www.example
            }
            http_protocol 1.1
            connect_timeout 2
            retry 2
        }
    }
}
";
    let c = mapped(text);
    let v = &c.virtuals[0];
    assert_eq!(v.check.check_timeout, 2);
    assert_eq!(v.check_interval, 5);
    assert_eq!(v.start_up, Some(true));
    assert_eq!(
        v.keepalived_http,
        Some(KeepalivedHttp {
            retry: 2,
            delay_before_retry: Duration::from_secs(3),
            alpha: false,
            fast_recovery: false,
            tls: false,
            protocol: KeepalivedProtocol::Http11,
            urls: vec![KeepalivedUrl {
                path: "/health".into(),
                status: vec![(200, 200), (404, 404)],
                digest: Some([
                    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89,
                    0xab, 0xcd, 0xef
                ]),
                virtualhost: Some("www.example".into()),
                sni: None,
                regex: None,
            }],
            client_cert: None,
        })
    );
}

/// Scripts named by absolute path run; keepalived's PATH search for a bare name is not
/// reproduced, and the fifos and rs_init_notifies keepalived would also notify through
/// are refused.
#[test]
fn notify_scripts_run_when_named_by_absolute_path() {
    let text = "\
global_defs {
    enable_script_security
    rs_init_notifies
    lvs_notify_fifo /run/ka.fifo
}
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    quorum_down notify.sh
    real_server 10.0.0.11 80 {
        notify_up \"/usr/local/bin/notify.sh up 'a b'\"
        notify_down notify.sh
    }
}
";
    let env = crate::health::keepalived::tests::env().script("notify.sh");
    let read = crate::health::keepalived::read(
        FILE,
        text,
        &env,
        &crate::health::keepalived::Options::default(),
    );
    let refusals = to_daemon(&read.config.expect("a configuration")).expect_err("refused");
    let lines: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            format!("{FILE}:3: rs_init_notifies is not supported by lvsctl health yet"),
            format!("{FILE}:4: lvs_notify_fifo is not supported by lvsctl health yet"),
            format!(
                "{FILE}:6: a quorum_down script not named by absolute path is not supported by lvsctl health yet"
            ),
            format!(
                "{FILE}:11: a notify_down script not named by absolute path is not supported by lvsctl health yet"
            ),
        ]
    );
    let c = mapped(
        &text
            .replace("notify.sh\n", "/usr/local/bin/notify.sh\n")
            .replace(
                "    rs_init_notifies\n    lvs_notify_fifo /run/ka.fifo\n",
                "",
            ),
    );
    let k = c.virtuals[0].keepalived.as_ref().unwrap();
    let n = &k.notifies[0];
    assert_eq!(
        n.up.as_ref().unwrap().argv,
        ["/usr/local/bin/notify.sh", "up", "a b"]
    );
    assert_eq!(n.up.as_ref().unwrap().user, "keepalived_script");
    assert_eq!(
        k.quorum_down.as_ref().unwrap().argv,
        ["/usr/local/bin/notify.sh"]
    );
}
