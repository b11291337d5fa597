//! `global_defs`: the keywords that matter to checking; the others are recorded as ignored.

use std::net::SocketAddr;
use std::time::Duration;

use super::super::keywords::GLOBAL_READ;
use super::super::lexer::include_flags as inc;
use super::super::model::{FlushOnStop, RunAs, SmtpServer};
use super::super::stream::KwLine;
use super::{Builder, Report};
use crate::names::Family;

/// keepalived's longest timeout (31 days), for `lvs_timeouts`.
pub const LVS_MAX_TIMEOUT: u64 = 86_400 * 31;

impl Builder<'_> {
    pub(super) fn global(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let kw = line.keyword();
        if !GLOBAL_READ.contains(&kw) {
            if kw == "lvs_sync_daemon" {
                r.note(
                    &line.pos,
                    "`lvs_sync_daemon` is ignored: the connection sync daemon follows VRRP state, which lvsctl leaves to keepalived",
                );
            }
            self.globals.ignored.push((kw.to_owned(), line.pos.clone()));
            return;
        }
        let g = &mut self.globals;
        match kw {
            "router_id" => match line.words.get(1) {
                Some(id) => g.router_id = Some(id.clone()),
                None => r.error(&line.pos, "`router_id` without a name; ignored"),
            },
            "notification_email_from" => match line.words.get(1) {
                Some(from) => g.email_from = Some(from.clone()),
                None => r.error(
                    &line.pos,
                    "`notification_email_from` without an address; ignored",
                ),
            },
            "smtp_helo_name" => {
                if let Some(name) = line.words.get(1) {
                    g.smtp_helo_name = Some(name.clone());
                }
            }
            "smtp_server" => self.smtp_server(r, line),
            "smtp_connect_timeout" => {
                let Some(secs) = r.unsigned(line, 1, 0, u64::from(u32::MAX) / 1_000_000) else {
                    return;
                };
                let secs = if secs == 0 {
                    r.error(
                        &line.pos,
                        "`smtp_connect_timeout` must be above 0; 1 is used",
                    );
                    1
                } else {
                    secs
                };
                self.globals.smtp_connect_timeout = Some(Duration::from_secs(secs));
            }
            "notification_email" => {
                let lines = r.st.value_block(line, 0, r.phase);
                if lines.is_empty() {
                    r.error(&line.pos, "empty `notification_email` block");
                }
                let emails = lines.into_iter().flat_map(|l| l.words);
                self.globals.notification_email.extend(emails);
            }
            "smtp_alert"
            | "smtp_alert_checker"
            | "no_checker_emails"
            | "checker_log_all_failures" => {
                let Some(value) = r.flag(line) else {
                    return;
                };
                let g = &mut self.globals;
                match kw {
                    "smtp_alert" => g.smtp_alert = Some(value),
                    "smtp_alert_checker" => g.smtp_alert_checker = Some(value),
                    "no_checker_emails" => g.no_checker_emails = value,
                    _ => g.checker_log_all_failures = value,
                }
            }
            "script_user" => self.script_user(r, line),
            "enable_script_security" => g.script_security = true,
            "lvs_flush" => g.lvs_flush = true,
            "lvs_flush_on_stop" | "lvs_flush_onstop" => match line.words.get(1).map(String::as_str)
            {
                None => g.lvs_flush_on_stop = Some(FlushOnStop::Full),
                Some("VS") => g.lvs_flush_on_stop = Some(FlushOnStop::VirtualServers),
                Some(other) => r.error(&line.pos, format!("`{kw}`: unknown type {other:?}")),
            },
            "lvs_timeouts" => self.lvs_timeouts(r, line),
            "include_check" => include_check(r, line),
            _ => {}
        }
    }

    fn smtp_server(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(host) = r.arg(line, 1) else {
            return;
        };
        let port_word = line.words.get(2).map_or("25", String::as_str);
        let port = super::values::unsigned(port_word, 1, 65535)
            .ok()
            .and_then(|p| u16::try_from(p).ok());
        // A literal address unless the text has a `-` or `/`; otherwise a host name.
        let literal = if host.contains(['-', '/']) {
            None
        } else {
            host.parse().ok()
        };
        let addr = literal.or_else(|| {
            let names = self.env.names();
            names
                .host_addr(host, Family::V4)
                .or_else(|| names.host_addr(host, Family::V6))
        });
        match (addr, port) {
            (Some(ip), Some(port)) => {
                self.globals.smtp_server = Some(SmtpServer {
                    host: host.to_owned(),
                    addr: SocketAddr::new(ip, port),
                });
            }
            _ => r.error(&line.pos, format!("invalid smtp server {host} {port_word}")),
        }
    }

    fn script_user(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(user) = line.words.get(1) else {
            r.error(&line.pos, "`script_user` without a user name");
            return;
        };
        let group = line.words.get(2).cloned();
        let exists =
            self.env.user_exists(user) && group.as_deref().is_none_or(|g| self.env.group_exists(g));
        if !exists {
            r.error(
                &line.pos,
                format!(
                    "`script_user`: no such user or group ({user} {})",
                    group.as_deref().unwrap_or("")
                ),
            );
            self.globals.script_user_failed = true;
        }
        self.globals.script_user = Some(RunAs {
            user: user.clone(),
            group,
        });
    }

    fn lvs_timeouts(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        if line.words.len() < 3 {
            r.error(
                &line.pos,
                "`lvs_timeouts` needs at least one option and value",
            );
            return;
        }
        let mut i = 1;
        while i < line.words.len() {
            let option = line.words[i].as_str();
            if !matches!(option, "tcp" | "tcpfin" | "udp") {
                r.error(
                    &line.pos,
                    format!("`lvs_timeouts`: unknown option {option:?}"),
                );
                i += 1;
                continue;
            }
            if i + 1 == line.words.len() {
                r.error(&line.pos, format!("`lvs_timeouts`: no value for {option}"));
                break;
            }
            match super::values::unsigned(&line.words[i + 1], 0, LVS_MAX_TIMEOUT) {
                Ok(v) => {
                    let v = v as u32;
                    let t = &mut self.globals.lvs_timeouts;
                    match option {
                        "tcp" => t.tcp = v,
                        "tcpfin" => t.tcp_fin = v,
                        _ => t.udp = v,
                    }
                }
                Err(e) => r.error(&line.pos, format!("`lvs_timeouts {option}`: {e}; ignored")),
            }
            i += 2;
        }
    }
}

