//! Captures e2 (`golden/e2_*.txt`, listed by the real ipvsadm 1.31 in the VM): a mixed
//! table with every service and destination kind, in every listing mode, numeric and with
//! names, plus `-S`.

use super::support::{
    DestExt, FakeNames, SvcExt, assert_text, dest, fwm, fwm6, render, sctp, tcp, udp,
};
use crate::ipvs::model::{Info, ServiceEntry, ServiceFlags, TunnelCsum, TunnelType};
use crate::ipvsadm::format::{
    ListFormat, ListMode, write_full_listing, write_save, write_single_listing,
};
use crate::names::NoNames;

const S1: u32 = ServiceFlags::SCHED1;
const S2: u32 = ServiceFlags::SCHED2;
const S3: u32 = ServiceFlags::SCHED3;

pub(super) const INFO: Info = Info {
    version: 0x0001_0201,
    conn_tab_size: 4096,
};

/// The e2 table in the kernel's dump order (services by hash bucket, destinations newest
/// first), as `ipvsadm -Ln --nosort` printed it.
pub(super) fn table() -> Vec<ServiceEntry> {
    use TunnelCsum::{Csum, NoCsum, RemCsum};
    use TunnelType::{Gre, Gue, Ipip};
    vec![
        udp("10.0.0.16", 5060).persistent(60).pe("sip").with(vec![]),
        tcp("2001:db8::1", 80)
            .sched("sh")
            .sched_flags(S1 | S2)
            .with(vec![
                dest("192.168.4.1", 80).tunnel(Ipip, 0, NoCsum),
                dest("2001:db8::22", 80),
                dest("2001:db8::21", 8080).masq(),
            ]),
        tcp("127.0.0.1", 8080).with(vec![]),
        tcp("127.0.0.2", 8081).with(vec![]),
        tcp("2001:db8::2", 0).persistent(360).with(vec![]),
        tcp("127.0.0.1", 443).with(vec![]),
        tcp("10.0.0.18", 80).pe("sip").with(vec![]),
        tcp("10.0.0.17", 80).persistent(60).pe("sip").with(vec![]),
        tcp("10.0.0.6", 80).sched("rr").persistent(360).with(vec![]),
        tcp("10.0.0.7", 80).persistent(360).with(vec![]),
        udp("10.0.0.19", 80)
            .sched("sh")
            .sched_flags(S2)
            .ops()
            .persistent(10)
            .mask4("255.255.255.0")
            .pe("sip")
            .with(vec![]),
        tcp("10.0.0.4", 80).persistent(100).with(vec![]),
        tcp("10.0.0.5", 80).persistent(100).with(vec![]),
        tcp("10.0.0.2", 80).sched("rr").persistent(33).with(vec![]),
        tcp("10.0.0.3", 80).with(vec![]),
        tcp("10.0.0.1", 80).with(vec![
            dest("127.0.0.1", 80).masq(),
            dest("192.168.1.10", 80).tunnel(Ipip, 0, NoCsum),
            dest("192.168.1.9", 80).tunnel(Gre, 0, NoCsum),
            dest("192.168.1.8", 80).tunnel(Gre, 0, Csum),
            dest("192.168.1.7", 80).tunnel(Gue, 6082, RemCsum),
            dest("192.168.1.6", 80).tunnel(Gue, 6081, Csum),
            dest("192.168.1.5", 80).tunnel(Gue, 6080, NoCsum),
            dest("192.168.1.4", 80)
                .tunnel(Ipip, 0, NoCsum)
                .weight(2_147_483_647)
                .thresholds(100, 50),
            dest("192.168.1.3", 80).weight(8),
            dest("192.168.1.2", 8080).masq().weight(0),
            dest("192.168.1.1", 80),
        ]),
        tcp("10.0.0.14", 80).with(vec![
            dest("192.168.2.2", 81).masq(),
            dest("192.168.2.1", 80),
        ]),
        tcp("10.0.0.10", 80).persistent(201).with(vec![]),
        tcp("10.0.0.9", 80).persistent(200).with(vec![]),
        tcp("2001:db8::4", 443)
            .sched("mh")
            .sched_flags(S1 | S2)
            .with(vec![]),
        tcp("10.0.0.12", 0)
            .persistent(60)
            .mask4("0.0.0.24")
            .with(vec![]),
        tcp("10.0.0.11", 0)
            .persistent(360)
            .mask4("255.255.0.0")
            .with(vec![]),
        sctp("10.0.0.15", 5000).with(vec![]),
        udp("10.0.0.13", 53)
            .sched("rr")
            .ops()
            .with(vec![dest("192.168.5.1", 53).masq().weight(3)]),
        udp("10.0.0.14", 53).with(vec![]),
        tcp("2001:db8::3:80", 0)
            .persistent(30)
            .mask6(64)
            .with(vec![]),
        fwm(1).with(vec![
            dest("192.168.3.3", 8080),
            dest("192.168.3.2", 8080).masq(),
            dest("192.168.3.1", 0).masq(),
        ]),
        fwm6(2).persistent(120).mask6(96).with(vec![]),
        fwm(3).sched("rr").sched_flags(S1 | S3).with(vec![]),
    ]
}

