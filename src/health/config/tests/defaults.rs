//! Defaults and precedence as ldirectord's code has them: global defaults, a number as
//! checktype meaning combined, the timeouts defaulting to each other, the service and
//! protocol following the virtual's port, the check port, and per-virtual overrides of
//! globals.

use super::{assert_clean, assert_warning, ip, ok, one};
use crate::health::config::{CheckService, CheckType, Forward, HttpMethod, RedirectPolicy};
use crate::ipvs::model::{AddressFamily, Protocol, ServiceKey};

const REAL: &str = "    real=10.0.0.1:80 gate\n";

fn vs(header: &str, extra: &str) -> String {
    format!("{header}\n{REAL}{extra}")
}

#[test]
fn ldirectord_defaults_as_the_code_has_them() {
    let (c, _) = ok(&vs("virtual=192.0.2.1:80", ""));
    let g = &c.globals;
    assert!(!g.quiescent, "quiescent defaults to no in the code");
    assert!(!g.readd_quiescent && g.cleanstop && !g.autoreload && !g.fork);
    assert_eq!(
        (g.check_interval, g.failure_count, g.check_count),
        (10, 1, 1)
    );
    let v = &c.virtuals[0];
    assert_eq!(v.scheduler, "wrr");
    assert_eq!(v.check.check_type, CheckType::Negotiate);
    assert_eq!(v.check.service, CheckService::Http);
    assert!(!v.check.service_explicit);
    assert_eq!((v.check.check_timeout, v.check.negotiate_timeout), (5, 30));
    assert_eq!(v.check.request, "/");
    assert_eq!(v.check.receive, "");
    assert_eq!(v.check.check_command, "/bin/true");
    assert_eq!(v.check.http_method, HttpMethod::Get);
    assert!(!v.quiescent && v.cleanstop && v.persistent.is_none() && v.fallback.is_none());
    assert_eq!((v.failure_count, v.check_interval), (1, 10));
    assert_eq!((g.rise, v.rise), (1, 1), "no rise threshold, as ldirectord");
}

/// T9: `checktype=5` and `checktype=checktimeout5` both mean combined with N=5.
#[test]
fn t9_any_number_in_checktype_means_combined() {
    for value in ["5", "checktimeout5", "combined 5"] {
        let v = one(&vs(
            "virtual=192.0.2.1:80",
            &format!("    checktype={value}\n"),
        ));
        assert_eq!(v.check.check_type, CheckType::Combined(5), "{value}");
    }
}

/// T11: timeout precedence (global checktimeout=3 only → negotiate 3; virtual negotiatetimeout=20 + global checktimeout=3 → connect 20).
#[test]
fn t11_timeouts_default_to_each_other() {
    let v1 = one(&format!(
        "checktimeout=3\n{}",
        vs("virtual=192.0.2.1:80", "")
    ));
    assert_eq!((v1.check.check_timeout, v1.check.negotiate_timeout), (3, 3));
    let v2 = one(&format!(
        "checktimeout=3\n{}",
        vs("virtual=192.0.2.1:80", "    negotiatetimeout=20\n")
    ));
    assert_eq!(
        (v2.check.check_timeout, v2.check.negotiate_timeout),
        (20, 20)
    );
    let v3 = one(&format!(
        "negotiatetimeout=7\n{}",
        vs("virtual=192.0.2.1:80", "")
    ));
    assert_eq!((v3.check.check_timeout, v3.check.negotiate_timeout), (7, 7));
    let v4 = one(&format!(
        "checktimeout=3\nnegotiatetimeout=9\n{}",
        vs("virtual=192.0.2.1:80", "    checktimeout=4\n")
    ));
    assert_eq!((v4.check.check_timeout, v4.check.negotiate_timeout), (4, 4));
    let v5 = one(&format!(
        "checktimeout=3\nnegotiatetimeout=9\n{}",
        vs("virtual=192.0.2.1:80", "")
    ));
    assert_eq!((v5.check.check_timeout, v5.check.negotiate_timeout), (3, 9));
}

