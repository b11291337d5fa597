//! `lvsctl health` against hostile real servers, in the IPVS VM: a slowloris http real (a
//! byte every 100 ms, forever), an FTP real whose banner line never ends, an http real
//! sending 100 MB of header, and an http real redirecting to 127.0.0.1, where a server
//! would answer 200. Twenty well-behaved http reals share the virtual with them.
//!
//! What must hold: the hostile reals are marked down (taken out of the preloaded table),
//! nothing reaches 127.0.0.1, the daemon's peak RSS (VmHWM) stays under 64 MiB, and the
//! well-behaved reals are still judged on time: each is made to fail in turn (a 503, or a
//! connection that is accepted and never answered) and must leave the kernel table within
//! checkinterval + negotiatetimeout + 0.1 s, measured from the moment it starts failing to
//! the moment a netlink read (every 20 ms) no longer finds it.
//!
//! The servers are threads of this test process, on addresses of its own network
//! namespace. Everything measured is printed before anything is asserted, so a run against
//! another build (`LVSCTL_HOSTILE_BIN=/path/to/lvsctl`) still reports its numbers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lvsctl::ipvs::netlink::NetlinkBackend;
use lvsctl::ipvs::{Backend, Protocol, ServiceKey};
use support::sh;

/// Healthy reals, 10.1.1.1..=HEALTHY.
const HEALTHY: u8 = 20;
/// Reals made to fail one after another.
const SAMPLES: u8 = 10;
const INTERVAL: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(2);
/// The bound on detection: checkinterval + negotiatetimeout + 0.1 s.
const BOUND: Duration = Duration::from_millis(3100);
const RSS_LIMIT_KB: u64 = 64 * 1024;

const SLOWLORIS: &str = "10.1.0.1";
const ENDLESS_FTP: &str = "10.1.0.2";
const HUGE_HEADER: &str = "10.1.0.3";
const REDIRECT: &str = "10.1.0.4";

fn lvsctl() -> String {
    std::env::var("LVSCTL_HOSTILE_BIN").unwrap_or_else(|_| support::lvsctl_bin().to_owned())
}

/// Accepts on `addr` and runs `serve` on a thread per connection.
fn listen(addr: &str, serve: impl Fn(TcpStream) + Send + Sync + Clone + 'static) {
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
}

/// Reads the request head (up to its empty line, or what one read brings).
fn read_request(s: &mut TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 2048];
    let _ = s.read(&mut buf);
}

/// Holds a connection open until the client goes away.
fn hold(mut s: TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 256];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// How a well-behaved real answers.
const OK: u8 = 0;
const REFUSE: u8 = 1;
const SILENT: u8 = 2;

fn healthy_http(mode: Arc<AtomicU8>) -> impl Fn(TcpStream) + Send + Sync + Clone + 'static {
    move |mut s: TcpStream| {
        read_request(&mut s);
        let reply: &[u8] = match mode.load(Ordering::SeqCst) {
            OK => b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
            REFUSE => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
            _ => return hold(s),
        };
        let _ = s.write_all(reply);
    }
}

