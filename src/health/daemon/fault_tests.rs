//! The whole daemon in-process, on the FakeBackend, under local faults: checks that cannot
//! be made, a check task and the IPVS thread that panic, a name lookup that hangs during a
//! reload, a syslog daemon that stopped reading, a configuration caught half written.
//! Check results come from a test hook (`DaemonOptions::check_hook`) instead of real
//! checks, so each test decides what every run of every check says.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::tasks::CheckHook;
use super::testutil::{self, Panicky, spawn_daemon_with};
use super::*;
use crate::health::check::Outcome;
use crate::health::config::locate_config;
use crate::health::status::{RealStatus, StatusReport, render_metrics};
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::{FakeBackend, SharedFake};
use crate::names::{Family, Resolver};

const A: &str = "10.1.0.1";
const B: &str = "10.1.0.2";

/// What every check run says, per real address; a real not in the map is up.
#[derive(Debug, Default)]
struct Script {
    faults: Mutex<BTreeMap<IpAddr, Outcome>>,
    /// Runs of A left to panic.
    panics: AtomicUsize,
}

impl Script {
    fn hook(self: &Arc<Self>) -> CheckHook {
        let me = self.clone();
        CheckHook(Arc::new(move |target| {
            if target.real_addr == A.parse::<IpAddr>().unwrap()
                && me
                    .panics
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
            {
                panic!("injected check panic");
            }
            let faults = me.faults.lock().unwrap();
            Some(
                faults
                    .get(&target.real_addr)
                    .cloned()
                    .unwrap_or(Outcome::Up),
            )
        }))
    }

    fn set(&self, addr: &str, outcome: Option<Outcome>) {
        let mut faults = self.faults.lock().unwrap();
        match outcome {
            Some(o) => faults.insert(addr.parse().unwrap(), o),
            None => faults.remove(&addr.parse().unwrap()),
        };
    }
}

struct Harness {
    dir: PathBuf,
    config: PathBuf,
    fake: Arc<Mutex<FakeBackend>>,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<Result<(), DaemonError>>>,
}

impl Harness {
    fn start(
        tag: &str,
        config: &str,
        script: &Arc<Script>,
        tweak: impl FnOnce(&mut DaemonOptions),
        factory: impl FnOnce(&Arc<Mutex<FakeBackend>>) -> crate::ipvs::BackendFactory,
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("lvsctl-faults-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.cf");
        std::fs::write(&path, testutil::expand(config, &dir)).unwrap();
        let location = locate_config(Some(&path.display().to_string()), Path::is_file).unwrap();
        let mut opts = DaemonOptions::new(location);
        opts.console = Console::None;
        opts.socket = Some(dir.join("status.sock"));
        opts.syslog_socket = dir.join("no-syslog");
        opts.resolver = Arc::new(crate::names::NoNames);
        opts.check_hook = Some(script.hook());
        let stop = Arc::new(tokio::sync::Notify::new());
        opts.shutdown = Some(stop.clone());
        tweak(&mut opts);
        let fake = Arc::new(Mutex::new(FakeBackend::new()));
        let thread = spawn_daemon_with(opts, factory(&fake));
        Self {
            dir,
            config: path,
            fake,
            stop,
            thread: Some(thread),
        }
    }

