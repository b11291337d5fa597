//! `lvsctl health` killed with SIGKILL while every real is healthy, then started again: the
//! new daemon adopts the table it finds and writes nothing to IPVS until a real really
//! changes state. No real server is removed, re-added or re-weighted, not even for the
//! instant between two writes that an `ipvsadm -Ln` poll would miss: every IPVS request of
//! the test's network namespace is captured on an nlmon device (tcpdump) and decoded.
//!
//! Run inside the IPVS VM (`tests/vm/lvs-vm`). Timing: checkinterval 1 s; waits are
//! generous because the guest is emulated.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use lvsctl::ipvs::netlink::NetlinkBackend;
use lvsctl::ipvs::wire::IpvsCmd;
use serde_json::Value;
use support::{lvsctl_bin, sh};

const LIMIT: Duration = Duration::from_mins(1);

/// Real servers (busybox httpd) in their own netns behind a veth; this netns is 10.1.0.254.
struct ServerNet {
    name: String,
    servers: BTreeMap<String, Child>,
}

impl ServerNet {
    fn new() -> Self {
        let name = format!("lvr{}", std::process::id());
        let script = format!(
            "set -e; ip netns add {name}; \
             ip link add vr0 type veth peer name vr1 netns {name}; \
             ip addr add 10.1.0.254/24 dev vr0; ip link set vr0 up; \
             ip netns exec {name} ip link set lo up; \
             ip netns exec {name} ip link set vr1 up; \
             for i in 1 2 3 4 5 9; do ip netns exec {name} ip addr add 10.1.0.$i/24 dev vr1; done"
        );
        let (_, err, rc) = sh(&script);
        assert_eq!(rc, 0, "netns setup: {err}");
        let dir = format!("/run/lvr-{}-www", std::process::id());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/check.html"), "service is healthy\n").unwrap();
        Self {
            name,
            servers: BTreeMap::new(),
        }
    }

    fn httpd(&mut self, addr: &str) {
        let dir = format!("/run/lvr-{}-www", std::process::id());
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name, "busybox", "httpd", "-f", "-p"])
            .args([addr, "-h", &dir])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("busybox httpd");
        self.servers.insert(addr.to_owned(), child);
    }

    fn stop(&mut self, addr: &str) {
        if let Some(mut child) = self.servers.remove(addr) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerNet {
    fn drop(&mut self) {
        let addrs: Vec<String> = self.servers.keys().cloned().collect();
        for addr in addrs {
            self.stop(&addr);
        }
        let _ = sh(&format!("ip netns del {}", self.name));
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

/// Deletes the test's `nlmon0` device when the test ends, passed or not.
struct Nlmon;

impl Drop for Nlmon {
    fn drop(&mut self) {
        let _ = sh("ip link del nlmon0");
    }
}

/// tcpdump on `nlmon0`, writing a pcap file.
struct Capture {
    child: Child,
    file: String,
    _stderr: BufReader<ChildStderr>,
}

impl Capture {
    fn start(file: &str) -> Self {
        let mut child = Command::new("tcpdump")
            .args([
                "-i",
                "nlmon0",
                "-U",
                "--immediate-mode",
                "-B",
                "16384",
                "-w",
                file,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpdump (tests/vm/lvs-vm installs it)");
        // tcpdump says "listening on ..." once the capture is open.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains("listening"), "tcpdump: {line}");
        Self {
            child,
            file: file.to_owned(),
            _stderr: stderr,
        }
    }

    /// Stops the capture and returns the IPVS requests it saw.
    fn stop(mut self, family: u16) -> Vec<Request> {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
        let _ = self.child.wait();
        let mut data = Vec::new();
        File::open(&self.file)
            .unwrap()
            .read_to_end(&mut data)
            .unwrap();
        requests(&data, family)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One IPVS request seen on the netlink monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    cmd: u8,
    /// The real server's address and port, for destination commands.
    dest: Option<String>,
}

impl Request {
    fn is_write(&self) -> bool {
        ![
            IpvsCmd::GetService,
            IpvsCmd::GetDest,
            IpvsCmd::GetDaemon,
            IpvsCmd::GetConfig,
            IpvsCmd::GetInfo,
        ]
        .into_iter()
        .any(|c| u8::from(c) == self.cmd)
    }
}

/// The IPVS requests (user space → kernel) in a pcap of an nlmon device.
fn requests(pcap: &[u8], family: u16) -> Vec<Request> {
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    assert!(pcap.len() >= 24, "empty capture");
    // LINKTYPE_NETLINK (253) puts a 16-byte cooked header before the netlink messages.
    let skip = if u32_at(pcap, 20) == 253 { 16 } else { 0 };
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32_at(pcap, at + 8) as usize;
        let Some(frame) = pcap.get(at + 16..at + 16 + len) else {
            break;
        };
        out.extend(messages(frame.get(skip..).unwrap_or_default(), family));
        at += 16 + len;
    }
    out
}

/// The IPVS requests in one captured netlink buffer (a batch holds several messages).
fn messages(mut buf: &[u8], family: u16) -> Vec<Request> {
    const NLM_F_REQUEST: u16 = 1;
    const ATTR_DEST: u16 = 2; // IPVS_CMD_ATTR_DEST
    const DEST_ADDR: u16 = 1;
    const DEST_PORT: u16 = 2;
    let mut out = Vec::new();
    while buf.len() >= 20 {
        let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let kind = u16::from_le_bytes([buf[4], buf[5]]);
        let flags = u16::from_le_bytes([buf[6], buf[7]]);
        if len < 20 || len > buf.len() {
            break;
        }
        if kind == family && flags & NLM_F_REQUEST != 0 {
            let dest = attrs(&buf[20..len])
                .find(|(t, _)| *t == ATTR_DEST)
                .map(|(_, nest)| {
                    let addr = attrs(nest)
                        .find(|(t, _)| *t == DEST_ADDR)
                        .and_then(|(_, v)| v.get(..4))
                        .map(|v| format!("{}.{}.{}.{}", v[0], v[1], v[2], v[3]));
                    let port = attrs(nest)
                        .find(|(t, _)| *t == DEST_PORT)
                        .and_then(|(_, v)| v.get(..2))
                        .map(|v| u16::from_be_bytes([v[0], v[1]]));
                    format!("{}:{}", addr.unwrap_or_default(), port.unwrap_or(0))
                });
            out.push(Request { cmd: buf[16], dest });
        }
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    out
}

/// (type, payload) of the netlink attributes in `buf`.
fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16::from_le_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_le_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let item = (kind, &buf[4..len]);
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some(item)
    })
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
    let (_, err, rc) = sh("ip link add nlmon0 type nlmon && ip link set nlmon0 up");
    assert_eq!(rc, 0, "nlmon: {err}");
    let _nlmon = Nlmon;
    let family = NetlinkBackend::connect().expect("IPVS").family_id();
    let files = Files::new(&config());

    let mut first = files.start();
    files.wait_all_up(REALS.len());
    let all_in = |t: &str| REALS.iter().all(|r| t.contains(r)) && !t.contains("10.1.0.9:80");
    let before = wait_table("every real in, no fallback", all_in, &files);
    // A few more cycles, so the first daemon is in its steady state when it dies.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(saved(), before, "steady state");

    let capture = Capture::start(&format!("/tmp/lvr-{}.pcap", std::process::id()));
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
    let seen = capture.stop(family);
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
            dest: Some("10.1.0.1:8081".to_owned()),
        }],
        "the only IPVS write from the kill -9 on is the control's removal; log:\n{log}"
    );
}
