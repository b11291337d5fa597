//! NetlinkBackend against the real kernel (IPVS VM), cross-checked with real ipvsadm.
//!
//! Run it in the VM through cargo's target runner (docs/testing.md, Running the tests):
//! `CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$PWD/tests/vm/runner LVSCTL_REQUIRE_KERNEL=1
//! cargo test --test kernel_backend`, or a built test binary by hand with
//! `tests/vm/lvs-vm run --cpus 2 -- env LVSCTL_IN_VM=1 RUST_TEST_THREADS=1 <binary>`.
#![allow(clippy::unwrap_used)] // test helpers: a bad fixture should panic loudly

mod kernel_scenario;
mod support;

use std::net::{IpAddr, Ipv4Addr};

use kernel_scenario::{
    assert_same_config, bulk_ops, dest, expected_entries, fwm, key, persistent, scenario, sorted,
    svc, tcp,
};
use lvsctl::ipvs::netlink::NetlinkBackend;
use lvsctl::ipvs::{
    AddressFamily, Backend, DaemonRole, Dest, DestKey, ForwardMethod, IpvsError, Netmask, Op,
    OpKind, Protocol, Stats, SyncDaemon, Timeouts, TunnelType,
};
use support::sh;

fn backend() -> NetlinkBackend {
    NetlinkBackend::connect().expect("connect to IPVS")
}

/// ipvsadm's views of the table that together show every configured field.
const VIEWS: &str = "ipvsadm -Sn; echo ==; ipvsadm -Ln --thresholds; echo ==; ipvsadm -Ln --tun-info; echo ==; ipvsadm -Ln --persistent-conn; echo ==; ipvsadm -Ln --stats --exact";

