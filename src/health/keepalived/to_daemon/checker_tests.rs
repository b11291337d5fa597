//! SSL_GET, HTTP_GET's regex, SMTP_CHECK, DNS_CHECK and PING_CHECK mapped: what reaches
//! the daemon, what is refused.

use crate::health::config::{KeepalivedCheck, KeepalivedRegex, KeepalivedUrl};
use crate::health::keepalived::tests::clean;
use crate::health::keepalived::to_daemon::tests::{mapped, refused};
use crate::health::keepalived::to_daemon::to_daemon;

/// A virtual server at line 1 whose real server (line 5) holds `checker` from line 6.
fn with_checker(real_extra: &str, checker: &str) -> String {
    format!(
        "virtual_server 192.0.2.10 443 {{\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.11 443 {{\n{checker}{real_extra}    }}\n}}\n"
    )
}

fn urls(text: &str) -> Vec<KeepalivedUrl> {
    let c = mapped(text);
    let k = c.virtuals[0]
        .keepalived_http
        .clone()
        .expect("keepalived http");
    assert!(k.tls || !text.contains("SSL_GET"));
    k.urls
}

/// SSL_GET is HTTP_GET over TLS; with enable_sni the url's virtualhost (else the
/// checker's, else the virtual server's) is the server name, as ssl_connect picks it.
#[test]
fn an_ssl_get_maps_with_its_server_name_only_under_enable_sni() {
    let text = with_checker(
        "",
        "        SSL_GET {\n            url {\n                path /a\n                virtualhost a.example\n            }\n            url {\n                path /b\n            }\n            virtualhost b.example\n            enable_sni\n        }\n",
    );
    let u = urls(&text);
    assert_eq!(u[0].virtualhost.as_deref(), Some("a.example"));
    assert_eq!(u[0].sni.as_deref(), Some("a.example"));
    assert_eq!(u[1].sni.as_deref(), Some("b.example"));
    let without = text.replace("            enable_sni\n", "");
    let u = urls(&without);
    assert_eq!(u[0].virtualhost.as_deref(), Some("a.example"));
    assert_eq!(u[0].sni, None);
    // HTTP_GET never has one, enable_sni or not.
    let http = text.replace("SSL_GET", "HTTP_GET");
    assert!(urls(&http).iter().all(|u| u.sni.is_none()));
}

/// The Host header takes the real server's virtualhost, the SNI never does; the reader
/// keeps one name, so that case is refused, as are names rustls would not send as they are.
#[test]
fn an_sni_keepalived_would_send_otherwise_is_refused() {
    let text = with_checker(
        "        virtualhost rs.example\n",
        "        SSL_GET {\n            url {\n                path /\n            }\n            enable_sni\n        }\n",
    );
    assert_eq!(
        refused(&text),
        [
            "6: enable_sni with the real_server's virtualhost as the url's host is not supported by lvsctl health yet"
        ]
    );
    for name in ["192.0.2.1", "www.example."] {
        let text = with_checker(
            "",
            &format!(
                "        SSL_GET {{\n            url {{\n                path /\n                virtualhost {name}\n            }}\n            enable_sni\n        }}\n"
            ),
        );
        assert_eq!(
            refused(&text),
            [format!(
                "6: enable_sni with {name:?}, which is not a DNS name without a trailing dot is not supported by lvsctl health yet"
            )]
        );
    }
}

/// A literal regex runs with its offsets (max as keepalived stores it, one beyond);
/// anything PCRE2 reads as more than its bytes, and any regex_options, is refused.
#[test]
fn a_literal_regex_maps_and_others_are_refused() {
    let text = with_checker(
        "",
        "        HTTP_GET {\n            url {\n                path /\n                regex \"all good\"\n                regex_no_match\n                regex_min_offset 3\n                regex_max_offset 200\n            }\n        }\n",
    );
    assert_eq!(
        urls(&text)[0].regex,
        Some(KeepalivedRegex {
            literal: b"all good".to_vec(),
            no_match: true,
            min_offset: 3,
            max_offset: 201,
        })
    );
    let text = with_checker(
        "",
        "        SSL_GET {\n            url {\n                path /\n                regex ok\n                regex_options caseless\n            }\n        }\n",
    );
    assert_eq!(
        refused(&text),
        ["6: regex_options in an SSL_GET url is not supported by lvsctl health yet"]
    );
}

/// SMTP_CHECK runs keepalived's SMTP exchange with its helo_name under TCP_CHECK's
/// schedule; the daemon's deadline leaves room for its six steps.
#[test]
fn an_smtp_check_maps_with_its_helo_name_and_tcp_check_s_schedule() {
    let text = with_checker(
        "",
        "        SMTP_CHECK {\n            helo_name probe.example\n            connect_timeout 2\n            retry 2\n            delay_before_retry 4\n        }\n",
    );
    let c = mapped(&text);
    let v = &c.virtuals[0];
    assert_eq!(
        v.keepalived_check,
        Some(KeepalivedCheck::Smtp {
            helo_name: "probe.example".into()
        })
    );
    assert_eq!(v.keepalived_http, None);
    assert_eq!(
        v.check.check_type,
        crate::health::config::CheckType::Connect
    );
    assert_eq!((v.check.check_timeout, v.check.negotiate_timeout), (2, 12));
    assert_eq!((v.failure_count, v.rise), (3, 1));
    assert_eq!(v.retry_delay, Some(std::time::Duration::from_secs(4)));
    let default = with_checker("", "        SMTP_CHECK {\n        }\n");
    assert_eq!(
        mapped(&default).virtuals[0].keepalived_check,
        Some(KeepalivedCheck::Smtp {
            helo_name: "smtpchecker.keepalived.org".into()
        })
    );
    // keepalived gives an old-style `host` block no connect_timeout of its own: 0.
    let zero = with_checker(
        "",
        "        SMTP_CHECK {\n            host {\n                connect_ip 10.0.0.11\n            }\n        }\n",
    );
    assert_eq!(
        refused(&zero),
        ["6: connect_timeout 0 is not supported by lvsctl health yet"]
    );
}

