//! Operation sequences that the fake and the real kernel must answer alike.
//!
//! Each step carries the errno Linux 6.1 answered when the same request was made (0 for
//! success), observed in the IPVS VM with ipvsadm or, for requests ipvsadm cannot express
//! (over-long names, fwmark 0, raw forwarding codes, bad daemon states), with the raw
//! generic-netlink probe `probe_errnos.py` next to this file. `fake_parity_scenarios.rs`
//! checks the fake against these numbers; `kernel_fake_parity.rs` (enabled once the netlink
//! backend exists) runs the same steps on both and compares results and read-back tables.
//!
//! The scenarios assume a fresh network namespace: only `lo` exists, so sync daemons bind
//! to `lo`, and the only local addresses are 127.0.0.1 and ::1.
//!
//! Long by nature: it is a table of requests and the answers the kernel gave.
#![allow(dead_code)]

use std::net::IpAddr;

use lvsctl::ipvs::fake::{FakeBackend, FakeInterface};
use lvsctl::ipvs::{
    AddressFamily, Backend, DaemonRole, Dest, ForwardMethod, Netmask, Op, Protocol, Scheduler,
    Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelType,
};

pub const OK: i32 = 0;

pub struct Scenario {
    pub name: &'static str,
    pub steps: Vec<(Op, i32)>,
}

/// What a backend reports after a scenario, in a canonical order (the kernel lists in hash
/// order, the fake in insertion order).
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub services: Vec<(Service, Vec<Dest>)>,
    pub timeouts: Timeouts,
    pub daemons: Vec<SyncDaemon>,
}

/// A fake set up like a fresh kernel namespace (interfaces: `lo` only).
pub fn fresh_fake() -> FakeBackend {
    FakeBackend::with_interfaces(vec![FakeInterface::new("lo", 65536)])
}

fn errno_of(result: &lvsctl::ipvs::Result<()>) -> i32 {
    result
        .as_ref()
        .map_or_else(lvsctl::ipvs::IpvsError::errno, |()| OK)
}

/// Run the steps one by one (so each gets its own result) and read everything back.
pub fn run(backend: &mut dyn Backend, scenario: &Scenario) -> (Vec<i32>, Snapshot) {
    let errnos = scenario
        .steps
        .iter()
        .map(|(op, _)| {
            let errno = errno_of(&backend.apply_one(op));
            if matches!(op, Op::StartDaemon(_)) && errno == 0 {
                // Linux 6.1 race: a DEL_DAEMON that reaches the kernel before the new sync
                // thread has run once can block for tens of seconds under emulation. Real
                // operators (and ipvsadm) never stop a daemon a millisecond after starting
                // it; give the thread time to start.
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
            errno
        })
        .collect();
    (errnos, snapshot(backend))
}

pub fn snapshot(backend: &mut dyn Backend) -> Snapshot {
    let mut services: Vec<_> = backend
        .entries()
        .expect("list services")
        .into_iter()
        .map(|e| {
            let mut dests = e.dests;
            dests.sort_by_key(Dest::key);
            (e.service, dests)
        })
        .collect();
    services.sort_by_key(|(s, _)| s.key);
    let mut daemons = backend.daemons().expect("list daemons");
    daemons.sort_by_key(|d| d.state);
    Snapshot {
        services,
        timeouts: backend.timeouts().expect("get timeouts"),
        daemons,
    }
}

/// Bring a backend back to a fresh namespace's state between scenarios.
pub fn reset(backend: &mut dyn Backend) {
    backend.apply(&[
        Op::Flush,
        Op::StopDaemon(DaemonRole::Master, 0),
        Op::StopDaemon(DaemonRole::Backup, 0),
        Op::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }),
    ]);
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

fn svc(key: ServiceKey, sched: &str) -> Service {
    let mut s = Service::new(key);
    s.scheduler = Scheduler::new(sched);
    s
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod) -> Dest {
    let mut d = Dest::new(ip(addr), port);
    d.fwd = fwd;
    d
}

fn daemon(role: DaemonRole, ifn: &str) -> SyncDaemon {
    SyncDaemon::new(role, ifn, 0)
}

pub fn scenarios() -> Vec<Scenario> {
    vec![
        services(),
        dests(),
        ipv6_dests(),
        mixed_family(),
        daemons(),
        timeouts_and_flush(),
    ]
}

