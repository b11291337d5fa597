//! Names from `/etc/hosts` and `/etc/services`, for the dashboard's names mode.
//!
//! ipvsadm resolves through NSS, which may ask DNS and block for seconds per address. The
//! dashboard resolves on its collector thread, but a refresh stuck behind reverse DNS of
//! hundreds of real servers would still freeze the data. So by default it only reads the
//! two local files, once: port names (`http`, `domain`) are what operators miss most, and
//! directors usually list their real servers in `/etc/hosts`. A DNS-capable resolver can
//! be passed to [`crate::tui::run_with`] instead.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::cli::ipvsadm::names::Resolver;

/// Lookups answered from the contents of `/etc/hosts` and `/etc/services`.
#[derive(Debug, Clone, Default)]
pub struct EtcResolver {
    names_by_addr: HashMap<IpAddr, String>,
    addrs_by_name: HashMap<String, IpAddr>,
    names_by_port: HashMap<(u16, String), String>,
    ports_by_name: HashMap<(String, String), u16>,
}

/// Text without its `#` comment.
fn content(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

impl EtcResolver {
    /// Read the system files; a missing or unreadable file just resolves nothing.
    pub fn load() -> Self {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let services = std::fs::read_to_string("/etc/services").unwrap_or_default();
        Self::from_text(&hosts, &services)
    }

    /// Parse file contents (first entry wins, as with the `files` NSS module).
    pub fn from_text(hosts: &str, services: &str) -> Self {
        let mut r = Self::default();
        for line in hosts.lines() {
            let mut fields = content(line).split_whitespace();
            let (Some(addr), Some(name)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Ok(addr) = addr.parse::<IpAddr>() else {
                continue;
            };
            r.names_by_addr
                .entry(addr)
                .or_insert_with(|| name.to_owned());
            for n in std::iter::once(name).chain(fields) {
                r.addrs_by_name.entry(n.to_owned()).or_insert(addr);
            }
        }
        for line in services.lines() {
            let mut fields = content(line).split_whitespace();
            let (Some(name), Some(port_proto)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            r.names_by_port
                .entry((port, proto.to_owned()))
                .or_insert_with(|| name.to_owned());
            for n in std::iter::once(name).chain(fields) {
                r.ports_by_name
                    .entry((n.to_owned(), proto.to_owned()))
                    .or_insert(port);
            }
        }
        r
    }
}

impl Resolver for EtcResolver {
    fn host_addr(&self, name: &str) -> Option<Ipv4Addr> {
        match self.addrs_by_name.get(name)? {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        }
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.ports_by_name
            .get(&(name.to_owned(), proto.to_owned()))
            .copied()
    }

    fn host_name(&self, addr: IpAddr) -> Option<String> {
        self.names_by_addr.get(&addr).cloned()
    }

    fn service_name(&self, port: u16, proto: &str) -> Option<String> {
        self.names_by_port.get(&(port, proto.to_owned())).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: &str = "127.0.0.1 localhost\n\
        # real servers\n\
        10.0.1.1   web1 web1.example   # rack 3\n\
        10.0.1.1   other\n\
        2001:db8::10 web6\n\
        not-an-address foo\n";
    const SERVICES: &str = "http 80/tcp www # WorldWideWeb\n\
        domain 53/udp\n\
        domain 53/tcp\n\
        bogus notaport/tcp\n\
        http-alt 8080/tcp webcache\n";

    #[test]
    fn first_entries_win_and_comments_are_ignored() {
        let r = EtcResolver::from_text(HOSTS, SERVICES);
        assert_eq!(
            r.host_name("10.0.1.1".parse().unwrap()).as_deref(),
            Some("web1")
        );
        assert_eq!(
            r.host_name("2001:db8::10".parse().unwrap()).as_deref(),
            Some("web6")
        );
        assert_eq!(
            r.host_addr("web1.example"),
            Some(Ipv4Addr::new(10, 0, 1, 1))
        );
        assert_eq!(r.host_addr("web6"), None);
        assert_eq!(r.service_name(80, "tcp").as_deref(), Some("http"));
        assert_eq!(r.service_name(53, "udp").as_deref(), Some("domain"));
        assert_eq!(r.service_name(80, "udp"), None);
        assert_eq!(r.service_port("webcache", "tcp"), Some(8080));
        assert_eq!(r.host_name("10.9.9.9".parse().unwrap()), None);
    }
}