fn ipvsadm_script(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| format!("ipvsadm {l} || echo FAILED {l}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Run ipvsadm command lines in a brand-new netns (a child of this one) and return its views.
fn views_from_ipvsadm(lines: &[&str]) -> String {
    let script = format!("ip link set lo up; {}; {VIEWS}", ipvsadm_script(lines));
    let (out, err, rc) = sh(&format!("unshare -n sh -c '{script}'"));
    assert_eq!(rc, 0, "{err}");
    assert!(!out.contains("FAILED"), "{out}\n{err}");
    out
}

#[test]
fn connect_reports_info() {
    kernel_test!();
    let mut b = backend();
    let info = b.info().unwrap();
    assert_eq!(info.version_triple(), (1, 2, 1));
    assert_eq!(info.conn_tab_size, 4096);
    assert_eq!(b.cached_info(), info);
    let c = b.counters();
    assert_eq!(
        c.sendmsg_calls, 3,
        "resolve + GET_INFO at connect + GET_INFO"
    );
    assert_eq!(b.opening_info().unwrap(), info);
    assert_eq!(b.counters(), c, "the connect-time answer costs no request");
}

/// Sockets among this process's open files.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

#[test]
fn dump_socket_opens_with_the_first_listing() {
    kernel_test!();
    let before = open_sockets();
    let mut b = backend();
    assert_eq!(open_sockets(), before + 1, "connect opens one socket");
    let key = tcp("10.0.0.1", 80);
    b.apply_one(&Op::AddService(svc(key, "rr"))).unwrap();
    b.service(&key).unwrap();
    assert_eq!(open_sockets(), before + 1, "writes and single reads use it");
    assert!(b.small_dump_reads());
    assert_eq!(b.entries().unwrap().len(), 1);
    assert_eq!(
        open_sockets(),
        before + 2,
        "a full listing adds the dump socket"
    );
    drop(b);
    assert_eq!(open_sockets(), before);
}

#[test]
fn what_we_write_ipvsadm_reads_back() {
    kernel_test!();
    let sc = scenario();
    let ops: Vec<Op> = sc.iter().map(|(_, op)| op.clone()).collect();
    let mut b = backend();
    for (r, (line, _)) in b.apply(&ops).into_iter().zip(&sc) {
        r.unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    let (ours, err, rc) = sh(VIEWS);
    assert_eq!(rc, 0, "{err}");
    let lines: Vec<&str> = sc.iter().map(|(l, _)| *l).collect();
    assert_eq!(ours, views_from_ipvsadm(&lines));
    assert_same_config(&sorted(b.entries().unwrap()), &expected_entries(&ops));
}

#[test]
fn what_ipvsadm_writes_we_read_back() {
    kernel_test!();
    let sc = scenario();
    let lines: Vec<&str> = sc.iter().map(|(l, _)| *l).collect();
    let (out, err, rc) = sh(&ipvsadm_script(&lines));
    assert!(rc == 0 && !out.contains("FAILED"), "{out}{err}");
    let ops: Vec<Op> = sc.into_iter().map(|(_, op)| op).collect();
    let mut b = backend();
    let want = expected_entries(&ops);
    let got = sorted(b.entries().unwrap());
    assert_same_config(&got, &want);
    // Field by field as well: everything but counters, rates and the kernel's HASHED bit.
    for (g, w) in got.iter().zip(&want) {
        let mut g_svc = g.service.clone();
        g_svc.flags = g_svc.flags.configured();
        g_svc.stats = w.service.stats;
        g_svc.rates = w.service.rates;
        assert_eq!(g_svc, w.service);
        assert_eq!(b.service(&w.service.key).unwrap().key, w.service.key);
        let mut dests = b.dests(&w.service.key).unwrap();
        dests.sort_by_key(Dest::key);
        assert_eq!(dests.len(), w.dests.len());
    }
}

#[test]
fn edit_zero_delete_flush_round_trip() {
    kernel_test!();
    let mut b = backend();
    let k6 = fwm(AddressFamily::Inet6, 9);
    let k4 = tcp("10.2.0.1", 80);
    let d = dest("192.168.20.1", 80, ForwardMethod::Route, 1);
    let d6 = dest("2001:db8::99", 0, ForwardMethod::Route, 1);
    let ops = [
        Op::AddService(svc(k4, "rr")),
        Op::AddService(svc(k6, "wlc")),
        Op::AddDest(k4, d.clone()),
        Op::AddDest(k6, d6.clone()),
        Op::EditService(persistent(
            svc(k4, "wrr"),
            30,
            Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)),
        )),
        Op::EditDest(k4, dest("192.168.20.1", 80, ForwardMethod::Tunnel, 9)),
        Op::Zero(Some(k4)),
        Op::Zero(Some(k6)),
        Op::Zero(None),
    ];
    assert!(b.apply(&ops).iter().all(Result::is_ok));
    let s = b.service(&k4).unwrap();
    assert_eq!((s.scheduler.as_str(), s.timeout), ("wrr", 30));
    assert!(s.flags.persistent());
    let ds = b.dests(&k4).unwrap();
    assert_eq!((ds[0].fwd, ds[0].weight), (ForwardMethod::Tunnel, 9));
    let (save, _, _) = sh("ipvsadm -Sn");
    assert_eq!(
        save,
        "-A -t 10.2.0.1:80 -s wrr -p 30 -M 255.255.0.0\n-a -t 10.2.0.1:80 -r 192.168.20.1:80 -i -w 9 --tun-type ipip\n\
         -A -f 9 -6 -s wlc\n-a -f 9 -6 -r [2001:db8::99]:0 -g -w 1\n"
    );
    let res = b.apply(&[
        Op::DelDest(k4, d.key()),
        Op::DelDest(k6, d6.key()),
        Op::DelService(k6),
    ]);
    assert!(res.iter().all(Result::is_ok), "{res:?}");
    assert_eq!(b.services().unwrap().len(), 1);
    assert!(b.dests(&k4).unwrap().is_empty());
    b.apply_one(&Op::Flush).unwrap();
    assert!(b.services().unwrap().is_empty());
    // GET_DEST of a missing service is an empty dump; GET_SERVICE is ESRCH.
    assert!(b.dests(&k4).unwrap().is_empty());
    assert!(matches!(
        b.service(&k4),
        Err(IpvsError::Kernel {
            op: OpKind::GetService,
            errno: libc::ESRCH
        })
    ));
}

#[test]
fn timeouts_set_and_get() {
    kernel_test!();
    let mut b = backend();
    assert_eq!(
        b.timeouts().unwrap(),
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }
    );
    b.apply_one(&Op::SetTimeouts(Timeouts {
        tcp: 100,
        tcp_fin: 0,
        udp: 30,
    }))
    .unwrap();
    assert_eq!(
        b.timeouts().unwrap(),
        Timeouts {
            tcp: 100,
            tcp_fin: 120,
            udp: 30
        }
    );
    let (out, _, _) = sh("ipvsadm -L --timeout");
    assert_eq!(out, "Timeout (tcp tcpfin udp): 100 120 30\n");
    sh("ipvsadm --set 7 8 9");
    assert_eq!(
        b.timeouts().unwrap(),
        Timeouts {
            tcp: 7,
            tcp_fin: 8,
            udp: 9
        }
    );
    let r = b.apply_one(&Op::SetTimeouts(Timeouts {
        tcp: u32::MAX,
        tcp_fin: 0,
        udp: 0,
    }));
    assert_eq!(r.unwrap_err().errno(), libc::EINVAL);
}

