//! An lvs.cf run by the health daemon: [`PiranhaConfig`] → the daemon's [`Config`], in
//! memory.
//!
//! What each key means is docs/piranha.md's (no Piranha exists to compare with). The
//! daemon runs nanny's check and reentry rule through [`Nanny`] on each virtual; what it
//! cannot run as that page says is a [`Refusal`] naming its line, and the file is not run
//! at all.

use std::fmt;

use super::model::{Expect, PiranhaConfig, PiranhaServer, PiranhaVirtual};
use crate::health::config::{
    CheckService, CheckSettings, CheckType, Config, EmailSettings, Forward, Globals, HttpMethod,
    LogTarget, Nanny, NannyExpect, RealServer, RedirectPolicy, VirtualService,
};
use crate::ipvs::model::{ForwardMethod, Protocol};

/// Something of the file the daemon cannot run as docs/piranha.md says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub file: String,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {} is not supported by lvsctl health yet",
            self.file, self.line, self.what
        )
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

/// The check interval when the file has no `keepalive`, in seconds.
pub const DEFAULT_KEEPALIVE: u32 = 6;

/// pulse and nanny log through syslog's daemon facility.
const FACILITY: &str = "daemon";

/// The daemon's configuration for `config`, or every refusal (in line order).
pub fn to_daemon(file: &str, config: &PiranhaConfig) -> Result<Config, Vec<Refusal>> {
    let interval = config.keepalive.unwrap_or(DEFAULT_KEEPALIVE);
    let forward = match config.forwarding {
        ForwardMethod::Route => Forward::Gate,
        ForwardMethod::Tunnel => Forward::Ipip,
        _ => Forward::Masq,
    };
    let mut refusals = Vec::new();
    let mut virtuals: Vec<VirtualService> = Vec::new();
    for v in config.virtuals.iter().filter(|v| v.active) {
        if let Some(first) = virtuals.iter().find(|s| s.key == v.service) {
            refusals.push(Refusal {
                file: file.to_owned(),
                line: v.line,
                what: format!(
                    "a second active virtual for the service of line {} (virtual {})",
                    first.line, v.name
                ),
            });
            continue;
        }
        virtuals.push(virtual_service(v, forward, interval));
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let globals = Globals {
        check_interval: interval,
        logfile: LogTarget::Syslog(FACILITY.to_owned()),
        fork: true,
        // A failed real is removed, not kept at weight 0.
        quiescent: false,
        readd_quiescent: false,
        // At stop the daemon deletes the virtual services it made, with their reals.
        cleanstop: true,
        ..Globals::default()
    };
    Ok(Config { globals, virtuals })
}

fn virtual_service(v: &PiranhaVirtual, forward: Forward, interval: u32) -> VirtualService {
    let timeout = u32::try_from(v.check.timeout.as_secs()).unwrap_or(u32::MAX);
    let nanny = Nanny {
        send: v.check.send.clone(),
        expect: v.check.expect.as_ref().map(|e| match e {
            Expect::Text(t) => NannyExpect::Text(t.clone()),
            Expect::Regex(re) => NannyExpect::Regex(re.clone()),
        }),
        program: v.check.send_program.clone(),
        udp: v.protocol == Protocol::Udp,
        reentry: v.check.reentry,
        quiesce_server: v.quiesce_server,
    };
    let check_type = if nanny.program.is_some() {
        CheckType::External
    } else {
        CheckType::Negotiate
    };
    VirtualService {
        line: v.line,
        key: v.service,
        scheduler: v.scheduler.as_str().to_owned(),
        persistent: v.persistence.map(|p| p.timeout),
        netmask: v.persistence.map(|p| p.netmask),
        sched_flags: None,
        ops: false,
        reals: v
            .servers
            .iter()
            .filter(|s| s.active)
            .map(|s| real(v, s, forward))
            .collect(),
        fallback: None,
        fallback_command: None,
        check: settings(check_type, timeout, v.port),
        quiescent: false,
        cleanstop: true,
        // One failed check takes the real out; its return is the reentry rule's.
        failure_count: 1,
        rise: 1,
        check_interval: interval,
        retry_delay: None,
        keepalived_http: None,
        start_up: None,
        keepalived: None,
        nanny: Some(nanny),
        keepalived_check: None,
        email: EmailSettings::default(),
        monitor_file: None,
        service_name: None,
        comment: None,
    }
}

/// A real server at the virtual's port, checked there.
fn real(v: &PiranhaVirtual, s: &PiranhaServer, forward: Forward) -> RealServer {
    RealServer {
        inhibit: None,
        line: s.line,
        addr: s.address,
        port: v.port,
        forward,
        weight: s.weight,
        request: None,
        receive: None,
        lower_threshold: 0,
        upper_threshold: 0,
        check_port: Some(v.port),
        checks: Vec::new(),
    }
}

/// The daemon's check settings for a nanny check: only the timeout counts (the check
/// itself is [`Nanny`]'s); the type says what kind of work a run is (a socket or a
/// program) for the daemon's descriptor budget and the status.
fn settings(check_type: CheckType, timeout: u32, port: u16) -> CheckSettings {
    CheckSettings {
        check_type,
        service: CheckService::Simpletcp,
        service_explicit: true,
        check_port: Some(port),
        check_command: String::new(),
        request: String::new(),
        receive: String::new(),
        http_method: HttpMethod::Get,
        virtual_host: None,
        login: String::new(),
        passwd: String::new(),
        database: String::new(),
        secret: String::new(),
        check_timeout: timeout,
        negotiate_timeout: timeout,
        check_count: 1,
        redirects: RedirectPolicy::None,
        cleartext_passwords: false,
    }
}
