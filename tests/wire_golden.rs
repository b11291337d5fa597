//! Golden-byte tests: our encoder against what real ipvsadm 1.31 sent, our decoder against
//! what a real 6.1 kernel answered. Fixtures were recorded in the IPVS VM with
//! `tests/fixtures/wire/capture.sh` (strace of ipvsadm) and normalised by `extract.py`
//! (seq, pid and family id zeroed; family resolution dropped).
#![allow(clippy::unwrap_used)] // test helpers: a bad fixture should panic loudly

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lvsctl::ipvs::wire::frame::{self, Reply};
use lvsctl::ipvs::wire::{self, Request};
use lvsctl::ipvs::{
    AddressFamily, DaemonRole, Dest, DestKey, ForwardMethod, Netmask, Op, Protocol, Scheduler,
    Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelCsum, TunnelType,
};

fn fixture(name: &str) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let path = format!(
        "{}/tests/fixtures/wire/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut sent, mut recvd) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| l.len() > 2) {
        let bytes = hex(&line[2..]);
        if line.starts_with('>') {
            sent.push(bytes);
        } else {
            recvd.push(bytes);
        }
    }
    (sent, recvd)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn framed(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    req.push(&mut out, 0, 0, 0);
    out
}

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

fn hexs(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        use std::fmt::Write;
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: addr.parse().unwrap(),
        port,
    }
}

fn svc(key: ServiceKey, sched: &str) -> Service {
    Service {
        scheduler: Scheduler::new(sched),
        ..Service::new(key)
    }
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod, weight: i32) -> Dest {
    Dest {
        fwd,
        weight,
        ..Dest::new(addr.parse().unwrap(), port)
    }
}

const FWM6: ServiceKey = ServiceKey::Fwmark {
    af: AddressFamily::Inet6,
    mark: 7,
};
const FWM4: ServiceKey = ServiceKey::Fwmark {
    af: AddressFamily::Inet,
    mark: 5,
};

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

/// Data messages of a fixture's replies, in order (acks and DONE dropped).
fn data_replies(name: &str) -> Vec<Vec<u8>> {
    let (_, recvd) = fixture(name);
    recvd
        .iter()
        .skip(1) // GET_INFO reply
        .flat_map(|m| frame::split(m).unwrap())
        .filter_map(|m| match m.reply().unwrap() {
            Reply::Data(p) => Some(p.to_vec()),
            _ => None,
        })
        .collect()
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

/// Decode a listing reply: service messages carry SERVICE, dest messages DEST.
fn decode_listing(name: &str) -> (Vec<Service>, Vec<Dest>) {
    let (mut services, mut dests) = (Vec::new(), Vec::new());
    for m in data_replies(name) {
        match wire::decode_service(&m) {
            Ok(s) => services.push(s),
            Err(_) => dests.push(wire::decode_dest(&m, AddressFamily::Inet).unwrap()),
        }
    }
    (services, dests)
}

#[test]
fn listing_replies_decode_to_the_configured_table() {
    let (services, dests) = decode_listing("list");
    let find = |k: ServiceKey| services.iter().find(|s| s.key == k).unwrap().clone();
    let udp = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: "10.0.0.2".parse().unwrap(),
        port: 5060,
    };
    let sip = find(udp);
    assert_eq!(sip.scheduler.as_str(), "sh");
    assert_eq!(sip.flags.configured(), ServiceFlags(0x15));
    assert!(
        sip.flags.contains(ServiceFlags::HASHED),
        "kernel reports HASHED"
    );
    assert_eq!((sip.timeout, sip.pe_name.as_deref()), (360, Some("sip")));
    assert_eq!(sip.netmask, Netmask::V4(Ipv4Addr::BROADCAST));
    let v6 = find(tcp("2001:db8::2", 80));
    assert_eq!((v6.scheduler.as_str(), v6.timeout), ("lc", 60));
    assert_eq!(v6.netmask, Netmask::V6(64));
    assert_eq!(find(FWM6).scheduler.as_str(), "rr");
    assert_eq!(find(FWM6).netmask, Netmask::V6(128));
    assert!(find(FWM4).flags.persistent());
    let sctp = find(ServiceKey::Addr {
        protocol: Protocol::Sctp,
        addr: "10.0.0.3".parse().unwrap(),
        port: 9,
    });
    assert_eq!(
        sctp.flags.sched_bits(),
        ServiceFlags::SCHED1 | ServiceFlags::SCHED2
    );
    assert_eq!(services.len(), 7);

    let by_addr = |a: &str| {
        dests
            .iter()
            .find(|d| d.addr == a.parse::<IpAddr>().unwrap())
            .unwrap()
    };
    let gue = by_addr("192.168.0.2");
    assert_eq!(
        gue.tunnel,
        Tunnel {
            kind: TunnelType::Gue,
            port: 6080,
            csum: TunnelCsum::RemCsum
        }
    );
    assert_eq!(by_addr("192.168.0.3").tunnel.kind, TunnelType::Gre);
    assert_eq!(by_addr("192.168.0.3").tunnel.csum, TunnelCsum::Csum);
    let masq = by_addr("192.168.0.1");
    assert_eq!(
        (masq.port, masq.fwd, masq.weight),
        (8080, ForwardMethod::Masq, 3)
    );
    // `-e` resets unspecified fields: the thresholds set by `-a -x 10 -y 2` are gone.
    assert_eq!((masq.u_threshold, masq.l_threshold), (0, 0));
    assert_eq!(by_addr("192.168.0.4").weight, 0);
    assert_eq!(by_addr("2001:db8::20").port, 0);
    assert_eq!(by_addr("192.168.1.1").fwd, ForwardMethod::Tunnel);
    assert_eq!(by_addr("192.168.0.9").port, 5060);
    assert_eq!(dests.len(), 8);
}