#[test]
fn sync_daemons_start_list_stop() {
    kernel_test!();
    let (_, err, rc) = sh("ip link add eth0 type dummy && ip link set eth0 up");
    assert_eq!(rc, 0, "{err}");
    let mut b = backend();
    let backup = SyncDaemon {
        sync_maxlen: Some(1000),
        mcast_group: Some(IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3))),
        mcast_port: Some(9000),
        mcast_ttl: Some(5),
        ..SyncDaemon::new(DaemonRole::Backup, "eth0", 7)
    };
    let master = SyncDaemon {
        mcast_group: Some("ff02::1234".parse().unwrap()),
        ..SyncDaemon::new(DaemonRole::Master, "eth0", 0)
    };
    let res = b.apply(&[
        Op::StartDaemon(backup.clone()),
        Op::StartDaemon(master.clone()),
        Op::StartDaemon(backup.clone()),
        Op::StartDaemon(SyncDaemon::new(DaemonRole::Master, "nosuchif0", 1)),
    ]);
    assert!(res[0].is_ok() && res[1].is_ok(), "{res:?}");
    assert_eq!(res[2].as_ref().unwrap_err().errno(), libc::EEXIST);
    assert!(matches!(
        res[2],
        Err(IpvsError::Kernel {
            op: OpKind::StartDaemon,
            ..
        })
    ));
    // master already runs: EEXIST wins over the bad interface
    assert!(res[3].is_err());
    let mut ds = b.daemons().unwrap();
    ds.sort_by_key(|d| d.state);
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[0].mcast_group, master.mcast_group);
    assert_eq!(
        (ds[0].syncid, ds[0].mcast_port, ds[0].mcast_ttl),
        (0, Some(8848), Some(1))
    );
    // The kernel rounds the sync message length to what fits its MTU arithmetic.
    assert!(ds[1].sync_maxlen.is_some());
    let sync_maxlen = ds[1].sync_maxlen;
    assert_eq!(
        ds[1],
        SyncDaemon {
            state: 2,
            sync_maxlen,
            ..backup
        }
    );
    // The same daemons started by ipvsadm in another netns list identically.
    let (ours, _, _) = sh("ipvsadm -L --daemon");
    let (theirs, err, rc) = sh(
        "unshare -n sh -c 'ip link add eth0 type dummy; ip link set eth0 up; \
         ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 7 --sync-maxlen 1000 \
         --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 5; \
         ipvsadm --start-daemon master --mcast-group ff02::1234; ipvsadm -L --daemon; \
         ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup'",
    );
    assert_eq!(rc, 0, "{err}");
    assert_eq!(ours, theirs);
    let res = b.apply(&[
        Op::StopDaemon(DaemonRole::Backup, 0),
        Op::StopDaemon(DaemonRole::Backup, 0),
        Op::StopDaemon(DaemonRole::Master, 3),
    ]);
    assert!(res[0].is_ok() && res[2].is_ok(), "{res:?}");
    assert!(matches!(
        res[1],
        Err(IpvsError::Kernel {
            op: OpKind::StopDaemon,
            errno: libc::ESRCH
        })
    ));
    assert!(b.daemons().unwrap().is_empty());
}

