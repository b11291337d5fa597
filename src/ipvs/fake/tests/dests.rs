use super::*;
use crate::ipvs::model::{AddressFamily, ForwardMethod, Tunnel, TunnelCsum, TunnelType};

#[test]
fn dest_ops_on_a_missing_service_are_esrch() {
    let mut fake = FakeBackend::new();
    let key = tcp("10.0.0.1", 80);
    let d = Dest::new(ip("10.0.0.2"), 80);
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), libc::ESRCH);
    assert_eq!(errno(&mut fake, Op::EditDest(key, d.clone())), libc::ESRCH);
    assert_eq!(errno(&mut fake, Op::DelDest(key, d.key())), libc::ESRCH);
}

#[test]
fn duplicate_dest_is_eexist_and_missing_dest_is_enoent() {
    let (mut fake, key) = with_service();
    let d = Dest::new(ip("10.0.0.2"), 80);
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), libc::EEXIST);
    let other = Dest::new(ip("10.0.0.3"), 80);
    assert_eq!(
        errno(&mut fake, Op::EditDest(key, other.clone())),
        libc::ENOENT
    );
    assert_eq!(
        errno(&mut fake, Op::DelDest(key, other.key())),
        libc::ENOENT
    );
    let other_port = Dest::new(ip("10.0.0.2"), 81);
    assert_eq!(
        errno(&mut fake, Op::AddDest(key, other_port)),
        0,
        "port is part of identity"
    );
}

#[test]
fn negative_weight_and_inverted_thresholds_are_erange() {
    let (mut fake, key) = with_service();
    let mut d = Dest::new(ip("10.0.0.3"), 80);
    d.weight = -1;
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), libc::ERANGE);
    d.weight = 0;
    d.l_threshold = 5;
    assert_eq!(
        errno(&mut fake, Op::AddDest(key, d.clone())),
        libc::ERANGE,
        "-y 5 alone"
    );
    let mut existing = Dest::new(ip("10.0.0.2"), 80);
    existing.weight = -5;
    assert_eq!(errno(&mut fake, Op::EditDest(key, existing)), libc::ERANGE);
    // The range check comes before the duplicate check.
    let mut dup = Dest::new(ip("10.0.0.2"), 80);
    dup.weight = -1;
    assert_eq!(errno(&mut fake, Op::AddDest(key, dup)), libc::ERANGE);
}

#[test]
fn gue_without_port_is_einval() {
    let (mut fake, key) = with_service();
    let mut d = Dest::new(ip("10.0.0.3"), 80);
    d.fwd = ForwardMethod::Tunnel;
    d.tunnel = Tunnel {
        kind: TunnelType::Gue,
        port: 0,
        csum: TunnelCsum::NoCsum,
    };
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), libc::EINVAL);
    d.tunnel.port = 6080;
    d.tunnel.csum = TunnelCsum::RemCsum;
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), 0);
    assert_eq!(fake.dests(&key).unwrap()[0].tunnel, d.tunnel);
}

#[test]
fn non_unicast_dests_are_einval() {
    let mut fake = FakeBackend::new();
    let v4 = tcp("10.0.0.1", 80);
    let v6 = tcp("2001:db8::1", 80);
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(v4))), 0);
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(v6))), 0);
    for bad in ["0.0.0.0", "224.0.0.1", "255.255.255.255"] {
        assert_eq!(
            errno(&mut fake, Op::AddDest(v4, Dest::new(ip(bad), 80))),
            libc::EINVAL,
            "{bad}"
        );
    }
    for bad in ["fe80::1", "ff02::1"] {
        assert_eq!(
            errno(&mut fake, Op::AddDest(v6, Dest::new(ip(bad), 80))),
            libc::EINVAL,
            "{bad}"
        );
    }
    assert_eq!(
        errno(&mut fake, Op::AddDest(v4, Dest::new(ip("127.0.0.1"), 80))),
        0
    );
    assert_eq!(
        errno(&mut fake, Op::AddDest(v6, Dest::new(ip("::1"), 80))),
        0
    );
}

