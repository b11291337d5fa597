//! The kernel tests' table: one configuration written both as ipvsadm command lines and
//! as ops (every scheduler, address family, forwarding method and tunnel variant), plus
//! model shorthands and helpers to compare tables.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::Ipv4Addr;

use lvsctl::ipvs::{
    AddressFamily, Dest, ForwardMethod, Netmask, Op, Protocol, Scheduler, Service, ServiceEntry,
    ServiceFlags, ServiceKey, Tunnel, TunnelCsum, TunnelType,
};

pub fn key(proto: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: proto,
        addr: addr.parse().unwrap(),
        port,
    }
}
pub fn tcp(addr: &str, port: u16) -> ServiceKey {
    key(Protocol::Tcp, addr, port)
}
pub fn fwm(af: AddressFamily, mark: u32) -> ServiceKey {
    ServiceKey::Fwmark { af, mark }
}

pub fn svc(k: ServiceKey, sched: &str) -> Service {
    Service {
        scheduler: Scheduler::new(sched),
        ..Service::new(k)
    }
}
pub fn persistent(mut s: Service, timeout: u32, netmask: Netmask) -> Service {
    s.flags.0 |= ServiceFlags::PERSISTENT;
    s.timeout = timeout;
    s.netmask = netmask;
    s
}
pub fn dest(addr: &str, port: u16, fwd: ForwardMethod, weight: i32) -> Dest {
    Dest {
        fwd,
        weight,
        ..Dest::new(addr.parse().unwrap(), port)
    }
}
pub fn tun(mut d: Dest, kind: TunnelType, port: u16, csum: TunnelCsum) -> Dest {
    d.tunnel = Tunnel { kind, port, csum };
    d
}

/// The same configuration twice: as ipvsadm command lines and as ops.
pub fn scenario() -> Vec<(&'static str, Op)> {
    use ForwardMethod::{Masq, Route, Tunnel as Tun};
    use Op::{AddDest, AddService};
    let v4 = AddressFamily::Inet;
    let v6 = AddressFamily::Inet6;
    let mut sh_flags = svc(tcp("10.1.0.8", 80), "sh");
    sh_flags.flags.0 = ServiceFlags::SCHED1 | ServiceFlags::SCHED2;
    let mut mh_flags = svc(tcp("10.1.0.13", 80), "mh");
    mh_flags.flags.0 = ServiceFlags::SCHED2;
    let mut ops = svc(key(Protocol::Udp, "10.1.0.10", 80), "nq");
    ops.flags.0 = ServiceFlags::ONEPACKET;
    let mut sip = persistent(
        svc(key(Protocol::Udp, "2001:db8::2", 5060), "sh"),
        360,
        Netmask::V6(128),
    );
    sip.pe_name = Some("sip".into());
    let mut thresh = dest("192.168.10.1", 8080, Masq, 5);
    thresh.u_threshold = 100;
    thresh.l_threshold = 10;
    vec![
        (
            "-A -t 10.1.0.1:80 -s rr",
            AddService(svc(tcp("10.1.0.1", 80), "rr")),
        ),
        (
            "-A -t 10.1.0.2:80 -s wrr -p 300 -M 255.255.255.0",
            AddService(persistent(
                svc(tcp("10.1.0.2", 80), "wrr"),
                300,
                Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
            )),
        ),
        (
            "-A -u 10.1.0.3:53 -s lc",
            AddService(svc(key(Protocol::Udp, "10.1.0.3", 53), "lc")),
        ),
        (
            "-A --sctp-service 10.1.0.4:9 -s wlc",
            AddService(svc(key(Protocol::Sctp, "10.1.0.4", 9), "wlc")),
        ),
        (
            "-A -t 10.1.0.5:443 -s lblc",
            AddService(svc(tcp("10.1.0.5", 443), "lblc")),
        ),
        (
            "-A -t 10.1.0.6:443 -s lblcr",
            AddService(svc(tcp("10.1.0.6", 443), "lblcr")),
        ),
        (
            "-A -t 10.1.0.7:80 -s dh",
            AddService(svc(tcp("10.1.0.7", 80), "dh")),
        ),
        (
            "-A -t 10.1.0.8:80 -s sh -b sh-fallback,sh-port",
            AddService(sh_flags),
        ),
        (
            "-A -t 10.1.0.9:80 -s sed",
            AddService(svc(tcp("10.1.0.9", 80), "sed")),
        ),
        ("-A -u 10.1.0.10:80 -s nq -o", AddService(ops)),
        (
            "-A -t 10.1.0.11:80 -s fo",
            AddService(svc(tcp("10.1.0.11", 80), "fo")),
        ),
        (
            "-A -t 10.1.0.12:80 -s ovf",
            AddService(svc(tcp("10.1.0.12", 80), "ovf")),
        ),
        ("-A -t 10.1.0.13:80 -s mh -b mh-port", AddService(mh_flags)),
        (
            "-A -t [2001:db8::1]:80 -s rr -p 60 -M 64",
            AddService(persistent(
                svc(tcp("2001:db8::1", 80), "rr"),
                60,
                Netmask::V6(64),
            )),
        ),
        (
            "-A -u [2001:db8::2]:5060 -s sh -p --pe sip",
            AddService(sip),
        ),
        ("-A -f 1 -s wlc", AddService(svc(fwm(v4, 1), "wlc"))),
        (
            "-A -f 2 -6 -s rr -p 100",
            AddService(persistent(svc(fwm(v6, 2), "rr"), 100, Netmask::V6(128))),
        ),
        (
            "-a -t 10.1.0.1:80 -r 192.168.10.1:8080 -m -w 5 -x 100 -y 10",
            AddDest(tcp("10.1.0.1", 80), thresh),
        ),
        (
            "-a -t 10.1.0.1:80 -r 192.168.10.2 -g -w 0",
            AddDest(tcp("10.1.0.1", 80), dest("192.168.10.2", 80, Route, 0)),
        ),
        (
            "-a -t 10.1.0.1:80 -r 192.168.10.3 -i",
            AddDest(tcp("10.1.0.1", 80), dest("192.168.10.3", 80, Tun, 1)),
        ),
        (
            "-a -t 10.1.0.2:80 -r 192.168.10.4 -i --tun-type gue --tun-port 6080",
            AddDest(
                tcp("10.1.0.2", 80),
                tun(
                    dest("192.168.10.4", 80, Tun, 1),
                    TunnelType::Gue,
                    6080,
                    TunnelCsum::NoCsum,
                ),
            ),
        ),
        (
            "-a -t 10.1.0.2:80 -r 192.168.10.5 -i --tun-type gue --tun-port 6081 --tun-csum",
            AddDest(
                tcp("10.1.0.2", 80),
                tun(
                    dest("192.168.10.5", 80, Tun, 1),
                    TunnelType::Gue,
                    6081,
                    TunnelCsum::Csum,
                ),
            ),
        ),
        (
            "-a -t 10.1.0.2:80 -r 192.168.10.6 -i --tun-type gue --tun-port 6082 --tun-remcsum",
            AddDest(
                tcp("10.1.0.2", 80),
                tun(
                    dest("192.168.10.6", 80, Tun, 1),
                    TunnelType::Gue,
                    6082,
                    TunnelCsum::RemCsum,
                ),
            ),
        ),
        (
            "-a -u 10.1.0.3:53 -r 192.168.10.7 -i --tun-type gre",
            AddDest(
                key(Protocol::Udp, "10.1.0.3", 53),
                tun(
                    dest("192.168.10.7", 53, Tun, 1),
                    TunnelType::Gre,
                    0,
                    TunnelCsum::NoCsum,
                ),
            ),
        ),
        (
            "-a -u 10.1.0.3:53 -r 192.168.10.8 -i --tun-type gre --tun-csum",
            AddDest(
                key(Protocol::Udp, "10.1.0.3", 53),
                tun(
                    dest("192.168.10.8", 53, Tun, 1),
                    TunnelType::Gre,
                    0,
                    TunnelCsum::Csum,
                ),
            ),
        ),
        (
            "-a -t [2001:db8::1]:80 -r [2001:db8::10]:8080 -m -w 3",
            AddDest(tcp("2001:db8::1", 80), dest("2001:db8::10", 8080, Masq, 3)),
        ),
        (
            "-a -t [2001:db8::1]:80 -r 192.168.10.9 -i",
            AddDest(tcp("2001:db8::1", 80), dest("192.168.10.9", 80, Tun, 1)),
        ),
        (
            "-a -f 1 -r 192.168.10.10 -g",
            AddDest(fwm(v4, 1), dest("192.168.10.10", 0, Route, 1)),
        ),
        (
            "-a -f 2 -6 -r 2001:db8::20 -m -w 7",
            AddDest(fwm(v6, 2), dest("2001:db8::20", 0, Masq, 7)),
        ),
        (
            "-a --sctp-service 10.1.0.4:9 -r 192.168.10.11:9 -m",
            AddDest(
                key(Protocol::Sctp, "10.1.0.4", 9),
                dest("192.168.10.11", 9, Masq, 1),
            ),
        ),
    ]
}

