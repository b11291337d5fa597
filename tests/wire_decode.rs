//! Decoding what a real 6.1 kernel answered (recorded replies, see `wire_fixtures`), plus
//! synthetic replies for the rules ipvsadm applies (required attributes, STATS64
//! preference, unknown attributes skipped) and damaged input that must never panic.
#![allow(clippy::unwrap_used)]

mod wire_fixtures;

use std::net::{IpAddr, Ipv4Addr};

use lvsctl::ipvs::wire;
use lvsctl::ipvs::wire::frame::{self, Reply};
use lvsctl::ipvs::{
    AddressFamily, DaemonRole, Dest, ForwardMethod, Netmask, Protocol, Service, ServiceFlags,
    ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelCsum, TunnelType,
};
use wire_fixtures::{FWM4, FWM6, data_replies, fixture, tcp};

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
