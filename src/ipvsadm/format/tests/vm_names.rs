//! A table captured in the VM for this module (hosts file `golden/vm_names_hosts.txt`
//! bind-mounted over `/etc/hosts`): the 28-byte destination cut follows the destination's own
//! family, names never exceed ipvsadm's 59-byte buffer (not even in `-S`), IPv4-compatible
//! IPv6 addresses print as `::a.b.c.d`, `sh ()` / `-b `, mh flags with persistence, and an
//! IPv6 fwmark with mask and PE.

use super::e2_mixed_table::INFO;
use super::support::{DestExt, FakeNames, SvcExt, assert_text, dest, fwm6, render, tcp, udp};
use crate::ipvs::model::{ServiceEntry, ServiceFlags, TunnelCsum, TunnelType};
use crate::ipvsadm::format::{ListFormat, ListMode, write_full_listing, write_save};
use crate::names::{NoNames, Resolver};

/// Kernel order, as `ipvsadm -Ln --nosort` printed it.
fn table() -> Vec<ServiceEntry> {
    let ipip = |d: crate::ipvs::model::Dest| d.tunnel(TunnelType::Ipip, 0, TunnelCsum::NoCsum);
    vec![
        tcp("10.0.0.4", 80)
            .sched("mh")
            .sched_flags(ServiceFlags::SCHED2 | ServiceFlags::SCHED3)
            .persistent(50)
            .mask4("255.255.255.128")
            .with(vec![]),
        tcp("::1.2.3.4", 80).with(vec![]),
        tcp("10.0.0.3", 80)
            .sched("sh")
            .sched_flags(ServiceFlags::SCHED3)
            .with(vec![]),
        tcp("10.0.0.1", 80).with(vec![
            dest("192.168.7.7", 8080).masq(),
            ipip(dest("2001:db8::7", 80)),
        ]),
        udp("10.2.2.2", 53).with(vec![dest("10.2.2.2", 5353).masq()]),
        tcp("2001:db8::1", 80).with(vec![
            dest("2001:db8::7", 8080).masq(),
            ipip(dest("192.168.7.7", 80)),
        ]),
        fwm6(7).persistent(10).mask6(64).pe("sip").with(vec![]),
    ]
}

fn names() -> FakeNames {
    FakeNames::from_hosts(include_str!("golden/vm_names_hosts.txt"))
}

fn list(mode: ListMode, exact: bool, nosort: bool, names: &dyn Resolver) -> String {
    let fmt = ListFormat {
        mode,
        exact,
        nosort,
    };
    render(|out| write_full_listing(out, &INFO, &table(), &fmt, names))
}

#[test]
fn listings_match_the_capture() {
    let names = names();
    assert_text(
        &list(ListMode::Default, false, true, &NoNames),
        include_str!("golden/vm_names_Lnosort.txt"),
    );
    assert_text(
        &list(ListMode::Default, false, false, &NoNames),
        include_str!("golden/vm_names_Ln.txt"),
    );
    assert_text(
        &list(ListMode::Default, false, false, &names),
        include_str!("golden/vm_names_L.txt"),
    );
    assert_text(
        &list(ListMode::Stats, false, false, &names),
        include_str!("golden/vm_names_Lstats.txt"),
    );
    assert_text(
        &list(ListMode::Rate, true, false, &names),
        include_str!("golden/vm_names_Lexact.txt"),
    );
}

#[test]
fn save_matches_the_capture() {
    assert_text(
        &render(|out| write_save(out, &table(), &names())),
        include_str!("golden/vm_names_S.txt"),
    );
}
