//! The kernel-reconciliation items of the acceptance checklist (T20–T30, T44) and the
//! "proof" scenarios, run against the whole daemon in-process on the FakeBackend (the
//! "fake netlink recorder" the checklist asks for).
//!
//! Each test reads back the fake's table and its write log, so it asserts what the kernel
//! would hold, not only what the daemon logged. Health is driven by an external check that
//! records every run (`pass`/`fail` per real in `runs-R`) and passes for real R while
//! `up-R` exists; while `hang-R` exists it records `hang` and hangs instead (a black-holed
//! server). What the daemon itself recorded comes from its status socket.
//! docs/health-acceptance.md maps every item to its tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::testutil::{expand, spawn_daemon, write_script};
use super::*;
use crate::health::config::locate_config;
use crate::health::status::RealStatus;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{
    Dest, ForwardMethod, Protocol, Scheduler, Service, ServiceEntry, ServiceKey,
};

struct Harness {
    dir: PathBuf,
    config: PathBuf,
    fake: Arc<Mutex<FakeBackend>>,
    /// Ops the test put into the fake before the daemon started.
    preset: usize,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<Result<(), DaemonError>>>,
}

impl Harness {
    /// `config` may use `{dir}` and `{check}` (see the module doc); `preset` fills the
    /// fake's table before the daemon opens it.
    fn start(tag: &str, config: &str, preset: &[Op]) -> Self {
        let dir = std::env::temp_dir().join(format!("lvsctl-accept-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("maint")).unwrap();
        let d = dir.display();
        write_script(
            &dir.join("check"),
            &format!(
                "test -e {d}/hang-$3 && {{ echo hang >> {d}/runs-$3; exec sleep 30; }}\n\
                 if test -e {d}/up-$3; then echo pass >> {d}/runs-$3; exit 0; fi\n\
                 echo fail >> {d}/runs-$3; exit 1"
            ),
        );
        let path = dir.join("test.cf");
        std::fs::write(&path, expand(config, &dir)).unwrap();
        let location = locate_config(Some(&path.display().to_string()), Path::is_file).unwrap();
        let mut opts = DaemonOptions::new(location);
        opts.console = Console::None;
        opts.socket = Some(dir.join("status.sock"));
        opts.syslog_socket = dir.join("no-syslog");
        opts.sendmail = PathBuf::from("/bin/false");
        let stop = Arc::new(tokio::sync::Notify::new());
        opts.shutdown = Some(stop.clone());
        let mut fake = FakeBackend::new();
        assert!(fake.apply(preset).iter().all(Result::is_ok), "preset");
        let preset = fake.applied_ops().len();
        let fake = Arc::new(Mutex::new(fake));
        let thread = spawn_daemon(opts, fake.clone());
        Self {
            dir,
            config: path,
            fake,
            preset,
            stop,
            thread: Some(thread),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn touch(&self, name: &str) {
        std::fs::write(self.path(name), "").unwrap();
    }

    fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.path(name));
    }

    fn up(&self, addr: &str) {
        self.touch(&format!("up-{addr}"));
    }

    fn down(&self, addr: &str) {
        self.remove(&format!("up-{addr}"));
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn log(&self) -> String {
        self.read("log")
    }

    fn rewrite(&self, config: &str) {
        std::fs::write(&self.config, expand(config, &self.dir)).unwrap();
    }

    fn entries(&self) -> Vec<ServiceEntry> {
        self.fake.lock().unwrap().entries().unwrap()
    }

    /// `real → weight` of service `vip:port` (TCP); None when the service is absent.
    fn reals_of(&self, service: &str) -> Option<Vec<(String, i32)>> {
        let entry = self
            .entries()
            .into_iter()
            .find(|e| e.service.key.to_string() == format!("TCP {service}"))?;
        let mut out: Vec<(String, i32)> = entry
            .dests
            .iter()
            .map(|d| (d.key().to_string(), d.weight))
            .collect();
        out.sort();
        Some(out)
    }

    fn reals(&self) -> Vec<(String, i32)> {
        self.reals_of("10.0.0.1:80").unwrap_or_default()
    }

    /// The ops the daemon wrote, in order.
    fn ops(&self) -> Vec<Op> {
        self.fake.lock().unwrap().applied_ops()[self.preset..].to_vec()
    }

    /// `pass`/`fail` runs of R's check since its last run of the other kind.
    fn streak(&self, addr: &str, kind: &str) -> usize {
        self.read(&format!("runs-{addr}"))
            .lines()
            .rev()
            .take_while(|l| *l == kind)
            .count()
    }

    /// Polls `what` every 20 ms until it holds; returns how long that took, fails with the
    /// table and the daemon's log after 20 s.
    fn wait(&self, why: &str, mut what: impl FnMut(&Self) -> bool) -> Duration {
        let start = Instant::now();
        while !what(self) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{why}: not reached; table {:?}; log:\n{}",
                self.entries(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        start.elapsed()
    }

    /// The daemon's record of every real (`service real` → status).
    fn record(&self) -> BTreeMap<String, RealStatus> {
        let socket = self.path("status.sock");
        testutil::real_statuses(&socket)
            .unwrap_or_else(|e| panic!("status socket {}: {e}", socket.display()))
    }

    /// Consecutive failures the daemon has recorded for `real` in 10.0.0.1:80.
    fn failures(&self, real: &str) -> u32 {
        self.record()
            .get(&format!("TCP 10.0.0.1:80 {real}"))
            .map_or(0, |r| r.failures)
    }

    /// Waits until the daemon has recorded `n` more results of each of `reals` (every
    /// real when empty); returns its record of every real then.
    fn wait_results(&self, n: usize, reals: &[&str]) -> BTreeMap<String, RealStatus> {
        let which =
            |key: &str| reals.is_empty() || reals.iter().any(|r| key.ends_with(&format!(" {r}")));
        testutil::wait_results(&self.path("status.sock"), n, which).unwrap_or_else(|| {
            panic!(
                "{n} more results of {reals:?} not recorded; table {:?}; log:\n{}",
                self.entries(),
                self.log()
            )
        })
    }

    /// Stops the daemon like TERM does; returns its log.
    fn stop(mut self) -> String {
        self.stop.notify_one();
        let result = self.thread.take().unwrap().join().unwrap();
        assert!(result.is_ok(), "{result:?}");
        self.log()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.notify_one();
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const BASE: &str = "checkinterval=1\nchecktimeout=3\nlogfile=\"{dir}/log\"\n";
const CHECK: &str = "\tchecktype=external\n\tcheckcommand=\"{check}\"\n";
const A: &str = "10.1.0.1";
const B: &str = "10.1.0.2";
const A80: &str = "10.1.0.1:80";
const B80: &str = "10.1.0.2:80";
const FALLBACK: &str = "127.0.0.1:80";

/// One virtual 10.0.0.1:80 with reals A and B (masq, weight 3) and the external check.
fn config(globals: &str, block: &str) -> String {
    format!(
        "{BASE}{globals}virtual=10.0.0.1:80\n\treal={A80} masq 3\n\treal={B80} masq 3\n{CHECK}{block}"
    )
}

fn table(pairs: &[(&str, i32)]) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = pairs.iter().map(|(k, w)| ((*k).to_owned(), *w)).collect();
    out.sort();
    out
}

fn vkey(vip: &str) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: vip.parse().unwrap(),
        port: 80,
    }
}

fn service(vip: &str, scheduler: &str) -> Service {
    let mut s = Service::new(vkey(vip));
    s.scheduler = Scheduler::new(scheduler);
    s
}

fn dest(real: &str, port: u16, weight: i32) -> Dest {
    let mut d = Dest::new(real.parse().unwrap(), port);
    d.fwd = ForwardMethod::Masq;
    d.weight = weight;
    d
}

fn touches(op: &Op, key: &ServiceKey) -> bool {
    match op {
        Op::AddService(s) | Op::EditService(s) => s.key == *key,
        Op::DelService(k) | Op::DelDest(k, _) | Op::AddDest(k, _) | Op::EditDest(k, _) => k == key,
        _ => false,
    }
}

/// T20: on an empty table the virtual is added at once with ldirectord's default
/// scheduler (wrr); a real is added only by its first passing check, never before (no
/// full-weight blip), and a failing real is never added at all.
#[test]
fn t20_start_adds_the_virtual_with_wrr_and_reals_only_after_a_pass() {
    let h = Harness::start("t20", &config("", ""), &[]);
    h.wait_results(2, &[B80]);
    assert!(h.streak(B, "fail") >= 2);
    assert_eq!(h.streak(A, "fail"), h.read("runs-10.1.0.1").lines().count());
    let entries = h.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].service.scheduler, Scheduler::new("wrr"));
    assert!(entries[0].dests.is_empty(), "{entries:?}");
    h.up(A);
    h.wait("A added", |h| h.reals() == table(&[(A80, 3)]));
    assert_eq!(
        h.ops(),
        [
            Op::AddService(service("10.0.0.1", "wrr")),
            Op::AddDest(vkey("10.0.0.1"), dest(A, 80, 3)),
        ]
    );
    let log = h.stop();
    assert!(
        log.contains("Added virtual server: 10.0.0.1:80\n")
            && log.contains("Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 3)\n"),
        "{log}"
    );
}

/// T21: an owned virtual already in the kernel with another scheduler is edited in place
/// (not deleted and re-added), and its healthy real keeps its entry throughout.
#[test]
fn t21_a_present_virtual_with_another_scheduler_is_edited() {
    let preset = [
        Op::AddService(service("10.0.0.1", "rr")),
        Op::AddDest(vkey("10.0.0.1"), dest(A, 80, 3)),
    ];
    let h = Harness::start("t21", &config("", ""), &preset);
    h.up(A);
    h.wait("scheduler edited", |h| {
        h.entries()
            .first()
            .is_some_and(|e| e.service.scheduler == Scheduler::new("wrr"))
    });
    h.wait("B decided", |h| h.streak(B, "fail") >= 1);
    h.wait("A decided", |h| h.streak(A, "pass") >= 1);
    assert_eq!(h.reals(), table(&[(A80, 3)]));
    assert_eq!(h.ops(), [Op::EditService(service("10.0.0.1", "wrr"))]);
    let log = h.stop();
    assert!(
        log.contains("Changed virtual server: 10.0.0.1:80\n"),
        "{log}"
    );
}

/// T22: an unknown real under an owned virtual is deleted; a virtual the config does not
/// own is never written to — neither while running nor at stop (cleanstop=yes).
#[test]
fn t22_unknown_reals_are_purged_and_foreign_services_untouched_also_at_stop() {
    let preset = [
        Op::AddService(service("10.0.0.1", "wrr")),
        Op::AddDest(vkey("10.0.0.1"), dest("10.9.9.9", 80, 1)),
        Op::AddService(service("10.0.0.2", "rr")),
        Op::AddDest(vkey("10.0.0.2"), dest("10.9.9.9", 80, 1)),
        Op::AddDest(vkey("10.0.0.2"), dest(A, 80, 7)),
    ];
    let h = Harness::start("t22", &config("", ""), &preset);
    h.up(A);
    h.wait("unknown real purged, A added", |h| {
        h.reals() == table(&[(A80, 3)])
    });
    let fake = h.fake.clone();
    let log = h.stop();
    assert!(
        log.contains("Purged real server (start): 10.9.9.9:80 (10.0.0.1:80)\n"),
        "{log}"
    );
    let entries = fake.lock().unwrap().entries().unwrap();
    assert_eq!(
        entries.len(),
        1,
        "owned virtual removed at stop: {entries:?}"
    );
    assert!(
        entries[0].service.same_config(&service("10.0.0.2", "rr")),
        "{entries:?}"
    );
    assert_eq!(
        entries[0].dests,
        [dest(A, 80, 7), dest("10.9.9.9", 80, 1)],
        "the foreign virtual is exactly as it was"
    );
    let ops = fake.lock().unwrap().applied_ops().to_vec();
    assert!(
        !ops[preset.len()..]
            .iter()
            .any(|op| touches(op, &vkey("10.0.0.2"))),
        "{ops:?}"
    );
}

/// T23: a real found in the kernel at weight 0 that checks healthy is restored to its
/// configured weight (ldirectord's behaviour; this tool records no operator drain).
#[test]
fn t23_a_healthy_real_found_at_weight_zero_is_restored() {
    let preset = [
        Op::AddService(service("10.0.0.1", "wrr")),
        Op::AddDest(vkey("10.0.0.1"), dest(A, 80, 0)),
    ];
    let h = Harness::start("t23", &config("", ""), &preset);
    h.up(A);
    h.wait("A restored", |h| h.reals() == table(&[(A80, 3)]));
    assert_eq!(h.ops(), [Op::EditDest(vkey("10.0.0.1"), dest(A, 80, 3))]);
    let log = h.stop();
    assert!(
        log.contains("Restored real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 3)\n"),
        "{log}"
    );
}

/// T24: with failurecount=3 the first two failures of an up real are logged as soft
/// failures and leave the kernel alone, the third removes it; one success restores it.
#[test]
fn t24_failurecount_three_removes_on_the_third_failure_and_one_pass_restores() {
    let h = Harness::start("t24", &config("", "\tfailurecount=3\n"), &[]);
    h.up(A);
    h.up(B);
    h.wait("both added", |h| h.reals() == table(&[(A80, 3), (B80, 3)]));
    h.down(A);
    h.wait("second soft failure recorded", |h| h.failures(A80) >= 2);
    // The third run is a second later, so a removal now would be one failure early. The
    // table read between two records that both say two failures is the one they left.
    let (before, reals, after) = (h.failures(A80), h.reals(), h.failures(A80));
    if (before, after) == (2, 2) {
        assert_eq!(reals, table(&[(A80, 3), (B80, 3)]), "removed too early");
    }
    h.wait("A removed", |h| h.reals() == table(&[(B80, 3)]));
    assert_eq!(h.streak(A, "fail"), 3, "removed by the third failure");
    h.up(A);
    h.wait("A restored", |h| h.reals() == table(&[(A80, 3), (B80, 3)]));
    assert_eq!(h.streak(A, "pass"), 1, "restored by the first success");
    let log = h.stop();
    let soft1 = "Soft failure real server: 10.1.0.1:80 (tcp:10.0.0.1:80) failure 1/3\n";
    let soft2 = "Soft failure real server: 10.1.0.1:80 (tcp:10.0.0.1:80) failure 2/3\n";
    let gone = "Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\n";
    let (p1, p2, p3) = (log.find(soft1), log.find(soft2), log.find(gone));
    assert!(
        p1.is_some() && p1 < p2 && p2 < p3,
        "soft failures 1/3 and 2/3, then the deletion: {log}"
    );
    assert!(!log.contains("failure 3/3"), "{log}");
}

/// T25: quiescent=yes sets a failed real's weight to 0 (the entry stays) and restores
/// the configured weight on recovery; the fallback is added at weight 1 when all reals
/// are down and deleted — never quiesced — when one comes back.
#[test]
fn t25_quiescent_weights_zero_restores_and_deletes_the_fallback() {
    let block = format!("\tquiescent=yes\n\tfallback={FALLBACK} masq\n");
    let h = Harness::start("t25", &config("", &block), &[]);
    h.up(A);
    h.up(B);
    h.wait("both added", |h| h.reals() == table(&[(A80, 3), (B80, 3)]));
    h.down(A);
    h.wait("A quiesced", |h| h.reals() == table(&[(A80, 0), (B80, 3)]));
    h.down(B);
    h.wait("all quiesced, fallback in", |h| {
        h.reals() == table(&[(A80, 0), (B80, 0), (FALLBACK, 1)])
    });
    h.up(A);
    h.wait("A restored, fallback out", |h| {
        h.reals() == table(&[(A80, 3), (B80, 0)])
    });
    let fb = dest("127.0.0.1", 80, 1).key();
    let ops = h.ops();
    assert!(
        ops.contains(&Op::DelDest(vkey("10.0.0.1"), fb)),
        "fallback deleted: {ops:?}"
    );
    assert!(
        !ops.iter()
            .any(|op| matches!(op, Op::EditDest(_, d) if d.key() == fb)),
        "the fallback is never re-weighted: {ops:?}"
    );
    assert!(
        !ops.iter()
            .any(|op| matches!(op, Op::DelDest(_, k) if k.addr.to_string() != "127.0.0.1")),
        "quiescent reals are never deleted: {ops:?}"
    );
    let log = h.stop();
    assert!(
        log.contains("Quiescent real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 0)\n")
            && log.contains("Restored real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 3)\n")
            && log.contains("Deleted fallback server: 127.0.0.1:80 (10.0.0.1:80)\n"),
        "{log}"
    );
}

/// T26: all reals down → fallback added with weight 1 and `fallbackcommand start
/// vip:port proto` run once; the first real up → fallback deleted and `stop` run once.
#[test]
fn t26_fallback_and_fallbackcommand_start_once_then_stop_once() {
    let block = format!("\tfallback={FALLBACK} masq\n\tfallbackcommand=\"{{dir}}/fb\"\n");
    let h = Harness::start("t26", &config("", &block), &[]);
    write_script(
        &h.path("fb"),
        &format!("echo \"$*\" >> {}/fb.out", h.dir.display()),
    );
    h.wait("fallback in", |h| h.reals() == table(&[(FALLBACK, 1)]));
    h.wait("start run", |h| !h.read("fb.out").is_empty());
    h.wait("more failed checks", |h| h.streak(A, "fail") >= 3);
    assert_eq!(h.read("fb.out"), "start 10.0.0.1:80 tcp\n", "once");
    h.up(B);
    h.wait("B in, fallback out", |h| h.reals() == table(&[(B80, 3)]));
    h.wait("stop run", |h| h.read("fb.out").contains("stop"));
    h.wait("more checks", |h| h.streak(B, "pass") >= 3);
    assert_eq!(
        h.read("fb.out"),
        "start 10.0.0.1:80 tcp\nstop 10.0.0.1:80 tcp\n"
    );
    let ops = h.ops();
    let fb_adds = ops
        .iter()
        .filter(|op| matches!(op, Op::AddDest(_, d) if d.key().to_string() == FALLBACK))
        .count();
    assert_eq!(fb_adds, 1, "{ops:?}");
    // The swap is one batch: B added in the same cycle the fallback goes, so the service
    // is never empty (adjacent ops of the daemon's write log).
    let del = ops
        .iter()
        .position(|op| matches!(op, Op::DelDest(_, k) if k.to_string() == FALLBACK))
        .unwrap();
    assert_eq!(ops[del + 1], Op::AddDest(vkey("10.0.0.1"), dest(B, 80, 3)));
    let log = h.stop();
    assert!(
        log.contains("Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)\n"),
        "{log}"
    );
}

/// T27: a DR (gate) real configured on another port than the virtual's is entered on the
/// virtual's port (DR cannot map ports) while its check goes to the configured port; a
/// masq real keeps its own port in the kernel.
#[test]
fn t27_a_dr_real_is_entered_on_the_virtuals_port_and_checked_on_its_own() {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let cf = format!(
        "{BASE}virtual=10.0.0.1:80\n\treal=127.0.0.1:{pa} gate 2\n\treal=127.0.0.2:{pb} masq 4\n\
         \tchecktype=connect\n"
    );
    let h = Harness::start("t27", &cf, &[]);
    let b_entry = format!("127.0.0.2:{pb}");
    h.wait("both added", |h| {
        h.reals() == table(&[("127.0.0.1:80", 2), (b_entry.as_str(), 4)])
    });
    let ops = h.ops();
    let mut gate = Dest::new("127.0.0.1".parse().unwrap(), 80);
    gate.weight = 2;
    assert!(
        ops.contains(&Op::AddDest(vkey("10.0.0.1"), gate)),
        "{ops:?}"
    );
    drop(a);
    h.wait("A removed after its port closed", |h| {
        h.reals() == table(&[(b_entry.as_str(), 4)])
    });
    h.stop();
}

/// T28: a reload that renames a virtual deletes the old one and adds the new one (its
/// reals again only after a pass); a reload with a broken config logs the errors and
/// keeps the old config running — checks go on and still change the kernel.
#[test]
fn t28_reload_renames_a_virtual_and_a_broken_config_keeps_the_old_one() {
    let cf = |vip: &str| {
        format!(
            "{BASE}autoreload=yes\nvirtual={vip}:80\n\treal={A80} masq 3\n\treal={B80} masq 3\n{CHECK}"
        )
    };
    let h = Harness::start("t28", &cf("10.0.0.1"), &[]);
    h.up(A);
    h.up(B);
    h.wait("both added", |h| h.reals() == table(&[(A80, 3), (B80, 3)]));
    h.down(B);
    h.wait("B removed", |h| h.reals() == table(&[(A80, 3)]));
    h.rewrite(&cf("10.0.0.3"));
    h.wait("renamed", |h| {
        h.reals_of("10.0.0.1:80").is_none() && h.reals_of("10.0.0.3:80") == Some(table(&[(A80, 3)]))
    });
    assert!(
        !h.ops().iter().any(
            |op| matches!(op, Op::AddDest(k, d) if *k == vkey("10.0.0.3") && d.key().to_string() == B80)
        ),
        "B failed: never added to the new virtual"
    );
    h.rewrite("virtual=10.0.0.1:80\n\treal=nonsense\n");
    h.wait("reload refused", |h| {
        h.log()
            .contains("Reload failed: the old configuration stays in effect")
    });
    let writes = h.ops().len();
    h.wait_results(2, &[A80, B80]);
    assert_eq!(h.ops().len(), writes, "nothing written for the broken file");
    assert_eq!(h.entries().len(), 1);
    h.up(B);
    h.wait("B added by the old config's checks", |h| {
        h.reals_of("10.0.0.3:80") == Some(table(&[(A80, 3), (B80, 3)]))
    });
    let log = h.stop();
    assert!(
        log.contains("Purged virtual server (start): 10.0.0.1:80\n")
            && log.contains("Added virtual server: 10.0.0.3:80\n"),
        "{log}"
    );
    assert!(
        log.contains("test.cf:2"),
        "the error names file and line: {log}"
    );
}

/// T29 (in-process part): at stop, cleanstop=yes deletes the owned virtual with its reals
/// in one batch; the kernel then holds nothing of it. (cleanstop=no and per-virtual
/// cleanstop: `tests::a_comment_only_reload_writes_nothing_and_cleanstop_is_per_virtual`;
/// repeated TERM: VM test `t41_connect_on_a_udp_virtual_pings`.)
#[test]
fn t29_cleanstop_deletes_the_owned_virtual_in_one_batch() {
    let h = Harness::start("t29", &config("", ""), &[]);
    h.up(A);
    h.up(B);
    h.wait("both added", |h| h.reals() == table(&[(A80, 3), (B80, 3)]));
    let fake = h.fake.clone();
    let calls = fake.lock().unwrap().apply_calls();
    let ops = h.ops().len();
    h.stop();
    let mut fake = fake.lock().unwrap();
    assert!(fake.entries().unwrap().is_empty());
    assert_eq!(fake.apply_calls(), calls + 1, "one batch");
    assert_eq!(
        &fake.applied_ops()[ops..],
        [Op::DelService(vkey("10.0.0.1"))]
    );
}

/// T30: a maintenance file named after the real's address forces it down in every
/// virtual (whatever its check says); removing the file restores it after the next pass.
#[test]
fn t30_a_maintenance_file_takes_the_real_out_of_every_virtual() {
    let cf = format!(
        "{BASE}maintenancedir={{dir}}/maint\n\
         virtual=10.0.0.1:80\n\treal={A80} masq 3\n\treal={B80} masq 3\n{CHECK}\n\
         virtual=10.0.0.2:80\n\treal={A80} masq 3\n\treal={B80} masq 3\n{CHECK}"
    );
    let h = Harness::start("t30", &cf, &[]);
    h.up(A);
    h.up(B);
    let both = Some(table(&[(A80, 3), (B80, 3)]));
    h.wait("both in both", |h| {
        h.reals_of("10.0.0.1:80") == both && h.reals_of("10.0.0.2:80") == both
    });
    h.touch("maint/10.1.0.1");
    let only_b = Some(table(&[(B80, 3)]));
    h.wait("A out of both", |h| {
        h.reals_of("10.0.0.1:80") == only_b && h.reals_of("10.0.0.2:80") == only_b
    });
    let runs = h.read("runs-10.1.0.1").lines().count();
    h.remove("maint/10.1.0.1");
    h.wait("A back in both", |h| {
        h.reals_of("10.0.0.1:80") == both && h.reals_of("10.0.0.2:80") == both
    });
    assert!(
        h.read("runs-10.1.0.1").lines().count() > runs,
        "restored by a check run, not by the file's removal alone"
    );
    let log = h.stop();
    assert!(
        log.contains("Server in maintenance: 10.1.0.1:80 (tcp:10.0.0.1:80)")
            && log.contains("Server in maintenance: 10.1.0.1:80 (tcp:10.0.0.2:80)"),
        "{log}"
    );
}

/// T44 and the black-hole part of the proof in the VM (docs/health-acceptance.md, Proof in the
/// VM): while B's check hangs until its 8 s timeout,
/// A's failure still reaches the kernel — B is still in the table when A leaves it — and
/// B is removed once its own deadline expires.
#[test]
fn t44_a_black_holed_real_delays_no_other_check() {
    let cf = config("", "\tchecktimeout=8\n");
    let h = Harness::start("t44", &cf, &[]);
    h.up(A);
    h.up(B);
    h.wait("both added", |h| h.reals() == table(&[(A80, 3), (B80, 3)]));
    h.touch("hang-10.1.0.2");
    h.wait("B's check hangs", |h| h.streak(B, "hang") >= 1);
    h.down(A);
    let mut b_when_a_left = None;
    h.wait("A removed", |h| {
        let reals = h.reals();
        let gone = !reals.iter().any(|(k, _)| k == A80);
        if gone {
            b_when_a_left = Some(reals);
        }
        gone
    });
    assert_eq!(
        b_when_a_left,
        Some(table(&[(B80, 3)])),
        "A's removal waited for B's hung check"
    );
    h.wait("B removed at its deadline", |h| h.reals().is_empty());
    let log = h.stop();
    assert!(
        log.contains("Deleted real server: 10.1.0.2:80 (10.0.0.1:80)"),
        "{log}"
    );
}

/// The proof in the VM (docs/health-acceptance.md, Proof in the VM) "stopping one server → removed within checkinterval + checktimeout;
/// starting it again → restored", with a real TCP server and the connect check: the
/// detection bound is asserted, not just the final state.
#[test]
fn a_stopped_server_is_removed_within_interval_plus_timeout_and_restored_on_start() {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = a.local_addr().unwrap().port();
    let b = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let pb = b.local_addr().unwrap().port();
    let cf = format!(
        "checkinterval=1\nchecktimeout=2\nlogfile=\"{{dir}}/log\"\nvirtual=10.0.0.1:80\n\
         \treal=127.0.0.1:{port} masq 3\n\treal=127.0.0.2:{pb} masq 3\n\tchecktype=connect\n"
    );
    let h = Harness::start("proof", &cf, &[]);
    let (ea, eb) = (format!("127.0.0.1:{port}"), format!("127.0.0.2:{pb}"));
    h.wait("both added", |h| {
        h.reals() == table(&[(ea.as_str(), 3), (eb.as_str(), 3)])
    });
    drop(a);
    let took = h.wait("A removed", |h| h.reals() == table(&[(eb.as_str(), 3)]));
    // The bound is 1 s + 2 s; the margin is for a loaded test host (the bench measures
    // the distribution).
    assert!(
        took < Duration::from_secs(3 + 3),
        "detection took {took:?}, bound 1 s + 2 s"
    );
    let _a = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let took = h.wait("A restored", |h| {
        h.reals() == table(&[(ea.as_str(), 3), (eb.as_str(), 3)])
    });
    assert!(took < Duration::from_secs(4), "restore took {took:?}");
    h.stop();
}

/// A check that never finishes, whatever its configuration says.
#[derive(Debug)]
struct Never;

impl crate::health::check::Check for Never {
    fn run<'a>(
        &'a self,
        _: &'a crate::health::check::Target,
    ) -> crate::health::check::BoxFuture<'a, crate::health::check::Outcome> {
        Box::pin(std::future::pending())
    }
}