#[test]
fn errors_map_to_the_op_that_caused_them() {
    kernel_test!();
    let mut b = backend();
    let a = tcp("10.3.0.1", 80);
    let missing = tcp("10.3.0.2", 80);
    let mut bad_thresh = dest("192.168.30.3", 80, ForwardMethod::Route, 1);
    bad_thresh.l_threshold = 5;
    let mut gue0 = dest("192.168.30.4", 80, ForwardMethod::Tunnel, 1);
    gue0.tunnel.kind = TunnelType::Gue;
    let ops = vec![
        Op::AddService(svc(a, "rr")),
        Op::AddService(svc(a, "rr")),
        Op::DelService(missing),
        Op::AddDest(missing, dest("192.168.30.1", 80, ForwardMethod::Route, 1)),
        Op::AddDest(a, dest("192.168.30.1", 80, ForwardMethod::Route, 1)),
        Op::AddDest(a, dest("192.168.30.1", 80, ForwardMethod::Route, 1)),
        Op::EditDest(a, dest("192.168.30.2", 80, ForwardMethod::Route, 1)),
        Op::DelDest(
            a,
            DestKey {
                addr: "192.168.30.2".parse().unwrap(),
                port: 80,
            },
        ),
        Op::AddService(svc(tcp("10.3.0.3", 80), "nosuchsched")),
        Op::AddDest(a, dest("0.0.0.0", 80, ForwardMethod::Route, 1)),
        Op::AddDest(a, bad_thresh),
        Op::AddDest(a, dest("192.168.30.5", 80, ForwardMethod::Route, -1)),
        Op::AddDest(a, gue0),
        Op::Zero(Some(missing)),
        Op::EditService(svc(missing, "rr")),
        Op::AddDest(a, dest("192.168.30.9", 80, ForwardMethod::Masq, 2)),
    ];
    let want: [Option<i32>; 16] = [
        None,
        Some(libc::EEXIST),
        Some(libc::ESRCH),
        Some(libc::ESRCH),
        None,
        Some(libc::EEXIST),
        Some(libc::ENOENT),
        Some(libc::ENOENT),
        Some(libc::ENOENT),
        Some(libc::EINVAL),
        Some(libc::ERANGE),
        Some(libc::ERANGE),
        Some(libc::EINVAL),
        Some(libc::ESRCH),
        Some(libc::ESRCH),
        None,
    ];
    // Both ways of asking for acks map every error to its op; also with tiny chunks, so
    // errors land in the middle, at the end and at the start of a chunk.
    for (ack_every, chunk) in [(false, 256), (true, 256), (false, 3)] {
        b.apply_one(&Op::Flush).unwrap();
        b.set_ack_every(ack_every);
        b.set_write_chunk(chunk);
        let res = b.apply(&ops);
        assert_eq!(res.len(), ops.len());
        for ((r, op), w) in res.iter().zip(&ops).zip(want) {
            match (r, w) {
                (Ok(()), None) => {}
                (Err(IpvsError::Kernel { op: kind, errno }), Some(e)) => {
                    assert_eq!((*kind, *errno), (op.kind(), e), "{op:?}");
                }
                other => panic!("ack_every {ack_every} chunk {chunk}: {op:?}: {other:?}"),
            }
        }
        assert_eq!(b.dests(&a).unwrap().len(), 2);
    }
}

#[test]
fn a_thousand_services_with_dests_in_one_apply_and_one_listing() {
    kernel_test!();
    let mut b = backend();
    let ops = bulk_ops(1000, 2);
    let before = b.counters();
    let res = b.apply(&ops);
    let after = b.counters();
    assert!(
        res.iter().all(Result::is_ok),
        "{:?}",
        res.iter().find(|r| r.is_err())
    );
    let sends = after.sendmsg_calls - before.sendmsg_calls;
    let recvs = after.recvmsg_calls - before.recvmsg_calls;
    eprintln!(
        "apply of {} ops: {sends} sendmsg, {recvs} recvmsg",
        ops.len()
    );
    assert!(sends <= 20, "{sends} sendmsg calls");
    assert!(recvs <= 20, "{recvs} recvmsg calls");
    let before = b.counters();
    let entries = b.entries().unwrap();
    let after = b.counters();
    eprintln!(
        "listing 1000x2: {} sendmsg, {} recvmsg, {} messages",
        after.sendmsg_calls - before.sendmsg_calls,
        after.recvmsg_calls - before.recvmsg_calls,
        after.messages_sent - before.messages_sent
    );
    assert_eq!(entries.len(), 1000);
    assert!(entries.iter().all(|e| e.dests.len() == 2));
    assert_same_config(&sorted(entries), &expected_entries(&ops));
    let (save, _, _) = sh("ipvsadm -Sn | wc -l");
    assert_eq!(save.trim(), "3000");
}

