//! What differs between the kernels the VM harness boots (Debian's 5.10, 6.1 and 6.12), each
//! difference named by a test, and what lvsctl does about it.
//!
//! Every other kernel test runs on all three kernels too (tests/vm/test-all) and passes
//! unchanged: the IPVS generic-netlink attributes lvsctl uses, the procfs formats, the errnos
//! of every scenario in the differential suite against ipvsadm and of the fake-parity
//! scenarios are the same on 5.10, 6.1 and 6.12. What does differ:
//! - the IPVS sysctls (`run_estimation` is missing on 5.10; 6.12 adds `est_cpulist` and
//!   `est_nice` for its estimator threads), which decide whether rates are estimated at all;
//! - the order of services in a dump (the service hash differs), which both ipvsadm and
//!   lvsctl print as the kernel gives it (the differential suite compares them on each
//!   kernel);
//! - the cost of reading `/proc/net/ip_vs_conn` (README, `lvsctl top`).

mod support;

#[path = "support/traffic.rs"]
mod traffic;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use lvsctl::ipvs::Backend as _;
use serde_json::Value;
use support::{lvsctl_bin, sh};
use traffic::{Client, Lab, must, poll};

/// The kernel series the guest runs: (major, minor).
fn series() -> (u32, u32) {
    let release = must("uname -r");
    let mut parts = release.trim().split(['.', '-', '+']);
    let major = parts.next().and_then(|p| p.parse().ok()).expect("major");
    let minor = parts.next().and_then(|p| p.parse().ok()).expect("minor");
    (major, minor)
}

fn info_json() -> Value {
    let out = must(&format!("{} info --json", lvsctl_bin()));
    serde_json::from_str(&out).expect("info --json is JSON")
}

/// The sysctls every kernel of the matrix has.
const COMMON: &[&str] = &[
    "am_droprate",
    "amemthresh",
    "backup_only",
    "cache_bypass",
    "conn_reuse_mode",
    "conntrack",
    "drop_entry",
    "drop_packet",
    "expire_nodest_conn",
    "expire_quiescent_template",
    "ignore_tunneled",
    "lblc_expiration",
    "lblcr_expiration",
    "nat_icmp_send",
    "pmtu_disc",
    "schedule_icmp",
    "secure_tcp",
    "sloppy_sctp",
    "sloppy_tcp",
    "snat_reroute",
    "sync_persist_mode",
    "sync_ports",
    "sync_qlen_max",
    "sync_refresh_period",
    "sync_retries",
    "sync_sock_size",
    "sync_threshold",
    "sync_version",
];

#[test]
fn sysctls_5_10_has_no_run_estimation_6_12_adds_estimator_threads() {
    kernel_test!();
    let info = info_json();
    let found: BTreeSet<String> = info["sysctls"]
        .as_object()
        .expect("sysctls object")
        .keys()
        .cloned()
        .collect();
    let mut want: BTreeSet<String> = COMMON.iter().map(|s| (*s).to_owned()).collect();
    match series() {
        (5, 10) => {}
        (6, 1) => {
            want.insert("run_estimation".into());
            // The fake backend models 6.1: it must list the same sysctls.
            let fake: BTreeSet<String> = lvsctl::ipvs::fake::FakeBackend::new()
                .sysctls()
                .expect("fake sysctls")
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            assert_eq!(fake, want, "the fake backend's sysctls are 6.1's");
        }
        (6, 12) => {
            want.extend(["run_estimation", "est_cpulist", "est_nice"].map(String::from));
        }
        other => panic!("kernel {other:?} is not in the matrix: add its sysctls here"),
    }
    assert_eq!(found, want);
    assert_eq!(info["rate_estimation"]["state"], "on");
}

/// On 6.1 and 6.12 `run_estimation = 0` stops the estimators, and with them the counters:
/// the kernel folds its per-CPU counters into the totals it reports only from the estimator,
/// so under traffic `--rate` reads 0 and `--stats` stands still (at 0 here). `lvsctl info`
/// says so. Turned back on, the totals catch up with the traffic and rates appear. On 5.10
/// there is no such switch.
#[test]
fn run_estimation_off_freezes_rates_and_counters_where_the_kernel_has_the_switch() {
    kernel_test!();
    let switch = "/proc/sys/net/ipv4/vs/run_estimation";
    if series() == (5, 10) {
        assert!(
            !std::path::Path::new(switch).exists(),
            "5.10 has no run_estimation"
        );
        let (_, _, rc) = sh(&format!("echo 0 > {switch}"));
        assert_ne!(rc, 0, "writing a sysctl 5.10 lacks must fail");
        return;
    }
    let lab = Lab::new(61, 1, 8080);
    let vip = "10.61.0.100";
    must(&format!(
        "ip addr add {vip}/32 dev lo && ipvsadm -A -t {vip}:80 -s rr \
         && ipvsadm -a -t {vip}:80 -r {}:8080 -m && echo 0 > {switch}",
        lab.reals[0].addr
    ));
    let (out, _, rc) = sh(&format!("{} info", lvsctl_bin()));
    assert_eq!(rc, 0);
    assert!(
        out.contains("rate estimation: off (run_estimation = 0)"),
        "{out}"
    );
    let target: SocketAddr = format!("{vip}:80").parse().expect("vip");
    let client = Client::start(target, Duration::from_millis(50));
    // Counters grow while the estimator is off; wait long enough for several estimator
    // periods (2 s each) to have passed.
    poll(
        Duration::from_mins(1),
        "traffic through the VIP",
        || (client.ok() >= 20).then_some(()),
        || format!("ok {} failed {}", client.ok(), client.failed()),
    );
    std::thread::sleep(Duration::from_secs(5));
    let rates = |out: &str| -> Vec<u64> {
        out.lines()
            .find(|l| l.starts_with("TCP"))
            .map(|l| {
                l.split_whitespace()
                    .skip(2)
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let off = must("ipvsadm -Ln --rate");
    assert!(
        rates(&off).iter().all(|&r| r == 0),
        "rates with the estimator off:\n{off}"
    );
    let stats = must("ipvsadm -Ln --stats");
    assert!(
        rates(&stats).iter().all(|&r| r == 0),
        "counters with the estimator off:\n{stats}"
    );
    // Back on: the counters catch up with the traffic, and rates appear.
    must(&format!("echo 1 > {switch}"));
    let seen = client.ok();
    poll(
        Duration::from_mins(1),
        "counters and rates once run_estimation = 1",
        || {
            let conns = rates(&must("ipvsadm -Ln --stats")).first().copied()?;
            let cps = rates(&must("ipvsadm -Ln --rate")).first().copied()?;
            (conns >= seen && cps > 0).then_some(())
        },
        || must("ipvsadm -Ln --stats --rate"),
    );
    drop(client);
    drop(lab);
}
