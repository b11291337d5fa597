//! `lvsctl top --demo`: the real dashboard over an in-memory director with synthetic
//! traffic, so a newcomer sees what it does in one command, without root or IPVS.
//!
//! The table lives in the in-memory kernel (`ipvs::fake`), behind the same `Backend` trait
//! as the real one, so every view and key works as on a director and every action changes
//! only this table: a weight set with `w` moves new connections between real servers from
//! the next refresh on, a drained real server gets none. A simulator ([`traffic`]) moves
//! time on whenever the dashboard reads: connections arrive at each service at its own
//! changing rate, are spread over the real servers by weight, live and expire, and the
//! counters, the kernel's rate estimates and `/proc/net/ip_vs_conn` follow. One real
//! server fails its health check for a while and comes back ([`health`]); meanwhile the
//! simulated checker quiesces it (weight 0), as ldirectord does with `quiescent = yes`.

mod health;
mod traffic;

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::ipvs::fake::FakeBackend;
use crate::ipvs::{
    AddressFamily, Backend, ConnStream, Connection, Dest, DestKey, ForwardMethod, GlobalStats,
    Info, Op, Protocol, Result, Scheduler, Service, ServiceEntry, ServiceFlags, ServiceKey,
    SyncDaemon, Timeouts,
};
use crate::names::FilesResolver;
use crate::tui::collector::Sources;

pub use health::DemoHealth;
pub use traffic::Sim;

/// Names for the demo's addresses (documentation ranges, so nothing real is named).
const HOSTS: &str = "\
192.0.2.10 www.example.com
192.0.2.53 ns.example.com
192.0.2.25 mail.example.com
2001:db8::10 www.example.com
10.0.1.1 web1
10.0.1.2 web2
10.0.1.3 web3
10.0.2.1 app1
10.0.2.2 app2
10.0.2.3 app3
10.0.3.1 dns1
10.0.3.2 dns2
10.0.4.1 cache1
10.0.4.2 cache2
10.0.5.1 mx1
10.0.5.2 mx2
2001:db8:1::1 web6-1
2001:db8:1::2 web6-2
";
const SERVICES: &str = "\
http 80/tcp
https 443/tcp
domain 53/tcp
domain 53/udp
smtp 25/tcp
";

/// What `lvsctl top --demo` runs on: the demo's backend, its health checker and names.
pub fn sources() -> Sources {
    let sim = Shared(Arc::new(Mutex::new(Sim::new(table()))));
    let backend = sim.clone();
    Sources {
        factory: Box::new(move || Ok(Box::new(backend.clone()) as Box<dyn Backend>)),
        health: Box::new(DemoHealth(sim)),
        resolver: Box::new(FilesResolver::from_text(HOSTS, SERVICES)),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

fn entry(
    key: ServiceKey,
    scheduler: &str,
    fwd: ForwardMethod,
    reals: &[(&str, u16, i32)],
) -> ServiceEntry {
    let mut service = Service::new(key);
    service.scheduler = Scheduler::new(scheduler);
    let dests = reals
        .iter()
        .map(|&(addr, port, weight)| {
            let mut d = Dest::new(ip(addr), port);
            d.fwd = fwd;
            d.weight = weight;
            d
        })
        .collect();
    ServiceEntry { service, dests }
}

/// A small director: several schedulers and forwarding methods, IPv4 and IPv6, a UDP
/// service, a persistent one and a firewall-mark one.
pub fn entries() -> Vec<ServiceEntry> {
    let mut https = entry(
        tcp("192.0.2.10", 443),
        "wrr",
        ForwardMethod::Masq,
        &[
            ("10.0.2.1", 443, 3),
            ("10.0.2.2", 443, 2),
            ("10.0.2.3", 443, 1),
        ],
    );
    https.service.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    https.service.timeout = 300;
    let dns = entry(
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("192.0.2.53"),
            port: 53,
        },
        "rr",
        ForwardMethod::Tunnel,
        &[("10.0.3.1", 53, 1), ("10.0.3.2", 53, 1)],
    );
    let cache = entry(
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 42,
        },
        "sh",
        ForwardMethod::Route,
        &[("10.0.4.1", 0, 1), ("10.0.4.2", 0, 1)],
    );
    vec![
        entry(
            tcp("192.0.2.10", 80),
            "wlc",
            ForwardMethod::Route,
            &[
                ("10.0.1.1", 80, 5),
                ("10.0.1.2", 80, 5),
                ("10.0.1.3", 80, 3),
            ],
        ),
        https,
        dns,
        cache,
        entry(
            tcp("2001:db8::10", 443),
            "mh",
            ForwardMethod::Masq,
            &[("2001:db8:1::1", 8443, 1), ("2001:db8:1::2", 8443, 1)],
        ),
        entry(
            tcp("192.0.2.25", 25),
            "lc",
            ForwardMethod::Masq,
            &[("10.0.5.1", 25, 1), ("10.0.5.2", 25, 1)],
        ),
    ]
}

/// The demo's table in the in-memory kernel.
fn table() -> FakeBackend {
    // The table above is valid for the kernel's rules; should that ever change, the
    // demo starts with what was accepted.
    let mut fake = FakeBackend::new();
    for e in entries() {
        let _ = fake.load_entries(std::slice::from_ref(&e));
    }
    fake
}

/// The real server that fails its health check now and then.
pub fn failing() -> (ServiceKey, DestKey) {
    (
        tcp("192.0.2.10", 80),
        DestKey {
            addr: ip("10.0.1.3"),
            port: 80,
        },
    )
}

/// The simulator shared by the demo's backend and health checker (both on the collector
/// thread; the lock is never contended).
#[derive(Debug, Clone)]
pub struct Shared(Arc<Mutex<Sim>>);

impl Shared {
    pub fn new(sim: Sim) -> Self {
        Self(Arc::new(Mutex::new(sim)))
    }

    /// The simulator, moved on to now.
    fn now(&self) -> MutexGuard<'_, Sim> {
        let mut sim = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        sim.advance_to_now();
        sim
    }
}

impl Backend for Shared {
    fn info(&mut self) -> Result<Info> {
        self.now().fake.info()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        self.now().fake.services()
    }
    fn services_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Option<Service>>> {
        self.now().fake.services_of(keys)
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.now().fake.service(key)
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.now().fake.dests(key)
    }
    fn dests_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<Dest>>> {
        self.now().fake.dests_of(keys)
    }
    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        self.now().fake.entries()
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        self.now().fake.timeouts()
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.now().fake.daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.now().apply(ops)
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.now().fake.connections(sink)
    }
    fn open_connections(&mut self) -> Result<Box<dyn ConnStream>> {
        self.now().fake.open_connections()
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.now().fake.global_stats()
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.now().fake.sysctls()
    }
}

#[cfg(test)]
mod tests;