    fn shared(fake: &Arc<Mutex<FakeBackend>>) -> crate::ipvs::BackendFactory {
        SharedFake::from(fake.clone()).factory()
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("status.sock")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn reals(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = self
            .fake
            .lock()
            .unwrap()
            .entries()
            .unwrap()
            .iter()
            .flat_map(|e| e.dests.iter().map(|d| (d.key().to_string(), d.weight)))
            .collect();
        out.sort();
        out
    }

    /// Writes to the kernel that named `real` (`10.1.0.1:80`), from op number `from` on.
    fn touched(&self, real: &str, from: usize) -> Vec<Op> {
        let fake = self.fake.lock().unwrap();
        fake.applied_ops()[from..]
            .iter()
            .filter(|op| match op {
                Op::AddDest(_, d) | Op::EditDest(_, d) => d.key().to_string() == real,
                Op::DelDest(_, k) => k.to_string() == real,
                _ => false,
            })
            .cloned()
            .collect()
    }

    fn ops(&self) -> usize {
        self.fake.lock().unwrap().applied_ops().len()
    }

    fn status(&self) -> std::io::Result<StatusReport> {
        crate::health::status::query(&self.socket())
    }

    fn wait(&self, why: &str, mut what: impl FnMut(&Self) -> bool) {
        let start = Instant::now();
        while !what(self) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{why}: not reached; table {:?}; log:\n{}",
                self.reals(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_results(&self, n: usize, real: &str) -> BTreeMap<String, RealStatus> {
        testutil::wait_results(&self.socket(), n, |k| k.ends_with(&format!(" {real}")))
            .unwrap_or_else(|| {
                panic!(
                    "{n} more results of {real} not recorded; log:\n{}",
                    self.log()
                )
            })
    }

    fn stop(mut self) -> String {
        self.stop.notify_one();
        let result = self.thread.take().unwrap().join().unwrap();
        assert!(result.is_ok(), "{result:?}");
        let log = self.log();
        let _ = std::fs::remove_dir_all(&self.dir);
        log
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.notify_one();
            let _ = t.join();
        }
    }
}

fn config(globals: &str, reals: &[&str]) -> String {
    let mut cf = format!(
        "checkinterval=1\nchecktimeout=3\nfailurecount=1\nquiescent=no\n\
         logfile=\"{{dir}}/log\"\n{globals}virtual=10.0.0.1:80\n\tchecktype=connect\n"
    );
    for r in reals {
        let _ = writeln!(cf, "\treal={r}:80 masq 3");
    }
    cf
}

fn both() -> Vec<(String, i32)> {
    vec![(format!("{A}:80"), 3), (format!("{B}:80"), 3)]
}

const EMFILE: &str = "connect to 10.1.0.1:80: Too many open files (os error 24)";

/// A check that cannot be made leaves its real in the kernel as it is; the log says so
/// once when the run of such results starts and once when it ends, the status shows the
/// reason, and the metrics count every one. (The registry already kept the state; the log
/// line, the status reason and the count are new.)
#[test]
fn local_faults_leave_the_real_alone_and_are_logged_once() {
    let script = Arc::new(Script::default());
    let h = Harness::start(
        "local",
        &config("", &[A, B]),
        &script,
        |_| {},
        Harness::shared,
    );
    h.wait("both added", |h| h.reals() == both());
    let from = h.ops();
    script.set(A, Some(Outcome::LocalFault(EMFILE.into())));
    let record = h.wait_results(3, &format!("{A}:80"));
    let a = &record[&format!("TCP 10.0.0.1:80 {A}:80")];
    assert_eq!(
        a.reason.as_deref(),
        Some(format!("not checked: {EMFILE}").as_str())
    );
    assert_eq!(a.state, crate::health::status::RealState::Up);
    let metrics = render_metrics(&h.status().unwrap());
    let count = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("lvsctl_health_checks_not_checked_total{reason=\"descriptors\"} ")
        })
        .and_then(|n| n.parse::<f64>().ok());
    assert!(count.is_some_and(|n| n >= 2.0), "{metrics}");
    script.set(A, None);
    h.wait("checks work again", |h| {
        h.log()
            .contains("Real server checked again: 10.1.0.1:80 (tcp:10.0.0.1:80)")
    });
    assert_eq!(h.reals(), both());
    assert!(h.touched(&format!("{A}:80"), from).is_empty());
    let log = h.stop();
    assert_eq!(
        log.matches(&format!(
            "Real server not checked: 10.1.0.1:80 (tcp:10.0.0.1:80): {EMFILE}"
        ))
        .count(),
        1,
        "{log}"
    );
}

/// A check task that panics is noticed, logged, counted and started again: its real keeps
/// being checked. Before, the task was just gone and its real frozen in its last state.
#[test]
fn a_panicking_check_task_is_started_again() {
    let script = Arc::new(Script::default());
    let h = Harness::start(
        "panic",
        &config("", &[A, B]),
        &script,
        |_| {},
        Harness::shared,
    );
    h.wait("both added", |h| h.reals() == both());
    let from = h.ops();
    script.panics.store(2, Ordering::SeqCst);
    h.wait("two panics seen", |h| {
        h.status().is_ok_and(|s| s.faults.check_panics >= 2)
    });
    let record = h.wait_results(2, &format!("{A}:80"));
    assert_eq!(
        record[&format!("TCP 10.0.0.1:80 {A}:80")].reason,
        None,
        "checked again after the panics"
    );
    let status = h.status().unwrap();
    assert_eq!(status.faults.not_checked.get("panic"), Some(&2));
    assert!(h.touched(&format!("{A}:80"), from).is_empty());
    let log = h.stop();
    assert!(
        log.contains(
            "The check of real server 10.1.0.1:80 (tcp:10.0.0.1:80) panicked (injected check \
             panic); it was started again"
        ),
        "{log}"
    );
}

