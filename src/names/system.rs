//! Name lookups the way ipvsadm and ldirectord get them from glibc.
//!
//! * hosts: forward lookups ask the system resolver (NSS: `/etc/hosts`, then DNS) for the
//!   wanted family only and take the first address, like `gethostbyname` (ipvsadm asks
//!   for IPv4; ldirectord takes the first address of the virtual service's family);
//!   reverse lookups take the first name, like `gethostbyaddr`, and an address without
//!   a name gives none (`NI_NAMEREQD`). Both go through getaddrinfo/getnameinfo (the
//!   `dns-lookup` crate), so no unsafe code lives here.
//! * services: `/etc/services` is read once, on the first lookup, and searched like
//!   `getservbyname` / `getservbyport`.

use std::net::IpAddr;
use std::sync::OnceLock;

use super::{Family, Resolver, Services};

/// Looks names up in the running system.
#[derive(Debug, Default)]
pub struct SystemResolver {
    services: OnceLock<Services>,
}

impl SystemResolver {
    pub fn new() -> Self {
        Self::default()
    }

    fn services(&self) -> &Services {
        self.services
            .get_or_init(|| Services::load("/etc/services"))
    }
}

impl Resolver for SystemResolver {
    fn host_addr(&self, name: &str, family: Family) -> Option<IpAddr> {
        if name.is_empty() || name.contains('\0') {
            return None;
        }
        let hints = dns_lookup::AddrInfoHints {
            address: match family {
                Family::V4 => libc::AF_INET,
                Family::V6 => libc::AF_INET6,
            },
            socktype: libc::SOCK_STREAM,
            ..dns_lookup::AddrInfoHints::default()
        };
        dns_lookup::getaddrinfo(Some(name), None, Some(hints))
            .ok()?
            .filter_map(Result::ok)
            .map(|info| info.sockaddr.ip())
            .find(|ip| Family::of(ip) == family)
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.services().port_of(name, proto)
    }

    fn host_name(&self, addr: IpAddr) -> Option<String> {
        dns_lookup::lookup_addr(&addr)
            .ok()
            .filter(|n| !n.is_empty())
    }

    fn service_name(&self, port: u16, proto: &str) -> Option<String> {
        self.services().name_of(port, proto).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn system_resolver_reads_numeric_and_localhost() {
        let r = SystemResolver::new();
        assert_eq!(r.host_addr("", Family::V4), None);
        assert_eq!(
            r.host_addr("localhost", Family::V4),
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
    }
}
