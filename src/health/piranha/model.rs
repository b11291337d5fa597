//! The typed result of reading Piranha's lvs.cf: what nanny-style checking runs.
//! docs/piranha.md states the semantics each field has in lvsctl.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::Serialize;

use crate::ipvs::model::{ForwardMethod, Netmask, Protocol, Scheduler, ServiceKey};

/// The whole lvs.cf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiranhaConfig {
    /// `network = nat|direct|tunnel`: how every real server is reached (the one pulse
    /// setting the checker needs; default NAT).
    pub forwarding: ForwardMethod,
    /// `keepalive = SECONDS`: pulse's heartbeat interval, the one interval the file has;
    /// lvsctl checks every real that often (docs/piranha.md, The check).
    pub keepalive: Option<u32>,
    pub virtuals: Vec<PiranhaVirtual>,
    /// pulse's failover settings (and other keys lvsctl leaves alone), with their values.
    pub ignored: Vec<Ignored>,
}

/// A key that is read but not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    pub key: String,
    pub value: String,
    pub line: usize,
    /// Why it is not used.
    pub reason: &'static str,
}

/// `virtual NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiranhaVirtual {
    pub name: String,
    pub line: usize,
    /// `active = 0` virtuals are not configured at all.
    pub active: bool,
    /// From `address`, `port` and `protocol`, or `fwmark` when given.
    pub service: ServiceKey,
    /// `port` and `protocol` as read (80 and TCP by default): where and how each real is
    /// checked, also when `fwmark` makes the service a mark.
    pub port: u16,
    pub protocol: Protocol,
    /// The interface label on the `address` line (`eth0:0`): where pulse raises the
    /// address; lvsctl does not manage addresses.
    pub interface: Option<String>,
    /// `vip_nmask`: the virtual address's netmask (pulse's business).
    pub vip_nmask: Option<Ipv4Addr>,
    pub scheduler: Scheduler,
    /// `persistent = SECONDS` (> 0) with `pmask`.
    pub persistence: Option<Persistence>,
    pub check: NannyCheck,
    /// `quiesce_server = 1`: when a real server comes back, the virtual service's
    /// connection counters are reset so the returning server is not flooded.
    pub quiesce_server: bool,
    /// `load_monitor`: dynamic weights from rup/ruptime, which lvsctl does not support.
    pub load_monitor: LoadMonitor,
    pub servers: Vec<PiranhaServer>,
}

/// Persistence of a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Persistence {
    pub timeout: u32,
    pub netmask: Netmask,
}

/// How nanny checks each real server of a virtual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NannyCheck {
    /// Bytes sent after connecting (`send`, escapes decoded); None: nothing is sent.
    pub send: Option<Vec<u8>>,
    /// What the reply must contain (or match); None: connecting (and sending) suffices.
    pub expect: Option<Expect>,
    /// `send_program`: a command run instead of talking to the server; `%h` in it stands
    /// for the real server's address; its standard output is checked against `expect`.
    pub send_program: Option<String>,
    /// The whole check must finish within this (default 10 s).
    pub timeout: Duration,
    /// A failed real server must pass checks for this long before it is put back
    /// (default 180 s).
    pub reentry: Duration,
}

/// What a reply is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Expect {
    /// The reply must contain these bytes (`use_regex = 0`, escapes decoded).
    Text(Vec<u8>),
    /// The reply must match this regular expression (`use_regex = 1`).
    Regex(String),
}

/// `load_monitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LoadMonitor {
    None,
    Rup,
    Ruptime,
}

/// `server NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiranhaServer {
    pub name: String,
    pub line: usize,
    pub address: IpAddr,
    /// `active = 0` servers are not configured.
    pub active: bool,
    /// Default 1.
    pub weight: u32,
}
