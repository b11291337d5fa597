//! Byte-level field parsing for the IPVS proc files.
//!
//! The kernel prints these files with fixed `printf` formats (hex ports, 8-hex-digit
//! host-order IPv4 addresses, uncompressed IPv6 text), so parsing works on raw bytes and never
//! allocates: a million-row connection table must not cost a million temporary strings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whitespace-separated fields of one line, with access to the unparsed rest (the PE data
/// column is free text printed last, so it is taken verbatim rather than split).
#[derive(Debug, Clone)]
pub(super) struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub(super) fn new(line: &'a [u8]) -> Self {
        Self { line, pos: 0 }
    }

    fn skip_blanks(&mut self) {
        while self.pos < self.line.len() && self.line[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// The rest of the line after the current position, blanks trimmed at both ends.
    pub(super) fn rest(&mut self) -> &'a [u8] {
        self.skip_blanks();
        self.line[self.pos..].trim_ascii_end()
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        self.skip_blanks();
        let start = self.pos;
        while self.pos < self.line.len() && !self.line[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.line[start..self.pos])
    }
}

/// An unsigned hex number of 1..=`max_digits` digits (no prefix, either case).
pub(super) fn hex(field: &[u8], max_digits: usize) -> Option<u64> {
    if field.is_empty() || field.len() > max_digits {
        return None;
    }
    field.iter().try_fold(0u64, |acc, &b| {
        let digit = (b as char).to_digit(16)?;
        Some((acc << 4) | u64::from(digit))
    })
}

/// A port as `%04X` prints it.
pub(super) fn hex_port(field: &[u8]) -> Option<u16> {
    hex(field, 4).map(|v| v as u16)
}

/// An unsigned decimal number that fits in u64.
pub(super) fn decimal(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 20 {
        return None;
    }
    field.iter().try_fold(0u64, |acc, &b| {
        let digit = (b as char).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// An address column: `%08X` of the host-order IPv4 address, or `%pI6` text for IPv6
/// (always the full uncompressed form from the kernel; compressed text is accepted too so
/// hand-written fixtures stay readable).
pub(super) fn address(field: &[u8]) -> Option<IpAddr> {
    if field.len() == 8 && !field.contains(&b':') {
        return hex(field, 8).map(|v| IpAddr::V4(Ipv4Addr::from(v as u32)));
    }
    if field.len() == 39
        && let Some(v6) = full_ipv6(field)
    {
        return Some(IpAddr::V6(v6));
    }
    std::str::from_utf8(field)
        .ok()?
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

/// Fast path for the kernel's `xxxx:xxxx:...:xxxx` (8 groups of 4 digits).
fn full_ipv6(field: &[u8]) -> Option<Ipv6Addr> {
    let mut segments = [0u16; 8];
    for (i, segment) in segments.iter_mut().enumerate() {
        let start = i * 5;
        if i > 0 && field[start - 1] != b':' {
            return None;
        }
        *segment = hex(&field[start..start + 4], 4)? as u16;
    }
    Some(Ipv6Addr::from(segments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_on_any_blank_and_keep_the_rest_verbatim() {
        let mut f = Fields::new(b"TCP  a\tb   rest of  line  ");
        assert_eq!(f.next(), Some(&b"TCP"[..]));
        assert_eq!(f.next(), Some(&b"a"[..]));
        assert_eq!(f.next(), Some(&b"b"[..]));
        assert_eq!(f.rest(), b"rest of  line");
        assert_eq!(f.next(), Some(&b"rest"[..]));
        let mut empty = Fields::new(b"   ");
        assert_eq!(empty.next(), None);
        assert_eq!(empty.rest(), b"");
    }

    #[test]
    fn hex_rejects_empty_overlong_and_non_hex() {
        assert_eq!(hex(b"1F90", 4), Some(0x1f90));
        assert_eq!(hex(b"ff", 4), Some(0xff));
        assert_eq!(hex(b"", 4), None);
        assert_eq!(hex(b"12345", 4), None);
        assert_eq!(hex(b"12G4", 4), None);
        assert_eq!(hex(b"FFFFFFFFFFFFFFFF", 16), Some(u64::MAX));
    }

    #[test]
    fn decimal_rejects_overflow_and_signs() {
        assert_eq!(decimal(b"995"), Some(995));
        assert_eq!(decimal(b"-1"), None);
        assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal(b"18446744073709551616"), None);
    }

    #[test]
    fn addresses_in_every_kernel_form() {
        assert_eq!(
            address(b"0A090901"),
            Some("10.9.9.1".parse().ok()).flatten()
        );
        assert_eq!(address(b"7F000001"), "127.0.0.1".parse().ok());
        assert_eq!(
            address(b"2001:0db8:0009:0000:0000:0000:0000:0001"),
            "2001:db8:9::1".parse().ok()
        );
        assert_eq!(address(b"2001:db8:9::7"), "2001:db8:9::7".parse().ok());
        assert_eq!(address(b"0A0909"), None);
        assert_eq!(address(b"0A09090Z"), None);
        assert_eq!(address(b"2001:0db8:0009:0000:0000:0000:0000:000g"), None);
    }
}
