//! What keepalived.conf and Piranha's lvs.cf add to the daemon's model: a real's own
//! checks, and the rules and exchanges of keepalived's and nanny's checkers, which the
//! ldirectord.cf reader never sets (`health::keepalived::to_daemon` and
//! `health::piranha::to_daemon` do). Kept apart from `model.rs`, the ldirectord.cf model.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::model::CheckSettings;
use crate::ipvs::model::{ServiceKey, Timeouts};

/// keepalived's settings of the whole IPVS table (`global_defs`), which reach beyond the
/// services the file owns: the daemon does them on the kernel thread before a cycle's own
/// ops (`daemon::kernel::TableSteps`). All off for the other formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepalivedTable {
    /// `lvs_flush`: the table is emptied at start (not at reload), before anything is added.
    pub flush_at_start: bool,
    /// `lvs_flush_onstop` without `VS`: the table is emptied at stop instead of deleting
    /// the owned services.
    pub flush_at_stop: bool,
    /// `lvs_timeouts`: 0 = not given (the kernel's value as first read is written for it).
    pub timeouts: Timeouts,
}

/// One check of its own on a real: what [`VirtualService`] otherwise gives every real
/// alike. Each runs as its own task with its own state; see [`VirtualService::checker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealCheck {
    pub check: CheckSettings,
    /// Where it connects.
    pub check_port: Option<u16>,
    /// keepalived's `connect_ip`: the address it connects to instead of the real's.
    pub connect_ip: Option<IpAddr>,
    /// keepalived's `bindto` (with `bind_port`, else port 0): the source it binds to.
    pub bind: Option<SocketAddr>,
    /// keepalived's `bind_if`: the device its socket is bound to (see
    /// `crate::health::check::Route::device`).
    pub bind_device: Option<String>,
    /// keepalived's checker `fwmark` (not 0): the mark of its socket's packets.
    pub mark: Option<u32>,
    /// Seconds between runs.
    pub check_interval: u32,
    /// keepalived's `warmup`: the first run comes a random time up to this after the
    /// daemon's start slot (crate::health::daemon::tasks::warmup_delay).
    pub warmup: Duration,
    pub failure_count: u32,
    pub retry_delay: Option<Duration>,
    pub keepalived_http: Option<KeepalivedHttp>,
    /// keepalived's SMTP_CHECK or DNS_CHECK exchange (see [`VirtualService`]).
    pub keepalived_check: Option<KeepalivedCheck>,
    /// keepalived's MISC_CHECK (None otherwise): its script replaces the check, and
    /// keepalived's MISC_CHECK rules (crate::health::state::keepalived_misc) decide
    /// instead of `failure_count`/`retry_delay`.
    pub keepalived_misc: Option<KeepalivedMisc>,
    /// keepalived's FILE_CHECK (None otherwise): the tracked file replaces the check,
    /// and keepalived's FILE_CHECK rules (crate::health::state::keepalived_file) decide
    /// the check's state and what it adds to the real's weight, at each change of the file.
    pub keepalived_file: Option<KeepalivedFile>,
    /// The check's state at start (see [`VirtualService::start_up`]).
    pub start_up: Option<bool>,
}

/// What keepalived's FILE_CHECK needs: its track_file's path, and the weight and
/// direction the file's value counts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedFile {
    pub path: PathBuf,
    pub weight: i32,
    pub reverse: bool,
}

/// What keepalived's MISC_CHECK needs beyond the check's interval (`delay_loop`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedMisc {
    /// The program and its arguments (`misc_path`, split as keepalived splits it).
    pub argv: Vec<String>,
    /// Who it runs as.
    pub user: String,
    pub group: Option<String>,
    /// `misc_timeout`, else the virtual server's `delay_loop`.
    pub timeout: Duration,
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub alpha: bool,
    /// `misc_dynamic`: exit statuses 2..255 pass and set the real's weight.
    pub dynamic: bool,
}

/// A keepalived virtual server's rules beyond ldirectord's: `quorum` and `hysteresis`
/// after keepalived's own corrections (a quorum above the reals' total weight is lowered to
/// it, a hysteresis not below the quorum becomes `quorum - 1`, wrapped), the sorry server's
/// inhibit, and the scripts keepalived runs on changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedVirtual {
    pub quorum: u32,
    pub hysteresis: u32,
    /// `omega`: the scripts run at stop too (notify_down of the reals in the pool, then
    /// quorum_down).
    pub omega: bool,
    /// `lvs_flush_onstop VS`: at stop the service is deleted whole, without taking its
    /// reals out one by one, so `omega` runs quorum_down only.
    pub flush_on_stop: bool,
    pub quorum_up: Option<NotifyScript>,
    pub quorum_down: Option<NotifyScript>,
    /// `notify_up`/`notify_down` of the reals that have one.
    pub notifies: Vec<RealNotify>,
    /// `sorry_server_inhibit`: the sorry server stays in the table at weight 0 while it is
    /// not needed (keepalived adds it so at start and sets it to 0 rather than removing it).
    pub sorry_inhibit: bool,
    /// A `virtual_server group`'s IPVS services in keepalived's order (its address entries,
    /// ranges expanded, then its firewall marks); empty for a virtual server of one
    /// service. The virtual's `key` is the first of them and names its checks: keepalived
    /// runs one set of checkers, one quorum and one set of scripts for the whole group and
    /// writes every change of a real to each of these services
    /// (crate::health::desired::service_keys).
    pub group: Vec<ServiceKey>,
    /// The `warmup` of the virtual's one check (see [`RealCheck::warmup`]); zero when the
    /// reals carry checks of their own, each with its own.
    pub warmup: Duration,
    /// What of the virtual's changes keepalived mails (`smtp_alert`); None when nothing.
    pub alerts: Option<super::VirtualAlerts>,
}

