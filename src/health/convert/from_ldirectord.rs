//! ldirectord.cf → keepalived.conf (its LVS part: `global_defs` and `virtual_server`s).
//!
//! Each ldirectord virtual becomes a `virtual_server` whose real servers all get the same
//! checker. lvsctl's ldirectord mode puts a real server in only after a passing check,
//! which is keepalived's `alpha`; `failurecount` failed passes one `checkinterval` apart
//! are keepalived's `retry` with `delay_before_retry` equal to the interval.

use std::net::IpAddr;

use super::{Conversion, Writer, netmask_text, quoted};
use crate::health::config::{
    CheckService, CheckSettings, CheckType, Config, Forward, HttpMethod, LogTarget, RealServer,
    VirtualService,
};
use crate::ipvs::model::{AddressFamily, Protocol, ServiceKey};

/// Writes `config` (read from `file`) as the LVS part of a keepalived.conf.
pub fn ldirectord_to_keepalived(file: &str, config: &Config) -> Conversion {
    let mut w = Writer::new(file);
    w.line(
        0,
        format!("# keepalived.conf (LVS part) written by `lvsctl health convert` from {file}."),
    );
    w.line(
        0,
        "# Every value is explicit; the notes below mark what keepalived cannot express.",
    );
    globals(&mut w, config);
    for v in &config.virtuals {
        w.line(0, "");
        virtual_service(&mut w, v);
        if v.email != config.globals.email {
            w.lose(
                0,
                v.line,
                "the virtual's own emailalert settings (keepalived has one list)",
            );
        }
    }
    w.finish()
}

fn globals(w: &mut Writer, config: &Config) {
    let g = &config.globals;
    let recipients: Vec<&str> = g
        .email
        .alert
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    let smtp = g.email.smtp.as_deref();
    if recipients.is_empty() && g.email_alert_from.is_none() && smtp.is_none() {
        return;
    }
    w.line(0, "global_defs {");
    if !recipients.is_empty() {
        w.line(1, "notification_email {");
        for r in recipients {
            w.line(2, r);
        }
        w.line(1, "}");
    }
    if let Some(from) = &g.email_alert_from {
        w.line(1, format!("notification_email_from {from}"));
    }
    if let Some(smtp) = smtp {
        w.line(1, format!("smtp_server {}", smtp.replacen(':', " ", 1)));
    }
    w.line(0, "}");
    if g.email.frequency != 0 {
        w.lose(0, 0, "emailalertfreq (keepalived mails on changes only)");
    }
    if g.maintenance_dir.is_some() {
        w.lose(0, 0, "maintenancedir");
    }
    if g.callback.is_some() || !g.execute.is_empty() {
        w.lose(0, 0, "callback and execute");
    }
    if let LogTarget::File(path) = &g.logfile
        && path.as_os_str() != "/var/log/ldirectord.log"
    {
        w.lose(0, 0, "logfile (keepalived logs to syslog)");
    }
}

fn virtual_service(w: &mut Writer, v: &VirtualService) {
    let line = v.line;
    let (head, family, protocol) = match v.key {
        ServiceKey::Addr {
            addr,
            port,
            protocol,
        } => (
            format!("virtual_server {addr} {port} {{"),
            if addr.is_ipv6() {
                AddressFamily::Inet6
            } else {
                AddressFamily::Inet
            },
            Some(protocol),
        ),
        ServiceKey::Fwmark { af, mark } => (format!("virtual_server fwmark {mark} {{"), af, None),
    };
    w.line(0, head);
    if v.key.is_fwmark() && family == AddressFamily::Inet6 {
        w.line(1, "ip_family inet6");
    }
    w.line(1, format!("delay_loop {}", v.check_interval.max(1)));
    w.line(1, format!("lb_algo {}", v.scheduler));
    let methods: Vec<Forward> = v.reals.iter().map(|r| r.forward).collect();
    let first = methods.first().copied().unwrap_or(Forward::Gate);
    w.line(1, format!("lb_kind {}", lb_kind(first)));
    if let Some(p) = protocol {
        w.line(
            1,
            format!(
                "protocol {}",
                match p {
                    Protocol::Udp => "UDP",
                    Protocol::Sctp => "SCTP",
                    _ => "TCP",
                }
            ),
        );
    }
    if let Some(t) = v.persistent {
        w.line(1, format!("persistence_timeout {t}"));
        if let Some(mask) = v.netmask {
            w.line(1, format!("persistence_granularity {}", netmask_text(mask)));
        }
    }
    if let Some(flags) = &v.sched_flags {
        for f in flags.split(',').filter(|f| !f.is_empty()) {
            w.line(1, f);
        }
    }
    if v.ops {
        w.line(1, "ops");
    }
    // A real server enters the kernel only after a passing check (docs/ldirectord-compat.md,
    // Deliberate differences): keepalived's alpha.
    w.line(1, "alpha");
    if let Some(f) = &v.fallback {
        // As for real servers: keepalived resets a non-NAT sorry server's port to the
        // virtual's (with a warning), which is also the port of ldirectord's kernel entry.
        let port = match (f.forward, v.key) {
            (Forward::Masq, _) => f.port,
            (_, ServiceKey::Addr { port, .. }) => port,
            (_, ServiceKey::Fwmark { .. }) => 0,
        };
        w.line(1, format!("sorry_server {} {port}", f.addr));
        w.line(1, format!("sorry_server_lvs_method {}", lb_kind(f.forward)));
    }
    if let Some(host) = &v.check.virtual_host {
        w.line(1, format!("virtualhost {host}"));
    }
    virtual_losses(w, v, line);
    for r in &v.reals {
        real_server(w, v, r, first);
    }
    w.line(0, "}");
}

