//! The "largenum" counter column of `--stats` / `--rate`: from 100,000,000 on, a value is
//! printed in K, M, G or T (powers of 1000, rounded down) unless `--exact`.
//!
//! Every field carries its own leading blank(s), so fields are simply concatenated; the
//! largest value leaves no blank at all (`18446744T18446744T`), which scripts must live with.

use std::io::Write as _;

/// Appends one counter column: K/M/G/T-scaled unless `exact`.
pub(super) fn push_largenum(line: &mut Vec<u8>, v: u64, exact: bool) {
    // Writing into a Vec<u8> cannot fail.
    let _ = if exact {
        let digits = v.to_string();
        let width = if digits.len() <= 8 {
            9
        } else {
            digits.len() + 1
        };
        write!(line, "{digits:>width$}")
    } else if v < 100_000_000 {
        write!(line, "{v:>9}")
    } else if v < 1_000_000_000 {
        write!(line, "{:>8}K", v / 1_000)
    } else if v < 100_000_000_000 {
        write!(line, "{:>8}M", v / 1_000_000)
    } else if v < 100_000_000_000_000 {
        write!(line, "{:>8}G", v / 1_000_000_000)
    } else {
        write!(line, "{:>8}T", v / 1_000_000_000_000)
    };
}

/// ipvsadm reads most destination counters with 32-bit getters from the kernel's 64-bit
/// block; on little-endian hosts that keeps the low 32 bits, so they wrap at 2^32.
pub(super) const fn low32(v: u64) -> u64 {
    v & 0xffff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(v: u64, exact: bool) -> String {
        let mut line = Vec::new();
        push_largenum(&mut line, v, exact);
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn scaling_boundaries() {
        assert_eq!(render(0, false), "        0");
        assert_eq!(render(99_999_999, false), " 99999999");
        assert_eq!(render(100_000_000, false), "  100000K");
        assert_eq!(render(999_999_999, false), "  999999K");
        assert_eq!(render(1_000_000_000, false), "    1000M");
        assert_eq!(render(99_999_999_999, false), "   99999M");
        assert_eq!(render(100_000_000_000, false), "     100G");
        assert_eq!(render(99_999_999_999_999, false), "   99999G");
        assert_eq!(render(100_000_000_000_000, false), "     100T");
        assert_eq!(render(u64::MAX, false), "18446744T");
    }

    #[test]
    fn exact_keeps_one_leading_blank() {
        assert_eq!(render(5, true), "        5");
        assert_eq!(render(12_345_678, true), " 12345678");
        assert_eq!(render(123_456_789, true), " 123456789");
        assert_eq!(render(u64::MAX, true), " 18446744073709551615");
    }
}
