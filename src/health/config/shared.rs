//! Directives that may appear both at top level and inside a virtual block (the block value
//! overrides the global one). Parsed once here so both places accept exactly the same text.

use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::fallback::{FallbackSpec, parse_fallback};
use super::model::{AlertStatus, RedirectPolicy};
use super::values::{first_run, is_space, number, optionally_quoted, warn_junk, yes_no};

/// A successfully read shared directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    CheckTimeout(u32),
    NegotiateTimeout(u32),
    CheckCount(u32),
    FailureCount(u32),
    /// lvsctl extension: consecutive successes before a down real comes back.
    Rise(u32),
    /// lvsctl extension: which redirects http checks follow.
    Redirects(RedirectPolicy),
    /// lvsctl extension: whether database checks may send a password in clear.
    CleartextPasswords(bool),
    CheckInterval(u32),
    Quiescent(bool),
    Cleanstop(bool),
    EmailAlert(String),
    EmailAlertFreq(u32),
    EmailAlertStatus(AlertStatus),
    Smtp(String),
    FallbackCommand(String),
    /// `fallback` (`six` false) or `fallback6`.
    Fallback {
        six: bool,
        spec: FallbackSpec,
    },
}

/// Outcome of offering a directive to [`parse_shared`].
pub enum Offer {
    /// Not a shared directive; the caller keeps looking.
    NotMine,
    /// A shared directive whose value was wrong (already reported).
    Rejected,
    Parsed(Shared),
}

/// Reads `key = value` if `key` is a shared directive. `in_block` only changes how the
/// fallback command is read: ldirectord strips optional quotes inside blocks but takes the
/// raw rest of the line at top level.
pub fn parse_shared(
    d: &mut Diagnostics,
    line: usize,
    key: &str,
    value: &str,
    in_block: bool,
) -> Offer {
    let parsed = match key {
        "checktimeout" => number(d, line, key, value, true).map(Shared::CheckTimeout),
        "negotiatetimeout" => number(d, line, key, value, true).map(Shared::NegotiateTimeout),
        "failurecount" => number(d, line, key, value, true).map(Shared::FailureCount),
        "rise" => {
            d.note(
                line,
                "rise is an lvsctl extension (consecutive passing checks before a failed real \
                 server is restored); ldirectord rejects this file",
            );
            number(d, line, key, value, true).map(Shared::Rise)
        }
        "redirects" => redirects(d, line, value).map(Shared::Redirects),
        "cleartext_passwords" => {
            let allowed = yes_no(d, line, key, value);
            if let Some(allowed) = allowed {
                d.note(
                    line,
                    format!(
                        "cleartext_passwords is an lvsctl extension: mysql and pgsql checks {} \
                         the password in clear when the server asks for it; ldirectord rejects \
                         this file",
                        if allowed { "send" } else { "refuse to send" }
                    ),
                );
            }
            allowed.map(Shared::CleartextPasswords)
        }
        "checkinterval" => number(d, line, key, value, true).map(Shared::CheckInterval),
        "checkcount" => {
            let n = number(d, line, key, value, true);
            d.warn(line, WarningKind::CheckCountDeprecated);
            n.map(Shared::CheckCount)
        }
        "connecttimeout" => return removed(d, line, key, "negotiatetimeout"),
        "timeout" => return removed(d, line, key, "checktimeout and negotiatetimeout"),
        "quiescent" => yes_no(d, line, key, value).map(Shared::Quiescent),
        "cleanstop" => yes_no(d, line, key, value).map(Shared::Cleanstop),
        "emailalert" => email_alert(d, line, value).map(Shared::EmailAlert),
        "emailalertfreq" => email_freq(d, line, value).map(Shared::EmailAlertFreq),
        "emailalertstatus" => alert_status(d, line, value).map(Shared::EmailAlertStatus),
        "smtp" => smtp(d, line, value).map(Shared::Smtp),
        "fallbackcommand" => fallback_command(d, line, value, in_block),
        "fallback" | "fallback6" => {
            parse_fallback(d, line, key, value).map(|spec| Shared::Fallback {
                six: key == "fallback6",
                spec,
            })
        }
        _ => return Offer::NotMine,
    };
    parsed.map_or(Offer::Rejected, Offer::Parsed)
}

/// `redirects=same-real|any|none`, with a note saying what it does.
fn redirects(d: &mut Diagnostics, line: usize, value: &str) -> Option<RedirectPolicy> {
    let Some(policy) = RedirectPolicy::from_keyword(value) else {
        d.invalid(line, "redirects", value, "expected same-real, any or none");
        return None;
    };
    d.note(
        line,
        format!(
            "redirects={}: {}; redirects is an lvsctl extension, ldirectord rejects this file",
            policy.keyword(),
            policy.meaning()
        ),
    );
    Some(policy)
}

fn removed(d: &mut Diagnostics, line: usize, key: &str, replacement: &'static str) -> Offer {
    d.error(
        line,
        ErrorKind::Removed {
            directive: key.to_owned(),
            replacement,
        },
    );
    Offer::Rejected
}

fn fallback_command(
    d: &mut Diagnostics,
    line: usize,
    value: &str,
    in_block: bool,
) -> Option<Shared> {
    let command = if in_block {
        optionally_quoted(value)
    } else {
        if value.starts_with('"') {
            d.note(
                line,
                "at top level ldirectord keeps the quotes as part of the fallback command",
            );
        }
        value
    };
    if command.is_empty() {
        d.invalid(line, "fallbackcommand", value, "no command given");
        return None;
    }
    Some(Shared::FallbackCommand(command.to_owned()))
}

