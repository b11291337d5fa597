//! `lvsctl health --piranha` against the real kernel: an lvs.cf whose two real servers are
//! busybox httpd in a network namespace behind a veth pair, checked as nanny did (send a
//! request, expect `HTTP`), the daemon in the foreground as a child of the test, the kernel
//! table read back with ipvsadm through a failure and a recovery after `reentry`
//! (docs/piranha.md, Running an lvs.cf).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/servers.rs"]
mod servers;
mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use servers::{ServerNet, kill, reals_of, table};
use support::{lvsctl_bin, sh};

/// A child killed and waited for when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        kill(&mut self.0);
    }
}

/// Polls until `service` is `want` (None: absent); returns how long it took.
fn wait_for(service: &str, want: Option<&BTreeMap<String, i64>>, log: &str) -> Duration {
    let start = Instant::now();
    loop {
        let now = reals_of(service);
        if now.as_ref() == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "{service}: wanted {want:?}, kernel has {now:?}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// NAT, both reals at the virtual's port (as nanny checks them), checked every second,
/// back 4 s after their first pass, the service zeroed when one is added.
const LVS_CF: &str = "\
serial_no = 1
primary = 10.1.0.254
service = lvs
keepalive = 1
network = nat
virtual web {
    active = 1
    address = 10.0.0.5 eth0:1
    port = 8080
    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"
    expect = \"HTTP\"
    use_regex = 0
    scheduler = wlc
    protocol = tcp
    timeout = 1
    reentry = 4
    quiesce_server = 1
    server one {
        address = 10.1.0.1
        weight = 3
    }
    server two {
        address = 10.1.0.2
        weight = 1
    }
    server off {
        address = 10.1.0.3
        active = 0
    }
}
";

/// Both reals enter at their first pass; a stopped server is deleted at its first failed
/// check; restarted, it is back only after passing for `reentry` seconds, and its return
/// zeroes the service (the kernel acknowledges the zero command); stop deletes the virtual.
#[test]
fn an_lvs_cf_removes_a_failed_real_and_restores_it_after_reentry() {
    kernel_test!();
    let net = ServerNet::new("p");
    let mut one = net.httpd("10.1.0.1:8080");
    let mut two = net.httpd("10.1.0.2:8080");
    let base = format!("lvp-{}", std::process::id());
    let config = format!("/tmp/{base}.lvs.cf");
    std::fs::write(&config, LVS_CF).unwrap();
    let (pid_file, socket, log) = (
        format!("/run/{base}.pid"),
        format!("/run/{base}.sock"),
        format!("/tmp/{base}.log"),
    );
    let (out, err, rc) = sh(&format!(
        "{} health --piranha {config} check-config",
        lvsctl_bin()
    ));
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.ends_with(": OK: 1 virtual(s), 3 server(s)\n"), "{out}");
    let daemon = Reaped(
        Command::new(lvsctl_bin())
            .args([
                "health",
                "--piranha",
                &config,
                "--foreground",
                "--pid-file",
                &pid_file,
                "--socket",
                &socket,
                "start",
            ])
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start lvsctl health --piranha"),
    );
    let both = table(&[("10.1.0.1:8080", 3), ("10.1.0.2:8080", 1)]);
    wait_for("10.0.0.5:8080", Some(&both), &log);

    kill(&mut one);
    let took = wait_for("10.0.0.5:8080", Some(&table(&[("10.1.0.2:8080", 1)])), &log);
    // One failed check, at most a keepalive (1 s) plus the timeout after the stop, and the
    // emulated guest's slack.
    assert!(took < Duration::from_secs(20), "removal took {took:?}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("Deleted real server: 10.1.0.1:8080 (10.0.0.5:8080)"),
        "{text}"
    );

    let restarted = Instant::now();
    let mut one = net.httpd("10.1.0.1:8080");
    wait_for("10.0.0.5:8080", Some(&both), &log);
    let took = restarted.elapsed();
    // Never sooner than reentry (4 s) after the server is back.
    assert!(took >= Duration::from_secs(4), "restored after {took:?}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let readded = text
        .rfind("Added real server: 10.1.0.1:8080 (10.0.0.5:8080) (Weight set to 3)")
        .expect("re-added");
    assert!(
        text[readded..]
            .contains("Zeroed counters of virtual server: 10.0.0.5:8080 (quiesce_server)"),
        "{text}"
    );
    assert!(!text.contains("failed ("), "a kernel op failed:\n{text}");

    let (_, err, rc) = sh(&format!(
        "{} health --piranha {config} --pid-file {pid_file} --socket {socket} stop",
        lvsctl_bin()
    ));
    assert_eq!(rc, 0, "stop: {err}");
    wait_for("10.0.0.5:8080", None, &log);
    drop(daemon);
    kill(&mut one);
    kill(&mut two);
    let _ = std::fs::remove_file(&config);
    let _ = std::fs::remove_file(&log);
}
