//! Captures e5 (`golden/e5_*.txt`): the wrap-around sort, 33/28-byte name cuts with long
//! host names in every mode, single-service listing with names, and assorted service-line
//! variants.

use super::e2_mixed_table::INFO;
use super::support::{
    DestExt, FakeNames, SvcExt, assert_text, dest, fwm, fwm6, render, sctp, tcp, udp,
};
use crate::ipvs::model::{ServiceEntry, TunnelCsum, TunnelType};
use crate::ipvsadm::format::{
    ListFormat, ListMode, write_full_listing, write_save, write_single_listing,
};
use crate::names::{NoNames, Resolver};

fn list(entries: &[ServiceEntry], mode: ListMode, nosort: bool, names: &dyn Resolver) -> String {
    let fmt = ListFormat {
        mode,
        exact: false,
        nosort,
    };
    render(|out| write_full_listing(out, &INFO, entries, &fmt, names))
}

/// The sorting table in kernel order, exactly as `ipvsadm -Ln --nosort` printed it.
fn sort_table() -> Vec<ServiceEntry> {
    let dests = [
        ("9.9.9.9", 32767),
        ("9.9.9.9", 32768),
        ("9.9.9.9", 80),
        ("9.9.9.9", 65535),
        ("9.9.9.9", 1),
        ("2.0.0.9", 80),
        ("128.0.0.9", 80),
        ("129.0.0.9", 80),
        ("100.0.0.9", 80),
        ("200.0.0.9", 80),
        ("1.0.0.9", 80),
    ]
    .into_iter()
    .map(|(a, p)| dest(a, p).masq())
    .collect();
    vec![
        tcp("2001:db8::1", 80).with(vec![]),
        sctp("5.5.5.5", 1).with(vec![]),
        tcp("::2", 80).with(vec![]),
        tcp("7fff::1", 80).with(vec![]),
        tcp("8000::1", 80).with(vec![]),
        tcp("ffff::1", 80).with(vec![]),
        tcp("2.0.0.1", 80).with(vec![]),
        tcp("127.0.0.1", 80).with(vec![]),
        tcp("128.0.0.1", 80).with(vec![]),
        tcp("129.0.0.1", 80).with(vec![]),
        tcp("100.0.0.1", 80).with(vec![]),
        tcp("200.0.0.1", 80).with(vec![]),
        tcp("1.0.0.1", 80).with(dests),
        tcp("5.5.5.5", 1).with(vec![]),
        tcp("5.5.5.5", 65535).with(vec![]),
        udp("5.5.5.5", 1).with(vec![]),
        fwm(2_147_483_647).with(vec![]),
        fwm(4_294_967_295).with(vec![]),
        fwm(2_147_483_648).with(vec![]),
        fwm(1).with(vec![]),
        fwm(3).with(vec![]),
        fwm6(10).with(vec![]),
    ]
}

#[test]
fn wraparound_sort_reproduces_observed_order() {
    let table = sort_table();
    assert_text(
        &list(&table, ListMode::Default, true, &NoNames),
        include_str!("golden/e5_sort_nosort.txt"),
    );
    assert_text(
        &list(&table, ListMode::Default, false, &NoNames),
        include_str!("golden/e5_sort_sorted.txt"),
    );
}

/// Long names from the bind-mounted hosts file; kernel order (dests newest first).
fn names_table() -> Vec<ServiceEntry> {
    vec![
        tcp("10.1.1.1", 80).with(vec![
            dest("10.1.1.2", 8080).masq(),
            dest("192.168.7.7", 8080).masq(),
            dest("192.168.7.7", 80).masq(),
        ]),
        tcp("10.1.1.1", 443).with(vec![]),
        tcp("10.1.1.2", 8080).with(vec![]),
        tcp("10.1.1.3", 1234).with(vec![]),
        tcp("10.1.1.3", 65535).with(vec![]),
        udp("10.1.1.1", 53).with(vec![]),
        tcp("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 65535).with(vec![
            dest("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1111", 65535).masq(),
        ]),
    ]
}

