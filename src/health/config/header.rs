//! `virtual=` / `virtual6=` header values (docs/ldirectord-compat.md, Virtual services).
//!
//! ldirectord tries, in order: `host:port`, a bare number (firewall mark), `[v6]:port`. The
//! patterns are anchored at the start only, so trailing text (typically a comment) is
//! ignored; a dotted quad without a port therefore matches the firewall-mark form on its
//! leading digits, which we accept with a warning.

use std::net::Ipv6Addr;

use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::fallback::is_port_token;
use super::values::is_space;

/// What a header names, before name resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Host name or literal (IPv6 without brackets) and port number or service name.
    Addr {
        host: String,
        port: String,
    },
    Fwmark(u32),
}

pub fn parse_header(d: &mut Diagnostics, line: usize, six: bool, value: &str) -> Option<Target> {
    let host_len = value
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._+-".contains(c)))
        .unwrap_or(value.len());
    if let Some(after_colon) = value[host_len..].strip_prefix(':')
        && host_len > 0
        && let Some(port) = port_prefix(after_colon)
    {
        trailing(d, line, &after_colon[port.len()..]);
        return Some(Target::Addr {
            host: value[..host_len].to_owned(),
            port: port.to_owned(),
        });
    }
    let digits = value.len() - value.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        let Ok(mark) = value[..digits].parse::<u32>() else {
            d.error(line, ErrorKind::BadVirtual(value.to_owned()));
            return None;
        };
        let rest = &value[digits..];
        if rest.starts_with(['.', ':']) {
            d.warn(
                line,
                WarningKind::AddressReadAsFwmark(value.to_owned(), mark),
            );
        } else {
            trailing(d, line, rest);
        }
        return Some(Target::Fwmark(mark));
    }
    if let Some((addr, port)) = bracketed(value) {
        if !six {
            d.error(line, ErrorKind::Ipv6NeedsVirtual6);
            return None;
        }
        if addr.parse::<Ipv6Addr>().is_err() {
            d.invalid(line, "virtual6", addr, "not a valid IPv6 address");
            return None;
        }
        trailing(d, line, &value[addr.len() + port.len() + 3..]);
        return Some(Target::Addr {
            host: addr.to_owned(),
            port: port.to_owned(),
        });
    }
    d.error(line, ErrorKind::BadVirtual(value.to_owned()));
    None
}

/// The longest port token at the start of `s`.
fn port_prefix(s: &str) -> Option<&str> {
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    let token = &s[..len];
    is_port_token(token).then_some(token)
}

/// `[hex:colons]:port` at the start of `value`.
fn bracketed(value: &str) -> Option<(&str, &str)> {
    let inner = value.strip_prefix('[')?;
    let close = inner.find(']')?;
    let addr = &inner[..close];
    if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
        return None;
    }
    let port = port_prefix(inner[close + 1..].strip_prefix(':')?)?;
    Some((addr, port))
}

/// Text after the header value: fine if blank or a comment, otherwise worth a warning.
fn trailing(d: &mut Diagnostics, line: usize, rest: &str) {
    let rest = rest.trim_matches(is_space);
    if !rest.is_empty() && !rest.starts_with('#') {
        d.warn(line, WarningKind::IgnoredText(rest.to_owned()));
    }
}