fn services() -> Scenario {
    let v4 = tcp("10.0.0.1", 80);
    let udp = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip("10.0.0.1"),
        port: 80,
    };
    let fw4 = ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark: 5,
    };
    let fw6 = ServiceKey::Fwmark {
        af: AddressFamily::Inet6,
        mark: 5,
    };
    let v6 = tcp("2001:db8::1", 80);
    let mut persistent = svc(v4, "sh");
    persistent.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::SCHED1);
    persistent.timeout = 300;
    persistent.netmask = Netmask::V4("255.255.255.0".parse().expect("mask"));
    let mut pe_upper = svc(tcp("10.0.0.2", 5060), "rr");
    pe_upper.pe_name = Some("SIP".into());
    let mut pe = pe_upper.clone();
    pe.pe_name = Some("sip".into());
    let mut v6_bad = svc(v6, "wlc");
    v6_bad.netmask = Netmask::V6(0);
    let mut v6_bad2 = v6_bad.clone();
    v6_bad2.netmask = Netmask::V6(129);
    let mut v6_ok = v6_bad.clone();
    v6_ok.netmask = Netmask::V6(64);
    let with_pe = |port, pe: &str| {
        let mut s = svc(tcp("10.0.0.5", port), "rr");
        s.pe_name = Some(pe.to_owned());
        s
    };
    let long_pe = with_pe(1, "abcdefghijklmnopq");
    let unknown_pe16 = with_pe(2, "abcdefghijklmnop");
    let empty_pe = with_pe(3, "");
    let fw0 = ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark: 0,
    };
    let gre = ServiceKey::Addr {
        protocol: Protocol::Other(47),
        addr: ip("10.0.0.4"),
        port: 80,
    };
    let mut wrapped_timeout = svc(tcp("10.0.0.6", 80), "rr");
    wrapped_timeout.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    wrapped_timeout.timeout = 17_179_870;
    let mut hashed = svc(tcp("10.0.0.7", 80), "rr");
    hashed.flags = ServiceFlags(ServiceFlags::HASHED);
    Scenario {
        name: "services",
        steps: vec![
            (Op::AddService(svc(v4, "rr")), OK),
            (Op::AddService(svc(v4, "wlc")), libc::EEXIST),
            (Op::AddService(svc(udp, "rr")), OK),
            (Op::AddService(svc(fw4, "wlc")), OK),
            (Op::AddService(svc(fw6, "wlc")), OK),
            (Op::EditService(svc(tcp("10.0.0.9", 80), "rr")), libc::ESRCH),
            (Op::DelService(tcp("10.0.0.9", 80)), libc::ESRCH),
            (Op::Zero(Some(tcp("10.0.0.9", 80))), libc::ESRCH),
            (Op::EditService(persistent), OK),
            (
                Op::AddService(svc(tcp("10.0.0.3", 80), "WLC")),
                libc::ENOENT,
            ),
            (Op::AddService(pe_upper), libc::ENOENT),
            (Op::AddService(pe), OK),
            (Op::AddService(v6_bad), libc::EINVAL),
            (Op::AddService(v6_bad2), libc::EINVAL),
            (Op::AddService(v6_ok), OK),
            (Op::AddService(svc(tcp("224.0.0.1", 80), "none")), OK),
            (Op::DelService(fw6), OK),
            (Op::Zero(Some(v4)), OK),
            (
                Op::AddService(svc(tcp("10.0.0.4", 80), "abcdefghijklmnop")),
                libc::EINVAL,
            ),
            (
                Op::AddService(svc(tcp("10.0.0.4", 80), "abcdefghijklmno")),
                libc::ENOENT,
            ),
            (Op::AddService(svc(tcp("10.0.0.4", 80), "")), libc::ENOENT),
            (Op::AddService(long_pe), libc::EINVAL),
            (Op::AddService(unknown_pe16), libc::ENOENT),
            (Op::AddService(empty_pe), OK),
            (Op::AddService(svc(fw0, "rr")), OK),
            (Op::AddService(svc(tcp("0.0.0.0", 0), "rr")), libc::EEXIST),
            (Op::AddService(svc(gre, "rr")), OK),
            (Op::AddService(wrapped_timeout), OK),
            (Op::AddService(hashed), OK),
            (Op::AddService(svc(tcp("10.0.0.7", 80), "rr")), libc::EEXIST),
        ],
    }
}

