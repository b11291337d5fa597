//! ipvsadm 1.31 output that no captured table covers: odd flag bits, negative
//! fwmarks, unknown forwarding methods and protocols, the dest cut by the destination's own
//! family, the 59-byte name buffer, version and help.

use super::support::{DestExt, FakeNames, SvcExt, assert_text, dest, fwm, fwm6, render, tcp, udp};
use crate::ipvs::model::{ForwardMethod, Protocol, ServiceEntry, ServiceFlags, ServiceKey};
use crate::ipvsadm::format::{
    ListFormat, write_help, write_save, write_service_entry, write_version,
};
use crate::names::{NoNames, Resolver};

fn lines(entry: &ServiceEntry, names: &dyn Resolver) -> String {
    render(|out| {
        write_service_entry(
            out,
            &entry.service,
            &entry.dests,
            &ListFormat::default(),
            names,
        )
    })
}

fn save(entries: &[ServiceEntry], names: &dyn Resolver) -> String {
    render(|out| write_save(out, entries, names))
}

#[test]
fn unnamed_sched_flag_gives_empty_parens_and_dangling_b() {
    let e = tcp("10.0.0.1", 80)
        .sched("sh")
        .sched_flags(ServiceFlags::SCHED3)
        .with(vec![]);
    assert_eq!(lines(&e, &NoNames), "TCP  10.0.0.1:80 sh ()\n");
    assert_eq!(save(&[e], &NoNames), "-A -t 10.0.0.1:80 -s sh -b \n");
    let mh = fwm(3)
        .sched("mh")
        .sched_flags(ServiceFlags::SCHED1 | ServiceFlags::SCHED3)
        .with(vec![]);
    assert_eq!(lines(&mh, &NoNames), "FWM  3 mh (mh-fallback)\n");
}

#[test]
fn large_fwmarks_print_signed() {
    assert_eq!(
        lines(&fwm(4_294_967_295).with(vec![]), &NoNames),
        "FWM  -1 wlc\n"
    );
    assert_eq!(
        lines(&fwm6(2_147_483_648).with(vec![]), &NoNames),
        "FWM  -2147483648 IPv6 wlc\n"
    );
    assert_eq!(
        save(&[fwm(4_294_967_295).with(vec![])], &NoNames),
        "-A -f -1 -s wlc\n"
    );
}

#[test]
fn unknown_forwarding_prints_null_and_local_saves_as_g() {
    let e = tcp("10.0.0.1", 80).with(vec![
        dest("10.0.0.4", 80).fwd(ForwardMethod::Other(6)),
        dest("10.0.0.3", 80).fwd(ForwardMethod::Bypass),
        dest("10.0.0.2", 80).fwd(ForwardMethod::Local),
    ]);
    assert_text(
        &lines(&e, &NoNames),
        "TCP  10.0.0.1:80 wlc\n\
         \x20 -> 10.0.0.2:80                  Local   1      0          0         \n\
         \x20 -> 10.0.0.3:80                  (null)  1      0          0         \n\
         \x20 -> 10.0.0.4:80                  (null)  1      0          0         \n",
    );
    assert_text(
        &save(&[e], &NoNames),
        "-A -t 10.0.0.1:80 -s wlc\n\
         -a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n\
         -a -t 10.0.0.1:80 -r 10.0.0.3:80 (null) -w 1\n\
         -a -t 10.0.0.1:80 -r 10.0.0.4:80 (null) -w 1\n",
    );
}

#[test]
fn unknown_protocol() {
    let mut svc = tcp("10.0.0.1", 80);
    svc.key = ServiceKey::Addr {
        protocol: Protocol::Other(99),
        addr: super::support::ip("10.0.0.1"),
        port: 80,
    };
    let e = svc.with(vec![]);
    assert_eq!(lines(&e, &FakeNames::vm()), "?    10.0.0.1:80 wlc\n");
    assert_eq!(
        save(&[e], &NoNames),
        "-A --xxx-service 10.0.0.1:80 -s wlc\n"
    );
}

#[test]
fn dest_cut_follows_the_destination_family() {
    let long = "a-really-long-real-server-name.example.org";
    let names = FakeNames::vm()
        .with_host("192.168.7.7", long)
        .with_host("2001:db8::7", long);
    let v6_service = tcp("2001:db8::1", 80).with(vec![dest("192.168.7.7", 80).masq()]);
    assert_eq!(
        lines(&v6_service, &names),
        "TCP  [2001:db8::1]:http wlc\n  -> a-really-long-real-server-na Masq    1      0          0         \n"
    );
    let v4_service = tcp("10.0.0.1", 80).with(vec![dest("2001:db8::7", 80).masq()]);
    assert_eq!(
        lines(&v4_service, &names),
        "TCP  10.0.0.1:http wlc\n  -> [a-really-long-real-server-name.example.org]:http Masq    1      0          0         \n"
    );
}

#[test]
fn names_never_exceed_the_59_byte_buffer() {
    let huge = "host-name-that-is-much-longer-than-any-column.example.invalid";
    let names = FakeNames::vm().with_host("10.0.0.1", huge);
    let e = udp("10.0.0.1", 53).with(vec![]);
    let want = format!("-A -u {} -s wlc\n", &format!("{huge}:domain")[..59]);
    assert_eq!(save(&[e], &names), want);
}