fn lb_kind(f: Forward) -> &'static str {
    match f {
        Forward::Gate => "DR",
        Forward::Masq => "NAT",
        Forward::Ipip => "TUN",
    }
}

fn virtual_losses(w: &mut Writer, v: &VirtualService, line: usize) {
    if v.fallback_command.is_some() {
        w.lose(1, line, "fallbackcommand (keepalived's quorum_up/quorum_down run on quorum changes, with other arguments)");
    }
    if !v.cleanstop {
        w.lose(1, line, "cleanstop=no");
    }
    if v.rise > 1 {
        w.lose(1, line, format!("rise={}", v.rise));
    }
    if v.monitor_file.is_some() {
        w.lose(1, line, "monitorfile");
    }
}

/// The port keepalived gives the real server's kernel entry: its own under NAT, the
/// virtual's otherwise (0 for a mark), as the kernel entry of ldirectord's gate and ipip
/// reals has it too. The configured port stays the port checks connect to.
fn kernel_port(v: &VirtualService, r: &RealServer) -> u16 {
    match v.key {
        ServiceKey::Fwmark { .. } if r.forward != Forward::Masq => 0,
        ServiceKey::Addr { port, .. } if r.forward != Forward::Masq => port,
        _ => r.port,
    }
}

fn real_server(w: &mut Writer, v: &VirtualService, r: &RealServer, first: Forward) {
    w.line(
        1,
        format!("real_server {} {} {{", r.addr, kernel_port(v, r)).replace(" 0 {", " {"),
    );
    w.line(2, format!("weight {}", r.weight));
    if r.forward != first {
        w.line(2, format!("lvs_method {}", lb_kind(r.forward)));
    }
    if v.quiescent {
        w.line(2, "inhibit_on_failure");
    }
    if r.upper_threshold != 0 {
        w.line(2, format!("uthreshold {}", r.upper_threshold));
    }
    if r.lower_threshold != 0 {
        w.line(2, format!("lthreshold {}", r.lower_threshold));
    }
    checker(w, v, r);
    w.line(1, "}");
}

/// Timing lines every timed keepalived checker takes.
fn timing(w: &mut Writer, v: &VirtualService, timeout: u32, r: &RealServer) {
    w.line(3, format!("connect_timeout {}", timeout.max(1)));
    if let Some(port) = r.check_port
        && port != kernel_port(v, r)
    {
        w.line(3, format!("connect_port {port}"));
    }
    retry(w, v);
}

fn retry(w: &mut Writer, v: &VirtualService) {
    w.line(3, format!("retry {}", v.failure_count.saturating_sub(1)));
    w.line(3, format!("delay_before_retry {}", v.check_interval.max(1)));
}

