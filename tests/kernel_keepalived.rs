//! `lvsctl health --keepalived` against the real kernel: a keepalived.conf with TCP_CHECKs
//! (and one with an HTTP_GET),
//! real servers as busybox httpd in a network namespace behind a veth pair, the daemon in
//! the foreground as a child of the test, the kernel table read back with ipvsadm through a
//! failure and a recovery (docs/keepalived-compat.md, Running a keepalived.conf).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/servers.rs"]
mod servers;
mod support;

use std::time::Duration;

use daemon::Foreground;
use servers::{ServerNet, kill, table};
use support::sh;

const CONFIG: &str = "\
virtual_server 10.0.0.1 80 {
    delay_loop 2
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.1.0.1 8081 {
        weight 3
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 1
            retry 2
            delay_before_retry 1
            warmup 0
        }
    }
    real_server 10.1.0.2 8082 {
        weight 2
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 1
            retry 2
            delay_before_retry 1
        }
    }
}
";

/// Without alpha both reals are in the table at start; a stopped server stays at weight 0
/// (inhibit_on_failure) once its check has failed retry + 1 times; a restarted one is back
/// at its weight after one passing check; stop deletes the virtual.
#[test]
fn a_keepalived_conf_inhibits_a_failed_real_and_restores_it() {
    kernel_test!();
    let net = ServerNet::new("k");
    let mut a = net.httpd("10.1.0.1:8081");
    let mut b = net.httpd("10.1.0.2:8082");
    let mut d = Foreground::start("--keepalived", "lvk", CONFIG);
    let both = table(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 2)]);
    d.wait_for("10.0.0.1:80", Some(&both));
    // The soft failures below come only after a pass (a checker starts with its retries
    // used up): `warmup 0` puts 10.1.0.1's first check within the daemon's first second
    // (by default it would come up to a delay_loop later, as in keepalived), and a
    // delay_loop's wait lets it pass before its server stops.
    std::thread::sleep(Duration::from_secs(2));

    kill(&mut a);
    let took = d.wait_for(
        "10.0.0.1:80",
        Some(&table(&[("10.1.0.1:8081", 0), ("10.1.0.2:8082", 2)])),
    );
    // Three failed checks 1 s apart at most a delay_loop after the stop: 2 s to 4 s and
    // the emulated guest's slack.
    assert!(took < Duration::from_secs(20), "inhibit took {took:?}");
    let text = d.log_text();
    assert!(
        text.contains("Soft failure real server: 10.1.0.1:8081 (tcp:10.0.0.1:80) failure 2/3"),
        "{text}"
    );
    assert!(
        text.contains("Quiescent real server: 10.1.0.1:8081 (10.0.0.1:80) (Weight set to 0)"),
        "{text}"
    );

    let mut a = net.httpd("10.1.0.1:8081");
    d.wait_for("10.0.0.1:80", Some(&both));

    assert_eq!(d.stop().and_then(|s| s.code()), Some(0), "daemon exit");
    d.wait_for("10.0.0.1:80", None);
    kill(&mut a);
    kill(&mut b);
}