/// The IPVS thread panics in the middle of a cycle: a new one opens the backend through the
/// same factory and the cycle is made. Before, every later cycle failed with "the IPVS
/// thread is gone" and the kernel stayed as it was.
#[test]
fn a_panic_on_the_ipvs_thread_is_survived() {
    let script = Arc::new(Script::default());
    let armed = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicUsize::new(0));
    let (a2, o2) = (armed.clone(), opened.clone());
    let h = Harness::start(
        "ipvs",
        &config("", &[A, B]),
        &script,
        |_| {},
        move |fake| Panicky::factory(fake, &a2, &o2),
    );
    h.wait("both added", |h| h.reals() == both());
    armed.store(true, Ordering::SeqCst);
    script.set(A, Some(Outcome::Down("refused".into())));
    h.wait("A deleted all the same", |h| {
        h.reals() == vec![(format!("{B}:80"), 3)]
    });
    assert_eq!(opened.load(Ordering::SeqCst), 2, "the backend opened again");
    assert!(!armed.load(Ordering::SeqCst), "the panic happened");
    assert_eq!(h.status().unwrap().faults.ipvs_restarts, 1);
    script.set(A, None);
    h.wait("A restored", |h| h.reals() == both());
    let log = h.stop();
    assert!(
        log.contains(
            "The IPVS thread panicked (injected panic in the IPVS thread); a new one opened the \
             backend again"
        ),
        "{log}"
    );
}

/// Resolves nothing, and hangs on `stuck.example` until the gate opens.
#[derive(Debug, Default)]
struct Hanging {
    gate: Mutex<bool>,
    opened: Condvar,
    asked: AtomicBool,
}

