//! From what was written to what keepalived runs: defaults, inheritance, group links,
//! and keepalived's checks after reading (each correction with its diagnostic).

mod checkers;
mod groups;
mod ports;
mod scripts;

use std::collections::HashMap;
use std::time::Duration;

use super::build::raw::{RawGlobals, RawRs, RawTarget, RawVs};
use super::build::{self, Builder};
use super::diag::{Diagnostics, Phase, Pos, Severity};
use super::env::KeepalivedEnv;
use super::model::{
    FlushOnStop, Forwarding, Globals, GroupEntry, GroupRef, KeepalivedConfig, Persistence,
    RealServer, Target, VirtualServer,
};
use crate::ipvs::model::{
    AddressFamily, ForwardMethod, Netmask, Protocol, Scheduler, ServiceFlags, ServiceKey,
};
use scripts::{DefaultUser, Security};

/// The persistence timeout keepalived sets for a port-less service.
const DEFAULT_PERSISTENCE: u32 = 360;

/// Turns the builder's raw model into the configuration keepalived would run.
pub fn finish(b: Builder<'_>, diags: &mut Diagnostics) -> KeepalivedConfig {
    let env = b.env;
    let users = scripts::default_user(env, &b.globals, &b.vss, diags);
    let mut security = Security::new(env);
    let smtp_alert_default = b.globals.smtp_alert_checker.or(b.globals.smtp_alert);
    let mut virtual_servers = Vec::new();
    for vs in groups::linked(b.vss, &b.groups, diags) {
        let ctx = Ctx {
            env,
            users: &users,
            smtp_alert_default,
            track_files: &b.track_files,
            vs_virtualhost: vs.0.virtualhost.clone(),
        };
        if let Some(v) = ctx.virtual_server(vs.0, vs.1, &mut security, diags) {
            virtual_servers.push(v);
        }
    }
    warn_duplicates(&virtual_servers, diags);
    security.finish(b.globals.script_security, diags);
    KeepalivedConfig {
        globals: globals(env, b.globals),
        virtual_servers,
        groups: build::groups(&b.groups),
        track_files: b.track_files,
        ssl: b.ssl,
        skipped: b.skipped,
        warnings: Vec::new(),
    }
}

fn globals(env: &dyn KeepalivedEnv, g: RawGlobals) -> Globals {
    let local = env.canonical_name();
    let with_smtp = g.smtp_server.is_some();
    let email_from = g.email_from.or_else(|| {
        let (login, host) = (env.login_name()?, local.clone()?);
        with_smtp.then(|| format!("{login}@{host}"))
    });
    Globals {
        router_id: g.router_id.or_else(|| local.clone()),
        notification_email: g.notification_email,
        notification_email_from: email_from,
        smtp_server: g.smtp_server,
        smtp_connect_timeout: g.smtp_connect_timeout.unwrap_or(Duration::from_secs(30)),
        smtp_helo_name: g
            .smtp_helo_name
            .or_else(|| with_smtp.then_some(local).flatten()),
        smtp_alert: g.smtp_alert,
        smtp_alert_checker: g.smtp_alert_checker,
        no_checker_emails: g.no_checker_emails,
        checker_log_all_failures: g.checker_log_all_failures,
        script_user: g.script_user,
        enable_script_security: g.script_security,
        lvs_flush: g.lvs_flush,
        lvs_flush_on_stop: g.lvs_flush_on_stop.unwrap_or(FlushOnStop::No),
        lvs_timeouts: g.lvs_timeouts,
        ignored: g.ignored,
    }
}

/// What validating one virtual server needs besides it.
struct Ctx<'a> {
    env: &'a dyn KeepalivedEnv,
    users: &'a DefaultUser,
    smtp_alert_default: Option<bool>,
    track_files: &'a [super::model::TrackFile],
    vs_virtualhost: Option<String>,
}

