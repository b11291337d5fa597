//! Unit tests of the fake, one file per area; each test names the kernel rule it checks.

mod daemons;
mod dests;
mod hooks;
mod services;

use std::net::IpAddr;

use super::FakeBackend;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::model::{Dest, Protocol, Service, ServiceKey};

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(super) fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

pub(super) fn errno(fake: &mut FakeBackend, op: Op) -> i32 {
    match fake.apply(&[op]).pop() {
        Some(Err(e)) => e.errno(),
        _ => 0,
    }
}

/// A fake holding `TCP 10.0.0.1:80` (rr) with dest 10.0.0.2:80.
pub(super) fn with_service() -> (FakeBackend, ServiceKey) {
    let mut fake = FakeBackend::new();
    let key = tcp("10.0.0.1", 80);
    let mut svc = Service::new(key);
    svc.scheduler = crate::ipvs::model::Scheduler::new("rr");
    assert_eq!(errno(&mut fake, Op::AddService(svc)), 0);
    assert_eq!(
        errno(&mut fake, Op::AddDest(key, Dest::new(ip("10.0.0.2"), 80))),
        0
    );
    (fake, key)
}
