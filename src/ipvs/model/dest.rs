//! Real servers: their identity inside a service and what `-a`/`-e` configures.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{AddressFamily, Rates, Stats};

/// `IP_VS_CONN_F_FWD_MASK` values. `Other` keeps whatever the kernel reported (ipvsadm
/// prints `(null)` for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardMethod {
    Masq,
    Local,
    Tunnel,
    Route,
    Bypass,
    Other(u32),
}

impl ForwardMethod {
    pub const fn raw(self) -> u32 {
        match self {
            Self::Masq => 0,
            Self::Local => 1,
            Self::Tunnel => 2,
            Self::Route => 3,
            Self::Bypass => 4,
            Self::Other(n) => n,
        }
    }

    pub const fn from_raw(raw: u32) -> Self {
        match raw {
            0 => Self::Masq,
            1 => Self::Local,
            2 => Self::Tunnel,
            3 => Self::Route,
            4 => Self::Bypass,
            n => Self::Other(n),
        }
    }
}

/// Encapsulation used by tunnelling real servers (`--tun-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelType {
    #[default]
    Ipip,
    Gue,
    Gre,
    Other(u8),
}

impl TunnelType {
    pub const fn raw(self) -> u8 {
        match self {
            Self::Ipip => 0,
            Self::Gue => 1,
            Self::Gre => 2,
            Self::Other(n) => n,
        }
    }
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            0 => Self::Ipip,
            1 => Self::Gue,
            2 => Self::Gre,
            n => Self::Other(n),
        }
    }
}

/// Checksum mode of GUE/GRE tunnels (`--tun-nocsum/--tun-csum/--tun-remcsum`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelCsum {
    #[default]
    NoCsum,
    Csum,
    RemCsum,
    Other(u16),
}

impl TunnelCsum {
    pub const fn raw(self) -> u16 {
        match self {
            Self::NoCsum => 0,
            Self::Csum => 1,
            Self::RemCsum => 2,
            Self::Other(n) => n,
        }
    }
    pub const fn from_raw(raw: u16) -> Self {
        match raw {
            0 => Self::NoCsum,
            1 => Self::Csum,
            2 => Self::RemCsum,
            n => Self::Other(n),
        }
    }
}

/// Tunnel parameters of a real server; all zero (ipip, port 0, nocsum) when not tunnelling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tunnel {
    pub kind: TunnelType,
    pub port: u16,
    pub csum: TunnelCsum,
}

/// Identity of a real server inside its service: family, address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// A real server (destination) of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dest {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: ForwardMethod,
    /// Signed in the kernel; the kernel rejects negative weights with ERANGE.
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    #[serde(default)]
    pub tunnel: Tunnel,
    #[serde(default)]
    pub active_conns: u32,
    #[serde(default)]
    pub inact_conns: u32,
    #[serde(default)]
    pub persist_conns: u32,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub rates: Rates,
}

impl Dest {
    /// A real server with ipvsadm's `-a` defaults: direct routing, weight 1, no thresholds.
    pub fn new(addr: IpAddr, port: u16) -> Self {
        Self {
            addr,
            port,
            fwd: ForwardMethod::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tunnel: Tunnel::default(),
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            stats: Stats::default(),
            rates: Rates::default(),
        }
    }

    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }

    pub fn af(&self) -> AddressFamily {
        AddressFamily::of(&self.addr)
    }

    /// True when the configurable parts are equal (counters and rates ignored).
    pub fn same_config(&self, other: &Self) -> bool {
        self.key() == other.key() && !DestField::ALL.iter().any(|f| f.differs(self, other))
    }

    /// The fields an edit from `self` to `to` would change, in [`DestField::ALL`] order.
    pub fn changed_fields(&self, to: &Self) -> Vec<DestField> {
        DestField::ALL
            .into_iter()
            .filter(|f| f.differs(self, to))
            .collect()
    }
}

/// What SET_DEST replaces, field by field: the one list both [`Dest::same_config`] and
/// "what does this edit change" are made of. The address and port are not here: they are
/// the real server's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DestField {
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Tunnel,
}

impl DestField {
    /// Every field, in the order reports list them.
    pub const ALL: [Self; 5] = [
        Self::Forward,
        Self::Weight,
        Self::UThreshold,
        Self::LThreshold,
        Self::Tunnel,
    ];

    /// Whether `a` and `b` differ in this field.
    pub fn differs(self, a: &Dest, b: &Dest) -> bool {
        match self {
            Self::Forward => a.fwd != b.fwd,
            Self::Weight => a.weight != b.weight,
            Self::UThreshold => a.u_threshold != b.u_threshold,
            Self::LThreshold => a.l_threshold != b.l_threshold,
            Self::Tunnel => a.tunnel != b.tunnel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_lists_every_field_in_order_and_ignores_counters() {
        let a = Dest::new("10.0.0.2".parse().unwrap(), 80);
        let mut b = a.clone();
        b.active_conns = 7;
        b.stats.conns = 9;
        assert!(a.same_config(&b));
        b.fwd = ForwardMethod::Tunnel;
        b.weight = 0;
        b.u_threshold = 10;
        b.l_threshold = 5;
        b.tunnel.port = 6080;
        assert_eq!(a.changed_fields(&b), DestField::ALL);
        assert!(!a.same_config(&b));
    }
}
