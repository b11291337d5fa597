//! Checkers: each type, timing inheritance, connections and scripts. Where a test is
//! named after something keepalived does, the fact comes from keepalived 2.2.7's source
//! and, where `--config-test` shows it, from running it.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::health::keepalived::{
    Checker, CheckerKind, DnsType, HttpProtocol, RunAs, Script, Timing, read,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A virtual server with one real server 10.0.0.2:80 holding `checker`.
fn with_checker(vs_extra: &str, rs_extra: &str, checker: &str) -> String {
    vs(&format!(
        "{vs_extra}    real_server 10.0.0.2 80 {{\n{rs_extra}{checker}    }}\n"
    ))
}

/// Scripts need `enable_script_security` to be clean.
fn secure(text: &str) -> String {
    format!("global_defs {{\n  enable_script_security\n}}\n{text}")
}

/// The checkers of the only real server of a clean file.
#[track_caller]
fn checkers(text: &str) -> Vec<Checker> {
    one_rs(text).checkers
}

#[track_caller]
fn only(text: &str) -> Checker {
    let mut c = checkers(text);
    assert_eq!(c.len(), 1, "one checker expected");
    c.remove(0)
}

#[test]
fn tcp_check_defaults() {
    let c = only(&with_checker("", "", "        TCP_CHECK {\n        }\n"));
    assert_eq!(c.kind, CheckerKind::Tcp);
    assert_eq!(
        c.timing,
        Some(Timing {
            delay_loop: secs(60),
            retry: 1,
            delay_before_retry: secs(1),
            warmup: secs(60),
        })
    );
    let conn = c.connection.unwrap();
    assert_eq!(conn.target, addr("10.0.0.2:80"));
    assert_eq!(conn.connect_timeout, secs(5));
    assert!(!c.alpha);
}

#[test]
fn timing_is_inherited_from_the_virtual_then_the_real_server() {
    let c = only(&with_checker(
        "    delay_loop 6\n    retry 3\n    delay_before_retry 2\n    connect_timeout 4\n    alpha\n",
        "        warmup 1.5\n        retry 2\n",
        "        TCP_CHECK {\n            delay_loop 10\n        }\n",
    ));
    assert_eq!(
        c.timing,
        Some(Timing {
            delay_loop: secs(10),
            retry: 2,
            delay_before_retry: secs(2),
            warmup: Duration::from_millis(1500),
        })
    );
    assert_eq!(c.connection.unwrap().connect_timeout, secs(4));
    assert!(c.alpha);
}