impl Hanging {
    fn open(&self) {
        *self.gate.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Resolver for Hanging {
    fn host_addr(&self, name: &str, _family: Family) -> Option<IpAddr> {
        if name == "stuck.example" {
            self.asked.store(true, Ordering::SeqCst);
            let mut open = self.gate.lock().unwrap();
            while !*open {
                open = self.opened.wait(open).unwrap();
            }
        }
        None
    }
    fn service_port(&self, _name: &str, _proto: &str) -> Option<u16> {
        None
    }
    fn host_name(&self, _addr: IpAddr) -> Option<String> {
        None
    }
    fn service_name(&self, _port: u16, _proto: &str) -> Option<String> {
        None
    }
}

/// Counts WATCHDOG=1 datagrams on its own thread.
fn watchdog(dir: &Path) -> (Notifier, Arc<AtomicUsize>) {
    let path = dir.join("notify");
    let _ = std::fs::remove_file(&path);
    let rx = UnixDatagram::bind(&path).unwrap();
    let pings = Arc::new(AtomicUsize::new(0));
    let count = pings.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok(n) = rx.recv(&mut buf) {
            if &buf[..n] == b"WATCHDOG=1" {
                count.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let notifier = Notifier {
        socket: Some(path.into_os_string()),
        watchdog: Some(Duration::from_millis(100)),
    };
    (notifier, pings)
}

/// For three seconds: the status socket answers within a second every time, and the
/// watchdog keeps being pinged.
fn assert_responsive(h: &Harness, pings: &AtomicUsize, what: &str) {
    let start = Instant::now();
    let before = pings.load(Ordering::SeqCst);
    while start.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        let answered = h.status().is_ok();
        assert!(
            answered && t.elapsed() < Duration::from_secs(1),
            "{what}: status took {:?} ({answered}); log:\n{}",
            t.elapsed(),
            h.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let pinged = pings.load(Ordering::SeqCst) - before;
    assert!(pinged >= 10, "{what}: {pinged} watchdog pings in 3 s");
}

/// A reload whose name lookup hangs: the event loop goes on answering the status socket
/// and pinging the watchdog (before, the file was read and its names resolved on the event
/// loop itself, with the system resolver).
#[test]
fn a_hanging_name_lookup_on_reload_stalls_neither_status_nor_watchdog() {
    let script = Arc::new(Script::default());
    let resolver = Arc::new(Hanging::default());
    let dir = std::env::temp_dir().join(format!("lvsctl-faults-{}-dns-n", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (notifier, pings) = watchdog(&dir);
    let r2 = resolver.clone();
    let h = Harness::start(
        "dns",
        &config("autoreload=yes\n", &[A]),
        &script,
        |o| {
            o.resolver = r2;
            o.notifier = notifier;
        },
        Harness::shared,
    );
    h.wait("A added", |h| h.reals().len() == 1);
    std::fs::write(
        &h.config,
        testutil::expand(&config("autoreload=yes\n", &[A, "stuck.example"]), &h.dir),
    )
    .unwrap();
    h.wait("the reload asks for stuck.example", |_| {
        resolver.asked.load(Ordering::SeqCst)
    });
    assert_responsive(&h, &pings, "while a name lookup hangs");
    resolver.open();
    h.wait("the reload fails on the name", |h| {
        h.log()
            .contains("Reload failed: the old configuration stays in effect")
    });
    assert_eq!(h.reals().len(), 1);
    h.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `logfile="local0"` and a syslog daemon that stopped reading: its queue fills after a
/// few lines and every send would wait. 600 reals log 600 "Added" lines at start; the
/// daemon still gets ready, answers and pings (before, the event loop itself waited in the
/// first cycle's log lines and never got ready).
#[test]
fn a_syslog_that_stopped_reading_stalls_nothing() {
    let script = Arc::new(Script::default());
    let dir = std::env::temp_dir().join(format!("lvsctl-faults-{}-syslog-n", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (notifier, pings) = watchdog(&dir);
    let devlog = dir.join("devlog");
    let stuck = UnixDatagram::bind(&devlog).unwrap();
    let reals: Vec<String> = (0..600)
        .map(|i| format!("10.2.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let reals: Vec<&str> = reals.iter().map(String::as_str).collect();
    let cf = config("", &reals).replace("logfile=\"{dir}/log\"", "logfile=\"local0\"");
    let h = Harness::start(
        "syslog",
        &cf,
        &script,
        |o| {
            o.syslog_socket = devlog.clone();
            o.notifier = notifier;
        },
        Harness::shared,
    );
    h.wait("600 reals added", |h| h.reals().len() == 600);
    assert_responsive(&h, &pings, "while syslog is stuck");
    // Let the queued lines out before stopping.
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let _ = stuck.set_read_timeout(Some(Duration::from_secs(5)));
        while stuck.recv(&mut buf).is_ok() {}
    });
    h.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The file is written in two halves, and the daemon looks at it in between: the first
/// half parses (it is the first virtual alone) and would delete the second virtual. Only
/// the whole file, once it stopped changing, is reloaded.
#[test]
fn autoreload_waits_for_a_file_written_in_two_halves() {
    let script = Arc::new(Script::default());
    let first = "checkinterval=1\nchecktimeout=3\nquiescent=no\nautoreload=yes\n\
                 logfile=\"{dir}/log\"\nvirtual=10.0.0.1:80\n\treal=10.1.0.1:80 masq 3\n\
                 \tchecktype=connect\n";
    let second = "virtual=10.0.0.2:80\n\treal=10.1.0.2:80 masq 3\n\tchecktype=connect\n";
    let h = Harness::start(
        "halves",
        &format!("{first}{second}"),
        &script,
        |_| {},
        Harness::shared,
    );
    h.wait("both virtuals filled", |h| h.reals().len() == 2);
    let from = h.ops();
    let whole = format!("{first}\tscheduler=rr\n{second}");
    let (one, two) = whole.split_at(whole.find("virtual=10.0.0.2").unwrap());
    let mut file = std::fs::File::create(&h.config).unwrap();
    std::io::Write::write_all(&mut file, testutil::expand(one, &h.dir).as_bytes()).unwrap();
    h.wait("the half file seen", |h| {
        h.log().contains("has changed on disk")
    });
    std::io::Write::write_all(&mut file, testutil::expand(two, &h.dir).as_bytes()).unwrap();
    drop(file);
    h.wait("the whole file reloaded", |h| {
        h.fake
            .lock()
            .unwrap()
            .applied_ops()
            .iter()
            .any(|op| matches!(op, Op::EditService(s) if s.scheduler.as_str() == "rr"))
    });
    let deleted = h.fake.lock().unwrap().applied_ops()[from..]
        .iter()
        .any(|op| matches!(op, Op::DelService(_)));
    assert!(!deleted, "a virtual of the missing half was deleted");
    assert_eq!(h.reals().len(), 2);
    let log = h.stop();
    assert_eq!(
        log.matches(" - reread new configuration").count(),
        1,
        "{log}"
    );
}
