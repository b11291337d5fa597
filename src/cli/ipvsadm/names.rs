//! Name resolution as ipvsadm does it, behind a trait so parsing and formatting stay pure
//! and tests stay deterministic.
//!
//! ipvsadm resolves hosts with gethostbyname/gethostbyaddr (NSS: /etc/hosts, then DNS) and
//! ports with getservbyname/getservbyport (/etc/services) for the service's protocol.

use std::net::{IpAddr, Ipv4Addr};

pub trait Resolver {
    /// Forward host lookup, IPv4 results only, first address (gethostbyname).
    fn host_addr(&self, name: &str) -> Option<Ipv4Addr>;
    /// Port of a service name for a protocol (`tcp`, `udp`, `sctp`) (getservbyname).
    fn service_port(&self, name: &str, proto: &str) -> Option<u16>;
    /// Reverse host lookup, first name (gethostbyaddr).
    fn host_name(&self, addr: IpAddr) -> Option<String>;
    /// Service name of a port for a protocol (getservbyport).
    fn service_name(&self, port: u16, proto: &str) -> Option<String>;
}

/// Resolves nothing: what `-n` means, and the deterministic default for tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Resolver for NoNames {
    fn host_addr(&self, _name: &str) -> Option<Ipv4Addr> {
        None
    }
    fn service_port(&self, _name: &str, _proto: &str) -> Option<u16> {
        None
    }
    fn host_name(&self, _addr: IpAddr) -> Option<String> {
        None
    }
    fn service_name(&self, _port: u16, _proto: &str) -> Option<String> {
        None
    }
}
