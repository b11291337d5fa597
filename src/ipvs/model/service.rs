//! Virtual services: their identity, what `-A`/`-E` configures, and the listing shape.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::{AddressFamily, Dest, Protocol, Rates, Stats};

/// What identifies a virtual service in the kernel: (protocol, address, port) or
/// (family, fwmark). Everything else about a service can be edited in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ServiceKey {
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    Fwmark {
        af: AddressFamily,
        mark: u32,
    },
}

impl ServiceKey {
    pub fn af(&self) -> AddressFamily {
        match self {
            Self::Addr { addr, .. } => AddressFamily::of(addr),
            Self::Fwmark { af, .. } => *af,
        }
    }

    /// The protocol the kernel files the service under; fwmark services report none (0).
    pub fn protocol(&self) -> Option<Protocol> {
        match self {
            Self::Addr { protocol, .. } => Some(*protocol),
            Self::Fwmark { .. } => None,
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Self::Addr { port, .. } => *port,
            Self::Fwmark { .. } => 0,
        }
    }

    pub fn is_fwmark(&self) -> bool {
        matches!(self, Self::Fwmark { .. })
    }
}

/// Numeric, unambiguous rendering (`TCP 10.0.0.1:80`, `TCP [2001:db8::1]:80`, `FWM 5`,
/// `FWM 5 IPv6`), used in modern messages and rules-file diagnostics.
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr {
                protocol,
                addr: IpAddr::V4(a),
                port,
            } => write!(f, "{} {a}:{port}", protocol.listing_name()),
            Self::Addr {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "{} [{a}]:{port}", protocol.listing_name()),
            Self::Fwmark {
                af: AddressFamily::Inet,
                mark,
            } => write!(f, "FWM {mark}"),
            Self::Fwmark {
                af: AddressFamily::Inet6,
                mark,
            } => write!(f, "FWM {mark} IPv6"),
        }
    }
}

/// Scheduler name as the kernel stores it (at most 15 bytes; `none` means no scheduler).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scheduler(pub String);

impl Scheduler {
    /// The schedulers of a stock kernel, in the order ipvsadm's help lists them.
    pub const KNOWN: [&'static str; 13] = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
    ];
    /// The kernel's name length limit (IP_VS_SCHEDNAME_MAXLEN - 1).
    pub const MAX_LEN: usize = 15;

    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_known(&self) -> bool {
        self.0 == "none" || Self::KNOWN.contains(&self.0.as_str())
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Self("wlc".to_owned())
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `IP_VS_SVC_F_*` bits, kept raw so unknown bits survive a round trip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    pub const PERSISTENT: u32 = 0x01;
    /// Set by the kernel on every hashed service; meaningless to users.
    pub const HASHED: u32 = 0x02;
    pub const ONEPACKET: u32 = 0x04;
    pub const SCHED1: u32 = 0x08;
    pub const SCHED2: u32 = 0x10;
    pub const SCHED3: u32 = 0x20;
    pub const SCHED_MASK: u32 = Self::SCHED1 | Self::SCHED2 | Self::SCHED3;

    pub const fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }
    pub const fn persistent(self) -> bool {
        self.contains(Self::PERSISTENT)
    }
    pub const fn one_packet(self) -> bool {
        self.contains(Self::ONEPACKET)
    }
    pub const fn sched_bits(self) -> u32 {
        self.0 & Self::SCHED_MASK
    }
    /// The flags a user configures: everything but the kernel's own HASHED bit.
    pub const fn configured(self) -> Self {
        Self(self.0 & !Self::HASHED)
    }
}

/// Persistence granularity. The kernel's NETMASK attribute is a raw network-order mask for
/// IPv4 services but a prefix length for IPv6 ones; keeping both shapes explicit stops the
/// two meanings from being mixed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Netmask {
    V4(Ipv4Addr),
    V6(u32),
}

impl Netmask {
    pub const fn default_for(af: AddressFamily) -> Self {
        match af {
            AddressFamily::Inet => Self::V4(Ipv4Addr::BROADCAST),
            AddressFamily::Inet6 => Self::V6(128),
        }
    }

    /// The u32 that goes into IPVS_SVC_ATTR_NETMASK (native endian on the wire).
    pub fn wire_value(self) -> u32 {
        match self {
            Self::V4(mask) => u32::from_ne_bytes(mask.octets()),
            Self::V6(prefix) => prefix,
        }
    }