fn dests() -> Scenario {
    let key = tcp("10.0.0.1", 80);
    let missing = tcp("10.0.0.9", 80);
    let mut neg = dest("10.0.0.3", 80, ForwardMethod::Route);
    neg.weight = -1;
    let mut inverted = dest("10.0.0.3", 80, ForwardMethod::Route);
    inverted.l_threshold = 5;
    let mut gue = dest("10.0.0.3", 80, ForwardMethod::Tunnel);
    gue.tunnel = Tunnel {
        kind: TunnelType::Gue,
        port: 0,
        ..Tunnel::default()
    };
    let mut gue_ok = gue.clone();
    gue_ok.tunnel.port = 6080;
    let mut quiesce = dest("10.0.0.2", 80, ForwardMethod::Masq);
    quiesce.weight = 0;
    quiesce.u_threshold = 10;
    quiesce.l_threshold = 2;
    let d2 = dest("10.0.0.2", 80, ForwardMethod::Route);
    let fwd5 = dest("10.0.0.7", 80, ForwardMethod::Other(5));
    let mut fwd5_bad_weight = fwd5.clone();
    fwd5_bad_weight.weight = -1;
    let mut gue_on_dr = dest("10.0.0.9", 80, ForwardMethod::Route);
    gue_on_dr.tunnel = Tunnel {
        kind: TunnelType::Gue,
        port: 0,
        ..Tunnel::default()
    };
    let mixed_masq = dest("2001:db8::2", 80, ForwardMethod::Masq);
    let mixed_masked_tunnel = dest("2001:db8::2", 80, ForwardMethod::Other(10));
    Scenario {
        name: "dests",
        steps: vec![
            (Op::AddService(svc(key, "rr")), OK),
            (Op::AddDest(key, d2.clone()), OK),
            (Op::AddDest(key, d2.clone()), libc::EEXIST),
            (
                Op::EditDest(key, dest("10.0.0.7", 80, ForwardMethod::Route)),
                libc::ENOENT,
            ),
            (
                Op::DelDest(key, dest("10.0.0.7", 80, ForwardMethod::Route).key()),
                libc::ENOENT,
            ),
            (Op::AddDest(key, neg), libc::ERANGE),
            (Op::AddDest(key, inverted), libc::ERANGE),
            (Op::AddDest(key, gue), libc::EINVAL),
            (Op::AddDest(key, gue_ok), OK),
            (
                Op::AddDest(key, dest("0.0.0.0", 80, ForwardMethod::Route)),
                libc::EINVAL,
            ),
            (
                Op::AddDest(key, dest("224.0.0.1", 80, ForwardMethod::Route)),
                libc::EINVAL,
            ),
            (
                Op::AddDest(key, dest("255.255.255.255", 80, ForwardMethod::Route)),
                libc::EINVAL,
            ),
            (
                Op::AddDest(key, dest("127.0.0.1", 8080, ForwardMethod::Masq)),
                OK,
            ),
            (
                Op::AddDest(key, dest("127.255.255.255", 80, ForwardMethod::Route)),
                libc::EINVAL,
            ),
            (
                Op::AddDest(key, dest("0.1.2.3", 80, ForwardMethod::Route)),
                OK,
            ),
            (
                Op::AddDest(key, dest("240.0.0.1", 80, ForwardMethod::Route)),
                OK,
            ),
            (
                Op::AddDest(key, dest("10.0.0.2", 81, ForwardMethod::Masq)),
                OK,
            ),
            (Op::AddDest(missing, d2.clone()), libc::ESRCH),
            (Op::EditDest(missing, d2.clone()), libc::ESRCH),
            (Op::DelDest(missing, d2.key()), libc::ESRCH),
            (Op::EditDest(key, quiesce), OK),
            (
                Op::DelDest(key, dest("10.0.0.2", 81, ForwardMethod::Masq).key()),
                OK,
            ),
            (Op::AddDest(key, fwd5.clone()), OK),
            (Op::AddDest(key, fwd5_bad_weight), libc::ERANGE),
            (Op::AddDest(key, gue_on_dr), libc::EINVAL),
            (Op::AddDest(key, mixed_masq), libc::EINVAL),
            (Op::AddDest(key, mixed_masked_tunnel), OK),
        ],
    }
}

