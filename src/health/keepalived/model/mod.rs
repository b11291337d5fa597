//! The typed result of reading a keepalived.conf's LVS part: what the health daemon runs.
//!
//! Everything here is resolved the way keepalived resolves it before it starts checking:
//! keepalived's defaults are filled in, values a real server or checker leaves unset are
//! inherited (virtual server → real server → checker, see [`Timing`]), real server ports
//! are corrected as keepalived corrects them, and keepalived's own corrections of invalid
//! values (a quorum above the total weight, a missing protocol) are applied, each with the
//! diagnostic keepalived prints. A later stage never needs the raw text again.

mod checkers;

pub use checkers::*;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use super::diag::{Diagnostic, Pos};
use crate::ipvs::model::{
    AddressFamily, ForwardMethod, Netmask, Protocol, Scheduler, ServiceFlags, ServiceKey, Tunnel,
};

/// The LVS part of a keepalived.conf.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeepalivedConfig {
    pub globals: Globals,
    pub virtual_servers: Vec<VirtualServer>,
    /// Every `virtual_server_group`, whether a virtual server uses it or not.
    pub groups: Vec<VirtualServerGroup>,
    /// Top-level `track_file` definitions (FILE_CHECK refers to them by name).
    pub track_files: Vec<TrackFile>,
    /// The top-level `SSL` block: the client certificate SSL_GET checks present.
    pub ssl: Option<SslContext>,
    /// Blocks of keepalived's other parts (VRRP, BFD), skipped whole.
    pub skipped: Vec<Skipped>,
    /// Everything reported that does not stop keepalived (see `Severity`).
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

/// A skipped block: its keyword and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub keyword: String,
    /// The words after the keyword (e.g. the VRRP instance name).
    pub name: String,
    pub pos: Pos,
}

/// `global_defs`, with keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Globals {
    /// Default: the host's canonical name.
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    /// Default when an SMTP server is set: `<login>@<canonical host name>`.
    pub notification_email_from: Option<String>,
    pub smtp_server: Option<SmtpServer>,
    /// Default 30 s.
    #[serde(serialize_with = "seconds")]
    pub smtp_connect_timeout: Duration,
    /// Default when an SMTP server is set: the canonical host name.
    pub smtp_helo_name: Option<String>,
    /// `smtp_alert`: the default of every virtual server's and real server's alerts.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_checker`: the same for the checker only; wins over `smtp_alert`.
    pub smtp_alert_checker: Option<bool>,
    /// No mail when one checker of a real server changes state but the server does not.
    pub no_checker_emails: bool,
    pub checker_log_all_failures: bool,
    /// The user (and group) scripts run as unless they name their own.
    pub script_user: Option<RunAs>,
    pub enable_script_security: bool,
    /// Flush the IPVS table at start.
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: FlushOnStop,
    /// `lvs_timeouts tcp N tcpfin N udp N`; zeros are not set.
    pub lvs_timeouts: crate::ipvs::model::Timeouts,
    /// Known `global_defs` keywords lvsctl does not use, with where they are.
    pub ignored: Vec<(String, Pos)>,
}

/// What `lvs_flush_on_stop` removes when keepalived stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FlushOnStop {
    /// Only what it configured (omega and inhibit rules apply).
    No,
    /// The whole IPVS table.
    Full,
    /// Every virtual server it configured, with its real servers.
    VirtualServers,
}

/// An SMTP relay: resolved address and port (default 25), and the name as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpServer {
    pub host: String,
    pub addr: SocketAddr,
}

/// A user, and optionally a group, a script runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunAs {
    pub user: String,
    pub group: Option<String>,
}

/// A command line: keepalived splits the quoted string with quotes and escapes, so
/// `notify_up "/bin/n.sh up 'a b'"` runs `/bin/n.sh` with `up` and `a b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Script {
    pub argv: Vec<String>,
    /// Resolved: the script's own user, else `script_user`, else `keepalived_script` when
    /// that user exists, else root.
    pub run_as: RunAs,
}

/// A virtual server: one `virtual_server` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualServer {
    pub pos: Pos,
    pub target: Target,
    pub family: AddressFamily,
    pub scheduler: Scheduler,
    /// `ops`, `flag-1..3`, `sh-port` and friends as IPVS service flag bits; `persistence`
    /// sets its own bit when the service is created.
    pub flags: ServiceFlags,
    /// The forwarding method real servers inherit (`lb_kind`/`lvs_method`).
    pub forwarding: Forwarding,
    pub persistence: Option<Persistence>,
    pub persistence_engine: Option<String>,
    /// None for firewall-mark services (keepalived ignores a protocol there).
    pub protocol: Option<Protocol>,
    /// Real servers start down until a check succeeds (also inherited by reals and
    /// checkers, see [`RealServer::alpha`]).
    pub alpha: bool,
    /// On stop, remove the sorry server and the real servers (and run quorum_down).
    pub omega: bool,
    /// Minimum total weight of live real servers for the service to be up.
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    pub sorry_server: Option<SorryServer>,
    /// Suspend the checkers while the virtual address is not on this host.
    pub ha_suspend: bool,
    pub smtp_alert: bool,
    pub virtualhost: Option<String>,
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// ipvsadm's `-b` names of the scheduler flag bits set (`sh-`/`mh-` names for those
    /// schedulers), the form both ldirectord's `schedflags=` and the daemon read.
    pub fn sched_flag_names(&self) -> Vec<&'static str> {
        let (one, two) = match self.scheduler.0.as_str() {
            "sh" => ("sh-fallback", "sh-port"),
            "mh" => ("mh-fallback", "mh-port"),
            _ => ("flag-1", "flag-2"),
        };
        [
            (ServiceFlags::SCHED1, one),
            (ServiceFlags::SCHED2, two),
            (ServiceFlags::SCHED3, "flag-3"),
        ]
        .into_iter()
        .filter(|(bit, _)| self.flags.0 & bit != 0)
        .map(|(_, name)| name)
        .collect()
    }
}