    pub fn from_wire(af: AddressFamily, raw: u32) -> Self {
        match af {
            AddressFamily::Inet => Self::V4(Ipv4Addr::from(raw.to_ne_bytes())),
            AddressFamily::Inet6 => Self::V6(raw),
        }
    }

    pub fn is_default(self) -> bool {
        matches!(self, Self::V4(m) if m == Ipv4Addr::BROADCAST) || matches!(self, Self::V6(128))
    }
}

/// A virtual service: identity plus everything `-A`/`-E` can set, plus what the kernel
/// reports back (counters, rates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub key: ServiceKey,
    pub scheduler: Scheduler,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful when `flags.persistent()`).
    pub timeout: u32,
    pub netmask: Netmask,
    /// Persistence engine (e.g. `sip`), absent when none is set.
    pub pe_name: Option<String>,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub rates: Rates,
}

impl Service {
    /// A service with ipvsadm's `-A` defaults: wlc, no persistence, default netmask.
    pub fn new(key: ServiceKey) -> Self {
        Self {
            key,
            scheduler: Scheduler::default(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::default_for(key.af()),
            pe_name: None,
            stats: Stats::default(),
            rates: Rates::default(),
        }
    }

    /// True when the configurable parts are equal (counters, rates and the kernel's HASHED
    /// bit are ignored). This is what "unchanged" means to diff/apply and to health.
    pub fn same_config(&self, other: &Self) -> bool {
        self.key == other.key && !ServiceField::ALL.iter().any(|f| f.differs(self, other))
    }

    /// The fields an edit from `self` to `to` would change, in [`ServiceField::ALL`] order.
    pub fn changed_fields(&self, to: &Self) -> Vec<ServiceField> {
        ServiceField::ALL
            .into_iter()
            .filter(|f| f.differs(self, to))
            .collect()
    }
}

/// What SET_SERVICE replaces, field by field: the one list both "is this service
/// unchanged" ([`Service::same_config`]) and "what does this edit change" (rules plans,
/// their reports) are made of. The key is not here: a new key is a new service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceField {
    Scheduler,
    Flags,
    Timeout,
    Netmask,
    Pe,
}

impl ServiceField {
    /// Every field, in the order reports list them.
    pub const ALL: [Self; 5] = [
        Self::Scheduler,
        Self::Flags,
        Self::Timeout,
        Self::Netmask,
        Self::Pe,
    ];

    /// Whether `a` and `b` differ in this field. The kernel's HASHED bit is not
    /// configuration, so flags compare without it.
    pub fn differs(self, a: &Service, b: &Service) -> bool {
        match self {
            Self::Scheduler => a.scheduler != b.scheduler,
            Self::Flags => a.flags.configured() != b.flags.configured(),
            Self::Timeout => a.timeout != b.timeout,
            Self::Netmask => a.netmask != b.netmask,
            Self::Pe => a.pe_name != b.pe_name,
        }
    }
}

/// A service together with its real servers, as a full listing returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub service: Service,
    pub dests: Vec<Dest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmask_wire_value_is_network_order_for_ipv4_and_prefix_for_ipv6() {
        let v4 = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(v4.wire_value().to_ne_bytes(), [255, 255, 255, 0]);
        assert_eq!(Netmask::from_wire(AddressFamily::Inet, v4.wire_value()), v4);
        assert_eq!(Netmask::V6(64).wire_value(), 64);
        assert!(Netmask::default_for(AddressFamily::Inet).is_default());
        assert!(Netmask::default_for(AddressFamily::Inet6).is_default());
    }

    #[test]
    fn same_config_ignores_counters_and_hashed_bit() {
        let key = ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 1,
        };
        let a = Service::new(key);
        let mut b = a.clone();
        b.flags.0 |= ServiceFlags::HASHED;
        b.stats.conns = 5;
        assert!(a.same_config(&b));
        b.timeout = 1;
        assert!(!a.same_config(&b));
        assert_eq!(a.changed_fields(&b), [ServiceField::Timeout]);
    }

    #[test]
    fn changed_fields_lists_every_field_in_order() {
        let a = Service::new(ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 1,
        });
        let mut b = a.clone();
        b.scheduler = Scheduler::new("rr");
        b.flags.0 |= ServiceFlags::PERSISTENT;
        b.timeout = 300;
        b.netmask = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
        b.pe_name = Some("sip".to_owned());
        assert_eq!(a.changed_fields(&b), ServiceField::ALL);
        assert!(b.changed_fields(&b).is_empty());
    }
}
