//! A daemon that dies without cleaning up (kill -9, a crash, a restart of the unit with
//! `cleanstop=no`) and starts again over the table it left: the new daemon adopts what it
//! finds and writes nothing until a real really changes state. Every write there would be
//! a blip on a healthy service (a real removed and re-added, or re-weighted), so the
//! fake's write log must not grow at all.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::health::config::locate_config;
use crate::health::daemon::testutil::{expand, spawn_daemon, wait_results, write_script};
use crate::health::daemon::{Console, DaemonError, DaemonOptions};
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;

/// Every kind of entry a restart adopts: NAT reals at different weights with a fallback
/// (quiescent=no) and DR reals of a persistent service that need three passes in a row
/// before they are decided (rise=3, quiescent=yes).
const CONFIG: &str = "checkinterval=1\nchecktimeout=3\nlogfile=\"{dir}/log\"\n\
virtual=10.0.0.1:80\n\
\treal=10.1.0.1:80 masq 3\n\treal=10.1.0.2:80 masq 2\n\tfallback=10.1.0.9:80 masq\n\
\tchecktype=external\n\tcheckcommand=\"{check}\"\n\tquiescent=no\n\tcleanstop=no\n\
virtual=10.0.0.2:80\n\
\treal=10.1.0.3:80 gate 5\n\treal=10.1.0.4:80 gate 4\n\tpersistent=300\n\
\tchecktype=external\n\tcheckcommand=\"{check}\"\n\trise=3\n\tquiescent=yes\n\tcleanstop=no\n";

const REALS: [&str; 4] = ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"];

/// One daemon over `fake`, stopped through its shutdown hook.
struct Daemon {
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<Result<(), DaemonError>>>,
}

impl Daemon {
    fn start(config: &Path, socket: &Path, fake: &Arc<Mutex<FakeBackend>>) -> Self {
        let location = locate_config(Some(&config.display().to_string()), Path::is_file).unwrap();
        let mut opts = DaemonOptions::new(location);
        opts.console = Console::None;
        opts.socket = Some(socket.to_owned());
        opts.syslog_socket = socket.with_file_name("no-syslog");
        let stop = Arc::new(tokio::sync::Notify::new());
        opts.shutdown = Some(stop.clone());
        Self {
            stop,
            thread: Some(spawn_daemon(opts, fake.clone())),
        }
    }

    fn stop(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            assert!(t.join().unwrap().is_ok());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.notify_one();
            let _ = t.join();
        }
    }
}

/// `service real weight` of every entry.
fn table(fake: &Arc<Mutex<FakeBackend>>) -> Vec<String> {
    let mut out: Vec<String> = fake
        .lock()
        .unwrap()
        .entries()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e.dests
                .iter()
                .map(move |d| format!("{} {} {}", e.service.key, d.key(), d.weight))
        })
        .collect();
    out.sort();
    out
}

fn wait_for(why: &str, dir: &Path, mut what: impl FnMut() -> bool) {
    let start = Instant::now();
    while !what() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{why}: not reached; log:\n{}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn writes(fake: &Arc<Mutex<FakeBackend>>) -> Vec<Op> {
    fake.lock().unwrap().applied_ops().to_vec()
}

#[test]
fn a_restarted_daemon_writes_nothing_until_a_real_changes_state() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("lvsctl-daemon-{}-restart", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    write_script(
        &dir.join("check"),
        &format!("test -e {}/up-$3", dir.display()),
    );
    let config = dir.join("test.cf");
    std::fs::write(&config, expand(CONFIG, &dir)).unwrap();
    let socket = dir.join("status.sock");
    for r in REALS {
        std::fs::write(dir.join(format!("up-{r}")), "").unwrap();
    }
    let fake = Arc::new(Mutex::new(FakeBackend::new()));
    let healthy = [
        "TCP 10.0.0.1:80 10.1.0.1:80 3",
        "TCP 10.0.0.1:80 10.1.0.2:80 2",
        "TCP 10.0.0.2:80 10.1.0.3:80 5",
        "TCP 10.0.0.2:80 10.1.0.4:80 4",
    ];

    let first = Daemon::start(&config, &socket, &fake);
    wait_for("every real in", &dir, || table(&fake) == healthy);
    assert!(wait_results(&socket, 2, |_| true).is_some(), "steady state");
    first.stop(); // cleanstop=no: the table stays as a killed daemon leaves it
    assert_eq!(table(&fake), healthy);
    let before = writes(&fake);

    let second = Daemon::start(&config, &socket, &fake);
    // rise=3 decides the DR reals after three passes; two more cycles on top.
    assert!(
        wait_results(&socket, 5, |_| true).is_some(),
        "the second daemon checks"
    );
    let after = writes(&fake);
    assert_eq!(
        after[before.len()..],
        [],
        "a restart over a healthy table writes nothing"
    );
    assert_eq!(table(&fake), healthy);

    // The control: a real that really fails is removed, and that is the only write.
    std::fs::remove_file(dir.join("up-10.1.0.1")).unwrap();
    wait_for("10.1.0.1 removed", &dir, || {
        !table(&fake).iter().any(|l| l.contains("10.1.0.1:80"))
    });
    assert!(wait_results(&socket, 2, |_| true).is_some());
    let control = writes(&fake);
    assert!(
        matches!(&control[before.len()..], [Op::DelDest(_, k)] if k.to_string() == "10.1.0.1:80"),
        "{:?}",
        &control[before.len()..]
    );
    second.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
