//! `lvsctl health` under local faults, against the real kernel: a local fault must never read
//! as "the real server is down", and slow local clients must never stall the daemon.
//!
//! * File descriptors: the daemon runs under `prlimit --nofile` 64 with 200 reals, 100 of
//!   them black-holed (their SYNs dropped by nft, so each of their checks holds a socket for
//!   the whole checktimeout). Once with a soft limit the daemon may raise and once with the
//!   hard limit at 64 too.
//! * Ephemeral ports: the daemon's netns gets a ten-port `ip_local_port_range` whose ports
//!   this test holds bound, so every connect fails with EADDRNOTAVAIL.
//! * Idle clients: 100 clients connected to the status socket that never read, and 100 to
//!   the metrics port that never send a request, while `lvsctl health status` and a scrape
//!   must each answer within a second of what they take without the idle clients.
//!
//! "Never touched" is measured on the netlink traffic itself: an nlmon device in the test's
//! netns captures every message (tcpdump), and no NEW_DEST, SET_DEST or DEL_DEST may name a
//! healthy real after the table has settled. The table is also polled.
//!
//! The real servers are listeners of this test process on a dummy interface (10.1.0.1), one
//! per port, accepting and dropping. The daemon is `LVSCTL_FAULTS_BIN` when set (to measure
//! an older build, as docs/faults.md records), else the binary under test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/nlmon.rs"]
mod nlmon;
mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nlmon::{Capture, Request};
use support::{lvsctl_bin, sh};

const ADDR: &str = "10.1.0.1";
const FIRST_PORT: u16 = 20001;

fn daemon_bin() -> String {
    std::env::var("LVSCTL_FAULTS_BIN").unwrap_or_else(|_| lvsctl_bin().to_owned())
}

/// A dummy interface with the real servers' address, and an nft table whose set `dropped`
/// black-holes the local ports in it (output hook: the daemon is in this netns).
fn network() {
    let (_, err, rc) = sh(&format!(
        "set -e; ip link add d0 type dummy; ip addr add {ADDR}/24 dev d0; ip link set d0 up; \
         nft 'add table inet faults; \
              add set inet faults dropped {{ type inet_service; flags interval; }}; \
              add chain inet faults out {{ type filter hook output priority 0; }}; \
              add rule inet faults out ip daddr {ADDR} tcp dport @dropped drop'"
    ));
    assert_eq!(rc, 0, "network: {err}");
}

fn black_hole(first: u16, last: u16) {
    let (_, err, rc) = sh(&format!(
        "nft add element inet faults dropped '{{ {first}-{last} }}'"
    ));
    assert_eq!(rc, 0, "nft: {err}");
}

/// Listeners on `ADDR:first..=last`, accepting and dropping connections, on a runtime of
/// their own thread (which stays in the test's netns).
fn listeners(first: u16, last: u16) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            for port in first..=last {
                let l = tokio::net::TcpListener::bind((ADDR, port)).await.unwrap();
                tokio::spawn(async move {
                    while let Ok((s, _)) = l.accept().await {
                        drop(s);
                    }
                });
            }
            ready_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    ready_rx
        .recv_timeout(Duration::from_mins(1))
        .expect("listeners");
}

fn config(reals: u16, extra_virtuals: &str) -> String {
    let mut cf = String::from(
        "checkinterval=1\nchecktimeout=3\nfailurecount=1\nquiescent=no\n\
         virtual=10.0.0.1:80\n\tchecktype=connect\n\tscheduler=wlc\n\tprotocol=tcp\n",
    );
    for i in 0..reals {
        let _ = writeln!(cf, "\treal={ADDR}:{} masq 1", FIRST_PORT + i);
    }
    cf.push_str(extra_virtuals);
    cf
}

/// The daemon under test, in the foreground, optionally under `prlimit --nofile=SOFT:HARD`.
struct Daemon {
    child: Child,
    base: String,
}

