//! A keepalived.conf run by the health daemon: [`KeepalivedConfig`] → the daemon's
//! [`Config`], in memory.
//!
//! The daemon was built for ldirectord: one check per real, one check kind per virtual,
//! a fallback server, no scripts per real. Only what it then does the way keepalived 2.2.7
//! does is mapped; everything else is a [`Refusal`] naming its line, and the file is not
//! run at all — a keepalived.conf approximated in silence would take real servers in or
//! out of service differently from the keepalived its author tested it with.
//! docs/keepalived-compat.md, "Running a keepalived.conf", lists both sides.
//!
//! keepalived's semantics that need the daemon's help are four fields of
//! [`VirtualService`]: `retry_delay` (keepalived's `delay_before_retry`; with it,
//! `failure_count` is `retry + 1`, and a TCP_CHECK, SMTP_CHECK, DNS_CHECK or PING_CHECK
//! runs its epilogue's rules, crate::health::state::keepalived_epilog), `start_up` (without `alpha` a real is in service from the start, with
//! it down until a check passes), `keepalived_http` (HTTP_GET: keepalived's HTTP
//! checker decides instead of `failure_count`, `rise` and `retry_delay`) and
//! `keepalived` (the sorry server follows keepalived's quorum rule instead of
//! ldirectord's "no real is up"; the notify scripts; a `virtual_server group`'s member
//! services, `groups.rs`).

mod checks;
mod file_check;
#[cfg(test)]
mod group_tests;
mod groups;
mod mail;
#[cfg(test)]
mod mail_tests;
mod ssl;
#[cfg(test)]
mod ssl_tests;
#[cfg(test)]
mod tests;

pub use ssl::load_ssl;

use std::fmt;

use super::{
    FlushOnStop, Forwarding, KeepalivedConfig, Pos, RealServer as KaReal, Script, SorryServer,
    Target, VirtualServer as KaVirtual,
};
use crate::health::config::{
    Config, EmailSettings, Fallback, Forward, Globals, KeepalivedTable, KeepalivedVirtual,
    LogTarget, NotifyScript, RealNotify, RealServer, VirtualService,
};
use crate::ipvs::model::{ForwardMethod, ServiceFlags, ServiceKey, Tunnel};

/// Something of the file the daemon cannot run with keepalived's semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub pos: Pos,
    /// What it is, as the file says it (`sorry_server`, `MISC_CHECK`...).
    pub what: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: a setting of the whole file, whose line the reader does not keep.
        if self.pos.line == 0 {
            write!(f, "{}: ", self.pos.file)?;
        } else {
            write!(f, "{}: ", self.pos)?;
        }
        write!(f, "{} is not supported by lvsctl health yet", self.what)
    }
}

/// One refusal per line.
pub fn render_refusals(refusals: &[Refusal]) -> String {
    use std::fmt::Write as _;
    refusals.iter().fold(String::new(), |mut out, r| {
        let _ = writeln!(out, "{r}");
        out
    })
}

/// Collects refusals while the mapping goes on, so that one run lists them all.
#[derive(Debug, Default)]
struct Refusals(Vec<Refusal>);

impl Refusals {
    fn refuse(&mut self, pos: &Pos, what: impl Into<String>) {
        self.0.push(Refusal {
            pos: pos.clone(),
            what: what.into(),
        });
    }
}

/// The syslog facility keepalived logs to.
const FACILITY: &str = "daemon";

/// The daemon's configuration for `config`, or every refusal (sorted by position).
pub fn to_daemon(config: &KeepalivedConfig) -> Result<Config, Vec<Refusal>> {
    let mut r = Refusals::default();
    globals(&mut r, config);
    groups::shared(&mut r, config);
    // keepalived mails only with a relay and recipients; smtp_alert is on by default.
    let g = &config.globals;
    let relay = mail::Relay::of(g);
    // Both flushes run omega's quorum_down only (keepalived's update_vs_notifies).
    let flush_on_stop = g.lvs_flush_on_stop != FlushOnStop::No;
    let virtuals: Vec<VirtualService> = config
        .virtual_servers
        .iter()
        .filter_map(|v| {
            let alerts = mail::virtual_alerts(&mut r, &relay, g.no_checker_emails, v);
            let mut vs = virtual_service(&mut r, v, flush_on_stop)?;
            if let Some(k) = vs.keepalived.as_mut() {
                k.alerts = alerts;
            }
            Some(vs)
        })
        .collect();
    if !r.0.is_empty() {
        let mut refusals = r.0;
        refusals.sort_by(|a, b| a.pos.cmp(&b.pos));
        return Err(refusals);
    }
    let check_interval = virtuals.iter().map(|v| v.check_interval).min();
    let globals = Globals {
        // Kernel drift repair runs on the shortest delay_loop.
        check_interval: check_interval.unwrap_or(60),
        logfile: LogTarget::Syslog(FACILITY.to_owned()),
        // Each virtual keeps its own delay_loop, as ldirectord's fork=yes allows.
        fork: true,
        // inhibit_on_failure: a down real stays in the table at weight 0, even when it
        // was not there before (a real that starts down under alpha).
        readd_quiescent: true,
        cleanstop: true,
        keepalived_table: KeepalivedTable {
            flush_at_start: g.lvs_flush,
            flush_at_stop: g.lvs_flush_on_stop == FlushOnStop::Full,
            timeouts: g.lvs_timeouts,
        },
        keepalived_mail: relay.mail(),
        ..Globals::default()
    };
    Ok(Config { globals, virtuals })
}

