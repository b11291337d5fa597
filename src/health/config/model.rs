//! The typed result of parsing an ldirectord.cf: what the checker and the reconciler consume.
//!
//! Every per-virtual value here is already *resolved*: globals, ldirectord's defaults and its
//! cross-defaulting rules (docs/ldirectord-compat.md, Defaults and precedence) have been
//! applied, so later stages never look at the globals again to decide how to check a real
//! server.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::other_formats::{
    KeepalivedCheck, KeepalivedHttp, KeepalivedTable, KeepalivedVirtual, Nanny, RealCheck,
};
use crate::ipvs::model::{Netmask, ServiceKey};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub globals: Globals,
    pub virtuals: Vec<VirtualService>,
}

/// Directives that only exist at top level, plus the raw global defaults kept for reference
/// (the effective per-virtual values live in [`VirtualService`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Globals {
    /// Seconds between passes (the per-virtual value only counts with `fork=yes`).
    pub check_interval: u32,
    pub autoreload: bool,
    /// Run on every content change of the file, with the file path as argument.
    pub callback: Option<String>,
    pub logfile: LogTarget,
    pub fork: bool,
    pub supervised: bool,
    /// Global default; see [`VirtualService::quiescent`] for the effective value.
    pub quiescent: bool,
    pub readd_quiescent: bool,
    pub cleanstop: bool,
    pub maintenance_dir: Option<PathBuf>,
    /// Other configuration names started alongside this one (`execute=`).
    pub execute: Vec<String>,
    pub email_alert_from: Option<String>,
    /// Raw global timeouts as written (None = not set); kept for status output.
    pub check_timeout: Option<u32>,
    pub negotiate_timeout: Option<u32>,
    pub failure_count: u32,
    /// Global `rise` (lvsctl extension); 1 is ldirectord's behaviour.
    pub rise: u32,
    /// Global `redirects` (lvsctl extension).
    pub redirects: RedirectPolicy,
    /// Global `cleartext_passwords` (lvsctl extension).
    pub cleartext_passwords: bool,
    pub check_count: u32,
    pub fallback_command: Option<String>,
    pub email: EmailSettings,
    /// A keepalived.conf's whole-table settings; all off for ldirectord.cf and lvs.cf.
    pub keepalived_table: KeepalivedTable,
    /// A keepalived.conf's relay for `smtp_alert` mails; None when it mails nothing
    /// (no `smtp_server` or no `notification_email`) and for the other formats.
    pub keepalived_mail: Option<super::KeepalivedMail>,
}

impl Default for Globals {
    /// ldirectord's defaults as its code has them (not as its manual says: quiescent=no).
    fn default() -> Self {
        Self {
            check_interval: 10,
            autoreload: false,
            callback: None,
            logfile: LogTarget::File(PathBuf::from("/var/log/ldirectord.log")),
            fork: false,
            supervised: false,
            quiescent: false,
            readd_quiescent: false,
            cleanstop: true,
            maintenance_dir: None,
            execute: Vec::new(),
            email_alert_from: None,
            check_timeout: None,
            negotiate_timeout: None,
            failure_count: 1,
            rise: 1,
            redirects: RedirectPolicy::default(),
            cleartext_passwords: false,
            check_count: 1,
            fallback_command: None,
            email: EmailSettings::default(),
            keepalived_table: KeepalivedTable::default(),
            keepalived_mail: None,
        }
    }
}

/// `logfile="..."`: a leading `/` means a file, anything else a syslog facility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    File(PathBuf),
    Syslog(String),
}

/// Mail alert settings (global defaults, overridable per virtual).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    /// Comma-separated recipients as written; empty = no mail.
    pub alert: String,
    /// Resend interval for inaccessible servers, seconds (0 = never).
    pub frequency: u32,
    pub status: AlertStatus,
    pub smtp: Option<String>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            alert: String::new(),
            frequency: 0,
            status: AlertStatus::ALL,
            smtp: None,
        }
    }
}

/// Daemon states in which mail is sent (`emailalertstatus`), as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertStatus(pub u8);

impl AlertStatus {
    pub const NONE: Self = Self(0);
    pub const STARTING: Self = Self(1);
    pub const RUNNING: Self = Self(2);
    pub const STOPPING: Self = Self(4);
    pub const RELOADING: Self = Self(8);
    pub const ALL: Self = Self(15);

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// ldirectord's forwarding keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forward {
    /// Direct routing (ipvsadm `-g`).
    Gate,
    /// NAT (ipvsadm `-m`).
    Masq,
    /// IP-in-IP tunnel (ipvsadm `-i`).
    Ipip,
}