#[test]
fn single_service_timeouts_daemons_info_and_errors_decode() {
    let one = data_replies("list_one");
    assert_eq!(
        wire::decode_service(&one[0]).unwrap().key,
        tcp("10.0.0.1", 80)
    );
    let t = wire::decode_timeouts(&data_replies("get_timeouts")[0]).unwrap();
    assert_eq!(
        t,
        Timeouts {
            tcp: 100,
            tcp_fin: 20,
            udp: 30
        }
    );
    let daemons: Vec<SyncDaemon> = data_replies("get_daemons")
        .iter()
        .map(|m| wire::decode_daemon(m).unwrap())
        .collect();
    assert_eq!(daemons.len(), 2);
    let backup = daemons
        .iter()
        .find(|d| d.role() == Some(DaemonRole::Backup))
        .unwrap();
    assert_eq!((backup.mcast_ifn.as_str(), backup.syncid), ("eth0", 7));
    assert_eq!(
        backup.mcast_group,
        Some(IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3)))
    );
    assert_eq!((backup.mcast_port, backup.mcast_ttl), (Some(9000), Some(5)));
    let master = daemons
        .iter()
        .find(|d| d.role() == Some(DaemonRole::Master))
        .unwrap();
    assert_eq!(master.mcast_group, Some("ff02::1234".parse().unwrap()));
    assert_eq!((master.mcast_port, master.mcast_ttl), (Some(8848), Some(1)));

    let (_, recvd) = fixture("info");
    let info_msg = frame::split(&recvd[0]).unwrap()[0];
    let Reply::Data(p) = info_msg.reply().unwrap() else {
        panic!()
    };
    let info = wire::decode_info(p).unwrap();
    assert_eq!(
        (info.version_triple(), info.conn_tab_size),
        ((1, 2, 1), 4096)
    );

    for (name, errno) in [
        ("err_add_dest_esrch", libc::ESRCH),
        ("err_add_svc_eexist", libc::EEXIST),
    ] {
        let (_, recvd) = fixture(name);
        let last = recvd.last().unwrap();
        assert_eq!(
            frame::split(last).unwrap()[0].reply().unwrap(),
            Reply::Error(errno)
        );
    }
    let (_, recvd) = fixture("flush");
    assert_eq!(
        frame::split(recvd.last().unwrap()).unwrap()[0]
            .reply()
            .unwrap(),
        Reply::Ack
    );
}