#[test]
fn listing_with_a_huge_service_falls_back_after_ebusy() {
    kernel_test!();
    let mut b = backend();
    let mut ops = bulk_ops(1, 600);
    // Small and empty services after the big one, so some GET_DESTs share its sendmsg.
    for i in 0..20 {
        let k = tcp(&format!("10.200.0.{}", i + 1), 80);
        ops.push(Op::AddService(svc(k, "rr")));
        if i % 2 == 0 {
            ops.push(Op::AddDest(
                k,
                dest("172.17.0.1", 80, ForwardMethod::Route, 1),
            ));
        }
    }
    assert!(b.apply(&ops).iter().all(Result::is_ok));
    for batch in [64, 1] {
        b.set_dump_batch(batch);
        let before = b.counters();
        let entries = sorted(b.entries().unwrap());
        let after = b.counters();
        eprintln!(
            "batch {batch}: {} sendmsg, {} recvmsg, {} messages",
            after.sendmsg_calls - before.sendmsg_calls,
            after.recvmsg_calls - before.recvmsg_calls,
            after.messages_sent - before.messages_sent
        );
        assert_same_config(&entries, &expected_entries(&ops));
        assert_eq!(entries.iter().map(|e| e.dests.len()).max(), Some(600));
        let messages = after.messages_sent - before.messages_sent;
        if batch > 1 {
            // Some GET_DESTs were refused with EBUSY and sent again.
            assert!(
                messages > 22,
                "{messages} messages: EBUSY fallback not exercised"
            );
        } else {
            assert_eq!(messages, 22, "one service dump + one GET_DEST per service");
        }
    }
}

#[test]
fn empty_table_lists_nothing() {
    kernel_test!();
    let mut b = backend();
    assert!(b.services().unwrap().is_empty());
    assert!(b.entries().unwrap().is_empty());
    assert!(b.daemons().unwrap().is_empty());
}

/// ipvsadm reports EPERM ("Permission denied (you must be root)") without CAP_NET_ADMIN:
/// the family resolves but GET_INFO is refused. Checked in a child re-running this test as
/// `nobody` with no capabilities.
#[test]
fn unprivileged_connect_is_eperm() {
    if std::env::var_os("LVSCTL_EPERM_CHILD").is_some() {
        match NetlinkBackend::connect() {
            Err(IpvsError::Unavailable { errno }) => assert_eq!(errno, libc::EPERM),
            other => panic!("expected Unavailable(EPERM), got {other:?}"),
        }
        return;
    }
    kernel_test!();
    let exe = std::env::current_exe().unwrap();
    let (out, err, rc) = sh(&format!(
        "LVSCTL_EPERM_CHILD=1 setpriv --reuid=65534 --regid=65534 --clear-groups \
         --inh-caps=-all --bounding-set=-all {} --exact unprivileged_connect_is_eperm",
        exe.display()
    ));
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.contains("1 passed"), "{out}{err}");
}

/// Without IPVS at all (this build host's kernel) connect fails the way ipvsadm's init
/// does: ENOPROTOOPT for root. Runs only where IPVS is absent.
#[test]
fn connect_without_ipvs_is_enoprotoopt() {
    let root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if support::in_vm() || std::path::Path::new("/proc/net/ip_vs").exists() || !root {
        eprintln!("connect_without_ipvs_is_enoprotoopt: NOT RUN: IPVS present or not root");
        return;
    }
    match NetlinkBackend::connect() {
        Err(IpvsError::Unavailable { errno }) => assert_eq!(errno, libc::ENOPROTOOPT),
        other => panic!("expected Unavailable(ENOPROTOOPT), got {other:?}"),
    }
}

/// Every op of a big batch failing: all error replies must arrive (none dropped for lack
/// of receive buffer) and land on their own op.
#[test]
fn a_thousand_failures_are_all_reported() {
    kernel_test!();
    let mut b = backend();
    let missing = tcp("10.9.9.9", 80);
    let ops: Vec<Op> = (0..1000)
        .map(|i| {
            Op::AddDest(
                missing,
                dest(
                    &format!("172.18.{}.{}", i / 250, i % 250 + 1),
                    80,
                    ForwardMethod::Route,
                    1,
                ),
            )
        })
        .collect();
    for chunk in [256, 1024] {
        b.set_write_chunk(chunk);
        let res = b.apply(&ops);
        assert!(
            res.iter().all(|r| matches!(
                r,
                Err(IpvsError::Kernel {
                    op: OpKind::AddDest,
                    errno: libc::ESRCH
                })
            )),
            "chunk {chunk}: {:?}",
            res.iter()
                .find(|r| !matches!(r, Err(IpvsError::Kernel { .. })))
        );
    }
}

