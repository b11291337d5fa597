use super::*;
use crate::ipvs::model::{Protocol, ServiceFlags, Tunnel};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn non_unicast_dest_addresses_are_einval() {
    for bad in [
        "0.0.0.0",
        "127.255.255.255",
        "224.0.0.1",
        "239.1.1.1",
        "255.255.255.255",
        "::",
        "ff02::1",
        "fe80::1",
        "::ffff:10.0.0.1",
    ] {
        assert_eq!(dest_address(&ip(bad)), Err(libc::EINVAL), "{bad}");
    }
    for good in [
        "10.0.0.1",
        "0.1.2.3",
        "240.0.0.1",
        "127.0.0.1",
        "192.168.1.255",
        "::1",
        "2001:db8::1",
        "fd00::1",
        "fec0::1",
    ] {
        assert_eq!(dest_address(&ip(good)), Ok(()), "{good}");
    }
}

#[test]
fn stored_service_sets_hashed_and_rounds_timeout_through_jiffies() {
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip("10.0.0.1"),
        port: 80,
    };
    let mut svc = Service::new(key);
    svc.timeout = 300;
    svc.pe_name = Some(String::new());
    let s = stored_service(&svc);
    assert_eq!(s.flags.0, ServiceFlags::HASHED);
    assert_eq!(s.timeout, 300);
    assert_eq!(s.pe_name, None);
    svc.timeout = u32::MAX / HZ + 1;
    assert_eq!(
        stored_service(&svc).timeout,
        0,
        "u32 jiffies wrap like the kernel's"
    );
}

#[test]
fn fwmark_zero_is_a_tcp_service_on_the_zero_address() {
    let k = stored_key(&ServiceKey::Fwmark {
        af: AddressFamily::Inet6,
        mark: 0,
    });
    assert_eq!(
        k,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("::"),
            port: 0
        }
    );
}

#[test]
fn service_settings_errnos() {
    let key = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip("2001:db8::1"),
        port: 53,
    };
    let mut svc = Service::new(key);
    assert_eq!(service_settings(&svc), Ok(()));
    svc.netmask = Netmask::V6(0);
    assert_eq!(service_settings(&svc), Err(libc::EINVAL));
    svc.netmask = Netmask::V6(129);
    assert_eq!(service_settings(&svc), Err(libc::EINVAL));
    svc.netmask = Netmask::V6(64);
    svc.scheduler = Scheduler::new("WLC");
    assert_eq!(service_settings(&svc), Err(libc::ENOENT));
    svc.scheduler = Scheduler::new("none");
    svc.pe_name = Some("SIP".into());
    assert_eq!(service_settings(&svc), Err(libc::ENOENT));
    svc.pe_name = Some("sip".into());
    assert_eq!(service_settings(&svc), Ok(()));
    svc.scheduler = Scheduler::new("a-very-long-scheduler");
    assert_eq!(service_policy(&svc), Err(libc::EINVAL));
}

#[test]
fn dest_settings_and_family_errnos() {
    let mut d = Dest::new(ip("10.0.0.2"), 80);
    d.weight = -1;
    assert_eq!(dest_settings(&d), Err(libc::ERANGE));
    d.weight = 0;
    d.l_threshold = 5;
    assert_eq!(dest_settings(&d), Err(libc::ERANGE));
    d.u_threshold = 5;
    assert_eq!(dest_settings(&d), Ok(()));
    d.tunnel = Tunnel {
        kind: TunnelType::Gue,
        port: 0,
        ..Tunnel::default()
    };
    assert_eq!(dest_settings(&d), Err(libc::EINVAL));
    let v6 = Dest::new(ip("2001:db8::2"), 80);
    assert_eq!(
        dest_family(AddressFamily::Inet, &v6, false),
        Err(libc::EINVAL)
    );
    let mut tun = v6.clone();
    tun.fwd = ForwardMethod::Tunnel;
    assert_eq!(dest_family(AddressFamily::Inet, &tun, false), Ok(()));
    assert_eq!(
        dest_family(AddressFamily::Inet, &tun, true),
        Err(libc::EINVAL)
    );
    tun.fwd = ForwardMethod::Other(0x2 | 0x8);
    assert_eq!(
        dest_family(AddressFamily::Inet, &tun, false),
        Ok(()),
        "masked to tunnel"
    );
}

#[test]
fn timeouts_limits_and_merge() {
    let t = |tcp, tcp_fin, udp| Timeouts { tcp, tcp_fin, udp };
    assert_eq!(timeouts(&t(MAX_TIMEOUT, 0, 0)), Ok(()));
    assert_eq!(MAX_TIMEOUT, 8_589_934);
    assert_eq!(timeouts(&t(0, MAX_TIMEOUT + 1, 0)), Err(libc::EINVAL));
    assert_eq!(timeouts(&t(0, 0, u32::MAX)), Err(libc::EINVAL));
    assert_eq!(
        merged_timeouts(t(900, 120, 300), &t(0, 60, 0)),
        t(900, 60, 300)
    );
}

#[test]
fn daemon_maxlen_defaults_and_clamps() {
    assert_eq!(daemon_maxlen(DaemonRole::Master, false, 1500, None), 1472);
    assert_eq!(daemon_maxlen(DaemonRole::Backup, true, 1500, None), 1452);
    assert_eq!(
        daemon_maxlen(DaemonRole::Master, false, 65536, None),
        1472,
        "lo as master"
    );
    assert_eq!(daemon_maxlen(DaemonRole::Backup, false, 65536, None), 65507);
    assert_eq!(
        daemon_maxlen(DaemonRole::Backup, false, 1500, Some(1000)),
        1024
    );
    assert_eq!(
        daemon_maxlen(DaemonRole::Master, false, 1500, Some(1000)),
        1000
    );
    assert_eq!(
        daemon_maxlen(DaemonRole::Master, false, 1500, Some(9000)),
        1472
    );
    assert_eq!(daemon_role(3), Err(libc::EINVAL));
    assert_eq!(daemon_group(Some(&ip("10.0.0.1"))), Err(libc::EINVAL));
    assert_eq!(daemon_group(Some(&ip("ff02::1234"))), Ok(()));
}