fn globals(r: &mut Refusals, config: &KeepalivedConfig) {
    let g = &config.globals;
    // keepalived writes every real's and virtual's change to these fifos, and runs every
    // real's notify_up at start with rs_init_notifies.
    for (keyword, pos) in &g.ignored {
        if matches!(
            keyword.as_str(),
            "notify_fifo"
                | "notify_fifo_script"
                | "lvs_notify_fifo"
                | "lvs_notify_fifo_script"
                | "rs_init_notifies"
        ) {
            r.refuse(pos, keyword.clone());
        }
    }
    // keepalived writes an `init_file` value into the file when it reads its
    // configuration (not over an existing file on reload); the daemon does not yet.
    for t in config.track_files.iter().filter(|t| t.init.is_some()) {
        r.refuse(&t.pos, "track_file with init_file");
    }
}

fn virtual_service(r: &mut Refusals, v: &KaVirtual, flush_on_stop: bool) -> Option<VirtualService> {
    let pos = &v.pos;
    let (key, group) = match &v.target {
        Target::Service(key) => (Some(*key), Vec::new()),
        Target::Group(g) => match groups::members(r, v, g) {
            Some(members) => (members.first().copied(), members),
            None => (None, Vec::new()),
        },
    };
    if v.persistence_engine.is_some() {
        r.refuse(pos, "persistence_engine");
    }
    for (name, s) in [("quorum_up", &v.quorum_up), ("quorum_down", &v.quorum_down)] {
        refuse_script(r, pos, name, s.as_ref());
    }
    if v.ha_suspend {
        r.refuse(pos, "ha_suspend");
    }
    let known = ServiceFlags::ONEPACKET
        | ServiceFlags::SCHED1
        | ServiceFlags::SCHED2
        | ServiceFlags::SCHED3;
    if v.flags.0 & !known != 0 {
        r.refuse(pos, format!("service flags {:#x}", v.flags.0 & !known));
    }
    let reals: Vec<RealServer> = v.real_servers.iter().filter_map(|k| real(r, k)).collect();
    let check = checks::virtual_checks(r, v);
    let fallback = match (key, &v.sorry_server) {
        (Some(key), Some(s)) => sorry_server(r, v, key, !group.is_empty(), s),
        _ => None,
    };
    let (check, key) = (check?, key?);
    let mut reals = reals;
    for (real, checks) in reals.iter_mut().zip(check.per_real) {
        real.checks = checks;
    }
    let flags = v.sched_flag_names();
    Some(VirtualService {
        line: pos.line,
        key,
        scheduler: v.scheduler.0.clone(),
        persistent: v.persistence.map(|p| p.timeout),
        netmask: v.persistence.map(|p| p.granularity),
        sched_flags: (!flags.is_empty()).then(|| flags.join(",")),
        ops: v.flags.0 & ServiceFlags::ONEPACKET != 0,
        reals,
        fallback,
        fallback_command: None,
        check: check.settings,
        quiescent: check.inhibit,
        cleanstop: true,
        failure_count: check.retry.saturating_add(1),
        rise: 1,
        check_interval: check.delay_loop,
        retry_delay: Some(check.delay_before_retry),
        keepalived_http: check.http,
        keepalived_check: check.exchange,
        start_up: Some(!check.alpha),
        keepalived: Some(KeepalivedVirtual {
            quorum: v.quorum,
            hysteresis: v.hysteresis,
            sorry_inhibit: v.sorry_server.as_ref().is_some_and(|s| s.inhibit),
            group,
            warmup: check.warmup,
            alerts: None,
            omega: v.omega,
            flush_on_stop,
            quorum_up: v.quorum_up.as_ref().map(script),
            quorum_down: v.quorum_down.as_ref().map(script),
            notifies: v
                .real_servers
                .iter()
                .filter(|k| k.notify_up.is_some() || k.notify_down.is_some())
                .map(|k| RealNotify {
                    addr: k.addr,
                    port: k.port,
                    up: k.notify_up.as_ref().map(script),
                    down: k.notify_down.as_ref().map(script),
                })
                .collect(),
        }),
        nanny: None,
        email: EmailSettings::default(),
        monitor_file: None,
        service_name: None,
        comment: None,
    })
}

