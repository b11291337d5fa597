//! Successful parses, checked against exact model values. Expected values follow what real
//! ipvsadm created in the VM (`ipvsadm -Sn` after the command) where noted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{FakeResolver, argv, err, ok};
use crate::ipvs::model::{
    AddressFamily, DaemonRole, Dest, DestKey, ForwardMethod, Netmask, Protocol, Scheduler, Service,
    ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelCsum, TunnelType,
};
use crate::ipvsadm::parse::{
    IpvsadmCommand as C, ListMode, ListRequest, ListTarget, parse_restore_line,
};

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: v4(addr),
        port,
    }
}

fn add(args: &[&str]) -> Service {
    match ok(args) {
        C::AddService(s) => s,
        other => panic!("{other:?}"),
    }
}

fn add_dest(args: &[&str]) -> (ServiceKey, Dest) {
    match ok(args) {
        C::AddDest(k, d) | C::EditDest(k, d) => (k, d),
        other => panic!("{other:?}"),
    }
}

fn list(args: &[&str]) -> ListRequest {
    match ok(args) {
        C::List(l) => l,
        other => panic!("{other:?}"),
    }
}

#[test]
fn add_service_defaults() {
    let s = add(&["-A", "-t", "1.2.3.4:80"]);
    assert_eq!(s, Service::new(tcp("1.2.3.4", 80)));
    assert_eq!(s.scheduler, Scheduler::new("wlc"));
    assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::BROADCAST));
}

#[test]
fn persistence_values_and_optional_argument() {
    for (args, timeout) in [
        (&["-A", "-t", "1.2.3.4:80", "-p"][..], 360),
        (&["-A", "-p", "-t", "1.2.3.4:80"], 360),
        (&["-Ap100", "-t", "1.2.3.4:80"], 100),
        (&["-Ap", "100", "-t", "1.2.3.4:80"], 100),
        (&["-A", "-t", "1.2.3.4:80", "-p=100"], 100),
        (&["-A", "-t", "1.2.3.4:80", "--persistent", "100"], 100),
        (&["-A", "-t", "1.2.3.4:80", "--persistent=100"], 100),
        (&["-A", "-t", "1.2.3.4:80", "-p", " 5"], 5),
    ] {
        let s = add(args);
        assert_eq!(s.timeout, timeout, "{args:?}");
        assert_eq!(s.flags, ServiceFlags(ServiceFlags::PERSISTENT), "{args:?}");
    }
}

#[test]
fn netmask_depends_on_family_known_at_that_moment() {
    let cases: &[(&[&str], Netmask)] = &[
        (
            &["-A", "-M", "255.255.0.0", "-t", "1.2.3.4:80", "-p"],
            Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)),
        ),
        (
            &["-A", "-t", "1.2.3.4:80", "-M", "24", "-p"],
            Netmask::V4(Ipv4Addr::new(0, 0, 0, 24)),
        ),
        (
            &["-A", "-t", "1.2.3.4:80", "-M", "255.255"],
            Netmask::V4(Ipv4Addr::new(255, 0, 0, 255)),
        ),
        (
            &["-A", "-t", "1.2.3.4:80", "-M", "localhost"],
            Netmask::V4(Ipv4Addr::LOCALHOST),
        ),
        (
            &["-A", "-f", "21", "-M", "64", "-6", "-p"],
            Netmask::V6(128),
        ),
        (
            &["-A", "-f", "5", "-6", "-M", "4294967360", "-p"],
            Netmask::V6(64),
        ),
        (
            &["-A", "-f", "5", "-6", "-M", " 64x", "-p"],
            Netmask::V6(64),
        ),
        (
            &["-A", "-t", "[2001:db8::1]:80", "-p", "-M", "64"],
            Netmask::V6(64),
        ),
        (
            &["-A", "-M", "255.255.255.0", "-t", "[2001:db8::1]:80", "-p"],
            Netmask::V6(128),
        ),
    ];
    for (args, mask) in cases {
        assert_eq!(add(args).netmask, *mask, "{args:?}");
    }
}

