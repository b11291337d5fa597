//! `lvsctl health` in the foreground as a child of a kernel test, for the tests that run one
//! configuration file in one format (`--keepalived`, `--piranha`): the file is written and
//! checked with `check-config` first, the daemon's stderr goes to a log the failures print,
//! and the daemon is killed and reaped when the test ends, however it ends.
//!
//! Include it next to `mod support;` and `servers` with
//! `#[path = "support/daemon.rs"] mod daemon;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::servers::{kill, reals_of};
use crate::support::{lvsctl_bin, sh};

/// A daemon started by [`Foreground::start`]; its files are named after the test's tag and
/// this process, so tests of one binary do not share them.
pub struct Foreground {
    child: Child,
    format: &'static str,
    pub config: String,
    pub pid_file: String,
    pub socket: String,
    pub log: String,
    /// What `check-config` printed on stdout.
    pub checked: String,
    /// How long [`Foreground::wait_for`] waits for the table before it fails the test.
    pub patience: Duration,
}

impl Foreground {
    /// Writes `text` as the configuration in `format` (`--keepalived`, `--piranha`), checks
    /// it (the test fails unless `check-config` exits 0) and starts the daemon on it.
    pub fn start(format: &'static str, tag: &str, text: &str) -> Self {
        let base = format!("{tag}-{}", std::process::id());
        let config = format!("/tmp/{base}.conf");
        std::fs::write(&config, text).expect("write the configuration");
        let (pid_file, socket, log) = (
            format!("/run/{base}.pid"),
            format!("/run/{base}.sock"),
            format!("/tmp/{base}.log"),
        );
        let (checked, err, rc) = sh(&format!(
            "{} health {format} {config} check-config",
            lvsctl_bin()
        ));
        assert_eq!(rc, 0, "check-config: {checked}{err}");
        let child = Command::new(lvsctl_bin())
            .args(["health", format, &config, "--foreground"])
            .args(["--pid-file", &pid_file, "--socket", &socket, "start"])
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("create the daemon's log"))
            .spawn()
            .expect("start lvsctl health");
        Self {
            child,
            format,
            config,
            pid_file,
            socket,
            log,
            checked,
            patience: Duration::from_secs(30),
        }
    }

    /// The daemon's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls the kernel until `service` holds `want` (None: the service is absent) and
    /// returns how long that took; fails the test with the daemon's log after `patience`.
    pub fn wait_for(&self, service: &str, want: Option<&BTreeMap<String, i64>>) -> Duration {
        let start = Instant::now();
        loop {
            let now = reals_of(service);
            if now.as_ref() == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < self.patience,
                "{service}: wanted {want:?}, kernel has {now:?}; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `lvsctl health FORMAT CONFIG --pid-file … --socket … VERB`, which must exit 0.
    pub fn ctl(&self, verb: &str) -> String {
        let (out, err, rc) = sh(&format!(
            "{} health {} {} --pid-file {} --socket {} {verb}",
            lvsctl_bin(),
            self.format,
            self.config,
            self.pid_file,
            self.socket
        ));
        assert_eq!(rc, 0, "{verb}: {out}{err}");
        out
    }

    /// Asks the daemon to stop and returns how it exited (None: still running after 30 s).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.ctl("stop");
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().expect("wait for the daemon") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        kill(&mut self.child);
        let _ = std::fs::remove_file(&self.config);
        // The log stays when the test failed: it is what the failure message points to.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
