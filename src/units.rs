//! Human-readable numbers, one formatter for every face that shows them (`lvsctl top`,
//! `lvsctl list`): short, at most 5 characters before a unit suffix, so narrow columns never
//! overflow and neighbouring cells compare at a glance.
//!
//! Counts use SI prefixes with an uppercase `K`, as ipvsadm's `-x` style does; bytes use
//! IEC prefixes. One significant decimal below 10, none above: `999`, `1.2K`, `12K`,
//! `999K`, `1.0M` (a value that would round to 1000 of a unit moves to the next one).

/// SI prefixes after each division by 1000.
const SI: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
/// IEC prefixes after each division by 1024.
const IEC: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// `999`, `1.2K`, `15M`, `18E`.
pub fn count(n: u64) -> String {
    scaled(n, 1000.0, &SI)
}

/// `512B`, `1.5KiB`, `10MiB`.
pub fn bytes(n: u64) -> String {
    format!("{}B", scaled(n, 1024.0, &IEC))
}

fn scaled(n: u64, base: f64, units: &[&str; 6]) -> String {
    if n < 1000 {
        return n.to_string();
    }
    // Display only: losing precision beyond 52 bits is invisible at 2 significant digits.
    #[allow(clippy::cast_precision_loss)]
    let mut value = n as f64;
    let mut unit = "";
    for u in units {
        value /= base;
        unit = u;
        if value < 999.5 {
            break;
        }
    }
    if value < 9.95 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.0}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stay_within_five_characters() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1.0K");
        assert_eq!(count(1_234), "1.2K");
        assert_eq!(count(9_960), "10K");
        assert_eq!(count(12_345), "12K");
        assert_eq!(count(999_499), "999K");
        assert_eq!(count(999_999), "1.0M");
        assert_eq!(count(15_300_000), "15M");
        assert_eq!(count(u64::MAX), "18E");
        for n in (0..64)
            .map(|s| 1u64 << s)
            .chain((0..20).map(|e| 10u64.pow(e) - 1))
        {
            assert!(count(n).len() <= 5, "{n}");
        }
    }

    #[test]
    fn bytes_use_binary_prefixes() {
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1000), "1.0KiB");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(10 * 1024 * 1024), "10MiB");
        assert_eq!(bytes(u64::MAX), "16EiB");
    }
}