impl Forward {
    pub fn from_keyword(word: &str) -> Option<Self> {
        match word {
            "gate" => Some(Self::Gate),
            "masq" => Some(Self::Masq),
            "ipip" => Some(Self::Ipip),
            _ => None,
        }
    }

    pub const fn keyword(self) -> &'static str {
        match self {
            Self::Gate => "gate",
            Self::Masq => "masq",
            Self::Ipip => "ipip",
        }
    }
}

/// `checktype=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckType {
    Negotiate,
    Connect,
    Ping,
    External,
    ExternalPerl,
    /// Never checked; nothing is added by checks.
    Off,
    /// Never checked; always up.
    On,
    /// Negotiate, then this many connect-only passes, then negotiate again.
    Combined(u32),
}

impl CheckType {
    pub fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "negotiate" => Self::Negotiate,
            "connect" => Self::Connect,
            "ping" => Self::Ping,
            "external" => Self::External,
            "external-perl" => Self::ExternalPerl,
            "off" => Self::Off,
            "on" => Self::On,
            _ => return None,
        })
    }
}

/// `httpmethod=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpMethod {
    #[default]
    Get,
    Head,
}

/// `redirects=` (an lvsctl extension): which redirects an http, https or http_proxy check
/// follows. A redirect is a real server telling the checker, which runs as root on the
/// director, where to connect next; ldirectord follows it anywhere (LWP: any host and port,
/// up to 7 hops), which lets a real aim the director's requests at its own loopback or at
/// other machines. So by default only redirects that stay on the real are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RedirectPolicy {
    /// `same-real`: only when the next request goes to the same address and port as the
    /// first (a relative `Location`, or one naming the same host and port; the scheme may
    /// change). Any other redirect is a failed check, with the reason.
    #[default]
    SameReal,
    /// `any`: ldirectord's behaviour.
    Any,
    /// `none`: no redirect is followed; the 3xx answer is the (failed) result.
    None,
}

impl RedirectPolicy {
    pub fn from_keyword(word: &str) -> Option<Self> {
        match word {
            "same-real" => Some(Self::SameReal),
            "any" => Some(Self::Any),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub const fn keyword(self) -> &'static str {
        match self {
            Self::SameReal => "same-real",
            Self::Any => "any",
            Self::None => "none",
        }
    }

    /// What the policy does, for check-config and the man page.
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::SameReal => {
                "http checks follow a redirect only when it stays on the real server (same address and port)"
            }
            Self::Any => {
                "http checks follow redirects to any host and port, up to 7, as ldirectord does"
            }
            Self::None => "http checks follow no redirect; a 3xx answer fails the check",
        }
    }
}

/// The protocol-level ("negotiate") check to run, `service=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckService {
    Dns,
    Ftp,
    Http,
    Https,
    HttpProxy,
    Imap,
    Imaps,
    Ldap,
    Ldaps,
    Mysql,
    Nntp,
    None,
    Oracle,
    Pop,
    Pops,
    Radius,
    Pgsql,
    Simpletcp,
    Sip,
    Smtp,
    Submission,
}

/// Service keyword, well-known port. One table drives the keyword parser, the service a
/// virtual port implies when `service=` is not written, and the port a check connects to
/// when neither `checkport` nor the real server gives one (docs/ldirectord-compat.md,
/// Defaults and precedence).
const SERVICES: [(CheckService, &str, Option<u16>); 21] = [
    (CheckService::Dns, "dns", Some(53)),
    (CheckService::Ftp, "ftp", Some(21)),
    (CheckService::Http, "http", Some(80)),
    (CheckService::Https, "https", Some(443)),
    (CheckService::HttpProxy, "http_proxy", Some(3128)),
    (CheckService::Imap, "imap", Some(143)),
    (CheckService::Imaps, "imaps", Some(993)),
    (CheckService::Ldap, "ldap", Some(389)),
    (CheckService::Ldaps, "ldaps", Some(636)),
    (CheckService::Mysql, "mysql", Some(3306)),
    (CheckService::Nntp, "nntp", Some(119)),
    (CheckService::None, "none", None),
    (CheckService::Oracle, "oracle", Some(1521)),
    (CheckService::Pop, "pop", Some(110)),
    (CheckService::Pops, "pops", Some(995)),
    (CheckService::Radius, "radius", Some(1812)),
    (CheckService::Pgsql, "pgsql", Some(5432)),
    (CheckService::Simpletcp, "simpletcp", None),
    (CheckService::Sip, "sip", Some(5060)),
    (CheckService::Smtp, "smtp", Some(25)),
    (CheckService::Submission, "submission", Some(587)),
];