impl Daemon {
    fn start(tag: &str, cf: &str, nofile: Option<&str>, extra: &[&str]) -> Self {
        let base = format!("lvf-{}-{tag}", std::process::id());
        std::fs::write(format!("/tmp/{base}.cf"), cf).unwrap();
        let mut cmd = match nofile {
            Some(limit) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={limit}"))
                    .arg("--")
                    .arg(daemon_bin());
                c
            }
            None => Command::new(daemon_bin()),
        };
        let child = cmd
            .args(["health", "--foreground", "--pid-file"])
            .arg(format!("/run/{base}.pid"))
            .arg("--socket")
            .arg(format!("/run/{base}.sock"))
            .args(extra)
            .arg(format!("/tmp/{base}.cf"))
            .arg("start")
            .stdout(Stdio::null())
            .stderr(File::create(format!("/tmp/{base}.log")).unwrap())
            .spawn()
            .expect("start lvsctl health");
        Self { child, base }
    }

    fn socket(&self) -> String {
        format!("/run/{}.sock", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(format!("/tmp/{}.log", self.base)).unwrap_or_default()
    }

    /// `lvsctl health status` (always the binary under test: it is the client), with how
    /// long it took.
    fn status(&self) -> (String, String, i32, Duration) {
        let t = Instant::now();
        let (out, err, rc) = sh(&format!(
            "{} health --pid-file /run/{b}.pid --socket /run/{b}.sock /tmp/{b}.cf status",
            lvsctl_bin(),
            b = self.base
        ));
        (out, err, rc, t.elapsed())
    }

    fn soft_nofile(&self) -> Option<u64> {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ports of the reals of 10.0.0.1:80 in the kernel, with their weights.
fn table() -> Vec<(u16, i64)> {
    let (out, err, rc) = sh("ipvsadm -Ln -t 10.0.0.1:80");
    if rc != 0 {
        assert!(err.contains("No such service"), "ipvsadm: {err}");
        return Vec::new();
    }
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                ["->", real, _, weight, ..] => {
                    let port = real.strip_prefix(&format!("{ADDR}:"))?.parse().ok()?;
                    Some((port, weight.parse().ok()?))
                }
                _ => None,
            }
        })
        .collect()
}

fn ports(first: u16, last: u16) -> BTreeSet<u16> {
    (first..=last).collect()
}

fn present(t: &[(u16, i64)]) -> BTreeSet<u16> {
    t.iter().filter(|(_, w)| *w > 0).map(|(p, _)| *p).collect()
}

/// The reals present, from two listings in a row that agree. A listing of a service's
/// reals is a multi-part dump that the kernel resumes by position in the service's list of
/// reals: while the daemon deletes black-holed reals, a listing can skip a healthy one that
/// was never touched. A real the daemon really removed stays out for at least a check
/// interval, so it is missing from both listings (and its write is in the capture anyway).
fn settled_present() -> BTreeSet<u16> {
    let mut last = present(&table());
    for _ in 0..10 {
        let now = present(&table());
        if now == last {
            break;
        }
        last = now;
    }
    last
}