#[test]
fn service_address_forms() {
    let key = |args: &[&str]| add(args).key;
    assert_eq!(key(&["-A", "-t", "10:80"]), tcp("0.0.0.10", 80));
    assert_eq!(key(&["-A", "-t", "127.1:080"]), tcp("127.0.0.1", 80));
    assert_eq!(key(&["-A", "-t", "0x7f000002:80"]), tcp("127.0.0.2", 80));
    assert_eq!(key(&["-A", "-t", "01.002.3.0x12:80"]), tcp("1.2.3.18", 80));
    assert_eq!(key(&["-A", "-t", "[1.2.3.4:81]:80"]), tcp("1.2.3.4", 81));
    assert_eq!(key(&["-A", "-t", "[1.2.3.4]:80", "-p"]), tcp("1.2.3.4", 0));
    assert_eq!(key(&["-A", "-t", "1.2.3.4 x:80"]), tcp("1.2.3.4", 80));
    assert_eq!(key(&["-A", "-t", "localhost:http"]), tcp("127.0.0.1", 80));
    assert_eq!(key(&["-At=1.2.3.4:80"]), tcp("1.2.3.4", 80));
    let s = add(&["-A", "-t", "2001:db8::3:80", "-p"]);
    assert_eq!(
        s.key,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: v6("2001:db8::3:80"),
            port: 0
        }
    );
    assert_eq!(s.netmask, Netmask::V6(128));
    assert_eq!(
        key(&["-A", "-u", "10.0.0.13:domain"]),
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: v4("10.0.0.13"),
            port: 53
        }
    );
    assert_eq!(
        key(&["-A", "--sctp-service", "1.2.3.4:80"]),
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: v4("1.2.3.4"),
            port: 80
        }
    );
    assert_eq!(
        key(&["-A", "-f", "4294967295"]),
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: u32::MAX
        }
    );
}

#[test]
fn scheduler_pe_ops_and_flags() {
    assert_eq!(
        add(&["-A", "-t", "1.2.3.4:80", "-s", "0123456789abcdefghij"])
            .scheduler
            .as_str(),
        "0123456789abcde"
    );
    assert_eq!(
        add(&["-A", "-t", "1.2.3.4:80", "-s", ""])
            .scheduler
            .as_str(),
        "wlc"
    );
    let s = add(&[
        "-A",
        "-t",
        "1.2.3.4:80",
        "-b",
        "flag-1,,flag-2,",
        "-s",
        "rr",
    ]);
    assert_eq!(
        s.flags,
        ServiceFlags(ServiceFlags::SCHED1 | ServiceFlags::SCHED2)
    );
    assert_eq!(
        add(&["-A", "-t", "1.2.3.4:80", "-b", ""]).flags,
        ServiceFlags(0)
    );
    let s = add(&[
        "-A",
        "-u",
        "1.2.3.4:53",
        "-o",
        "-s",
        "sh",
        "-b",
        "sh-port,sh-fallback",
    ]);
    assert_eq!(
        s.flags,
        ServiceFlags(ServiceFlags::ONEPACKET | ServiceFlags::SCHED1 | ServiceFlags::SCHED2)
    );
    let s = add(&["-A", "-t", "1.2.3.4:80", "-p", "10", "--pe", "sip"]);
    assert_eq!(s.pe_name.as_deref(), Some("sip"));
    assert_eq!(add(&["-A", "-t", "1.2.3.4:80", "--pe", ""]).pe_name, None);
    assert_eq!(
        add(&["-A", "-f", "1", "-o"]).flags,
        ServiceFlags(ServiceFlags::ONEPACKET)
    );
}

#[test]
fn edit_service_is_a_full_replacement() {
    assert_eq!(
        ok(&["-E", "-t", "1.2.3.4:80"]),
        C::EditService(Service::new(tcp("1.2.3.4", 80)))
    );
}

#[test]
fn comma_only_sched_flags_never_crash() {
    assert_eq!(
        err(&["-A", "-t", "1.2.3.4:80", "-b", ","]),
        ("invalid scheduler flag `,'".into(), 2)
    );
    assert_eq!(
        err(&["-A", "-t", "1.2.3.4:80", "-b", ",,,"]),
        ("invalid scheduler flag `,,,'".into(), 2)
    );
}

#[test]
fn real_server_ports_and_forwarding() {
    let cases: &[(&[&str], u16, ForwardMethod)] = &[
        (
            &["-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1:8080"],
            80,
            ForwardMethod::Route,
        ),
        (
            &["-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1:8080", "-i"],
            80,
            ForwardMethod::Tunnel,
        ),
        (
            &["-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1:8080", "-m"],
            8080,
            ForwardMethod::Masq,
        ),
        (
            &["-a", "-r", "10.1.1.1", "-t", "10.0.0.1:80", "-m"],
            0,
            ForwardMethod::Masq,
        ),
        (
            &["-a", "-r", "10.1.1.1", "-t", "10.0.0.1:80", "-g"],
            80,
            ForwardMethod::Route,
        ),
        (
            &["-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1", "-m"],
            80,
            ForwardMethod::Masq,
        ),
        (
            &["-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1:http", "-m"],
            80,
            ForwardMethod::Masq,
        ),
        (
            &["-a", "-f", "3", "-r", "10.1.1.1:8080"],
            8080,
            ForwardMethod::Route,
        ),
        (
            &["-a", "-f", "3", "-r", "10.1.1.1", "-i"],
            0,
            ForwardMethod::Tunnel,
        ),
    ];
    for (args, port, fwd) in cases {
        let (_, d) = add_dest(args);
        assert_eq!(
            (d.addr, d.port, d.fwd),
            (v4("10.1.1.1"), *port, *fwd),
            "{args:?}"
        );
    }
}

