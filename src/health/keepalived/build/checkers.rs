//! Checker blocks: the keywords every checker shares, MISC_CHECK, SMTP_CHECK (with its
//! old `host` blocks), DNS_CHECK, UDP_CHECK and FILE_CHECK, and the checks keepalived
//! makes when a checker block ends.

use std::net::IpAddr;

use super::super::diag::Pos;
use super::super::keywords::{CONNECTION, CheckKind};
use super::super::lexer::text::{QuoteError, quoted_escaped};
use super::super::model::{DnsType, RunAs};
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

    pub(super) fn misc_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let env = self.env;
        let seq = self.next_seq();
        let Some(c) = self.checker() else { return };
        let RawKind::Misc(m) = &mut c.kind else {
            return;
        };
        match line.keyword() {
            "misc_path" => m.script = script_line(r, line, seq),
            "misc_timeout" => {
                if let Some(s) = r.unsigned(line, 1, 0, UINT_MAX / 1_000_000) {
                    m.timeout = Some(std::time::Duration::from_secs(s));
                }
            }
            "misc_dynamic" => m.dynamic = true,
            "user" => {
                let Some(user) = line.words.get(1) else {
                    return r.error(&line.pos, "`user` without a user name");
                };
                let group = line.words.get(2).cloned();
                let exists =
                    env.user_exists(user) && group.as_deref().is_none_or(|g| env.group_exists(g));
                if !exists {
                    r.error(
                        &line.pos,
                        format!("MISC_CHECK user {user}: no such user or group; checker removed"),
                    );
                    c.dropped = true;
                    return;
                }
                m.user = Some(RunAs {
                    user: user.clone(),
                    group,
                });
            }
            _ => {}
        }
    }

    pub(super) fn smtp_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(c) = self.checker() else { return };
        let RawKind::Smtp(s) = &mut c.kind else {
            return;
        };
        match line.keyword() {
            "helo_name" => match line.words.get(1) {
                Some(name) => s.helo_name = Some(name.clone()),
                None => r.error(&line.pos, "`helo_name` without a name"),
            },
            "host" => {
                // The host block's connection settings start from the real server.
                s.saved_conn = c.conn.take();
                c.conn = Some(RawConn::default());
            }
            _ => {}
        }
    }

    pub(super) fn smtp_host_close(&mut self) {
        let Some(c) = self.checker() else { return };
        let RawKind::Smtp(s) = &mut c.kind else {
            return;
        };
        if let Some(host) = std::mem::replace(&mut c.conn, s.saved_conn.take()) {
            s.hosts.push(host);
        }
    }

    pub(super) fn dns_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(c) = self.checker() else { return };
        let RawKind::Dns(d) = &mut c.kind else { return };
        match line.keyword() {
            "type" => {
                let Some(name) = r.arg(line, 1) else { return };
                match DnsType::from_name(name) {
                    Some(t) => d.query_type = Some(t),
                    None => r.error(
                        &line.pos,
                        format!("unknown DNS query type {name:?}; ignored"),
                    ),
                }
            }
            "name" => {
                let Some(name) = r.arg(line, 1) else { return };
                if d.name.is_some() {
                    return r.error(
                        &line.pos,
                        "DNS_CHECK `name` given twice; the second is ignored",
                    );
                }
                let empty_label = (name.starts_with('.') && name.len() > 1) || name.contains("..");
                if empty_label {
                    return r.error(
                        &line.pos,
                        format!("DNS name {name:?} has an empty label; ignored"),
                    );
                }
                d.name = Some(name.to_owned());
            }
            _ => {}
        }
    }

    pub(super) fn udp_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(c) = self.checker() else { return };
        let RawKind::Udp(u) = &mut c.kind else { return };
        let hex = line.words.get(1..).map(|w| w.join(" ")).unwrap_or_default();
        match line.keyword() {
            "payload" => {
                if line.words.len() == 1 {
                    return r.error(&line.pos, "`payload` needs a hex string");
                }
                match read_hex(&hex, false) {
                    Some((bytes, _)) => u.payload = bytes,
                    None => r.error(&line.pos, format!("invalid hex string {hex:?}")),
                }
            }
            "require_reply" => {
                u.require_reply = true;
                if line.words.len() > 1 {
                    match read_hex(&hex, true) {
                        Some((bytes, mask)) => {
                            u.reply = bytes;
                            u.reply_mask = mask;
                        }
                        None => r.error(&line.pos, format!("invalid hex string {hex:?}")),
                    }
                }
            }
            kw @ ("min_reply_length" | "max_reply_length") => {
                let Some(v) = r.unsigned(line, 1, 0, u64::from(u16::MAX)) else {
                    return;
                };
                if kw == "min_reply_length" {
                    u.min_reply_length = v as u16;
                } else {
                    u.max_reply_length = Some(v as u16);
                }
            }
            _ => {}
        }
    }

    pub(super) fn file_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let known = |name: &str| self.track_files.iter().any(|t| t.name == name);
        match line.keyword() {
            "track_file" => {
                let Some(name) = r.arg(line, 1) else { return };
                if !known(name) {
                    return r.error(
                        &line.pos,
                        format!("track_file {name:?} is not defined (before this point)"),
                    );
                }
                let name = name.to_owned();
                if let Some(c) = self.checker()
                    && let RawKind::File(f) = &mut c.kind
                {
                    f.track_file = Some(name);
                }
            }
            "weight" => {
                let Some(word) = line.words.get(1) else {
                    return r.error(&line.pos, "FILE_CHECK `weight` without a value");
                };
                let limit = i64::from(i32::MAX);
                let weight = match values::signed(word, -limit, limit) {
                    Ok(w) => w as i32,
                    Err(e) => {
                        return r.error(&line.pos, format!("FILE_CHECK weight: {e}; ignored"));
                    }
                };
                let reverse = match line.words.get(2).map(String::as_str) {
                    None | Some("noreverse") => false,
                    Some("reverse") => true,
                    Some(other) => {
                        return r.error(
                            &line.pos,
                            format!("unknown FILE_CHECK weight option {other:?}; ignored"),
                        );
                    }
                };
                if let Some(c) = self.checker()
                    && let RawKind::File(f) = &mut c.kind
                {
                    f.weight = Some((weight, reverse));
                }
            }
            _ => {}
        }
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

/// keepalived's hex strings (UDP_CHECK payloads): pairs of hex digits, blanks between
/// bytes allowed, a lone digit before a blank is one byte; with `wildcards`, `x`/`X`
/// nibbles match anything (their mask bits are set). None when invalid or empty.
pub fn read_hex(s: &str, wildcards: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let nibble = |c: u8| -> Option<(u8, u8)> {
        match c {
            b'x' | b'X' if wildcards => Some((0, 0x0f)),
            _ => char::from(c).to_digit(16).map(|d| (d as u8, 0)),
        }
    };
    let bytes = s.as_bytes();
    let (mut data, mut mask) = (Vec::new(), Vec::new());
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let (mut v, mut m) = nibble(bytes[i])?;
        i += 1;
        if i < bytes.len() && bytes[i] != b' ' {
            let (v2, m2) = nibble(bytes[i])?;
            i += 1;
            v = (v << 4) | v2;
            m = (m << 4) | m2;
        }
        data.push(v);
        mask.push(m);
    }
    if data.is_empty() {
        return None;
    }
    if mask.iter().all(|m| *m == 0) {
        mask.clear();
    }
    Some((data, mask))
}
