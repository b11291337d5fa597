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
    let factory = SharedFake::from(fake).factory();
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