#[test]
fn real_server_values_and_edit_defaults() {
    let (key, d) = add_dest(&[
        "-a",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.1.1.1",
        "-m",
        "-w",
        "0",
        "-x",
        "100",
        "-y",
        "50",
    ]);
    assert_eq!(key, tcp("10.0.0.1", 80));
    assert_eq!((d.weight, d.u_threshold, d.l_threshold), (0, 100, 50));
    let (_, d) = add_dest(&["-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1", "-w", "-0"]);
    assert_eq!(d.weight, 0);
    let (_, d) = add_dest(&[
        "-a",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.1.1.1",
        "-w",
        "2147483647",
    ]);
    assert_eq!(d.weight, i32::MAX);
    // -e without -m turns a NAT real server into DR with default thresholds: ipvsadm's -e
    // replaces the real server's settings with those given and defaults for the rest.
    assert_eq!(
        ok(&["-e", "-t", "10.0.0.1:80", "-r", "10.1.1.1:8080", "-w", "3"]),
        C::EditDest(
            tcp("10.0.0.1", 80),
            Dest {
                weight: 3,
                ..Dest::new(v4("10.1.1.1"), 80)
            }
        )
    );
}

#[test]
fn tunnel_settings() {
    let (_, d) = add_dest(&[
        "-a",
        "-t",
        "1.2.3.4:80",
        "-r",
        "[::1]:80",
        "-i",
        "--tun-type",
        "gue",
        "--tun-port",
        "6080",
        "--tun-csum",
    ]);
    assert_eq!(d.addr, v6("::1"));
    assert_eq!(
        d.tunnel,
        Tunnel {
            kind: TunnelType::Gue,
            port: 6080,
            csum: TunnelCsum::Csum
        }
    );
    let (_, d) = add_dest(&[
        "-a",
        "-t",
        "1.2.3.4:80",
        "-r",
        "1.1.1.1",
        "-i",
        "--tun-type",
        "gre",
        "--tun-nocsum",
    ]);
    assert_eq!(
        d.tunnel,
        Tunnel {
            kind: TunnelType::Gre,
            port: 0,
            csum: TunnelCsum::NoCsum
        }
    );
    let (_, d) = add_dest(&[
        "-a",
        "-t",
        "1.2.3.4:80",
        "-r",
        "1.1.1.1",
        "-i",
        "--tun-type",
        "gue",
        "--tun-port",
        "5",
        "--tun-remcsum",
    ]);
    assert_eq!(d.tunnel.csum, TunnelCsum::RemCsum);
    let (_, d) = add_dest(&["-a", "-t", "1.2.3.4:80", "-r", "1.1.1.1", "-i"]);
    assert_eq!(d.tunnel, Tunnel::default());
}

#[test]
fn delete_and_zero() {
    let key = DestKey {
        addr: v4("10.1.1.1"),
        port: 8080,
    };
    assert_eq!(
        ok(&["-d", "-t", "10.0.0.1:80", "-r", "10.1.1.1:8080"]),
        C::DelDest(tcp("10.0.0.1", 80), key)
    );
    let key = DestKey {
        addr: v4("10.1.1.1"),
        port: 80,
    };
    assert_eq!(
        ok(&["-d", "-t", "10.0.0.1:80", "-r", "10.1.1.1"]),
        C::DelDest(tcp("10.0.0.1", 80), key)
    );
    assert_eq!(
        ok(&["-D", "-f", "9", "-6"]),
        C::DelService(ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark: 9
        })
    );
    assert_eq!(ok(&["-Z"]), C::Zero(None));
    assert_eq!(
        ok(&["-Z", "-t", "1.2.3.4:80"]),
        C::Zero(Some(tcp("1.2.3.4", 80)))
    );
}

