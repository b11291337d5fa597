//! Names from `/etc/hosts` and `/etc/services` only, never DNS.
//!
//! ipvsadm resolves through NSS, which may ask DNS and block for seconds per address. The
//! dashboard resolves on its collector thread, but a refresh stuck behind reverse DNS of
//! hundreds of real servers would still freeze the data. So it only reads the two local
//! files, once: port names (`http`, `domain`) are what operators miss most, and directors
//! usually list their real servers in `/etc/hosts`.

use std::net::IpAddr;

use super::{Family, Hosts, Resolver, Services};

/// Lookups answered from the contents of `/etc/hosts` and `/etc/services`, or from text
/// and entries a test gives it.
#[derive(Debug, Clone, Default)]
pub struct FilesResolver {
    hosts: Hosts,
    services: Services,
}

impl FilesResolver {
    /// Read the system files; a missing or unreadable file just resolves nothing.
    pub fn load() -> Self {
        Self {
            hosts: Hosts::load("/etc/hosts"),
            services: Services::load("/etc/services"),
        }
    }

    /// From file contents (first entry wins, as with the `files` NSS module).
    pub fn from_text(hosts: &str, services: &str) -> Self {
        Self {
            hosts: Hosts::parse(hosts),
            services: Services::parse(services),
        }
    }

    /// Also knows `name` as `addr` (after what it already knows).
    pub fn with_host(mut self, name: &str, addr: IpAddr) -> Self {
        self.hosts.add(addr, [name]);
        self
    }

    /// Also knows service `name` as `port` for `proto` (after what it already knows).
    pub fn with_service(mut self, name: &str, port: u16, proto: &str) -> Self {
        self.services.add(proto, port, [name]);
        self
    }
}

impl Resolver for FilesResolver {
    fn host_addr(&self, name: &str, family: Family) -> Option<IpAddr> {
        self.hosts.addr_of(name, family)
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.services.port_of(name, proto)
    }

    fn host_name(&self, addr: IpAddr) -> Option<String> {
        self.hosts.name_of(addr).map(str::to_owned)
    }

    fn service_name(&self, port: u16, proto: &str) -> Option<String> {
        self.services.name_of(port, proto).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_from_both_files_and_added_entries() {
        let r = FilesResolver::from_text(
            "10.0.1.1 web1 web1.example\n2001:db8::10 web6\n",
            "http 80/tcp www\ndomain 53/udp\n",
        )
        .with_host("web1", "10.0.1.9".parse().unwrap())
        .with_service("sip", 5060, "udp");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(r.host_name(ip("10.0.1.1")).as_deref(), Some("web1"));
        assert_eq!(r.host_name(ip("10.9.9.9")), None);
        assert_eq!(r.host_addr("web1", Family::V4), Some(ip("10.0.1.1")));
        assert_eq!(r.host_addr("web6", Family::V4), None);
        assert_eq!(r.host_addr("web6", Family::V6), Some(ip("2001:db8::10")));
        assert_eq!(r.service_name(80, "tcp").as_deref(), Some("http"));
        assert_eq!(r.service_name(80, "udp"), None);
        assert_eq!(r.service_port("www", "tcp"), Some(80));
        assert_eq!(r.service_port("sip", ""), Some(5060));
        assert_eq!(r.service_name(5060, "udp").as_deref(), Some("sip"));
    }
}
