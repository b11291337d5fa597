//! `lvsctl health --piranha` against the real kernel: an lvs.cf whose two real servers are
//! busybox httpd in a network namespace behind a veth pair, checked as nanny did (send a
//! request, expect `HTTP`), the daemon in the foreground as a child of the test, the kernel
//! table read back with ipvsadm through a failure and a recovery after `reentry`
//! (docs/piranha.md, Running an lvs.cf).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/servers.rs"]
mod servers;
mod support;

use std::time::{Duration, Instant};

use daemon::Foreground;
use servers::{ServerNet, kill, table};

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
    let mut d = Foreground::start("--piranha", "lvp", LVS_CF);
    d.patience = Duration::from_secs(40);
    assert!(
        d.checked.ends_with(": OK: 1 virtual(s), 3 server(s)\n"),
        "{}",
        d.checked
    );
    let both = table(&[("10.1.0.1:8080", 3), ("10.1.0.2:8080", 1)]);
    d.wait_for("10.0.0.5:8080", Some(&both));

    kill(&mut one);
    let took = d.wait_for("10.0.0.5:8080", Some(&table(&[("10.1.0.2:8080", 1)])));
    // One failed check, at most a keepalive (1 s) plus the timeout after the stop, and the
    // emulated guest's slack.
    assert!(took < Duration::from_secs(20), "removal took {took:?}");
    let text = d.log_text();
    assert!(
        text.contains("Deleted real server: 10.1.0.1:8080 (10.0.0.5:8080)"),
        "{text}"
    );

    let restarted = Instant::now();
    let mut one = net.httpd("10.1.0.1:8080");
    d.wait_for("10.0.0.5:8080", Some(&both));
    let took = restarted.elapsed();
    // Never sooner than reentry (4 s) after the server is back.
    assert!(took >= Duration::from_secs(4), "restored after {took:?}");
    let text = d.log_text();
    let readded = text
        .rfind("Added real server: 10.1.0.1:8080 (10.0.0.5:8080) (Weight set to 3)")
        .expect("re-added");
    assert!(
        text[readded..]
            .contains("Zeroed counters of virtual server: 10.0.0.5:8080 (quiesce_server)"),
        "{text}"
    );
    assert!(!text.contains("failed ("), "a kernel op failed:\n{text}");

    d.ctl("stop");
    d.wait_for("10.0.0.5:8080", None);
    drop(d);
    kill(&mut one);
    kill(&mut two);
}
