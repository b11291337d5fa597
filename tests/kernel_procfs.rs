//! The procfs readers on a live Linux kernel: a real connection made through a VIP shows up
//! in the connection table, the global counters and the sync view.

mod support;

use std::net::IpAddr;
use std::path::Path;

use lvsctl::ipvs::procfs;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

#[test]
fn live_tables_parse() {
    kernel_test!();
    let setup = "ip link add eth0 type dummy && ip link set eth0 up \
        && ip addr add 10.9.9.1/24 dev eth0 \
        && ip -6 addr add 2001:db8:9::1/64 dev eth0 nodad \
        && ipvsadm -A -t 10.9.9.100:80 -s rr && ipvsadm -a -t 10.9.9.100:80 -r 10.9.9.2:8080 -m \
        && ipvsadm -A -t 10.9.9.103:80 && ipvsadm -a -t 10.9.9.103:80 -r [2001:db8:9::7]:80 -i \
        && ipvsadm -A -t [2001:db8:9::100]:80 && ipvsadm -a -t [2001:db8:9::100]:80 -r [2001:db8:9::2]:8080 -m";
    let (_, err, rc) = support::sh(setup);
    assert_eq!(rc, 0, "setup failed: {err}");
    // One SYN to each VIP, from this thread (it is in the test's netns): connect() sends
    // it before returning, and IPVS makes its connection entry as the SYN leaves, so the
    // entries exist once these calls return (nothing answers: the reals do not exist).
    // A shell with `timeout 1` did this before and failed under load: the shell did not
    // get as far as its connect within the second (CI, 2026-12-07, kernel 5.10).
    for vip in ["10.9.9.100:80", "10.9.9.103:80", "[2001:db8:9::100]:80"] {
        let target: std::net::SocketAddr = vip.parse().expect("test address");
        let _ =
            std::net::TcpStream::connect_timeout(&target, std::time::Duration::from_millis(200));
    }

    let mut rows = Vec::new();
    let summary =
        procfs::for_each_connection_counted(Path::new(procfs::THREAD_CONN_PATH), &mut |c| {
            rows.push(c);
            true
        })
        .unwrap();
    assert_eq!(summary.skipped, 0, "{summary:?}");
    let nat = rows
        .iter()
        .find(|c| c.virtual_addr == ip("10.9.9.100"))
        .expect("row for the NAT service");
    assert_eq!((nat.protocol.as_str(), nat.virtual_port), ("TCP", 80));
    assert_eq!((nat.dest_addr, nat.dest_port), (ip("10.9.9.2"), 8080));
    assert_eq!(nat.client_addr, ip("10.9.9.1"));
    let mixed = rows
        .iter()
        .find(|c| c.virtual_addr == ip("10.9.9.103"))
        .expect("row for the mixed-family service");
    assert_eq!(mixed.dest_addr, ip("2001:db8:9::7"));
    let v6 = rows
        .iter()
        .find(|c| c.virtual_addr == ip("2001:db8:9::100"))
        .unwrap_or_else(|| panic!("no row for the IPv6 service in {rows:#?}"));
    assert_eq!(v6.client_addr, ip("2001:db8:9::1"));
    assert_eq!((v6.dest_addr, v6.dest_port), (ip("2001:db8:9::2"), 8080));

    // The sync view lists the same connections (observed on 6.1: it may leave out the
    // mixed-family one), each with the origin of a locally created entry.
    let mut synced = Vec::new();
    procfs::for_each_sync_connection(Path::new(procfs::THREAD_CONN_SYNC_PATH), &mut |c| {
        assert_eq!(c.origin, procfs::ConnOrigin::Local);
        synced.push(c.connection);
        true
    })
    .unwrap();
    assert!(synced.len() >= 2, "{synced:#?}");
    for c in &synced {
        assert!(
            rows.iter().any(|r| r.client_addr == c.client_addr
                && r.client_port == c.client_port
                && r.virtual_addr == c.virtual_addr
                && r.dest_addr == c.dest_addr),
            "sync row {c:?} not in the connection table"
        );
    }

    // The totals are folded from per-CPU counters by the kernel's 2-second estimator
    // timer, so they may lag the connection table briefly.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    loop {
        let stats = procfs::read_global_stats(Path::new(procfs::THREAD_STATS_PATH)).unwrap();
        if stats.stats.conns == rows.len() as u64 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "global conns {} never reached {}",
            stats.stats.conns,
            rows.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let sysctls = procfs::read_sysctls(Path::new(procfs::SYSCTL_DIR)).unwrap();
    assert!(sysctls.iter().any(|(k, v)| k == "am_droprate" && v == "10"));
    assert!(sysctls.windows(2).all(|w| w[0].0 < w[1].0));
}
