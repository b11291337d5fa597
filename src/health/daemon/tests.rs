//! The whole daemon in-process, on the FakeBackend: external checks (shell scripts that
//! look for a flag file per real) drive health, and the tests read back the fake's table,
//! its write log, the log file, the monitorfile, a fake sendmail's captures and systemd
//! notifications. Each test runs in its own temp directory and stops the daemon through the
//! `shutdown` hook (no process signals, so tests can run in parallel).

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::testutil::{expand, spawn_daemon, write_script};
use super::*;
use crate::health::config::locate_config;
use crate::health::status::RealStatus;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::ServiceEntry;

struct Harness {
    dir: PathBuf,
    config: PathBuf,
    fake: Arc<Mutex<FakeBackend>>,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<Result<(), DaemonError>>>,
}

impl Harness {
    /// `config` may use `{dir}` (the test's directory) and `{check}` (an external check
    /// that passes for real address R while `{dir}/up-R` exists).
    fn start(tag: &str, config: &str, tweak: impl FnOnce(&mut DaemonOptions)) -> Self {
        let dir = std::env::temp_dir().join(format!("lvsctl-daemon-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        write_script(
            &dir.join("check"),
            &format!("test -e {}/up-$3", dir.display()),
        );
        let path = dir.join("test.cf");
        std::fs::write(&path, expand(config, &dir)).unwrap();
        let location = locate_config(Some(&path.display().to_string()), Path::is_file).unwrap();
        let mut opts = DaemonOptions::new(location);
        opts.console = Console::None;
        opts.socket = Some(dir.join("status.sock"));
        opts.syslog_socket = dir.join("no-syslog");
        let stop = Arc::new(tokio::sync::Notify::new());
        opts.shutdown = Some(stop.clone());
        tweak(&mut opts);
        let fake = Arc::new(Mutex::new(FakeBackend::new()));
        let thread = spawn_daemon(opts, fake.clone());
        Self {
            dir,
            config: path,
            fake,
            stop,
            thread: Some(thread),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn up(&self, addr: &str) {
        std::fs::write(self.path(&format!("up-{addr}")), "").unwrap();
    }

    fn down(&self, addr: &str) {
        let _ = std::fs::remove_file(self.path(&format!("up-{addr}")));
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn rewrite(&self, config: &str) {
        std::fs::write(&self.config, expand(config, &self.dir)).unwrap();
    }

    fn entries(&self) -> Vec<ServiceEntry> {
        self.fake.lock().unwrap().entries().unwrap()
    }

    /// `real → weight` of the one virtual 10.0.0.1:80 (empty when it is absent).
    fn reals(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = self
            .entries()
            .iter()
            .flat_map(|e| e.dests.iter().map(|d| (d.key().to_string(), d.weight)))
            .collect();
        out.sort();
        out
    }

    fn added_ever(&self, real: &str) -> bool {
        self.fake
            .lock()
            .unwrap()
            .applied_ops()
            .iter()
            .any(|op| matches!(op, Op::AddDest(_, d) if d.key().to_string() == real))
    }

    /// Polls `what` until it holds; fails with the daemon's log after 20 s.
    fn wait(&self, why: &str, mut what: impl FnMut(&Self) -> bool) {
        let start = Instant::now();
        while !what(self) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{why}: not reached; table {:?}; log:\n{}",
                self.reals(),
                self.read("log")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the daemon has recorded `n` more results of each of `reals` (every
    /// real when empty); returns its record of every real (`service real` → status).
    fn wait_results(&self, n: usize, reals: &[&str]) -> BTreeMap<String, RealStatus> {
        let which =
            |key: &str| reals.is_empty() || reals.iter().any(|r| key.ends_with(&format!(" {r}")));
        testutil::wait_results(&self.path("status.sock"), n, which).unwrap_or_else(|| {
            panic!(
                "{n} more results of {reals:?} not recorded; table {:?}; log:\n{}",
                self.reals(),
                self.read("log")
            )
        })
    }

    fn stop(mut self) -> String {
        self.stop.notify_one();
        let result = self.thread.take().unwrap().join().unwrap();
        assert!(result.is_ok(), "{result:?}");
        let log = self.read("log");
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

const BASE: &str = "checkinterval=1\nchecktimeout=3\nlogfile=\"{dir}/log\"\n";
const REALS: &str = "\treal=10.1.0.1:80 masq 3\n\treal=10.1.0.2:80 masq 3\n\
\tchecktype=external\n\tcheckcommand=\"{check}\"\n";

fn config(globals: &str, block: &str) -> String {
    format!("{BASE}{globals}virtual=10.0.0.1:80\n{REALS}{block}")
}

fn pair(a: &str, w: i32) -> (String, i32) {
    (a.to_owned(), w)
}

#[test]
fn systemd_gets_ready_after_the_first_cycle_then_watchdog_pings_then_stopping() {
    let dir = std::env::temp_dir().join(format!("lvsctl-daemon-{}-nsock", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("notify");
    let _ = std::fs::remove_file(&sock);
    let rx = UnixDatagram::bind(&sock).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let h = Harness::start("notify", &config("", ""), |o| {
        o.notifier = Notifier {
            socket: Some(sock.clone().into_os_string()),
            watchdog: Some(Duration::from_millis(200)),
        };
    });
    let mut buf = [0u8; 64];
    let recv = |buf: &mut [u8; 64]| -> String {
        let n = testutil::recv(&rx, buf);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(recv(&mut buf), "READY=1");
    assert_eq!(
        h.entries().len(),
        1,
        "READY=1 comes after the owned service is in the kernel"
    );
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(recv(&mut buf), "WATCHDOG=1");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    h.stop.notify_one();
    let mut rest = Vec::new();
    loop {
        let m = recv(&mut buf);
        let last = m == "STOPPING=1";
        rest.push(m);
        if last {
            break;
        }
    }
    assert!(
        rest[..rest.len() - 1].iter().all(|m| m == "WATCHDOG=1"),
        "{rest:?}"
    );
    let log = h.stop();
    assert!(log.contains("terminated on signal: TERM"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// T20: a real whose checks fail is never added to the kernel.
#[test]
fn monitorfile_gets_a_line_per_check_result_and_failing_reals_are_never_added() {
    let globals = "emailalert=ops@example.org\nemailalertstatus=none\n";
    let block = "\tmonitorfile=\"{dir}/monitor\"\n";
    let h = Harness::start("monitor", &config(globals, block), |o| {
        o.sendmail = PathBuf::from("/bin/false");
    });
    h.up("10.1.0.1");
    h.wait("A added", |h| h.reals() == [pair("10.1.0.1:80", 3)]);
    let id = |ip: &str| format!("external {}/check tcp {ip} 80 3 masq / ", h.dir.display());
    h.wait("two lines for each real", |h| {
        let m = h.read("monitor");
        m.matches(&format!("{} [up] -\n", id("10.1.0.1"))).count() >= 2
            && m.matches(&format!("{} [down] ", id("10.1.0.2"))).count() >= 2
    });
    let pid = std::process::id();
    for line in h.read("monitor").lines() {
        // `[Sat Nov 21 10:05:53 2026] [pid] external ...`
        assert!(
            line.starts_with('[') && line[25..].starts_with(&format!("] [{pid}] external ")),
            "{line}"
        );
    }
    assert!(
        !h.added_ever("10.1.0.2:80"),
        "a failing real is never added"
    );
    h.down("10.1.0.1");
    h.wait("A deleted", |h| h.reals().is_empty());
    h.wait("A's failure in the monitorfile", |h| {
        h.read("monitor")
            .contains(&format!("{} [down] ", id("10.1.0.1")))
    });
    let log = h.stop();
    assert!(
        log.contains("Deleted real server: 10.1.0.1:80 (10.0.0.1:80)"),
        "{log}"
    );
    assert!(
        !log.contains("emailalert:"),
        "emailalertstatus=none sends nothing: {log}"
    );
}

#[test]
fn sendmail_receives_ldirectords_mail_with_the_daemon_state() {
    let globals = "emailalert=ops@example.org\nemailalertfrom=lvs@example.org\n";
    let block = "\tservicename=web\n\tcomment=front\n";
    let dir = std::env::temp_dir().join(format!("lvsctl-daemon-{}-mail", std::process::id()));
    let h = Harness::start("mail", &config(globals, block), |o| {
        o.sendmail = dir.join("sendmail");
    });
    write_script(
        &h.path("sendmail"),
        &format!(
            "echo \"== $*\" >> {d}/mails; cat >> {d}/mails",
            d = h.dir.display()
        ),
    );
    h.up("10.1.0.1");
    h.up("10.1.0.2");
    h.wait("both added", |h| h.reals().len() == 2);
    h.down("10.1.0.2");
    h.wait("B deleted", |h| h.reals().len() == 1);
    h.wait("mail about B", |h| {
        h.read("mails").contains("Deleted real server: 10.1.0.2")
    });
    h.stop.notify_one();
    h.wait("purge mail at stop", |h| {
        h.read("mails")
            .contains("Purged real server (stop): 10.1.0.1:80")
    });
    let mails = h.read("mails");
    let host = crate::names::hostname();
    assert!(
        mails.contains(&format!(
            "== -t -oi\nTo: ops@example.org\nFrom: lvs@example.org\n\
             Subject: [web] Deleted real server: 10.1.0.2:80 (10.0.0.1:80)\n\n\
             ldirectord host: {host}\n\
             Log-Message: [web] Deleted real server: 10.1.0.2:80 (10.0.0.1:80)\n\
             Daemon-Status: running\n\nService name: web\nComment: front\n\n"
        )),
        "{mails}"
    );
    assert!(
        mails.contains("Subject: [web] Purged real server (stop): 10.1.0.1:80 (10.0.0.1:80)\n")
            && mails.contains("Daemon-Status: stopping\n"),
        "{mails}"
    );
    let log = h.stop();
    assert!(
        log.contains("Purged real server (stop): 10.1.0.1:80 (10.0.0.1:80)"),
        "{log}"
    );
    assert!(
        log.contains("Purged virtual server (stop): 10.0.0.1:80"),
        "{log}"
    );
}

/// T20/T28: a reload adds new reals only after their first pass; reals that never pass are never added.
#[test]
fn autoreload_applies_a_change_and_new_reals_wait_for_their_first_pass() {
    let globals = "autoreload=yes\ncallback=\"{dir}/callback\"\n";
    let h = Harness::start("autoreload", &config(globals, ""), |_| {});
    write_script(
        &h.path("callback"),
        &format!("echo \"$@\" >> {}/called", h.dir.display()),
    );
    h.up("10.1.0.1");
    h.up("10.1.0.4");
    h.wait("A added", |h| h.reals() == [pair("10.1.0.1:80", 3)]);
    let reals = "\treal=10.1.0.3:80 masq 2\n\treal=10.1.0.4:80 masq 4\n";
    h.rewrite(&config(globals, reals));
    h.wait("D added after its check", |h| {
        h.reals() == [pair("10.1.0.1:80", 3), pair("10.1.0.4:80", 4)]
    });
    h.wait("callback ran", |h| !h.read("called").is_empty());
    assert_eq!(h.read("called"), format!("{}\n", h.config.display()));
    h.wait_results(2, &["10.1.0.2:80", "10.1.0.3:80"]);
    assert!(!h.added_ever("10.1.0.3:80"), "C never passed: never added");
    assert!(!h.added_ever("10.1.0.2:80"), "B never passed: never added");
    let log = h.stop();
    assert!(
        log.contains(" has changed on disk\n") && log.contains(" - reread new configuration\n"),
        "{log}"
    );
}

#[test]
fn without_autoreload_a_change_is_logged_and_the_callback_still_runs() {
    let globals = "callback=\"{dir}/callback\"\n";
    let h = Harness::start("noreload", &config(globals, ""), |_| {});
    write_script(
        &h.path("callback"),
        &format!("echo \"$@\" >> {}/called", h.dir.display()),
    );
    h.up("10.1.0.1");
    h.up("10.1.0.4");
    h.wait("A added", |h| h.reals() == [pair("10.1.0.1:80", 3)]);
    h.rewrite(&config(globals, "\treal=10.1.0.4:80 masq 4\n"));
    h.wait("callback ran", |h| !h.read("called").is_empty());
    // The old configuration's checks go on, and D (10.1.0.4) is not even checked.
    let record = h.wait_results(2, &[]);
    assert_eq!(
        record.keys().collect::<Vec<_>>(),
        ["TCP 10.0.0.1:80 10.1.0.1:80", "TCP 10.0.0.1:80 10.1.0.2:80"],
        "the change was not applied"
    );
    assert_eq!(
        h.reals(),
        [pair("10.1.0.1:80", 3)],
        "the change was not applied"
    );
    let log = h.stop();
    assert!(log.contains(" - ignore new configuration\n"), "{log}");
}

/// T29: at stop cleanstop=yes deletes its virtual, cleanstop=no leaves its virtual as it is.
#[test]
fn a_comment_only_reload_writes_nothing_and_cleanstop_is_per_virtual() {
    let cf = format!(
        "{BASE}autoreload=yes\nvirtual=10.0.0.1:80\n{REALS}\tcleanstop=no\n\nvirtual=10.0.0.2:80\n{REALS}"
    );
    let h = Harness::start("cleanstop", &cf, |_| {});
    h.up("10.1.0.1");
    h.wait("A in both virtuals", |h| {
        h.reals() == [pair("10.1.0.1:80", 3), pair("10.1.0.1:80", 3)]
    });
    h.wait_results(1, &["10.1.0.2:80"]); // B's first failures too
    let ops = h.fake.lock().unwrap().applied_ops().len();
    h.rewrite(&format!("# edited\n{cf}"));
    h.wait("reloaded", |h| {
        h.read("log").contains(" - reread new configuration")
    });
    h.wait_results(2, &[]);
    assert_eq!(
        h.fake.lock().unwrap().applied_ops().len(),
        ops,
        "unchanged checks keep their state: a reload changes nothing in the kernel"
    );
    let fake = h.fake.clone();
    let log = h.stop();
    let left: Vec<String> = fake
        .lock()
        .unwrap()
        .entries()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {:?}",
                e.service.key,
                e.dests
                    .iter()
                    .map(|d| d.key().to_string())
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    assert_eq!(left, ["TCP 10.0.0.1:80 [\"10.1.0.1:80\"]"], "{log}");
    assert!(
        log.contains("Purged virtual server (stop): 10.0.0.2:80"),
        "{log}"
    );
    assert!(
        log.contains("Purged real server (stop): 10.1.0.1:80 (10.0.0.2:80)"),
        "{log}"
    );
    assert!(
        !log.contains("Purged real server (stop): 10.1.0.1:80 (10.0.0.1:80)"),
        "cleanstop=no leaves that virtual alone: {log}"
    );
}

#[test]
fn execute_instances_follow_start_reload_and_stop() {
    let cf = |names: &[&str]| {
        let lines = names.join("\nexecute=");
        config(&format!("autoreload=yes\nexecute={lines}\n"), "")
    };
    // The fake launcher lives outside the harness directory, so it exists before start.
    let tmp = std::env::temp_dir();
    let bin = tmp.join(format!("lvsctl-daemon-{}-execute-bin", std::process::id()));
    let out = tmp.join(format!("lvsctl-daemon-{}-execute", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    write_script(
        &bin.join("ldirectord"),
        &format!("echo \"$*\" >> {}/instances", out.display()),
    );
    let h = Harness::start("execute", &cf(&["a.cf", "b.cf"]), |o| {
        o.launcher = Some(execute::Launcher {
            program: bin.join("ldirectord"),
            prefix: vec!["health".into()],
            arg0: None,
        });
    });
    h.wait("instances started", |h| {
        h.read("instances").lines().count() >= 2
    });
    assert_eq!(
        h.read("instances"),
        "health a.cf start\nhealth b.cf start\n"
    );
    h.rewrite(&cf(&["b.cf", "c.cf"]));
    h.wait("reload commands", |h| {
        h.read("instances").lines().count() >= 5
    });
    h.stop.notify_one();
    h.wait("stop commands", |h| {
        h.read("instances").lines().count() >= 7
    });
    assert_eq!(
        h.read("instances"),
        "health a.cf start\nhealth b.cf start\n\
         health a.cf stop\nhealth b.cf reload\nhealth c.cf start\n\
         health b.cf stop\nhealth c.cf stop\n"
    );
    h.stop();
    let _ = std::fs::remove_dir_all(&bin);
}

/// Names 10.1.0.1 `web1.example.com`; the other reals have none.
#[derive(Debug)]
struct FakeNames;

impl crate::names::Resolver for FakeNames {
    fn host_addr(&self, _: &str, _: crate::names::Family) -> Option<std::net::IpAddr> {
        None
    }
    fn service_port(&self, _: &str, _: &str) -> Option<u16> {
        None
    }
    fn host_name(&self, addr: std::net::IpAddr) -> Option<String> {
        (addr == std::net::IpAddr::from([10, 1, 0, 1])).then(|| "web1.example.com".to_owned())
    }
    fn service_name(&self, _: u16, _: &str) -> Option<String> {
        None
    }
}

/// ldirectord's `_check_real_for_maintenance` also tries the real's reverse-DNS name and
/// its short form: a file `web1` takes 10.1.0.1 out, removing it brings it back.
#[test]
fn a_maintenance_file_named_after_the_reverse_name_forces_the_real_down() {
    let globals = "maintenancedir={dir}/maint\n";
    let h = Harness::start("maintrev", &config(globals, ""), |o| {
        o.resolver = Arc::new(FakeNames);
    });
    std::fs::create_dir_all(h.path("maint")).unwrap();
    h.up("10.1.0.1");
    h.up("10.1.0.2");
    let both = [pair("10.1.0.1:80", 3), pair("10.1.0.2:80", 3)];
    h.wait("both added", |h| h.reals() == both);
    let serving = |h: &Harness| h.reals().iter().any(|(a, w)| a == "10.1.0.1:80" && *w > 0);
    for file in ["web1", "web1.example.com:80"] {
        std::fs::write(h.path(&format!("maint/{file}")), "").unwrap();
        h.wait(&format!("{file} takes 10.1.0.1 out"), |h| !serving(h));
        assert!(h.reals().contains(&pair("10.1.0.2:80", 3)));
        std::fs::remove_file(h.path(&format!("maint/{file}"))).unwrap();
        h.wait("back after the file is gone", |h| h.reals() == both);
    }
    let log = h.stop();
    assert!(
        log.contains("Server in maintenance: 10.1.0.1:80 (tcp:10.0.0.1:80)\n"),
        "{log}"
    );
}
