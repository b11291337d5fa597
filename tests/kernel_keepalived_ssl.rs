//! `lvsctl health --keepalived` with an SSL_GET against the real kernel: the real server is
//! OpenSSL's own `s_server -WWW` (a self-signed certificate, which keepalived does not
//! verify) in a network namespace behind a veth pair, and the url's literal `regex` decides:
//! the page keeps answering 200, only its text changes (docs/keepalived-compat.md, Running
//! a keepalived.conf).

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
            start.elapsed() < Duration::from_secs(30),
            "{service}: wanted {want:?}, kernel has {now:?}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
    let base = format!("lvks-{}", std::process::id());
    let config = format!("/tmp/{base}.keepalived.conf");
    std::fs::write(&config, CONFIG).unwrap();
    let (pid_file, socket, log) = (
        format!("/run/{base}.pid"),
        format!("/run/{base}.sock"),
        format!("/tmp/{base}.log"),
    );
    let (out, _, rc) = sh(&format!(
        "{} health --keepalived {config} check-config",
        lvsctl_bin()
    ));
    assert_eq!(rc, 0, "{out}");
    let daemon = Reaped(
        Command::new(lvsctl_bin())
            .args(["health", "--keepalived", &config, "--foreground"])
            .args(["--pid-file", &pid_file, "--socket", &socket, "start"])
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start lvsctl health --keepalived"),
    );
    let up = table(&[("10.1.0.4:8443", 5)]);
    wait_for("10.0.0.4:443", Some(&up), &log);
    std::fs::write(&page, "status: dead\n").unwrap();
    wait_for("10.0.0.4:443", Some(&table(&[("10.1.0.4:8443", 0)])), &log);
    std::fs::write(&page, "status: alive\n").unwrap();
    let took = wait_for("10.0.0.4:443", Some(&up), &log);
    assert!(
        took >= Duration::from_millis(1900),
        "restored after {took:?}"
    );
    let (_, err, rc) = sh(&format!(
        "{} health --keepalived {config} --pid-file {pid_file} --socket {socket} stop",
        lvsctl_bin()
    ));
    assert_eq!(rc, 0, "stop: {err}");
    wait_for("10.0.0.4:443", None, &log);
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&config);
    let _ = std::fs::remove_file(&log);
}