/// T12: a port 53 virtual defaults to UDP (and service dns).
#[test]
fn t12_port_53_defaults_to_udp_and_dns() {
    let v = one(&vs("virtual=192.0.2.1:53", "    receive=\"192.0.2.5\"\n"));
    assert!(matches!(
        v.key,
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            port: 53,
            ..
        }
    ));
    assert_eq!(v.check.service, CheckService::Dns);
    let named = one(&vs("virtual=192.0.2.1:domain", "    receive=\"x\"\n"));
    assert_eq!(named.key.protocol(), Some(Protocol::Udp));
}

/// T12: port 8080 defaults to service none, with a warning.
#[test]
fn t12_unknown_port_means_service_none_with_a_warning() {
    let text = vs("virtual=192.0.2.1:8080", "");
    assert_warning(&text, 1, "never checked: port 8080 has no default service");
    assert_eq!(one(&text).check.service, CheckService::None);
    // An explicit choice silences it.
    assert_clean(&vs("virtual=192.0.2.1:8080", "    service=none\n"));
    assert_clean(&vs("virtual=192.0.2.1:8080", "    checktype=connect\n"));
}

#[test]
fn service_table_follows_the_port() {
    for (port, service) in [
        (21, "ftp"),
        (25, "smtp"),
        (110, "pop"),
        (443, "https"),
        (3306, "mysql"),
        (5060, "sip"),
    ] {
        let v = one(&vs(
            &format!("virtual=192.0.2.1:{port}"),
            "    login=\"u\"\n    receive=\"x\"\n",
        ));
        assert_eq!(v.check.service.keyword(), service);
    }
}

#[test]
fn fwmark_virtuals() {
    let text = "virtual=42\n    real=10.0.0.1 gate\n";
    let v = one(text);
    assert_eq!(
        v.key,
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 42
        }
    );
    assert_eq!(v.check.service, CheckService::None);
    assert_eq!(v.reals[0].check_port, None);
    assert_eq!(v.label(), "42");
    assert_warning(text, 1, "firewall-mark services default to service=none");
    let v6 = one("virtual6=42\n    real6=[2001:db8::2] gate\n    service=http\n");
    assert_eq!(
        v6.key,
        ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark: 42
        }
    );
    assert_eq!(v6.reals[0].check_port, Some(80));
}

#[test]
fn a_dotted_quad_without_port_is_read_as_a_mark() {
    let text = "virtual=192.168.1.1\n    real=10.0.0.1 gate\n    service=none\n";
    assert_warning(text, 1, "read as firewall mark 192");
}

#[test]
fn header_forms() {
    let v = one(&vs("virtual=www.example.com:https", ""));
    assert_eq!(
        v.key,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("192.0.2.10"),
            port: 443
        }
    );
    let v6 = one("virtual6=[2001:db8::1]:80\n    real6=[2001:db8::2]:80 gate\n");
    assert_eq!(v6.label(), "[2001:db8::1]:80");
    let named6 = one("virtual6=www.example.com:80\n    real6=[2001:db8::2]:80 gate\n");
    assert_eq!(named6.key.af(), AddressFamily::Inet6);
}

#[test]
fn checkport_precedence() {
    let v = one("virtual=192.0.2.1:80\n    real=10.0.0.1:8080 gate\n    real=10.0.0.2 gate\n");
    assert_eq!(v.reals[0].check_port, Some(8080), "real port");
    assert_eq!(v.reals[1].check_port, Some(80), "service port");
    let c = one("virtual=192.0.2.1:80\n    real=10.0.0.1:8080 gate\n    checkport=9000\n");
    assert_eq!(c.reals[0].check_port, Some(9000));
}

