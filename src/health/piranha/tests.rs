//! lvs.cf: the example of issue #15 and each rule of docs/piranha.md.

use std::net::IpAddr;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::ipvs::model::{AddressFamily, Netmask, Protocol, ServiceKey};
use crate::names::FilesResolver;

const ISSUE_EXAMPLE: &str = include_str!("../../../tests/fixtures/piranha/issue-15.cf");

fn env() -> FilesResolver {
    FilesResolver::default()
        .with_service("https", 443, "tcp")
        .with_host("web1", "10.0.0.11".parse().unwrap())
}

fn ok(text: &str) -> (PiranhaConfig, Vec<String>) {
    match parse_piranha(text, &env()) {
        Ok((c, d)) => (c, d.iter().map(|d| format!("{}: {d}", d.line)).collect()),
        Err(e) => panic!("unexpected errors: {e:#?}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse_piranha(text, &env()) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {}", d.line, d.message))
            .collect(),
    }
}

fn one(text: &str) -> PiranhaVirtual {
    let (mut c, _) = ok(text);
    assert_eq!(c.virtuals.len(), 1);
    c.virtuals.remove(0)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A virtual with an address and one server around `body`.
fn virt(body: &str) -> String {
    format!(
        "virtual web {{\naddress = 10.0.0.1 eth0:1\n{body}server a {{\naddress = 10.0.0.11\n}}\n}}\n"
    )
}

#[test]
fn the_example_of_the_issue_parses() {
    let (c, diags) = ok(ISSUE_EXAMPLE);
    assert_eq!(
        diags,
        [
            "21: warning: load_monitor = ruptime (weights from rstatd/rwhod load) is not supported; the weights stay as configured"
        ]
    );
    assert_eq!(c.forwarding, crate::ipvs::model::ForwardMethod::Tunnel);
    assert_eq!(c.keepalive, Some(6));
    let ignored: Vec<&str> = c.ignored.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        ignored,
        [
            "serial_no",
            "primary",
            "service",
            "backup_active",
            "backup",
            "heartbeat",
            "heartbeat_port",
            "deadtime",
            "debug_level"
        ]
    );
    let v = &c.virtuals[0];
    assert_eq!(v.name, "JBOSS");
    assert!(v.active);
    assert_eq!(
        v.service,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("192.168.104.99"),
            port: 80
        }
    );
    assert_eq!(v.interface.as_deref(), Some("eth0:0"));
    assert_eq!(v.scheduler.as_str(), "rr");
    assert_eq!(v.persistence, None);
    assert_eq!(
        v.check.send.as_deref(),
        Some(&b"GET / HTTP/1.0\r\n\r\n"[..])
    );
    assert_eq!(v.check.expect, Some(Expect::Text(b"HTTP".to_vec())));
    assert_eq!(v.check.timeout, Duration::from_secs(6));
    assert_eq!(v.check.reentry, Duration::from_secs(15));
    assert!(!v.quiesce_server);
    assert_eq!(v.load_monitor, LoadMonitor::Ruptime);
    let servers: Vec<(String, IpAddr, bool, u32)> = v
        .servers
        .iter()
        .map(|s| (s.name.clone(), s.address, s.active, s.weight))
        .collect();
    assert_eq!(
        servers,
        [
            ("192.168.104.69".into(), ip("192.168.104.69"), true, 1),
            ("192.168.113.23".into(), ip("192.168.113.23"), true, 1)
        ]
    );
}

#[test]
fn defaults_when_keys_are_left_out() {
    let v = one(&virt(""));
    assert!(v.active);
    assert_eq!(v.scheduler.as_str(), "wlc");
    assert_eq!(v.service.port(), 80);
    assert_eq!(v.service.protocol(), Some(Protocol::Tcp));
    assert_eq!(v.check.timeout, Duration::from_secs(10));
    assert_eq!(v.check.reentry, Duration::from_mins(3));
    assert_eq!((&v.check.send, &v.check.expect), (&None, &None));
    assert_eq!(v.servers[0].weight, 1);
    assert!(v.servers[0].active);
    let (c, _) = ok(&virt(""));
    assert_eq!(c.forwarding, crate::ipvs::model::ForwardMethod::Masq);
}

#[test]
fn firewall_marks_and_persistence() {
    let v = one(&virt(
        "fwmark = 80\npersistent = 300\npmask = 255.255.255.0\n",
    ));
    assert_eq!(
        v.service,
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 80
        }
    );
    let p = v.persistence.unwrap();
    assert_eq!(p.timeout, 300);
    assert_eq!(p.netmask, Netmask::V4("255.255.255.0".parse().unwrap()));
}