#[test]
fn long_names_are_cut_for_ipv4_only_in_every_mode() {
    let t = names_table();
    let names = FakeNames::e5_hosts();
    let cases = [
        (ListMode::Default, include_str!("golden/e5_trunc_names.txt")),
        (ListMode::Stats, include_str!("golden/e5_trunc_stats.txt")),
        (ListMode::Rate, include_str!("golden/e5_trunc_rate.txt")),
        (
            ListMode::Thresholds,
            include_str!("golden/e5_trunc_thresholds.txt"),
        ),
        (
            ListMode::PersistentConn,
            include_str!("golden/e5_trunc_persistent.txt"),
        ),
        (
            ListMode::TunInfo,
            include_str!("golden/e5_trunc_tuninfo.txt"),
        ),
    ];
    for (mode, want) in cases {
        assert_text(&list(&t, mode, false, &names), want);
    }
    assert_text(
        &list(&t, ListMode::Default, false, &NoNames),
        include_str!("golden/e5_trunc_numeric.txt"),
    );
}

#[test]
fn save_never_cuts_names() {
    assert_text(
        &render(|out| write_save(out, &names_table(), &FakeNames::e5_hosts())),
        include_str!("golden/e5_trunc_save.txt"),
    );
}

#[test]
fn single_service_with_names() {
    let t = names_table();
    let entry = t
        .iter()
        .find(|e| e.service.key.to_string() == "TCP 10.1.1.2:8080")
        .expect("service");
    let out = render(|out| {
        write_single_listing(out, entry, &ListFormat::default(), &FakeNames::e5_hosts())
    });
    assert_text(&out, include_str!("golden/e5_single_names.txt"));
}

#[test]
fn scheduler_none_ops_and_forced_ports() {
    let table = vec![
        tcp("224.0.0.1", 80).with(vec![]),
        tcp("0.0.0.0", 80).with(vec![]),
        tcp("10.70.0.1", 80)
            .persistent(360)
            .mask4("255.255.0.0")
            .with(vec![]),
        tcp("10.70.0.2", 80).with(vec![]),
        tcp("10.70.0.3", 80).sched("none").with(vec![]),
        tcp("10.70.0.4", 80).with(vec![]),
        tcp("10.70.0.5", 0).persistent(360).with(vec![
            dest("192.168.70.3", 0),
            dest("192.168.70.2", 8080).masq(),
            dest("192.168.70.1", 0).masq(),
        ]),
        udp("10.70.0.8", 53).persistent(360).ops().with(vec![]),
        tcp("2001:db8::5", 80).persistent(360).with(vec![]),
        tcp("2001:db8::7", 80).with(vec![]),
        fwm(77).ops().with(vec![]),
    ];
    assert_text(
        &list(&table, ListMode::Default, false, &NoNames),
        include_str!("golden/e5_misc_ln.txt"),
    );
}

#[test]
fn ipv6_tunnel_dest_of_ipv4_service() {
    let one = vec![
        tcp("10.80.0.1", 80)
            .sched("rr")
            .with(vec![dest("2001:db8::80", 80).tunnel(
                TunnelType::Ipip,
                0,
                TunnelCsum::NoCsum,
            )]),
    ];
    assert_text(
        &list(&one, ListMode::Default, false, &NoNames),
        include_str!("golden/e5_mixed_tunnel_ln.txt"),
    );
    let two = vec![tcp("10.80.0.1", 80).sched("rr").with(vec![
        dest("2001:db8::81", 80).tunnel(TunnelType::Gue, 5555, TunnelCsum::NoCsum),
        dest("2001:db8::80", 80).tunnel(TunnelType::Ipip, 0, TunnelCsum::NoCsum),
    ])];
    assert_text(
        &list(&two, ListMode::TunInfo, false, &NoNames),
        include_str!("golden/e5_tuninfo_v6.txt"),
    );
}

/// A larger table captured in the VM for this test (services and destinations whose
/// differences straddle 2^31, IPv6 services with IPv4 tunnel dests, fwmarks ≥ 2^31 of both
/// families): the kernel order from `--nosort` must sort to exactly what ipvsadm printed,
/// in the listing and in `-S`.
#[test]
fn vm_capture_of_a_larger_wraparound_table() {
    let nosort = include_str!("golden/vm_wrap_nosort.txt");
    let table = super::support::parse_listing(nosort);
    assert_text(&list(&table, ListMode::Default, true, &NoNames), nosort);
    assert_text(
        &list(&table, ListMode::Default, false, &NoNames),
        include_str!("golden/vm_wrap_sorted.txt"),
    );
    assert_text(
        &render(|out| write_save(out, &table, &NoNames)),
        include_str!("golden/vm_wrap_save.txt"),
    );
}
