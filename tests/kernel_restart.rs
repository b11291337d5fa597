//! `lvsctl health` killed with SIGKILL while every real is healthy, then started again: the
//! new daemon adopts the table it finds and writes nothing to IPVS until a real really
//! changes state. No real server is removed, re-added or re-weighted, not even for the
//! instant between two writes that an `ipvsadm -Ln` poll would miss: every IPVS request of
//! the test's network namespace is captured on an nlmon device (tcpdump) and decoded.
//!
//! Run inside the IPVS VM (`tests/vm/lvs-vm`). Timing: checkinterval 1 s; waits are
//! generous because the guest is emulated.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/nlmon.rs"]
mod nlmon;
#[path = "support/servers.rs"]
mod servers;
mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lvsctl::ipvs::wire::IpvsCmd;
use nlmon::{Capture, Request};
use serde_json::Value;
use support::{lvsctl_bin, sh};

const LIMIT: Duration = Duration::from_mins(1);

/// Real servers (busybox httpd, tests/support/servers.rs) serving `check.html`, each
/// stoppable by its address.
struct ServerNet {
    net: servers::ServerNet,
    dir: String,
    servers: BTreeMap<String, Child>,
}

impl ServerNet {
    fn new() -> Self {
        let dir = format!("/run/lvr-{}-www", std::process::id());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/check.html"), "service is healthy\n").unwrap();
        Self {
            net: servers::ServerNet::new("r"),
            dir,
            servers: BTreeMap::new(),
        }
    }

    fn httpd(&mut self, addr: &str) {
        let child = self.net.httpd_in(addr, &self.dir);
        self.servers.insert(addr.to_owned(), child);
    }

    fn stop(&mut self, addr: &str) {
        if let Some(mut child) = self.servers.remove(addr) {
            servers::kill(&mut child);
        }
    }
}

impl Drop for ServerNet {
    fn drop(&mut self) {
        for child in self.servers.values_mut() {
            servers::kill(child);
        }
    }
}

/// The daemon files of the test; every start uses the same ones, as a restarted unit does.
struct Files {
    config: String,
    pid_file: String,
    socket: String,
    log: String,
}

impl Files {
    fn new(config_text: &str) -> Self {
        let base = format!("lvr-{}", std::process::id());
        let f = Self {
            config: format!("/tmp/{base}.cf"),
            pid_file: format!("/run/{base}.pid"),
            socket: format!("/run/{base}.sock"),
            log: format!("/tmp/{base}.log"),
        };
        std::fs::write(&f.config, config_text).unwrap();
        let _ = std::fs::remove_file(&f.log);
        f
    }

