//! Text for numbers, addresses and services, shared by every view.
//!
//! Human units are [`crate::units`]'s: at most 5 characters, so the narrow columns of an
//! 80-column terminal never overflow.

use std::net::IpAddr;

use crate::ipvs::{AddressFamily, DestKey, ForwardMethod, Protocol, Service, ServiceKey};
use crate::tui::snapshot::Names;
use crate::tui::table::Staleness;
use crate::units::count;

/// [`count`] for an optional rate: `-` when it cannot be known (first poll, counters
/// zeroed).
pub fn count_opt(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), count)
}

/// ipvsadm's `mm:ss` expiry (minutes not limited).
pub fn expire(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

/// An age in whole seconds below two minutes, whole minutes below two hours, then hours:
/// `40 s`, `12 min`, `3 h`.
pub fn age(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// What a label says about data read in the background: `40 s old`, `2.5K/10K read`,
/// nothing when it is fresh.
pub fn staleness(s: Staleness) -> Option<String> {
    match s {
        Staleness::Fresh => None,
        Staleness::Old(d) => Some(format!("{} old", age(d))),
        Staleness::Partial { read, of } => {
            Some(format!("{}/{} read", count(read as u64), count(of as u64)))
        }
    }
}

/// Forwarding method as `ipvsadm -L` names it.
pub const fn forward(fwd: ForwardMethod) -> &'static str {
    match fwd {
        ForwardMethod::Masq => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel => "Tunnel",
        ForwardMethod::Route => "Route",
        ForwardMethod::Bypass => "Bypass",
        ForwardMethod::Other(_) => "?",
    }
}

/// A host, by name when one was resolved and names are wanted.
pub fn host(addr: IpAddr, names: Option<&Names>) -> String {
    if let Some(name) = names.and_then(|n| n.hosts.get(&addr)) {
        return name.clone();
    }
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// A port, by service name when one was resolved for this protocol.
pub fn port(port: u16, proto: Option<&str>, names: Option<&Names>) -> String {
    proto
        .and_then(|p| names.and_then(|n| n.ports.get(&(port, services_proto(p)))))
        .cloned()
        .unwrap_or_else(|| port.to_string())
}

/// Map a protocol name (any case) to the `/etc/services` spelling used as a [`Names`] key.
pub fn services_proto(proto: &str) -> &'static str {
    match proto.to_ascii_lowercase().as_str() {
        "tcp" => "tcp",
        "udp" => "udp",
        "sctp" => "sctp",
        _ => "",
    }
}

/// `host:port` of an endpoint.
pub fn endpoint(addr: IpAddr, p: u16, proto: Option<&str>, names: Option<&Names>) -> String {
    format!("{}:{}", host(addr, names), port(p, proto, names))
}

/// `TCP 10.0.0.1:80`, `FWM 5`, `FWM 5 IPv6` (names applied when given).
pub fn service_key(key: &ServiceKey, names: Option<&Names>) -> String {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port: p,
        } => format!(
            "{} {}",
            protocol.listing_name(),
            endpoint(*addr, *p, protocol.services_name(), names)
        ),
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark,
        } => format!("FWM {mark}"),
        ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark,
        } => format!("FWM {mark} IPv6"),
    }
}

/// A real server in the context of its service (ports named after the service's protocol).
pub fn dest_key(service: &ServiceKey, dest: &DestKey, names: Option<&Names>) -> String {
    let proto = service.protocol().and_then(Protocol::services_name);
    endpoint(dest.addr, dest.port, proto, names)
}

/// Scheduler plus a compact persistence mark: `wlc`, `wlc p300`.
pub fn scheduler_short(service: &Service) -> String {
    if service.flags.persistent() {
        format!("{} p{}", service.scheduler, service.timeout)
    } else {
        service.scheduler.to_string()
    }
}

/// The service's flags spelled out for the selection line (`persistent 300s`, `ops`, ...).
pub fn service_flags(service: &Service) -> String {
    let mut parts = Vec::new();
    if service.flags.persistent() {
        parts.push(format!("persistent {}s", service.timeout));
        if !service.netmask.is_default() {
            parts.push(match service.netmask {
                crate::ipvs::Netmask::V4(m) => format!("mask {m}"),
                crate::ipvs::Netmask::V6(p) => format!("mask /{p}"),
            });
        }
    }
    if service.flags.one_packet() {
        parts.push("ops".to_owned());
    }
    let sched = service.flags.sched_bits();
    if sched != 0 {
        parts.push(format!("sched-flags {sched:#x}"));
    }
    if let Some(pe) = &service.pe_name {
        parts.push(format!("pe {pe}"));
    }
    if parts.is_empty() {
        "no flags".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_round_down_to_a_readable_unit() {
        let s = std::time::Duration::from_secs;
        assert_eq!(age(s(0)), "0 s");
        assert_eq!(age(s(40)), "40 s");
        assert_eq!(age(s(119)), "119 s");
        assert_eq!(age(s(125)), "2 min");
        assert_eq!(age(s(7199)), "119 min");
        assert_eq!(age(s(7200)), "2 h");
    }

    #[test]
    fn expire_matches_ipvsadm() {
        assert_eq!(expire(51), "00:51");
        assert_eq!(expire(2_678_400), "44640:00");
    }

    #[test]
    fn names_replace_numbers_only_when_known() {
        let mut names = Names::default();
        names
            .hosts
            .insert("10.0.0.1".parse().unwrap(), "web".to_owned());
        names.ports.insert((80, "tcp"), "http".to_owned());
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        assert_eq!(service_key(&key, Some(&names)), "TCP web:http");
        assert_eq!(service_key(&key, None), "TCP 10.0.0.1:80");
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            endpoint(v6, 53, Some("udp"), Some(&names)),
            "[2001:db8::1]:53"
        );
    }
}
