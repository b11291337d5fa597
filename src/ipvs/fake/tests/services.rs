use super::*;
use crate::ipvs::model::{AddressFamily, Netmask, Scheduler, ServiceFlags, Timeouts};

#[test]
fn new_service_on_an_existing_one_is_eexist() {
    let (mut fake, key) = with_service();
    assert_eq!(
        errno(&mut fake, Op::AddService(Service::new(key))),
        libc::EEXIST
    );
}

#[test]
fn ops_on_a_missing_service_are_esrch() {
    let mut fake = FakeBackend::new();
    let key = tcp("10.0.0.1", 80);
    assert_eq!(
        errno(&mut fake, Op::EditService(Service::new(key))),
        libc::ESRCH
    );
    assert_eq!(errno(&mut fake, Op::DelService(key)), libc::ESRCH);
    assert_eq!(errno(&mut fake, Op::Zero(Some(key))), libc::ESRCH);
    assert_eq!(fake.service(&key).unwrap_err().errno(), libc::ESRCH);
    assert_eq!(
        fake.dests(&key).unwrap(),
        vec![],
        "GET_DEST of a missing service is empty"
    );
}

#[test]
fn tcp_and_udp_and_both_fwmark_families_are_distinct() {
    let mut fake = FakeBackend::new();
    let udp = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip("10.0.0.1"),
        port: 80,
    };
    let fw4 = ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark: 5,
    };
    let fw6 = ServiceKey::Fwmark {
        af: AddressFamily::Inet6,
        mark: 5,
    };
    for key in [tcp("10.0.0.1", 80), udp, fw4, fw6] {
        assert_eq!(
            errno(&mut fake, Op::AddService(Service::new(key))),
            0,
            "{key}"
        );
    }
    assert_eq!(fake.services().unwrap().len(), 4);
}

#[test]
fn unknown_or_wrong_case_scheduler_and_pe_are_enoent() {
    let mut fake = FakeBackend::new();
    for name in ["WLC", "RR", "nosuch", ""] {
        let mut svc = Service::new(tcp("10.0.0.1", 80));
        svc.scheduler = Scheduler::new(name);
        assert_eq!(
            errno(&mut fake, Op::AddService(svc)),
            libc::ENOENT,
            "{name:?}"
        );
    }
    for name in Scheduler::KNOWN.iter().chain(&["none"]) {
        let mut svc = Service::new(tcp("10.0.0.1", 80));
        svc.scheduler = Scheduler::new(*name);
        assert_eq!(errno(&mut fake, Op::AddService(svc)), 0, "{name}");
        assert_eq!(fake.services().unwrap()[0].scheduler.as_str(), *name);
        assert_eq!(errno(&mut fake, Op::Flush), 0);
    }
    let mut svc = Service::new(tcp("10.0.0.1", 80));
    svc.pe_name = Some("SIP".into());
    assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), libc::ENOENT);
    svc.pe_name = Some("sip".into());
    assert_eq!(errno(&mut fake, Op::AddService(svc)), 0);
}

#[test]
fn ipv6_prefix_outside_1_to_128_is_einval() {
    let mut fake = FakeBackend::new();
    let mut svc = Service::new(tcp("2001:db8::1", 80));
    for bad in [0, 129] {
        svc.netmask = Netmask::V6(bad);
        assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), libc::EINVAL);
    }
    svc.netmask = Netmask::V6(64);
    assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), 0);
    svc.netmask = Netmask::V6(200);
    assert_eq!(errno(&mut fake, Op::EditService(svc)), libc::EINVAL);
}

#[test]
fn listing_reports_hashed_flag_and_address_services_before_fwmark() {
    let mut fake = FakeBackend::new();
    let fw = ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark: 1,
    };
    for key in [fw, tcp("10.0.0.9", 80), tcp("10.0.0.1", 80)] {
        assert_eq!(errno(&mut fake, Op::AddService(Service::new(key))), 0);
    }
    let list = fake.services().unwrap();
    let keys: Vec<_> = list.iter().map(|s| s.key).collect();
    assert_eq!(keys, vec![tcp("10.0.0.9", 80), tcp("10.0.0.1", 80), fw]);
    assert!(list.iter().all(|s| s.flags.0 == ServiceFlags::HASHED));
}

#[test]
fn set_service_replaces_everything_configurable_and_keeps_dests() {
    let (mut fake, key) = with_service();
    let mut svc = Service::new(key);
    svc.scheduler = Scheduler::new("sh");
    svc.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::SCHED1);
    svc.timeout = 600;
    svc.netmask = Netmask::V4("255.255.255.0".parse().unwrap());
    svc.pe_name = Some("sip".into());
    assert_eq!(errno(&mut fake, Op::EditService(svc.clone())), 0);
    let got = fake.service(&key).unwrap();
    assert!(got.same_config(&svc));
    assert_eq!(
        got.flags.0,
        ServiceFlags::PERSISTENT | ServiceFlags::SCHED1 | ServiceFlags::HASHED
    );
    // PE removed when absent; flags fully replaced.
    let plain = Service::new(key);
    assert_eq!(errno(&mut fake, Op::EditService(plain.clone())), 0);
    assert!(fake.service(&key).unwrap().same_config(&plain));
    assert_eq!(fake.dests(&key).unwrap().len(), 1);
}

