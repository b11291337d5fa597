//! The mapping onto the daemon's configuration: the issue's file whole, then each rule.

use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::health::config::{
    CheckService, CheckSettings, CheckType, Config, EmailSettings, Forward, Globals, HttpMethod,
    LogTarget, Nanny, NannyExpect, RealServer, RedirectPolicy, VirtualService,
};
use crate::health::piranha::parse_piranha;
use crate::ipvs::model::{AddressFamily, Netmask, Protocol, ServiceKey};
use crate::names::FilesResolver;

const ISSUE_EXAMPLE: &str = include_str!("../../../tests/fixtures/piranha/issue-15.cf");
const FILE: &str = "lvs.cf";

fn read(text: &str) -> PiranhaConfig {
    match parse_piranha(text, &FilesResolver::default()) {
        Ok((c, _)) => c,
        Err(e) => panic!("unexpected errors: {e:#?}"),
    }
}

#[track_caller]
fn mapped(text: &str) -> Config {
    match to_daemon(FILE, &read(text)) {
        Ok(c) => c,
        Err(refusals) => panic!("refused: {refusals:#?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn issue_real(line: usize, addr: &str) -> RealServer {
    RealServer {
        inhibit: None,
        line,
        addr: ip(addr),
        port: 80,
        forward: Forward::Ipip,
        weight: 1,
        request: None,
        receive: None,
        lower_threshold: 0,
        upper_threshold: 0,
        check_port: Some(80),
        checks: Vec::new(),
    }
}

#[test]
fn the_issue_15_file_maps_whole() {
    let want = Config {
        globals: Globals {
            check_interval: 6,
            logfile: LogTarget::Syslog("daemon".into()),
            fork: true,
            quiescent: false,
            readd_quiescent: false,
            cleanstop: true,
            ..Globals::default()
        },
        virtuals: vec![VirtualService {
            line: 12,
            key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: ip("192.168.104.99"),
                port: 80,
            },
            scheduler: "rr".into(),
            persistent: None,
            netmask: None,
            sched_flags: None,
            ops: false,
            reals: vec![
                issue_real(27, "192.168.104.69"),
                issue_real(32, "192.168.113.23"),
            ],
            fallback: None,
            fallback_command: None,
            check: CheckSettings {
                check_type: CheckType::Negotiate,
                service: CheckService::Simpletcp,
                service_explicit: true,
                check_port: Some(80),
                check_command: String::new(),
                request: String::new(),
                receive: String::new(),
                http_method: HttpMethod::Get,
                virtual_host: None,
                login: String::new(),
                passwd: String::new(),
                database: String::new(),
                secret: String::new(),
                check_timeout: 6,
                negotiate_timeout: 6,
                check_count: 1,
                redirects: RedirectPolicy::None,
                cleartext_passwords: false,
            },
            quiescent: false,
            cleanstop: true,
            failure_count: 1,
            rise: 1,
            check_interval: 6,
            retry_delay: None,
            keepalived_http: None,
            start_up: None,
            keepalived_check: None,
            keepalived: None,
            nanny: Some(Nanny {
                send: Some(b"GET / HTTP/1.0\r\n\r\n".to_vec()),
                expect: Some(NannyExpect::Text(b"HTTP".to_vec())),
                program: None,
                udp: false,
                reentry: Duration::from_secs(15),
                quiesce_server: false,
            }),
            email: EmailSettings::default(),
            monitor_file: None,
            service_name: None,
            comment: None,
        }],
    };
    assert_eq!(mapped(ISSUE_EXAMPLE), want);
}

/// One virtual around `body` with two servers, under `top`.
fn file(top: &str, body: &str) -> String {
    format!(
        "{top}\nvirtual web {{\naddress = 10.0.0.1\n{body}\nserver a {{\naddress = 10.0.0.11\nweight = 3\n}}\nserver b {{\naddress = 10.0.0.12\nweight = 0\n}}\n}}\n"
    )
}

#[test]
fn network_is_every_real_s_forwarding() {
    for (network, want) in [
        ("", Forward::Masq),
        ("network = nat", Forward::Masq),
        ("network = direct", Forward::Gate),
        ("network = tunnel", Forward::Ipip),
    ] {
        let c = mapped(&file(network, ""));
        let forwards: Vec<Forward> = c.virtuals[0].reals.iter().map(|r| r.forward).collect();
        assert_eq!(forwards, [want, want], "{network}");
    }
}

#[test]
fn weights_ports_scheduler_and_persistence_are_the_file_s() {
    let c = mapped(&file(
        "",
        "port = 8080\nscheduler = wlc\npersistent = 300\npmask = 255.255.255.0",
    ));
    let v = &c.virtuals[0];
    assert_eq!(v.scheduler, "wlc");
    assert_eq!(v.persistent, Some(300));
    assert_eq!(
        v.netmask,
        Some(Netmask::V4("255.255.255.0".parse().unwrap()))
    );
    let reals: Vec<(IpAddr, u16, u32, Option<u16>)> = v
        .reals
        .iter()
        .map(|r| (r.addr, r.port, r.weight, r.check_port))
        .collect();
    assert_eq!(
        reals,
        [
            (ip("10.0.0.11"), 8080, 3, Some(8080)),
            (ip("10.0.0.12"), 8080, 0, Some(8080))
        ]
    );
    // Without `persistent`, no persistence (pmask alone means nothing).
    let c = mapped(&file("", "pmask = 255.255.255.0"));
    assert_eq!(
        (c.virtuals[0].persistent, c.virtuals[0].netmask),
        (None, None)
    );
}

#[test]
fn a_fwmark_virtual_is_checked_at_its_port_with_its_protocol() {
    let c = mapped(&file("", "fwmark = 7\nport = 53\nprotocol = udp"));
    let v = &c.virtuals[0];
    assert_eq!(
        v.key,
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 7
        }
    );
    assert_eq!(v.reals[0].check_port, Some(53));
    assert!(v.nanny.as_ref().unwrap().udp);
}

