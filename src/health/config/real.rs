//! `real=` / `real6=` lines (docs/ldirectord-compat.md, Real and fallback lines):
//! `ADDR[->ADDR][:PORT] METHOD [WEIGHT] ["REQUEST", "RECEIVE"] [l:LOWER] [u:UPPER]`.
//!
//! ldirectord finds each part with its own unanchored pattern, so text it does not expect is
//! sometimes skipped silently (`u:100 l:10` loses the upper threshold, quoted thresholds
//! become a request/receive pair). We find the parts the same way, so the same file means
//! the same servers, and warn about everything that was skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::block::with_slash;
use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::env::ParseEnv;
use super::model::{Forward, RealServer};
use crate::ipvs::model::AddressFamily;
use crate::names::Family;

/// Ranges larger than this are refused rather than expanded (a typo such as
/// `10.0.0.1->10.9.0.1` would otherwise create hundreds of thousands of reals).
pub const MAX_RANGE: u32 = 65_536;

const ADDR: &str = r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]";
const WS: &str = r"[ \t\r\n\x0B\x0C]";

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static HEAD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        r"({ADDR})(?:->({ADDR}))?(?::([0-9]+|[A-Za-z0-9_-]+))?{WS}+(.*)"
    ))
});
static METHOD: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"([A-Za-z0-9_]+)(.*)"));
static WEIGHT: LazyLock<Option<Regex>> = LazyLock::new(|| re(&format!(r"{WS}+([0-9]+)(.*)")));
static STRINGS: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(&format!(r#"{WS}+"(.*)"[, ]{WS}*"(.*)"(.*)"#)));
static LOWER: LazyLock<Option<Regex>> = LazyLock::new(|| re(&format!(r"{WS}+l:([0-9]+)(.*)")));
static UPPER: LazyLock<Option<Regex>> = LazyLock::new(|| re(&format!(r"{WS}+u:([0-9]+)(.*)")));

/// Applies `pattern` to `text` the way Perl's unanchored `=~` does, warning about any
/// non-blank text before the match. Returns the captures as owned strings (group 1..).
fn step(
    d: &mut Diagnostics,
    line: usize,
    pattern: &LazyLock<Option<Regex>>,
    text: &str,
) -> Option<Vec<Option<String>>> {
    let caps = pattern.as_ref()?.captures(text)?;
    let start = caps.get(0).map_or(0, |m| m.start());
    let skipped = text[..start].trim();
    if !skipped.is_empty() {
        let threshold = caps
            .get(0)
            .is_some_and(|m| m.as_str().trim_start().starts_with("l:"));
        let kind = if skipped.contains("u:") && threshold {
            WarningKind::ThresholdOrder(skipped.to_owned())
        } else {
            WarningKind::IgnoredText(skipped.to_owned())
        };
        d.warn(line, kind);
    }
    Some(
        caps.iter()
            .skip(1)
            .map(|m| m.map(|m| m.as_str().to_owned()))
            .collect(),
    )
}

/// Parses one `real=` value into one server per address.
pub fn parse_real(
    d: &mut Diagnostics,
    env: &dyn ParseEnv,
    line: usize,
    family: AddressFamily,
    value: &str,
) -> Vec<RealServer> {
    let Some(head) = step(d, line, &HEAD, value) else {
        d.error(
            line,
            ErrorKind::Real(format!(
                "{value:?} does not look like ADDRESS[:PORT] METHOD (is the forwarding method missing?)"
            )),
        );
        return Vec::new();
    };
    let [first, last, port, flags] = [0, 1, 2, 3].map(|i| head.get(i).cloned().flatten());
    let (Some(first), Some(flags)) = (first, flags) else {
        return Vec::new();
    };
    let Some(template) = parse_flags(d, line, &flags) else {
        return Vec::new();
    };
    let Some(port) = resolve_port(d, env, line, port.as_deref()) else {
        return Vec::new();
    };
    let Some(start) = resolve_addr(d, env, line, family, &first) else {
        return Vec::new();
    };
    let addrs = match last {
        None => vec![start],
        Some(last) => {
            let Some(end) = resolve_addr(d, env, line, family, &last) else {
                return Vec::new();
            };
            expand_range(d, line, start, end)
        }
    };
    addrs
        .into_iter()
        .map(|addr| RealServer {
            addr,
            port,
            ..template.clone()
        })
        .collect()
}

fn parse_flags(d: &mut Diagnostics, line: usize, flags: &str) -> Option<RealServer> {
    let bad_method = |d: &mut Diagnostics| {
        d.error(
            line,
            ErrorKind::Real("forwarding method must be gate, masq or ipip".to_owned()),
        );
    };
    let Some(m) = step(d, line, &METHOD, flags) else {
        bad_method(d);
        return None;
    };
    let Some(forward) = m[0].as_deref().and_then(Forward::from_keyword) else {
        bad_method(d);
        return None;
    };
    let mut rest = m[1].clone().unwrap_or_default();
    let mut real = RealServer {
        line,
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: 0,
        forward,
        weight: 1,
        request: None,
        receive: None,
        lower_threshold: 0,
        upper_threshold: 0,
        check_port: None,
        checks: Vec::new(),
        inhibit: None,
    };
    if let Some(w) = step(d, line, &WEIGHT, &rest) {
        real.weight = count(d, line, "weight", w[0].as_deref())?;
        if real.weight > 65_535 {
            d.note(line, "weights above 65535 are rejected by ipvsadm");
        }
        rest = w[1].clone().unwrap_or_default();
    }
    if let Some(s) = step(d, line, &STRINGS, &rest) {
        let (req, recv) = (
            s[0].clone().unwrap_or_default(),
            s[1].clone().unwrap_or_default(),
        );
        if is_threshold(&req) && is_threshold(&recv) {
            d.warn(
                line,
                WarningKind::QuotedThresholds {
                    request: req.clone(),
                    receive: recv.clone(),
                },
            );
        }
        real.request = Some(with_slash(req));
        real.receive = Some(recv);
        rest = s[2].clone().unwrap_or_default();
    }
    if let Some(l) = step(d, line, &LOWER, &rest) {
        real.lower_threshold = count(d, line, "l:", l[0].as_deref())?;
        rest = l[1].clone().unwrap_or_default();
    }
    if let Some(u) = step(d, line, &UPPER, &rest) {
        real.upper_threshold = count(d, line, "u:", u[0].as_deref())?;
        rest = u[1].clone().unwrap_or_default();
    }
    if !rest.trim().is_empty() {
        d.error(
            line,
            ErrorKind::Real(format!("unexpected text {:?}", rest.trim())),
        );
        return None;
    }
    Some(real)
}

fn is_threshold(s: &str) -> bool {
    s.strip_prefix("l:")
        .or_else(|| s.strip_prefix("u:"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn count(d: &mut Diagnostics, line: usize, what: &str, digits: Option<&str>) -> Option<u32> {
    let parsed = digits.and_then(|s| s.parse().ok());
    if parsed.is_none() {
        d.error(line, ErrorKind::Real(format!("{what} value out of range")));
    }
    parsed
}

fn resolve_port(
    d: &mut Diagnostics,
    env: &dyn ParseEnv,
    line: usize,
    port: Option<&str>,
) -> Option<u16> {
    let Some(port) = port else { return Some(0) };
    let resolved = if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse::<u16>().ok()
    } else {
        env.names().service_port(port, "")
    };
    if resolved.is_none() {
        d.error(
            line,
            ErrorKind::Resolve {
                what: "real server port",
                name: port.to_owned(),
            },
        );
    }
    resolved
}

/// A dotted quad, `[v6]` or host name, in the block's family.
pub fn resolve_addr(
    d: &mut Diagnostics,
    env: &dyn ParseEnv,
    line: usize,
    family: AddressFamily,
    text: &str,
) -> Option<IpAddr> {
    let resolved = literal_or_name(env, family, text);
    if resolved.is_none() {
        d.error(
            line,
            ErrorKind::Resolve {
                what: match family {
                    AddressFamily::Inet => "IPv4 address",
                    AddressFamily::Inet6 => "IPv6 address",
                },
                name: text.to_owned(),
            },
        );
    }
    resolved
}

/// Literals are parsed here (and must be of `family`); names go to the environment.
pub fn literal_or_name(env: &dyn ParseEnv, family: AddressFamily, text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let literal = if bare.contains(':') {
        bare.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else if looks_dotted(bare) {
        bare.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    } else if bare.is_empty() {
        return None;
    } else {
        let family = match family {
            AddressFamily::Inet => Family::V4,
            AddressFamily::Inet6 => Family::V6,
        };
        return env.names().host_addr(bare, family);
    };
    literal.filter(|ip| AddressFamily::of(ip) == family)
}

fn looks_dotted(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.contains('.')
}

fn expand_range(d: &mut Diagnostics, line: usize, start: IpAddr, end: IpAddr) -> Vec<IpAddr> {
    let (IpAddr::V4(a), IpAddr::V4(b)) = (start, end) else {
        d.error(
            line,
            ErrorKind::Real("address ranges are not supported for IPv6".to_owned()),
        );
        return Vec::new();
    };
    let (a, b) = (u32::from(a), u32::from(b));
    if a > b {
        d.error(
            line,
            ErrorKind::Real(format!("range {start}->{end} runs backwards")),
        );
        return Vec::new();
    }
    if b - a >= MAX_RANGE {
        d.error(
            line,
            ErrorKind::Real(format!(
                "range {start}->{end} has more than {MAX_RANGE} addresses"
            )),
        );
        return Vec::new();
    }
    (a..=b).map(|n| IpAddr::V4(Ipv4Addr::from(n))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        for p in [&HEAD, &METHOD, &WEIGHT, &STRINGS, &LOWER, &UPPER] {
            assert!(p.is_some());
        }
    }
}
