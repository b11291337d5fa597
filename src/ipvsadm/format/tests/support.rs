//! Builders and a fake resolver for the format tests.

use std::io;
use std::net::IpAddr;

use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Netmask, Protocol, Scheduler, Service, ServiceEntry,
    ServiceFlags, ServiceKey, Tunnel, TunnelCsum, TunnelType,
};
use crate::names::{Family, Resolver};

/// `/etc/hosts` + Debian 12 `/etc/services`, restricted to what the captures used.
#[derive(Debug)]
pub struct FakeNames {
    hosts: Vec<(IpAddr, &'static str)>,
}

/// Debian 12 `/etc/services` entries for the ports the captures show.
const SERVICES: [(u16, &str, &str); 11] = [
    (22, "tcp", "ssh"),
    (53, "tcp", "domain"),
    (53, "udp", "domain"),
    (80, "tcp", "http"),
    (443, "tcp", "https"),
    (443, "udp", "https"),
    (5060, "tcp", "sip"),
    (5060, "udp", "sip"),
    (5353, "udp", "mdns"),
    (8080, "tcp", "http-alt"),
    (8081, "tcp", "tproxy"),
];

impl FakeNames {
    /// The stock VM: only `localhost`.
    pub fn vm() -> Self {
        Self {
            hosts: vec![(ip("127.0.0.1"), "localhost")],
        }
    }

    /// The hosts file bind-mounted over `/etc/hosts` when the e5 captures were made.
    pub fn e5_hosts() -> Self {
        Self {
            hosts: vec![
                (ip("127.0.0.1"), "localhost"),
                (ip("10.1.1.1"), "averyveryveryverylonghostname.example.com"),
                (ip("10.1.1.2"), "short"),
                (ip("10.1.1.3"), "exactly-twenty-three-ch"),
                (
                    ip("192.168.7.7"),
                    "a-really-long-real-server-name.example.org",
                ),
            ],
        }
    }

    /// Hosts from an `/etc/hosts`-style text (first name of each line).
    pub fn from_hosts(text: &'static str) -> Self {
        let hosts = text
            .lines()
            .filter_map(|l| {
                let mut fields = l.split_whitespace();
                Some((fields.next()?.parse().ok()?, fields.next()?))
            })
            .collect();
        Self { hosts }
    }

    pub fn with_host(mut self, addr: &str, name: &'static str) -> Self {
        self.hosts.push((ip(addr), name));
        self
    }
}

impl Resolver for FakeNames {
    fn host_addr(&self, name: &str, family: Family) -> Option<IpAddr> {
        self.hosts
            .iter()
            .find(|(a, n)| *n == name && Family::of(a) == family)
            .map(|(a, _)| *a)
    }
    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        SERVICES
            .iter()
            .find(|(_, p, n)| *p == proto && *n == name)
            .map(|(port, _, _)| *port)
    }
    fn host_name(&self, addr: IpAddr) -> Option<String> {
        self.hosts
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, n)| (*n).to_owned())
    }
    fn service_name(&self, port: u16, proto: &str) -> Option<String> {
        SERVICES
            .iter()
            .find(|(p, pr, _)| *p == port && *pr == proto)
            .map(|(_, _, n)| (*n).to_owned())
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn addr_service(protocol: Protocol, addr: &str, port: u16) -> Service {
    let mut svc = Service::new(ServiceKey::Addr {
        protocol,
        addr: ip(addr),
        port,
    });
    // The kernel reports HASHED on every listed service; formats must ignore it.
    svc.flags.0 |= ServiceFlags::HASHED;
    svc
}

pub fn tcp(addr: &str, port: u16) -> Service {
    addr_service(Protocol::Tcp, addr, port)
}
pub fn udp(addr: &str, port: u16) -> Service {
    addr_service(Protocol::Udp, addr, port)
}
pub fn sctp(addr: &str, port: u16) -> Service {
    addr_service(Protocol::Sctp, addr, port)
}
pub fn fwm(mark: u32) -> Service {
    let mut svc = Service::new(ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark,
    });
    svc.flags.0 |= ServiceFlags::HASHED;
    svc
}
pub fn fwm6(mark: u32) -> Service {
    let mut svc = Service::new(ServiceKey::Fwmark {
        af: AddressFamily::Inet6,
        mark,
    });
    svc.flags.0 |= ServiceFlags::HASHED;
    svc
}

/// Fluent edits of a service, mirroring ipvsadm options.
pub trait SvcExt: Sized {
    fn sched(self, name: &str) -> Self;
    fn persistent(self, timeout: u32) -> Self;
    fn mask4(self, mask: &str) -> Self;
    fn mask6(self, prefix: u32) -> Self;
    fn pe(self, name: &str) -> Self;
    fn ops(self) -> Self;
    fn sched_flags(self, bits: u32) -> Self;
    fn with(self, dests: Vec<Dest>) -> ServiceEntry;
}