#[test]
fn ftp_and_sip_default_credentials_only_with_an_explicit_service() {
    let ftp = one(
        "virtual=192.0.2.1:21\n    real=10.0.0.1:21 masq\n    service=ftp\n    receive=\"x\"\n",
    );
    assert_eq!(
        (ftp.check.login.as_str(), ftp.check.passwd.as_str()),
        ("anonymous", "ldirectord@director")
    );
    let later = one(
        "virtual=192.0.2.1:21\n    real=10.0.0.1:21 masq\n    service=ftp\n    login=\"bob\"\n    receive=\"x\"\n",
    );
    assert_eq!(later.check.login, "bob");
    let derived = one("virtual=192.0.2.1:21\n    real=10.0.0.1:21 masq\n    receive=\"x\"\n");
    assert_eq!(derived.check.login, "");
    let sip = one("virtual=192.0.2.1:5060\n    real=10.0.0.1 gate\n    service=sip\n");
    assert_eq!(sip.check.login, "ldirectord@director");
}

#[test]
fn per_virtual_overrides_of_globals() {
    let text = format!(
        "quiescent=yes\nfailurecount=3\ncleanstop=no\nfallbackcommand=/usr/local/bin/fb\n{}",
        vs(
            "virtual=192.0.2.1:80",
            "    quiescent=no\n    failurecount=2\n"
        )
    );
    let v = one(&text);
    assert!(!v.quiescent && !v.cleanstop);
    assert_eq!(v.failure_count, 2);
    assert_eq!(v.fallback_command.as_deref(), Some("/usr/local/bin/fb"));
}

#[test]
fn fallbacks() {
    let own = one(&vs("virtual=192.0.2.1:80", "    fallback=127.0.0.1 masq\n"));
    let f = own.fallback.unwrap();
    assert_eq!(
        (f.addr, f.port, f.forward),
        (ip("127.0.0.1"), 80, Forward::Masq)
    );
    let global = one(&format!(
        "fallback=sorry:http\n{}",
        vs("virtual=192.0.2.1:443", "")
    ));
    let g = global.fallback.unwrap();
    assert_eq!(
        (g.addr, g.port, g.forward, g.line),
        (ip("10.0.0.254"), 80, Forward::Gate, 1)
    );
    let portless = one(&format!(
        "fallback=sorry\n{}",
        vs("virtual=192.0.2.1:443", "")
    ));
    assert_eq!(portless.fallback.unwrap().port, 443);
    let v6 = one("fallback=sorry\nvirtual6=[2001:db8::1]:80\n    real6=[2001:db8::2]:80 gate\n");
    assert!(
        v6.fallback.is_none(),
        "an IPv4 global fallback is not used for IPv6 virtuals"
    );
    let own6 = one(
        "virtual6=[2001:db8::1]:80\n    real6=[2001:db8::2]:80 gate\n    fallback6=[::1]:8080\n",
    );
    assert_eq!(own6.fallback.unwrap().addr, ip("::1"));
}

#[test]
fn global_fallback_is_not_applied_to_marks() {
    let text = "fallback=sorry:80\nvirtual=7\n    real=10.0.0.1 gate\n    service=none\n";
    assert_warning(text, 2, "not applied to firewall-mark");
    assert!(one(text).fallback.is_none());
}

#[test]
fn service_attributes() {
    let v = one(&vs(
        "virtual=192.0.2.1:80",
        "    scheduler=sh\n    persistent=600\n    netmask=255.255.255.0\n    schedflags=sh-port\n",
    ));
    assert_eq!((v.scheduler.as_str(), v.persistent), ("sh", Some(600)));
    assert_eq!(
        v.netmask,
        Some(crate::ipvs::model::Netmask::V4(
            "255.255.255.0".parse().unwrap()
        ))
    );
    assert_eq!(v.sched_flags.as_deref(), Some("sh-port"));
}

#[test]
fn unanchored_values_are_read_like_ldirectord_with_a_warning() {
    let text = format!(
        "checktimeout=3s\n{}",
        vs("virtual=192.0.2.1:80", "    scheduler=wrr2\n")
    );
    assert_warning(&text, 1, "only \"3\" of \"3s\" is used");
    assert_warning(&text, 4, "only \"wrr\" of \"wrr2\" is used");
    assert_eq!(one(&text).scheduler, "wrr");
}

