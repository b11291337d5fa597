//! keepalived.conf → ldirectord.cf.
//!
//! ldirectord checks every real server of a virtual the same way, with one check, on one
//! interval, and has no quorum, sorry-server hysteresis or per-real scripts. So a virtual
//! server's checks are taken from its first real server's first checker, and everything
//! that differs from that, or has no ldirectord equivalent, is a [`super::Lost`] note.

mod checks;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Conversion, Writer, host_port, netmask_text};
use crate::health::keepalived::{FlushOnStop, KeepalivedConfig, RealServer, Target, VirtualServer};
use crate::ipvs::model::{
    AddressFamily, ForwardMethod, Protocol, ServiceFlags, ServiceKey, TunnelType,
};

/// Writes `config` (read from `file`) as an ldirectord.cf.
pub fn keepalived_to_ldirectord(file: &str, config: &KeepalivedConfig) -> Conversion {
    let mut w = Writer::new(file);
    w.line(
        0,
        format!("# ldirectord.cf written by `lvsctl health convert` from {file}."),
    );
    w.line(
        0,
        "# Every value is explicit; the notes below mark what ldirectord cannot express.",
    );
    let intervals: BTreeSet<u64> = config
        .virtual_servers
        .iter()
        .filter_map(|v| first_timing(v).map(|t| t.delay_loop.as_secs().max(1)))
        .collect();
    // ldirectord honours a block's checkinterval only with fork=yes.
    let per_virtual_interval = intervals.len() > 1;
    let interval = intervals.first().copied().unwrap_or(60);
    w.line(0, format!("checkinterval={interval}"));
    if per_virtual_interval {
        w.line(0, "fork=yes");
    }
    w.line(0, "quiescent=no");
    globals(&mut w, config);
    for v in &config.virtual_servers {
        virtual_server(&mut w, v, per_virtual_interval);
    }
    w.finish()
}

fn globals(w: &mut Writer, config: &KeepalivedConfig) {
    let g = &config.globals;
    if !g.notification_email.is_empty() {
        w.line(0, format!("emailalert={}", g.notification_email.join(",")));
    }
    if let Some(from) = &g.notification_email_from {
        w.line(0, format!("emailalertfrom={from}"));
    }
    if let Some(smtp) = &g.smtp_server {
        w.line(0, format!("smtp={}", smtp.host));
    }
    if g.lvs_flush {
        w.lose(
            0,
            0,
            "lvs_flush (ldirectord never empties the whole IPVS table at start)",
        );
    }
    if g.lvs_flush_on_stop != FlushOnStop::No {
        w.lose(
            0,
            0,
            "lvs_flush_onstop (ldirectord removes only its own virtual services at stop: cleanstop=yes)",
        );
    }
    let t = g.lvs_timeouts;
    if t.tcp != 0 || t.tcp_fin != 0 || t.udp != 0 {
        w.lose(
            0,
            0,
            "lvs_timeouts (ldirectord does not set the connection timeouts; use ipvsadm --set)",
        );
    }
    for s in &config.skipped {
        w.line(
            0,
            format!(
                "# {} {} (line {}) is not part of LVS checking and was skipped",
                s.keyword, s.name, s.pos.line
            ),
        );
    }
}

fn first_timing(v: &VirtualServer) -> Option<crate::health::keepalived::Timing> {
    v.real_servers
        .iter()
        .flat_map(|r| r.checkers.iter())
        .find_map(|c| c.timing)
}

fn virtual_server(w: &mut Writer, v: &VirtualServer, per_virtual_interval: bool) {
    let protocol = v.protocol.unwrap_or(Protocol::Tcp);
    let keys = v.target.service_keys(protocol, v.family);
    if let Target::Group(g) = &v.target {
        w.line(0, "");
        w.lose(
            0,
            v.pos.line,
            format!(
                "virtual_server_group {}: each of its {} services becomes its own virtual, checked and counted on its own",
                g.name,
                keys.len()
            ),
        );
    }
    for key in keys {
        w.line(0, "");
        w.line(0, header(key));
        body(w, v, key, per_virtual_interval);
    }
}

fn header(key: ServiceKey) -> String {
    match key {
        ServiceKey::Addr { addr, port, .. } if addr.is_ipv6() => {
            format!("virtual6={}", host_port(addr, port))
        }
        ServiceKey::Addr { addr, port, .. } => format!("virtual={}", host_port(addr, port)),
        ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark,
        } => format!("virtual6={mark}"),
        ServiceKey::Fwmark { mark, .. } => format!("virtual={mark}"),
    }
}

