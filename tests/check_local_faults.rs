//! Every check, run with this process out of file descriptors for real (a low
//! RLIMIT_NOFILE, the rest held open), reports a local fault, never "down": a checker short
//! of descriptors has learnt nothing about the real server and must not take it out.
//!
//! Its own test binary with a single test, because the descriptor limit is per process
//! and would starve any test running beside it.

use std::fs::File;
use std::net::{IpAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use lvsctl::health::check::{
    Check, ConnectCheck, Dialog, DialogCheck, DnsCheck, ExternalCheck, FtpCheck, HttpCheck,
    LdapCheck, MysqlCheck, Outcome, PgsqlCheck, RadiusCheck, SimpleUdpCheck, SipCheck, Target,
};
use lvsctl::health::config::{HttpMethod, RedirectPolicy};
use lvsctl::ipvs::model::{Protocol, ServiceKey};
use regex::Regex;
use rustix::process::{Resource, getrlimit, setrlimit};

fn target(port: u16) -> Target {
    Target {
        virtual_key: ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "192.0.2.1".parse().expect("ip"),
            port,
        },
        real_addr: IpAddr::from([127, 0, 0, 1]),
        real_port: port,
        check_port: Some(port),
        route: lvsctl::health::check::Route::default(),
    }
}

/// One check of every kind that opens a socket or starts a process, aimed at `port`
/// (a listener that would accept) and at `script` (an external check that would pass).
fn every_check(script: &str) -> Vec<(&'static str, Box<dyn Check>)> {
    let t = Duration::from_secs(2);
    let re = || Regex::new("x").expect("regex");
    let login = || Some(("u".to_owned(), "p".to_owned()));
    vec![
        ("connect", Box::new(ConnectCheck::new(t))),
        (
            "http",
            Box::new(HttpCheck {
                tls: false,
                proxy: false,
                method: HttpMethod::Get,
                request: "/".into(),
                receive: None,
                virtual_host: None,
                timeout: t,
                redirects: RedirectPolicy::default(),
            }),
        ),
        (
            "smtp",
            Box::new(DialogCheck {
                dialog: Dialog::Smtp,
                tls: false,
                timeout: t,
            }),
        ),
        (
            "imaps",
            Box::new(DialogCheck {
                dialog: Dialog::Imap { login: login() },
                tls: true,
                timeout: t,
            }),
        ),
        (
            "ftp",
            Box::new(FtpCheck {
                login: String::new(),
                passwd: String::new(),
                file: "/x".into(),
                receive: re(),
                timeout: t,
            }),
        ),
        (
            "dns",
            Box::new(DnsCheck {
                query: "www.example".into(),
                receive: Some(re()),
                tcp: false,
                timeout: t,
                retransmit: Duration::from_secs(1),
            }),
        ),
        (
            "dns over tcp",
            Box::new(DnsCheck {
                query: "www.example".into(),
                receive: Some(re()),
                tcp: true,
                timeout: t,
                retransmit: Duration::from_secs(1),
            }),
        ),
        (
            "sip",
            Box::new(SipCheck {
                login: "probe".into(),
                udp: true,
                timeout: t,
            }),
        ),
        (
            "simpletcp over udp",
            Box::new(SimpleUdpCheck {
                request: "ping\n".into(),
                receive: re(),
                timeout: t,
            }),
        ),
        (
            "radius",
            Box::new(RadiusCheck {
                login: "u".into(),
                passwd: "p".into(),
                secret: "s".into(),
                timeout: t,
            }),
        ),
        (
            "ldap",
            Box::new(LdapCheck {
                tls: false,
                bind: None,
                base: String::new(),
                receive: None,
                connect_timeout: t,
                timeout: t,
            }),
        ),
        (
            "mysql",
            Box::new(MysqlCheck {
                user: "u".into(),
                password: "p".into(),
                database: String::new(),
                query: "SELECT 1".into(),
                timeout: t,
                cleartext_passwords: false,
            }),
        ),
        (
            "pgsql",
            Box::new(PgsqlCheck {
                user: "u".into(),
                password: "p".into(),
                database: String::new(),
                query: "SELECT 1".into(),
                timeout: t,
                cleartext_passwords: false,
            }),
        ),
        ("external", Box::new(ExternalCheck::new(script, t))),
    ]
}

#[test]
fn out_of_descriptors_every_check_is_a_local_fault() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // A listener that accepts (the kernel completes connections on its backlog) and a
    // script that passes: with descriptors to spare, every check gets that far.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let dir = std::env::temp_dir().join(format!("lvsctl-local-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("check");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let checks = every_check(script.to_str().expect("utf-8 path"));

    let saved = getrlimit(Resource::Nofile);
    let mut low = saved;
    low.current = Some(64);
    setrlimit(Resource::Nofile, low).expect("lower RLIMIT_NOFILE");
    let mut held = Vec::new();
    while let Ok(f) = File::open("/dev/null") {
        held.push(f);
    }
    assert!(!held.is_empty() || File::open("/dev/null").is_err());

    let outcomes: Vec<(&str, Outcome)> = runtime.block_on(async {
        let mut out = Vec::new();
        for (name, check) in &checks {
            out.push((*name, check.run(&target(port)).await));
        }
        out
    });

    drop(held);
    setrlimit(Resource::Nofile, saved).expect("restore RLIMIT_NOFILE");
    let again = runtime.block_on(ConnectCheck::new(Duration::from_secs(2)).run(&target(port)));
    std::fs::remove_dir_all(&dir).ok();

    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::LocalFault(r) if r.contains("Too many open files")))
        .map(|(name, o)| format!("{name}: {o:?}"))
        .collect();
    assert!(wrong.is_empty(), "not local faults:\n{}", wrong.join("\n"));
    assert_eq!(
        again,
        Outcome::Up,
        "with descriptors back the listener is up"
    );
}