#[test]
fn required_attributes_are_enforced_and_optional_ones_defaulted() {
    use lvsctl::ipvs::wire::attr::{attr, nest};
    use lvsctl::ipvs::wire::consts::{CmdAttr, IpvsCmd, StatsAttr, SvcAttr};
    use neli::ToBytes;
    use neli::genl::{Genlmsghdr, GenlmsghdrBuilder};
    use neli::types::GenlBuffer;

    let body = |svc: Vec<neli::genl::Nlattr<SvcAttr, neli::types::Buffer>>| {
        let top = nest(CmdAttr::Service, &svc).unwrap();
        let g: Genlmsghdr<IpvsCmd, CmdAttr> = GenlmsghdrBuilder::default()
            .cmd(IpvsCmd::NewService)
            .version(1)
            .attrs(std::iter::once(top).collect::<GenlBuffer<_, _>>())
            .build()
            .unwrap();
        let mut c = std::io::Cursor::new(Vec::new());
        g.to_bytes(&mut c).unwrap();
        c.into_inner()
    };
    let stats = |t: SvcAttr, wide: bool, base: u64| {
        let mut v = Vec::new();
        for n in 1..=10u16 {
            let val = base + u64::from(n);
            let bytes = n == 4 || n == 5;
            v.push(if wide || bytes {
                attr(StatsAttr::from(n), val).unwrap()
            } else {
                attr(StatsAttr::from(n), val as u32).unwrap()
            });
        }
        v.push(attr(StatsAttr::from(11), 0u32).unwrap()); // PAD
        nest(t, &v).unwrap()
    };
    let mut flags = [0u8; 8];
    flags[..4].copy_from_slice(&0x0fu32.to_ne_bytes());
    flags[4..].copy_from_slice(&0x05u32.to_ne_bytes());
    let base = || {
        vec![
            attr(SvcAttr::Af, 2u16).unwrap(),
            attr(SvcAttr::Fwmark, 3u32).unwrap(),
            attr(SvcAttr::SchedName, "rr").unwrap(),
            attr(SvcAttr::Flags, flags).unwrap(),
            attr(SvcAttr::Timeout, 0u32).unwrap(),
            attr(SvcAttr::Netmask, u32::MAX).unwrap(),
            attr(SvcAttr::from(200), 1u32).unwrap(), // unknown: skipped
        ]
    };
    let s = wire::decode_service(&body(base())).unwrap();
    assert_eq!(s.key, FWM4_3);
    assert_eq!(s.flags, ServiceFlags(0x05), "flags & mask, as ipvsadm");
    assert_eq!(s.stats.conns, 0, "no stats nest: zero");

    let mut both = base();
    both.push(stats(SvcAttr::Stats, false, 100));
    both.push(stats(SvcAttr::Stats64, true, 1 << 40));
    let s = wire::decode_service(&body(both)).unwrap();
    assert_eq!(s.stats.conns, (1 << 40) + 1, "STATS64 preferred");
    assert_eq!(s.rates.outbps, (1 << 40) + 10);
    let mut only32 = base();
    only32.push(stats(SvcAttr::Stats, false, 100));
    let s = wire::decode_service(&body(only32)).unwrap();
    assert_eq!((s.stats.conns, s.stats.inbytes), (101, 104));

    for missing in [
        SvcAttr::Af,
        SvcAttr::SchedName,
        SvcAttr::Flags,
        SvcAttr::Timeout,
        SvcAttr::Netmask,
    ] {
        let v: Vec<_> = base()
            .into_iter()
            .filter(|a| *a.nla_type().nla_type() != missing)
            .collect();
        assert!(
            wire::decode_service(&body(v)).is_err(),
            "{missing:?} is required"
        );
    }
    let no_proto: Vec<_> = base()
        .into_iter()
        .filter(|a| *a.nla_type().nla_type() != SvcAttr::Fwmark)
        .collect();
    assert!(
        wire::decode_service(&body(no_proto)).is_err(),
        "no fwmark and no protocol"
    );
    // A stats nest with a counter missing fails, like ipvsadm.
    let mut short = base();
    short.push(nest(SvcAttr::Stats64, &[attr(StatsAttr::Conns, 1u64).unwrap()]).unwrap());
    assert!(wire::decode_service(&body(short)).is_err());
}

const FWM4_3: ServiceKey = ServiceKey::Fwmark {
    af: AddressFamily::Inet,
    mark: 3,
};

/// Every recorded reply, truncated at every length and with single bytes clobbered: the
/// decoders may fail but must never panic.
#[test]
fn decoders_never_panic_on_damaged_replies() {
    let names = ["list", "list_one", "get_daemons", "get_timeouts", "info"];
    for name in names {
        for m in data_replies(name) {
            let try_all = |b: &[u8]| {
                let _ = wire::decode_service(b);
                let _ = wire::decode_dest(b, AddressFamily::Inet6);
                let _ = wire::decode_daemon(b);
                let _ = wire::decode_timeouts(b);
                let _ = wire::decode_info(b);
                let _ = lvsctl::ipvs::wire::ctrl::family_id(b);
            };
            for n in 0..m.len() {
                try_all(&m[..n]);
            }
            for i in 0..m.len() {
                for v in [0x00, 0xff, 0x01] {
                    let mut d = m.clone();
                    d[i] = v;
                    try_all(&d);
                }
            }
        }
    }
    for n in 0..40 {
        let _ = frame::split(&vec![0xffu8; n]);
        let _ = frame::split(&vec![0x10u8; n]);
    }
}
