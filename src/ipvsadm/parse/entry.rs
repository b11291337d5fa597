//! The raw, order-dependent parse state: what ipvsadm accumulates while reading options
//! left to right, before any cross-option check.
//!
//! Fields mirror what the options set, including values that only make sense in
//! combination (the netmask read under the address family known *at that moment*, the
//! real server's default port taken from the service port known at that moment). The
//! checks and defaults that turn this into a typed command live in `finish`.

use std::net::{IpAddr, Ipv4Addr};

use crate::ipvs::model::{AddressFamily, DaemonRole, ForwardMethod, Netmask, Protocol, TunnelType};

use super::table::{Command, TrackedSet};

/// The persistence mask as last written: an IPv4 mask (`inet_aton` bytes) or an IPv6
/// prefix (`atoi`). Both end up in the same kernel field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawMask {
    V4([u8; 4]),
    V6(u32),
}

impl RawMask {
    /// The model value for a service of family `af`, reinterpreting the raw field exactly
    /// as the kernel would if the two ever disagreed.
    pub fn for_family(self, af: AddressFamily) -> Netmask {
        match (af, self) {
            (AddressFamily::Inet, Self::V4(b)) => Netmask::V4(Ipv4Addr::from(b)),
            (AddressFamily::Inet, Self::V6(n)) => Netmask::V4(Ipv4Addr::from(n.to_ne_bytes())),
            (AddressFamily::Inet6, Self::V6(n)) => Netmask::V6(n),
            (AddressFamily::Inet6, Self::V4(b)) => Netmask::V6(u32::from_ne_bytes(b)),
        }
    }
}

/// Everything one command line sets, with ipvsadm's initial values.
#[derive(Debug, Clone)]
pub struct Entry {
    pub cmd: Command,
    pub given: TrackedSet,

    // Virtual service.
    pub svc_af: Option<AddressFamily>,
    pub protocol: Option<Protocol>,
    pub svc_addr: Option<IpAddr>,
    pub svc_port: u16,
    pub fwmark: u32,
    pub netmask: RawMask,
    pub scheduler: String,
    pub flags: u32,
    pub timeout: u32,
    pub pe_name: String,
    /// `-b` value as stored (at most 127 bytes); parsed after all options.
    pub sched_flags: String,

    // Real server.
    pub dest_addr: Option<IpAddr>,
    pub dest_port: u16,
    pub fwd: ForwardMethod,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tun_type: TunnelType,
    pub tun_port: u16,
    pub tun_flags: u16,

    // Sync daemon.
    pub daemon_role: Option<DaemonRole>,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,

    // Listing format.
    pub numeric: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub nosort: bool,
    pub exact: bool,
    pub tun_info: bool,

    /// `--set` values, filled from the positionals after the options.
    pub timeouts: (u32, u32, u32),
}

impl Entry {
    pub fn new(cmd: Command) -> Self {
        Self {
            cmd,
            given: TrackedSet::default(),
            svc_af: None,
            protocol: None,
            svc_addr: None,
            svc_port: 0,
            fwmark: 0,
            netmask: RawMask::V4([0xff; 4]),
            scheduler: String::new(),
            flags: 0,
            timeout: 0,
            pe_name: String::new(),
            sched_flags: String::new(),
            dest_addr: None,
            dest_port: 0,
            fwd: ForwardMethod::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
            daemon_role: None,
            mcast_ifn: String::new(),
            syncid: 0,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
            numeric: false,
            stats: false,
            rate: false,
            thresholds: false,
            persistent_conn: false,
            nosort: false,
            exact: false,
            tun_info: false,
            timeouts: (0, 0, 0),
        }
    }
}

/// `strncpy` into a fixed buffer: at most `max` bytes, cut back to a character boundary so
/// the result stays valid UTF-8.
pub fn truncate_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}
