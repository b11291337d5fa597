//! `real_server` blocks and the opening of their checkers.

use super::super::keywords::CheckKind;
use super::super::stream::KwLine;
use super::forwarding::{forwarding, is_tunnel};
use super::raw::{RawChecker, RawDns, RawFile, RawHttp, RawKind, RawMisc, RawRs, RawSmtp, RawUdp};
use super::{Builder, Report, values};
use crate::ipvs::model::AddressFamily;

const WEIGHT_MAX: u64 = i32::MAX as u64;
const UINT_MAX: u64 = u32::MAX as u64;

impl Builder<'_> {
    pub(super) fn rs_open(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        self.rs_dead = true;
        let Some(ip) = r.arg(line, 1) else {
            return;
        };
        let port = line.words.get(2).map(String::as_str);
        let Some(vs) = self.vs() else {
            return;
        };
        match values::address(ip, port) {
            Ok((addr, port)) => {
                let mut rs = RawRs::new(line.pos.clone(), addr, port);
                rs.forwarding = vs.forwarding;
                vs.reals.push(rs);
                self.rs_dead = false;
            }
            Err(e) => {
                r.error(&line.pos, format!("real server: {e}; skipped"));
                r.st.skip_block();
            }
        }
    }

    pub(super) fn rs_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let kw = line.keyword();
        if let Some(kind) = CheckKind::from_keyword(kw) {
            return self.checker_open(r, kind, line);
        }
        let seq = self.next_seq();
        let Some(rs) = self.rs() else {
            return;
        };
        match kw {
            "weight" => {
                if let Some(w) = r.unsigned(line, 1, 0, WEIGHT_MAX) {
                    rs.weight = Some(w as u32);
                }
            }
            "lvs_method" => {
                if let Some(f) = forwarding(r, line, rs.forwarding, "real") {
                    rs.forwarding = Some(f);
                }
            }
            "uthreshold" => {
                if let Some(v) = r.unsigned(line, 1, 0, UINT_MAX) {
                    rs.u_threshold = v as u32;
                }
            }
            "lthreshold" => {
                if let Some(v) = r.unsigned(line, 1, 0, UINT_MAX) {
                    rs.l_threshold = v as u32;
                }
            }
            "inhibit_on_failure" => {
                if let Some(v) = r.flag(line) {
                    rs.inhibit = Some(v);
                }
            }
            "alpha" => {
                if let Some(v) = r.flag(line) {
                    rs.alpha = Some(v);
                }
            }
            "smtp_alert" => {
                if let Some(v) = r.flag(line) {
                    rs.smtp_alert = Some(v);
                }
            }
            "notify_up" | "notify_down" => {
                let slot = if kw == "notify_up" {
                    &mut rs.notify_up
                } else {
                    &mut rs.notify_down
                };
                if slot.is_some() {
                    return r.error(
                        &line.pos,
                        format!("`{kw}` given twice; the second is ignored"),
                    );
                }
                *slot = super::checkers::script_line(r, line, seq);
            }
            "retry" => {
                if let Some(v) = r.unsigned(line, 1, 1, UINT_MAX) {
                    rs.retry = Some(v as u32);
                }
            }
            "delay_before_retry" => {
                if let Some(d) = r.timer(line, 1, 0, None) {
                    rs.delay_before_retry = Some(d);
                }
            }
            "warmup" => {
                if let Some(d) = r.timer(line, 1, 0, None) {
                    rs.warmup = Some(d);
                }
            }
            "connect_timeout" => {
                if let Some(d) = r.timer(line, 1, 1, Some(UINT_MAX)) {
                    rs.connect_timeout = Some(d);
                }
            }
            "delay_loop" => {
                if let Some(d) = r.timer(line, 1, 1, None) {
                    rs.delay_loop = Some(d);
                }
            }
            "virtualhost" => match line.words.get(1) {
                Some(h) => rs.virtualhost = Some(h.clone()),
                None => r.error(&line.pos, "`virtualhost` without a name"),
            },
            "snmp_name" if line.words.len() != 2 => {
                r.error(&line.pos, "`snmp_name` needs exactly one name");
            }
            _ => {}
        }
    }

    /// The end of a real server block: its family must be the virtual server's unless it
    /// tunnels.
    pub(super) fn rs_close(&mut self, r: &mut Report<'_, '_>) {
        if self.rs_dead {
            return;
        }
        let Some(vs) = self.vs() else {
            return;
        };
        let Some(rs) = vs.reals.last() else {
            return;
        };
        if is_tunnel(rs.forwarding) {
            return;
        }
        let family = AddressFamily::of(&rs.addr);
        match vs.af {
            None => vs.af = Some(family),
            Some(af) if af != family => {
                let pos = rs.pos.clone();
                vs.reals.pop();
                r.error(
                    &pos,
                    "the real server's address family differs from the virtual server's; real server skipped",
                );
            }
            Some(_) => {}
        }
    }

    fn checker_open(&mut self, r: &mut Report<'_, '_>, kind: CheckKind, line: &KwLine) {
        let Some(rs) = self.rs() else {
            return;
        };
        let raw_kind = match kind {
            CheckKind::Tcp => RawKind::Tcp,
            CheckKind::Http => RawKind::Http(RawHttp::default()),
            CheckKind::Ssl => RawKind::Ssl(RawHttp::default()),
            CheckKind::Misc => RawKind::Misc(RawMisc::default()),
            CheckKind::Smtp => RawKind::Smtp(RawSmtp::default()),
            CheckKind::Dns => RawKind::Dns(RawDns::default()),
            CheckKind::Udp => RawKind::Udp(RawUdp::default()),
            CheckKind::Ping => RawKind::Ping,
            CheckKind::File => RawKind::File(RawFile::default()),
            CheckKind::Bfd => RawKind::Bfd,
        };
        rs.checkers
            .push(RawChecker::new(line.pos.clone(), raw_kind, kind.connects()));
        if kind == CheckKind::Bfd {
            r.warning(
                &line.pos,
                "BFD_CHECK is not supported by lvsctl (BFD sessions are keepalived's); this checker is ignored",
            );
        }
    }
}