/// T44 (the daemon's own bound): a check task cuts any check off at its job's limit, so
/// even a check kind with a bug in its own timeout reports down in time.
#[tokio::test]
async fn t44_a_check_task_reports_a_never_ending_check_down_at_its_limit() {
    let id = (vkey("10.0.0.1"), dest(A, 80, 1).key());
    let job = tasks::CheckJob {
        id,
        checker: 0,
        generation: 1,
        check: Box::new(Never),
        target: crate::health::check::Target {
            virtual_key: vkey("10.0.0.1"),
            real_addr: A.parse().unwrap(),
            real_port: 80,
            check_port: Some(80),
            route: crate::health::check::Route::default(),
        },
        interval: Duration::from_secs(1),
        limit: Duration::from_millis(300),
        maintenance_dir: None,
        reverse: None,
        budget: super::budget::Budget::new(None),
        descriptors: 1,
        retry: None,
        http: None,
        epilog: None,
        urls: Vec::new(),
        reentry: None,
        misc: None,
        warmup: Duration::ZERO,
        file: None,
        hook: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(tasks::run(job, tx));
    let report = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a report within the first interval plus the limit")
        .unwrap();
    task.abort();
    assert_eq!(report.id, id);
    assert_eq!(
        report.outcome,
        crate::health::check::Outcome::Down("timed out after 300 ms".into())
    );
    assert!(report.duration < Duration::from_secs(3), "{report:?}");
}