/// A real's `notify_up` and `notify_down`, found by the real's address and port as
/// configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealNotify {
    pub addr: IpAddr,
    pub port: u16,
    pub up: Option<NotifyScript>,
    pub down: Option<NotifyScript>,
}

/// A command keepalived runs without a shell: the words as keepalived split the quoted
/// string, run as `user` (and `group`, else the user's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyScript {
    pub argv: Vec<String>,
    pub user: String,
    pub group: Option<String>,
}

/// What keepalived's HTTP checker needs beyond the virtual's interval (`delay_loop`) and
/// timeout (`check_timeout`, its `connect_timeout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedHttp {
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub alpha: bool,
    pub fast_recovery: bool,
    /// SSL_GET rather than HTTP_GET.
    pub tls: bool,
    pub protocol: KeepalivedProtocol,
    /// The urls, checked one per run in order (at least one).
    pub urls: Vec<KeepalivedUrl>,
    /// SSL_GET: the client certificate of the top-level `SSL` block, sent when a server
    /// asks for one (None: keepalived's context without files, nothing sent).
    pub client_cert: Option<TlsClientCert>,
}

/// A client certificate chain and its key, read from the files when the configuration is
/// loaded (keepalived reads them once, at start and at reload, never per check).
#[derive(Debug, PartialEq, Eq)]
pub struct TlsClientCert {
    /// The end certificate first, then the rest of the certificate file.
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Its Debug prints no key material.
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl Clone for TlsClientCert {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// A keepalived one-shot checker run as its own exchange (crate::health::check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepalivedCheck {
    /// SMTP_CHECK with its `helo_name`.
    Smtp { helo_name: String },
    /// DNS_CHECK: the RR type number and the name as written.
    Dns { qtype: u16, name: String },
    /// UDP_CHECK (crate::health::check::keepalived_udp says what each field does).
    Udp {
        /// Empty: keepalived's own filler.
        payload: Vec<u8>,
        require_reply: bool,
        /// `require_reply`'s hex string, empty when none; set mask bits are wildcards.
        reply: Vec<u8>,
        reply_mask: Vec<u8>,
        min_reply_length: u16,
        max_reply_length: u16,
    },
}

/// keepalived's `http_protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepalivedProtocol {
    /// `1.0`: HTTP/1.0 without a Connection header.
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: HTTP/1.1 with `Connection: close`.
    Http11,
}

/// One `url` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedUrl {
    pub path: String,
    /// Accepted status codes, inclusive ranges.
    pub status: Vec<(u16, u16)>,
    /// MD5 of the body.
    pub digest: Option<[u8; 16]>,
    /// The Host header's name; None sends the address and port.
    pub virtualhost: Option<String>,
    /// SSL_GET with `enable_sni`: the TLS server name (None sends none).
    pub sni: Option<String>,
    /// `regex`, only as a literal (see [`KeepalivedRegex`]).
    pub regex: Option<KeepalivedRegex>,
}

/// A url's `regex` whose pattern has no PCRE2 metacharacter, so that PCRE2's match is the
/// first occurrence of its bytes (the only kind of pattern the daemon runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedRegex {
    pub literal: Vec<u8>,
    /// `regex_no_match`: the url passes when the literal is not found.
    pub no_match: bool,
    /// `regex_min_offset`: offset in the response (status line included) where a match
    /// may start, at the least.
    pub min_offset: usize,
    /// `regex_max_offset` + 1 (0: no limit): a match must start before it.
    pub max_offset: usize,
}

/// What Piranha's lvs.cf asks of each real (docs/piranha.md, The check): a check of its
/// own, the reentry period and `quiesce_server`. The timeout is the virtual's
/// `check_timeout`; the port is each real's `check_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nanny {
    /// Sent after connecting (or as the datagram); None sends nothing over TCP and an
    /// empty datagram over UDP.
    pub send: Option<Vec<u8>>,
    /// What the reply (or the program's output) must hold; None: connecting suffices over
    /// TCP, any reply over UDP, exit status 0 for a program.
    pub expect: Option<NannyExpect>,
    /// A shell command run instead of talking to the real (`%h` = its address).
    pub program: Option<String>,
    /// Whether the check talks UDP (the virtual's `protocol`, also for a fwmark virtual).
    pub udp: bool,
    /// How long a failed real must pass without a failure before it is put back.
    pub reentry: Duration,
    /// Zero the service's counters whenever one of its reals is added to the kernel.
    pub quiesce_server: bool,
}

/// What a nanny reply is matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NannyExpect {
    /// The reply must contain these bytes.
    Text(Vec<u8>),
    /// The reply must match this regular expression (checked when the file is read).
    Regex(String),
}
