//! `virtual_server` blocks and the sorry server.

use std::net::Ipv4Addr;

use super::super::stream::KwLine;
use super::forwarding::{forwarding, is_tunnel};
use super::raw::{RawSorry, RawTarget, RawVs};
use super::{Builder, Report, values};
use crate::ipvs::model::{AddressFamily, Netmask, Protocol, ServiceFlags};

/// The schedulers keepalived accepts.
const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];
/// The persistence timeout keepalived uses when none is given (6 minutes).
pub const DEFAULT_PERSISTENCE: u32 = 360;
const WEIGHT_MAX: u64 = i32::MAX as u64;
const UINT_MAX: u64 = u32::MAX as u64;

impl Builder<'_> {
    pub(super) fn vs_open(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        self.vs_dead = true;
        let Some(first) = r.arg(line, 1) else {
            return;
        };
        let second = line.words.get(2).map(String::as_str);
        let target = match (first, second) {
            ("group", Some(name)) => Some((RawTarget::Group(name.to_owned()), None)),
            ("group", None) => {
                r.error(
                    &line.pos,
                    "`virtual_server group` without a group name; skipped",
                );
                None
            }
            ("fwmark", mark) => match values::unsigned(mark.unwrap_or_default(), 0, UINT_MAX) {
                Ok(m) => Some((RawTarget::Fwmark(m as u32), None)),
                Err(e) => {
                    r.error(&line.pos, format!("virtual server fwmark: {e}; skipped"));
                    None
                }
            },
            (ip, port) => match values::address(ip, port) {
                Ok((addr, port)) => Some((
                    RawTarget::Addr { addr, port },
                    Some(AddressFamily::of(&addr)),
                )),
                Err(e) => {
                    r.error(&line.pos, format!("virtual server: {e}; skipped"));
                    None
                }
            },
        };
        match target {
            Some((target, af)) => {
                self.vss.push(RawVs::new(line.pos.clone(), target, af));
                self.vs_dead = false;
            }
            None => r.st.skip_block(),
        }
    }

    pub(super) fn vs_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let kw = line.keyword();
        if kw == "real_server" {
            return self.rs_open(r, line);
        }
        let seq = self.next_seq();
        let Some(vs) = self.vs() else {
            return;
        };
        match kw {
            "ip_family" => {
                let Some(word) = r.arg(line, 1) else { return };
                let af = match word {
                    "inet" => AddressFamily::Inet,
                    "inet6" => AddressFamily::Inet6,
                    _ => return r.error(&line.pos, format!("unknown address family {word:?}")),
                };
                if vs.af.is_some_and(|f| f != af) {
                    return r.error(
                        &line.pos,
                        format!("ip_family {word} conflicts with the virtual server's address"),
                    );
                }
                vs.af = Some(af);
            }
            "retry" => {
                if let Some(v) = r.unsigned(line, 1, 1, UINT_MAX) {
                    vs.retry = Some(v as u32);
                }
            }
            "delay_before_retry" => {
                if let Some(d) = r.timer(line, 1, 0, None) {
                    vs.delay_before_retry = Some(d);
                }
            }
            "warmup" => {
                if let Some(d) = r.timer(line, 1, 0, None) {
                    vs.warmup = Some(d);
                }
            }
            "connect_timeout" => {
                if let Some(d) = r.timer(line, 1, 1, Some(UINT_MAX)) {
                    vs.connect_timeout = d;
                }
            }
            "delay_loop" => {
                if let Some(d) = r.timer(line, 1, 1, None) {
                    vs.delay_loop = d;
                }
            }
            "inhibit_on_failure" => vs.inhibit = true,
            "lb_algo" | "lvs_sched" => {
                let Some(name) = r.arg(line, 1) else { return };
                if SCHEDULERS.contains(&name) {
                    vs.scheduler = Some(name.to_owned());
                } else {
                    r.error(&line.pos, format!("invalid scheduler {name:?}; ignored"));
                }
            }
            "hashed" | "ops" | "flag-1" | "flag-2" | "flag-3" | "sh-port" | "sh-fallback"
            | "mh-port" | "mh-fallback" => service_flag(vs, r, line),
            "lb_kind" | "lvs_method" => {
                if let Some(f) = forwarding(r, line, vs.forwarding, "virtual") {
                    vs.forwarding = Some(f);
                }
            }
            "persistence_engine" => {
                let Some(name) = r.arg(line, 1) else { return };
                let mut name = name.to_owned();
                if name.len() > 15 {
                    r.error(
                        &line.pos,
                        format!("persistence_engine {name:?} too long; truncated"),
                    );
                    name.truncate(15);
                }
                vs.persistence_engine = Some(name);
            }
            "persistence_timeout" => {
                if line.words.len() < 2 {
                    vs.persistence_timeout = DEFAULT_PERSISTENCE;
                } else if let Some(t) = r.unsigned(line, 1, 1, super::globals::LVS_MAX_TIMEOUT) {
                    vs.persistence_timeout = t as u32;
                }
            }
            "persistence_granularity" => granularity(vs, r, line),
            "protocol" => {
                let Some(name) = r.arg(line, 1) else { return };
                match name.to_ascii_uppercase().as_str() {
                    "TCP" => vs.protocol = Some(Protocol::Tcp),
                    "UDP" => vs.protocol = Some(Protocol::Udp),
                    "SCTP" => vs.protocol = Some(Protocol::Sctp),
                    _ => r.error(&line.pos, format!("unknown protocol {name:?}; ignored")),
                }
            }
            "ha_suspend" => vs.ha_suspend = true,
            "smtp_alert" => {
                if let Some(v) = r.flag(line) {
                    vs.smtp_alert = Some(v);
                }
            }
            "virtualhost" => match line.words.get(1) {
                Some(h) => vs.virtualhost = Some(h.clone()),
                None => r.error(&line.pos, "`virtualhost` without a name"),
            },
            "snmp_name" if line.words.len() != 2 => {
                r.error(&line.pos, "`snmp_name` needs exactly one name");
            }
            "alpha" => vs.alpha = true,
            "omega" => vs.omega = true,
            "quorum_up" | "quorum_down" => {
                let slot = if kw == "quorum_up" {
                    &mut vs.quorum_up
                } else {
                    &mut vs.quorum_down
                };
                if slot.is_some() {
                    return r.error(
                        &line.pos,
                        format!("`{kw}` given twice; the second is ignored"),
                    );
                }
                *slot = super::checkers::script_line(r, line, seq);
            }
            "quorum" => {
                let word = r.arg(line, 1).unwrap_or_default();
                vs.quorum = match values::unsigned(word, 1, UINT_MAX) {
                    Ok(q) => q as u32,
                    Err(e) => {
                        r.error(&line.pos, format!("quorum: {e}; 1 is used"));
                        1
                    }
                };
            }
            "hysteresis" => {
                if let Some(h) = r.unsigned(line, 1, 0, UINT_MAX) {
                    vs.hysteresis = h as u32;
                }
            }
            "weight" => {
                if let Some(w) = r.unsigned(line, 1, 1, WEIGHT_MAX) {
                    vs.weight = w as u32;
                }
            }
            "sorry_server" => sorry_server(vs, r, line),
            "sorry_server_inhibit" => match vs.sorry.as_mut() {
                Some(s) => s.inhibit = true,
                None => r.error(
                    &line.pos,
                    "`sorry_server_inhibit` before or without `sorry_server`; ignored",
                ),
            },
            "sorry_server_lvs_method" => match vs.sorry.as_mut() {
                Some(s) => {
                    if let Some(f) = forwarding(r, line, s.forwarding, "sorry") {
                        s.forwarding = Some(f);
                    }
                }
                None => r.error(
                    &line.pos,
                    "`sorry_server_lvs_method` without `sorry_server`; ignored",
                ),
            },
            _ => {}
        }
    }

    /// The end of a virtual server block: settle its address family.
    pub(super) fn vs_close(&mut self, r: &mut Report<'_, '_>) {
        let Some(vs) = self.vs() else {
            return;
        };
        if let Some(s) = &vs.sorry
            && !is_tunnel(s.forwarding)
        {
            let family = AddressFamily::of(&s.addr);
            match vs.af {
                None => vs.af = Some(family),
                Some(af) if af != family => {
                    let pos = vs.pos.clone();
                    vs.sorry = None;
                    r.error(
                        &pos,
                        "the sorry server's address family differs from the virtual server's; sorry server ignored",
                    );
                }
                Some(_) => {}
            }
        }
        if vs.af.is_none() && !matches!(vs.target, RawTarget::Group(_)) {
            // A firewall-mark service whose servers all tunnel: their common family, else
            // IPv4.
            let mut families = vs
                .sorry
                .iter()
                .map(|s| AddressFamily::of(&s.addr))
                .chain(vs.reals.iter().map(|rs| AddressFamily::of(&rs.addr)));
            let first = families.next();
            vs.af = Some(match first {
                Some(f) if families.all(|g| g == f) => f,
                _ => AddressFamily::Inet,
            });
        }
    }
}

