//! keepalived's notify scripts (`notify_up`, `notify_down`, `quorum_up`, `quorum_down`)
//! started the way keepalived 2.2.7 starts them (lib/notify.c `system_call_script`), at
//! the moments the registry decides (docs/keepalived-compat.md, "Notify scripts"):
//!
//! - No shell and nothing appended: the words of the configured string, the program
//!   named by its real path (symbolic links and `..` resolved, the file name kept when it
//!   names the same file), with the daemon's environment, in a process group of its own,
//!   as the script's user and group (the user's own group when none is named), standard
//!   input and outputs on /dev/null.
//! - A file the kernel cannot execute (a script without `#!`) is run by `/bin/sh -c` with
//!   every word in single quotes, as keepalived's `system()` fallback does.
//! - Nobody waits for a script while the daemon runs; at stop the scripts get one second,
//!   then their process groups get SIGKILL.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use std::os::unix::fs::MetadataExt as _;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::process::{Child, Command};

use super::log::Logger;
use crate::health::config::NotifyScript;

/// How long the scripts run at stop get before their groups are killed (keepalived's
/// `TIMER_HZ` for scripts started while stopping).
pub const STOP_GRACE: Duration = Duration::from_secs(1);

/// The error the kernel gives for a file without a known format.
const ENOEXEC: i32 = 8;

/// Starts `script`; a line to log when it cannot be started.
pub fn spawn(script: &NotifyScript) -> Result<Child, String> {
    let Some(program) = script.argv.first() else {
        return Err("Cannot run an empty script".to_owned());
    };
    let Some((uid, gid)) = ids(&script.user, script.group.as_deref()) else {
        return Err(format!(
            "Cannot run script {}: unknown user or group {}{}",
            program,
            script.user,
            script
                .group
                .as_deref()
                .map_or(String::new(), |g| format!(":{g}"))
        ));
    };
    let path = real_path(Path::new(program));
    let mut argv = script.argv.clone();
    argv[0] = path.to_string_lossy().into_owned();
    let start = |program: &str, args: &[String]| {
        Command::new(program)
            .args(args)
            .uid(uid)
            .gid(gid)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    match start(&argv[0], &argv[1..]) {
        Ok(child) => Ok(child),
        Err(e) if e.raw_os_error() == Some(ENOEXEC) => {
            start("/bin/sh", &["-c".to_owned(), shell_line(&argv)])
                .map_err(|e| format!("Error exec-ing command: {}: {e}", shell_line(&argv)))
        }
        Err(e) => Err(format!("Error exec-ing command '{}': {e}", argv[0])),
    }
}

/// Starts each script without waiting for it.
pub fn run(scripts: &[NotifyScript], log: &Logger) {
    for s in scripts {
        if let Err(line) = spawn(s) {
            log.log(&line);
        }
    }
}

/// Starts each script and waits for all of them, at most [`STOP_GRACE`]; the process
/// groups of those still running then get SIGKILL.
pub async fn run_at_stop(scripts: &[NotifyScript], log: &Logger) {
    let mut children: Vec<Child> = Vec::new();
    for s in scripts {
        match spawn(s) {
            Ok(child) => children.push(child),
            Err(line) => log.log(&line),
        }
    }
    let groups: Vec<Option<u32>> = children.iter().map(Child::id).collect();
    let all = futures_wait(&mut children);
    if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
        for pid in groups.into_iter().flatten() {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                let _ = kill_process_group(pid, Signal::KILL);
            }
        }
        for c in &mut children {
            let _ = c.wait().await;
        }
    }
}

async fn futures_wait(children: &mut [Child]) {
    for c in children.iter_mut() {
        let _ = c.wait().await;
    }
}

/// keepalived's `cmd_str`: every word in single quotes (none for a first word starting
/// with `<` or `>`), separated by spaces; quotes inside words are not escaped.
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

/// keepalived's `check_script_secure` rename: the real path of `program`, but with the
/// configured file name when the real path's differs and the configured name in the real
/// directory is the same file (some programs act on the name they are called by).
pub fn real_path(program: &Path) -> PathBuf {
    let Ok(real) = std::fs::canonicalize(program) else {
        return program.to_path_buf();
    };
    let (Some(name), Some(real_name), Some(dir)) =
        (program.file_name(), real.file_name(), real.parent())
    else {
        return real;
    };
    if name == real_name {
        return real;
    }
    let renamed = dir.join(name);
    match (std::fs::metadata(&real), std::fs::metadata(&renamed)) {
        (Ok(a), Ok(b)) if a.dev() == b.dev() && a.ino() == b.ino() => renamed,
        _ => real,
    }
}

/// The uid and gid of `user` (and `group`, else the user's primary group), from
/// /etc/passwd and /etc/group.
fn ids(user: &str, group: Option<&str>) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let (uid, primary) = passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.first() == Some(&user))
            .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))?
    })?;
    let gid = match group {
        None => primary,
        Some(g) => {
            let groups = std::fs::read_to_string("/etc/group").ok()?;
            groups.lines().find_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                (f.first() == Some(&g)).then(|| f.get(2)?.parse().ok())?
            })?
        }
    };
    Some((uid, gid))
}

#[cfg(test)]
#[path = "ka_scripts_tests.rs"]
mod tests;

impl super::event_loop::Daemon {
    /// Starts the scripts the registry has queued.
    pub(super) fn run_scripts(&mut self) {
        // keepalived starts a change's script before its mail's dialogue.
        if !self.registry.scripts.is_empty() {
            let scripts = std::mem::take(&mut self.registry.scripts);
            run(&scripts, &self.log);
        }
        if !self.registry.mails.is_empty() {
            let mails = std::mem::take(&mut self.registry.mails);
            self.notices.keepalived_mails(mails);
        }
    }
}
