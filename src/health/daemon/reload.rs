//! Configuration changes while running: a reload (HUP, or autoreload) swaps in the new
//! configuration keeping the state of unchanged checks, and the file is watched once a
//! second as ldirectord's `check_cfgfile` does.

use super::alert::DaemonStatus;
use super::event_loop::{Daemon, run_shell};
use super::execute::on_reload;
use super::registry::Registry;
use super::run::{digest, mtime, read_config};

impl Daemon {
    pub(super) async fn reload(&mut self) {
        let (config, digest) = match read_config(&self.opts.location.path) {
            Ok(c) => c,
            Err(errors) => {
                self.log
                    .log("Reload failed: the old configuration stays in effect");
                for line in errors.lines() {
                    self.log.log(line);
                }
                return;
            }
        };
        self.instances(on_reload(
            &self.config.globals.execute,
            &config.globals.execute,
        ));
        let registry = Registry::build(&config, Some(&self.registry));
        for vs in &self.registry.virtuals {
            if registry.virtual_slot(&vs.v.key).is_none() {
                self.pending_remove.push((vs.v.key, vs.label()));
            }
        }
        self.registry = registry;
        self.log = self.log.retarget(&config.globals.logfile);
        self.notices.reconfigure(&config);
        self.notices.status = DaemonStatus::Reloading;
        self.config = config;
        self.digest = digest;
        self.mtime = mtime(&self.opts.location.path);
        self.reverse.expire();
        self.respawn_checks();
        self.sync().await;
        // The reload's own kernel changes were made while `reloading`.
        self.notices.settled(self.registry.settled());
    }

    /// ldirectord's `check_cfgfile`, once a second: a changed mtime and content is logged,
    /// reloaded only with `autoreload=yes`, and `callback` (if executable) runs either way,
    /// after the reload, with the file's path (docs/ldirectord-compat.md, Reload, autoreload, callback
    /// and execute).
    pub(super) async fn maybe_autoreload(&mut self) {
        let path = self.opts.location.path.clone();
        let now = mtime(&path);
        if now == self.mtime {
            return;
        }
        self.mtime = now;
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        if digest(&text) == self.digest {
            return;
        }
        self.digest = digest(&text);
        self.log.log(&format!(
            "Configuration file '{}' has changed on disk",
            path.display()
        ));
        if self.config.globals.autoreload {
            self.log.log(" - reread new configuration");
            self.reload().await;
        } else {
            self.log.log(" - ignore new configuration");
        }
        // The configuration in effect after the reload names the callback, as in ldirectord.
        let callback = self.config.globals.callback.clone();
        if let Some(cb) = callback.filter(|cb| is_executable(std::path::Path::new(cb))) {
            run_shell(&format!("{cb} {}", path.display()));
        }
    }
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