#[test]
fn ipv4_mapped_and_compatible_addresses_use_inet_ntop_text() {
    let e = tcp("::ffff:1.2.3.5", 80).with(vec![dest("::1.2.3.4", 80).masq()]);
    assert_eq!(
        lines(&e, &NoNames),
        "TCP  [::ffff:1.2.3.5]:80 wlc\n  -> [::1.2.3.4]:80               Masq    1      0          0         \n"
    );
}

#[test]
fn pe_without_persistence_is_saved_but_not_listed() {
    let e = tcp("10.0.0.18", 80).pe("sip").with(vec![]);
    assert_eq!(lines(&e, &NoNames), "TCP  10.0.0.18:80 wlc\n");
    assert_eq!(save(&[e], &NoNames), "-A -t 10.0.0.18:80 -s wlc --pe sip\n");
}

#[test]
fn empty_table_saves_nothing() {
    assert_eq!(save(&[], &NoNames), "");
}

#[test]
fn version_line() {
    assert_eq!(
        render(write_version),
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
}

#[test]
fn help_names_argv0_in_every_usage_line() {
    let text = render(|out| write_help(out, "/usr/sbin/lvsctl-ipvsadm"));
    assert!(
        text.starts_with("ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n")
    );
    let usage = text
        .lines()
        .filter(|l| l.starts_with("  /usr/sbin/lvsctl-ipvsadm "))
        .count();
    assert_eq!(usage, 13);
    assert!(text.contains("rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh"));
    assert!(text.lines().all(|l| !l.ends_with(' ')));
    for option in [
        "--add-service",
        "--edit-service",
        "--delete-service",
        "--clear",
        "--restore",
        "--save",
        "--add-server",
        "--edit-server",
        "--delete-server",
        "--list",
        "--zero",
        "--set",
        "--start-daemon",
        "--stop-daemon",
        "--help",
        "--tcp-service",
        "--udp-service",
        "--sctp-service",
        "--fwmark-service",
        "--ipv6",
        "--scheduler",
        "--pe",
        "--persistent",
        "--netmask",
        "--real-server",
        "--gatewaying",
        "--ipip",
        "--masquerading",
        "--tun-type",
        "--tun-port",
        "--tun-nocsum",
        "--tun-csum",
        "--tun-remcsum",
        "--weight",
        "--u-threshold",
        "--l-threshold",
        "--connection",
        "--timeout",
        "--daemon",
        "--stats",
        "--rate",
        "--exact",
        "--thresholds",
        "--persistent-conn",
        "--tun-info",
        "--nosort",
        "--sort",
        "--ops",
        "--numeric",
        "--sched-flags",
        "--syncid",
        "--sync-maxlen",
        "--mcast-interface",
        "--mcast-group",
        "--mcast-port",
        "--mcast-ttl",
    ] {
        assert!(text.contains(option), "help lacks {option}");
    }
}

#[test]
fn mode_precedence() {
    use crate::ipvsadm::format::ListMode;
    assert_eq!(ListMode::select(&[]), ListMode::Default);
    assert_eq!(
        ListMode::select(&[ListMode::TunInfo, ListMode::Rate, ListMode::Stats]),
        ListMode::Stats
    );
    assert_eq!(
        ListMode::select(&[ListMode::TunInfo, ListMode::PersistentConn]),
        ListMode::PersistentConn
    );
}

#[test]
fn cuts_and_padding_count_bytes_like_printf() {
    // "é" is two bytes: the 28-byte cut may split it and padding counts bytes, not chars.
    let name = "ééééééééééééééé.example";
    let names = FakeNames::vm().with_host("10.0.0.2", name);
    let e = tcp("10.0.0.1", 80).with(vec![dest("10.0.0.2", 80).masq()]);
    let mut out = Vec::new();
    write_service_entry(
        &mut out,
        &e.service,
        &e.dests,
        &ListFormat::default(),
        &names,
    )
    .unwrap();
    let mut want = b"TCP  10.0.0.1:http wlc\n  -> ".to_vec();
    want.extend_from_slice(&name.as_bytes()[..28]);
    want.extend_from_slice(b" Masq    1      0          0         \n");
    assert_eq!(out, want);
}

#[test]
fn streaming_pieces_equal_the_one_shot_listing() {
    use crate::ipvsadm::format::{
        ListMode, sort_services, write_full_listing, write_list_header, write_title,
    };
    let table = super::e2_mixed_table::table();
    let info = super::e2_mixed_table::INFO;
    let fmt = ListFormat {
        mode: ListMode::Stats,
        ..ListFormat::default()
    };
    let whole = render(|out| write_full_listing(out, &info, &table, &fmt, &NoNames));
    let streamed = render(|out| {
        write_list_header(out, &info)?;
        let mut services: Vec<_> = table.iter().map(|e| e.service.clone()).collect();
        sort_services(&mut services);
        write_title(out, fmt.mode)?;
        for svc in &services {
            let dests = &table
                .iter()
                .find(|e| e.service.key == svc.key)
                .expect("service")
                .dests;
            write_service_entry(out, svc, dests, &fmt, &NoNames)?;
        }
        Ok(())
    });
    assert_eq!(streamed, whole);
}
