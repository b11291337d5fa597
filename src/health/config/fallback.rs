//! `fallback=` / `fallback6=`: `HOST[:PORT] [gate|masq|ipip]` (docs/ldirectord-compat.md,
//! Real and fallback lines).
//!
//! Only the syntax is read here; the host and port are resolved once the virtual's protocol
//! is known (or, for the global form, for every protocol it may be applied to).

use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::model::Forward;

/// A fallback as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackSpec {
    /// Host name, dotted quad or `[v6]`.
    pub host: String,
    /// Port number or service name; None = use the virtual's port.
    pub port: Option<String>,
    pub forward: Forward,
    pub line: usize,
}

/// ldirectord reads the *last two* whitespace-separated words as server and method; we do
/// the same and warn about anything before them.
pub fn parse_fallback(
    d: &mut Diagnostics,
    line: usize,
    directive: &str,
    value: &str,
) -> Option<FallbackSpec> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let (server, method) = match words.as_slice() {
        [] => {
            d.error(line, ErrorKind::Fallback("no server given".to_owned()));
            return None;
        }
        [server] => (*server, None),
        [skipped @ .., server, method] => {
            if !skipped.is_empty() {
                d.warn(line, WarningKind::IgnoredText(skipped.join(" ")));
            }
            (*server, Some(*method))
        }
    };
    let forward = match method {
        None => Forward::Gate,
        Some(m) => {
            let Some(f) = Forward::from_keyword(m) else {
                d.invalid(
                    line,
                    directive,
                    m,
                    "forwarding method must be gate, masq or ipip",
                );
                return None;
            };
            f
        }
    };
    let (host, port) = split_port(server);
    Some(FallbackSpec {
        host: host.to_owned(),
        port: port.map(str::to_owned),
        forward,
        line,
    })
}

/// Splits a trailing `:PORT` (digits or a service name) off `server`.
pub fn split_port(server: &str) -> (&str, Option<&str>) {
    match server.rsplit_once(':') {
        Some((host, port)) if is_port_token(port) => (host, Some(port)),
        _ => (server, None),
    }
}

/// `\d+|[A-Za-z0-9_-]+`.
pub fn is_port_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
