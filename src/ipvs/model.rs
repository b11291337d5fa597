//! Plain data for everything the kernel's IPVS tables hold.
//!
//! This module owns the vocabulary shared by every face of lvsctl (ipvsadm drop-in, `top`,
//! `health`, rules files). It knows nothing about netlink, procfs or output formats: values
//! are stored as the kernel reports them (raw flag bits, raw forwarding codes, unknown values
//! kept rather than rejected) so that formatting code can reproduce ipvsadm's rendering of
//! odd values exactly, and so that a round trip through the model never loses information.

use std::fmt;
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

/// Packet and byte counters. Always 64-bit here; the kernel's 32-bit STATS block is widened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// The kernel's rate estimators (2-second EWMA, per second).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
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
        self.key == other.key
            && self.scheduler == other.scheduler
            && self.flags.configured() == other.flags.configured()
            && self.timeout == other.timeout
            && self.netmask == other.netmask
            && self.pe_name == other.pe_name
    }
}

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
        self.key() == other.key()
            && self.fwd == other.fwd
            && self.weight == other.weight
            && self.u_threshold == other.u_threshold
            && self.l_threshold == other.l_threshold
            && self.tunnel == other.tunnel
    }
}

/// A service together with its real servers, as a full listing returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub service: Service,
    pub dests: Vec<Dest>,
}

/// GET_INFO: the IPVS version and the connection hash table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// Encoded as the kernel does: `(major << 16) | (minor << 8) | patch`.
    pub version: u32,
    pub conn_tab_size: u32,
}

impl Info {
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}

/// Connection timeouts in seconds (`--set tcp tcpfin udp`). In a SET request 0 means
/// "leave unchanged".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Role of a connection-sync daemon (`IP_VS_STATE_MASTER` / `IP_VS_STATE_BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonRole {
    Master,
    Backup,
}

impl DaemonRole {
    pub const fn raw(self) -> u32 {
        match self {
            Self::Master => 1,
            Self::Backup => 2,
        }
    }
}

/// A connection-synchronisation daemon. Optional fields are the ones the kernel fills with
/// defaults when they are not sent (and the ones ipvsadm prints only when present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemon {
    /// Raw IPVS_DAEMON_ATTR_STATE bits as reported (1 master, 2 backup).
    pub state: u32,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

impl SyncDaemon {
    pub fn new(role: DaemonRole, mcast_ifn: impl Into<String>, syncid: u32) -> Self {
        Self {
            state: role.raw(),
            mcast_ifn: mcast_ifn.into(),
            syncid,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }

    /// The role ipvsadm reports: the master bit is checked first.
    pub fn role(&self) -> Option<DaemonRole> {
        if self.state & DaemonRole::Master.raw() != 0 {
            Some(DaemonRole::Master)
        } else if self.state & DaemonRole::Backup.raw() != 0 {
            Some(DaemonRole::Backup)
        } else {
            None
        }
    }
}

/// One row of `/proc/net/ip_vs_conn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Protocol name exactly as the kernel printed it (`TCP`, `UDP`, `SCTP`, `IP`, ...).
    pub protocol: String,
    pub client_addr: IpAddr,
    pub client_port: u16,
    pub virtual_addr: IpAddr,
    pub virtual_port: u16,
    pub dest_addr: IpAddr,
    pub dest_port: u16,
    /// State name as printed by the kernel (`ESTABLISHED`, `SYN_RECV`, `UDP`, `NONE`, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    pub pe_name: Option<String>,
    pub pe_data: Option<String>,
}

/// Totals from `/proc/net/ip_vs_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalStats {
    pub stats: Stats,
    pub rates: Rates,
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
    fn daemon_role_prefers_master_bit() {
        let mut d = SyncDaemon::new(DaemonRole::Backup, "eth0", 0);
        assert_eq!(d.role(), Some(DaemonRole::Backup));
        d.state = 3;
        assert_eq!(d.role(), Some(DaemonRole::Master));
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
    }
}
