//! The typed result of reading a keepalived.conf's LVS part: what the health daemon runs.
//!
//! Everything here is resolved the way keepalived resolves it before it starts checking:
//! keepalived's defaults are filled in, values a real server or checker leaves unset are
//! inherited (virtual server → real server → checker, see [`Timing`]), real server ports
//! are corrected as keepalived corrects them, and keepalived's own corrections of invalid
//! values (a quorum above the total weight, a missing protocol) are applied, each with the
//! diagnostic keepalived prints. A later stage never needs the raw text again.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
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

/// One checker of a real server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checker {
    pub pos: Pos,
    pub kind: CheckerKind,
    /// None for FILE_CHECK, which watches a file rather than running on a timer.
    pub timing: Option<Timing>,
    /// Where the check connects; None for MISC_CHECK and FILE_CHECK.
    pub connection: Option<Connection>,
    /// Counts as failed until it first succeeds (inherited from the real server).
    pub alpha: bool,
    /// Log every failure, not only state changes.
    pub log_all_failures: bool,
}

/// When a timed checker runs, after inheritance: a value the checker leaves unset comes
/// from its real server, which takes it from its virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// Between checks. Default 60 s (the virtual server's).
    #[serde(serialize_with = "seconds")]
    pub delay_loop: Duration,
    /// Failures retried before the checker is down. Default 1; MISC_CHECK 0; DNS_CHECK 3.
    pub retry: u32,
    /// Between a failure and its retry. Default 1 s; HTTP_GET/SSL_GET 3 s; DNS_CHECK the
    /// delay loop.
    #[serde(serialize_with = "seconds")]
    pub delay_before_retry: Duration,
    /// The first check runs after a random delay up to this. Default: the delay loop.
    #[serde(serialize_with = "seconds")]
    pub warmup: Duration,
}

/// Where and how a checker connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// `connect_ip`/`connect_port`, defaulting to the real server's address and the port
    /// written on its `real_server` line.
    pub target: SocketAddr,
    /// `bindto`/`bind_port`.
    pub bind_addr: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    /// `fwmark`: the mark put on the check's packets.
    pub fwmark: Option<u32>,
    /// Default 5 s (the virtual server's).
    #[serde(serialize_with = "seconds")]
    pub connect_timeout: Duration,
}

/// The checker types and their parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CheckerKind {
    /// Connects, then closes.
    Tcp,
    /// HTTP_GET.
    Http(HttpCheck),
    /// SSL_GET: HTTP over TLS, with the top-level `SSL` block's certificate if any.
    Ssl(HttpCheck),
    Misc(MiscCheck),
    Smtp(SmtpCheck),
    Dns(DnsCheck),
    Udp(UdpCheck),
    /// ICMP echo.
    Ping,
    File(FileCheck),
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpCheck {
    pub urls: Vec<Url>,
    pub http_protocol: HttpProtocol,
    /// Send the host name (virtualhost, else the address) as TLS SNI.
    pub enable_sni: bool,
    /// Retry a failed URL at once when the real server is down.
    pub fast_recovery: bool,
}

/// The request line's version and whether `Connection: close` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpProtocol {
    /// `1.0` (default): HTTP/1.0 without Connection header.
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: HTTP/1.1 with `Connection: close`.
    Http11,
}

/// One `url` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Url {
    pub path: String,
    /// MD5 of the body.
    pub digest: Option<Digest>,
    /// Accepted status codes (default 200-299).
    pub status_codes: StatusCodes,
    /// The Host header: the url's `virtualhost`, else the checker's, the real server's or
    /// the virtual server's; None sends the address and port.
    pub virtualhost: Option<String>,
    pub regex: Option<UrlRegex>,
}

/// An MD5 digest (shown as 32 hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub [u8; 16]);

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(32);
        for b in self.0 {
            let _ = write!(hex, "{b:02x}");
        }
        s.serialize_str(&hex)
    }
}

