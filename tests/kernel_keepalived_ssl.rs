//! `lvsctl health --keepalived` with an SSL_GET against the real kernel: the real server is
//! OpenSSL's own `s_server -WWW` (a self-signed certificate, which keepalived does not
//! verify) in a network namespace behind a veth pair, and the url's literal `regex` decides:
//! the page keeps answering 200, only its text changes (docs/keepalived-compat.md, Running
//! a keepalived.conf).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/servers.rs"]
mod servers;
mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use daemon::Foreground;
use servers::{Reaped, ServerNet, table};

const CONFIG: &str = "\
virtual_server 10.0.0.4 443 {
    delay_loop 2
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.1.0.4 8443 {
        weight 5
        inhibit_on_failure
        SSL_GET {
            url {
                path /health.html
                virtualhost www.example
                regex \"status: alive\"
            }
            enable_sni
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
}
";

/// SSL_GET with a literal regex: while the page says `status: dead` (still 200) the real
/// is at weight 0 after retry + 1 failed checks; when it says `status: alive` again it is
/// restored at the second pass, a delay_loop after the first.
#[test]
fn an_ssl_get_real_follows_its_regex_in_the_kernel() {
    kernel_test!();
    let net = ServerNet::new("s");
    let dir = format!("/run/lvk-tls-{}", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    let page = format!("{dir}/health.html");
    std::fs::write(&page, "status: alive\n").unwrap();
    let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/src/health/check/testdata");
    let _tls = Reaped(
        Command::new("ip")
            .args([
                "netns", "exec", &net.name, "openssl", "s_server", "-quiet", "-WWW",
            ])
            .args(["-accept", "10.1.0.4:8443"])
            .args(["-cert", &format!("{testdata}/cert.der"), "-certform", "DER"])
            .args(["-key", &format!("{testdata}/key.der"), "-keyform", "DER"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server"),
    );
    let d = Foreground::start("--keepalived", "lvks", CONFIG);
    let up = table(&[("10.1.0.4:8443", 5)]);
    d.wait_for("10.0.0.4:443", Some(&up));
    std::fs::write(&page, "status: dead\n").unwrap();
    d.wait_for("10.0.0.4:443", Some(&table(&[("10.1.0.4:8443", 0)])));
    std::fs::write(&page, "status: alive\n").unwrap();
    let took = d.wait_for("10.0.0.4:443", Some(&up));
    assert!(
        took >= Duration::from_millis(1900),
        "restored after {took:?}"
    );
    d.ctl("stop");
    d.wait_for("10.0.0.4:443", None);
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
}
