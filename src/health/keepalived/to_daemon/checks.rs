//! keepalived's checkers as the daemon's checks.
//!
//! When every real of a virtual_server has one checker and those agree but for where they
//! connect, the virtual's one check runs them (one check kind per virtual, as for an
//! ldirectord.cf). Otherwise each real carries its own checks (`RealServer::checks`), one
//! task each, and is up while all of them are, as keepalived counts failed checkers; a
//! real without checkers beside checked ones keeps the virtual's check, which is `on`:
//! keepalived never takes such a real out. TCP_CHECK, SMTP_CHECK, DNS_CHECK and
//! PING_CHECK run their epilogues' rules (health::state::keepalived_epilog, chosen by the
//! daemon from the check's kind, its `retry_delay` and its `start_up`; `failure_count` is
//! `retry` + 1); HTTP_GET and SSL_GET run keepalived's own HTTP checker rules
//! (`keepalived_http`).

use std::net::SocketAddr;
use std::time::Duration;

use super::Refusals;
use crate::health::check::keepalived_dns;
use crate::health::check::keepalived_get::sends_as_sni;
use crate::health::check::keepalived_regex::literal;
use crate::health::config::{
    CheckService, CheckSettings, CheckType, HttpMethod, KeepalivedCheck, KeepalivedHttp,
    KeepalivedMisc, KeepalivedProtocol, KeepalivedRegex, KeepalivedUrl, RealCheck, RedirectPolicy,
};
use crate::health::keepalived::{
    Checker, CheckerKind, Connection, DnsCheck, HttpCheck, HttpProtocol, RealServer as KaReal,
    VirtualServer as KaVirtual,
};
use crate::ipvs::model::Protocol;

/// What a virtual's checkers come to.
#[derive(Debug)]
pub(super) struct VirtualCheck {
    pub settings: CheckSettings,
    /// Seconds.
    pub delay_loop: u32,
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub alpha: bool,
    /// `inhibit_on_failure` of every real.
    pub inhibit: bool,
    /// HTTP_GET: keepalived's HTTP checker and its url.
    pub http: Option<KeepalivedHttp>,
    /// Each real's own checks, in the order of the virtual's reals, when the virtual's
    /// one check cannot run them; empty otherwise.
    pub per_real: Vec<Vec<RealCheck>>,
    /// SMTP_CHECK, DNS_CHECK, UDP_CHECK: the exchange.
    pub exchange: Option<KeepalivedCheck>,
    /// The one check's `warmup`; zero otherwise (each real's own checks carry theirs).
    pub warmup: Duration,
}

/// keepalived's defaults for a real without checkers: in service from the start and
/// never taken out.
pub(super) const UNCHECKED: Timing = Timing {
    delay_loop: 60,
    retry: 0,
    delay_before_retry: Duration::from_secs(1),
    warmup: Duration::ZERO,
};

pub(super) struct Timing {
    pub(super) delay_loop: u32,
    retry: u32,
    delay_before_retry: Duration,
    warmup: Duration,
}