fn checker(w: &mut Writer, v: &VirtualService, r: &RealServer) {
    let c = &v.check;
    let line = r.line;
    match c.check_type {
        CheckType::On => {}
        CheckType::Off => {
            w.lose(
                2,
                line,
                "checktype=off (the real server is never put in): written without a checker, so keepalived keeps it in service",
            );
        }
        CheckType::Connect => tcp(w, v, r),
        CheckType::Ping => {
            w.line(2, "PING_CHECK {");
            w.line(3, format!("connect_timeout {}", c.check_timeout.max(1)));
            retry(w, v);
            w.line(2, "}");
        }
        CheckType::External | CheckType::ExternalPerl => external(w, v, r),
        CheckType::Negotiate | CheckType::Combined(_) => {
            if let CheckType::Combined(n) = c.check_type {
                w.lose(
                    2,
                    line,
                    format!("checktype={n} (combined): every check negotiates"),
                );
            }
            negotiate(w, v, r);
        }
    }
}

fn tcp(w: &mut Writer, v: &VirtualService, r: &RealServer) {
    w.line(2, "TCP_CHECK {");
    timing(w, v, v.check.check_timeout, r);
    w.line(2, "}");
}

fn external(w: &mut Writer, v: &VirtualService, r: &RealServer) {
    let c = &v.check;
    let (vip, vport) = match v.key {
        ServiceKey::Addr { addr, port, .. } => (addr.to_string(), port.to_string()),
        ServiceKey::Fwmark { mark, .. } => (mark.to_string(), "0".to_owned()),
    };
    let check_port = r.check_port.unwrap_or(r.port);
    // ldirectord runs the command with the virtual's and the real's address and port.
    let command = format!(
        "{} {vip} {vport} {} {check_port}",
        c.check_command,
        ip_text(r.addr)
    );
    w.line(2, "MISC_CHECK {");
    match quoted(&command) {
        Some(text) => w.line(3, format!("misc_path {text}")),
        None => w.lose(3, r.line, "checkcommand with a double quote"),
    }
    w.line(3, format!("misc_timeout {}", c.check_timeout.max(1)));
    retry(w, v);
    w.line(2, "}");
}

fn ip_text(addr: IpAddr) -> String {
    addr.to_string()
}

fn negotiate(w: &mut Writer, v: &VirtualService, r: &RealServer) {
    let c: &CheckSettings = &v.check;
    let line = r.line;
    match c.service {
        CheckService::Http | CheckService::Https => http(w, v, r),
        CheckService::Smtp => {
            w.line(2, "SMTP_CHECK {");
            timing(w, v, c.negotiate_timeout, r);
            w.line(2, "}");
        }
        CheckService::Dns => {
            w.line(2, "DNS_CHECK {");
            timing(w, v, c.negotiate_timeout, r);
            w.line(3, "type A");
            let name = c.request.trim_start_matches('/');
            w.line(3, format!("name {name}"));
            w.line(2, "}");
            if !c.receive.is_empty() {
                w.lose(
                    2,
                    line,
                    "receive= of the dns check (DNS_CHECK needs only an answer)",
                );
            }
        }
        CheckService::None | CheckService::Simpletcp if c.receive.is_empty() => tcp(w, v, r),
        other => {
            w.lose(
                2,
                line,
                format!(
                    "service={} (keepalived has no such check): checked by connecting only",
                    other.keyword()
                ),
            );
            tcp(w, v, r);
        }
    }
}

fn http(w: &mut Writer, v: &VirtualService, r: &RealServer) {
    let c = &v.check;
    let line = r.line;
    let ssl = c.service == CheckService::Https;
    w.line(2, if ssl { "SSL_GET {" } else { "HTTP_GET {" });
    let request = r.request.as_deref().unwrap_or(&c.request);
    let receive = r.receive.as_deref().unwrap_or(&c.receive);
    if request.contains("://") {
        w.lose(
            3,
            line,
            "a request with its own URL (keepalived requests a path on the real server)",
        );
    }
    w.line(3, "url {");
    match quoted(request) {
        Some(_) if !request.contains(char::is_whitespace) => w.line(4, format!("path {request}")),
        _ => w.lose(4, line, "a request with blanks or double quotes"),
    }
    w.line(4, "status_code 200-299");
    if !receive.is_empty() {
        match quoted(receive) {
            Some(text) => w.line(4, format!("regex {text}")),
            None => w.lose(4, line, "receive= with a double quote"),
        }
    }
    w.line(3, "}");
    timing(w, v, c.negotiate_timeout, r);
    w.line(2, "}");
    if c.http_method == HttpMethod::Head {
        w.lose(2, line, "httpmethod=HEAD (keepalived sends GET)");
    }
    if c.redirects != crate::health::config::RedirectPolicy::SameReal {
        w.lose(2, line, "redirects= (keepalived follows no redirect)");
    }
}
