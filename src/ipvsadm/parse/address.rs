//! Address arguments: `-t/-u/--sctp-service/-r HOST[:PORT]` and `-M MASK`.
//!
//! Reproduces ipvsadm's quirks on purpose: `[1.2.3.4]:80` loses its
//! port, a bare IPv6 literal never has a port, `10:80` is `0.0.0.10:80`, names resolve
//! through the [`Resolver`] (IPv4 only) and port names by the protocol known so far.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::numbers;
use crate::ipvs::model::Protocol;
use crate::names::{Family, Resolver};

/// What a `HOST[:PORT]` argument parsed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    pub addr: IpAddr,
    /// `None` when no port was written (or when ipvsadm drops it).
    pub port: Option<u16>,
}

/// ipvsadm's `parse_service`. `protocol` is the service protocol known at this point of
/// the command line (`None` before any service option), used for port names.
pub fn host_port(s: &str, protocol: Option<Protocol>, resolver: &dyn Resolver) -> Option<HostPort> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (host, bracket_port) = match s.strip_prefix('[') {
        Some(inner) => {
            let (host, after) = inner.split_once(']')?;
            (host, Some(after.strip_prefix(':')?))
        }
        None => (s, None),
    };
    // Every IPv6 literal has at least two colons; skipping the attempt otherwise saves a
    // failed parse per `HOST:PORT` (rules files have tens of thousands).
    let maybe_v6 = host.bytes().filter(|&b| b == b':').nth(1).is_some();
    if let Some(v6) = maybe_v6.then(|| host.parse::<Ipv6Addr>().ok()).flatten() {
        let port = match bracket_port {
            Some(p) => Some(port(p, protocol, resolver)?),
            None => None,
        };
        return Some(HostPort {
            addr: IpAddr::V6(v6),
            port,
        });
    }
    // Not IPv6: any bracketed port is forgotten and the host text is split again.
    let (name, port_text) = match host.rsplit_once(':') {
        Some((name, p)) => (name, Some(p)),
        None => (host, None),
    };
    let v4 = ipv4_host(name, resolver)?;
    let port = match port_text {
        Some(p) => Some(port(p, protocol, resolver)?),
        None => None,
    };
    Some(HostPort {
        addr: IpAddr::V4(v4),
        port,
    })
}

/// `inet_aton`, then a forward lookup (gethostbyname: IPv4 results only).
pub fn ipv4_host(name: &str, resolver: &dyn Resolver) -> Option<Ipv4Addr> {
    numbers::inet_aton(name).map(Ipv4Addr::from).or_else(|| {
        match resolver.host_addr(name, Family::V4)? {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        }
    })
}

/// A port number 0..=65535, else a service name for the current protocol.
fn port(text: &str, protocol: Option<Protocol>, resolver: &dyn Resolver) -> Option<u16> {
    if let Some(n) = numbers::number_in(text, 0, 65535) {
        return u16::try_from(n).ok();
    }
    let proto = protocol?.services_name()?;
    resolver.service_port(text, proto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NoNames;

    fn hp(s: &str) -> Option<(String, Option<u16>)> {
        host_port(s, Some(Protocol::Tcp), &NoNames).map(|h| (h.addr.to_string(), h.port))
    }

    #[test]
    fn address_quirks() {
        assert_eq!(hp("1.2.3.4:80"), Some(("1.2.3.4".into(), Some(80))));
        assert_eq!(hp("[1.2.3.4]:80"), Some(("1.2.3.4".into(), None)));
        assert_eq!(hp("[1.2.3.4:81]:80"), Some(("1.2.3.4".into(), Some(81))));
        assert_eq!(hp("2001:db8::3:80"), Some(("2001:db8::3:80".into(), None)));
        assert_eq!(
            hp("[2001:db8::1]:80"),
            Some(("2001:db8::1".into(), Some(80)))
        );
        assert_eq!(hp("10:80"), Some(("0.0.0.10".into(), Some(80))));
        assert_eq!(hp("1.2.3.4:+80"), Some(("1.2.3.4".into(), Some(80))));
        assert_eq!(hp("1.2.3.4 x:80"), Some(("1.2.3.4".into(), Some(80))));
        for bad in [
            "",
            "12345",
            "1.2.3.4:",
            "1.2.3.4:65536",
            "1.2.3.4:-1",
            "[::1]",
            "[::1]80",
            "[::1",
            "[2001:db8::1]:",
            ":80",
            "1.2.3.4:0x50",
            "A",
        ] {
            assert_eq!(hp(bad), None, "{bad:?}");
        }
    }
}