impl CheckService {
    pub fn from_keyword(word: &str) -> Option<Self> {
        SERVICES.iter().find(|s| s.1 == word).map(|s| s.0)
    }

    pub fn keyword(self) -> &'static str {
        SERVICES
            .iter()
            .find(|s| s.0 == self)
            .map_or("none", |s| s.1)
    }

    /// The port the check uses when neither `checkport` nor a real port is given.
    pub fn well_known_port(self) -> Option<u16> {
        SERVICES.iter().find(|s| s.0 == self).and_then(|s| s.2)
    }

    /// The service ldirectord assumes for a virtual port when `service=` is not written.
    pub fn for_port(port: u16) -> Self {
        SERVICES
            .iter()
            .find(|s| s.2 == Some(port))
            .map_or(Self::None, |s| s.0)
    }

    /// Every keyword, in the order error messages list them.
    pub fn keywords() -> impl Iterator<Item = &'static str> {
        SERVICES.iter().map(|s| s.1)
    }
}

/// How a virtual's reals are checked, with every default already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSettings {
    pub check_type: CheckType,
    pub service: CheckService,
    /// True when `service=` was written (false when derived from the port).
    pub service_explicit: bool,
    pub check_port: Option<u16>,
    pub check_command: String,
    /// Always begins with `/` (ldirectord prepends one).
    pub request: String,
    /// A regular expression; empty means "accept anything".
    pub receive: String,
    pub http_method: HttpMethod,
    pub virtual_host: Option<String>,
    pub login: String,
    pub passwd: String,
    pub database: String,
    pub secret: String,
    /// Effective connect/ping/external timeout in seconds: the block's `checktimeout`, the
    /// block's `negotiatetimeout`, the global `checktimeout`, the global
    /// `negotiatetimeout`, 5, the first that is set.
    pub check_timeout: u32,
    /// Effective protocol-check timeout in seconds: the block's `negotiatetimeout`, the
    /// block's `checktimeout`, the global `negotiatetimeout`, the global `checktimeout`,
    /// 30, the first that is set.
    pub negotiate_timeout: u32,
    /// Ping attempts (deprecated `checkcount`).
    pub check_count: u32,
    /// Which redirects http checks follow (`redirects=`, an lvsctl extension).
    pub redirects: RedirectPolicy,
    /// Whether a database check may send the password in clear when the server asks for
    /// it (`cleartext_passwords=`, an lvsctl extension; off by default).
    pub cleartext_passwords: bool,
}

/// A fallback ("sorry") server, inserted with weight 1 when no real is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub addr: IpAddr,
    pub port: u16,
    pub forward: Forward,
    /// Line of the `fallback=` directive that produced it.
    pub line: usize,
}

/// One real server (after range expansion: one per address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServer {
    pub line: usize,
    pub addr: IpAddr,
    /// The port as configured; 0 when omitted. The kernel entry may differ (see
    /// `health::desired`), the check uses this one.
    pub port: u16,
    pub forward: Forward,
    pub weight: u32,
    /// Per-real request (with the leading `/`) overriding the virtual's.
    pub request: Option<String>,
    pub receive: Option<String>,
    pub lower_threshold: u32,
    pub upper_threshold: u32,
    /// Where the check connects: `checkport`, else this real's port, else the service's
    /// well-known port; None when none of those exists (e.g. fwmark with service none).
    pub check_port: Option<u16>,
    /// This real's own checks (keepalived's checkers of a `real_server`); empty means the
    /// virtual's one check. The ldirectord reader never sets it. With several, the real
    /// is up only while every one of them is, as keepalived counts its failed checkers.
    pub checks: Vec<RealCheck>,
    /// keepalived's `inhibit_on_failure`, which is each real's own: weight 0 instead of
    /// removal while down. None (every other format): the virtual's `quiescent`.
    pub inhibit: Option<bool>,
}

