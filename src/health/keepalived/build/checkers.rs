//! Checker blocks: the keywords every checker shares, script command lines, and the
//! checks keepalived makes when a checker block ends.

use std::net::IpAddr;

use super::super::diag::Pos;
use super::super::keywords::{CONNECTION, CheckKind};
use super::super::lexer::text::{QuoteError, quoted_escaped};
use super::super::model::RunAs;
use super::super::stream::KwLine;
use super::raw::{RawChecker, RawConn, RawKind, RawScript};
use super::{Builder, Report, values};

const UINT_MAX: u64 = u32::MAX as u64;

/// A script line (`notify_up`, `quorum_down`, `misc_path`): the quoted, escaped second
/// word is the command line, split again the same way; words after it name the user and
/// group (not for `misc_path`, which has a `user` keyword instead).
pub fn script_line(r: &mut Report<'_, '_>, line: &KwLine, seq: usize) -> Option<RawScript> {
    let words = match quoted_escaped(&line.raw) {
        Ok(w) => w,
        Err(e) => {
            report_quote(r, &line.pos, e);
            return None;
        }
    };
    let argv = match words.get(1).map(|cmd| quoted_escaped(cmd)) {
        Some(Ok(argv)) if !argv.is_empty() => argv,
        Some(Err(e)) => {
            report_quote(r, &line.pos, e);
            return None;
        }
        _ => {
            r.note(
                &line.pos,
                format!("`{}` without a command; ignored", line.keyword()),
            );
            return None;
        }
    };
    let user = (line.keyword() != "misc_path")
        .then(|| {
            words.get(2).map(|u| RunAs {
                user: u.clone(),
                group: words.get(3).cloned(),
            })
        })
        .flatten();
    Some(RawScript {
        pos: line.pos.clone(),
        seq,
        argv,
        user,
    })
}

fn report_quote(r: &mut Report<'_, '_>, pos: &Pos, e: QuoteError) {
    match e {
        QuoteError::Unterminated(q) => r.error(pos, format!("missing closing {q}")),
        QuoteError::TrailingEscape => r.note(pos, "the line ends with a lone `\\`; ignored"),
    }
}

impl Builder<'_> {
    /// The keywords every checker shares (timing, alpha, connection); true when handled.
    pub(super) fn common_checker_keyword(
        &mut self,
        r: &mut Report<'_, '_>,
        kind: CheckKind,
        line: &KwLine,
    ) -> bool {
        let kw = line.keyword();
        let Some(c) = self.checker() else {
            return true;
        };
        if kind.connects() && CONNECTION.contains(&kw) {
            connection_keyword(c, r, line);
            return true;
        }
        match kw {
            "retry" => {
                if let Some(v) = r.unsigned(line, 1, 0, UINT_MAX) {
                    c.retry = Some(v as u32);
                }
            }
            "delay_before_retry" => {
                if let Some(d) = r.timer(line, 1, 0, None) {
                    c.delay_before_retry = Some(d);
                }
            }
            "warmup" => {
                if let Some(d) = r.timer(line, 1, 0, None) {
                    c.warmup = Some(d);
                }
            }
            "delay_loop" => {
                if let Some(d) = r.timer(line, 1, 1, None) {
                    c.delay_loop = Some(d);
                }
            }
            // BFD_CHECK has an `alpha` of its own (ignored with the checker).
            "alpha" if kind != CheckKind::Bfd => {
                if let Some(v) = r.flag(line) {
                    c.alpha = Some(v);
                }
            }
            "log_all_failures" => {
                if let Some(v) = r.flag(line) {
                    c.log_all_failures = v;
                }
            }
            _ => return false,
        }
        true
    }

    pub(super) fn smtp_host_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        self.common_checker_keyword(r, CheckKind::Smtp, line);
    }

    /// keepalived's checks when a checker block ends; it drops checkers that cannot run.
    pub(super) fn checker_close(&mut self, r: &mut Report<'_, '_>, pos: &Pos) {
        let seq = self.next_seq();
        let Some(vs) = self.vs() else { return };
        let vs_timeout = vs.connect_timeout;
        let Some(rs) = vs.reals.last_mut() else {
            return;
        };
        let (rs_addr, rs_timeout) = (rs.addr, rs.connect_timeout);
        let Some(c) = rs.checkers.last_mut() else {
            return;
        };
        match &mut c.kind {
            RawKind::Http(h) | RawKind::Ssl(h) if h.urls.is_empty() => {
                r.error(pos, "HTTP_GET/SSL_GET without any url; checker ignored");
                c.dropped = true;
                return;
            }
            RawKind::Misc(m) => {
                if m.script.is_none() {
                    r.error(pos, "MISC_CHECK without misc_path; checker ignored");
                    c.dropped = true;
                }
                m.close = Some((pos.clone(), seq));
                return;
            }
            RawKind::Smtp(s) => {
                // The checker's own settings are used when it has any or there are no
                // hosts; otherwise the first host takes their place. Each further host is a
                // checker of its own.
                let own = c.conn.take().unwrap_or_default();
                let hosts = std::mem::take(&mut s.hosts);
                if !hosts.is_empty() {
                    r.note(
                        pos,
                        "SMTP_CHECK `host` blocks are deprecated: use one checker per host",
                    );
                }
                let mut conns = Vec::new();
                if conn_is_set(&own) || hosts.is_empty() {
                    let mut own = own;
                    own.connect_timeout
                        .get_or_insert(rs_timeout.unwrap_or(vs_timeout));
                    conns.push(own);
                }
                for mut host in hosts {
                    if host.connect_timeout.is_none() {
                        r.warning(
                            pos,
                            "keepalived 2.2.7 gives an SMTP_CHECK `host` block without connect_timeout a zero connect timeout, so its checks always time out; set connect_timeout in the block",
                        );
                        host.connect_timeout = Some(std::time::Duration::ZERO);
                    }
                    conns.push(host);
                }
                let mut conns = conns.into_iter();
                c.conn = conns.next();
                s.extra = conns.collect();
            }
            RawKind::File(f) => {
                if f.track_file.is_none() {
                    r.error(pos, "FILE_CHECK without track_file; checker ignored");
                    c.dropped = true;
                }
                return;
            }
            RawKind::Udp(u) => {
                let max = u.max_reply_length.unwrap_or(255);
                if u.min_reply_length > max {
                    r.error(
                        pos,
                        "UDP_CHECK min_reply_length above max_reply_length: it always fails",
                    );
                }
            }
            _ => {}
        }
        if let Some(conn) = &c.conn
            && let IpAddr::V6(v6) = conn.ip.unwrap_or(rs_addr)
            && v6.is_unicast_link_local()
            && conn.bind_if.is_none()
        {
            r.error(
                pos,
                format!("checker of link-local address {v6} needs bind_if; ignored"),
            );
            c.dropped = true;
        }
    }
}