#[test]
fn delete_service_takes_its_dests_and_flush_takes_all() {
    let (mut fake, key) = with_service();
    assert_eq!(errno(&mut fake, Op::DelService(key)), 0);
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(key))), 0);
    assert_eq!(fake.dests(&key).unwrap(), vec![]);
    assert_eq!(errno(&mut fake, Op::Flush), 0);
    assert_eq!(fake.services().unwrap(), vec![]);
    assert_eq!(
        errno(&mut fake, Op::Flush),
        0,
        "flushing an empty table is fine"
    );
}

#[test]
fn fwmark_zero_is_filed_as_tcp_zero_address() {
    let mut fake = FakeBackend::new();
    let fw0 = ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark: 0,
    };
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(fw0))), 0);
    assert_eq!(fake.services().unwrap()[0].key, tcp("0.0.0.0", 0));
    assert_eq!(
        errno(&mut fake, Op::AddService(Service::new(tcp("0.0.0.0", 0)))),
        libc::EEXIST
    );
}

#[test]
fn service_address_itself_is_not_validated() {
    let mut fake = FakeBackend::new();
    for addr in ["224.0.0.1", "0.0.0.0", "255.255.255.255"] {
        assert_eq!(
            errno(&mut fake, Op::AddService(Service::new(tcp(addr, 80)))),
            0,
            "{addr}"
        );
    }
}

#[test]
fn info_version_and_table_size() {
    let info = FakeBackend::new().info().unwrap();
    assert_eq!(info.version_triple(), (1, 2, 1));
    assert_eq!(info.conn_tab_size, 4096);
}

#[test]
fn timeouts_default_keep_on_zero_and_reject_above_int_max_over_hz() {
    let mut fake = FakeBackend::new();
    let t = |tcp, tcp_fin, udp| Timeouts { tcp, tcp_fin, udp };
    assert_eq!(fake.timeouts().unwrap(), t(900, 120, 300));
    assert_eq!(errno(&mut fake, Op::SetTimeouts(t(0, 60, 0))), 0);
    assert_eq!(fake.timeouts().unwrap(), t(900, 60, 300));
    assert_eq!(
        errno(&mut fake, Op::SetTimeouts(t(10, 0, 8_589_935))),
        libc::EINVAL
    );
    assert_eq!(
        fake.timeouts().unwrap(),
        t(900, 60, 300),
        "nothing applied on EINVAL"
    );
    assert_eq!(errno(&mut fake, Op::SetTimeouts(t(8_589_934, 0, 0))), 0);
    assert_eq!(fake.timeouts().unwrap().tcp, 8_589_934);
}

#[test]
fn flush_leaves_timeouts_and_daemons_alone() {
    let (mut fake, _) = with_service();
    let t = Timeouts {
        tcp: 10,
        tcp_fin: 0,
        udp: 0,
    };
    assert_eq!(errno(&mut fake, Op::SetTimeouts(t)), 0);
    let d = crate::ipvs::model::SyncDaemon::new(crate::ipvs::model::DaemonRole::Master, "eth0", 1);
    assert_eq!(errno(&mut fake, Op::StartDaemon(d)), 0);
    assert_eq!(errno(&mut fake, Op::Flush), 0);
    assert_eq!(fake.timeouts().unwrap().tcp, 10);
    assert_eq!(fake.daemons().unwrap().len(), 1);
}

#[test]
fn name_limits_follow_the_netlink_policy() {
    // Observed with raw requests on 6.1: over-long names fail the attribute policy (EINVAL),
    // names within the limit that no module provides are ENOENT, an empty PE means none.
    let mut fake = FakeBackend::new();
    let mut svc = Service::new(tcp("10.0.0.1", 80));
    svc.scheduler = Scheduler::new("abcdefghijklmnop");
    assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), libc::EINVAL);
    svc.scheduler = Scheduler::new("abcdefghijklmno");
    assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), libc::ENOENT);
    svc.scheduler = Scheduler::new("rr");
    svc.pe_name = Some("abcdefghijklmnopq".into());
    assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), libc::EINVAL);
    svc.pe_name = Some("abcdefghijklmnop".into());
    assert_eq!(errno(&mut fake, Op::AddService(svc.clone())), libc::ENOENT);
    svc.pe_name = Some(String::new());
    assert_eq!(errno(&mut fake, Op::AddService(svc)), 0);
    assert_eq!(fake.services().unwrap()[0].pe_name, None);
}

#[test]
fn unknown_protocols_and_user_hashed_flag_are_accepted() {
    let mut fake = FakeBackend::new();
    let gre = ServiceKey::Addr {
        protocol: Protocol::Other(47),
        addr: ip("10.0.0.4"),
        port: 80,
    };
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(gre))), 0);
    let mut hashed = Service::new(tcp("10.0.0.6", 80));
    hashed.flags = ServiceFlags(ServiceFlags::HASHED);
    assert_eq!(errno(&mut fake, Op::AddService(hashed.clone())), 0);
    assert_eq!(errno(&mut fake, Op::AddService(hashed)), libc::EEXIST);
}

#[test]
fn persistence_timeout_wraps_through_u32_jiffies() {
    let mut fake = FakeBackend::new();
    let key = tcp("10.0.0.5", 80);
    let mut svc = Service::new(key);
    svc.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    svc.timeout = 17_179_870;
    assert_eq!(errno(&mut fake, Op::AddService(svc)), 0);
    assert_eq!(
        fake.service(&key).unwrap().timeout,
        0,
        "6.1 lists it as `persistent 0`"
    );
}
