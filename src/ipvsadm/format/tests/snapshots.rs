//! insta snapshots for formatting cases no capture covers: huge counters in every column
//! (including the destination 32-bit truncation), a larger table through the wrap-around
//! sort, every tunnel variant, and the help text.

use super::e2_mixed_table::INFO;
use super::support::{DestExt, SvcExt, dest, fwm, fwm6, render, tcp, udp};
use crate::ipvs::model::{ForwardMethod, Rates, ServiceEntry, Stats, TunnelCsum, TunnelType};
use crate::ipvsadm::format::{ListFormat, ListMode, write_full_listing, write_help, write_save};
use crate::names::NoNames;

fn counters(seed: u64) -> (Stats, Rates) {
    let v = |k: u64| seed.wrapping_mul(k).wrapping_add(k);
    (
        Stats {
            conns: v(1),
            inpkts: v(3),
            outpkts: v(5),
            inbytes: v(7),
            outbytes: v(11),
        },
        Rates {
            cps: v(13),
            inpps: v(17),
            outpps: v(19),
            inbps: v(23),
            outbps: v(29),
        },
    )
}

fn counter_table() -> Vec<ServiceEntry> {
    let seeds = [
        0,
        99_999_999,
        4_294_967_296,
        5_000_000_123,
        123_456_789_012_345,
        u64::MAX / 3,
        u64::MAX,
    ];
    let mut svc = tcp("10.0.0.1", 80).with(vec![]);
    for (i, seed) in seeds.iter().enumerate() {
        let mut d = dest(&format!("192.168.0.{}", i + 1), 80).masq();
        (d.stats, d.rates) = counters(*seed);
        d.active_conns = u32::MAX - i as u32;
        d.inact_conns = i as u32;
        d.persist_conns = 7;
        svc.dests.push(d);
    }
    (svc.service.stats, svc.service.rates) = counters(u64::MAX / 7);
    vec![svc]
}

fn all_modes(entries: &[ServiceEntry], exact: bool) -> String {
    let mut text = String::new();
    for mode in [
        ListMode::Default,
        ListMode::Stats,
        ListMode::Rate,
        ListMode::Thresholds,
        ListMode::PersistentConn,
        ListMode::TunInfo,
    ] {
        let fmt = ListFormat {
            mode,
            exact,
            nosort: false,
        };
        text.push_str(&render(|out| {
            write_full_listing(out, &INFO, entries, &fmt, &NoNames)
        }));
    }
    text
}

#[test]
fn large_counters_scaled() {
    insta::assert_snapshot!(all_modes(&counter_table(), false));
}

#[test]
fn large_counters_exact() {
    insta::assert_snapshot!(all_modes(&counter_table(), true));
}

/// A table whose address differences straddle 2^31, in an arbitrary "kernel" order.
fn wrap_table() -> Vec<ServiceEntry> {
    let addrs = [
        "250.1.1.1",
        "3.3.3.3",
        "127.255.255.255",
        "128.0.0.0",
        "0.0.0.1",
        "191.1.1.1",
        "64.0.0.1",
        "255.255.255.255",
        "129.0.0.1",
        "1.1.1.1",
        "200.0.0.1",
        "126.0.0.1",
    ];
    let mut entries: Vec<ServiceEntry> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let dests = addrs
                .iter()
                .rev()
                .skip(i % 5)
                .map(|d| dest(d, 8000 + i as u16).masq())
                .collect();
            tcp(a, 80).with(dests)
        })
        .collect();
    entries.push(udp("250.1.1.1", 53).with(vec![]));
    entries.push(tcp("ffff:ffff::1", 443).with(vec![]));
    entries.push(tcp("::1", 443).with(vec![]));
    entries.push(tcp("8000::", 443).with(vec![]));
    entries.push(fwm(0x8000_0001).with(vec![]));
    entries.push(fwm(7).with(vec![]));
    entries.push(fwm6(0xffff_fff0).with(vec![]));
    entries.push(fwm(0x7fff_ffff).with(vec![]));
    entries
}

#[test]
fn wraparound_sort_of_a_larger_table() {
    let fmt = ListFormat::default();
    let sorted = render(|out| write_full_listing(out, &INFO, &wrap_table(), &fmt, &NoNames));
    insta::assert_snapshot!(sorted);
}

#[test]
fn tunnel_variants_in_tun_info_and_save() {
    use TunnelCsum::{Csum, NoCsum, Other, RemCsum};
    use TunnelType::{Gre, Gue, Ipip};
    let entries = vec![tcp("10.0.0.1", 80).with(vec![
        dest("10.1.0.1", 80).tunnel(Ipip, 0, NoCsum),
        dest("10.1.0.2", 80).tunnel(Gue, 65535, RemCsum),
        dest("10.1.0.3", 80).tunnel(Gue, 1, Csum),
        dest("10.1.0.4", 80).tunnel(Gre, 0, RemCsum),
        dest("10.1.0.5", 80).tunnel(Gre, 0, Other(9)),
        dest("10.1.0.6", 80).tunnel(TunnelType::Other(7), 0, NoCsum),
        dest("10.1.0.7", 80).tunnel(Gue, 0, NoCsum).fwd(ForwardMethod::Masq),
        dest("10.1.0.8", 80).fwd(ForwardMethod::Other(10)),
    ])];
    let fmt = ListFormat {
        mode: ListMode::TunInfo,
        ..ListFormat::default()
    };
    let mut text = render(|out| write_full_listing(out, &INFO, &entries, &fmt, &NoNames));
    text.push_str(&render(|out| write_save(out, &entries, &NoNames)));
    insta::assert_snapshot!(text);
}

#[test]
fn help_text() {
    insta::assert_snapshot!(render(|out| write_help(out, "ipvsadm")));
}