/// `ops`, `flag-N`, `sh-*`, `mh-*`, `hashed`.
fn service_flag(vs: &mut RawVs, r: &mut Report<'_, '_>, line: &KwLine) {
    let kw = line.keyword();
    let sched = vs.scheduler.as_deref().unwrap_or_default();
    let bit = match (kw, sched) {
        ("ops", _) => ServiceFlags::ONEPACKET,
        // The sh/mh flags share bits: fallback is flag-1, port is flag-2.
        ("flag-1", _) | ("sh-fallback", "sh") | ("mh-fallback", "mh") => ServiceFlags::SCHED1,
        ("flag-2", _) | ("sh-port", "sh") | ("mh-port", "mh") => ServiceFlags::SCHED2,
        ("flag-3", _) => ServiceFlags::SCHED3,
        (_, "sh" | "mh") => 0,
        _ => {
            return r.error(
                &line.pos,
                format!("`{kw}` only applies to the sh (or mh) scheduler, which must come first; ignored"),
            );
        }
    };
    vs.flags |= bit;
}

fn granularity(vs: &mut RawVs, r: &mut Report<'_, '_>, line: &KwLine) {
    let Some(word) = r.arg(line, 1) else {
        return;
    };
    let af = vs.af.unwrap_or(if word.contains('.') {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    });
    let mask = match af {
        AddressFamily::Inet6 => match values::unsigned(word, 1, 128) {
            Ok(p) => Netmask::V6(p as u32),
            Err(e) => return r.error(&line.pos, format!("IPv6 persistence_granularity: {e}")),
        },
        AddressFamily::Inet => match word.parse::<Ipv4Addr>() {
            Ok(m) => Netmask::V4(m),
            Err(_) => {
                return r.error(
                    &line.pos,
                    format!("invalid IPv4 persistence_granularity {word:?}"),
                );
            }
        },
    };
    vs.granularity = Some(mask);
    vs.af.get_or_insert(af);
    if vs.persistence_timeout == 0 {
        vs.persistence_timeout = DEFAULT_PERSISTENCE;
    }
}

fn sorry_server(vs: &mut RawVs, r: &mut Report<'_, '_>, line: &KwLine) {
    let Some(ip) = r.arg(line, 1) else {
        return;
    };
    match values::address(ip, line.words.get(2).map(String::as_str)) {
        Ok((addr, port)) => {
            vs.sorry = Some(RawSorry {
                addr,
                port,
                forwarding: vs.forwarding,
                inhibit: false,
            });
        }
        Err(e) => r.error(&line.pos, format!("sorry server: {e}; ignored")),
    }
}
