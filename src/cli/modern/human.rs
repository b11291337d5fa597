//! Human-readable numbers for the modern views: short, fixed precision, SI for counts and
//! IEC for bytes, so columns stay narrow and comparable at a glance.

/// 999, 1.2K, 15.3M, 2.0G, ...
pub fn count(n: u64) -> String {
    scaled(n, 1000.0, &["", "K", "M", "G", "T", "P", "E"])
}

/// 512B, 1.5KiB, 3.2MiB, ...
pub fn bytes(n: u64) -> String {
    let s = scaled(n, 1024.0, &["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]);
    format!("{s}B")
}

fn scaled(n: u64, base: f64, units: &[&str]) -> String {
    #[allow(clippy::cast_precision_loss)] // display only
    let mut v = n as f64;
    let mut unit = 0;
    while v >= base && unit + 1 < units.len() {
        v /= base;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}{}", units[0])
    } else if v < 10.0 {
        format!("{v:.1}{}", units[unit])
    } else {
        format!("{v:.0}{}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_counts_and_bytes() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234), "1.2K");
        assert_eq!(count(15_300_000), "15M");
        assert_eq!(count(u64::MAX), "18E");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(10 * 1024 * 1024), "10MiB");
    }
}
