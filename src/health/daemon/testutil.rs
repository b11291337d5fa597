//! Helpers for this module's tests.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::ipvs::Result as IpvsResult;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceKey, SyncDaemon, Timeouts,
};

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

/// Lets the daemon own a backend while the test keeps the fake.
pub struct Shared(pub Arc<Mutex<FakeBackend>>);

impl Shared {
    pub fn fake(&self) -> std::sync::MutexGuard<'_, FakeBackend> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Backend for Shared {
    fn info(&mut self) -> IpvsResult<Info> {
        self.fake().info()
    }
    fn services(&mut self) -> IpvsResult<Vec<Service>> {
        self.fake().services()
    }
    fn service(&mut self, key: &ServiceKey) -> IpvsResult<Service> {
        self.fake().service(key)
    }
    fn dests(&mut self, key: &ServiceKey) -> IpvsResult<Vec<Dest>> {
        self.fake().dests(key)
    }
    fn timeouts(&mut self) -> IpvsResult<Timeouts> {
        self.fake().timeouts()
    }
    fn daemons(&mut self) -> IpvsResult<Vec<SyncDaemon>> {
        self.fake().daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<IpvsResult<()>> {
        self.fake().apply(ops)
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> IpvsResult<()> {
        self.fake().connections(sink)
    }
    fn global_stats(&mut self) -> IpvsResult<GlobalStats> {
        self.fake().global_stats()
    }
    fn sysctls(&mut self) -> IpvsResult<Vec<(String, String)>> {
        self.fake().sysctls()
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
    let factory: super::BackendFactory =
        Box::new(move || Ok(Box::new(Shared(fake)) as Box<dyn Backend>));
    std::thread::spawn(move || super::run(&opts, factory))
}
