//! `/proc/net/ip_vs_stats`: the global counters and rate estimates.
//!
//! Linux 6.1 (`ip_vs_stats_show`) prints two header lines, one row of totals
//! (`%8LX %8LX %8LX %16LX %16LX`: conns, in/out packets, in/out bytes), a blank line, one
//! header line and one row of rates (cps, in/out pps, in/out bps), all in hex. The data rows
//! are the only lines made of exactly five hex numbers, which is how they are found: this
//! keeps working if a kernel ever rewords the headers.

use super::fields::{Fields, hex};
use crate::ipvs::model::{GlobalStats, Rates, Stats};

/// The five hex numbers of a data row, or `None` for any other line.
fn data_row(line: &str) -> Option<[u64; 5]> {
    let mut out = [0u64; 5];
    let mut fields = Fields::new(line.as_bytes());
    for slot in &mut out {
        *slot = hex(fields.next()?, 16)?;
    }
    fields.next().is_none().then_some(out)
}

/// Parse the whole file's text. The error says what was missing.
pub fn parse_global_stats(text: &str) -> Result<GlobalStats, String> {
    let mut rows = text.lines().filter_map(data_row);
    let totals = rows.next().ok_or("no row of totals")?;
    let rates = rows.next().ok_or("no row of rates")?;
    if rows.next().is_some() {
        return Err("more than two rows of numbers".to_owned());
    }
    let [conns, inpkts, outpkts, inbytes, outbytes] = totals;
    let [cps, inpps, outpps, inbps, outbps] = rates;
    Ok(GlobalStats {
        stats: Stats {
            conns,
            inpkts,
            outpkts,
            inbytes,
            outbytes,
        },
        rates: Rates {
            cps,
            inpps,
            outpps,
            inbps,
            outbps,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KERNEL_6_1: &str = include_str!("../../../tests/fixtures/procfs/ip_vs_stats.linux-6.1");

    #[test]
    fn parses_a_real_kernel_capture() {
        let g = parse_global_stats(KERNEL_6_1).unwrap();
        assert_eq!(
            g.stats,
            Stats {
                conns: 8,
                inpkts: 8,
                outpkts: 0,
                inbytes: 0x1C0,
                outbytes: 0
            }
        );
        assert_eq!(
            g.rates,
            Rates {
                cps: 1,
                inpps: 1,
                outpps: 0,
                inbps: 0x27,
                outbps: 0
            }
        );
    }

    #[test]
    fn full_width_64_bit_values() {
        let text = "   Total Incoming Outgoing         Incoming         Outgoing\n   Conns  Packets  Packets            Bytes            Bytes\n123456789 FFFFFFFF        0 FFFFFFFFFFFFFFFF 10\n\n Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n       0        0        0                0                0\n";
        let g = parse_global_stats(text).unwrap();
        assert_eq!(g.stats.conns, 0x1_2345_6789);
        assert_eq!(g.stats.inbytes, u64::MAX);
        assert_eq!(g.stats.outbytes, 0x10);
        assert_eq!(g.rates, Rates::default());
    }

    #[test]
    fn missing_or_extra_rows_are_errors() {
        assert!(parse_global_stats("").is_err());
        assert!(parse_global_stats("1 2 3 4 5\n").is_err());
        assert!(parse_global_stats("1 2 3 4 5\n1 2 3 4 5\n1 2 3 4 5\n").is_err());
        assert!(parse_global_stats("1 2 3 4 5\n1 2 3 4 5 6\n").is_err());
        assert!(parse_global_stats("1 2 3 4 5\n1 2 3 4 5\n").is_ok());
    }
}
