//! Shared helpers of the wire tests: recorded fixtures and model shorthands.
//!
//! Fixtures were recorded in the IPVS VM with `tests/fixtures/wire/capture.sh` (strace of
//! ipvsadm 1.31) and normalised by `extract.py` (seq, pid and family id zeroed; family
//! resolution dropped). One line per netlink message: `> HEX` sent, `< HEX` received.
#![allow(dead_code, clippy::unwrap_used)]

use lvsctl::ipvs::wire::Request;
use lvsctl::ipvs::wire::frame::{self, Reply};
use lvsctl::ipvs::{AddressFamily, Dest, ForwardMethod, Protocol, Scheduler, Service, ServiceKey};

pub fn fixture(name: &str) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
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

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn framed(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    req.push(&mut out, 0, 0, 0);
    out
}

pub fn hexs(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        use std::fmt::Write;
        let _ = write!(s, "{x:02x}");
        s
    })
}

pub fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: addr.parse().unwrap(),
        port,
    }
}

pub fn svc(key: ServiceKey, sched: &str) -> Service {
    Service {
        scheduler: Scheduler::new(sched),
        ..Service::new(key)
    }
}

pub fn dest(addr: &str, port: u16, fwd: ForwardMethod, weight: i32) -> Dest {
    Dest {
        fwd,
        weight,
        ..Dest::new(addr.parse().unwrap(), port)
    }
}

pub const FWM6: ServiceKey = ServiceKey::Fwmark {
    af: AddressFamily::Inet6,
    mark: 7,
};
pub const FWM4: ServiceKey = ServiceKey::Fwmark {
    af: AddressFamily::Inet,
    mark: 5,
};

/// Data messages of a fixture's replies, in order (acks and DONE dropped).
pub fn data_replies(name: &str) -> Vec<Vec<u8>> {
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