#[test]
fn simple_commands() {
    assert_eq!(ok(&["-C"]), C::Flush);
    assert_eq!(ok(&["--clear"]), C::Flush);
    assert_eq!(ok(&["-R"]), C::Restore);
    assert_eq!(ok(&["-S"]), C::Save { numeric: false });
    assert_eq!(ok(&["-Sn"]), C::Save { numeric: true });
    assert_eq!(ok(&["-h", "-A"]), C::Help);
    assert_eq!(ok(&["-h", "-Q"]), C::Help);
    assert_eq!(ok(&["--help"]), C::Help);
    assert_eq!(ok(&["-v", "-Z"]), C::Version);
    assert_eq!(ok(&["--version", "--foo"]), C::Version);
    assert_eq!(
        ok(&["--set", "900", "120", "+300"]),
        C::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        })
    );
    assert_eq!(
        ok(&["--set", "0", "0", "0"]),
        C::SetTimeouts(Timeouts::default())
    );
}

#[test]
fn sync_daemons() {
    assert_eq!(
        ok(&["--start-daemon", "master"]),
        C::StartDaemon(SyncDaemon::new(DaemonRole::Master, "eth0", 0))
    );
    let want = SyncDaemon {
        sync_maxlen: Some(1472),
        mcast_group: Some(v6("ff02::1")),
        mcast_port: Some(8848),
        mcast_ttl: Some(1),
        ..SyncDaemon::new(DaemonRole::Backup, "lo", 5)
    };
    assert_eq!(
        ok(&[
            "--start-daemon=backup",
            "--mcast-group",
            "ff02::1",
            "--mcast-port",
            "8848",
            "--mcast-ttl",
            "1",
            "--sync-maxlen",
            "1472",
            "--syncid",
            "5",
            "--mcast-interface",
            "lo",
        ]),
        C::StartDaemon(want)
    );
    let group = ok(&["--start-daemon", "master", "--mcast-group", "224.0.0.81"]);
    assert!(matches!(group, C::StartDaemon(d) if d.mcast_group == Some(v4("224.0.0.81"))));
    assert_eq!(
        ok(&["--stop-daemon", "backup", "--syncid", "5"]),
        C::StopDaemon(DaemonRole::Backup, 5)
    );
    assert_eq!(
        ok(&["--stop-daemon", "master"]),
        C::StopDaemon(DaemonRole::Master, 0)
    );
}

#[test]
fn listing_requests() {
    assert_eq!(super::run(&[]).unwrap(), C::List(ListRequest::default()));
    assert_eq!(list(&["-L"]), ListRequest::default());
    assert_eq!(
        list(&["-Ln"]),
        ListRequest {
            numeric: true,
            ..ListRequest::default()
        }
    );
    let l = list(&["-lcn"]);
    assert_eq!((l.target, l.numeric), (ListTarget::Connections, true));
    let l = list(&["-L", "-c", "--persistent-conn"]);
    assert_eq!(
        (l.target, l.persistent_conn),
        (ListTarget::Connections, true)
    );
    assert_eq!(list(&["-L", "--stats", "--rate"]).mode, ListMode::Stats);
    assert_eq!(list(&["-L", "--thresholds", "--rate"]).mode, ListMode::Rate);
    assert_eq!(
        list(&["-L", "--tun-info", "--thresholds"]).mode,
        ListMode::Thresholds
    );
    assert_eq!(
        list(&["-L", "--tun-info", "--persistent-conn"]).mode,
        ListMode::PersistentConn
    );
    assert_eq!(list(&["-L", "--tun-info"]).mode, ListMode::TunInfo);
    assert_eq!(
        list(&["-L", "-t", "short:8080"]).target,
        ListTarget::Service(tcp("10.0.0.99", 8080))
    );
    assert_eq!(list(&["-L", "--timeout"]).target, ListTarget::Timeouts);
    assert_eq!(list(&["-L", "--daemon"]).target, ListTarget::Daemons);
    let l = list(&["-L", "--sort", "--nosort", "-X", "--sort", "--syncid", "5"]);
    assert!(l.nosort && l.exact && !l.numeric);
    assert_eq!(list(&["-l", "-nc"]).target, ListTarget::Connections);
    assert_eq!(list(&["-L", "--"]), ListRequest::default());
}

#[test]
fn restore_lines_refuse_nested_restore_after_other_checks() {
    let run = |args: &[&str]| parse_restore_line("ipvsadm", &argv(args), &FakeResolver);
    let e = run(&["-R"]).unwrap_err();
    assert_eq!(
        e.message,
        "Try `ipvsadm -h' or 'ipvsadm --help' for more information."
    );
    assert!(e.kind.aborts_restore() && e.exit_code == 255);
    let e = run(&["-R", "-n"]).unwrap_err();
    assert_eq!(
        e.message,
        "Illegal 'numeric' option with the 'restore' command"
    );
    let e = run(&["-A", "-t", "10.0.0.1:80", "-Q"]).unwrap_err();
    assert!(!e.kind.aborts_restore() && e.exit_code == 255);
    assert!(run(&["-A", "-t", "10.0.0.1:80"]).is_ok());
}