fn body(w: &mut Writer, v: &VirtualServer, key: ServiceKey, per_virtual_interval: bool) {
    let line = v.pos.line;
    let six = match key {
        ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
        ServiceKey::Fwmark { af, .. } => af == AddressFamily::Inet6,
    };
    let protocol = match key {
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            ..
        } => "udp",
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            ..
        } => "sctp",
        ServiceKey::Addr { .. } => "tcp",
        ServiceKey::Fwmark { .. } => "fwm",
    };
    w.line(1, format!("protocol={protocol}"));
    w.line(1, format!("scheduler={}", v.scheduler.0));
    if let Some(p) = v.persistence {
        w.line(1, format!("persistent={}", p.timeout));
        w.line(1, format!("netmask={}", netmask_text(p.granularity)));
    }
    if let Some(e) = &v.persistence_engine {
        w.lose(1, line, format!("persistence_engine {e}"));
    }
    let flags = v.sched_flag_names();
    if !flags.is_empty() {
        w.line(1, format!("schedflags={}", flags.join(",")));
    }
    if v.flags.0 & ServiceFlags::ONEPACKET != 0 {
        w.line(1, "ops=yes");
    }
    let real = if six { "real6" } else { "real" };
    for r in &v.real_servers {
        if let Some(method) = method(w, r.pos.line, r.forwarding) {
            let mut text = format!(
                "{real}={} {method} {}",
                host_port(r.addr, real_port(r)),
                r.weight
            );
            if r.l_threshold != 0 {
                let _ = write!(text, " l:{}", r.l_threshold);
            }
            if r.u_threshold != 0 {
                let _ = write!(text, " u:{}", r.u_threshold);
            }
            w.line(1, text);
        }
        real_losses(w, r);
    }
    if let Some(s) = &v.sorry_server
        && let Some(method) = method(w, line, s.forwarding)
    {
        let fallback = if six { "fallback6" } else { "fallback" };
        w.line(
            1,
            format!("{fallback}={} {method}", host_port(s.addr, s.port)),
        );
        if s.inhibit {
            w.lose(1, line, "sorry_server_inhibit");
        }
    }
    let inhibit: BTreeSet<bool> = v
        .real_servers
        .iter()
        .map(|r| r.inhibit_on_failure)
        .collect();
    w.line(
        1,
        format!(
            "quiescent={}",
            if inhibit.contains(&true) { "yes" } else { "no" }
        ),
    );
    if inhibit.len() > 1 {
        w.lose(
            1,
            line,
            "inhibit_on_failure on some real servers only (ldirectord's quiescent is per virtual; written as yes)",
        );
    }
    checks::checks(w, v, per_virtual_interval);
    virtual_losses(w, v);
}

/// ldirectord's forwarding keyword, or None (and a note) for a method it has not.
fn method(
    w: &mut Writer,
    line: usize,
    f: crate::health::keepalived::Forwarding,
) -> Option<&'static str> {
    match f.method {
        ForwardMethod::Route => Some("gate"),
        ForwardMethod::Masq => Some("masq"),
        ForwardMethod::Tunnel if f.tunnel.kind == TunnelType::Ipip => Some("ipip"),
        ForwardMethod::Tunnel => {
            w.lose(
                1,
                line,
                "a GUE or GRE tunnel (ldirectord knows only ipip): the server is left out",
            );
            None
        }
        other => {
            w.lose(
                1,
                line,
                format!("forwarding method {other:?}: the server is left out"),
            );
            None
        }
    }
}

/// The port on an ldirectord real line. Under NAT it is the kernel entry's port. For
/// direct routing and tunnels the kernel entry takes the virtual's port whatever the line
/// says, and the line's port is where the check connects: so the checker's port goes there.
fn real_port(r: &RealServer) -> u16 {
    let connect = r
        .checkers
        .first()
        .and_then(|c| c.connection.as_ref())
        .map(|cn| cn.target.port());
    match (r.forwarding.method, connect) {
        (ForwardMethod::Masq, _) | (_, None) => r.port,
        (_, Some(port)) => port,
    }
}

fn real_losses(w: &mut Writer, r: &RealServer) {
    let line = r.pos.line;
    if r.notify_up.is_some() || r.notify_down.is_some() {
        w.lose(1, line, "notify_up/notify_down scripts");
    }
}

fn virtual_losses(w: &mut Writer, v: &VirtualServer) {
    let line = v.pos.line;
    if v.omega {
        w.lose(1, line, "omega");
    }
    if v.quorum > 1 || v.hysteresis > 0 || v.quorum_up.is_some() || v.quorum_down.is_some() {
        w.lose(
            1,
            line,
            "quorum, hysteresis, quorum_up, quorum_down (ldirectord puts the fallback in only when no real server is up)",
        );
    }
    if v.ha_suspend {
        w.lose(1, line, "ha_suspend");
    }
    if !v.alpha {
        w.lose(
            1,
            line,
            "real servers start in service without a check (no alpha): here a real server enters the kernel only after a passing check",
        );
    }
}
