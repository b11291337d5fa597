//! Helpers for this module's tests.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::{Arc, Mutex};

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
