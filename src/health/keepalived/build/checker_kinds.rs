//! The checker types' own keywords: MISC_CHECK, SMTP_CHECK (with its old `host` blocks),
//! DNS_CHECK, UDP_CHECK and FILE_CHECK.

use super::super::model::{DnsType, RunAs};
use super::super::stream::KwLine;
use super::checkers::script_line;
use super::raw::{RawConn, RawKind};
use super::{Builder, Report, values};

const UINT_MAX: u64 = u32::MAX as u64;

impl Builder<'_> {
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