fn start_servers(redirect_hits: &Arc<AtomicUsize>) -> Vec<Arc<AtomicU8>> {
    listen(&format!("{SLOWLORIS}:80"), |mut s: TcpStream| {
        read_request(&mut s);
        let head = b"HTTP/1.1 200 OK\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if s.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    listen(&format!("{ENDLESS_FTP}:21"), |mut s: TcpStream| {
        let chunk = [b'2'; 16 * 1024];
        while s.write_all(&chunk).is_ok() {}
    });
    listen(&format!("{HUGE_HEADER}:80"), |mut s: TcpStream| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Huge: ");
        let chunk = vec![b'h'; 64 * 1024];
        for _ in 0..(100 << 20) / chunk.len() {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    listen(&format!("{REDIRECT}:80"), |mut s: TcpStream| {
        read_request(&mut s);
        let _ = s.write_all(
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:8081/admin\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let hits = redirect_hits.clone();
    listen("127.0.0.1:8081", move |mut s: TcpStream| {
        hits.fetch_add(1, Ordering::SeqCst);
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
    });
    (1..=HEALTHY)
        .map(|i| {
            let mode = Arc::new(AtomicU8::new(OK));
            listen(&format!("10.1.1.{i}:80"), healthy_http(mode.clone()));
            mode
        })
        .collect()
}

fn config() -> String {
    let mut text = format!(
        "checkinterval={}\nchecktimeout={t}\nnegotiatetimeout={t}\nfailurecount=1\nquiescent=no\n\
         virtual=10.0.0.1:80\n\tservice=http\n\trequest=\"health\"\n\treceive=\"ok\"\n\tscheduler=rr\n",
        INTERVAL.as_secs(),
        t = TIMEOUT.as_secs()
    );
    for real in [SLOWLORIS, HUGE_HEADER, REDIRECT] {
        let _ = writeln!(text, "\treal={real}:80 masq");
    }
    for i in 1..=HEALTHY {
        let _ = writeln!(text, "\treal=10.1.1.{i}:80 masq");
    }
    let _ = write!(
        text,
        "virtual=10.0.0.1:21\n\tservice=ftp\n\trequest=\"health.txt\"\n\treceive=\"up\"\n\
         \tscheduler=rr\n\treal={ENDLESS_FTP}:21 masq\n"
    );
    text
}

/// The table as a daemon restarting on a running director finds it: every real in.
fn preload() {
    let mut script =
        String::from("ipvsadm -A -t 10.0.0.1:80 -s rr && ipvsadm -A -t 10.0.0.1:21 -s rr");
    for real in [SLOWLORIS, HUGE_HEADER, REDIRECT] {
        let _ = write!(script, " && ipvsadm -a -t 10.0.0.1:80 -r {real}:80 -m -w 1");
    }
    for i in 1..=HEALTHY {
        let _ = write!(
            script,
            " && ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.{i}:80 -m -w 1"
        );
    }
    let _ = write!(
        script,
        " && ipvsadm -a -t 10.0.0.1:21 -r {ENDLESS_FTP}:21 -m -w 1"
    );
    let (_, err, rc) = sh(&script);
    assert_eq!(rc, 0, "preload: {err}");
}

fn service(port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        port,
    }
}

/// The reals of a service in the kernel, as `addr:port`.
fn reals(ipvs: &mut NetlinkBackend, port: u16) -> Vec<String> {
    ipvs.dests(&service(port))
        .map(|d| d.iter().map(|d| format!("{}:{}", d.addr, d.port)).collect())
        .unwrap_or_default()
}

struct Daemon {
    child: Child,
    log: String,
    base: String,
}

impl Daemon {
    fn start() -> Self {
        let base = format!("/run/lvhx-{}", std::process::id());
        std::fs::write(format!("{base}.cf"), config()).unwrap();
        let log = format!("/tmp/lvhx-{}.log", std::process::id());
        let child = Command::new(lvsctl())
            .args([
                "health",
                "--foreground",
                "--pid-file",
                &format!("{base}.pid"),
            ])
            .args([
                "--socket",
                &format!("{base}.sock"),
                &format!("{base}.cf"),
                "start",
            ])
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start lvsctl health");
        Self { child, log, base }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Peak resident set in KiB, from /proc/PID/status.
    fn vm_hwm_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn status_json(&self) -> String {
        let (out, _, _) = sh(&format!(
            "{} health --json --pid-file {b}.pid --socket {b}.sock {b}.cf status",
            lvsctl(),
            b = self.base
        ));
        out
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = sh(&format!("rm -f {}.*", self.base));
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[test]
fn hostile_reals_are_down_and_cost_the_daemon_nothing() {
    kernel_test!();
    let mut addresses = String::from("true");
    for a in [SLOWLORIS, ENDLESS_FTP, HUGE_HEADER, REDIRECT] {
        let _ = write!(addresses, " && ip addr add {a}/32 dev lo");
    }
    for i in 1..=HEALTHY {
        let _ = write!(addresses, " && ip addr add 10.1.1.{i}/32 dev lo");
    }
    let (_, err, rc) = sh(&addresses);
    assert_eq!(rc, 0, "addresses: {err}");
    let redirect_hits = Arc::new(AtomicUsize::new(0));
    let modes = start_servers(&redirect_hits);
    preload();
    let mut ipvs = NetlinkBackend::connect().expect("netlink");
    let daemon = Daemon::start();

    // The hostile reals leave the table; the healthy ones stay.
    let hostile = [
        format!("{SLOWLORIS}:80"),
        format!("{HUGE_HEADER}:80"),
        format!("{REDIRECT}:80"),
    ];
    let start = Instant::now();
    let mut hostile_out = None;
    while start.elapsed() < Duration::from_mins(1) {
        let web = reals(&mut ipvs, 80);
        let ftp = reals(&mut ipvs, 21);
        if ftp.is_empty() && !hostile.iter().any(|h| web.contains(h)) {
            hostile_out = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let healthy_left = reals(&mut ipvs, 80).len();
    eprintln!(
        "hostile reals out of the table after {hostile_out:?}; {healthy_left} reals left in :80"
    );

    // Keep the hostile reals busy a while, then fail the well-behaved ones one by one.
    std::thread::sleep(Duration::from_secs(5));
    let mut latencies = Vec::new();
    let mut missed = Vec::new();
    for (i, mode) in modes.iter().take(usize::from(SAMPLES)).enumerate() {
        let real = format!("10.1.1.{}:80", i + 1);
        // Fail at a random point of the check interval.
        std::thread::sleep(Duration::from_millis(300 + (i as u64 * 377) % 1000));
        let how = if i % 2 == 0 { REFUSE } else { SILENT };
        let t0 = Instant::now();
        mode.store(how, Ordering::SeqCst);
        loop {
            if !reals(&mut ipvs, 80).contains(&real) {
                latencies.push(t0.elapsed());
                break;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                missed.push(real.clone());
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let hwm = daemon.vm_hwm_kb();
    let status = daemon.status_json();
    let mut sorted = latencies.clone();
    sorted.sort();
    eprintln!(
        "detection (ms, in order: refuse, silent, ...): {:?}",
        latencies
            .iter()
            .map(Duration::as_millis)
            .collect::<Vec<_>>()
    );
    if !sorted.is_empty() {
        eprintln!(
            "detection p50 {:?} p90 {:?} max {:?} (bound {BOUND:?}); missed {missed:?}",
            percentile(&sorted, 50),
            percentile(&sorted, 90),
            sorted[sorted.len() - 1]
        );
    }
    eprintln!(
        "daemon VmHWM {hwm} kB (limit {RSS_LIMIT_KB} kB); requests that reached 127.0.0.1: {}",
        redirect_hits.load(Ordering::SeqCst)
    );
    let doc: serde_json::Value = serde_json::from_str(&status).unwrap_or_default();
    let reason = |addr: &str| -> String {
        let reals = doc["virtuals"].as_array().into_iter().flatten();
        reals
            .flat_map(|v| v["reals"].as_array().into_iter().flatten())
            .find(|r| r["dest"]["addr"] == addr)
            .and_then(|r| r["reason"].as_str())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect()
    };
    for addr in [SLOWLORIS, ENDLESS_FTP, HUGE_HEADER, REDIRECT] {
        eprintln!("reason for {addr}: {}", reason(addr));
    }

    let log = daemon.log();
    assert!(
        hostile_out.is_some(),
        "hostile reals still in the table; log:\n{log}"
    );
    assert_eq!(
        healthy_left,
        usize::from(HEALTHY),
        "a healthy real was taken out; log:\n{log}"
    );
    assert_eq!(
        redirect_hits.load(Ordering::SeqCst),
        0,
        "the redirect to 127.0.0.1 was followed"
    );
    assert!(hwm > 0 && hwm < RSS_LIMIT_KB, "VmHWM {hwm} kB");
    assert!(
        missed.is_empty(),
        "never taken out: {missed:?}; log:\n{log}"
    );
    assert!(
        latencies.iter().all(|l| *l <= BOUND),
        "detection above {BOUND:?}: {latencies:?}"
    );
    assert!(
        reason(REDIRECT).contains("leaves the real server"),
        "{status}"
    );
    assert!(
        reason(HUGE_HEADER).contains("head longer than 65536 bytes"),
        "{status}"
    );
    assert!(
        reason(ENDLESS_FTP).contains("line longer than 65536 bytes"),
        "{status}"
    );
    assert!(reason(SLOWLORIS).contains("timed out"), "{status}");
}