fn connection_keyword(c: &mut RawChecker, r: &mut Report<'_, '_>, line: &KwLine) {
    let Some(conn) = c.conn.as_mut() else { return };
    let kw = line.keyword();
    match kw {
        "connect_ip" | "bindto" => {
            let Some(word) = r.arg(line, 1) else { return };
            let addr = match values::address(word, None) {
                Ok((a, _)) => a,
                Err(e) => return r.error(&line.pos, format!("`{kw}`: {e}; ignored")),
            };
            let other = if kw == "connect_ip" {
                conn.bind_addr
            } else {
                conn.ip
            };
            if other.is_some_and(|o| o.is_ipv4() != addr.is_ipv4()) {
                return r.error(
                    &line.pos,
                    "connect_ip and bindto are of different address families; ignored",
                );
            }
            if kw == "connect_ip" {
                conn.ip = Some(addr);
            } else {
                conn.bind_addr = Some(addr);
            }
        }
        "connect_port" | "bind_port" => {
            let Some(p) = r.unsigned(line, 1, 1, 65535) else {
                return;
            };
            if kw == "connect_port" {
                conn.port = Some(p as u16);
            } else {
                conn.bind_port = Some(p as u16);
            }
        }
        "bind_if" => {
            let Some(name) = r.arg(line, 1) else { return };
            if name.len() > 15 {
                return r.error(
                    &line.pos,
                    format!("interface name {name:?} is too long; ignored"),
                );
            }
            conn.bind_if = Some(name.to_owned());
        }
        "connect_timeout" => {
            if let Some(d) = r.timer(line, 1, 1, Some(UINT_MAX)) {
                conn.connect_timeout = Some(d);
            }
        }
        "fwmark" => {
            if let Some(m) = r.unsigned(line, 1, 0, UINT_MAX) {
                conn.fwmark = Some(m as u32);
            }
        }
        _ => {}
    }
}

fn conn_is_set(c: &RawConn) -> bool {
    c.ip.is_some()
        || c.port.is_some()
        || c.bind_addr.is_some()
        || c.bind_port.is_some()
        || c.bind_if.is_some()
        || c.fwmark.is_some()
        || c.connect_timeout.is_some()
}
