//! keepalived's checkers as ldirectord's one check per virtual.

use super::super::{Writer, quoted};
use crate::health::keepalived::{Checker, CheckerKind, DnsType, HttpCheck, Target, VirtualServer};
use crate::ipvs::model::{ForwardMethod, ServiceKey};

/// The one check ldirectord runs for every real of the virtual.
pub(super) fn checks(w: &mut Writer, v: &VirtualServer, per_virtual_interval: bool) {
    let line = v.pos.line;
    let first = v.real_servers.iter().find_map(|r| r.checkers.first());
    let Some(c) = first else {
        // keepalived keeps a real server without checkers in service: so does `on`.
        w.line(1, "checktype=on");
        return;
    };
    for r in &v.real_servers {
        if r.checkers.len() > 1 {
            let dropped: Vec<&str> = r.checkers[1..].iter().map(|c| c.kind.keyword()).collect();
            w.lose(
                1,
                r.pos.line,
                format!(
                    "{} after the first checker of a real server (ldirectord runs one check)",
                    dropped.join(", ")
                ),
            );
        }
        if let Some(other) = r.checkers.first()
            && std::mem::discriminant(&other.kind) != std::mem::discriminant(&c.kind)
        {
            w.lose(
                1,
                other.pos.line,
                format!(
                    "{} beside {} in one virtual server (ldirectord checks every real server the same way, with the first)",
                    other.kind.keyword(),
                    c.kind.keyword()
                ),
            );
        }
        if r.checkers.is_empty() {
            w.lose(
                1,
                r.pos.line,
                "a real server without checkers beside checked ones (it is checked like the others)",
            );
        }
    }
    checker(w, c, v);
    if let Some(t) = c.timing {
        if per_virtual_interval {
            w.line(
                1,
                format!("checkinterval={}", t.delay_loop.as_secs().max(1)),
            );
        }
        w.line(1, format!("failurecount={}", t.retry.saturating_add(1)));
        if t.retry > 0 && t.delay_before_retry != t.delay_loop {
            w.lose(
                1,
                c.pos.line,
                format!(
                    "delay_before_retry {} s (ldirectord checks again after checkinterval)",
                    t.delay_before_retry.as_secs_f64()
                ),
            );
        }
    }
    let _ = line;
}

/// The port when every real server's MISC_CHECK runs `COMMAND VIP VPORT RIP PORT` with the
/// same PORT: the arguments ldirectord gives an external check (and what the other
/// direction of the conversion writes), so `checkport=PORT` says the same thing.
fn ldirectord_arguments(v: &VirtualServer) -> Option<u16> {
    let (vip, vport) = match v.target {
        Target::Service(ServiceKey::Addr { addr, port, .. }) => (addr.to_string(), port),
        Target::Service(ServiceKey::Fwmark { mark, .. }) => (mark.to_string(), 0),
        Target::Group(_) => return None,
    };
    let mut found = None;
    for r in &v.real_servers {
        let Some(CheckerKind::Misc(m)) = r.checkers.first().map(|c| &c.kind) else {
            return None;
        };
        let [_, their_vip, their_vport, rip, rport] = m.script.argv.as_slice() else {
            return None;
        };
        let port: u16 = rport.parse().ok()?;
        let same =
            *their_vip == vip && *their_vport == vport.to_string() && *rip == r.addr.to_string();
        if !same || found.is_some_and(|p| p != port) {
            return None;
        }
        found = Some(port);
    }
    found
}

fn timeout_secs(c: &Checker) -> u64 {
    c.connection
        .as_ref()
        .map_or(5, |cn| cn.connect_timeout.as_secs().max(1))
}

fn check_port(w: &mut Writer, c: &Checker, v: &VirtualServer) {
    let Some(cn) = &c.connection else { return };
    let real = v
        .real_servers
        .iter()
        .find(|r| r.checkers.first().is_some_and(|f| f == c));
    if let Some(r) = real {
        if cn.target.ip() != r.addr {
            w.lose(
                1,
                c.pos.line,
                format!(
                    "connect_ip {} (ldirectord checks the real server's own address)",
                    cn.target.ip()
                ),
            );
        }
        if r.forwarding.method == ForwardMethod::Masq && cn.target.port() != r.port {
            w.line(1, format!("checkport={}", cn.target.port()));
        }
    }
    if cn.bind_addr.is_some()
        || cn.bind_port.is_some()
        || cn.bind_if.is_some()
        || cn.fwmark.is_some()
    {
        w.lose(
            1,
            c.pos.line,
            "bindto, bind_port, bind_if or fwmark of the checker",
        );
    }
}