fn wait_table(why: &str, limit: Duration, d: &Daemon, ok: impl Fn(&BTreeSet<u16>) -> bool) {
    let start = Instant::now();
    loop {
        let now = present(&table());
        if ok(&now) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{why}: not reached after {limit:?}: {} reals in the kernel; log tail:\n{}",
            now.len(),
            tail(&d.log(), 40)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A NEW_DEST, SET_DEST or DEL_DEST request: the command and the real's port.
type DestWrite = (&'static str, u16);

/// The destination writes among the requests a capture saw.
fn dest_writes(seen: &[Request]) -> Vec<DestWrite> {
    seen.iter()
        .filter_map(|r| Some((r.dest_write()?, r.dest?.1)))
        .collect()
}

/// What one fd-exhaustion run saw.
struct Seen {
    touched: Vec<DestWrite>,
    fewest_healthy: usize,
    black_holed_left: usize,
}

/// 200 reals checked every second under `prlimit --nofile=LIMIT`; after every real is in
/// the kernel, 100 are black-holed for 30 s while the kernel is polled and the netlink
/// traffic captured.
fn fd_exhaustion(tag: &str, limit: &str) -> (Daemon, Seen) {
    network();
    let last = FIRST_PORT + 199;
    listeners(FIRST_PORT, last);
    let d = Daemon::start(tag, &config(200, ""), Some(limit), &[]);
    wait_table("all 200 reals in", Duration::from_mins(3), &d, |now| {
        now.len() == 200
    });
    let healthy = ports(FIRST_PORT, FIRST_PORT + 99);
    let capture = Capture::start(tag);
    black_hole(FIRST_PORT + 100, last);
    let mut fewest = healthy.len();
    let mut left = 100;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let now = settled_present();
        fewest = fewest.min(now.intersection(&healthy).count());
        left = now.len() - now.intersection(&healthy).count();
        std::thread::sleep(Duration::from_millis(500));
    }
    let touched = dest_writes(&capture.finish())
        .into_iter()
        .filter(|(_, port)| healthy.contains(port))
        .collect();
    (
        d,
        Seen {
            touched,
            fewest_healthy: fewest,
            black_holed_left: left,
        },
    )
}

fn summary(touched: &[DestWrite]) -> String {
    let mut by_cmd = std::collections::BTreeMap::new();
    for (cmd, _) in touched {
        *by_cmd.entry(*cmd).or_insert(0) += 1;
    }
    format!("{by_cmd:?}")
}

/// The soft limit is 64 but the hard one is not: the daemon raises its soft limit to what
/// 200 reals need, and no check runs out of descriptors.
#[test]
fn fd_exhaustion_below_a_raisable_limit_touches_no_healthy_real() {
    kernel_test!();
    let (d, seen) = fd_exhaustion("soft", "64:65536");
    let soft = d.soft_nofile();
    eprintln!(
        "soft 64, hard 65536: soft limit now {soft:?}; healthy reals written: {} {}; fewest \
         healthy in the kernel: {}/100; black-holed left: {}",
        seen.touched.len(),
        summary(&seen.touched),
        seen.fewest_healthy,
        seen.black_holed_left
    );
    assert!(
        soft.is_some_and(|s| s > 64),
        "soft limit not raised: {soft:?}"
    );
    assert!(
        seen.touched.is_empty() && seen.fewest_healthy == 100,
        "healthy reals touched: {}; log tail:\n{}",
        summary(&seen.touched),
        tail(&d.log(), 40)
    );
    assert_eq!(seen.black_holed_left, 0, "every black-holed real removed");
}

/// The hard limit is 64 too: the checks share half of it and the rest stays free, so the
/// status socket still answers; a check that waits too long for its share is "not
/// checked", which leaves every healthy real alone, and the log says why.
#[test]
fn fd_exhaustion_at_the_hard_limit_touches_no_healthy_real() {
    kernel_test!();
    let (d, seen) = fd_exhaustion("hard", "64:64");
    let (out, err, rc, took) = d.status();
    eprintln!(
        "soft and hard 64: healthy reals written: {} {}; fewest healthy in the kernel: \
         {}/100; black-holed left: {}; status took {took:?} (exit {rc})",
        seen.touched.len(),
        summary(&seen.touched),
        seen.fewest_healthy,
        seen.black_holed_left
    );
    assert!(
        seen.touched.is_empty() && seen.fewest_healthy == 100,
        "healthy reals touched: {}; log tail:\n{}",
        summary(&seen.touched),
        tail(&d.log(), 40)
    );
    let log = d.log();
    assert!(
        log.contains("file descriptors"),
        "the limit is named: {}",
        tail(&log, 40)
    );
    assert!(
        log.contains("Checks share 32 file descriptors at a time"),
        "the cap is named: {}",
        tail(&log, 40)
    );
    assert_eq!(rc, 0, "status: {err}");
    assert!(!err.contains("status socket"), "status: {err}");
    assert!(out.contains("up"), "status answers: {out}");
}

/// Every ephemeral port of the daemon's netns is taken: connects fail with EADDRNOTAVAIL,
/// which says nothing about the reals; none is touched, and checks work again afterwards.
#[test]
fn exhausted_ephemeral_ports_touch_no_healthy_real() {
    kernel_test!();
    network();
    let last = FIRST_PORT + 99;
    listeners(FIRST_PORT, last);
    let d = Daemon::start("ports", &config(100, ""), None, &[]);
    let healthy = ports(FIRST_PORT, last);
    wait_table("all 100 reals in", Duration::from_mins(3), &d, |now| {
        *now == healthy
    });
    let capture = Capture::start("ports");
    let held: Vec<std::net::TcpListener> = (40000..40010)
        .map(|p| std::net::TcpListener::bind(("0.0.0.0", p)).unwrap())
        .collect();
    let (_, err, rc) = sh("sysctl -qw net.ipv4.ip_local_port_range='40000 40009'");
    assert_eq!(rc, 0, "sysctl: {err}");
    let mut fewest = healthy.len();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        fewest = fewest.min(present(&table()).intersection(&healthy).count());
        std::thread::sleep(Duration::from_millis(500));
    }
    let (out, _, _, _) = d.status();
    drop(held);
    let (_, err, rc) = sh("sysctl -qw net.ipv4.ip_local_port_range='32768 60999'");
    assert_eq!(rc, 0, "sysctl: {err}");
    std::thread::sleep(Duration::from_secs(5));
    let writes = dest_writes(&capture.finish());
    eprintln!(
        "ports exhausted for 20 s: healthy reals written: {} {}; fewest healthy in the \
         kernel: {fewest}/100",
        writes.len(),
        summary(&writes)
    );
    assert!(
        writes.is_empty() && fewest == 100,
        "healthy reals touched: {}; log tail:\n{}",
        summary(&writes),
        tail(&d.log(), 40)
    );
    assert!(
        out.contains("not checked: "),
        "status shows the reason: {out}"
    );
    let log = d.log();
    assert!(log.contains("not checked: "), "{}", tail(&log, 40));
    assert!(log.contains("checked again"), "{}", tail(&log, 40));
}

/// 100 clients on the status socket that never read, 100 on the metrics port that never
/// send a request: `lvsctl health status` and a scrape each answer within a second of the
/// time they take without them. The
/// configuration has 1,500 reals (`checktype=on`) besides the checked ones, so the status
/// document (about 250 KB) does not fit in a socket buffer and a client that does not read
/// holds a writer that waits for it.
#[test]
fn idle_clients_stall_neither_status_nor_metrics() {
    kernel_test!();
    network();
    listeners(FIRST_PORT, FIRST_PORT + 9);
    let mut big = String::from("virtual=10.0.0.2:80\n\tchecktype=on\n\tscheduler=wlc\n");
    for i in 0..1500u32 {
        let _ = writeln!(big, "\treal=10.2.{}.{}:80 masq 1", i / 250, i % 250 + 1);
    }
    let d = Daemon::start(
        "idle",
        &config(10, &big),
        None,
        &["--metrics", "127.0.0.1:9111"],
    );
    wait_table("10 reals in", Duration::from_mins(3), &d, |now| {
        now.len() == 10
    });
    // Rounds alternate: the two requests without idle clients, then each with 100 idle
    // clients on its listener, connected just before it (the daemon lets an idle client
    // go after its 2 s deadline, so clients connected once would be gone by the later
    // rounds). Alternating puts both kinds of round under the same host load. The status
    // request waits until the daemon has written the idle status clients their documents
    // (`served`): 100 of 124 KB cost seconds of emulated CPU, and a request arriving
    // meanwhile shares that CPU with them (docs/faults.md, idle clients under TCG).
    let socket = d.socket();
    let mut report = String::new();
    let (mut base_status, mut base_scrape) = (Vec::new(), Vec::new());
    let (mut idle_status, mut idle_scrape) = (Vec::new(), Vec::new());
    let mut last_idle = None;
    for round in 0..5 {
        base_status.push(timed_status(&d, &mut report, round, "no idle clients"));
        base_scrape.push(timed_scrape(&mut report, round, "no idle clients"));
        let held: Vec<std::os::unix::net::UnixStream> = (0..100)
            .map(|_| std::os::unix::net::UnixStream::connect(&socket).unwrap())
            .collect();
        served(&held, &report);
        idle_status.push(timed_status(
            &d,
            &mut report,
            round,
            "100 idle status clients",
        ));
        let idle_metrics: Vec<std::net::TcpStream> = (0..100)
            .filter_map(|_| std::net::TcpStream::connect("127.0.0.1:9111").ok())
            .collect();
        assert_eq!(idle_metrics.len(), 100, "{report}");
        std::thread::sleep(Duration::from_millis(500));
        idle_scrape.push(timed_scrape(&mut report, round, "100 idle metrics clients"));
        last_idle = Some(held);
    }
    eprintln!("{report}");
    // The bound is one second per request. Under TCG the same request without
    // idle clients already takes 0.5-4 s (mostly starting the client process), so what is
    // asserted is the part the idle clients add: the median request with them is at most
    // one second slower than the median without them (docs/faults.md, idle clients under
    // TCG). Every request above answered in full. Before the fix status got nothing and
    // the scrape timed out.
    let second = Duration::from_secs(1);
    let (bs, is) = (median(&mut base_status), median(&mut idle_status));
    let (bm, im) = (median(&mut base_scrape), median(&mut idle_scrape));
    assert!(
        is < bs + second && im < bm + second,
        "idle clients added more than a second: status {bs:?} -> {is:?}, scrape {bm:?} -> \
         {im:?}\n{report}"
    );
    // The idle clients are let go: reading one ends (with the document or nothing).
    let mut first = last_idle.unwrap().into_iter().next().unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut sink = Vec::new();
    assert!(first.read_to_end(&mut sink).is_ok(), "closed by the daemon");
}

/// Waits until the daemon has served every idle status client: each has its document's
/// first bytes to read, or was closed (the daemon keeps at most 64 clients a listener).
/// A fixed pause was not enough on a loaded host: a request made while the daemon still
/// wrote the 100 documents (12 MB, seconds of emulated CPU) shared that CPU and got nothing
/// within the client's 2 s (docs/faults.md, idle clients under TCG).
fn served(held: &[std::os::unix::net::UnixStream], report: &str) {
    use std::os::fd::AsRawFd as _;
    let start = Instant::now();
    for stream in held {
        let mut byte = [0u8; 1];
        loop {
            let flags =
                nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT;
            match nix::sys::socket::recv(stream.as_raw_fd(), &mut byte, flags) {
                Err(nix::errno::Errno::EAGAIN) => {
                    assert!(
                        start.elapsed() < Duration::from_mins(1),
                        "the idle clients were not served within a minute\n{report}"
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
                // Bytes, the end (closed to make room), or reset: served.
                _ => break,
            }
        }
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// `lvsctl health status`, which must answer with the whole table.
fn timed_status(d: &Daemon, report: &mut String, round: usize, how: &str) -> Duration {
    let (out, err, rc, took) = d.status();
    let _ = writeln!(
        report,
        "round {round}, {how}: status exit {rc} in {took:?} ({} bytes)",
        out.len()
    );
    assert_eq!(rc, 0, "status: {err}\n{report}");
    assert!(out.contains("10.2.5.250:80"), "the whole table\n{report}");
    took
}

/// One scrape of the metrics port, which must answer with the metrics.
fn timed_scrape(report: &mut String, round: usize, how: &str) -> Duration {
    let t = Instant::now();
    let (body, err, rc) = sh("curl -s -m 10 http://127.0.0.1:9111/metrics");
    let took = t.elapsed();
    let _ = writeln!(
        report,
        "round {round}, {how}: scrape exit {rc} in {took:?} ({} bytes)",
        body.len()
    );
    assert_eq!(rc, 0, "scrape: {err}\n{report}");
    assert!(body.contains("lvsctl_health_real_up"), "{report}");
    took
}