/// The check of `v`'s reals, or None after refusing what cannot run.
pub(super) fn virtual_checks(r: &mut Refusals, v: &KaVirtual) -> Option<VirtualCheck> {
    let before = r.0.len();
    // Each real carries its own `inhibit_on_failure` (`RealServer::inhibit`); the first
    // one's is the virtual's `quiescent`, which nothing of a keepalived.conf's virtual
    // decides alone.
    let inhibit = v.real_servers.first().is_some_and(|k| k.inhibit_on_failure);
    let per_real: Vec<Vec<RealCheck>> = v
        .real_servers
        .iter()
        .map(|k| {
            k.checkers
                .iter()
                .filter_map(|c| one_check(r, v, k, c))
                .collect()
        })
        .collect();
    if r.0.len() != before {
        return None;
    }
    let first = v.real_servers.iter().find_map(|k| k.checkers.first());
    let uniform = first.filter(|first| {
        v.real_servers
            .iter()
            .all(|k| k.checkers.len() == 1 && k.checkers.iter().all(|c| same_but_where(c, first)))
    });
    // MISC_CHECK's script and rules and FILE_CHECK's file exist only as a real's own
    // check, and so do a
    // `connect_ip` other than the real's address and a `bindto`, which only a real's own
    // check carries (`RealCheck::connect_ip`, `RealCheck::bind`).
    let uniform =
        uniform.filter(|f| !matches!(f.kind, CheckerKind::Misc(_) | CheckerKind::File(_)));
    let routed = per_real.iter().flatten().any(|c| {
        c.connect_ip.is_some() || c.bind.is_some() || c.bind_device.is_some() || c.mark.is_some()
    });
    let uniform = uniform.filter(|_| !routed);
    if let (Some(first), Some(check)) = (uniform, per_real.iter().find_map(|c| c.first())) {
        // The virtual's one check runs them all; each real connects where its checker
        // does (its `check_port`).
        return Some(VirtualCheck {
            settings: check.check.clone(),
            delay_loop: check.check_interval,
            retry: first.timing.map(|t| t.retry)?,
            delay_before_retry: check.retry_delay.unwrap_or(UNCHECKED.delay_before_retry),
            alpha: first.alpha,
            inhibit,
            http: check.keepalived_http.clone(),
            exchange: check.keepalived_check.clone(),
            per_real: Vec::new(),
            warmup: check.warmup,
        });
    }
    // No checkers at all, or checks of their own: the virtual's check is keepalived's for
    // a real without checkers, which keeps it in service; drift repair follows the
    // shortest delay_loop of the checkers.
    let delay_loop = per_real
        .iter()
        .flatten()
        .map(|c| c.check_interval)
        .min()
        .unwrap_or(UNCHECKED.delay_loop);
    let checked = first.is_some();
    Some(VirtualCheck {
        settings: settings(CheckType::On, 5),
        delay_loop,
        retry: UNCHECKED.retry,
        delay_before_retry: UNCHECKED.delay_before_retry,
        alpha: false,
        inhibit,
        http: None,
        exchange: None,
        per_real: if checked { per_real } else { Vec::new() },
        warmup: UNCHECKED.warmup,
    })
}