/// DNS_CHECK runs keepalived's query under dns_final's rules, which the daemon picks
/// from the check's exchange (`Rule::Dns`): `retry 0`, and its default `retry 3` with
/// DNS_CHECK's default `delay_before_retry`, the delay_loop (check_dns.c sets no default
/// of its own, and check_data.c's `validate_check_config` falls back to `delay_loop`).
#[test]
fn a_dns_check_maps_with_its_epilogue() {
    use crate::health::state::keepalived_epilog::{Rule, Settings};
    use std::time::Duration;
    let text = with_checker(
        "",
        "        DNS_CHECK {\n            type A\n            name www.example\n            retry 0\n            connect_timeout 2\n        }\n",
    );
    let c = mapped(&text);
    let v = &c.virtuals[0];
    assert_eq!(
        v.keepalived_check,
        Some(KeepalivedCheck::Dns {
            qtype: 1,
            name: "www.example".into()
        })
    );
    assert_eq!((v.check.check_timeout, v.check.negotiate_timeout), (2, 2));
    assert_eq!((v.failure_count, v.rise), (1, 1));
    let retried = mapped(&with_checker("", "        DNS_CHECK {\n        }\n"));
    let v = &retried.virtuals[0];
    assert_eq!(
        Settings::of_virtual(v),
        Some(Settings {
            rule: Rule::Dns,
            retry: 3,
            delay_loop: Duration::from_mins(1),
            delay_before_retry: Duration::from_mins(1),
            alpha: false,
        })
    );
}

/// PING_CHECK is the daemon's ping check with one attempt of connect_timeout, under
/// icmp_epilog's rules (`Rule::UdpIcmp`): `retry 0`, and its default `retry 1`; with
/// `alpha` the real starts down.
#[test]
fn a_ping_check_maps_with_its_epilogue() {
    use crate::health::state::keepalived_epilog::{Rule, Settings};
    use std::time::Duration;
    let text = with_checker(
        "",
        "        PING_CHECK {\n            retry 0\n            connect_timeout 2\n        }\n",
    );
    let c = mapped(&text);
    let v = &c.virtuals[0];
    assert_eq!(v.check.check_type, crate::health::config::CheckType::Ping);
    assert_eq!((v.check.check_timeout, v.check.check_count), (2, 1));
    assert_eq!((v.failure_count, v.rise), (1, 1));
    assert_eq!(v.keepalived_check, None);
    let retried = mapped(&with_checker(
        "",
        "        PING_CHECK {\n            alpha\n            delay_before_retry 4\n        }\n",
    ));
    let v = &retried.virtuals[0];
    assert_eq!(v.start_up, Some(false));
    assert_eq!(
        Settings::of_virtual(v),
        Some(Settings {
            rule: Rule::UdpIcmp,
            retry: 1,
            delay_loop: Duration::from_mins(1),
            delay_before_retry: Duration::from_secs(4),
            alpha: true,
        })
    );
}

/// UDP_CHECK runs keepalived's exchange with `retry 0` only: udp_epilog retries only a
/// real that is up, where the daemon's (TCP_CHECK's) schedule retries one already down
/// too. Its default retry is 1, so it must be written.
#[test]
fn a_udp_check_maps_only_without_retries() {
    let text = with_checker(
        "",
        "        UDP_CHECK {\n            retry 0\n            connect_timeout 2\n            payload 01 02\n            require_reply 0A X1\n            min_reply_length 2\n            max_reply_length 9\n        }\n",
    );
    let c = mapped(&text);
    let v = &c.virtuals[0];
    assert_eq!(
        v.keepalived_check,
        Some(KeepalivedCheck::Udp {
            payload: vec![1, 2],
            require_reply: true,
            reply: vec![0x0a, 0x01],
            reply_mask: vec![0x00, 0xf0],
            min_reply_length: 2,
            max_reply_length: 9,
        })
    );
    assert_eq!((v.check.check_timeout, v.check.negotiate_timeout), (2, 2));
    assert_eq!((v.failure_count, v.rise), (1, 1));
    let bare = with_checker("", "        UDP_CHECK {\n            retry 0\n        }\n");
    assert_eq!(
        mapped(&bare).virtuals[0].keepalived_check,
        Some(KeepalivedCheck::Udp {
            payload: Vec::new(),
            require_reply: false,
            reply: Vec::new(),
            reply_mask: Vec::new(),
            min_reply_length: 0,
            max_reply_length: 255,
        })
    );
    // retry 1 (the default): udp_epilog's retries, as PING_CHECK's.
    let retried = with_checker("", "        UDP_CHECK {\n        }\n");
    let c = to_daemon(&clean(&retried)).expect("UDP_CHECK with retry runs");
    assert_eq!(c.virtuals[0].failure_count, 2);
}