#[test]
fn request_gets_a_leading_slash_and_httpmethod_is_case_insensitive() {
    let v = one(&vs(
        "virtual=192.0.2.1:80",
        "    request=\"index.html\"\n    httpmethod=head\n",
    ));
    assert_eq!(v.check.request, "/index.html");
    assert_eq!(v.check.http_method, HttpMethod::Head);
}

#[test]
fn head_with_receive_warns() {
    let text = vs(
        "virtual=192.0.2.1:80",
        "    httpmethod=HEAD\n    receive=\"ok\"\n",
    );
    assert_warning(&text, 3, "always fails");
}

#[test]
fn dns_with_empty_receive_warns() {
    assert_warning(
        &vs("virtual=192.0.2.1:53", ""),
        1,
        "empty receive always fail",
    );
}

#[test]
fn sctp_is_an_extension() {
    let text = vs("virtual=192.0.2.1:80", "    protocol=sctp\n");
    assert_warning(&text, 3, "lvsctl extension");
    assert_eq!(one(&text).key.protocol(), Some(Protocol::Sctp));
}

#[test]
fn rise_is_an_extension_global_and_per_virtual() {
    let text = format!("rise=3\n{}", vs("virtual=192.0.2.1:80", ""));
    assert_warning(&text, 1, "lvsctl extension");
    let (c, _) = ok(&text);
    assert_eq!((c.globals.rise, c.virtuals[0].rise), (3, 3));
    let own = format!(
        "rise=3\n{}{}",
        vs("virtual=192.0.2.1:80", "    rise=2\n"),
        vs("virtual=192.0.2.2:80", "")
    );
    let (c, w) = ok(&own);
    assert_eq!((c.virtuals[0].rise, c.virtuals[1].rise), (2, 3));
    assert_eq!(w.len(), 2, "one warning per rise line: {w:?}");
    // Like failurecount: a positive number.
    super::assert_error(&vs("virtual=192.0.2.1:80", "    rise=0\n"), 3, "rise");
}

/// `redirects=` and `cleartext_passwords=` are extensions, global and per virtual: off by
/// default (redirects only on the real, no password in clear), and check-config says which
/// policy a line sets and that ldirectord rejects it.
#[test]
fn redirect_and_cleartext_policies_are_extensions_global_and_per_virtual() {
    let (c, w) = ok(&vs("virtual=192.0.2.1:80", ""));
    assert!(w.is_empty(), "{w:?}");
    let (g, v) = (&c.globals, &c.virtuals[0].check);
    assert_eq!(
        (g.redirects, v.redirects),
        (RedirectPolicy::SameReal, RedirectPolicy::SameReal)
    );
    assert!(!g.cleartext_passwords && !v.cleartext_passwords);

    let text = format!(
        "redirects=any\ncleartext_passwords=yes\n{}{}",
        vs(
            "virtual=192.0.2.1:80",
            "    redirects=none\n    cleartext_passwords=no\n"
        ),
        vs("virtual=192.0.2.2:80", "")
    );
    assert_warning(
        &text,
        1,
        "redirects=any: http checks follow redirects to any host and port, up to 7, as \
         ldirectord does; redirects is an lvsctl extension, ldirectord rejects this file",
    );
    assert_warning(&text, 2, "cleartext_passwords is an lvsctl extension");
    assert_warning(&text, 5, "redirects=none: http checks follow no redirect");
    assert_warning(&text, 6, "refuse to send the password in clear");
    let (c, w) = ok(&text);
    assert_eq!(w.len(), 4, "one note per line: {w:?}");
    let (own, inherited) = (&c.virtuals[0].check, &c.virtuals[1].check);
    assert_eq!(
        (own.redirects, own.cleartext_passwords),
        (RedirectPolicy::None, false)
    );
    assert_eq!(
        (inherited.redirects, inherited.cleartext_passwords),
        (RedirectPolicy::Any, true)
    );
    assert_warning(
        &vs("virtual=192.0.2.1:80", "    redirects=same-real\n"),
        3,
        "stays on the real server",
    );
    super::assert_error(
        &vs("virtual=192.0.2.1:80", "    redirects=all\n"),
        3,
        "expected same-real, any or none",
    );
    super::assert_error(
        &vs("virtual=192.0.2.1:80", "    cleartext_passwords=1\n"),
        3,
        "'yes' or 'no'",
    );
}

