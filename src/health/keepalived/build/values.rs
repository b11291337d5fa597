//! keepalived's readers for numbers, times, booleans and addresses, with its ranges and
//! its leniencies (a number may start with blanks or `+`; an empty one is 0; a time may
//! have up to six decimals).

use std::net::IpAddr;
use std::time::Duration;

use super::super::lexer::text::is_white;

/// An unsigned number in `min..=max`.
pub fn unsigned(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let t = s.trim_start_matches(|c: char| c.is_ascii() && is_white(c as u8));
    if t.starts_with('-') {
        return Err(format!("negative number {s:?}"));
    }
    let value = match parse_digits(plus(t)) {
        Ok(v) if u32::try_from(v).is_ok() => v,
        Err(Digits::NotDigits) => return Err(format!("invalid number {s:?}")),
        _ => return Err(format!("number {s:?} outside the unsigned integer range")),
    };
    in_range(s, value, min, max)
}

/// A signed number in `min..=max` (32-bit).
pub fn signed(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let t = s.trim_start_matches(|c: char| c.is_ascii() && is_white(c as u8));
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, plus(t)),
    };
    let value = match parse_digits(digits) {
        Err(Digits::NotDigits) => return Err(format!("invalid number {s:?}")),
        Ok(m) => i64::try_from(m)
            .ok()
            .map(|m| if negative { -m } else { m })
            .filter(|v| i32::try_from(*v).is_ok()),
        Err(Digits::TooLarge) => None,
    }
    .ok_or_else(|| format!("number {s:?} outside the integer range"))?;
    if value < min || value > max {
        return Err(format!("number {s:?} outside the range [{min}, {max}]"));
    }
    Ok(value)
}

/// Drops a leading `+` that has digits after it (a lone `+` is no number).
fn plus(t: &str) -> &str {
    match t.strip_prefix('+') {
        Some(d) if !d.is_empty() => d,
        _ => t,
    }
}

/// Why a digit string is no number.
enum Digits {
    NotDigits,
    TooLarge,
}

/// Decimal digits (empty is 0).
fn parse_digits(digits: &str) -> Result<u64, Digits> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Digits::NotDigits);
    }
    if digits.is_empty() {
        return Ok(0);
    }
    digits.parse::<u64>().map_err(|_| Digits::TooLarge)
}

fn in_range(s: &str, value: u64, min: u64, max: u64) -> Result<u64, String> {
    if value < min || value > max {
        return Err(format!("number {s:?} outside the range [{min}, {max}]"));
    }
    Ok(value)
}

/// A time in seconds with up to six decimals, at least `min_us` microseconds (and at most
/// `max_us` when given). More decimals are rounded, and reported: the second value.
pub fn timer(
    s: &str,
    min_us: u64,
    max_us: Option<u64>,
) -> Result<(Duration, Option<String>), String> {
    if s.starts_with('-') {
        return Err(format!("negative number {s:?}"));
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut note = None;
    let mut round_up = false;
    let frac = if frac.len() > 6 {
        note = Some(format!("number {s:?} has more than 6 decimals; rounded"));
        round_up = frac.as_bytes()[6] >= b'5';
        &frac[..6]
    } else {
        frac
    };
    let joined = format!("{whole}{frac:0<6}");
    let t = joined.trim_start_matches(|c: char| c.is_ascii() && is_white(c as u8));
    let digits = plus(t);
    let micros = match parse_digits(digits) {
        Ok(v) => v.saturating_add(u64::from(round_up)),
        Err(Digits::NotDigits) => return Err(format!("invalid number {s:?}")),
        Err(Digits::TooLarge) => return Err(format!("number {s:?} too large")),
    };
    let max = max_us.unwrap_or(u64::MAX - 1);
    if micros < min_us || micros > max {
        return Err(format!(
            "number {s:?} outside the range [{}, {}]",
            seconds(min_us),
            seconds(max)
        ));
    }
    Ok((Duration::from_micros(micros), note))
}

fn seconds(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// `true`/`on`/`yes` or `false`/`off`/`no`.
pub fn boolean(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// keepalived's address reader: the family is IPv6 when there is a `:`; anything from a
/// `-` or `/` on is ignored; no host names. Port 1-65535 when given; a port of only zeros
/// means none (0).
pub fn address(ip: &str, port: Option<&str>) -> Result<(IpAddr, u16), String> {
    let port = match port {
        Some(p) if p.bytes().any(|b| b != b'0') => {
            u16::try_from(unsigned(p, 1, 65535)?).map_err(|_| format!("invalid port {p:?}"))?
        }
        _ => 0,
    };
    let bare = ip.split(['-', '/']).next().unwrap_or(ip);
    let addr: IpAddr = if ip.contains(':') {
        bare.parse::<std::net::Ipv6Addr>().map(IpAddr::V6)
    } else {
        bare.parse::<std::net::Ipv4Addr>().map(IpAddr::V4)
    }
    .map_err(|_| format!("invalid address {ip:?}"))?;
    Ok((addr, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_numbers_are_lenient_at_the_start_only() {
        assert_eq!(unsigned(" +5", 0, 10), Ok(5));
        assert_eq!(unsigned("", 0, 10), Ok(0));
        assert!(unsigned("5x", 0, 10).is_err());
        assert!(unsigned("-1", 0, 10).is_err());
        assert!(unsigned("11", 0, 10).is_err());
        assert!(unsigned("4294967296", 0, u64::MAX).is_err());
        assert_eq!(signed("-254", -254, 254), Ok(-254));
        assert!(signed("255", -254, 254).is_err());
    }

    #[test]
    fn timers_take_six_decimals_and_round_beyond() {
        assert_eq!(timer("6", 1, None), Ok((Duration::from_secs(6), None)));
        assert_eq!(
            timer("1.5", 1, None),
            Ok((Duration::from_millis(1500), None))
        );
        assert_eq!(
            timer(".25", 0, None).map(|t| t.0),
            Ok(Duration::from_millis(250))
        );
        let (d, note) = timer("0.0000005", 0, None).expect("rounded");
        assert_eq!(d, Duration::from_micros(1));
        assert!(note.is_some());
        assert!(timer("0", 1, None).is_err());
        assert!(timer("x", 0, None).is_err());
        assert!(timer("-1", 0, None).is_err());
    }

    #[test]
    fn addresses_are_literals_with_optional_ports() {
        assert_eq!(
            address("10.0.0.1", Some("80")),
            Ok(("10.0.0.1".parse().expect("ip"), 80))
        );
        assert_eq!(
            address("10.0.0.1-20", Some("000")),
            Ok(("10.0.0.1".parse().expect("ip"), 0))
        );
        assert_eq!(address("2001:db8::1", None).map(|a| a.1), Ok(0));
        assert!(address("www.example.com", Some("80")).is_err());
        assert!(address("10.0.0.1", Some("65536")).is_err());
        assert!(address("10.0.0.1", Some("http")).is_err());
    }
}