#[test]
fn mixed_family_dest_needs_tunnel_and_no_sync_daemon() {
    let (mut fake, key) = with_service();
    let mut d = Dest::new(ip("2001:db8::2"), 80);
    for fwd in [ForwardMethod::Route, ForwardMethod::Masq] {
        d.fwd = fwd;
        assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), libc::EINVAL);
    }
    d.fwd = ForwardMethod::Tunnel;
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), 0);
    d.fwd = ForwardMethod::Route;
    assert_eq!(
        errno(&mut fake, Op::EditDest(key, d.clone())),
        libc::EINVAL,
        "-e to DR"
    );
    assert_eq!(
        errno(&mut fake, Op::DelDest(key, d.key())),
        0,
        "DEL skips the family check"
    );
    let master =
        crate::ipvs::model::SyncDaemon::new(crate::ipvs::model::DaemonRole::Master, "lo", 0);
    assert_eq!(errno(&mut fake, Op::StartDaemon(master)), 0);
    d.fwd = ForwardMethod::Tunnel;
    assert_eq!(
        errno(&mut fake, Op::AddDest(key, d)),
        libc::EINVAL,
        "sync daemon runs"
    );
}

#[test]
fn mixed_family_on_ipv6_fwmark_service() {
    let mut fake = FakeBackend::new();
    let fw6 = ServiceKey::Fwmark {
        af: AddressFamily::Inet6,
        mark: 3,
    };
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(fw6))), 0);
    let mut d = Dest::new(ip("10.0.0.5"), 0);
    assert_eq!(errno(&mut fake, Op::AddDest(fw6, d.clone())), libc::EINVAL);
    d.fwd = ForwardMethod::Tunnel;
    assert_eq!(errno(&mut fake, Op::AddDest(fw6, d)), 0);
}

#[test]
fn dests_are_listed_newest_first() {
    let (mut fake, key) = with_service();
    for last in [3, 4] {
        let d = Dest::new(ip(&format!("10.0.0.{last}")), 80);
        assert_eq!(errno(&mut fake, Op::AddDest(key, d)), 0);
    }
    let order: Vec<_> = fake.dests(&key).unwrap().iter().map(|d| d.addr).collect();
    assert_eq!(order, vec![ip("10.0.0.4"), ip("10.0.0.3"), ip("10.0.0.2")]);
}

#[test]
fn set_dest_replaces_config_keeps_counters_and_masks_fwd() {
    let (mut fake, key) = with_service();
    let dk = Dest::new(ip("10.0.0.2"), 80).key();
    assert!(fake.set_dest_conns(&key, &dk, (3, 4, 5)));
    let mut d = Dest::new(ip("10.0.0.2"), 80);
    d.fwd = ForwardMethod::Other(0x8);
    d.weight = 0;
    d.u_threshold = 10;
    d.l_threshold = 2;
    assert_eq!(errno(&mut fake, Op::EditDest(key, d.clone())), 0);
    let got = fake.dests(&key).unwrap().remove(0);
    assert_eq!(
        got.fwd,
        ForwardMethod::Masq,
        "0x8 & IP_VS_CONN_F_FWD_MASK = masq"
    );
    assert_eq!((got.weight, got.u_threshold, got.l_threshold), (0, 10, 2));
    assert_eq!(
        (got.active_conns, got.inact_conns, got.persist_conns),
        (3, 4, 5)
    );
}

#[test]
fn deleted_dest_comes_back_fresh() {
    let (mut fake, key) = with_service();
    let d = Dest::new(ip("10.0.0.2"), 80);
    assert!(fake.set_dest_conns(&key, &d.key(), (1, 1, 1)));
    assert_eq!(errno(&mut fake, Op::DelDest(key, d.key())), 0);
    assert_eq!(fake.dests(&key).unwrap(), vec![]);
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), 0);
    assert_eq!(fake.dests(&key).unwrap(), vec![d]);
}

#[test]
fn unknown_forwarding_codes_are_stored() {
    let (mut fake, key) = with_service();
    let d = Dest {
        fwd: ForwardMethod::Other(5),
        ..Dest::new(ip("10.0.0.7"), 80)
    };
    assert_eq!(errno(&mut fake, Op::AddDest(key, d)), 0);
    assert_eq!(fake.dests(&key).unwrap()[0].fwd, ForwardMethod::Other(5));
}
