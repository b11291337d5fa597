//! What the keyword handlers collect, as written: unset values are None until the
//! defaults and inheritance of `finish` fill them in.

use std::net::IpAddr;
use std::time::Duration;

use super::super::diag::Pos;
use super::super::model::{
    Forwarding, GroupEntry, HttpProtocol, RunAs, SmtpServer, SslContext, Url,
};
use crate::ipvs::model::{AddressFamily, Netmask, Protocol, Timeouts};

/// `global_defs` as written.
#[derive(Debug, Default)]
pub struct RawGlobals {
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    pub email_from: Option<String>,
    pub smtp_server: Option<SmtpServer>,
    pub smtp_connect_timeout: Option<Duration>,
    pub smtp_helo_name: Option<String>,
    pub smtp_alert: Option<bool>,
    pub smtp_alert_checker: Option<bool>,
    pub no_checker_emails: bool,
    pub checker_log_all_failures: bool,
    pub script_user: Option<RunAs>,
    /// `script_user` named a user or group that does not exist.
    pub script_user_failed: bool,
    pub script_security: bool,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: Option<super::super::model::FlushOnStop>,
    pub lvs_timeouts: Timeouts,
    pub ignored: Vec<(String, Pos)>,
}

/// A script as written: its command line and the user it names, if any.
#[derive(Debug, Clone)]
pub struct RawScript {
    pub pos: Pos,
    /// Order of appearance (keepalived settles the default script user at the first one).
    pub seq: usize,
    pub argv: Vec<String>,
    pub user: Option<RunAs>,
}

/// What a virtual server line names.
#[derive(Debug, Clone)]
pub enum RawTarget {
    Addr { addr: IpAddr, port: u16 },
    Fwmark(u32),
    Group(String),
}

#[derive(Debug)]
pub struct RawVs {
    pub pos: Pos,
    pub target: RawTarget,
    pub af: Option<AddressFamily>,
    pub scheduler: Option<String>,
    pub flags: u32,
    pub forwarding: Option<Forwarding>,
    /// 0: not persistent.
    pub persistence_timeout: u32,
    pub granularity: Option<Netmask>,
    pub persistence_engine: Option<String>,
    pub protocol: Option<Protocol>,
    pub ha_suspend: bool,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub alpha: bool,
    pub omega: bool,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<RawScript>,
    pub quorum_down: Option<RawScript>,
    pub sorry: Option<RawSorry>,
    pub connect_timeout: Duration,
    pub delay_loop: Duration,
    pub warmup: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub weight: u32,
    pub inhibit: bool,
    pub reals: Vec<RawRs>,
}