impl Ctx<'_> {
    fn virtual_server(
        &self,
        mut vs: RawVs,
        group: Option<GroupRef>,
        security: &mut Security<'_>,
        d: &mut Diagnostics,
    ) -> Option<VirtualServer> {
        let pos = vs.pos.clone();
        let error = |d: &mut Diagnostics, m: String| err(d, &pos, m);
        if vs.reals.is_empty() {
            error(d, "virtual server has no real servers; ignored".into());
            return None;
        }
        let entries = group.as_ref().map(|g| g.entries.as_slice());
        let has_marks = match (&vs.target, entries) {
            (RawTarget::Fwmark(_), _) => true,
            (_, Some(e)) => e.iter().any(|e| matches!(e, GroupEntry::Fwmark { .. })),
            _ => false,
        };
        let has_addrs = match (&vs.target, entries) {
            (RawTarget::Addr { .. }, _) => true,
            (_, Some(e)) => e.iter().any(|e| matches!(e, GroupEntry::Range { .. })),
            _ => false,
        };
        if vs.ha_suspend && has_marks {
            error(
                d,
                "ha_suspend does not work with firewall marks; cleared".into(),
            );
            vs.ha_suspend = false;
        }
        let vs_port = match vs.target {
            RawTarget::Addr { port, .. } => port,
            _ => 0,
        };
        if has_addrs {
            if vs.protocol.is_none() {
                error(
                    d,
                    "no protocol set; keepalived uses UDP (the kernel's default)".into(),
                );
                vs.protocol = Some(Protocol::Udp);
            }
            if vs.flags & ServiceFlags::ONEPACKET != 0 && vs.protocol != Some(Protocol::Udp) {
                error(d, "one-packet scheduling (ops) needs UDP; cleared".into());
                vs.flags &= !ServiceFlags::ONEPACKET;
            }
            if vs.persistence_timeout == 0 && group.is_none() && vs_port == 0 {
                error(
                    d,
                    "port 0 needs persistence; persistence_timeout 360 set".into(),
                );
                vs.persistence_timeout = DEFAULT_PERSISTENCE;
            }
        }
        if vs.persistence_timeout == 0
            && entries.is_some_and(|e| {
                e.iter()
                    .any(|e| matches!(e, GroupEntry::Range { port: 0, .. }))
            })
        {
            error(
                d,
                "a group entry without a port needs persistence; persistence_timeout 360 set"
                    .into(),
            );
            vs.persistence_timeout = DEFAULT_PERSISTENCE;
        }
        if vs.protocol.is_some() && has_marks && !has_addrs {
            error(d, "a protocol is ignored for firewall-mark services".into());
            vs.protocol = None;
        }
        let scheduler = vs.scheduler.clone().unwrap_or_else(|| {
            error(d, "no scheduler set; wlc used".into());
            "wlc".to_owned()
        });
        let smtp_alert = vs.smtp_alert.or(self.smtp_alert_default).unwrap_or(false);
        let mut vs_forwarding = vs.forwarding;
        let mut forwarding_for = |own: Option<Forwarding>, d: &mut Diagnostics| {
            own.unwrap_or_else(|| {
                *vs_forwarding.get_or_insert_with(|| {
                    err(d, &pos, "no forwarding method set; NAT used");
                    Forwarding {
                        method: ForwardMethod::Masq,
                        tunnel: crate::ipvs::model::Tunnel::default(),
                    }
                })
            })
        };
        // Real servers: duplicates go, unset values come from the virtual server.
        let mut reals: Vec<(RawRs, Forwarding)> = Vec::new();
        let mut weight_sum: u64 = 0;
        for rs in std::mem::take(&mut vs.reals) {
            if reals
                .iter()
                .any(|(r, _)| (r.addr, r.port) == (rs.addr, rs.port))
            {
                d.push(
                    rs.pos.clone(),
                    Severity::Error,
                    Phase::Validate,
                    format!(
                        "real server {} is given twice; the second is removed",
                        show(rs.addr, rs.port)
                    ),
                );
                continue;
            }
            let f = forwarding_for(rs.forwarding, d);
            weight_sum += u64::from(rs.weight.unwrap_or(vs.weight));
            reals.push((rs, f));
        }
        let sorry_forwarding = vs.sorry.as_ref().map(|s| forwarding_for(s.forwarding, d));
        let vs_forwarding = vs_forwarding.unwrap_or(Forwarding {
            method: ForwardMethod::Masq,
            tunnel: crate::ipvs::model::Tunnel::default(),
        });
        let mut sorry = vs.sorry.take().zip(sorry_forwarding);
        if let Some((s, _)) = sorry.as_mut() {
            let inhibit_of = |rs: &RawRs| rs.inhibit.unwrap_or(vs.inhibit);
            if let Some((rs, _)) = reals
                .iter()
                .find(|(r, _)| (r.addr, r.port) == (s.addr, s.port))
                && inhibit_of(rs) != s.inhibit
            {
                error(d, "the sorry server is also a real server with another inhibit_on_failure; the real server's is used".into());
                s.inhibit = inhibit_of(rs);
            }
        }
        if u64::from(vs.quorum) > weight_sum {
            error(
                d,
                format!(
                    "quorum {} exceeds the real servers' total weight {weight_sum}; lowered to it",
                    vs.quorum
                ),
            );
            vs.quorum = weight_sum as u32;
        }
        if vs.hysteresis >= vs.quorum {
            error(
                d,
                format!(
                    "hysteresis {} is not below quorum {}; set to quorum - 1",
                    vs.hysteresis, vs.quorum
                ),
            );
            vs.hysteresis = vs.quorum.wrapping_sub(1);
        }
        let fwmark = matches!(vs.target, RawTarget::Fwmark(_));
        let family = vs.af.unwrap_or(AddressFamily::Inet);
        let quorum_up = self.users.notify(self.env, vs.quorum_up.as_ref(), d);
        let quorum_down = self.users.notify(self.env, vs.quorum_down.as_ref(), d);
        let keep = |s: Option<super::model::Script>,
                    sec: &mut Security<'_>,
                    d: &mut Diagnostics| { s.filter(|s| sec.keep(s, &pos, d)) };
        let quorum_up = keep(quorum_up, security, d);
        let quorum_down = keep(quorum_down, security, d);
        let mut real_servers = Vec::new();
        for (rs, f) in reals {
            let port = ports::real_port(rs.port, f, group.as_ref(), fwmark, vs_port, &rs.pos, d);
            real_servers.push(self.real_server(&vs, rs, f, port, security, d));
        }
        let sorry_server = sorry
            .map(|(s, f)| ports::sorry_server(&s, f, fwmark, vs_port, group.as_ref(), &pos, d));
        let target = match (&vs.target, group) {
            (RawTarget::Addr { addr, port }, _) => Target::Service(ServiceKey::Addr {
                protocol: vs.protocol.unwrap_or(Protocol::Udp),
                addr: *addr,
                port: *port,
            }),
            (RawTarget::Fwmark(mark), _) => Target::Service(ServiceKey::Fwmark {
                af: family,
                mark: *mark,
            }),
            (RawTarget::Group(_), Some(g)) => Target::Group(g),
            (RawTarget::Group(name), None) => Target::Group(GroupRef {
                name: name.clone(),
                entries: Vec::new(),
            }),
        };
        Some(VirtualServer {
            pos: pos.clone(),
            target,
            family,
            scheduler: Scheduler::new(scheduler),
            flags: ServiceFlags(vs.flags),
            forwarding: vs_forwarding,
            persistence: (vs.persistence_timeout > 0).then(|| Persistence {
                timeout: vs.persistence_timeout,
                granularity: vs.granularity.unwrap_or(Netmask::default_for(family)),
            }),
            persistence_engine: vs.persistence_engine.clone(),
            protocol: vs.protocol,
            alpha: vs.alpha,
            omega: vs.omega,
            quorum: vs.quorum,
            hysteresis: vs.hysteresis,
            quorum_up,
            quorum_down,
            sorry_server,
            ha_suspend: vs.ha_suspend,
            smtp_alert,
            virtualhost: vs.virtualhost.clone(),
            real_servers,
        })
    }

    fn real_server(
        &self,
        vs: &RawVs,
        rs: RawRs,
        forwarding: Forwarding,
        port: u16,
        security: &mut Security<'_>,
        d: &mut Diagnostics,
    ) -> RealServer {
        let inherited = checkers::Inherited {
            alpha: rs.alpha.unwrap_or(vs.alpha),
            retry: rs.retry.or(vs.retry),
            connect_timeout: rs.connect_timeout.unwrap_or(vs.connect_timeout),
            delay_loop: rs.delay_loop.unwrap_or(vs.delay_loop),
            warmup: rs.warmup.or(vs.warmup),
            delay_before_retry: rs.delay_before_retry.or(vs.delay_before_retry),
            vs_delay_loop: vs.delay_loop,
            virtualhost: rs
                .virtualhost
                .clone()
                .or_else(|| self.vs_virtualhost.clone()),
        };
        let notify_up = self.users.notify(self.env, rs.notify_up.as_ref(), d);
        let notify_down = self.users.notify(self.env, rs.notify_down.as_ref(), d);
        let notify_up = notify_up.filter(|s| security.keep(s, &rs.pos, d));
        let notify_down = notify_down.filter(|s| security.keep(s, &rs.pos, d));
        let checkers =
            checkers::checkers(&rs, &inherited, self.users, self.track_files, security, d);
        RealServer {
            pos: rs.pos.clone(),
            addr: rs.addr,
            port,
            weight: rs.weight.unwrap_or(vs.weight),
            forwarding,
            inhibit_on_failure: rs.inhibit.unwrap_or(vs.inhibit),
            alpha: inherited.alpha,
            u_threshold: rs.u_threshold,
            l_threshold: rs.l_threshold,
            notify_up,
            notify_down,
            smtp_alert: rs.smtp_alert.or(self.smtp_alert_default).unwrap_or(true),
            virtualhost: rs.virtualhost,
            checkers,
        }
    }
}

fn err(d: &mut Diagnostics, pos: &Pos, message: impl Into<String>) {
    d.push(
        pos.clone(),
        Severity::Error,
        Phase::Validate,
        message.into(),
    );
}

/// `ADDR:PORT` as in messages.
fn show(addr: std::net::IpAddr, port: u16) -> String {
    crate::ipvs::model::DestKey { addr, port }.to_string()
}

/// Two virtual servers for the same service: keepalived does not notice, and the second
/// fails when it is added to the kernel.
fn warn_duplicates(vss: &[VirtualServer], d: &mut Diagnostics) {
    let mut seen: HashMap<ServiceKey, &Pos> = HashMap::new();
    for vs in vss {
        let protocol = vs.protocol.unwrap_or(Protocol::Tcp);
        for key in vs.target.service_keys(protocol, vs.family) {
            if let Some(first) = seen.get(&key) {
                d.push(
                    vs.pos.clone(),
                    Severity::Warning,
                    Phase::Validate,
                    format!("service {key} is also defined at {first}; adding it twice fails"),
                );
                break;
            }
            seen.insert(key, &vs.pos);
        }
    }
}