#[test]
fn connection_settings() {
    let c = only(&with_checker(
        "",
        "",
        "        TCP_CHECK {\n            connect_ip 10.0.0.3\n            connect_port 8080\n            bindto 10.0.0.1\n            bind_port 4000\n            bind_if eth1\n            fwmark 9\n            connect_timeout 0.5\n        }\n",
    ));
    let conn = c.connection.unwrap();
    assert_eq!(conn.target, addr("10.0.0.3:8080"));
    assert_eq!(conn.bind_addr, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(conn.bind_port, Some(4000));
    assert_eq!(conn.bind_if.as_deref(), Some("eth1"));
    assert_eq!(conn.fwmark, Some(9));
    assert_eq!(conn.connect_timeout, Duration::from_millis(500));
}

#[test]
fn a_check_of_a_real_server_line_without_port_connects_to_port_0() {
    // keepalived copies the real server's address, port as written, into the checker when
    // the checker starts; correcting the real server's port later does not reach it.
    let text = vs("    real_server 10.0.0.2 {\n        TCP_CHECK {\n        }\n    }\n");
    let o = outcome(&text);
    assert_eq!(o.status, 0);
    assert!(lines(&o)[0].contains("connects to port 0"));
    let v = &o.config.unwrap().virtual_servers[0];
    assert_eq!(v.real_servers[0].port, 80);
    let conn = v.real_servers[0].checkers[0].connection.as_ref().unwrap();
    assert_eq!(conn.target.port(), 0);
}

#[test]
fn http_get_urls_status_codes_and_digest() {
    let c = only(&with_checker(
        "",
        "",
        "        HTTP_GET {\n            url {\n                path /health\n                status_code 200-204 301\n                digest 9b3a0c85a887a256d6939da88aabd8cd\n            }\n            url {\n                path /\n            }\n            http_protocol 1.1\n        }\n",
    ));
    let CheckerKind::Http(h) = c.kind else {
        panic!("HTTP_GET")
    };
    assert_eq!(h.http_protocol, HttpProtocol::Http11);
    assert_eq!(h.urls[0].path, "/health");
    assert_eq!(h.urls[0].status_codes.ranges(), [(200, 204), (301, 301)]);
    assert!(h.urls[0].status_codes.contains(203) && !h.urls[0].status_codes.contains(300));
    assert_eq!(h.urls[0].digest.map(|d| d.0[0]), Some(0x9b));
    assert_eq!(h.urls[1].status_codes.ranges(), [(200, 299)], "the default");
    let t = c.timing.unwrap();
    assert_eq!(t.delay_before_retry, secs(3), "HTTP_GET's own default");
}

#[test]
fn the_host_header_comes_from_the_url_then_checker_then_real_then_virtual_server() {
    let text = with_checker(
        "    virtualhost vs.example.com\n",
        "        virtualhost rs.example.com\n",
        "        HTTP_GET {\n            url {\n                path /a\n                virtualhost url.example.com\n            }\n            url {\n                path /b\n            }\n        }\n        SSL_GET {\n            virtualhost chk.example.com\n            url {\n                path /c\n            }\n        }\n",
    );
    let hosts: Vec<Option<String>> = checkers(&text)
        .into_iter()
        .flat_map(|c| match c.kind {
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => h.urls,
            _ => Vec::new(),
        })
        .map(|u| u.virtualhost)
        .collect();
    assert_eq!(
        hosts,
        [
            Some("url.example.com".into()),
            Some("rs.example.com".into()),
            Some("chk.example.com".into())
        ]
    );
}

#[test]
fn nb_get_retry_still_sets_retry_but_is_reported_as_deprecated() {
    let text = with_checker(
        "",
        "",
        "        HTTP_GET {\n            nb_get_retry 4\n            url {\n                path /\n            }\n        }\n",
    );
    assert_eq!(
        errors(&text),
        ["7: `nb_get_retry` is deprecated: use `retry`"]
    );
    let rs = &outcome(&text).config.unwrap().virtual_servers[0].real_servers[0];
    assert_eq!(rs.checkers[0].timing.unwrap().retry, 4);
}

/// keepalived 2.2.7 crashes (SIGSEGV) on the HTTP_GET without url after reporting it; lvsctl
/// stops at the report (tests/keepalived_config_test.rs lists the difference).
#[test]
fn http_get_without_url_or_url_without_path_is_dropped() {
    let text = with_checker(
        "",
        "",
        "        HTTP_GET {\n            url {\n                status_code 200\n            }\n        }\n",
    );
    assert_eq!(
        errors(&text),
        [
            "9: url without a path; ignored",
            "10: HTTP_GET/SSL_GET without any url; checker ignored"
        ]
    );
}

#[test]
fn regex_with_options() {
    let c = only(&with_checker(
        "",
        "",
        "        HTTP_GET {\n            url {\n                path /\n                regex \"OK|ready\"\n                regex_no_match\n                regex_options caseless bogus\n                regex_max_offset 100\n            }\n        }\n",
    ));
    let CheckerKind::Http(h) = c.kind else {
        panic!("HTTP_GET")
    };
    let r = h.urls[0].regex.clone().unwrap();
    assert_eq!(r.pattern, "OK|ready");
    assert!(r.no_match);
    assert_eq!(r.options, ["caseless"]);
    assert_eq!((r.min_offset, r.max_offset), (0, 101));
}

#[test]
fn misc_check_defaults_retry_0_and_times_out_after_the_virtual_servers_delay_loop() {
    let c = only(&secure(&with_checker(
        "    delay_loop 7\n",
        "",
        "        MISC_CHECK {\n            misc_path \"/usr/local/bin/check.sh -p 'a b'\"\n            misc_dynamic\n        }\n",
    )));
    let CheckerKind::Misc(m) = c.kind else {
        panic!("MISC_CHECK")
    };
    assert_eq!(
        m.script,
        Script {
            argv: vec!["/usr/local/bin/check.sh".into(), "-p".into(), "a b".into()],
            run_as: RunAs {
                user: "keepalived_script".into(),
                group: None
            }
        }
    );
    assert_eq!(m.timeout, secs(7));
    assert!(m.dynamic);
    assert_eq!(c.timing.unwrap().retry, 0);
    assert_eq!(c.connection, None);
}

#[test]
fn misc_path_uses_only_its_first_word_so_arguments_need_quotes() {
    let c = only(&secure(&with_checker(
        "",
        "",
        "        MISC_CHECK {\n            misc_path /usr/local/bin/check.sh --dropped\n            misc_timeout 3\n        }\n",
    )));
    let CheckerKind::Misc(m) = c.kind else {
        panic!("MISC_CHECK")
    };
    assert_eq!(m.script.argv, ["/usr/local/bin/check.sh"]);
    assert_eq!(m.timeout, secs(3));
}

#[test]
fn scripts_without_enable_script_security_are_a_security_error() {
    // keepalived 2.2.7 --config-test: "SECURITY VIOLATION - check scripts are being
    // executed but script_security not enabled.", exit 6.
    let text = with_checker(
        "",
        "        notify_up \"/usr/local/bin/notify.sh up\"\n",
        "        MISC_CHECK {\n            misc_path /usr/local/bin/check.sh\n        }\n",
    );
    let mut e = env();
    e.users.remove("keepalived_script");
    let o = read(FILE, &text, &e, &Options::default());
    assert_eq!(o.status, 6);
    let rs = &o.config.unwrap().virtual_servers[0].real_servers[0];
    assert_eq!(rs.notify_up.as_ref().unwrap().run_as.user, "root");
}

#[test]
fn script_security_without_a_script_user_refuses_root() {
    // keepalived 2.2.7: "Unable to set default user keepalived_script for script", then
    // the MISC_CHECK is removed; exit 5.
    let text = format!(
        "global_defs {{\n  enable_script_security\n}}\n{}",
        with_checker(
            "",
            "",
            "        MISC_CHECK {\n            misc_path /usr/local/bin/check.sh\n        }\n"
        )
    );
    let mut e = env();
    e.users.remove("keepalived_script");
    let o = read(FILE, &text, &e, &Options::default());
    assert_eq!(o.status, 5);
    assert_eq!(lines(&o).len(), 2, "{:#?}", lines(&o));
    assert!(
        o.config.unwrap().virtual_servers[0].real_servers[0]
            .checkers
            .is_empty()
    );
}

#[test]
fn a_missing_script_disables_its_checker_quietly() {
    let o = outcome(&secure(&with_checker(
        "",
        "",
        "        MISC_CHECK {\n            misc_path /nonexistent.sh\n        }\n",
    )));
    assert_eq!(o.status, 0);
    assert_eq!(
        lines(&o),
        ["10: script /nonexistent.sh not found; keepalived disables it"]
    );
    assert!(
        o.config.unwrap().virtual_servers[0].real_servers[0]
            .checkers
            .is_empty()
    );
}

#[test]
fn notify_scripts_take_a_user_and_group() {
    let rs = one_rs(&secure(&with_checker(
        "",
        "        notify_down \"/usr/local/bin/notify.sh down\" root root\n",
        "",
    )));
    let s = rs.notify_down.unwrap();
    assert_eq!(s.argv, ["/usr/local/bin/notify.sh", "down"]);
    assert_eq!(s.run_as.group.as_deref(), Some("root"));
}

#[test]
fn smtp_check_defaults_and_host_blocks() {
    let c = only(&with_checker(
        "",
        "",
        "        SMTP_CHECK {\n            connect_port 25\n        }\n",
    ));
    let CheckerKind::Smtp(s) = &c.kind else {
        panic!("SMTP_CHECK")
    };
    assert_eq!(s.helo_name, "smtpchecker.keepalived.org");
    assert_eq!(c.connection.unwrap().target, addr("10.0.0.2:25"));
    // Each host block is a checker of its own; keepalived leaves a host block's connect
    // timeout at zero unless it sets one.
    let text = with_checker(
        "",
        "",
        "        SMTP_CHECK {\n            helo_name lb.example.com\n            host {\n                connect_ip 10.0.0.7\n                connect_port 25\n                connect_timeout 3\n            }\n            host {\n                connect_ip 10.0.0.8\n            }\n        }\n",
    );
    let o = outcome(&text);
    assert_eq!(o.status, 0);
    let rs = &o.config.unwrap().virtual_servers[0].real_servers[0];
    let conns: Vec<(SocketAddr, Duration)> = rs
        .checkers
        .iter()
        .map(|c| {
            let conn = c.connection.as_ref().unwrap();
            (conn.target, conn.connect_timeout)
        })
        .collect();
    assert_eq!(
        conns,
        [
            (addr("10.0.0.7:25"), secs(3)),
            (addr("10.0.0.8:80"), Duration::ZERO)
        ]
    );
}

#[test]
fn dns_check_defaults_and_settings() {
    let c = only(&with_checker(
        "    delay_loop 20\n",
        "",
        "        DNS_CHECK {\n        }\n",
    ));
    let CheckerKind::Dns(d) = &c.kind else {
        panic!("DNS_CHECK")
    };
    assert_eq!((d.query_type, d.name.as_str()), (DnsType::Soa, ""));
    let t = c.timing.unwrap();
    assert_eq!((t.retry, t.delay_before_retry), (3, secs(20)));
    let c = only(&with_checker(
        "",
        "",
        "        DNS_CHECK {\n            type aaaa\n            name www.example.com\n        }\n",
    ));
    let CheckerKind::Dns(d) = &c.kind else {
        panic!("DNS_CHECK")
    };
    assert_eq!(
        (d.query_type, d.name.as_str()),
        (DnsType::Aaaa, "www.example.com")
    );
    let e = errors(&with_checker(
        "",
        "",
        "        DNS_CHECK {\n            name a..b\n            type XYZ\n        }\n",
    ));
    assert_eq!(
        e,
        [
            "7: DNS name \"a..b\" has an empty label; ignored",
            "8: unknown DNS query type \"XYZ\"; ignored"
        ]
    );
}

#[test]
fn udp_check_payload_and_reply_with_wildcards() {
    let c = only(&with_checker(
        "",
        "",
        "        UDP_CHECK {\n            payload 01 02 0a0B\n            require_reply 4F xX\n            min_reply_length 2\n        }\n",
    ));
    let CheckerKind::Udp(u) = &c.kind else {
        panic!("UDP_CHECK")
    };
    assert_eq!(u.payload, [1, 2, 0x0a, 0x0b]);
    assert!(u.require_reply);
    assert_eq!(u.reply, [0x4f, 0]);
    assert_eq!(u.reply_mask, [0, 0xff]);
    assert_eq!((u.min_reply_length, u.max_reply_length), (2, 255));
    let e = errors(&with_checker(
        "",
        "",
        "        UDP_CHECK {\n            payload zz\n        }\n",
    ));
    assert_eq!(e, ["7: invalid hex string \"zz\""]);
}

#[test]
fn ping_check() {
    assert_eq!(
        only(&with_checker("", "", "        PING_CHECK {\n        }\n")).kind,
        CheckerKind::Ping
    );
}

#[test]
fn file_check_follows_a_track_file_defined_before_it() {
    let text = format!(
        "track_file maint {{\n    file /run/maint\n    weight -10 reverse\n    init_file 0 overwrite\n}}\n{}",
        with_checker(
            "",
            "",
            "        FILE_CHECK {\n            track_file maint\n        }\n"
        )
    );
    let c = clean(&text);
    let checker = &c.virtual_servers[0].real_servers[0].checkers[0];
    let CheckerKind::File(f) = &checker.kind else {
        panic!("FILE_CHECK")
    };
    assert_eq!((f.weight, f.reverse), (-10, true));
    assert_eq!(f.file, std::path::Path::new("/run/maint"));
    assert_eq!(checker.timing, None);
    assert_eq!(c.track_files[0].init.map(|i| i.overwrite), Some(true));
}

#[test]
fn file_check_cannot_refer_to_a_track_file_defined_later() {
    // keepalived 2.2.7: "track_file tf not found", then "FILE_CHECK has no track_file
    // specified - ignoring".
    let text = format!(
        "{}track_file tf {{\n    file /tmp/x\n}}\n",
        with_checker(
            "",
            "",
            "        FILE_CHECK {\n            track_file tf\n        }\n"
        )
    );
    assert_eq!(
        errors(&text),
        [
            "7: track_file \"tf\" is not defined (before this point)",
            "8: FILE_CHECK without track_file; checker ignored"
        ]
    );
}

#[test]
fn bfd_check_is_not_supported_and_ignored() {
    let o = outcome(&with_checker(
        "",
        "",
        "        BFD_CHECK {\n            name b1\n        }\n        TCP_CHECK {\n        }\n",
    ));
    assert_eq!(o.status, 0);
    assert!(lines(&o)[0].contains("BFD_CHECK is not supported"));
    let rs = &o.config.unwrap().virtual_servers[0].real_servers[0];
    assert_eq!(rs.checkers.len(), 1);
}

#[test]
fn a_link_local_check_target_needs_bind_if() {
    let text = "virtual_server 2001:db8::1 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server fe80::2 80 {\n        TCP_CHECK {\n        }\n    }\n}\n";
    assert_eq!(
        errors(text),
        ["7: checker of link-local address fe80::2 needs bind_if; ignored"]
    );
}

#[test]
fn a_real_server_is_up_only_with_all_its_checkers_so_each_is_kept() {
    let c = checkers(&with_checker(
        "",
        "",
        "        TCP_CHECK {\n        }\n        PING_CHECK {\n        }\n        HTTP_GET {\n            url {\n                path /\n            }\n        }\n",
    ));
    assert_eq!(c.len(), 3);
}