/// One checker of real `k` as a check of its own, or None after refusing what cannot run.
fn one_check(r: &mut Refusals, vs: &KaVirtual, k: &KaReal, c: &Checker) -> Option<RealCheck> {
    let udp = vs.protocol == Some(Protocol::Udp);
    let before = r.0.len();
    // Every connection setting runs: `connect_ip`, `bindto`/`bind_port`, `bind_if` and
    // `fwmark` (`RealCheck::connect_ip`, `bind`, `bind_device`, `mark`); as in keepalived,
    // `bind_if` binds the sockets of TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK and
    // DNS_CHECK to the device and UDP_CHECK's and PING_CHECK's to none, and `fwmark` marks
    // all but PING_CHECK's.
    let check_type = match &c.kind {
        CheckerKind::Tcp if udp => {
            // The daemon pings instead, as ldirectord does for connect on UDP.
            r.refuse(&c.pos, "TCP_CHECK on a UDP virtual_server");
            return None;
        }
        // TCP_CHECK, and SMTP_CHECK's exchange (health::check::KeepalivedSmtp), under
        // tcp_epilog's rules (health::state::keepalived_epilog, `Rule::Tcp`), which
        // smtp_final counts as well; UDP_CHECK's exchange (health::check::KeepalivedUdp)
        // under udp_epilog, which is icmp_epilog's rule (`Rule::UdpIcmp`).
        CheckerKind::Tcp | CheckerKind::Smtp(_) | CheckerKind::Udp(_) => CheckType::Connect,
        // DNS_CHECK's exchange (health::check::KeepalivedDns) under dns_final's rules
        // (health::state::keepalived_epilog, `Rule::Dns`).
        CheckerKind::Dns(d) => {
            dns_refusals(r, c, d);
            CheckType::Connect
        }
        // HTTP_GET and SSL_GET run keepalived's HTTP checker
        // (health::state::keepalived_http) with its exchange
        // (health::check::keepalived_get); the check is one connection.
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            http_refusals(r, c, h);
            sni_refusals(r, k, c);
            CheckType::Connect
        }
        // PING_CHECK: one ICMP echo, passed by an echo reply within connect_timeout (the
        // daemon's ping check with one attempt), under icmp_epilog's rules
        // (health::state::keepalived_epilog, `Rule::UdpIcmp`).
        CheckerKind::Ping => CheckType::Ping,
        // MISC_CHECK runs its script (health::check::misc) under keepalived's MISC_CHECK
        // rules (health::state::keepalived_misc).
        CheckerKind::Misc(m) => {
            let quorum_matters =
                vs.sorry_server.is_some() || vs.quorum_up.is_some() || vs.quorum_down.is_some();
            if m.dynamic && quorum_matters {
                // keepalived's quorum weighs the reals' weights as the script sets them;
                // the daemon's quorum (health::state::quorum) weighs configured weights.
                r.refuse(
                    &c.pos,
                    "misc_dynamic beside a sorry_server or quorum_up/quorum_down",
                );
            }
            // keepalived checks the path of a script run as root (every directory and the
            // file owned by root, not writable by others) and disables it otherwise; that
            // check is not made here yet.
            let run_as = &m.script.run_as;
            if run_as.user == "root" || run_as.group.as_deref() == Some("root") {
                r.refuse(&c.pos, "a MISC_CHECK script run as root");
            }
            CheckType::External
        }
        // FILE_CHECK follows its file (health::daemon::ka_file) under keepalived's
        // FILE_CHECK rules (health::state::keepalived_file); it has no timing of its own.
        CheckerKind::File(f) => return super::file_check::file_check(r, vs, k, c, f),
    };
    let timing = timing(r, c);
    let connect_timeout = match &c.kind {
        // The script's timeout is kept as it is; the settings' one is only shown.
        CheckerKind::Misc(m) => Some(u32::try_from(m.timeout.as_secs()).unwrap_or(u32::MAX)),
        _ => whole_seconds(c.connection.as_ref().map(|cn| cn.connect_timeout)),
    };
    if connect_timeout.is_none() {
        r.refuse(&c.pos, "a connect_timeout that is not whole seconds");
    }
    if connect_timeout == Some(0)
        && matches!(
            c.kind,
            CheckerKind::Ssl(_) | CheckerKind::Smtp(_) | CheckerKind::Dns(_) | CheckerKind::Ping
        )
    {
        // Which of a zero timer and the connection wins is up to keepalived's scheduler
        // (an SMTP_CHECK `host` block without connect_timeout has 0).
        r.refuse(&c.pos, "connect_timeout 0");
    }
    if r.0.len() != before {
        return None;
    }
    let timing = timing?;
    let http = match &c.kind {
        CheckerKind::Http(h) => Some(keepalived_http(h, c, &timing, false)?),
        CheckerKind::Ssl(h) => Some(keepalived_http(h, c, &timing, true)?),
        _ => None,
    };
    let exchange = match &c.kind {
        CheckerKind::Smtp(s) => Some(KeepalivedCheck::Smtp {
            helo_name: s.helo_name.clone(),
        }),
        CheckerKind::Dns(d) => Some(KeepalivedCheck::Dns {
            qtype: d.query_type.code(),
            name: d.name.clone(),
        }),
        CheckerKind::Udp(u) => Some(KeepalivedCheck::Udp {
            payload: u.payload.clone(),
            require_reply: u.require_reply,
            reply: u.reply.clone(),
            reply_mask: u.reply_mask.clone(),
            min_reply_length: u.min_reply_length,
            max_reply_length: u.max_reply_length,
        }),
        _ => None,
    };
    let misc = match &c.kind {
        CheckerKind::Misc(m) => Some(KeepalivedMisc {
            argv: m.script.argv.clone(),
            user: m.script.run_as.user.clone(),
            group: m.script.run_as.group.clone(),
            timeout: m.timeout,
            retry: timing.retry,
            delay_before_retry: timing.delay_before_retry,
            alpha: c.alpha,
            dynamic: m.dynamic,
        }),
        _ => None,
    };
    let mut check = settings(check_type, connect_timeout?);
    check.negotiate_timeout = check.check_timeout.saturating_mul(steps(&c.kind));
    Some(RealCheck {
        check,
        // Where the checker connects: `connect_port`, else the port on the `real_server`
        // line.
        check_port: Some(c.connection.as_ref().map_or(k.port, |cn| cn.target.port())),
        connect_ip: c
            .connection
            .as_ref()
            .map(|cn| cn.target.ip())
            .filter(|&ip| ip != k.addr),
        bind: c.connection.as_ref().and_then(bind),
        bind_device: c.connection.as_ref().and_then(|cn| cn.bind_if.clone()),
        // keepalived marks only with a mark other than 0.
        mark: c
            .connection
            .as_ref()
            .and_then(|cn| cn.fwmark)
            .filter(|&m| m != 0),
        check_interval: timing.delay_loop,
        warmup: timing.warmup,
        failure_count: timing.retry.saturating_add(1),
        retry_delay: Some(timing.delay_before_retry),
        keepalived_http: http,
        keepalived_check: exchange,
        keepalived_misc: misc,
        keepalived_file: None,
        start_up: Some(!c.alpha),
    })
}