#[test]
fn expect_is_a_regex_with_use_regex() {
    let v = one(&virt("expect = \"^HTTP/1\\.[01] 200\"\nuse_regex = 1\n"));
    assert_eq!(
        v.check.expect,
        Some(Expect::Regex(r"^HTTP/1\.[01] 200".into()))
    );
    let e = errors(&virt("expect = \"(\"\nuse_regex = 1\n"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("1: virtual web: invalid `expect` regex"),
        "{e:?}"
    );
}

#[test]
fn send_program_replaces_send() {
    let (c, diags) = ok(&virt(
        "send = \"quit\\r\\n\"\nsend_program = \"/usr/local/bin/check-https %h\"\nexpect = \"OK\"\n",
    ));
    let v = &c.virtuals[0];
    assert_eq!(
        v.check.send_program.as_deref(),
        Some("/usr/local/bin/check-https %h")
    );
    assert_eq!(v.check.send, None);
    assert_eq!(
        diags,
        ["1: note: virtual web: `send` is not used when `send_program` is set"]
    );
}

#[test]
fn send_and_expect_escapes_and_quotes() {
    let v = one(&virt(
        "send = 'HELO x\\r\\n'\nexpect = \"250 \\\"ok\\\"\\tdone\"\n",
    ));
    assert_eq!(v.check.send.as_deref(), Some(&b"HELO x\r\n"[..]));
    assert_eq!(
        v.check.expect,
        Some(Expect::Text(b"250 \"ok\"\tdone".to_vec()))
    );
    // Unquoted values are single words.
    assert_eq!(
        one(&virt("send = quit\n")).check.send.as_deref(),
        Some(&b"quit"[..])
    );
}

#[test]
fn inactive_virtuals_and_servers_are_kept_marked_inactive() {
    let text = "virtual off {\nactive = 0\naddress = 10.0.0.2\nserver s {\naddress = 10.0.0.12\nactive = 0\n}\n}\n";
    let v = one(text);
    assert!(!v.active);
    assert!(!v.servers[0].active);
}

#[test]
fn names_for_hosts_and_ports() {
    let v = one(
        "virtual web {\naddress = 10.0.0.1\nport = https\nprotocol = udp\nserver a {\naddress = web1\n}\n}\n",
    );
    assert_eq!(v.service.port(), 443);
    assert_eq!(v.service.protocol(), Some(Protocol::Udp));
    assert_eq!(v.servers[0].address, ip("10.0.0.11"));
}

#[test]
fn unknown_keys_are_warnings_and_failover_blocks_are_ignored() {
    let (c, diags) = ok(&format!(
        "mystery = 1\nfailover ftp {{\naddress = 10.0.0.9 eth0:2\nport = 21\n}}\n{}",
        virt("colour = blue\n")
    ));
    assert_eq!(
        diags,
        [
            "1: warning: unknown key `mystery`; ignored",
            "8: warning: unknown virtual key `colour`; ignored"
        ]
    );
    let keys: Vec<&str> = c.ignored.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["mystery", "failover ftp"]);
}

#[test]
fn errors_point_at_their_lines() {
    assert_eq!(errors("network nat\n"), ["1: expected `network = VALUE`"]);
    assert_eq!(
        errors("network = ppp\n"),
        ["1: `network` must be nat, direct or tunnel, not \"ppp\""]
    );
    assert_eq!(errors("}\n"), ["1: `}` without an open block"]);
    assert_eq!(
        errors(&virt(
            "scheduler = fastest\ntimeout = 0\nactive = yes\nsend = GET /\n"
        )),
        [
            "3: unknown scheduler \"fastest\"",
            "4: `timeout` must be a number from 1 to 86400, not \"0\"",
            "5: `active` must be 0 or 1, not \"yes\"",
            "6: `send` takes one value (quote a value with blanks)"
        ]
    );
    assert_eq!(
        errors("virtual v {\naddress = 10.0.0.1\nserver s {\nweight = 2\n"),
        ["3: `server` block not closed (the file ends at line 4)"]
    );
    assert_eq!(
        errors("virtual v {\nserver s {\nweight = 2\n}\n}\n"),
        [
            "1: virtual v has no `address`",
            "2: server s has no `address`"
        ]
    );
    assert_eq!(errors("virtual v\n"), ["1: expected `virtual NAME {`"]);
    assert_eq!(
        errors(&virt("send = \"open\n")),
        ["3: a quoted value is not closed"]
    );
}

#[test]
fn check_piranha_file_reports_and_exits() {
    let dir = std::env::temp_dir().join(format!("lvsctl-piranha-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("lvs.cf");
    std::fs::write(&good, ISSUE_EXAMPLE).unwrap();
    let (out, status) = check_piranha_file(&good);
    assert_eq!(status, EXIT_OK);
    assert!(out.contains("lvs.cf:21: warning: load_monitor"), "{out}");
    assert!(out.contains("lvs.cf:2: ignored: primary"), "{out}");
    assert!(out.ends_with("OK: 1 virtual(s), 2 server(s)\n"), "{out}");
    let bad = dir.join("bad.cf");
    std::fs::write(&bad, "}\n").unwrap();
    assert_eq!(check_piranha_file(&bad).1, EXIT_CONFIG_ERROR);
    assert_eq!(
        check_piranha_file(&dir.join("missing.cf")).1,
        EXIT_CONFIG_ERROR
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = parse_piranha(&text, &env());
    }

    #[test]
    fn shaped_text_never_panics(lines in proptest::collection::vec(
        proptest::sample::select(vec![
            "virtual v {", "server s {", "}", "address = 10.0.0.1 eth0:0", "port = 80",
            "send = \"a\\r\\n\"", "expect = \"(\"", "use_regex = 1", "fwmark = 3",
            "persistent = 10", "pmask = 255.0.0.0", "active = 0", "weight = x", "= =", "\"",
            "network = direct", "failover f {", "# c", "",
        ]),
        0..30,
    )) {
        let _ = parse_piranha(&lines.join("\n"), &env());
    }
}

#[test]
fn keepalive_is_read_as_the_check_interval() {
    let (c, _) = ok("keepalive = 2\n");
    assert_eq!(c.keepalive, Some(2));
    assert!(c.ignored.is_empty());
    assert_eq!(ok("").0.keepalive, None);
    for bad in ["0", "1.5", "86401", "x"] {
        assert_eq!(
            errors(&format!("keepalive = {bad}\n")),
            [format!(
                "1: `keepalive` must be a number from 1 to 86400, not {bad:?}"
            )]
        );
    }
}