fn real(r: &mut Refusals, k: &KaReal) -> Option<RealServer> {
    let pos = &k.pos;
    for (name, s) in [("notify_up", &k.notify_up), ("notify_down", &k.notify_down)] {
        refuse_script(r, pos, name, s.as_ref());
    }
    let forward = forward(r, pos, k.forwarding)?;
    let checker = k.checkers.first();
    Some(RealServer {
        line: pos.line,
        addr: k.addr,
        port: k.port,
        forward,
        weight: k.weight,
        // Each real's check connects where its checker does (`connect_port`, else the port
        // on its `real_server` line).
        request: None,
        receive: None,
        lower_threshold: k.l_threshold,
        upper_threshold: k.u_threshold,
        check_port: Some(
            checker
                .and_then(|c| c.connection.as_ref())
                .map_or(k.port, |cn| cn.target.port()),
        ),
        checks: Vec::new(),
        inhibit: Some(k.inhibit_on_failure),
    })
}

/// keepalived's sorry server is the daemon's fallback, put in and out by keepalived's
/// quorum rule (`keepalived_quorum`, crate::health::state::quorum) at weight 1. It runs
/// as long as the sorry server is not one of the reals (keepalived then only flags that
/// real), and its kernel entry is the one the daemon would make (in a group's members
/// always: crate::health::desired::group_port is keepalived's rule).
fn sorry_server(
    r: &mut Refusals,
    v: &KaVirtual,
    key: ServiceKey,
    in_group: bool,
    s: &SorryServer,
) -> Option<Fallback> {
    let pos = &v.pos;
    let before = r.0.len();
    if v.real_servers
        .iter()
        .any(|k| k.addr == s.addr && k.port == s.port)
    {
        r.refuse(pos, "a sorry_server that is also a real_server");
    }
    let forward = forward(r, pos, s.forwarding)?;
    // The daemon makes a DR or tunnel entry, or a NAT entry without port, on the service's
    // port (as ipvsadm does); keepalived passes the port as written.
    if let ServiceKey::Addr { port, .. } = key
        && !in_group
        && s.port != port
        && (forward != Forward::Masq || s.port == 0)
    {
        r.refuse(
            pos,
            "a sorry_server port other than the virtual server's (but with NAT)",
        );
    }
    (r.0.len() == before).then_some(Fallback {
        addr: s.addr,
        port: s.port,
        forward,
        line: pos.line,
    })
}

/// A notify script runs as keepalived runs it when it names its program by absolute path
/// (src/health/daemon/ka_scripts.rs); keepalived's search of a bare name in PATH at start
/// is not reproduced.
fn refuse_script(r: &mut Refusals, pos: &Pos, name: &str, s: Option<&Script>) {
    if let Some(s) = s
        && !s.argv.first().is_some_and(|p| p.starts_with('/'))
    {
        r.refuse(pos, format!("a {name} script not named by absolute path"));
    }
}

fn script(s: &Script) -> NotifyScript {
    NotifyScript {
        argv: s.argv.clone(),
        user: s.run_as.user.clone(),
        group: s.run_as.group.clone(),
    }
}

/// The daemon's forwarding for keepalived's `lb_kind`: NAT, DR, and plain IPIP tunnels.
fn forward(r: &mut Refusals, pos: &Pos, f: Forwarding) -> Option<Forward> {
    match f.method {
        ForwardMethod::Masq => Some(Forward::Masq),
        ForwardMethod::Route => Some(Forward::Gate),
        ForwardMethod::Tunnel if f.tunnel == Tunnel::default() => Some(Forward::Ipip),
        ForwardMethod::Tunnel => {
            r.refuse(pos, "a GUE or GRE tunnel, or tunnel checksum options");
            None
        }
        other => {
            r.refuse(pos, format!("forwarding method {other:?}"));
            None
        }
    }
}