#[test]
fn inactive_virtuals_and_servers_are_left_out() {
    let text = "virtual off {\nactive = 0\naddress = 10.0.0.9\nserver x {\naddress = 10.0.0.99\n}\n}\n\
                virtual on {\naddress = 10.0.0.1\nserver a {\naddress = 10.0.0.11\nactive = 0\n}\n\
                server b {\naddress = 10.0.0.12\n}\n}\n";
    let c = mapped(text);
    assert_eq!(c.virtuals.len(), 1);
    let reals: Vec<IpAddr> = c.virtuals[0].reals.iter().map(|r| r.addr).collect();
    assert_eq!(reals, [ip("10.0.0.12")]);
}

#[test]
fn the_check_keys_become_the_nanny_rules() {
    let c = mapped(&file(
        "keepalive = 2",
        "send_program = \"/usr/local/bin/probe %h\"\nexpect = \"^OK\"\nuse_regex = 1\n\
         timeout = 3\nreentry = 0\nquiesce_server = 1",
    ));
    let v = &c.virtuals[0];
    assert_eq!(c.globals.check_interval, 2);
    assert_eq!(v.check_interval, 2);
    assert_eq!(v.check.check_timeout, 3);
    assert_eq!(v.check.check_type, CheckType::External);
    assert_eq!(
        v.nanny,
        Some(Nanny {
            send: None,
            expect: Some(NannyExpect::Regex("^OK".into())),
            program: Some("/usr/local/bin/probe %h".into()),
            udp: false,
            reentry: Duration::ZERO,
            quiesce_server: true,
        })
    );
}

#[test]
fn defaults_without_keepalive_timeout_reentry() {
    let c = mapped(&file("", ""));
    let v = &c.virtuals[0];
    assert_eq!((c.globals.check_interval, v.check_interval), (6, 6));
    assert_eq!(v.check.check_timeout, 10);
    let n = v.nanny.as_ref().unwrap();
    assert_eq!(n.reentry, Duration::from_mins(3));
    assert_eq!(
        (&n.send, &n.expect, n.quiesce_server),
        (&None, &None, false)
    );
}

#[test]
fn two_active_virtuals_for_one_service_are_refused() {
    let text = "virtual a {\naddress = 10.0.0.1\n}\nvirtual b {\naddress = 10.0.0.1\n}\n\
                virtual c {\nactive = 0\naddress = 10.0.0.1\n}\n";
    let refusals = to_daemon(FILE, &read(text)).unwrap_err();
    assert_eq!(
        render_refusals(&refusals),
        "lvs.cf:4: a second active virtual for the service of line 1 (virtual b) is not \
         supported by lvsctl health yet\n"
    );
}

#[test]
fn check_config_prints_the_refusals_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("lvsctl-piranha-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("twice.cf");
    std::fs::write(
        &path,
        "virtual a {\naddress = 10.0.0.1\n}\nvirtual b {\naddress = 10.0.0.1\n}\n",
    )
    .unwrap();
    let (out, status) = check_piranha_file(&path);
    assert_eq!(status, EXIT_REFUSED);
    let name = path.display();
    assert_eq!(
        out,
        format!(
            "{name}: OK: 2 virtual(s), 0 server(s)\n{name}:4: a second active virtual for the \
             service of line 1 (virtual b) is not supported by lvsctl health yet\n"
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