impl RawVs {
    /// keepalived's defaults for a new virtual server.
    pub fn new(pos: Pos, target: RawTarget, af: Option<AddressFamily>) -> Self {
        Self {
            pos,
            target,
            af,
            scheduler: None,
            flags: 0,
            forwarding: None,
            persistence_timeout: 0,
            granularity: None,
            persistence_engine: None,
            protocol: None,
            ha_suspend: false,
            smtp_alert: None,
            virtualhost: None,
            alpha: false,
            omega: false,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry: None,
            connect_timeout: Duration::from_secs(5),
            delay_loop: Duration::from_mins(1),
            warmup: None,
            retry: None,
            delay_before_retry: None,
            weight: 1,
            inhibit: false,
            reals: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RawSorry {
    pub addr: IpAddr,
    pub port: u16,
    pub forwarding: Option<Forwarding>,
    pub inhibit: bool,
}

#[derive(Debug)]
pub struct RawRs {
    pub pos: Pos,
    pub addr: IpAddr,
    pub port: u16,
    pub weight: Option<u32>,
    pub forwarding: Option<Forwarding>,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub inhibit: Option<bool>,
    pub alpha: Option<bool>,
    pub notify_up: Option<RawScript>,
    pub notify_down: Option<RawScript>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub checkers: Vec<RawChecker>,
}

impl RawRs {
    pub fn new(pos: Pos, addr: IpAddr, port: u16) -> Self {
        Self {
            pos,
            addr,
            port,
            weight: None,
            forwarding: None,
            u_threshold: 0,
            l_threshold: 0,
            inhibit: None,
            alpha: None,
            notify_up: None,
            notify_down: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            connect_timeout: None,
            delay_loop: None,
            smtp_alert: None,
            virtualhost: None,
            checkers: Vec::new(),
        }
    }
}

/// Connection settings as written.
#[derive(Debug, Clone, Default)]
pub struct RawConn {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub bind_addr: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    pub fwmark: Option<u32>,
    pub connect_timeout: Option<Duration>,
}

#[derive(Debug)]
pub struct RawChecker {
    pub pos: Pos,
    pub kind: RawKind,
    pub conn: Option<RawConn>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub alpha: Option<bool>,
    pub log_all_failures: bool,
    /// The checker type's own defaults.
    pub default_retry: u32,
    /// Zero: the delay loop.
    pub default_delay_before_retry: Duration,
    /// Set by the handlers when keepalived drops the checker.
    pub dropped: bool,
}

impl RawChecker {
    pub fn new(pos: Pos, kind: RawKind, connects: bool) -> Self {
        let (default_retry, default_delay_before_retry) = match kind {
            RawKind::Http(_) | RawKind::Ssl(_) => (1, Duration::from_secs(3)),
            RawKind::Misc(_) => (0, Duration::from_secs(1)),
            RawKind::Dns(_) => (3, Duration::ZERO),
            _ => (1, Duration::from_secs(1)),
        };
        Self {
            pos,
            kind,
            conn: connects.then(RawConn::default),
            retry: None,
            delay_before_retry: None,
            warmup: None,
            delay_loop: None,
            alpha: None,
            log_all_failures: false,
            default_retry,
            default_delay_before_retry,
            dropped: false,
        }
    }
}

#[derive(Debug)]
pub enum RawKind {
    Tcp,
    Http(RawHttp),
    Ssl(RawHttp),
    Misc(RawMisc),
    Smtp(RawSmtp),
    Dns(RawDns),
    Udp(RawUdp),
    Ping,
    File(RawFile),
    Bfd,
}

#[derive(Debug, Default)]
pub struct RawHttp {
    pub urls: Vec<RawUrl>,
    pub virtualhost: Option<String>,
    pub protocol: Option<HttpProtocol>,
    pub enable_sni: bool,
    pub fast_recovery: bool,
}

/// A url block; `url.virtualhost` holds only the url's own.
#[derive(Debug)]
pub struct RawUrl {
    pub url: Url,
    /// `path` was given (even empty).
    pub has_path: bool,
    pub status_set: bool,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub regex_options: Vec<String>,
    pub regex_min_offset: usize,
    pub regex_max_offset: usize,
    pub regex_stack: bool,
}

#[derive(Debug, Default)]
pub struct RawMisc {
    pub script: Option<RawScript>,
    pub timeout: Option<Duration>,
    pub dynamic: bool,
    /// The `user` keyword.
    pub user: Option<RunAs>,
    /// Where the block ended, and its order: keepalived settles the default user there.
    pub close: Option<(Pos, usize)>,
}

#[derive(Debug, Default)]
pub struct RawSmtp {
    pub helo_name: Option<String>,
    /// The (deprecated) `host { }` blocks: each becomes a checker of its own.
    pub hosts: Vec<RawConn>,
    /// Inside a `host` block: the checker's own connection is set aside here.
    pub saved_conn: Option<RawConn>,
    /// After the block: the connections of the further checkers its hosts make.
    pub extra: Vec<RawConn>,
}

#[derive(Debug, Default)]
pub struct RawDns {
    pub query_type: Option<super::super::model::DnsType>,
    pub name: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawUdp {
    pub payload: Vec<u8>,
    pub require_reply: bool,
    pub reply: Vec<u8>,
    pub reply_mask: Vec<u8>,
    pub min_reply_length: u16,
    pub max_reply_length: Option<u16>,
}

#[derive(Debug, Default)]
pub struct RawFile {
    pub track_file: Option<String>,
    pub weight: Option<(i32, bool)>,
}

/// A `track_file` block being read.
#[derive(Debug)]
pub struct RawTrackFile {
    pub name: String,
    pub pos: Pos,
    pub file: Option<String>,
    pub weight: Option<(i32, bool)>,
    pub init: Option<(i32, bool)>,
}

/// A group being read (kept until the end: virtual servers may come first).
#[derive(Debug)]
pub struct RawGroup {
    pub name: String,
    pub pos: Pos,
    pub entries: Vec<GroupEntry>,
}

/// The SSL block being read.
pub type RawSsl = SslContext;