/// Timing of write chunk sizes (printed; run with --nocapture). Informs WRITE_CHUNK_MESSAGES.
#[test]
fn measure_write_chunk_sizes() {
    kernel_test!();
    let mut b = backend();
    let ops = bulk_ops(500, 3);
    for (chunk, ack_every) in [
        (1, false),
        (16, false),
        (64, false),
        (256, false),
        (1024, false),
        (256, true),
    ] {
        b.set_write_chunk(chunk);
        b.set_ack_every(ack_every);
        let before = b.counters();
        let t = std::time::Instant::now();
        let res = b.apply(&ops);
        let elapsed = t.elapsed();
        assert!(res.iter().all(Result::is_ok));
        let after = b.counters();
        eprintln!(
            "chunk {chunk:>4} ack_every {ack_every}: {} ops in {elapsed:?}, {} sendmsg, {} recvmsg",
            ops.len(),
            after.sendmsg_calls - before.sendmsg_calls,
            after.recvmsg_calls - before.recvmsg_calls
        );
        b.apply_one(&Op::Flush).unwrap();
    }
}

/// Real packets through a service, then ZERO: counters come back through STATS64 and
/// go to zero for that service (and everything with `Zero(None)`).
#[test]
fn counters_from_traffic_and_zero() {
    kernel_test!();
    let (_, err, rc) = sh("ip link add eth0 type dummy && ip link set eth0 up && \
         ip addr add 10.9.9.1/24 dev eth0");
    assert_eq!(rc, 0, "{err}");
    let mut b = backend();
    let k = key(Protocol::Udp, "10.9.9.100", 53);
    let k2 = key(Protocol::Udp, "10.9.9.101", 53);
    let res = b.apply(&[
        Op::AddService(svc(k, "rr")),
        Op::AddDest(k, dest("10.9.9.2", 53, ForwardMethod::Masq, 1)),
        Op::AddService(svc(k2, "rr")),
        Op::AddDest(k2, dest("10.9.9.3", 53, ForwardMethod::Masq, 1)),
    ]);
    assert!(res.iter().all(Result::is_ok), "{res:?}");
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    for _ in 0..3 {
        sock.send_to(&[b'x'; 50], "10.9.9.100:53").unwrap();
        sock.send_to(&[b'y'; 50], "10.9.9.101:53").unwrap();
    }
    // The kernel folds its per-CPU counters into what it reports every 2 s (estimator).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let s = b.service(&k).unwrap();
    let (conns, _, _) = sh("ipvsadm -Lnc; ipvsadm -Ln --stats");
    assert!(
        s.stats.conns >= 1 && s.stats.inpkts >= 3,
        "{:?}\n{conns}",
        s.stats
    );
    assert!(s.stats.inbytes >= 3 * 50, "{:?}", s.stats);
    let d = &b.dests(&k).unwrap()[0];
    assert_eq!(d.stats.inpkts, s.stats.inpkts);
    assert!(d.active_conns + d.inact_conns >= 1);
    // Same numbers as ipvsadm prints.
    let (out, _, _) = sh("ipvsadm -Ln --stats --exact -u 10.9.9.100:53");
    let row: Vec<String> = out
        .lines()
        .find(|l| l.starts_with("UDP  10.9.9.100:53"))
        .unwrap()
        .split_whitespace()
        .skip(2)
        .map(str::to_owned)
        .collect();
    let st = s.stats;
    let ours: Vec<String> = [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes]
        .iter()
        .map(u64::to_string)
        .collect();
    assert_eq!(row, ours, "{out}");
    b.apply_one(&Op::Zero(Some(k))).unwrap();
    assert_eq!(b.service(&k).unwrap().stats, Stats::default());
    assert!(
        b.service(&k2).unwrap().stats.inpkts >= 3,
        "other service untouched"
    );
    b.apply_one(&Op::Zero(None)).unwrap();
    assert_eq!(b.service(&k2).unwrap().stats, Stats::default());
    assert_eq!(b.dests(&k2).unwrap()[0].stats, Stats::default());
}

