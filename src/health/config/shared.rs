//! Directives that may appear both at top level and inside a virtual block (the block value
//! overrides the global one). Parsed once here so both places accept exactly the same text.

use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::fallback::{FallbackSpec, parse_fallback};
use super::model::AlertStatus;
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
fn smtp(d: &mut Diagnostics, line: usize, value: &str) -> Option<String> {
    let host_char = |c: char| c.is_ascii_alphanumeric() || "._+-".contains(c);
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.split_once('"'))
        .map(|(inner, _)| inner);
    if let Some(inner) = unquoted {
        d.note(
            line,
            "ldirectord rejects a quoted smtp server; write it unquoted",
        );
        if !inner.is_empty() && inner.chars().all(host_char) {
            return Some(inner.to_owned());
        }
    }
    match first_run(value, host_char) {
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
