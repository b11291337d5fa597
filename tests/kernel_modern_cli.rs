//! The modern face against the real kernel: tables made with the real ipvsadm are read
//! back by `lvsctl list --json`, `timeouts`, `info`, `conns`; `clear`/`delete` refuse
//! without a terminal unless `--yes` is given.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use serde_json::Value;
use support::{lvsctl_bin, sh};

fn lvsctl(args: &str) -> (String, String, i32) {
    sh(&format!("{} {args}", lvsctl_bin()))
}

fn ipvsadm(args: &str) {
    let (_, err, rc) = sh(&format!("ipvsadm {args}"));
    assert_eq!(rc, 0, "ipvsadm {args}: {err}");
}

#[test]
fn list_json_reads_what_ipvsadm_wrote() {
    kernel_test!();
    ipvsadm("-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0");
    ipvsadm("-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 10 -y 2");
    ipvsadm("-a -t 10.0.0.1:80 -r 192.168.1.2 -i --tun-type gue --tun-port 6080 --tun-csum");
    ipvsadm("-A -f 7 -6 -s sh -b sh-port");
    let (out, err, rc) = lvsctl("list --json");
    assert_eq!(rc, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["schema"], 1);
    let services = v["services"].as_array().expect("services");
    assert_eq!(services.len(), 2);
    let tcp = services
        .iter()
        .find(|s| s["protocol"] == "tcp")
        .expect("tcp service");
    assert_eq!(tcp["address"], "10.0.0.1");
    assert_eq!(tcp["port"], 80);
    assert_eq!(tcp["scheduler"], "rr");
    assert_eq!(tcp["persistent"], 60);
    assert_eq!(tcp["netmask"], "255.255.255.0");
    let reals = tcp["real_servers"].as_array().expect("reals");
    let masq = reals
        .iter()
        .find(|r| r["forward"] == "masq")
        .expect("masq real");
    assert_eq!(masq["address"], "192.168.1.1");
    assert_eq!(masq["port"], 8080);
    assert_eq!(masq["weight"], 3);
    assert_eq!(masq["u_threshold"], 10);
    assert_eq!(masq["l_threshold"], 2);
    let tun = reals
        .iter()
        .find(|r| r["forward"] == "tunnel")
        .expect("tunnel real");
    assert_eq!(
        tun["port"], 80,
        "DR/TUN ports are forced to the service port"
    );
    assert_eq!(tun["tunnel"]["type"], "gue");
    assert_eq!(tun["tunnel"]["port"], 6080);
    assert_eq!(tun["tunnel"]["csum"], "csum");
    let fwm = services
        .iter()
        .find(|s| s["protocol"] == "fwmark")
        .expect("fwmark");
    assert_eq!(fwm["fwmark"], 7);
    assert_eq!(fwm["family"], "inet6");
    assert_eq!(fwm["sched_flags"], serde_json::json!(["sh-port"]));
}

#[test]
fn timeouts_and_info() {
    kernel_test!();
    ipvsadm("--set 100 20 30");
    let (out, _, rc) = lvsctl("timeouts --json");
    assert_eq!(rc, 0);
    assert_eq!(out.trim(), r#"{"tcp":100,"tcp_fin":20,"udp":30}"#);
    let (out, _, rc) = lvsctl("info");
    assert_eq!(rc, 0);
    assert_eq!(
        out,
        "IPVS 1.2.1, connection table size 4096\nrate estimation: on\n"
    );
    let (out, _, rc) = lvsctl("daemon");
    assert_eq!((rc, out.as_str()), (0, "no sync daemon running\n"));
    let (_, err, rc) = sh("ip link add eth0 type dummy && ip link set eth0 up \
         && ipvsadm --start-daemon backup --syncid 7");
    assert_eq!(rc, 0, "{err}");
    let (out, _, rc) = lvsctl("daemon --json");
    assert_eq!(rc, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["mcast_ifn"], "eth0");
    assert_eq!(v[0]["syncid"], 7);
    assert_eq!(v[0]["state"], 2, "backup");
}

#[test]
fn destructive_commands_need_yes_without_a_terminal() {
    kernel_test!();
    ipvsadm("-A -t 10.0.0.1:80");
    let (_, err, rc) = lvsctl("clear < /dev/null");
    assert_eq!(rc, 1);
    assert!(err.contains("refusing without --yes"), "{err}");
    let (out, _, _) = sh("ipvsadm -Sn");
    assert_eq!(out, "-A -t 10.0.0.1:80 -s wlc\n", "nothing was deleted");
    let (out, err, rc) = lvsctl("clear --yes < /dev/null");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out, "deleted 1 virtual services\n");
    let (out, _, _) = sh("ipvsadm -Sn");
    assert_eq!(out, "");
}

