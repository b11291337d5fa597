use super::*;
use crate::ipvs::fake::FakeInterface;
use crate::ipvs::model::{DaemonRole, ForwardMethod, SyncDaemon};

fn master(ifn: &str) -> SyncDaemon {
    SyncDaemon::new(DaemonRole::Master, ifn, 0)
}

#[test]
fn defaults_are_filled_in() {
    let mut fake = FakeBackend::new();
    assert_eq!(errno(&mut fake, Op::StartDaemon(master("eth0"))), 0);
    let mut backup = SyncDaemon::new(DaemonRole::Backup, "eth0", 7);
    backup.mcast_group = Some(ip("ff02::1234"));
    assert_eq!(errno(&mut fake, Op::StartDaemon(backup)), 0);
    let list = fake.daemons().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].role(), Some(DaemonRole::Master));
    assert_eq!(list[0].sync_maxlen, Some(1472));
    assert_eq!(list[0].mcast_group, Some(ip("224.0.0.81")));
    assert_eq!(list[0].mcast_port, Some(8848));
    assert_eq!(list[0].mcast_ttl, Some(1));
    assert_eq!(list[1].role(), Some(DaemonRole::Backup));
    assert_eq!(list[1].syncid, 7);
    assert_eq!(list[1].sync_maxlen, Some(1452));
}

#[test]
fn backup_maxlen_is_clamped_to_1024() {
    let mut fake = FakeBackend::new();
    let mut b = SyncDaemon::new(DaemonRole::Backup, "eth0", 7);
    b.sync_maxlen = Some(1000);
    b.mcast_group = Some(ip("239.1.2.3"));
    b.mcast_port = Some(9000);
    b.mcast_ttl = Some(5);
    assert_eq!(errno(&mut fake, Op::StartDaemon(b)), 0);
    let got = fake.daemons().unwrap().remove(0);
    assert_eq!(got.sync_maxlen, Some(1024));
    assert_eq!((got.mcast_port, got.mcast_ttl), (Some(9000), Some(5)));
}

#[test]
fn running_role_is_eexist_and_stopping_idle_is_esrch() {
    let mut fake = FakeBackend::new();
    assert_eq!(
        errno(&mut fake, Op::StopDaemon(DaemonRole::Master, 0)),
        libc::ESRCH
    );
    assert_eq!(errno(&mut fake, Op::StartDaemon(master("lo"))), 0);
    assert_eq!(
        errno(&mut fake, Op::StartDaemon(master("eth0"))),
        libc::EEXIST
    );
    assert_eq!(
        errno(&mut fake, Op::StopDaemon(DaemonRole::Backup, 0)),
        libc::ESRCH
    );
    assert_eq!(
        errno(&mut fake, Op::StopDaemon(DaemonRole::Master, 3)),
        0,
        "syncid ignored"
    );
    assert_eq!(fake.daemons().unwrap(), vec![]);
}

#[test]
fn unknown_interface_is_enodev_and_configurable() {
    let mut fake = FakeBackend::new();
    assert_eq!(
        errno(&mut fake, Op::StartDaemon(master("nosuchif0"))),
        libc::ENODEV
    );
    assert_eq!(
        errno(
            &mut fake,
            Op::StartDaemon(master("averyveryverylongifname"))
        ),
        libc::EINVAL
    );
    let mut fake = FakeBackend::with_interfaces(vec![FakeInterface::new("bond0", 9000)]);
    assert_eq!(
        errno(&mut fake, Op::StartDaemon(master("eth0"))),
        libc::ENODEV
    );
    let backup = SyncDaemon::new(DaemonRole::Backup, "bond0", 1);
    assert_eq!(errno(&mut fake, Op::StartDaemon(backup)), 0);
    assert_eq!(fake.daemons().unwrap()[0].sync_maxlen, Some(9000 - 28));
}

#[test]
fn non_multicast_group_and_bad_state_are_einval() {
    let mut fake = FakeBackend::new();
    let mut d = master("eth0");
    d.mcast_group = Some(ip("10.0.0.1"));
    assert_eq!(errno(&mut fake, Op::StartDaemon(d.clone())), libc::EINVAL);
    d.mcast_group = Some(ip("2001:db8::1"));
    assert_eq!(errno(&mut fake, Op::StartDaemon(d.clone())), libc::EINVAL);
    d.mcast_group = None;
    d.state = 3;
    assert_eq!(errno(&mut fake, Op::StartDaemon(d)), libc::EINVAL);
}

#[test]
fn daemon_start_with_mixed_family_dests_is_einval() {
    let (mut fake, key) = with_service();
    let mut d = Dest::new(ip("2001:db8::9"), 80);
    d.fwd = ForwardMethod::Tunnel;
    assert_eq!(errno(&mut fake, Op::AddDest(key, d.clone())), 0);
    assert_eq!(
        errno(&mut fake, Op::StartDaemon(master("eth0"))),
        libc::EINVAL
    );
    assert_eq!(errno(&mut fake, Op::DelDest(key, d.key())), 0);
    assert_eq!(errno(&mut fake, Op::StartDaemon(master("eth0"))), 0);
}

#[test]
fn interface_is_checked_before_the_role() {
    // 6.1: state 3 on lo is EINVAL, on an unknown interface ENODEV; a running master is
    // EEXIST on a known interface but ENODEV on an unknown one.
    let mut fake = FakeBackend::new();
    let mut d = master("lo");
    d.state = 3;
    assert_eq!(errno(&mut fake, Op::StartDaemon(d.clone())), libc::EINVAL);
    d.mcast_ifn = "nosuch".into();
    assert_eq!(errno(&mut fake, Op::StartDaemon(d)), libc::ENODEV);
    assert_eq!(errno(&mut fake, Op::StartDaemon(master("lo"))), 0);
    assert_eq!(
        errno(&mut fake, Op::StartDaemon(master("nosuch"))),
        libc::ENODEV
    );
    assert_eq!(
        errno(&mut fake, Op::StartDaemon(master("lo"))),
        libc::EEXIST
    );
}
