//! Golden-byte tests: our encoder against what real ipvsadm 1.31 sent for the same command
//! (fixtures: see `wire_fixtures`).
#![allow(clippy::unwrap_used)]

mod wire_fixtures;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lvsctl::ipvs::wire;
use lvsctl::ipvs::wire::frame::{self, Reply};
use lvsctl::ipvs::{
    DaemonRole, DestKey, ForwardMethod, Netmask, Op, Protocol, Service, ServiceFlags, ServiceKey,
    SyncDaemon, Timeouts, Tunnel, TunnelCsum, TunnelType,
};
use wire_fixtures::{FWM4, FWM6, dest, fixture, framed, hexs, svc, tcp};

/// The command ipvsadm sent after its GET_INFO handshake.
fn command_of(name: &str) -> Vec<u8> {
    let (sent, _) = fixture(name);
    assert_eq!(
        sent[0],
        framed(&wire::get_info().unwrap()),
        "{name}: GET_INFO first"
    );
    assert_eq!(sent.len(), 2, "{name}: one command after GET_INFO");
    sent[1].clone()
}

fn assert_op(name: &str, op: &Op) {
    let ours = framed(&wire::encode_op(op).unwrap());
    assert_eq!(hexs(&ours), hexs(&command_of(name)), "{name}");
}

#[test]
fn services_encode_like_ipvsadm() {
    let mut s = svc(tcp("10.0.0.1", 80), "rr");
    s.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    s.timeout = 100;
    s.netmask = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
    assert_op("add_svc_v4_persist", &Op::AddService(s));

    let mut s = svc(
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "10.0.0.2".parse().unwrap(),
            port: 5060,
        },
        "sh",
    );
    s.flags = ServiceFlags(0x15);
    s.timeout = 360;
    s.pe_name = Some("sip".into());
    assert_op("add_svc_pe", &Op::AddService(s));

    assert_op(
        "add_svc_v6",
        &Op::AddService(svc(tcp("2001:db8::1", 443), "wlc")),
    );
    assert_op("add_fwm6", &Op::AddService(svc(FWM6, "rr")));
    let mut s = svc(FWM4, "wlc");
    s.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    s.timeout = 360;
    assert_op("add_fwm4", &Op::AddService(s));

    let mut s = svc(
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: "10.0.0.3".parse().unwrap(),
            port: 9,
        },
        "mh",
    );
    s.flags = ServiceFlags(ServiceFlags::SCHED1 | ServiceFlags::SCHED2);
    assert_op("add_svc_sctp", &Op::AddService(s));

    let mut s = svc(tcp("2001:db8::2", 80), "lc");
    s.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    s.timeout = 60;
    s.netmask = Netmask::V6(64);
    assert_op("add_svc_v6_mask", &Op::AddService(s));

    assert_op(
        "edit_svc",
        &Op::EditService(svc(tcp("10.0.0.1", 80), "wlc")),
    );
    assert_op(
        "err_add_svc_eexist",
        &Op::AddService(svc(tcp("10.0.0.1", 80), "wlc")),
    );
}

#[test]
fn hashed_bit_is_never_sent() {
    let mut s = svc(tcp("10.0.0.1", 80), "wlc");
    let plain = wire::encode_op(&Op::EditService(s.clone())).unwrap();
    s.flags = ServiceFlags(ServiceFlags::HASHED);
    assert_eq!(wire::encode_op(&Op::EditService(s)).unwrap(), plain);
}

#[test]
fn dests_encode_like_ipvsadm() {
    let vip = tcp("10.0.0.1", 80);
    let mut d = dest("192.168.0.1", 8080, ForwardMethod::Masq, 5);
    d.u_threshold = 10;
    d.l_threshold = 2;
    assert_op("add_dest_masq", &Op::AddDest(vip, d));

    let mut d = dest("192.168.0.2", 80, ForwardMethod::Tunnel, 1);
    d.tunnel = Tunnel {
        kind: TunnelType::Gue,
        port: 6080,
        csum: TunnelCsum::RemCsum,
    };
    assert_op("add_dest_gue", &Op::AddDest(vip, d));
    let mut d = dest("192.168.0.3", 80, ForwardMethod::Tunnel, 1);
    d.tunnel = Tunnel {
        kind: TunnelType::Gre,
        port: 0,
        csum: TunnelCsum::Csum,
    };
    assert_op("add_dest_gre", &Op::AddDest(vip, d));
    assert_op(
        "add_dest_dr",
        &Op::AddDest(vip, dest("192.168.0.4", 80, ForwardMethod::Route, 0)),
    );
    assert_op(
        "add_dest_v6",
        &Op::AddDest(
            tcp("2001:db8::1", 443),
            dest("2001:db8::10", 443, ForwardMethod::Masq, 1),
        ),
    );
    assert_op(
        "add_dest_fwm6",
        &Op::AddDest(FWM6, dest("2001:db8::20", 0, ForwardMethod::Route, 1)),
    );
    assert_op(
        "add_dest_fwm4",
        &Op::AddDest(FWM4, dest("192.168.1.1", 0, ForwardMethod::Tunnel, 1)),
    );
    let udp = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: "10.0.0.2".parse().unwrap(),
        port: 5060,
    };
    assert_op(
        "add_dest_udp",
        &Op::AddDest(udp, dest("192.168.0.9", 5060, ForwardMethod::Masq, 1)),
    );
    assert_op(
        "edit_dest",
        &Op::EditDest(vip, dest("192.168.0.1", 8080, ForwardMethod::Masq, 3)),
    );
    assert_op(
        "err_add_dest_esrch",
        &Op::AddDest(
            tcp("10.0.0.9", 80),
            dest("192.168.0.1", 80, ForwardMethod::Route, 1),
        ),
    );
    let dk = |a: &str, port| DestKey {
        addr: a.parse().unwrap(),
        port,
    };
    assert_op("del_dest", &Op::DelDest(vip, dk("192.168.0.1", 8080)));
    assert_op(
        "del_dest_v6",
        &Op::DelDest(tcp("2001:db8::1", 443), dk("2001:db8::10", 443)),
    );
}