/// `include_check [read|match|wildcard_match|brace_match|+X|-X ...]`: which include
/// failures count as errors from here on.
fn include_check(r: &mut Report<'_, '_>, line: &KwLine) {
    let Some(reader) = r.st.reader() else {
        return;
    };
    if line.words.len() < 2 {
        reader.set_include_check(inc::READ | inc::MATCH | inc::WILDCARD | inc::BRACE);
        return;
    }
    let mut bits = reader.include_check();
    for (i, word) in line.words.iter().enumerate().skip(1) {
        let (op, name) = match word.as_bytes().first() {
            Some(b'+') => (1, &word[1..]),
            Some(b'-') => (-1, &word[1..]),
            _ => (0, word.as_str()),
        };
        if op == 0 && i > 1 {
            r.error(
                &line.pos,
                format!("`include_check`: {word:?} repeats the setting; ignored"),
            );
            continue;
        }
        if op == 0 {
            bits = 0;
        }
        let flag = match name {
            "read" => inc::READ,
            "match" => inc::MATCH,
            "wildcard_match" => inc::WILDCARD,
            "brace_match" => inc::BRACE,
            _ => {
                r.error(
                    &line.pos,
                    format!("`include_check`: unknown type {name:?}; ignored"),
                );
                continue;
            }
        };
        bits = match op {
            0 => inc::READ | flag,
            1 => bits | flag,
            _ => bits & !flag,
        };
    }
    if let Some(reader) = r.st.reader() {
        reader.set_include_check(bits);
    }
}