/// What a virtual server serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Target {
    /// `virtual_server IP PORT` or `virtual_server fwmark N`: one IPVS service.
    Service(ServiceKey),
    /// `virtual_server group NAME`: the group's services, all with these real servers and
    /// checkers. Kept as a reference rather than expanded: keepalived runs one set of
    /// checkers per real server for the whole group and counts the quorum once, so the
    /// group's services share state and must not become separate virtual servers.
    Group(GroupRef),
}

/// A group used by a virtual server, with its entries resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    pub name: String,
    pub entries: Vec<GroupEntry>,
}

impl Target {
    /// The IPVS services this target stands for, address ranges expanded (the protocol is
    /// the virtual server's; firewall marks without a family take `family`).
    pub fn service_keys(&self, protocol: Protocol, family: AddressFamily) -> Vec<ServiceKey> {
        match self {
            Self::Service(key) => vec![*key],
            Self::Group(g) => g
                .entries
                .iter()
                .flat_map(|e| e.service_keys(protocol, family))
                .collect(),
        }
    }
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VirtualServerGroup {
    pub name: String,
    pub pos: Pos,
    pub entries: Vec<GroupEntry>,
}

/// One line of a virtual server group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum GroupEntry {
    /// `IP PORT`, `IP-LAST PORT` (a range of the last byte for IPv4, of the last 16-bit
    /// group, in hex, for IPv6), `IP-IP PORT` or `IP/PREFIX PORT`: every address from
    /// `first` to `last`. Port 0 when none was given (the service is then persistent).
    Range {
        first: IpAddr,
        last: IpAddr,
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        mark: u32,
        family: Option<AddressFamily>,
    },
}

/// Addresses in a group range beyond this many are not expanded by
/// [`GroupEntry::service_keys`] (a /8 would be 16 million services).
pub const MAX_EXPANDED: usize = 65_536;

impl GroupEntry {
    pub fn service_keys(&self, protocol: Protocol, family: AddressFamily) -> Vec<ServiceKey> {
        match *self {
            Self::Fwmark { mark, family: f } => vec![ServiceKey::Fwmark {
                af: f.unwrap_or(family),
                mark,
            }],
            Self::Range { first, last, port } => address_range(first, last)
                .into_iter()
                .map(|addr| ServiceKey::Addr {
                    protocol,
                    addr,
                    port,
                })
                .collect(),
        }
    }
}

fn address_range(first: IpAddr, last: IpAddr) -> Vec<IpAddr> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a)..=u32::from(b))
            .take(MAX_EXPANDED)
            .map(|n| IpAddr::V4(n.into()))
            .collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a)..=u128::from(b))
            .take(MAX_EXPANDED)
            .map(|n| IpAddr::V6(n.into()))
            .collect(),
        _ => Vec::new(),
    }
}

/// How packets reach a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Forwarding {
    /// Masq (`NAT`), Route (`DR`) or Tunnel (`TUN`).
    pub method: ForwardMethod,
    /// For tunnels: `type ipip|gue|gre`, `port` (gue), `nocsum|csum|remcsum`.
    pub tunnel: Tunnel,
}

/// `persistence_timeout` (default 360 s when only the keyword or a granularity is given)
/// and `persistence_granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Persistence {
    pub timeout: u32,
    pub granularity: Netmask,
}

/// `sorry_server IP PORT`: put in when the quorum is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SorryServer {
    pub addr: IpAddr,
    pub port: u16,
    pub forwarding: Forwarding,
    /// `sorry_server_inhibit`: set to weight 0 rather than removed when not needed.
    pub inhibit: bool,
}

/// A real server with its checkers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealServer {
    pub pos: Pos,
    pub addr: IpAddr,
    /// As keepalived sets it: the virtual server's port unless NAT gives its own, 0 for
    /// firewall-mark services.
    pub port: u16,
    /// Default: the virtual server's `weight`, itself 1.
    pub weight: u32,
    pub forwarding: Forwarding,
    /// On failure set the weight to 0 instead of removing the server.
    pub inhibit_on_failure: bool,
    /// Starts down until its checkers succeed.
    pub alpha: bool,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    pub smtp_alert: bool,
    pub virtualhost: Option<String>,
    /// The server is up only while every one of them succeeds.
    pub checkers: Vec<Checker>,
}

/// Durations in seconds (`1.5`), for readable snapshots and JSON.
pub(crate) fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