/// Refuses what of a DNS_CHECK the daemon does not run as keepalived does: a name whose
/// query keepalived would build past its buffer or with a label longer than a length
/// byte holds.
fn dns_refusals(r: &mut Refusals, c: &Checker, d: &DnsCheck) {
    if keepalived_dns::query(0, d.query_type.code(), &d.name).is_none() {
        r.refuse(
            &c.pos,
            "a DNS_CHECK name too long for keepalived's query (a label over 255 bytes, or the query over 768)",
        );
    }
}

/// How many `connect_timeout`s one check may take in keepalived: the daemon's deadline
/// for a run (`negotiate_timeout` + 1 s) must not cut it shorter. SSL_GET: connect and
/// handshake, the request, the wait for the response, its reading (4). SMTP_CHECK:
/// connect, three lines read and two written, when each line comes in one read (6).
/// HTTP_GET: connect, request, response wait and a read (4); keepalived gives each
/// further read its own timeout without a bound on the total.
fn steps(kind: &CheckerKind) -> u32 {
    match kind {
        CheckerKind::Http(_) | CheckerKind::Ssl(_) => 4,
        CheckerKind::Smtp(_) => 6,
        _ => 1,
    }
}

/// Refuses what of an HTTP_GET/SSL_GET the daemon does not run. A `regex` runs only as a
/// literal (`health::check::keepalived_regex` says why) and without `regex_options`, every
/// one of which changes what PCRE2 matches or how.
fn http_refusals(r: &mut Refusals, c: &Checker, h: &HttpCheck) {
    let kind = c.kind.keyword();
    for re in h.urls.iter().filter_map(|u| u.regex.as_ref()) {
        if literal(&re.pattern).is_none() {
            r.refuse(
                &c.pos,
                format!("a regex other than a literal (without \\^$.[|()?*+{{) in an {kind} url"),
            );
        }
        if !re.options.is_empty() {
            r.refuse(&c.pos, format!("regex_options in an {kind} url"));
        }
    }
    if h.urls.is_empty() {
        r.refuse(&c.pos, format!("{kind} without a url"));
    }
}

/// Refuses an SSL_GET's `enable_sni` where the daemon would send another server name than
/// keepalived. keepalived's SNI is the url's virtualhost, else the checker's, else the
/// virtual server's (`ssl_connect`), never the real server's, which the Host header does
/// use; the reader folds them into one name, so a url whose name equals its real server's
/// virtualhost is ambiguous. OpenSSL sends any string as is; rustls only DNS names, and
/// without a trailing dot.
fn sni_refusals(r: &mut Refusals, k: &KaReal, c: &Checker) {
    let CheckerKind::Ssl(h) = &c.kind else {
        return;
    };
    if !h.enable_sni {
        return;
    }
    for name in h.urls.iter().filter_map(|u| u.virtualhost.as_ref()) {
        if k.virtualhost.as_ref() == Some(name) {
            r.refuse(
                &c.pos,
                "enable_sni with the real_server's virtualhost as the url's host",
            );
        } else if !sends_as_sni(name) {
            r.refuse(
                &c.pos,
                format!("enable_sni with {name:?}, which is not a DNS name without a trailing dot"),
            );
        }
    }
}