impl SvcExt for Service {
    fn sched(mut self, name: &str) -> Self {
        self.scheduler = Scheduler::new(name);
        self
    }
    fn persistent(mut self, timeout: u32) -> Self {
        self.flags.0 |= ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }
    fn mask4(mut self, mask: &str) -> Self {
        self.netmask = Netmask::V4(mask.parse().expect("mask"));
        self
    }
    fn mask6(mut self, prefix: u32) -> Self {
        self.netmask = Netmask::V6(prefix);
        self
    }
    fn pe(mut self, name: &str) -> Self {
        self.pe_name = Some(name.to_owned());
        self
    }
    fn ops(mut self) -> Self {
        self.flags.0 |= ServiceFlags::ONEPACKET;
        self
    }
    fn sched_flags(mut self, bits: u32) -> Self {
        self.flags.0 |= bits;
        self
    }
    fn with(self, dests: Vec<Dest>) -> ServiceEntry {
        ServiceEntry {
            service: self,
            dests,
        }
    }
}

/// A direct-routing destination of weight 1 (ipvsadm's `-a` defaults).
pub fn dest(addr: &str, port: u16) -> Dest {
    Dest::new(ip(addr), port)
}

/// Fluent edits of a destination, mirroring ipvsadm options.
pub trait DestExt: Sized {
    fn masq(self) -> Self;
    fn fwd(self, fwd: ForwardMethod) -> Self;
    fn weight(self, w: i32) -> Self;
    fn thresholds(self, upper: u32, lower: u32) -> Self;
    fn tunnel(self, kind: TunnelType, port: u16, csum: TunnelCsum) -> Self;
}

impl DestExt for Dest {
    fn masq(self) -> Self {
        self.fwd(ForwardMethod::Masq)
    }
    fn fwd(mut self, fwd: ForwardMethod) -> Self {
        self.fwd = fwd;
        self
    }
    fn weight(mut self, w: i32) -> Self {
        self.weight = w;
        self
    }
    fn thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.u_threshold = upper;
        self.l_threshold = lower;
        self
    }
    fn tunnel(mut self, kind: TunnelType, port: u16, csum: TunnelCsum) -> Self {
        self.fwd = ForwardMethod::Tunnel;
        self.tunnel = Tunnel { kind, port, csum };
        self
    }
}

/// Runs a writer and returns its output as text (the captures are ASCII).
pub fn render(f: impl FnOnce(&mut dyn io::Write) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    f(&mut out).expect("writing to a Vec");
    String::from_utf8(out).expect("ASCII output")
}

/// Asserts equality line by line first, so a failure names the first differing line.
#[track_caller]
pub fn assert_text(got: &str, want: &str) {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {} differs", i + 1);
    }
    assert_eq!(got, want);
}

/// Rebuilds the model from a numeric default-mode listing (`ipvsadm -Ln [--nosort]`) of
/// plain services (scheduler only, no flags), so a captured kernel order can drive the
/// sorter. Test-only: panics on anything else.
pub fn parse_listing(text: &str) -> Vec<ServiceEntry> {
    let mut entries: Vec<ServiceEntry> = Vec::new();
    for line in text.lines().skip(3) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        match tokens.as_slice() {
            ["->", addr_port, fwd, weight, _, _] => {
                let (addr, port) = split_addr_port(addr_port);
                let fwd = match *fwd {
                    "Masq" => ForwardMethod::Masq,
                    "Route" => ForwardMethod::Route,
                    "Tunnel" => ForwardMethod::Tunnel,
                    "Local" => ForwardMethod::Local,
                    other => panic!("forwarding {other}"),
                };
                let d = dest(addr, port)
                    .fwd(fwd)
                    .weight(weight.parse().expect("weight"));
                entries.last_mut().expect("service first").dests.push(d);
            }
            ["FWM", mark, "IPv6", sched] => {
                let mark = mark.parse::<i32>().expect("mark") as u32;
                entries.push(fwm6(mark).sched(sched).with(vec![]));
            }
            ["FWM", mark, sched] => {
                let mark = mark.parse::<i32>().expect("mark") as u32;
                entries.push(fwm(mark).sched(sched).with(vec![]));
            }
            [proto, addr_port, sched] => {
                let (addr, port) = split_addr_port(addr_port);
                let svc = match *proto {
                    "TCP" => tcp(addr, port),
                    "UDP" => udp(addr, port),
                    "SCTP" => sctp(addr, port),
                    other => panic!("protocol {other}"),
                };
                entries.push(svc.sched(sched).with(vec![]));
            }
            _ => panic!("unsupported listing line {line:?}"),
        }
    }
    entries
}

fn split_addr_port(text: &str) -> (&str, u16) {
    let (addr, port) = text.rsplit_once(':').expect("addr:port");
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    (addr, port.parse().expect("port"))
}