fn listing(mode: ListMode, nosort: bool, names: &dyn crate::names::Resolver) -> String {
    let fmt = ListFormat {
        mode,
        exact: false,
        nosort,
    };
    render(|out| write_full_listing(out, &INFO, &table(), &fmt, names))
}

#[test]
fn numeric_default_listing_is_sorted() {
    assert_text(
        &listing(ListMode::Default, false, &NoNames),
        include_str!("golden/e2_Ln.txt"),
    );
}

#[test]
fn nosort_keeps_kernel_order() {
    assert_text(
        &listing(ListMode::Default, true, &NoNames),
        include_str!("golden/e2_Ln_nosort.txt"),
    );
}

#[test]
fn listing_with_names() {
    assert_text(
        &listing(ListMode::Default, false, &FakeNames::vm()),
        include_str!("golden/e2_L.txt"),
    );
}

#[test]
fn stats_rate_with_zero_counters() {
    assert_text(
        &listing(ListMode::Stats, false, &NoNames),
        include_str!("golden/e2_Ln_stats.txt"),
    );
    assert_text(
        &listing(ListMode::Stats, false, &FakeNames::vm()),
        include_str!("golden/e2_L_stats.txt"),
    );
    assert_text(
        &listing(ListMode::Rate, false, &NoNames),
        include_str!("golden/e2_Ln_rate.txt"),
    );
}

#[test]
fn thresholds_persistent_conn_tun_info() {
    assert_text(
        &listing(ListMode::Thresholds, false, &NoNames),
        include_str!("golden/e2_Ln_thresholds.txt"),
    );
    assert_text(
        &listing(ListMode::PersistentConn, false, &NoNames),
        include_str!("golden/e2_Ln_persistent_conn.txt"),
    );
    assert_text(
        &listing(ListMode::TunInfo, false, &NoNames),
        include_str!("golden/e2_Ln_tun_info.txt"),
    );
}

#[test]
fn save_numeric_and_with_names() {
    assert_text(
        &render(|out| write_save(out, &table(), &NoNames)),
        include_str!("golden/e2_Sn.txt"),
    );
    assert_text(
        &render(|out| write_save(out, &table(), &FakeNames::vm())),
        include_str!("golden/e2_S.txt"),
    );
}

fn single(
    pick: impl Fn(&ServiceEntry) -> bool,
    mode: ListMode,
    names: &dyn crate::names::Resolver,
) -> String {
    let table = table();
    let entry = table.iter().find(|e| pick(e)).expect("service in table");
    let fmt = ListFormat {
        mode,
        ..ListFormat::default()
    };
    render(|out| write_single_listing(out, entry, &fmt, names))
}

#[test]
fn single_service_listings_have_no_header() {
    fn key_is(s: &'static str) -> impl Fn(&ServiceEntry) -> bool {
        move |e| e.service.key.to_string() == s
    }
    assert_text(
        &single(key_is("TCP 10.0.0.1:80"), ListMode::Default, &NoNames),
        include_str!("golden/e2_Ln_t_10_0_0_1_80.txt"),
    );
    assert_text(
        &single(
            key_is("TCP 10.0.0.1:80"),
            ListMode::Default,
            &FakeNames::vm(),
        ),
        include_str!("golden/e2_L_t_10_0_0_1_http.txt"),
    );
    assert_text(
        &single(key_is("FWM 2 IPv6"), ListMode::Default, &NoNames),
        include_str!("golden/e2_Ln_f_2_6.txt"),
    );
    assert_text(
        &single(key_is("FWM 1"), ListMode::Stats, &NoNames),
        include_str!("golden/e2_Ln_f_1_stats.txt"),
    );
    assert_text(
        &single(key_is("TCP [2001:db8::1]:80"), ListMode::TunInfo, &NoNames),
        include_str!("golden/e2_Ln_t_2001_db8_1_80_tun_info.txt"),
    );
}