pub fn sorted(mut entries: Vec<ServiceEntry>) -> Vec<ServiceEntry> {
    entries.sort_by_key(|e| e.service.key);
    for e in &mut entries {
        e.dests.sort_by_key(Dest::key);
    }
    entries
}

/// The table a list of add ops describes.
pub fn expected_entries(ops: &[Op]) -> Vec<ServiceEntry> {
    let mut out: Vec<ServiceEntry> = Vec::new();
    for op in ops {
        match op {
            Op::AddService(s) => out.push(ServiceEntry {
                service: s.clone(),
                dests: Vec::new(),
            }),
            Op::AddDest(k, d) => out
                .iter_mut()
                .find(|e| e.service.key == *k)
                .expect("service of dest")
                .dests
                .push(d.clone()),
            other => panic!("not an add: {other:?}"),
        }
    }
    sorted(out)
}

pub fn assert_same_config(got: &[ServiceEntry], want: &[ServiceEntry]) {
    assert_eq!(got.len(), want.len(), "service count");
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.service.same_config(&w.service),
            "\n got {:?}\nwant {:?}",
            g.service,
            w.service
        );
        assert_eq!(g.dests.len(), w.dests.len(), "{}", w.service.key);
        for (gd, wd) in g.dests.iter().zip(&w.dests) {
            assert!(gd.same_config(wd), "\n got {gd:?}\nwant {wd:?}");
        }
    }
}

pub fn bulk_ops(services: usize, dests_per: usize) -> Vec<Op> {
    let mut ops = Vec::new();
    for i in 0..services {
        let k = tcp(
            &format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256),
            80,
        );
        ops.push(Op::AddService(svc(k, "wlc")));
        for j in 0..dests_per {
            let addr = format!("172.16.{}.{}", j / 250, j % 250 + 1);
            ops.push(Op::AddDest(k, dest(&addr, 80, ForwardMethod::Route, 1)));
        }
    }
    ops
}