/// One `virtual=`/`virtual6=` block, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualService {
    /// Line of the `virtual=` header.
    pub line: usize,
    pub key: ServiceKey,
    pub scheduler: String,
    /// Persistence timeout in seconds.
    pub persistent: Option<u32>,
    /// Only meaningful with `persistent`.
    pub netmask: Option<Netmask>,
    pub sched_flags: Option<String>,
    /// One-packet scheduling; only honoured for UDP services.
    pub ops: bool,
    pub reals: Vec<RealServer>,
    /// Own fallback, else the global one of the same family (with this virtual's port).
    pub fallback: Option<Fallback>,
    pub fallback_command: Option<String>,
    pub check: CheckSettings,
    pub quiescent: bool,
    pub cleanstop: bool,
    pub failure_count: u32,
    /// Consecutive passing checks before a down real is restored (`rise=`, an lvsctl
    /// extension); 1, ldirectord's only behaviour, unless configured.
    pub rise: u32,
    /// Effective pass interval for this virtual (its own value only with `fork=yes`).
    pub check_interval: u32,
    /// keepalived's `delay_before_retry` (None for ldirectord.cf): a failed check is run
    /// again after this rather than after the interval, `failure_count - 1` times, before
    /// the real is down; keepalived spaces its retries so, and ldirectord has no such delay.
    /// With `start_up`, a connect or ping check follows keepalived's epilogues instead
    /// (crate::health::state::keepalived_epilog::Settings::of_virtual).
    pub retry_delay: Option<Duration>,
    /// keepalived's HTTP_GET/SSL_GET rules (None otherwise): the real's state follows
    /// keepalived's HTTP checker (crate::health::state::keepalived_http), not
    /// `failure_count`/`rise`/`retry_delay`.
    pub keepalived_http: Option<KeepalivedHttp>,
    /// keepalived's SMTP_CHECK or DNS_CHECK (None otherwise): the exchange the check runs
    /// instead of a connect, under SMTP_CHECK's or DNS_CHECK's epilogue
    /// (crate::health::state::keepalived_epilog).
    pub keepalived_check: Option<KeepalivedCheck>,
    /// The health each real starts with. None (ldirectord.cf): undecided until its first
    /// result. keepalived decides at start: without `alpha` a real is in service before any
    /// check (`Some(true)`), with `alpha` it is down until a check passes (`Some(false)`).
    pub start_up: Option<bool>,
    /// keepalived's virtual-level rules (None for ldirectord.cf): the fallback is
    /// keepalived's sorry server, in while the live reals' weights are short of the quorum
    /// and then instead of every real (crate::health::state::quorum), not ldirectord's
    /// "no real is up"; and its notify scripts.
    pub keepalived: Option<KeepalivedVirtual>,
    /// Piranha's nanny (None otherwise): its check replaces `check`'s, and a failed real
    /// comes back only after passing for the reentry period (see [`Nanny`]).
    pub nanny: Option<Nanny>,
    pub email: EmailSettings,
    pub monitor_file: Option<String>,
    pub service_name: Option<String>,
    pub comment: Option<String>,
}

impl VirtualService {
    /// The virtual and real as the `index`th of `r`'s own checks sees them: the task and
    /// the state machine of a check only read the virtual's check fields, so a real's own
    /// check runs through the same code as the virtual's. None when `r` has no such check.
    pub fn checker(&self, r: &RealServer, index: usize) -> Option<(Self, RealServer)> {
        let c = r.checks.get(index)?;
        let v = Self {
            reals: Vec::new(),
            check: c.check.clone(),
            check_interval: c.check_interval,
            failure_count: c.failure_count,
            retry_delay: c.retry_delay,
            keepalived_http: c.keepalived_http.clone(),
            keepalived_check: c.keepalived_check.clone(),
            start_up: c.start_up,
            ..self.clone()
        };
        let real = RealServer {
            check_port: c.check_port,
            checks: Vec::new(),
            ..r.clone()
        };
        Some((v, real))
    }

    /// Whether `real` stays in the table at weight 0 while down (see
    /// [`RealServer::inhibit`]).
    pub fn inhibits(&self, real: &RealServer) -> bool {
        real.inhibit.unwrap_or(self.quiescent)
    }

    /// How ldirectord names the virtual in logs and in fallbackcommand arguments:
    /// `ip:port`, `[v6]:port`, or the mark number.
    pub fn label(&self) -> String {
        key_label(self.key)
    }
}

/// [`VirtualService::label`] of a service by its key (each member of a keepalived group is
/// named so in log lines and status).
pub fn key_label(key: ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            addr: IpAddr::V4(a),
            port,
            ..
        } => format!("{a}:{port}"),
        ServiceKey::Addr {
            addr: IpAddr::V6(a),
            port,
            ..
        } => format!("[{a}]:{port}"),
        ServiceKey::Fwmark { mark, .. } => mark.to_string(),
    }
}
