//! Checkers as they run: timing inherited from the real server, connection defaults,
//! and each type's parameters.

use std::net::SocketAddr;
use std::time::Duration;

use super::super::build::raw::{RawChecker, RawConn, RawHttp, RawKind, RawRs};
use super::super::diag::{Diagnostics, Phase, Severity};
use super::super::model::{
    Checker, CheckerKind, Connection, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol,
    MiscCheck, Script, SmtpCheck, Timing, TrackFile, UdpCheck, UrlRegex,
};
use super::scripts::{DefaultUser, Security};

/// HELO name of SMTP_CHECK when none is given.
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// A real server's values after its own inheritance from the virtual server.
pub struct Inherited {
    pub alpha: bool,
    pub retry: Option<u32>,
    pub connect_timeout: Duration,
    pub delay_loop: Duration,
    pub warmup: Option<Duration>,
    pub delay_before_retry: Option<Duration>,
    /// MISC_CHECK's timeout defaults to the virtual server's delay loop.
    pub vs_delay_loop: Duration,
    /// The real server's virtualhost, else the virtual server's (for HTTP Host headers).
    pub virtualhost: Option<String>,
}

pub fn checkers(
    rs: &RawRs,
    inh: &Inherited,
    users: &DefaultUser,
    track_files: &[TrackFile],
    security: &mut Security<'_>,
    d: &mut Diagnostics,
) -> Vec<Checker> {
    let mut out = Vec::new();
    for c in rs.checkers.iter().filter(|c| !c.dropped) {
        let Some(kind) = kind(c, inh, users, track_files, security, d) else {
            continue;
        };
        let timing = (!matches!(kind, CheckerKind::File(_))).then(|| timing(c, inh));
        let alpha = !matches!(kind, CheckerKind::File(_)) && c.alpha.unwrap_or(inh.alpha);
        let mut conns: Vec<&RawConn> = c.conn.iter().collect();
        if let RawKind::Smtp(s) = &c.kind {
            conns.extend(s.extra.iter());
        }
        if conns.is_empty() {
            out.push(Checker {
                pos: c.pos.clone(),
                kind,
                timing,
                connection: None,
                alpha,
                log_all_failures: c.log_all_failures,
            });
            continue;
        }
        for conn in conns {
            let connection = connection(conn, rs, inh);
            if connection.target.port() == 0 && !matches!(kind, CheckerKind::Ping) {
                d.push(
                    c.pos.clone(),
                    Severity::Warning,
                    Phase::Validate,
                    "the check connects to port 0: keepalived checks the port on the real_server line (or connect_port), not the virtual server's".to_owned(),
                );
            }
            out.push(Checker {
                pos: c.pos.clone(),
                kind: kind.clone(),
                timing,
                connection: Some(connection),
                alpha,
                log_all_failures: c.log_all_failures,
            });
        }
    }
    out
}

/// keepalived's inheritance: the checker's value, else the real server's, else the
/// checker type's default (warmup defaults to the delay loop, as does a zero default
/// delay_before_retry).
fn timing(c: &RawChecker, inh: &Inherited) -> Timing {
    let delay_loop = c.delay_loop.unwrap_or(inh.delay_loop);
    let default_dbr = if c.default_delay_before_retry.is_zero() {
        delay_loop
    } else {
        c.default_delay_before_retry
    };
    Timing {
        delay_loop,
        retry: c.retry.or(inh.retry).unwrap_or(c.default_retry),
        delay_before_retry: c
            .delay_before_retry
            .or(inh.delay_before_retry)
            .unwrap_or(default_dbr),
        warmup: c.warmup.or(inh.warmup).unwrap_or(delay_loop),
    }
}

fn connection(conn: &RawConn, rs: &RawRs, inh: &Inherited) -> Connection {
    Connection {
        target: SocketAddr::new(conn.ip.unwrap_or(rs.addr), conn.port.unwrap_or(rs.port)),
        bind_addr: conn.bind_addr,
        bind_port: conn.bind_port,
        bind_if: conn.bind_if.clone(),
        fwmark: conn.fwmark,
        connect_timeout: conn.connect_timeout.unwrap_or(inh.connect_timeout),
    }
}

fn kind(
    c: &RawChecker,
    inh: &Inherited,
    users: &DefaultUser,
    track_files: &[TrackFile],
    security: &mut Security<'_>,
    d: &mut Diagnostics,
) -> Option<CheckerKind> {
    Some(match &c.kind {
        RawKind::Tcp => CheckerKind::Tcp,
        RawKind::Ping => CheckerKind::Ping,
        RawKind::Bfd => return None,
        RawKind::Http(h) => CheckerKind::Http(http(h, inh)),
        RawKind::Ssl(h) => CheckerKind::Ssl(http(h, inh)),
        RawKind::Misc(m) => {
            let raw = m.script.as_ref()?;
            let (close, _) = m.close.as_ref()?;
            let run_as = users.misc(m.user.as_ref(), close, d)?;
            let script = Script {
                argv: raw.argv.clone(),
                run_as,
            };
            if !security.keep(&script, &raw.pos, d) {
                return None;
            }
            CheckerKind::Misc(MiscCheck {
                script,
                timeout: m
                    .timeout
                    .filter(|t| !t.is_zero())
                    .unwrap_or(inh.vs_delay_loop),
                dynamic: m.dynamic,
            })
        }
        RawKind::Smtp(s) => CheckerKind::Smtp(SmtpCheck {
            helo_name: s
                .helo_name
                .clone()
                .unwrap_or_else(|| DEFAULT_HELO.to_owned()),
        }),
        RawKind::Dns(dns) => CheckerKind::Dns(DnsCheck {
            query_type: dns.query_type.unwrap_or(DnsType::Soa),
            name: dns.name.clone().unwrap_or_default(),
        }),
        RawKind::Udp(u) => CheckerKind::Udp(UdpCheck {
            payload: u.payload.clone(),
            require_reply: u.require_reply,
            reply: u.reply.clone(),
            reply_mask: u.reply_mask.clone(),
            min_reply_length: u.min_reply_length,
            max_reply_length: u.max_reply_length.unwrap_or(255),
        }),
        RawKind::File(f) => {
            let name = f.track_file.as_ref()?;
            let t = track_files.iter().find(|t| &t.name == name)?;
            let (weight, reverse) = f.weight.unwrap_or((t.weight, t.reverse));
            CheckerKind::File(FileCheck {
                track_file: name.clone(),
                file: t.file.clone(),
                weight,
                reverse,
            })
        }
    })
}

fn http(h: &RawHttp, inh: &Inherited) -> HttpCheck {
    let host = h.virtualhost.clone().or_else(|| inh.virtualhost.clone());
    HttpCheck {
        urls: h
            .urls
            .iter()
            .map(|u| {
                let mut url = u.url.clone();
                url.virtualhost = url.virtualhost.or_else(|| host.clone());
                url.regex = u.regex.clone().map(|pattern| UrlRegex {
                    pattern,
                    no_match: u.regex_no_match,
                    options: u.regex_options.clone(),
                    min_offset: u.regex_min_offset,
                    max_offset: u.regex_max_offset,
                });
                url
            })
            .collect(),
        http_protocol: h.protocol.unwrap_or(HttpProtocol::Http10),
        enable_sni: h.enable_sni,
        fast_recovery: h.fast_recovery,
    }
}