const HTTP_CONFIG: &str = "\
virtual_server 10.0.0.2 80 {
    delay_loop 2
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.1.0.3 8083 {
        weight 4
        inhibit_on_failure
        HTTP_GET {
            url {
                path /health.html
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
";

/// HTTP_GET: a real whose url answers 404 goes to weight 0 after retry + 1 failed checks;
/// when the page is back the real is restored (at keepalived's second pass, the first only
/// forgets the failed url).
#[test]
fn an_http_get_real_answering_404_is_inhibited_and_restored() {
    kernel_test!();
    let net = ServerNet::new("h");
    let dir = format!("/run/lvk-www-{}", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    let page = format!("{dir}/health.html");
    std::fs::write(&page, "ok\n").unwrap();
    let mut web = net.httpd_in("10.1.0.3:8083", &dir);
    let d = Foreground::start("--keepalived", "lvkh", HTTP_CONFIG);
    let up = table(&[("10.1.0.3:8083", 4)]);
    d.wait_for("10.0.0.2:80", Some(&up));
    std::fs::remove_file(&page).unwrap();
    d.wait_for("10.0.0.2:80", Some(&table(&[("10.1.0.3:8083", 0)])));
    std::fs::write(&page, "ok\n").unwrap();
    let took = d.wait_for("10.0.0.2:80", Some(&up));
    // Two passes a delay_loop (2 s) apart: never sooner than that after the page is back.
    assert!(
        took >= Duration::from_millis(1900),
        "restored after {took:?}"
    );
    d.ctl("stop");
    d.wait_for("10.0.0.2:80", None);
    drop(d);
    kill(&mut web);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real with a TCP_CHECK and a `misc_dynamic` MISC_CHECK whose script exits with the
/// status written in a file: its kernel weight follows the status (status − 2), status 1
/// inhibits it, 0 restores the configured weight, and the closed port inhibits it while
/// the script passes.
#[test]
fn a_tcp_check_and_a_dynamic_misc_check_on_one_real() {
    kernel_test!();
    let net = ServerNet::new("m");
    let mut web = net.httpd("10.1.0.4:8084");
    let dir = format!("/run/lvkm-{}", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    let set_code = |code: u8| {
        std::fs::write(format!("{dir}/code.tmp"), code.to_string()).unwrap();
        std::fs::rename(format!("{dir}/code.tmp"), format!("{dir}/code")).unwrap();
    };
    set_code(0);
    let script = format!("{dir}/check");
    std::fs::write(&script, format!("#!/bin/sh\nexit $(cat {dir}/code)\n")).unwrap();
    let (_, err, rc) = sh(&format!("chmod 755 {dir} {script}"));
    assert_eq!(rc, 0, "{err}");
    let text = format!(
        "global_defs {{
    enable_script_security
    script_user nobody
}}
virtual_server 10.0.0.4 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.1.0.4 8084 {{
        weight 2
        inhibit_on_failure
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
        MISC_CHECK {{
            misc_path {script}
            misc_timeout 3
            misc_dynamic
        }}
    }}
}}
"
    );
    let d = Foreground::start("--keepalived", "lvkm", &text);
    let at = |w: i64| table(&[("10.1.0.4:8084", w)]);
    d.wait_for("10.0.0.4:80", Some(&at(2)));
    set_code(7);
    d.wait_for("10.0.0.4:80", Some(&at(5)));
    set_code(1);
    d.wait_for("10.0.0.4:80", Some(&at(0)));
    set_code(0);
    d.wait_for("10.0.0.4:80", Some(&at(2)));
    kill(&mut web);
    d.wait_for("10.0.0.4:80", Some(&at(0)));
    let mut web = net.httpd("10.1.0.4:8084");
    d.wait_for("10.0.0.4:80", Some(&at(2)));
    d.ctl("stop");
    d.wait_for("10.0.0.4:80", None);
    drop(d);
    kill(&mut web);
    let _ = std::fs::remove_dir_all(&dir);
}

/// quorum 5 over reals of weight 3 and 2 with a sorry server: stopping the heavier real
/// (3... 2 < 5) puts the sorry server in alone, the live real of weight 2 taken out with
/// it; restarting it brings both back. quorum_up / quorum_down run at start, at each
/// change and (omega) at stop (docs/keepalived-compat.md, Quorum, hysteresis and the sorry
/// server; Notify scripts).
#[test]
fn a_keepalived_quorum_swaps_the_pool_for_the_sorry_server() {
    use std::os::unix::fs::PermissionsExt as _;
    kernel_test!();
    let net = ServerNet::new("q");
    let mut a = net.httpd("10.1.0.5:8085");
    let mut b = net.httpd("10.1.0.6:8086");
    let base = format!("lvq-{}", std::process::id());
    let (script, record) = (format!("/tmp/{base}.sh"), format!("/tmp/{base}.record"));
    std::fs::write(&script, format!("#!/bin/sh\necho \"$*\" >> {record}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let check =
        "        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n";
    let text = format!(
        "global_defs {{
    script_user root
    enable_script_security
}}
virtual_server 10.0.0.3 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    quorum 5
    omega
    quorum_up \"{script} up\"
    quorum_down \"{script} down\"
    sorry_server 10.1.0.9 8089
    real_server 10.1.0.5 8085 {{
        weight 3
{check}    }}
    real_server 10.1.0.6 8086 {{
        weight 2
{check}    }}
}}
"
    );
    let mut d = Foreground::start("--keepalived", "lvq", &text);
    let both = table(&[("10.1.0.5:8085", 3), ("10.1.0.6:8086", 2)]);
    d.wait_for("10.0.0.3:80", Some(&both));
    kill(&mut a);
    d.wait_for("10.0.0.3:80", Some(&table(&[("10.1.0.9:8089", 1)])));
    let mut a = net.httpd("10.1.0.5:8085");
    d.wait_for("10.0.0.3:80", Some(&both));
    let text = d.log_text();
    for line in [
        "Gained quorum 5+0=5 <= 5 for VS 10.0.0.3:80",
        "Lost quorum 5-0=5 > 2 for VS 10.0.0.3:80",
        "Added fallback server: 10.1.0.9:8089 (10.0.0.3:80) (Weight set to 1)",
        "Deleted fallback server: 10.1.0.9:8089 (10.0.0.3:80)",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert_eq!(d.stop().and_then(|s| s.code()), Some(0), "daemon exit");
    d.wait_for("10.0.0.3:80", None);
    // Each script ran alone (one change at a time), so the record is in order.
    assert_eq!(
        std::fs::read_to_string(&record).unwrap_or_default(),
        "up\ndown\nup\ndown\n"
    );
    kill(&mut a);
    kill(&mut b);
    for f in [&script, &record] {
        let _ = std::fs::remove_file(f);
    }
}