    /// A daemon in the foreground, logging (appending) to the test's log.
    fn start(&self) -> Child {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        Command::new(lvsctl_bin())
            .args(["health", "--foreground", "--pid-file", &self.pid_file])
            .args(["--socket", &self.socket, &self.config, "start"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start lvsctl health")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `status --json`: every real's state, keyed `VIRTUAL REAL`; empty while the socket
    /// does not answer.
    fn states(&self) -> BTreeMap<String, String> {
        let (out, _, rc) = sh(&format!(
            "{} health --pid-file {} --socket {} --json {} status",
            lvsctl_bin(),
            self.pid_file,
            self.socket,
            self.config
        ));
        let mut states = BTreeMap::new();
        if rc != 0 {
            return states;
        }
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        for virt in v["virtuals"].as_array().into_iter().flatten() {
            for real in virt["reals"].as_array().into_iter().flatten() {
                states.insert(
                    format!("{} {}", virt["label"], real["dest"]),
                    real["state"].as_str().unwrap_or("?").to_owned(),
                );
            }
        }
        states
    }

    /// Waits until the daemon reports `n` reals, all `up`.
    fn wait_all_up(&self, n: usize) {
        let start = Instant::now();
        loop {
            let states = self.states();
            if states.len() == n && states.values().all(|s| s == "up") {
                return;
            }
            assert!(
                start.elapsed() < LIMIT,
                "not all up after {LIMIT:?}: {states:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn saved() -> String {
    let (out, err, rc) = sh("ipvsadm -Sn");
    assert_eq!(rc, 0, "ipvsadm -Sn: {err}");
    out
}

/// Polls `ipvsadm -Sn` until `ok` accepts it.
fn wait_table(what: &str, ok: impl Fn(&str) -> bool, files: &Files) -> String {
    let start = Instant::now();
    loop {
        let table = saved();
        if ok(&table) {
            return table;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{what}: not reached after {LIMIT:?}:\n{table}log:\n{}",
            files.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every kind of entry the daemon adopts at start: NAT reals at different weights with a
/// fallback (quiescent=no, connect checks), and DR reals of a persistent service with a
/// netmask, one with connection thresholds, that need three passes in a row (`rise=3`)
/// before the daemon decides they are up (quiescent=yes, http checks).
fn config() -> String {
    "checkinterval=1\nchecktimeout=2\nnegotiatetimeout=2\nfailurecount=1\ncleanstop=no\n\
     virtual=10.0.0.1:80\n\
     \treal=10.1.0.1:8081 masq 1\n\treal=10.1.0.2:8082 masq 2\n\treal=10.1.0.3:8083 masq 3\n\
     \tfallback=10.1.0.9:80 masq\n\tscheduler=wrr\n\tprotocol=tcp\n\tchecktype=connect\n\
     \tquiescent=no\n\
     virtual=10.0.0.2:80\n\
     \treal=10.1.0.4:80 gate 5\n\treal=10.1.0.5:80 gate 4 l:10 u:100\n\
     \tscheduler=wlc\n\tpersistent=300\n\tnetmask=255.255.255.0\n\tprotocol=tcp\n\
     \tchecktype=negotiate\n\tservice=http\n\trequest=\"check.html\"\n\treceive=\"healthy\"\n\
     \trise=3\n\tquiescent=yes\n"
        .to_owned()
}

const REALS: [&str; 5] = [
    "10.1.0.1:8081",
    "10.1.0.2:8082",
    "10.1.0.3:8083",
    "10.1.0.4:80",
    "10.1.0.5:80",
];

#[test]
fn kill_9_and_restart_writes_nothing_until_a_real_changes() {
    kernel_test!();
    let mut net = ServerNet::new();
    for addr in REALS {
        net.httpd(addr);
    }
    let files = Files::new(&config());

    let mut first = files.start();
    files.wait_all_up(REALS.len());
    let all_in = |t: &str| REALS.iter().all(|r| t.contains(r)) && !t.contains("10.1.0.9:80");
    let before = wait_table("every real in, no fallback", all_in, &files);
    // A few more cycles, so the first daemon is in its steady state when it dies.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(saved(), before, "steady state");

    let capture = Capture::start("restart");
    first.kill().unwrap(); // SIGKILL: no cleanup, pid file and socket left behind
    first.wait().unwrap();
    let mut second = files.start();
    files.wait_all_up(REALS.len());
    // Beyond its decisions (rise=3 takes three checks), several drift-repair cycles, each
    // a fresh read of the table.
    std::thread::sleep(Duration::from_secs(5));
    let settled = saved();

    // The control: one real really fails, and its removal is the only write captured,
    // which shows that the capture sees the daemon's writes.
    net.stop("10.1.0.1:8081");
    wait_table(
        "10.1.0.1:8081 removed",
        |t| !t.contains("10.1.0.1:8081"),
        &files,
    );
    let seen = capture.finish();
    let _ = second.kill();
    let _ = second.wait();
    let log = files.log();

    assert_eq!(settled, before, "the table after the restart; log:\n{log}");
    assert!(
        seen.iter().any(|r| !r.is_write()),
        "the capture saw the daemon's reads"
    );
    let writes: Vec<&Request> = seen.iter().filter(|r| r.is_write()).collect();
    assert_eq!(
        writes,
        [&Request {
            cmd: u8::from(IpvsCmd::DelDest),
            dest: Some(("10.1.0.1".parse().unwrap(), 8081)),
        }],
        "the only IPVS write from the kill -9 on is the control's removal; log:\n{log}"
    );
}