fn checker(w: &mut Writer, c: &Checker, v: &VirtualServer) {
    let line = c.pos.line;
    match &c.kind {
        CheckerKind::Tcp => {
            w.line(1, "checktype=connect");
            w.line(1, format!("checktimeout={}", timeout_secs(c)));
            check_port(w, c, v);
        }
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            let https = matches!(c.kind, CheckerKind::Ssl(_));
            w.line(1, "checktype=negotiate");
            w.line(
                1,
                format!("service={}", if https { "https" } else { "http" }),
            );
            w.line(1, format!("negotiatetimeout={}", timeout_secs(c)));
            check_port(w, c, v);
            http(w, line, h, v);
        }
        CheckerKind::Misc(m) => {
            w.line(1, "checktype=external");
            let command = m.script.argv.first().cloned().unwrap_or_default();
            match quoted(&command) {
                Some(text) => w.line(1, format!("checkcommand={text}")),
                None => w.lose(1, line, "misc_path with a double quote"),
            }
            w.line(1, format!("checktimeout={}", m.timeout.as_secs().max(1)));
            if let Some(port) = ldirectord_arguments(v) {
                // The arguments are the ones ldirectord passes: nothing is lost.
                if v.real_servers.iter().any(|r| r.port != port) {
                    w.line(1, format!("checkport={port}"));
                }
            } else if m.script.argv.len() > 1 {
                w.lose(
                    1,
                    line,
                    "misc_path's arguments (ldirectord runs the command with VIP VPORT RIP RPORT instead)",
                );
            }
            if m.dynamic {
                w.lose(1, line, "misc_dynamic (exit codes setting the weight)");
            }
            if m.script.run_as.user != "root" {
                w.lose(
                    1,
                    line,
                    format!("running the script as {}", m.script.run_as.user),
                );
            }
        }
        CheckerKind::Smtp(_) => {
            w.line(1, "checktype=negotiate");
            w.line(1, "service=smtp");
            w.line(1, format!("negotiatetimeout={}", timeout_secs(c)));
            check_port(w, c, v);
            w.lose(
                1,
                line,
                "helo_name (the smtp check sends its own HELO name)",
            );
        }
        CheckerKind::Dns(d) => {
            w.line(1, "checktype=negotiate");
            w.line(1, "service=dns");
            w.line(1, format!("negotiatetimeout={}", timeout_secs(c)));
            check_port(w, c, v);
            match quoted(&d.name) {
                Some(text) if !d.name.is_empty() => {
                    w.line(1, format!("request={text}"));
                    // DNS_CHECK is up on an answer; ldirectord's dns check wants an
                    // address matching receive, and an empty receive is always down.
                    w.line(1, "receive=\".\"");
                }
                _ => w.lose(
                    1,
                    line,
                    "a DNS_CHECK of the root name (request= cannot be empty)",
                ),
            }
            if d.query_type != DnsType::A {
                w.lose(
                    1,
                    line,
                    format!(
                        "DNS query type {:?} (the dns check asks for A records)",
                        d.query_type
                    ),
                );
            }
        }
        CheckerKind::Ping => {
            w.line(1, "checktype=ping");
            w.line(1, format!("checktimeout={}", timeout_secs(c)));
        }
        CheckerKind::Udp(_) | CheckerKind::File(_) => {
            w.lose(
                1,
                line,
                format!(
                    "{} has no ldirectord check: written as checktype=on, the real servers are NOT checked",
                    c.kind.keyword()
                ),
            );
            w.line(1, "checktype=on");
        }
    }
}

fn http(w: &mut Writer, line: usize, h: &HttpCheck, v: &VirtualServer) {
    let Some(url) = h.urls.first() else {
        return;
    };
    if h.urls.len() > 1 {
        w.lose(
            1,
            line,
            format!(
                "{} url blocks (ldirectord requests one; the first is used)",
                h.urls.len()
            ),
        );
    }
    match quoted(&url.path) {
        Some(text) => w.line(1, format!("request={text}")),
        None => w.lose(1, line, "a url path with a double quote"),
    }
    if let Some(re) = &url.regex {
        match quoted(&re.pattern) {
            Some(text) if !re.no_match => w.line(1, format!("receive={text}")),
            _ => w.lose(1, line, "regex_no_match or a regex with a double quote"),
        }
        if !re.options.is_empty() || re.min_offset != 0 || re.max_offset != 0 {
            w.lose(1, line, "regex_options, regex_min_offset, regex_max_offset");
        }
    }
    if url.digest.is_some() {
        w.lose(
            1,
            line,
            "digest (ldirectord matches the body with receive= instead)",
        );
    }
    if url.status_codes.ranges() != [(200, 299)] {
        w.lose(
            1,
            line,
            "status_code other than 200-299 (ldirectord wants a 2xx answer)",
        );
    }
    let host = url.virtualhost.as_ref().or(v.virtualhost.as_ref());
    if let Some(host) = host {
        w.line(1, format!("virtualhost={host}"));
    }
}