fn keepalived_http(h: &HttpCheck, c: &Checker, t: &Timing, tls: bool) -> Option<KeepalivedHttp> {
    if h.urls.is_empty() {
        return None;
    }
    Some(KeepalivedHttp {
        retry: t.retry,
        delay_before_retry: t.delay_before_retry,
        alpha: c.alpha,
        fast_recovery: h.fast_recovery,
        tls,
        protocol: match h.http_protocol {
            HttpProtocol::Http10 => KeepalivedProtocol::Http10,
            HttpProtocol::Http10Close => KeepalivedProtocol::Http10Close,
            HttpProtocol::Http11 => KeepalivedProtocol::Http11,
        },
        urls: h
            .urls
            .iter()
            .map(|u| KeepalivedUrl {
                path: u.path.clone(),
                status: u.status_codes.ranges().to_vec(),
                digest: u.digest.map(|d| d.0),
                virtualhost: u.virtualhost.clone(),
                sni: u.virtualhost.clone().filter(|_| tls && h.enable_sni),
                regex: u.regex.as_ref().and_then(|re| {
                    Some(KeepalivedRegex {
                        literal: literal(&re.pattern)?,
                        no_match: re.no_match,
                        min_offset: re.min_offset,
                        max_offset: re.max_offset,
                    })
                }),
            })
            .collect(),
        // Loaded from the files with the configuration (to_daemon/ssl.rs).
        client_cert: None,
    })
}

pub(super) fn settings(check_type: CheckType, timeout: u32) -> CheckSettings {
    CheckSettings {
        check_type,
        service: CheckService::None,
        service_explicit: true,
        check_port: None,
        check_command: String::new(),
        request: String::new(),
        receive: String::new(),
        http_method: HttpMethod::Get,
        virtual_host: None,
        login: String::new(),
        passwd: String::new(),
        database: String::new(),
        secret: String::new(),
        // A connect check is only its connection: connect_timeout bounds both.
        check_timeout: timeout,
        negotiate_timeout: timeout,
        check_count: 1,
        redirects: RedirectPolicy::None,
        cleartext_passwords: false,
    }
}

/// Whether two checkers are the same but for where they connect.
fn same_but_where(c: &Checker, first: &Checker) -> bool {
    let mut c = c.clone();
    c.pos.clone_from(&first.pos);
    if let (Some(cn), Some(f)) = (c.connection.as_mut(), first.connection.as_ref()) {
        cn.target = f.target;
    }
    c == *first
}

/// The source a checker binds to. keepalived keeps `bind_port` in its `bindto` socket
/// address and binds only when that address has a family, which only `bindto` gives it:
/// `bind_port` alone binds nothing, and `bindto` alone binds port 0 (any port).
fn bind(cn: &Connection) -> Option<SocketAddr> {
    cn.bind_addr
        .map(|ip| SocketAddr::new(ip, cn.bind_port.unwrap_or(0)))
}

fn timing(r: &mut Refusals, c: &Checker) -> Option<Timing> {
    let t = c.timing?;
    let delay_loop = whole_seconds(Some(t.delay_loop)).filter(|&s| s > 0);
    if delay_loop.is_none() {
        r.refuse(&c.pos, "a delay_loop that is not whole seconds");
    }
    // keepalived waits a random time up to warmup (by default the delay loop) before the
    // first check; the daemon's task does the same (daemon::tasks::warmup_delay).
    Some(Timing {
        delay_loop: delay_loop?,
        retry: t.retry,
        delay_before_retry: t.delay_before_retry,
        warmup: t.warmup,
    })
}

fn whole_seconds(d: Option<Duration>) -> Option<u32> {
    let d = d?;
    if d.subsec_nanos() != 0 {
        return None;
    }
    u32::try_from(d.as_secs()).ok()
}

#[cfg(test)]
#[path = "checker_tests.rs"]
mod checker_tests;
#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