/// Recipient list; one pair of enclosing quotes is removed.
fn email_alert(d: &mut Diagnostics, line: usize, value: &str) -> Option<String> {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| !v.contains('"'))
        .unwrap_or(value);
    if inner.is_empty() {
        d.invalid(line, "emailalert", value, "no address given");
        return None;
    }
    Some(inner.to_owned())
}

/// ldirectord wants the digits right after `=` here, unlike the other numbers.
fn email_freq(d: &mut Diagnostics, line: usize, value: &str) -> Option<u32> {
    if !value.starts_with(|c: char| c.is_ascii_digit()) {
        d.invalid(
            line,
            "emailalertfreq",
            value,
            "expected a number of seconds",
        );
        return None;
    }
    number(d, line, "emailalertfreq", value, false)
}

fn alert_status(d: &mut Diagnostics, line: usize, value: &str) -> Option<AlertStatus> {
    let mut words: Vec<&str> = value.split(',').collect();
    let last = words.len() - 1;
    for (i, w) in words.iter_mut().enumerate() {
        // `\s*,\s*` only eats whitespace next to commas.
        if i > 0 {
            *w = w.trim_start_matches(is_space);
        }
        if i < last {
            *w = w.trim_end_matches(is_space);
        }
    }
    while words.last().is_some_and(|w| w.is_empty()) {
        words.pop();
    }
    let none = words.contains(&"none");
    let mut bits = 0;
    for w in words.iter().filter(|w| **w != "none") {
        bits |= match *w {
            "all" => AlertStatus::ALL.0,
            "starting" => AlertStatus::STARTING.0,
            "running" => AlertStatus::RUNNING.0,
            "stopping" => AlertStatus::STOPPING.0,
            "reloading" => AlertStatus::RELOADING.0,
            _ => {
                d.invalid(
                    line,
                    "emailalertstatus",
                    w,
                    "expected all, none, starting, running, stopping or reloading",
                );
                return None;
            }
        };
        if none {
            d.invalid(
                line,
                "emailalertstatus",
                value,
                "`none` cannot be combined with other states",
            );
            return None;
        }
    }
    Some(AlertStatus(bits))
}

/// A host name or address, unquoted in ldirectord; quotes are accepted with a warning
/// (the manual shows them, and ldirectord then rejects the line).
///
/// ldirectord keeps only the leading run of host-name characters, so it reads
/// `mail:2525` as `mail` and `2001:db8::25` as `2001`, and rejects `[2001:db8::25]:2525`.
/// Here every form [`smtp_server`] reads is kept whole (with a note saying ldirectord
/// differs); anything else is read as ldirectord reads it.
fn smtp(d: &mut Diagnostics, line: usize, value: &str) -> Option<String> {
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.split_once('"'))
        .map(|(inner, _)| inner);
    if let Some(inner) = unquoted {
        d.note(
            line,
            "ldirectord rejects a quoted smtp server; write it unquoted",
        );
        if smtp_server(inner).is_some() {
            return Some(inner.to_owned());
        }
    }
    let server_char = |c: char| smtp_host_char(c) || "[]:".contains(c);
    if let Some(server) = first_run(value, server_char)
        .filter(|run| value.starts_with(run) && run.contains(':') && smtp_server(run).is_some())
    {
        let ldirectord_reads = first_run(server, smtp_host_char).filter(|h| server.starts_with(h));
        d.note(
            line,
            match ldirectord_reads {
                Some(host) => format!(
                    "ldirectord uses only `{host}` of the smtp server `{server}`; lvsctl uses the address and port as written"
                ),
                None => format!(
                    "ldirectord rejects the smtp server `{server}`; lvsctl uses the address and port as written"
                ),
            },
        );
        warn_junk(d, line, "smtp", value, server);
        return Some(server.to_owned());
    }
    match first_run(value, smtp_host_char) {
        Some(host) if value.starts_with(host) => {
            warn_junk(d, line, "smtp", value, host);
            Some(host.to_owned())
        }
        _ => {
            d.invalid(line, "smtp", value, "expected a host name or address");
            None
        }
    }
}

/// The characters of a host name or IPv4 address in `smtp=` (ldirectord's class).
fn smtp_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._+-".contains(c)
}

/// The host and port an `smtp=` server names: `host`, `host:port`, an IPv6 address alone
/// (its colons are not a port), or `[IPv6]` with an optional `:port`. The port is 25 (SMTP)
/// unless given; the host comes without brackets, ready to resolve or parse as an address.
pub fn smtp_server(text: &str) -> Option<(&str, u16)> {
    const SMTP_PORT: u16 = 25;
    let port = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| p.parse::<u16>().ok())
            .flatten()
            .filter(|p| *p > 0)
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return match after {
            "" => Some((host, SMTP_PORT)),
            _ => Some((host, port(after.strip_prefix(':')?)?)),
        };
    }
    if text.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some((text, SMTP_PORT));
    }
    let (host, given) = match text.split_once(':') {
        Some((host, p)) => (host, port(p)?),
        None => (text, SMTP_PORT),
    };
    (!host.is_empty() && host.chars().all(smtp_host_char)).then_some((host, given))
}
