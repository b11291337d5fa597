//! The real [`Resolver`]: name lookups the way ipvsadm gets them from glibc.
//!
//! * hosts: forward lookups ask the system resolver (NSS: /etc/hosts, then DNS) for IPv4
//!   only and take the first address, like `gethostbyname`; reverse lookups take the
//!   first name, like `gethostbyaddr`. Both go through getaddrinfo/getnameinfo (the
//!   `dns-lookup` crate), so no unsafe code lives here.
//! * services: `/etc/services` is read once and searched like `getservbyname` /
//!   `getservbyport` (first matching line wins; aliases match by name).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use super::names::Resolver;

/// One `/etc/services` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceEntry {
    name: String,
    aliases: Vec<String>,
    port: u16,
    proto: String,
}

/// The parsed services database, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Services {
    entries: Vec<ServiceEntry>,
}

impl Services {
    /// Parses `/etc/services` syntax: `name port/proto [alias…]`, `#` starts a comment,
    /// malformed lines are skipped (as glibc skips them).
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or_default();
                let mut words = line.split_whitespace();
                let name = words.next()?;
                let (port, proto) = words.next()?.split_once('/')?;
                Some(ServiceEntry {
                    name: name.to_owned(),
                    port: port.parse().ok()?,
                    proto: proto.to_owned(),
                    aliases: words.map(str::to_owned).collect(),
                })
            })
            .collect();
        Self { entries }
    }

    /// `getservbyname(name, proto)`.
    pub fn port_of(&self, name: &str, proto: &str) -> Option<u16> {
        self.entries
            .iter()
            .find(|e| e.proto == proto && (e.name == name || e.aliases.iter().any(|a| a == name)))
            .map(|e| e.port)
    }

    /// `getservbyport(port, proto)`: the official name of the first matching line.
    pub fn name_of(&self, port: u16, proto: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.proto == proto && e.port == port)
            .map(|e| e.name.as_str())
    }
}

/// Looks names up in the running system, as ipvsadm does.
#[derive(Debug, Default)]
pub struct SystemResolver {
    services: OnceLock<Services>,
}

impl SystemResolver {
    pub fn new() -> Self {
        Self::default()
    }

    fn services(&self) -> &Services {
        self.services.get_or_init(|| {
            std::fs::read_to_string("/etc/services")
                .map(|text| Services::parse(&text))
                .unwrap_or_default()
        })
    }
}

impl Resolver for SystemResolver {
    fn host_addr(&self, name: &str) -> Option<Ipv4Addr> {
        if name.is_empty() || name.contains('\0') {
            return None;
        }
        let hints = dns_lookup::AddrInfoHints {
            address: libc::AF_INET,
            socktype: libc::SOCK_STREAM,
            ..dns_lookup::AddrInfoHints::default()
        };
        dns_lookup::getaddrinfo(Some(name), None, Some(hints))
            .ok()?
            .filter_map(Result::ok)
            .find_map(|info| match info.sockaddr.ip() {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(_) => None,
            })
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.services().port_of(name, proto)
    }

    fn host_name(&self, addr: IpAddr) -> Option<String> {
        dns_lookup::lookup_addr(&addr).ok()
    }

    fn service_name(&self, port: u16, proto: &str) -> Option<String> {
        self.services().name_of(port, proto).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
domain\t\t53/tcp
domain\t\t53/udp
bogus line
sip 5060/udp
sip 5060/tcp
alt 5060/tcp
";

    #[test]
    fn services_lookup_by_name_alias_and_port() {
        let s = Services::parse(SAMPLE);
        assert_eq!(s.port_of("http", "tcp"), Some(80));
        assert_eq!(s.port_of("www", "tcp"), Some(80));
        assert_eq!(s.port_of("http", "udp"), None);
        assert_eq!(s.port_of("domain", "udp"), Some(53));
        assert_eq!(s.name_of(5060, "tcp"), Some("sip"));
        assert_eq!(s.name_of(80, "sctp"), None);
    }

    #[test]
    fn system_resolver_reads_numeric_and_localhost() {
        let r = SystemResolver::new();
        assert_eq!(r.host_addr(""), None);
        assert_eq!(r.host_addr("localhost"), Some(Ipv4Addr::LOCALHOST));
    }
}