#[test]
fn other_commands_encode_like_ipvsadm() {
    assert_op("zero_all", &Op::Zero(None));
    assert_op("zero_svc", &Op::Zero(Some(tcp("10.0.0.1", 80))));
    assert_op("zero_fwm6", &Op::Zero(Some(FWM6)));
    assert_op("del_fwm4", &Op::DelService(FWM4));
    assert_op("del_fwm6", &Op::DelService(FWM6));
    assert_op("del_svc_v6", &Op::DelService(tcp("2001:db8::1", 443)));
    assert_op("del_svc", &Op::DelService(tcp("10.0.0.1", 80)));
    assert_op("flush", &Op::Flush);
    assert_op(
        "set_timeouts",
        &Op::SetTimeouts(Timeouts {
            tcp: 100,
            tcp_fin: 20,
            udp: 30,
        }),
    );
    let backup = SyncDaemon {
        sync_maxlen: Some(1000),
        mcast_group: Some(IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3))),
        mcast_port: Some(9000),
        mcast_ttl: Some(5),
        ..SyncDaemon::new(DaemonRole::Backup, "eth0", 7)
    };
    assert_op("start_daemon_backup", &Op::StartDaemon(backup));
    let master = SyncDaemon {
        mcast_group: Some(IpAddr::V6("ff02::1234".parse::<Ipv6Addr>().unwrap())),
        ..SyncDaemon::new(DaemonRole::Master, "eth0", 0)
    };
    assert_op("start_daemon_master6", &Op::StartDaemon(master));
    assert_op("stop_daemon_backup", &Op::StopDaemon(DaemonRole::Backup, 0));
    assert_op("stop_daemon_master", &Op::StopDaemon(DaemonRole::Master, 3));
}

#[test]
fn queries_encode_like_ipvsadm() {
    assert_eq!(
        command_of("get_timeouts"),
        framed(&wire::get_timeouts().unwrap())
    );
    assert_eq!(
        command_of("get_daemons"),
        framed(&wire::get_daemons().unwrap())
    );
    let (sent, _) = fixture("list_one");
    assert_eq!(
        hexs(&sent[1]),
        hexs(&framed(&wire::get_service(&tcp("10.0.0.1", 80)).unwrap()))
    );
    assert_eq!(
        hexs(&sent[2]),
        hexs(&framed(&wire::get_dests(&tcp("10.0.0.1", 80)).unwrap()))
    );
}

#[test]
fn full_listing_requests_and_replies() {
    let (sent, recvd) = fixture("list");
    assert_eq!(sent[1], framed(&wire::get_services().unwrap()));
    // The service dump is the first reply datagram after GET_INFO's.
    let services: Vec<Service> = frame::split(&recvd[1..].concat())
        .unwrap()
        .iter()
        .take_while(|m| m.is_multi() && m.ty == 0)
        .map(|m| match m.reply().unwrap() {
            Reply::Data(p) => wire::decode_service(p).unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(services.len(), 7);
    assert_eq!(sent.len(), 2 + services.len(), "one GET_DEST per service");
    // ipvsadm sorts before asking for dests, so compare as sets.
    let mut ours: Vec<String> = services
        .iter()
        .map(|s| hexs(&framed(&wire::get_dests(&s.key).unwrap())))
        .collect();
    let mut theirs: Vec<String> = sent[2..].iter().map(|m| hexs(m)).collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    eprintln!("{services:#?}");
}

#[test]
fn oversized_strings_are_refused_not_truncated() {
    let long = "x".repeat(5000);
    let s = svc(tcp("10.0.0.1", 80), &long);
    assert!(matches!(
        wire::encode_op(&Op::AddService(s)),
        Err(wire::WireError::TooLong(_))
    ));
    let d = SyncDaemon::new(DaemonRole::Master, long, 0);
    assert!(wire::encode_op(&Op::StartDaemon(d)).is_err());
    // Names ipvsadm would reject locally still encode: the kernel has the last word.
    let s = svc(tcp("10.0.0.1", 80), "a-scheduler-name-too-long-for-ipvs");
    assert!(wire::encode_op(&Op::AddService(s)).is_ok());
}
