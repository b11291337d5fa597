//! keepalived's MISC_CHECK script, run the way keepalived 2.2.7 runs it
//! (`system_call_script` in lib/notify.c, `misc_check_child_thread` in
//! check/check_misc.c).
//!
//! - The words of `misc_path` (split with quotes and escapes when the file is read) are the
//!   program and its arguments, executed directly without a shell; keepalived built without
//!   libmagic, as Debian's is, always does so. Only a script that starts with `<`, which
//!   only tests that a file opens, goes through `/bin/sh -c`, with keepalived's quoting
//!   (`'word'` for every word after the first).
//! - It runs as its user (its own `user`, else `script_user`, else `keepalived_script`,
//!   else root, as the file is read), in a process group of its own, with standard input
//!   and outputs on /dev/null.
//! - A script that cannot be executed counts as a pass: keepalived's child then exits 0
//!   ("script errors aren't server errors"), and so do `sh`'s "not found" (127) and "not
//!   executable" (126) through the shell.
//! - At its timeout the group gets SIGTERM; 2 s later, if the script still runs, SIGKILL,
//!   and it is waited for. A script that exits after SIGTERM has the status it exits with;
//!   one killed by a signal failed.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use rustix::process::Signal;
use tokio::process::Command;

use super::external::{Run, command_unusable};
use super::net::is_local;
use super::{BoxFuture, Check, Outcome, Target};

/// Between SIGTERM and SIGKILL, and after SIGKILL, as keepalived waits.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// How the last run ended, for keepalived's MISC_CHECK rules, which need the exit status
/// (`misc_dynamic` turns it into a weight) and whether the script was killed: the exit
/// status (0..=255), [`KILLED`], or [`NO_RUN`].
pub type LastRun = Arc<AtomicI32>;
pub const KILLED: i32 = 256;
pub const NO_RUN: i32 = -1;

#[derive(Debug, Clone)]
pub struct MiscCheck {
    argv: Vec<String>,
    /// `misc_dynamic`: exit statuses 2..255 pass too.
    dynamic: bool,
    last: LastRun,
    /// The user and group ids to run as; None keeps the daemon's; Err says why the user
    /// could not be found here.
    ids: Result<Option<(u32, u32)>, String>,
    timeout: Duration,
}

impl MiscCheck {
    /// `user` (and `group`, else the user's own) are looked up in /etc/passwd and
    /// /etc/group now; a user the daemon already runs as needs no change.
    pub fn new(
        argv: Vec<String>,
        user: &str,
        group: Option<&str>,
        timeout: Duration,
        dynamic: bool,
    ) -> Self {
        let ids = lookup_ids(user, group).map(|(uid, gid)| {
            let same = rustix::process::getuid().as_raw() == uid
                && rustix::process::getgid().as_raw() == gid;
            (!same).then_some((uid, gid))
        });
        Self {
            argv,
            dynamic,
            last: Arc::new(AtomicI32::new(NO_RUN)),
            ids,
            timeout,
        }
    }

    /// Where each run leaves how it ended.
    pub fn last_run(&self) -> LastRun {
        self.last.clone()
    }

    fn ended(&self, how: i32) {
        self.last.store(how, Ordering::Relaxed);
    }

    fn command(&self) -> Option<Command> {
        let program = self.argv.first()?;
        let mut cmd = if program.starts_with('<') {
            let mut sh = Command::new("/bin/sh");
            sh.arg("-c").arg(shell_line(&self.argv));
            sh
        } else {
            let mut cmd = Command::new(program);
            cmd.args(self.argv.iter().skip(1));
            cmd
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        if let Ok(Some((uid, gid))) = self.ids {
            cmd.uid(uid).gid(gid);
        }
        Some(cmd)
    }

    fn verdict(&self, status: ExitStatus, timed_out: bool) -> Outcome {
        let program = self.argv.first().map_or("", String::as_str);
        let shell = program.starts_with('<');
        let code = match status.code() {
            // sh's "cannot execute" and "not found": keepalived's child exits 0.
            Some(126 | 127) if shell => Some(0),
            other => other,
        };
        self.ended(code.unwrap_or(KILLED));
        match (code, status.signal_number()) {
            (Some(0), _) => Outcome::Up,
            (Some(2..=255), _) if self.dynamic => Outcome::Up,
            (Some(code), _) => Outcome::Down(format!("{program} exited with status {code}")),
            (None, _) if timed_out => Outcome::Down(format!(
                "{program} timed out after {} s",
                self.timeout.as_secs()
            )),
            (None, Some(sig)) => Outcome::Down(format!("{program} killed by signal {sig}")),
            (None, None) => Outcome::Down(format!("{program} ended with {status}")),
        }
    }
}

trait SignalNumber {
    fn signal_number(&self) -> Option<i32>;
}

impl SignalNumber for ExitStatus {
    fn signal_number(&self) -> Option<i32> {
        std::os::unix::process::ExitStatusExt::signal(self)
    }
}

/// keepalived's `cmd_str`: every word in single quotes but a leading `<` redirection.
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 && (w.starts_with('<') || w.starts_with('>')) {
                w.clone()
            } else {
                format!("'{w}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Check for MiscCheck {
    fn run<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            self.ended(NO_RUN);
            if let Err(why) = &self.ids {
                return Outcome::LocalFault(why.clone());
            }
            let Some(mut cmd) = self.command() else {
                return Outcome::LocalFault("MISC_CHECK without a program".to_owned());
            };
            let program = self.argv.first().map_or("", String::as_str);
            let child = match cmd.spawn() {
                Ok(child) => child,
                // keepalived's child exits 0 when it cannot exec the script.
                Err(e) if command_unusable(&e) && !is_local(&e) => {
                    self.ended(0);
                    return Outcome::Up;
                }
                Err(e) => return Outcome::LocalFault(format!("cannot run {program}: {e}")),
            };
            let Some(mut run) = Run::new(child) else {
                return Outcome::LocalFault(format!("{program} started without a process id"));
            };
            if let Ok(status) = tokio::time::timeout(self.timeout, run.finish()).await {
                return match status {
                    Ok(status) => self.verdict(status, false),
                    Err(e) => Outcome::LocalFault(format!("waiting for {program}: {e}")),
                };
            }
            run.signal(Signal::TERM);
            let status = if let Ok(status) = tokio::time::timeout(TERM_GRACE, run.finish()).await {
                status
            } else {
                run.signal(Signal::KILL);
                run.finish().await
            };
            match status {
                Ok(status) => self.verdict(status, true),
                Err(e) => Outcome::LocalFault(format!("waiting for {program}: {e}")),
            }
        })
    }
}

/// The uid and gid of `user`, with `group`'s gid when given.
fn lookup_ids(user: &str, group: Option<&str>) -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    let (uid, user_gid) = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&user))
                .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
                .flatten()
        })
        .ok_or_else(|| format!("no user {user} to run the MISC_CHECK script as"))?;
    let Some(group) = group else {
        return Ok((uid, user_gid));
    };
    let groups = std::fs::read_to_string("/etc/group").map_err(|e| format!("/etc/group: {e}"))?;
    let gid = groups
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&group))
                .then(|| f.get(2)?.parse().ok())
                .flatten()
        })
        .ok_or_else(|| format!("no group {group} to run the MISC_CHECK script as"))?;
    Ok((uid, gid))
}

#[cfg(test)]
#[path = "misc_tests.rs"]
mod tests;