fn ipv6_dests() -> Scenario {
    let key = tcp("2001:db8::1", 80);
    let add = |a: &str| Op::AddDest(key, dest(a, 80, ForwardMethod::Masq));
    Scenario {
        name: "ipv6 dests",
        steps: vec![
            (Op::AddService(svc(key, "wlc")), OK),
            (add("fe80::1"), libc::EINVAL),
            (add("ff02::1"), libc::EINVAL),
            (add("::ffff:10.0.0.1"), libc::EINVAL),
            (add("::"), libc::EINVAL),
            (add("::1"), OK),
            (add("2001:db8::2"), OK),
        ],
    }
}

fn mixed_family() -> Scenario {
    let key = tcp("10.0.0.1", 80);
    let v6_dr = dest("2001:db8::2", 80, ForwardMethod::Route);
    let v6_tun = dest("2001:db8::2", 80, ForwardMethod::Tunnel);
    Scenario {
        name: "mixed family",
        steps: vec![
            (Op::AddService(svc(key, "rr")), OK),
            (Op::AddDest(key, v6_dr.clone()), libc::EINVAL),
            (Op::AddDest(key, v6_tun.clone()), OK),
            (Op::EditDest(key, v6_dr.clone()), libc::EINVAL),
            (
                Op::StartDaemon(daemon(DaemonRole::Master, "lo")),
                libc::EINVAL,
            ),
            (Op::DelDest(key, v6_tun.key()), OK),
            (Op::StartDaemon(daemon(DaemonRole::Master, "lo")), OK),
            (Op::AddDest(key, v6_tun), libc::EINVAL),
            (Op::StopDaemon(DaemonRole::Master, 0), OK),
        ],
    }
}

fn daemons() -> Scenario {
    let mut backup6 = daemon(DaemonRole::Backup, "lo");
    backup6.mcast_group = Some(ip("ff02::1234"));
    backup6.syncid = 7;
    let mut bad_group = daemon(DaemonRole::Backup, "lo");
    bad_group.mcast_group = Some(ip("10.0.0.1"));
    let mut bad_state = daemon(DaemonRole::Master, "lo");
    bad_state.state = 3;
    let mut bad_state_and_if = bad_state.clone();
    bad_state_and_if.mcast_ifn = "nosuchif0".into();
    let long_ifname = daemon(DaemonRole::Master, "abcdefghijklmnop");
    let mut sized = daemon(DaemonRole::Master, "lo");
    sized.sync_maxlen = Some(1000);
    sized.mcast_port = Some(9000);
    sized.mcast_ttl = Some(5);
    Scenario {
        name: "daemons",
        steps: vec![
            (Op::StopDaemon(DaemonRole::Master, 0), libc::ESRCH),
            (Op::StartDaemon(sized), OK),
            (
                Op::StartDaemon(daemon(DaemonRole::Master, "lo")),
                libc::EEXIST,
            ),
            (
                Op::StartDaemon(daemon(DaemonRole::Backup, "nosuchif0")),
                libc::ENODEV,
            ),
            (Op::StartDaemon(bad_group), libc::EINVAL),
            (Op::StartDaemon(backup6), OK),
            (Op::StartDaemon(bad_state.clone()), libc::EINVAL),
            (Op::StartDaemon(bad_state_and_if), libc::ENODEV),
            (Op::StartDaemon(long_ifname), libc::EINVAL),
            (
                Op::StartDaemon(daemon(DaemonRole::Master, "nosuchif0")),
                libc::ENODEV,
            ),
        ],
    }
}

fn timeouts_and_flush() -> Scenario {
    let t = |tcp, tcp_fin, udp| Timeouts { tcp, tcp_fin, udp };
    let key = tcp("10.0.0.1", 80);
    Scenario {
        name: "timeouts, zero, flush",
        steps: vec![
            (Op::SetTimeouts(t(0, 60, 0)), OK),
            (Op::SetTimeouts(t(10, 0, 8_589_935)), libc::EINVAL),
            (Op::SetTimeouts(t(8_589_934, 0, 0)), OK),
            (Op::SetTimeouts(t(0x8000_0000, 0, 0)), libc::EINVAL),
            (Op::AddService(svc(key, "rr")), OK),
            (
                Op::AddDest(key, dest("10.0.0.2", 80, ForwardMethod::Masq)),
                OK,
            ),
            (Op::Zero(None), OK),
            (Op::Flush, OK),
            (Op::Flush, OK),
            (Op::DelService(key), libc::ESRCH),
        ],
    }
}