/// HTTP status codes as sorted, disjoint, inclusive ranges (shown as `200-299`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCodes(Vec<(u16, u16)>);

impl StatusCodes {
    /// Adds `lo..=hi`, merging with what overlaps or touches it.
    pub fn add(&mut self, lo: u16, hi: u16) {
        self.0.push((lo, hi));
        self.0.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(self.0.len());
        for &(a, b) in &self.0 {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.0 = merged;
    }

    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|&(a, b)| (a..=b).contains(&code))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }
}

impl Serialize for StatusCodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        }))
    }
}

/// Durations in seconds (`1.5`), for readable snapshots and JSON.
fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// `regex` with its options (PCRE2 syntax and option names as keepalived passes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlRegex {
    pub pattern: String,
    /// `regex_no_match`: succeed when the body does not match.
    pub no_match: bool,
    pub options: Vec<String>,
    pub min_offset: usize,
    /// One beyond the last offset a match may start at (0: no limit).
    pub max_offset: usize,
}

/// MISC_CHECK: runs a program; success is exit 0 (see `dynamic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MiscCheck {
    pub script: Script,
    /// Kills the program after this long. Default: the virtual server's delay loop.
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
    /// `misc_dynamic`: exit 0 up, 1 down, 2..255 up with weight (code - 2).
    pub dynamic: bool,
}

/// SMTP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpCheck {
    /// Default `smtpchecker.keepalived.org`.
    pub helo_name: String,
}

/// DNS_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsCheck {
    /// Default SOA.
    pub query_type: DnsType,
    /// Default the root (empty name).
    pub name: String,
}

/// The query types DNS_CHECK knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Mx,
    Txt,
    Aaaa,
    Rrsig,
    Dnskey,
}

impl DnsType {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "A" => Self::A,
            "NS" => Self::Ns,
            "CNAME" => Self::Cname,
            "SOA" => Self::Soa,
            "MX" => Self::Mx,
            "TXT" => Self::Txt,
            "AAAA" => Self::Aaaa,
            "RRSIG" => Self::Rrsig,
            "DNSKEY" => Self::Dnskey,
            _ => return None,
        })
    }

    /// The RR type number.
    pub const fn code(self) -> u16 {
        match self {
            Self::A => 1,
            Self::Ns => 2,
            Self::Cname => 5,
            Self::Soa => 6,
            Self::Mx => 15,
            Self::Txt => 16,
            Self::Aaaa => 28,
            Self::Rrsig => 46,
            Self::Dnskey => 48,
        }
    }
}

/// UDP_CHECK: sends `payload` (a zero-length datagram when none) and, with
/// `require_reply`, needs an answer matching `reply` where `reply_mask` bits are clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UdpCheck {
    pub payload: Vec<u8>,
    pub require_reply: bool,
    pub reply: Vec<u8>,
    /// Set bits are wildcards (`X` nibbles in the hex string).
    pub reply_mask: Vec<u8>,
    pub min_reply_length: u16,
    /// Default 255.
    pub max_reply_length: u16,
}

/// FILE_CHECK: the real server's weight follows a number in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    /// The `track_file` it names.
    pub track_file: String,
    pub file: PathBuf,
    /// The value in the file is multiplied by this (the FILE_CHECK's `weight`, else the
    /// track_file's); 0 means any non-zero value takes the server down.
    pub weight: i32,
    pub reverse: bool,
}

/// A top-level `track_file NAME { file PATH; weight N [reverse]; init_file [N] [overwrite] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackFile {
    pub name: String,
    pub pos: Pos,
    pub file: PathBuf,
    /// Default 1.
    pub weight: i32,
    pub reverse: bool,
    /// `init_file`: create the file with this value at start (`overwrite`: even if it
    /// exists).
    pub init: Option<TrackFileInit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrackFileInit {
    pub value: i32,
    pub overwrite: bool,
}

/// The top-level `SSL` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SslContext {
    pub password: Option<String>,
    pub ca: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
}