/// Services without dests finish their GET_DEST dump inside the `sendmsg` that asked, so
/// those dumps share `sendmsg` calls (the batch grows up to 64).
#[test]
fn dest_dumps_of_empty_services_share_sendmsg_calls() {
    kernel_test!();
    let mut b = backend();
    let ops = bulk_ops(1000, 0);
    assert!(b.apply(&ops).iter().all(Result::is_ok));
    let before = b.counters();
    let entries = b.entries().unwrap();
    let after = b.counters();
    let sends = after.sendmsg_calls - before.sendmsg_calls;
    let recvs = after.recvmsg_calls - before.recvmsg_calls;
    eprintln!("listing 1000x0: {sends} sendmsg, {recvs} recvmsg");
    assert_eq!(entries.len(), 1000);
    assert!(entries.iter().all(|e| e.dests.is_empty()));
    assert!(sends <= 30, "{sends} sendmsg calls");
}

/// An op that cannot even be encoded fails alone; its neighbours in the batch still run.
#[test]
fn unencodable_op_fails_alone() {
    kernel_test!();
    let mut b = backend();
    let res = b.apply(&[
        Op::AddService(svc(tcp("10.5.0.1", 80), "rr")),
        Op::AddService(svc(tcp("10.5.0.2", 80), &"x".repeat(5000))),
        Op::AddService(svc(
            tcp("10.5.0.3", 80),
            "a-scheduler-name-too-long-for-ipvs",
        )),
        Op::AddService(svc(tcp("10.5.0.4", 80), "rr")),
    ]);
    assert!(res[0].is_ok() && res[3].is_ok(), "{res:?}");
    assert!(matches!(res[1], Err(IpvsError::Malformed(_))), "{res:?}");
    assert!(
        matches!(
            res[2],
            Err(IpvsError::Kernel {
                op: OpKind::AddService,
                ..
            })
        ),
        "{res:?}"
    );
    assert_eq!(b.services().unwrap().len(), 2);
}

#[test]
fn chosen_services_and_their_dests_read_as_the_dumps_list_them() {
    kernel_test!();
    let sc = scenario();
    let ops: Vec<Op> = sc.iter().map(|(_, op)| op.clone()).collect();
    let mut b = backend();
    for (r, (line, _)) in b.apply(&ops).into_iter().zip(&sc) {
        r.unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    let listing = b.entries().unwrap();
    // Every service, in reverse order, with two that do not exist among them.
    let missing = [tcp("10.255.0.1", 1), fwm(AddressFamily::Inet6, 4242)];
    let mut keys: Vec<_> = listing.iter().rev().map(|e| e.service.key).collect();
    keys.insert(1, missing[0]);
    keys.push(missing[1]);
    let before = b.counters();
    let services = b.services_of(&keys).unwrap();
    let between = b.counters();
    let dests = b.dests_of(&keys).unwrap();
    let after = b.counters();
    assert_eq!((services.len(), dests.len()), (keys.len(), keys.len()));
    for ((k, s), d) in keys.iter().zip(&services).zip(&dests) {
        if let Some(e) = listing.iter().find(|e| e.service.key == *k) {
            let s = s.as_ref().unwrap_or_else(|| panic!("{k:?} not read"));
            assert_eq!(s.key, e.service.key);
            assert_eq!(s.scheduler, e.service.scheduler, "{k:?}");
            assert_eq!(s.flags, e.service.flags, "{k:?}");
            assert_eq!(*d, e.dests, "{k:?}");
        } else {
            assert!(s.is_none(), "{k:?} does not exist");
            assert!(d.is_empty(), "{k:?} has no dests");
        }
    }
    // All the GET_SERVICE requests went in one sendmsg; the GET_DEST dumps are
    // pipelined (one refused with EBUSY while another runs is sent again).
    let n = u64::try_from(keys.len()).unwrap();
    assert_eq!(between.sendmsg_calls - before.sendmsg_calls, 1);
    assert_eq!(between.messages_sent - before.messages_sent, n);
    assert!(after.messages_sent - between.messages_sent >= n);
    assert!(
        after.sendmsg_calls - between.sendmsg_calls <= n,
        "{between:?} -> {after:?}"
    );
}
