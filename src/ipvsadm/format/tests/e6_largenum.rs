//! Captures e6 (`golden/e6_*.txt`): K/M/G/T scaling, `--exact`, and the destination 32-bit
//! getters.
//!
//! The capture injected one value into every 64-bit netlink getter. Destinations read
//! conns/packets/rates with 32-bit getters, which were not faked, so they show the real
//! (zero) counters while their byte counters show the injected value; the model carries
//! exactly that.

use super::e2_mixed_table::INFO;
use super::support::{DestExt, SvcExt, assert_text, dest, fwm, render, tcp};
use crate::ipvs::model::{Rates, ServiceEntry, Stats};
use crate::ipvsadm::format::{ListFormat, ListMode, write_full_listing};
use crate::names::NoNames;

fn table(v: u64) -> Vec<ServiceEntry> {
    let all = Stats {
        conns: v,
        inpkts: v,
        outpkts: v,
        inbytes: v,
        outbytes: v,
    };
    let rates = Rates {
        cps: v,
        inpps: v,
        outpps: v,
        inbps: v,
        outbps: v,
    };
    let dest_stats = Stats {
        inbytes: v,
        outbytes: v,
        ..Stats::default()
    };
    let mut entries = vec![
        tcp("10.0.0.1", 80)
            .sched("rr")
            .with(vec![dest("10.0.0.2", 80).masq()]),
        fwm(5).with(vec![dest("10.0.0.3", 0)]),
    ];
    for e in &mut entries {
        e.service.stats = all;
        e.service.rates = rates;
        for d in &mut e.dests {
            d.stats = dest_stats;
        }
    }
    entries
}

fn four_listings(v: u64) -> String {
    let mut text = String::new();
    for (mode, exact) in [
        (ListMode::Stats, false),
        (ListMode::Stats, true),
        (ListMode::Rate, false),
        (ListMode::Rate, true),
    ] {
        let fmt = ListFormat {
            mode,
            exact,
            nosort: false,
        };
        text.push_str(&render(|out| {
            write_full_listing(out, &INFO, &table(v), &fmt, &NoNames)
        }));
    }
    text
}

#[test]
fn every_scaling_step_matches_the_capture() {
    let cases = [
        (0, include_str!("golden/e6_fake_0.txt")),
        (99_999_999, include_str!("golden/e6_fake_99999999.txt")),
        (100_000_000, include_str!("golden/e6_fake_100000000.txt")),
        (999_999_999, include_str!("golden/e6_fake_999999999.txt")),
        (1_000_000_000, include_str!("golden/e6_fake_1000000000.txt")),
        (
            99_999_999_999,
            include_str!("golden/e6_fake_99999999999.txt"),
        ),
        (
            100_000_000_000,
            include_str!("golden/e6_fake_100000000000.txt"),
        ),
        (
            99_999_999_999_999,
            include_str!("golden/e6_fake_99999999999999.txt"),
        ),
        (
            100_000_000_000_000,
            include_str!("golden/e6_fake_100000000000000.txt"),
        ),
        (
            u64::MAX,
            include_str!("golden/e6_fake_18446744073709551615.txt"),
        ),
    ];
    for (v, want) in cases {
        assert_text(&four_listings(v), want);
    }
}
