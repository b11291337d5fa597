//! An lvs.cf run by the whole daemon on the FakeBackend: nanny checks against loopback
//! servers that answer `send` with or without the `expect` text, the kernel table read
//! back. What is asserted is docs/piranha.md: the first pass adds a real, one failed check
//! removes it, it comes back only after passing for `reentry` seconds, and with
//! `quiesce_server = 1` the service's counters are zeroed in the cycle that adds it back.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::testutil::spawn_daemon;
use super::*;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{DestKey, Protocol, Rates, ServiceKey, Stats};

const VIP: &str = "192.0.2.20";

/// A loopback server on `ip` that reads the request and answers `HTTP/1.0 200 OK` while
/// `healthy`, `busy` otherwise, then closes.
fn server(ip: &str, port: u16, healthy: Arc<AtomicBool>) {
    let listener = TcpListener::bind((ip, port)).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let healthy = healthy.load(Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = conn.read(&mut buf);
                let reply: &[u8] = if healthy {
                    b"HTTP/1.0 200 OK\r\n\r\n"
                } else {
                    b"busy\r\n"
                };
                let _ = conn.write_all(reply);
            });
        }
    });
}

/// A port free on 127.0.0.1 and 127.0.0.2 alike (the reals share the virtual's port).
fn shared_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        if TcpListener::bind(("127.0.0.2", port)).is_ok() {
            return port;
        }
    }
}

struct Run {
    dir: PathBuf,
    fake: Arc<Mutex<FakeBackend>>,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<Result<(), DaemonError>>>,
    key: ServiceKey,
}

impl Run {
    /// Two reals, 127.0.0.1 always healthy and 127.0.0.2 healthy while `b` is set.
    fn start(tag: &str, quiesce: u8, b: &Arc<AtomicBool>) -> Self {
        let port = shared_port();
        server("127.0.0.1", port, Arc::new(AtomicBool::new(true)));
        server("127.0.0.2", port, b.clone());
        let text = format!(
            "keepalive = 1\nnetwork = direct\nvirtual web {{\naddress = {VIP} eth0:1\n\
             port = {port}\nsend = \"GET / HTTP/1.0\\r\\n\\r\\n\"\nexpect = \"HTTP\"\n\
             timeout = 1\nreentry = 3\nquiesce_server = {quiesce}\nscheduler = wlc\n\
             server a {{\naddress = 127.0.0.1\nweight = 2\n}}\n\
             server b {{\naddress = 127.0.0.2\nweight = 1\n}}\n}}\n"
        );
        let dir = std::env::temp_dir().join(format!("lvsctl-pir-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lvs.cf");
        std::fs::write(&path, text).unwrap();
        let location = crate::health::config::ConfigLocation {
            path,
            name: "lvs.cf".into(),
        };
        let mut opts = DaemonOptions::new(location);
        opts.format = ConfigFormat::Piranha;
        opts.console = Console::None;
        opts.socket = Some(dir.join("status.sock"));
        opts.syslog_socket = dir.join("no-syslog");
        opts.sendmail = PathBuf::from("/bin/false");
        let stop = Arc::new(tokio::sync::Notify::new());
        opts.shutdown = Some(stop.clone());
        let fake = Arc::new(Mutex::new(FakeBackend::new()));
        let thread = Some(spawn_daemon(opts, fake.clone()));
        Self {
            dir,
            fake,
            stop,
            thread,
            key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: VIP.parse().unwrap(),
                port,
            },
        }
    }

    /// `(address, weight)` of every real of the virtual in the kernel.
    fn reals(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = self
            .fake
            .lock()
            .unwrap()
            .dests(&self.key)
            .unwrap_or_default()
            .iter()
            .map(|d| (d.addr.to_string(), d.weight))
            .collect();
        out.sort();
        out
    }

    /// Waits (up to 20 s) until the table is `want`; returns when it was.
    #[track_caller]
    fn wait(&self, what: &str, want: &[(&str, i32)]) -> Instant {
        let want: Vec<(String, i32)> = want.iter().map(|(a, w)| ((*a).to_owned(), *w)).collect();
        let start = Instant::now();
        while self.reals() != want {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}: table {:?}, want {want:?}",
                self.reals()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Instant::now()
    }

    fn conns(&self) -> u64 {
        let mut fake = self.fake.lock().unwrap();
        fake.service(&self.key).map_or(0, |s| s.stats.conns)
    }

    fn count(&self, conns: u64) {
        let stats = Stats {
            conns,
            ..Stats::default()
        };
        let mut fake = self.fake.lock().unwrap();
        assert!(fake.set_service_traffic(&self.key, stats, Rates::default()));
    }

    fn ops(&self) -> Vec<Op> {
        self.fake.lock().unwrap().applied_ops().to_vec()
    }

