//! Helpers for this module's tests.

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::health::status::RealStatus;
use crate::ipvs::fake::{FakeBackend, SharedFake};

/// One datagram, retrying reads that a signal interrupted (daemon tests in the same process
/// install tokio's signal handlers, e.g. for SIGCHLD).
pub fn recv(sock: &UnixDatagram, buf: &mut [u8]) -> usize {
    loop {
        match sock.recv(buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("no datagram: {e}"),
        }
    }
}

/// Writes an executable shell script.
pub fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    let status = std::process::Command::new("chmod")
        .arg("+x")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A test config with `{dir}` (the test's directory) and `{check}` (its check script)
/// filled in.
pub fn expand(config: &str, dir: &Path) -> String {
    config
        .replace("{check}", &format!("{}/check", dir.display()))
        .replace("{dir}", &dir.display().to_string())
}

/// Runs the whole daemon on its own thread over `fake`, which the test keeps reading.
pub fn spawn_daemon(
    opts: super::DaemonOptions,
    fake: Arc<Mutex<FakeBackend>>,
) -> std::thread::JoinHandle<Result<(), super::DaemonError>> {
    spawn_daemon_with(opts, SharedFake::from(fake).factory())
}

/// Runs the whole daemon on its own thread over the backends of `factory`.
pub fn spawn_daemon_with(
    opts: super::DaemonOptions,
    factory: crate::ipvs::BackendFactory,
) -> std::thread::JoinHandle<Result<(), super::DaemonError>> {
    std::thread::spawn(move || super::run(&opts, factory))
}

/// The daemon's own record of every real, from its status socket, keyed `service real`
/// (`TCP 10.0.0.1:80 10.1.0.1:80`). The event loop answers between two of its turns, so a
/// result shown here has also had its effect on the kernel.
pub fn real_statuses(socket: &Path) -> std::io::Result<BTreeMap<String, RealStatus>> {
    let report = crate::health::status::query(socket)?;
    Ok(report
        .virtuals
        .iter()
        .flat_map(|v| {
            v.reals
                .iter()
                .map(move |r| (format!("{} {}", v.service, r.dest), r.clone()))
        })
        .collect())
}

/// Waits until the daemon has recorded `n` more check results (each a new
/// `last_check_ms`) for every real whose key `which` accepts, and returns the record then;
/// None after 20 s (also when the socket never answers). A test that asserts something did not happen waits here first, so it
/// fails when the checks stalled instead of passing because nothing ran.
pub fn wait_results(
    socket: &Path,
    n: usize,
    which: impl Fn(&str) -> bool,
) -> Option<BTreeMap<String, RealStatus>> {
    let start = Instant::now();
    let mut counts: BTreeMap<String, (Option<u64>, usize)> = BTreeMap::new();
    loop {
        let now = real_statuses(socket).unwrap_or_default();
        let mut done = true;
        let mut any = false;
        for (key, real) in now.iter().filter(|(k, _)| which(k)) {
            any = true;
            let (last, count) = counts.entry(key.clone()).or_insert((real.last_check_ms, 0));
            if real.last_check_ms != *last {
                *last = real.last_check_ms;
                *count += 1;
            }
            done &= *count >= n;
        }
        if any && done {
            return Some(now);
        }
        if start.elapsed() > Duration::from_secs(20) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A backend that panics in `apply` while `armed` is set (and disarms itself), as a bug in
/// the IPVS thread would; otherwise the shared fake.
#[derive(Debug)]
pub struct Panicky {
    pub fake: crate::ipvs::fake::SharedFake,
    pub armed: Arc<std::sync::atomic::AtomicBool>,
}

impl Panicky {
    /// A factory opening a `Panicky` over `fake`; also counts how often it was called.
    pub fn factory(
        fake: &Arc<Mutex<FakeBackend>>,
        armed: &Arc<std::sync::atomic::AtomicBool>,
        opened: &Arc<std::sync::atomic::AtomicUsize>,
    ) -> crate::ipvs::BackendFactory {
        let (fake, armed, opened) = (
            SharedFake::from(fake.clone()),
            armed.clone(),
            opened.clone(),
        );
        Box::new(move || {
            opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Box::new(Panicky {
                fake: fake.clone(),
                armed: armed.clone(),
            }) as Box<dyn crate::ipvs::Backend>)
        })
    }
}

impl crate::ipvs::Backend for Panicky {
    fn info(&mut self) -> crate::ipvs::Result<crate::ipvs::model::Info> {
        self.fake.lock().info()
    }
    fn services(&mut self) -> crate::ipvs::Result<Vec<crate::ipvs::model::Service>> {
        self.fake.lock().services()
    }
    fn service(
        &mut self,
        key: &crate::ipvs::model::ServiceKey,
    ) -> crate::ipvs::Result<crate::ipvs::model::Service> {
        self.fake.lock().service(key)
    }
    fn dests(
        &mut self,
        key: &crate::ipvs::model::ServiceKey,
    ) -> crate::ipvs::Result<Vec<crate::ipvs::model::Dest>> {
        self.fake.lock().dests(key)
    }
    fn timeouts(&mut self) -> crate::ipvs::Result<crate::ipvs::model::Timeouts> {
        self.fake.lock().timeouts()
    }
    fn daemons(&mut self) -> crate::ipvs::Result<Vec<crate::ipvs::model::SyncDaemon>> {
        self.fake.lock().daemons()
    }
    fn apply(&mut self, ops: &[crate::ipvs::Op]) -> Vec<crate::ipvs::Result<()>> {
        assert!(
            !self.armed.swap(false, std::sync::atomic::Ordering::SeqCst),
            "injected panic in the IPVS thread"
        );
        self.fake.lock().apply(ops)
    }
    fn connections(
        &mut self,
        sink: &mut dyn FnMut(crate::ipvs::model::Connection) -> bool,
    ) -> crate::ipvs::Result<()> {
        self.fake.lock().connections(sink)
    }
    fn global_stats(&mut self) -> crate::ipvs::Result<crate::ipvs::model::GlobalStats> {
        self.fake.lock().global_stats()
    }
    fn sysctls(&mut self) -> crate::ipvs::Result<Vec<(String, String)>> {
        self.fake.lock().sysctls()
    }
}
