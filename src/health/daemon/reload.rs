//! Configuration changes while running: a reload (HUP, or autoreload) swaps in the new
//! configuration keeping the state of unchanged checks, and the file is watched once a
//! second as ldirectord's `check_cfgfile` does.
//!
//! Reading the file resolves its host and service names, which may hang on a dead DNS
//! server; so it runs on a thread of its own while the event loop goes on answering the
//! status socket and the systemd watchdog, and a read that takes longer than
//! [`READ_LIMIT`] is given up (the old configuration stays). A HUP during a read asks for
//! one more read afterwards.
//!
//! Autoreload acts only on a file that has stopped changing: an editor or `cp` writing the
//! file is caught between two writes now and then, and such a half file may still parse —
//! and delete every virtual of the missing half. A change is logged when it is first seen;
//! it is acted on once two looks at least [`SETTLE`] apart find the same size, mtime and
//! content.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;

use super::alert::DaemonStatus;
use super::event_loop::{Daemon, run_shell};
use super::execute::on_reload;
use super::faults::descriptors_needed;
use super::registry::Registry;
use super::rlimit;
use super::run::{digest, read_config_with};
use super::table::TableSteps;
use crate::health::config::Config;

/// The longest a reload may spend reading and resolving the file.
pub const READ_LIMIT: Duration = Duration::from_secs(20);
/// How long a changed file must look the same before autoreload acts on it.
pub const SETTLE: Duration = Duration::from_millis(500);

type ReadResult = Result<(Config, u64), String>;

/// A reload whose file is being read.
#[derive(Debug)]
pub(super) struct PendingReload {
    rx: oneshot::Receiver<ReadResult>,
    deadline: tokio::time::Instant,
    /// Run the callback afterwards (an autoreload).
    callback: bool,
    /// Another reload was asked for meanwhile.
    again: bool,
}

/// What a look at the file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub mtime: Option<SystemTime>,
    pub digest: u64,
}

/// What autoreload should do after a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The content in effect, or no change.
    Nothing,
    /// A new content, seen for the first time: log it, then wait for it to settle.
    Changed,
    /// Still changing, or not settled long enough.
    Waiting,
    /// The same new content twice, [`SETTLE`] apart: act on it.
    Settled,
}

/// ldirectord's `check_cfgfile` state, plus the wait for a settled file.
#[derive(Debug, Clone, Default)]
pub struct ConfigWatch {
    /// The digest of the content last acted on (reloaded, ignored or found broken).
    pub applied: u64,
    /// The mtime of the last look; an unchanged mtime needs no read.
    pub mtime: Option<SystemTime>,
    /// A new content seen, and since when it looks the same.
    pub candidate: Option<(Stamp, Instant)>,
}

impl ConfigWatch {
    pub fn new(applied: u64, mtime: Option<SystemTime>) -> Self {
        Self {
            applied,
            mtime,
            candidate: None,
        }
    }

    /// Whether a look needs the file's content (its mtime moved, or a change is pending).
    pub fn wants_read(&self, mtime: Option<SystemTime>) -> bool {
        self.candidate.is_some() || mtime != self.mtime
    }