    fn stop(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const BOTH: &[(&str, i32)] = &[("127.0.0.1", 2), ("127.0.0.2", 1)];
const ONLY_A: &[(&str, i32)] = &[("127.0.0.1", 2)];

#[test]
fn a_failed_real_is_removed_and_back_after_reentry_with_the_counters_zeroed() {
    let b = Arc::new(AtomicBool::new(true));
    let run = Run::start("quiesce", 1, &b);
    run.wait("both pass at start", BOTH);
    run.count(42);
    b.store(false, Ordering::SeqCst);
    run.wait("one failed check removes b", ONLY_A);
    // Taking a real out zeroes nothing.
    assert_eq!(run.conns(), 42);
    let healthy_again = Instant::now();
    b.store(true, Ordering::SeqCst);
    let back = run.wait("b is back after reentry", BOTH);
    // Its first pass comes within a keepalive (1 s) and the 3 s of reentry run from it.
    let took = back - healthy_again;
    assert!(took >= Duration::from_secs(3), "back after {took:?}");
    assert!(took < Duration::from_secs(8), "back after {took:?}");
    assert_eq!(run.conns(), 0, "quiesce_server zeroes the service");
    // The zero follows the add in the same batch.
    let ops = run.ops();
    let b_key = DestKey {
        addr: "127.0.0.2".parse().unwrap(),
        port: run.key.port(),
    };
    let readd = ops
        .iter()
        .rposition(|op| matches!(op, Op::AddDest(_, d) if d.key() == b_key))
        .unwrap();
    assert_eq!(ops.get(readd + 1), Some(&Op::Zero(Some(run.key))));
    run.stop();
}

#[test]
fn without_quiesce_server_the_counters_stay() {
    let b = Arc::new(AtomicBool::new(true));
    let run = Run::start("plain", 0, &b);
    run.wait("both pass at start", BOTH);
    run.count(42);
    b.store(false, Ordering::SeqCst);
    run.wait("one failed check removes b", ONLY_A);
    b.store(true, Ordering::SeqCst);
    run.wait("b is back after reentry", BOTH);
    assert_eq!(run.conns(), 42);
    assert!(!run.ops().iter().any(|op| matches!(op, Op::Zero(_))));
    run.stop();
}

/// Fails while the flag is set.
#[derive(Debug)]
struct Switch(Arc<AtomicBool>);

impl crate::health::check::Check for Switch {
    fn run<'a>(
        &'a self,
        _: &'a crate::health::check::Target,
    ) -> crate::health::check::BoxFuture<'a, crate::health::check::Outcome> {
        let failing = self.0.load(Ordering::SeqCst);
        Box::pin(async move {
            if failing {
                crate::health::check::Outcome::Down("busy".into())
            } else {
                crate::health::check::Outcome::Up
            }
        })
    }
}

/// The timings on the runtime's paused clock: checks every 6 s (`keepalive`),
/// `reentry = 15`. The task puts each result through the reentry rule and reports its
/// verdicts: in at the first pass, out at the failure, back at the first pass 15 s after
/// the first pass that followed it.
#[tokio::test(start_paused = true)]
async fn the_check_task_reports_the_reentry_verdicts_on_the_keepalive_grid() {
    use crate::health::state::keepalived_http::Verdict::{Down, Up};
    let failing = Arc::new(AtomicBool::new(false));
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: VIP.parse().unwrap(),
        port: 80,
    };
    let real = DestKey {
        addr: "192.0.2.21".parse().unwrap(),
        port: 80,
    };
    let job = tasks::CheckJob {
        id: (key, real),
        checker: 0,
        generation: 1,
        check: Box::new(Switch(failing.clone())),
        target: crate::health::check::Target {
            virtual_key: key,
            real_addr: real.addr,
            real_port: 80,
            check_port: Some(80),
            route: crate::health::check::Route::default(),
        },
        interval: Duration::from_secs(6),
        limit: Duration::from_secs(7),
        maintenance_dir: None,
        reverse: None,
        budget: super::budget::Budget::new(None),
        descriptors: 1,
        retry: None,
        http: None,
        epilog: None,
        urls: Vec::new(),
        reentry: Some(crate::health::state::reentry::Reentry::new(
            Duration::from_secs(15),
        )),
        misc: None,
        warmup: Duration::ZERO,
        file: None,
        hook: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(tasks::run(job, tx));
    let mut seen = Vec::new();
    for n in 0..9 {
        let report = rx.recv().await.unwrap();
        let at = (tokio::time::Instant::now() - start).as_secs();
        seen.push((at, report.verdict));
        // The third check fails, every other passes.
        failing.store(n + 1 == 2, Ordering::SeqCst);
    }
    task.abort();
    let first = seen[0].0;
    let seen: Vec<(u64, Option<_>)> = seen.iter().map(|&(t, v)| (t - first, v)).collect();
    assert_eq!(
        seen,
        [
            (0, Some(Up)),
            (6, None),
            (12, Some(Down)),
            (18, None),
            (24, None),
            (30, None),
            (36, Some(Up)),
            (42, None),
            (48, None)
        ]
    );
}
