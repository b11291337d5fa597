//! Address families and transport protocols, numbered as the kernel numbers them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// `AF_INET` / `AF_INET6` as the kernel numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressFamily {
    Inet,
    Inet6,
}

impl AddressFamily {
    pub const fn raw(self) -> u16 {
        match self {
            Self::Inet => libc::AF_INET as u16,
            Self::Inet6 => libc::AF_INET6 as u16,
        }
    }

    pub fn from_raw(raw: u16) -> Option<Self> {
        match i32::from(raw) {
            libc::AF_INET => Some(Self::Inet),
            libc::AF_INET6 => Some(Self::Inet6),
            _ => None,
        }
    }

    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Inet,
            IpAddr::V6(_) => Self::Inet6,
        }
    }

    /// The all-zero address of this family, used where the kernel wants an address but the
    /// object (a fwmark service) has none.
    pub const fn unspecified(self) -> IpAddr {
        match self {
            Self::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Self::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// Transport protocol of an address-based virtual service.
///
/// `Other` exists because the kernel stores a u16 and we never want a listing to fail on a
/// value a newer kernel might report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    Other(u16),
}

impl Protocol {
    pub const fn raw(self) -> u16 {
        match self {
            Self::Tcp => libc::IPPROTO_TCP as u16,
            Self::Udp => libc::IPPROTO_UDP as u16,
            Self::Sctp => libc::IPPROTO_SCTP as u16,
            Self::Other(n) => n,
        }
    }

    pub fn from_raw(raw: u16) -> Self {
        match i32::from(raw) {
            libc::IPPROTO_TCP => Self::Tcp,
            libc::IPPROTO_UDP => Self::Udp,
            libc::IPPROTO_SCTP => Self::Sctp,
            _ => Self::Other(raw),
        }
    }

    /// The name ipvsadm prints in listings (`?` for anything it does not know).
    pub const fn listing_name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
            Self::Other(_) => "?",
        }
    }

    /// The protocol name used for `/etc/services` lookups.
    pub const fn services_name(self) -> Option<&'static str> {
        match self {
            Self::Tcp => Some("tcp"),
            Self::Udp => Some("udp"),
            Self::Sctp => Some("sctp"),
            Self::Other(_) => None,
        }
    }
}
