//! Top-level directives (docs/ldirectord-compat.md, Global directives).

use std::path::PathBuf;

use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::env::ParseEnv;
use super::fallback::FallbackSpec;
use super::model::{Globals, LogTarget};
use super::shared::{Offer, Shared, parse_shared};
use super::values::{required_quoted, split_directive, yes_no};

/// Globals as read, before they are applied to the virtual services.
#[derive(Debug, Clone, Default)]
pub struct RawGlobals {
    pub globals: Globals,
    pub fallback: Option<FallbackSpec>,
    pub fallback6: Option<FallbackSpec>,
}

/// Directives that only make sense inside a virtual block, for a better message than
/// "unknown directive" when one is found at top level.
const BLOCK_ONLY: [&str; 24] = [
    "real",
    "real6",
    "service",
    "checktype",
    "checkcommand",
    "checkport",
    "request",
    "receive",
    "httpmethod",
    "virtualhost",
    "login",
    "passwd",
    "database",
    "secret",
    "scheduler",
    "persistent",
    "netmask",
    "schedflags",
    "protocol",
    "ops",
    "monitorfile",
    "servicename",
    "comment",
    "load",
];

pub fn apply_global(
    raw: &mut RawGlobals,
    d: &mut Diagnostics,
    env: &dyn ParseEnv,
    line: usize,
    text: &str,
) {
    if text == "supervised"
        || text
            .strip_prefix("supervised")
            .is_some_and(|r| r.trim().is_empty())
    {
        raw.globals.supervised = true;
        d.warn(line, WarningKind::BareSupervised);
        return;
    }
    let Some((key, value)) = split_directive(text) else {
        d.error(line, ErrorKind::UnknownDirective(text.to_owned()));
        return;
    };
    match parse_shared(d, line, key, value, false) {
        Offer::Parsed(shared) => return apply_shared(raw, shared),
        Offer::Rejected => return,
        Offer::NotMine => {}
    }
    let g = &mut raw.globals;
    match key {
        "autoreload" => set(&mut g.autoreload, yes_no(d, line, key, value)),
        "fork" => set(&mut g.fork, yes_no(d, line, key, value)),
        "supervised" => set(&mut g.supervised, yes_no(d, line, key, value)),
        "readdquiescent" => set(&mut g.readd_quiescent, yes_no(d, line, key, value)),
        "callback" => {
            if let Some(cmd) = required_quoted(d, line, key, value) {
                g.callback = Some(cmd);
            }
        }
        "logfile" => {
            if let Some(target) = logfile(d, env, line, value) {
                g.logfile = target;
            }
        }
        "execute" => {
            if value.is_empty() {
                d.note(line, "`execute` without a configuration name");
            }
            g.execute.push(value.to_owned());
        }
        "emailalertfrom" => {
            if value.is_empty() {
                d.invalid(line, key, value, "no sender address given");
            } else {
                g.email_alert_from = Some(value.to_owned());
            }
        }
        "maintenancedir" => {
            if value.is_empty() {
                d.invalid(line, key, value, "no directory given");
                return;
            }
            if !env.dir_exists(value) {
                d.warn(line, WarningKind::MaintenanceDirMissing(value.to_owned()));
            }
            g.maintenance_dir = Some(PathBuf::from(value));
        }
        "virtual" | "virtual6" => d.error(line, ErrorKind::UnknownDirective(text.to_owned())),
        k if BLOCK_ONLY.contains(&k) => d.error(line, ErrorKind::BlockOnly(k.to_owned())),
        _ => d.error(line, ErrorKind::UnknownDirective(key.to_owned())),
    }
}

fn set(slot: &mut bool, value: Option<bool>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn apply_shared(raw: &mut RawGlobals, shared: Shared) {
    let g = &mut raw.globals;
    match shared {
        Shared::CheckTimeout(n) => g.check_timeout = Some(n),
        Shared::NegotiateTimeout(n) => g.negotiate_timeout = Some(n),
        Shared::CheckCount(n) => g.check_count = n,
        Shared::FailureCount(n) => g.failure_count = n,
        Shared::Rise(n) => g.rise = n,
        Shared::Redirects(p) => g.redirects = p,
        Shared::CleartextPasswords(b) => g.cleartext_passwords = b,
        Shared::CheckInterval(n) => g.check_interval = n,
        Shared::Quiescent(b) => g.quiescent = b,
        Shared::Cleanstop(b) => g.cleanstop = b,
        Shared::EmailAlert(s) => g.email.alert = s,
        Shared::EmailAlertFreq(n) => g.email.frequency = n,
        Shared::EmailAlertStatus(s) => g.email.status = s,
        Shared::Smtp(s) => g.email.smtp = Some(s),
        Shared::FallbackCommand(s) => g.fallback_command = Some(s),
        Shared::Fallback { six: false, spec } => raw.fallback = Some(spec),
        Shared::Fallback { six: true, spec } => raw.fallback6 = Some(spec),
    }
}

const FACILITIES: [&str; 19] = [
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user",
    "uucp", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
];

/// `logfile="/path"` (a file, must be appendable) or `logfile="facility"` (syslog).
fn logfile(d: &mut Diagnostics, env: &dyn ParseEnv, line: usize, value: &str) -> Option<LogTarget> {
    let target = required_quoted(d, line, "logfile", value)?;
    if target.starts_with('/') {
        if let Err(reason) = env.appendable(&target) {
            d.error(
                line,
                ErrorKind::File {
                    what: "logfile",
                    path: target,
                    reason,
                },
            );
            return None;
        }
        return Some(LogTarget::File(PathBuf::from(target)));
    }
    if target != "local7" && !FACILITIES.contains(&target.as_str()) {
        d.note(line, format!("{target:?} is not a syslog facility name"));
    }
    Some(LogTarget::Syslog(target))
}
