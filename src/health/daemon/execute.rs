//! `execute = <configuration>`: other instances started, reloaded and stopped together with
//! this one (docs/ldirectord-compat.md, Reload, autoreload, callback and execute), through
//! our own command line as ldirectord runs `ldirectord <name> <command>`. At start every instance gets `start`; at a reload removed ones get `stop`,
//! kept ones `reload` (or `start` when that fails: not running), new ones `start`; at stop
//! every instance gets `stop`. Commands run off the event loop; the stop commands are
//! awaited (bounded) so the instances are down when this daemon exits.
//!
//! `status` is forwarded too, but only by the command line and only while this instance
//! runs: ldirectord's `status` prints its own line, then `ld_cmd_children("status")` runs
//! `ldirectord <name> status` for every `execute` entry through `system()` (their output goes
//! to the same terminal) and exits 0 whatever they return; a stopped instance exits 3 (or 1)
//! before forwarding anything. [`Launcher::status`]
//! does the same.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::log::Logger;

/// What one instance is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceCmd {
    Start,
    Stop,
    /// `reload`, then `start` if the reload failed.
    ReloadOrStart,
}

/// The commands for a change of the `execute` list from `old` to `new` (ldirectord's order:
/// stops, then reloads, then starts).
pub fn on_reload(old: &[String], new: &[String]) -> Vec<(String, InstanceCmd)> {
    let mut out: Vec<(String, InstanceCmd)> = Vec::new();
    let mut push = |name: &String, cmd| {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), cmd));
        }
    };
    for name in old.iter().filter(|n| !new.contains(n)) {
        push(name, InstanceCmd::Stop);
    }
    for name in new.iter().filter(|n| old.contains(n)) {
        push(name, InstanceCmd::ReloadOrStart);
    }
    for name in new.iter().filter(|n| !old.contains(n)) {
        push(name, InstanceCmd::Start);
    }
    out
}

/// How to run our own command line for another configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    pub program: PathBuf,
    /// Arguments before `<name> <command>` (`health` for lvsctl; none when the program is
    /// started under the name `ldirectord`, which `arg0` then says).
    pub prefix: Vec<OsString>,
    pub arg0: Option<String>,
}

impl Launcher {
    /// This executable, under the name it was started with.
    pub fn current(ident: &str) -> Option<Self> {
        let program = std::env::current_exe().ok()?;
        Some(if ident == "ldirectord" {
            Self {
                program,
                prefix: Vec::new(),
                arg0: Some("ldirectord".to_owned()),
            }
        } else {
            Self {
                program,
                prefix: vec!["health".into()],
                arg0: None,
            }
        })
    }

    async fn run(&self, name: &str, cmd: &str) -> bool {
        let mut c = tokio::process::Command::new(&self.program);
        if let Some(arg0) = &self.arg0 {
            c.arg0(arg0);
        }
        c.args(&self.prefix)
            .args([name, cmd])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match tokio::time::timeout(Duration::from_secs(70), c.status()).await {
            Ok(Ok(status)) => status.success(),
            _ => false,
        }
    }

    /// `<name> status` for each name in turn, with this process's stdin/stdout/stderr, as
    /// ldirectord's `system()` runs them. Their exit statuses are ignored, as ldirectord
    /// ignores them; each gets at most `limit` before it is killed, so a hung instance
    /// cannot hang `status`.
    pub fn status(&self, names: &[String], limit: Duration) {
        for name in names {
            let mut c = std::process::Command::new(&self.program);
            if let Some(arg0) = &self.arg0 {
                std::os::unix::process::CommandExt::arg0(&mut c, arg0);
            }
            c.args(&self.prefix).args([name.as_str(), "status"]);
            let Ok(mut child) = c.spawn() else {
                continue;
            };
            let deadline = std::time::Instant::now() + limit;
            while matches!(child.try_wait(), Ok(None)) {
                if std::time::Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Runs `cmds` one after the other on a task.
    pub fn spawn(&self, cmds: Vec<(String, InstanceCmd)>, log: Logger) -> Option<JoinHandle<()>> {
        if cmds.is_empty() {
            return None;
        }
        let me = self.clone();
        Some(tokio::spawn(async move {
            for (name, cmd) in cmds {
                let ok = match cmd {
                    InstanceCmd::Start => me.run(&name, "start").await,
                    InstanceCmd::Stop => me.run(&name, "stop").await,
                    InstanceCmd::ReloadOrStart => {
                        me.run(&name, "reload").await || me.run(&name, "start").await
                    }
                };
                if !ok {
                    log.log(&format!("execute: {cmd:?} of configuration {name} failed"));
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn status_is_run_for_every_instance_in_order_whatever_they_return() {
        let dir = std::env::temp_dir().join(format!("lvsctl-exec-status-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("ran");
        // `sh -c SCRIPT <name> status`: $0 is the name, $1 the command.
        let script = format!("echo \"$0 $1\" >> {}; exit 3", log.display());
        let launcher = Launcher {
            program: PathBuf::from("/bin/sh"),
            prefix: vec!["-c".into(), script.into()],
            arg0: None,
        };
        launcher.status(&names(&["a.cf", "b.cf"]), Duration::from_secs(10));
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "a.cf status\nb.cf status\n"
        );
        let hung = Launcher {
            program: PathBuf::from("/bin/sh"),
            prefix: vec!["-c".into(), "sleep 30".into()],
            arg0: None,
        };
        let t = std::time::Instant::now();
        hung.status(&names(&["c.cf"]), Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(10), "bounded");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reload_stops_removed_reloads_kept_and_starts_new_instances() {
        let cmds = on_reload(&names(&["a.cf", "b.cf"]), &names(&["b.cf", "c.cf", "c.cf"]));
        assert_eq!(
            cmds,
            [
                ("a.cf".to_owned(), InstanceCmd::Stop),
                ("b.cf".to_owned(), InstanceCmd::ReloadOrStart),
                ("c.cf".to_owned(), InstanceCmd::Start),
            ]
        );
        assert!(on_reload(&[], &[]).is_empty());
    }
}