#[test]
fn bad_service_selector_is_a_clear_error() {
    kernel_test!();
    let (_, err, rc) = lvsctl("list --service 10.0.0.1:80");
    assert_eq!(rc, 1);
    assert!(err.contains("invalid service `10.0.0.1:80`"), "{err}");
    let (_, err, rc) = lvsctl("delete tcp:10.0.0.9:80 --yes");
    assert_eq!(rc, 1);
    assert!(err.contains("TCP 10.0.0.9:80"), "{err}");
}

#[test]
fn conns_lists_and_filters_live_connections() {
    kernel_test!();
    // Locally originated connections to a VIP go through IPVS even if no real server
    // answers: each attempt leaves a SYN_SENT-side entry in the connection table.
    let (_, err, rc) = sh("ip link add eth0 type dummy && ip link set eth0 up \
         && ip addr add 10.9.9.1/24 dev eth0 \
         && ipvsadm -A -t 10.9.9.100:80 -s rr \
         && ipvsadm -a -t 10.9.9.100:80 -r 10.9.9.2:8080 -m \
         && ipvsadm -A -t 10.9.9.101:80 -s rr \
         && ipvsadm -a -t 10.9.9.101:80 -r 10.9.9.3:8080 -m");
    assert_eq!(rc, 0, "{err}");
    sh("timeout 1 bash -c 'exec 3<>/dev/tcp/10.9.9.100/80'; \
        timeout 1 bash -c 'exec 3<>/dev/tcp/10.9.9.101/80'; true");

    let (out, err, rc) = lvsctl("conns --json");
    assert_eq!(rc, 0, "{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows.iter().all(|r| r["protocol"] == "TCP"));

    let (out, _, rc) = lvsctl("conns --json --service 10.9.9.101:80");
    assert_eq!(rc, 0);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["virtual"], "10.9.9.101:80");
    assert_eq!(rows[0]["real"], "10.9.9.3:8080");

    let (out, _, _) = lvsctl("conns --real 10.9.9.2 --state no_such_state");
    assert_eq!(out.lines().count(), 1, "only the header: {out}");
    let (out, _, _) = lvsctl("conns --limit 1");
    assert_eq!(out.lines().count(), 2, "header and one row: {out}");
}

#[test]
fn debian_helper_names_save_and_restore() {
    kernel_test!();
    let dir = format!("/run/lvsctl-helpers-{}", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["ipvsadm-save", "ipvsadm-restore"] {
        let link = format!("{dir}/{name}");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(std::fs::canonicalize(lvsctl_bin()).unwrap(), &link).unwrap();
    }
    ipvsadm("-A -t 10.9.0.1:80");
    let rules =
        "# saved by hand\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 2\n";
    std::fs::write(format!("{dir}/rules"), rules).unwrap();
    let (_, err, rc) = sh(&format!("{dir}/ipvsadm-restore < {dir}/rules"));
    assert_eq!(
        (rc, err.as_str()),
        (0, ""),
        "comment line dropped, table flushed first"
    );
    let (saved, _, rc) = sh(&format!("{dir}/ipvsadm-save -n"));
    assert_eq!(rc, 0);
    assert_eq!(
        saved,
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 2\n"
    );
    let (real, _, _) = sh("ipvsadm-save -n");
    assert_eq!(
        saved, real,
        "the same as Debian's script over the real ipvsadm"
    );
    let (_, err, rc) = sh(&format!("{dir}/ipvsadm-save -x"));
    assert_eq!(rc, 1);
    assert!(
        err.starts_with("ipvsadm-save: Script to save the IPVS table to stdout."),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
