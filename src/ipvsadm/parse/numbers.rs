//! The C library's number and address readers, reproduced exactly as glibc behaves.
//!
//! ipvsadm validates with `strtol`, `atoi`, `inet_aton` and `inet_pton`; what they accept
//! (leading blanks, `+`, octal/hex IPv4 parts, `127.1`, trailing garbage after a blank…)
//! is what users' scripts rely on, so these are faithful re-implementations, not
//! "sensible" parsers.

/// C `isspace` in the C locale.
const fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Result of C `strtol(s, &end, 10)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strtol {
    /// The value, saturated at the `long` range on overflow.
    pub value: i64,
    /// Whether any digit was read (`end != s`).
    pub digits: bool,
    /// Whether the number overflowed (`errno == ERANGE`).
    pub overflow: bool,
    /// Whether the whole string was consumed (`*end == '\0'`, given digits).
    pub complete: bool,
}

/// What C's `strtol` and `strtoul` share: leading blanks, one optional sign, then digits
/// in base 10, or with base 0 in the base their prefix says (`0x` hexadecimal, `0` octal).
/// Over bytes, not text: keepalived's checkers read their numbers out of a socket buffer
/// or a file the same way (crate::health::check::keepalived_http,
/// crate::health::state::keepalived_file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CInteger {
    pub negative: bool,
    /// The digits' value; None when it does not fit in 64 bits.
    pub magnitude: Option<u64>,
    /// Whether any digit was read.
    pub digits: bool,
    /// Where reading stopped: after the last digit, or 0 without digits (C's `end == s`).
    pub end: usize,
}

/// The base C's reader is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CBase {
    Ten,
    /// Base 0: the prefix decides (`0x` with a hex digit after it, `0`, else decimal).
    Prefixed,
}

/// Reads `bytes` as C's `strto[u]l(s, &end, 10)` does, before the sign is applied.
pub fn c_decimal(bytes: &[u8]) -> CInteger {
    c_integer(bytes, CBase::Ten)
}

/// Reads `bytes` as C's `strto[u]l(s, &end, base)` does, before the sign is applied.
pub fn c_integer(bytes: &[u8], base: CBase) -> CInteger {
    let mut i = bytes.iter().take_while(|b| is_c_space(**b)).count();
    let negative = match bytes.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let radix: u32 = match (base, bytes.get(i..)) {
        (CBase::Prefixed, Some([b'0', b'x' | b'X', h, ..])) if h.is_ascii_hexdigit() => {
            i += 2;
            16
        }
        (CBase::Prefixed, Some([b'0', ..])) => 8,
        _ => 10,
    };
    let start = i;
    let mut magnitude = Some(0u64);
    while let Some(d) = bytes.get(i).and_then(|b| char::from(*b).to_digit(radix)) {
        magnitude = magnitude
            .and_then(|m| m.checked_mul(u64::from(radix)))
            .and_then(|m| m.checked_add(u64::from(d)));
        i += 1;
    }
    // "0x1" read in base 0 started its digits after the prefix; a lone "0" is a digit.
    let digits = i > start;
    CInteger {
        negative,
        magnitude,
        digits,
        end: if digits { i } else { 0 },
    }
}

/// C `strtol` with base 10: leading blanks, an optional sign, decimal digits.
pub fn strtol(s: &str) -> Strtol {
    let n = c_decimal(s.as_bytes());
    let limit = if n.negative {
        i64::MAX.unsigned_abs() + 1
    } else {
        i64::MAX.unsigned_abs()
    };
    let magnitude = n.magnitude.filter(|m| *m <= limit);
    let value = match (magnitude, n.negative) {
        (None, true) => i64::MIN,
        (None, false) => i64::MAX,
        (Some(m), true) => 0i64.wrapping_sub_unsigned(m),
        (Some(m), false) => i64::try_from(m).unwrap_or(i64::MAX),
    };
    Strtol {
        value,
        digits: n.digits,
        overflow: magnitude.is_none(),
        complete: n.digits && n.end == s.len(),
    }
}

/// ipvsadm's `string_to_number`: the whole string is one decimal number in `min..=max`.
pub fn number_in(s: &str, min: i64, max: i64) -> Option<i64> {
    let r = strtol(s);
    (r.complete && !r.overflow && (min..=max).contains(&r.value)).then_some(r.value)
}

/// ipvsadm's fwmark reader: a whole decimal number in 1..=4294967295.
pub fn fwmark(s: &str) -> Option<u32> {
    let r = strtol(s);
    if !r.complete || r.overflow {
        return None;
    }
    u32::try_from(r.value).ok().filter(|m| *m != 0)
}

/// C `atoi`: `(int) strtol(s, NULL, 10)`, trailing garbage ignored, truncated to 32 bits.
pub fn atoi(s: &str) -> i32 {
    strtol(s).value as i32
}

/// glibc `inet_aton`: one to four parts separated by dots, each decimal, octal (`0…`) or
/// hex (`0x…`); the last part fills the remaining bytes; anything after a blank is
/// ignored. Returns the address bytes in network order.
pub fn inet_aton(s: &str) -> Option<[u8; 4]> {
    let bytes = s.as_bytes();
    // At most three dotted parts before the last (no allocation: called per address).
    let mut parts = [0u32; 3];
    let mut count = 0;
    let mut i = 0;
    let last = loop {
        if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (value, used) = c_unsigned(&bytes[i..])?;
        i += used;
        if bytes.get(i) == Some(&b'.') {
            if count > 2 || value > 0xff {
                return None;
            }
            parts[count] = value;
            count += 1;
            i += 1;
        } else {
            break value;
        }
    };
    if bytes.get(i).is_some_and(|b| !is_c_space(*b)) {
        return None;
    }
    let max_last: u32 = match count {
        0 => u32::MAX,
        1 => 0x00ff_ffff,
        2 => 0xffff,
        _ => 0xff,
    };
    if last > max_last {
        return None;
    }
    let mut word = last;
    for (n, part) in parts[..count].iter().enumerate() {
        word |= part << (24 - 8 * n);
    }
    Some(word.to_be_bytes())
}

/// `strtoul(s, &end, 0)` as `inet_aton` uses it, limited to 32 bits: value and the
/// number of bytes consumed. `s` starts with a digit.
fn c_unsigned(s: &[u8]) -> Option<(u32, usize)> {
    let (radix, skip) = match s {
        [b'0', b'x' | b'X', h, ..] if h.is_ascii_hexdigit() => (16, 2),
        [b'0', ..] => (8, 0),
        _ => (10, 0),
    };
    let digits = s[skip..]
        .iter()
        .take_while(|b| char::from(**b).is_digit(radix))
        .count();
    let mut value: u64 = 0;
    for b in &s[skip..skip + digits] {
        let d = char::from(*b).to_digit(radix).unwrap_or(0);
        value = value
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(d));
    }
    let value = u32::try_from(value).ok()?;
    Some((value, skip + digits))
}

/// glibc `inet_pton(AF_INET, …)`: exactly four decimal parts 0..=255, no leading zeros.
pub fn inet_pton4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut count = 0;
    for part in s.split('.') {
        if count == 4
            || part.is_empty()
            || part.len() > 3
            || !part.bytes().all(|b| b.is_ascii_digit())
            || (part.len() > 1 && part.starts_with('0'))
        {
            return None;
        }
        out[count] = part.parse().ok()?;
        count += 1;
    }
    (count == 4).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_zero_reads_the_prefix_as_c_does() {
        let read = |s: &str| {
            let n = c_integer(s.as_bytes(), CBase::Prefixed);
            (n.negative, n.magnitude, n.digits, n.end)
        };
        assert_eq!(read(" -0x1f;"), (true, Some(31), true, 6));
        assert_eq!(read("010"), (false, Some(8), true, 3));
        assert_eq!(
            read("0xg"),
            (false, Some(0), true, 1),
            "0 then an x that is not a prefix"
        );
        assert_eq!(read("09"), (false, Some(0), true, 1), "9 is not octal");
        assert_eq!(read("x"), (false, Some(0), false, 0));
        assert_eq!(read("99999999999999999999"), (false, None, true, 20));
    }

    #[test]
    fn strtol_accepts_what_c_accepts() {
        assert_eq!(number_in(" +6", 0, 10), Some(6));
        assert_eq!(number_in("007", 0, 10), Some(7));
        assert_eq!(number_in("-0", 0, 10), Some(0));
        for bad in ["", " ", "+", "0x10", "1.5", "5x", "5 ", "-1"] {
            assert_eq!(number_in(bad, 0, 10), None, "{bad:?}");
        }
        assert_eq!(number_in("99999999999999999999", 0, i64::MAX), None);
    }

    #[test]
    fn fwmark_range() {
        assert_eq!(fwmark("4294967295"), Some(u32::MAX));
        assert_eq!(fwmark(" +7"), Some(7));
        for bad in ["0", "-1", "-0", "4294967296", "0x10", "1x", ""] {
            assert_eq!(fwmark(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn atoi_truncates_like_c() {
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(" 64x"), 64);
        assert_eq!(atoi("4294967360"), 64);
        assert_eq!(atoi("-5"), -5);
    }

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("127.1"), Some([127, 0, 0, 1]));
        assert_eq!(inet_aton("0x7f000002"), Some([127, 0, 0, 2]));
        assert_eq!(inet_aton("01.002.3.0x12"), Some([1, 2, 3, 18]));
        assert_eq!(inet_aton("10"), Some([0, 0, 0, 10]));
        assert_eq!(inet_aton("24"), Some([0, 0, 0, 24]));
        assert_eq!(inet_aton("255.255"), Some([255, 0, 0, 255]));
        assert_eq!(inet_aton("1.2.3.4 x"), Some([1, 2, 3, 4]));
        assert_eq!(inet_aton("1.2.3.4\t"), Some([1, 2, 3, 4]));
        for bad in [
            "",
            "1.",
            "1.2.3.4.",
            "08",
            "0x",
            "256.1",
            "1.2.3.256",
            "a",
            " 1",
            "1.2.3.4x",
            "4294967296",
        ] {
            assert_eq!(inet_aton(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn inet_pton4_is_strict() {
        assert_eq!(inet_pton4("224.0.0.1"), Some([224, 0, 0, 1]));
        for bad in [
            "224.0.0.01",
            "224.0.0",
            "224.0.0.1.2",
            "224.0.0.256",
            "0x1.0.0.0",
            "",
        ] {
            assert_eq!(inet_pton4(bad), None, "{bad:?}");
        }
    }
}