#[test]
fn ops_only_for_udp() {
    assert_warning(
        &vs("virtual=192.0.2.1:80", "    ops=yes\n"),
        3,
        "only applied to UDP",
    );
    let u = one(&vs(
        "virtual=192.0.2.1:80",
        "    protocol=udp\n    ops=yes\n    checktype=connect\n",
    ));
    assert!(u.ops);
}

#[test]
fn email_settings_merge() {
    let text = format!(
        "emailalert=\"ops@example.com\"\nemailalertfreq=60\nsmtp=mail.example.com\n{}",
        vs("virtual=192.0.2.1:80", "    emailalertfreq=5\n")
    );
    let v = one(&text);
    assert_eq!(v.email.alert, "ops@example.com");
    assert_eq!(v.email.frequency, 5);
    assert_eq!(v.email.smtp.as_deref(), Some("mail.example.com"));
}

/// `smtp=` names a host or address with an optional port; an IPv6 address's colons are not
/// a port unless it is bracketed. ldirectord would cut each of these at the first `:` (or
/// reject the bracket), so a note says lvsctl differs.
#[test]
fn smtp_servers_with_ports_and_ipv6_addresses() {
    use crate::health::config::smtp_server;
    for (written, host, port) in [
        ("mail.example.com", "mail.example.com", 25),
        ("mail.example.com:2525", "mail.example.com", 2525),
        ("192.0.2.25", "192.0.2.25", 25),
        ("192.0.2.25:587", "192.0.2.25", 587),
        ("2001:db8::25", "2001:db8::25", 25),
        ("::1", "::1", 25),
        ("[2001:db8::25]", "2001:db8::25", 25),
        ("[2001:db8::25]:2525", "2001:db8::25", 2525),
    ] {
        assert_eq!(smtp_server(written), Some((host, port)), "{written}");
        let v = one(&format!(
            "smtp={written}\n{}",
            vs("virtual=192.0.2.1:80", "")
        ));
        assert_eq!(v.email.smtp.as_deref(), Some(written));
    }
    for bad in [
        "",
        "mail:",
        "mail:0",
        "mail:65536",
        "mail:2x",
        ":25",
        "[mail]:25",
        "[2001:db8::25]:",
        "[2001:db8::25",
        "[2001:db8::25]x",
        "mail@host",
    ] {
        assert_eq!(smtp_server(bad), None, "{bad}");
    }
    assert_clean(&format!(
        "smtp=mail.example.com\n{}",
        vs("virtual=192.0.2.1:80", "")
    ));
    let text = |smtp: &str| format!("smtp={smtp}\n{}", vs("virtual=192.0.2.1:80", ""));
    assert_warning(&text("2001:db8::25"), 1, "ldirectord uses only `2001`");
    assert_warning(&text("mail:2525"), 1, "ldirectord uses only `mail`");
    assert_warning(&text("[2001:db8::25]:2525"), 1, "ldirectord rejects");
    // Not a server with a port: read as ldirectord reads it, the rest is junk.
    assert_warning(&text("mail:abc"), 1, "mail:abc");
    assert_eq!(one(&text("mail:abc")).email.smtp.as_deref(), Some("mail"));
    assert_eq!(
        one(&text("\"[2001:db8::25]:2525\"")).email.smtp.as_deref(),
        Some("[2001:db8::25]:2525")
    );
}

#[test]
fn port_zero_needs_persistence_and_ftp_needs_receive() {
    assert_warning(
        &vs("virtual=192.0.2.1:0", "    service=none\n"),
        1,
        "port 0",
    );
    assert_clean(&vs(
        "virtual=192.0.2.1:0",
        "    service=none\n    persistent=60\n",
    ));
    assert_warning(
        &vs("virtual=192.0.2.1:21", "    service=ftp\n"),
        1,
        "need a receive string",
    );
}