    /// One look, at `now`, that found `stamp`.
    pub fn look(&mut self, stamp: Stamp, now: Instant) -> Seen {
        self.mtime = stamp.mtime;
        if stamp.digest == self.applied {
            self.candidate = None;
            return Seen::Nothing;
        }
        match self.candidate {
            None => {
                self.candidate = Some((stamp, now));
                Seen::Changed
            }
            Some((seen, since)) if seen == stamp => {
                if now.saturating_duration_since(since) >= SETTLE {
                    self.candidate = None;
                    self.applied = stamp.digest;
                    Seen::Settled
                } else {
                    Seen::Waiting
                }
            }
            Some(_) => {
                self.candidate = Some((stamp, now));
                Seen::Waiting
            }
        }
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The file's stamp now; None when it cannot be read.
fn stamp(path: &Path) -> Option<Stamp> {
    let mtime = mtime(path);
    let text = std::fs::read_to_string(path).ok()?;
    Some(Stamp {
        len: text.len() as u64,
        mtime,
        digest: digest(&text),
    })
}

/// Waits for the pending read; None when it took too long. Waits forever without one.
pub(super) async fn read_done(pending: &mut Option<PendingReload>) -> Option<ReadResult> {
    let Some(p) = pending.as_mut() else {
        return std::future::pending().await;
    };
    match tokio::time::timeout_at(p.deadline, &mut p.rx).await {
        Ok(Ok(result)) => Some(result),
        // The thread died (it cannot, short of a panic) or the time is up.
        Ok(Err(_)) | Err(_) => None,
    }
}

impl Daemon {
    /// Starts reading the file for a reload (HUP, or autoreload with `callback`).
    pub(super) fn request_reload(&mut self, callback: bool) {
        if let Some(p) = &mut self.reloading {
            p.again = true;
            p.callback |= callback;
            return;
        }
        let (tx, rx) = oneshot::channel();
        let path: PathBuf = self.opts.location.path.clone();
        let resolver = self.opts.resolver.clone();
        let format = self.opts.format;
        // A thread, not the runtime's blocking pool: a lookup that never returns must not
        // hold a pool thread (or the runtime's shutdown) forever; given up, it is left be.
        let started = std::thread::Builder::new()
            .name("reload".into())
            .spawn(move || {
                let _ = tx.send(read_config_with(&path, format, &resolver));
            })
            .map(drop);
        if let Err(e) = started {
            self.log.log(&format!(
                "Reload failed: cannot start reading the configuration ({e}): the old \
                 configuration stays in effect"
            ));
            return;
        }
        self.reloading = Some(PendingReload {
            rx,
            deadline: tokio::time::Instant::now() + READ_LIMIT,
            callback,
            again: false,
        });
    }

    /// The read finished (or was given up): apply it, run the callback, and start the
    /// read asked for meanwhile.
    pub(super) async fn reload_read(&mut self, result: Option<ReadResult>) {
        let Some(pending) = self.reloading.take() else {
            return;
        };
        match result {
            Some(Ok((config, digest))) => self.apply(config, digest).await,
            Some(Err(errors)) => {
                self.log
                    .log("Reload failed: the old configuration stays in effect");
                for line in errors.lines() {
                    self.log.log(line);
                }
            }
            None => self.log.log(&format!(
                "Reload failed: reading the configuration took longer than {} s (a name \
                 lookup that hangs?): the old configuration stays in effect",
                READ_LIMIT.as_secs()
            )),
        }
        if pending.callback {
            self.run_callback();
        }
        if pending.again {
            self.request_reload(false);
        }
    }

    /// Swaps in `config`: checks whose definition did not change keep their state and
    /// task, the rest start pending, and one cycle applies the difference.
    async fn apply(&mut self, config: Config, digest: u64) {
        self.instances(on_reload(
            &self.config.globals.execute,
            &config.globals.execute,
        ));
        let registry = Registry::build(&config, Some(&self.registry));
        let leaving = self.registry.services_leaving(&registry);
        self.pending_remove.extend(leaving);
        self.pending_table = TableSteps::reload(&config.globals.keepalived_table);
        self.registry = registry;
        self.log = self.log.retarget(&config.globals.logfile);
        for line in rlimit::apply(descriptors_needed(&config), &self.budget) {
            self.log.log(&line);
        }
        self.notices.reconfigure(&config);
        self.notices.status = DaemonStatus::Reloading;
        self.config = config;
        self.watch.applied = digest;
        self.watch.mtime = mtime(&self.opts.location.path);
        self.reverse.expire();
        self.respawn_checks();
        self.sync().await;
        // The reload's own kernel changes were made while `reloading`.
        self.notices.settled(self.registry.settled());
    }

    /// ldirectord's `check_cfgfile`, once a second: a changed content is logged when first
    /// seen; once it has settled it is reloaded only with `autoreload=yes`, and `callback`
    /// (if executable) runs either way, after the reload, with the file's path
    /// (docs/ldirectord-compat.md, Reload, autoreload, callback and execute).
    pub(super) fn maybe_autoreload(&mut self) {
        let path = self.opts.location.path.clone();
        if !self.watch.wants_read(mtime(&path)) {
            return;
        }
        let Some(stamp) = stamp(&path) else {
            return;
        };
        match self.watch.look(stamp, Instant::now()) {
            Seen::Nothing | Seen::Waiting => {}
            Seen::Changed => {
                self.log.log(&format!(
                    "Configuration file '{}' has changed on disk",
                    path.display()
                ));
            }
            Seen::Settled if self.config.globals.autoreload => {
                self.log.log(" - reread new configuration");
                self.request_reload(true);
            }
            Seen::Settled => {
                self.log.log(" - ignore new configuration");
                self.run_callback();
            }
        }
    }

    /// The configuration in effect (after the reload) names the callback, as in ldirectord.
    fn run_callback(&self) {
        let path = &self.opts.location.path;
        let callback = self.config.globals.callback.as_deref();
        if let Some(cb) = callback.filter(|cb| is_executable(Path::new(cb))) {
            run_shell(&format!("{cb} {}", path.display()));
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(len: u64, digest: u64) -> Stamp {
        Stamp {
            len,
            mtime: None,
            digest,
        }
    }

    /// A file written in two halves is seen half written, then whole: only the whole one,
    /// once it looked the same twice, is acted on.
    #[test]
    fn only_a_settled_content_is_acted_on() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut w = ConfigWatch::new(1, None);
        assert_eq!(w.look(stamp(10, 1), at(0)), Seen::Nothing);
        assert_eq!(w.look(stamp(5, 2), at(1000)), Seen::Changed, "half written");
        assert_eq!(w.look(stamp(12, 3), at(2000)), Seen::Waiting, "whole, once");
        assert_eq!(w.look(stamp(12, 3), at(2200)), Seen::Waiting, "too soon");
        assert_eq!(w.look(stamp(12, 3), at(3000)), Seen::Settled);
        assert_eq!(w.applied, 3);
        assert_eq!(w.look(stamp(12, 3), at(4000)), Seen::Nothing);
        // Written back to what is in effect before it settled: nothing to do.
        assert_eq!(w.look(stamp(7, 4), at(5000)), Seen::Changed);
        assert_eq!(w.look(stamp(12, 3), at(6000)), Seen::Nothing);
        assert!(w.candidate.is_none());
    }

    #[test]
    fn an_unchanged_mtime_needs_no_read() {
        let t = Some(SystemTime::UNIX_EPOCH);
        let mut w = ConfigWatch::new(1, t);
        assert!(!w.wants_read(t));
        assert!(w.wants_read(None));
        w.look(stamp(1, 2), Instant::now());
        assert!(w.wants_read(None), "a pending change is looked at again");
    }
}
