//! The daemon as a process: which one runs (the pid file), signalling it, and starting
//! the detached copy that plain `start` leaves running.
//!
//! A pid file can outlive its daemon and its pid be reused by another process, so nothing
//! is signalled unless `/proc/PID/exe` is this program (see [`is_this_program`]).

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Args;
use crate::health::config::ConfigLocation;

/// `ldirectord` when this process was started under that name (a link), else `lvsctl`:
/// the syslog ident and the name the detached daemon keeps.
pub(super) fn program_ident() -> &'static str {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if Path::new(&argv0).file_name() == Some(std::ffi::OsStr::new("ldirectord")) {
        "ldirectord"
    } else {
        "lvsctl"
    }
}

/// The pid in `path` if that process is alive and is ldirectord or lvsctl.
pub fn running_pid(path: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    (cmdline.contains("ldirectord") || cmdline.contains("lvsctl")).then_some(pid)
}

/// Whether process `pid` runs this program: the same executable file as this process,
/// or one at the same path that has since been replaced (a package upgrade leaves the
/// running daemon's executable deleted), or a program installed as `lvsctl` or
/// `ldirectord` elsewhere. A process whose pid a stale pid file names by chance is none of
/// these, and neither is ldirectord itself (a Perl script: its executable is perl).
pub fn is_this_program(pid: i32) -> bool {
    let theirs = format!("/proc/{pid}/exe");
    let (Ok(meta), Ok(mine)) = (
        std::fs::metadata(&theirs),
        std::fs::metadata("/proc/self/exe"),
    ) else {
        return false;
    };
    if (meta.dev(), meta.ino()) == (mine.dev(), mine.ino()) {
        return true;
    }
    let Ok(link) = std::fs::read_link(&theirs) else {
        return false;
    };
    let text = link.to_string_lossy();
    let path = Path::new(text.strip_suffix(" (deleted)").unwrap_or(&text));
    std::env::current_exe().is_ok_and(|me| me == path)
        || path
            .file_name()
            .is_some_and(|n| n == "lvsctl" || n == "ldirectord")
}

/// Sends `sig` to `pid` if it runs this program; false when it does not or the signal
/// could not be sent.
pub(super) fn signal(pid: i32, sig: rustix::process::Signal) -> bool {
    is_this_program(pid)
        && rustix::process::Pid::from_raw(pid)
            .is_some_and(|p| rustix::process::kill_process(p, sig).is_ok())
}

/// SIGTERM, then wait (up to 60 s) for the daemon to finish its cleanup. False when the
/// process is not this program (then nothing was sent).
pub(super) fn stop(pid: i32, pid_file: Option<&Path>) -> bool {
    if !is_this_program(pid) {
        return false;
    }
    if !signal(pid, rustix::process::Signal::TERM) {
        return true;
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while Instant::now() < deadline {
        let gone = !Path::new(&format!("/proc/{pid}")).exists()
            || pid_file.is_some_and(|p| running_pid(p).is_none());
        if gone {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// What the detached daemon does first: a session of its own (no controlling terminal,
/// and no signal of the shell's process group reaches it), as ldirectord's double fork
/// gives it, and a known umask instead of whatever the caller had. 022: the files the
/// daemon creates get ldirectord's modes under the usual umask (log and monitor files
/// 0644, readable by the tools that follow them); what must be private is made so
/// explicitly (the status socket 0600 in a 0700 directory), and a umask of 000 in the
/// caller's shell can no longer leave a world-writable log file behind.
pub(super) fn detach_self() {
    let _ = rustix::process::setsid();
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
}

/// ldirectord double-forks; we start ourselves again with stdio on /dev/null (the child
/// then makes a session of its own, see [`detach_self`]) and wait until the child has
/// written its pid file.
pub(super) fn spawn_detached(
    args: &Args,
    location: &ConfigLocation,
    pid_file: Option<&Path>,
) -> u8 {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find the lvsctl binary");
        return 1;
    };
    let mut cmd = Command::new(exe);
    // Run as `ldirectord` we stay `ldirectord` (ps, syslog ident); else `lvsctl health`.
    if program_ident() == "ldirectord" {
        std::os::unix::process::CommandExt::arg0(&mut cmd, "ldirectord");
    } else {
        cmd.arg("health");
    }
    let child = args.detached_child(
        child_config(args.config.as_deref(), location),
        pid_file.map(Path::to_path_buf),
    );
    cmd.args(child.to_argv());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Err(e) = std::env::set_current_dir("/") {
        eprintln!("cannot chdir to /: {e}");
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot start the daemon: {e}");
            return 1;
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            // Another daemon took the pid file first: it runs, which is what was asked.
            if status.success() {
                return 0;
            }
            eprintln!("the daemon exited at start ({status}); see the log file");
            return 1;
        }
        if pid_file.is_none_or(|p| running_pid(p).is_some()) {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    0
}

/// CONFIG for the detached child, which runs in `/`. It must find the same file and
/// derive the same configuration name, which names the log lines and the default status
/// socket that `status` asks. Without CONFIG the name is `ldirectord`, and the default is
/// found in /etc/ha.d from anywhere, so the child gets no CONFIG either; otherwise it gets
/// the absolute path of the file, whose last component is the name the parent derived.
fn child_config(given: Option<&str>, location: &ConfigLocation) -> Option<String> {
    if given.is_none() && location.path.is_absolute() {
        return None;
    }
    let path = std::path::absolute(&location.path).unwrap_or_else(|_| location.path.clone());
    Some(path.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::config::locate_config;

    #[test]
    fn the_detached_child_finds_the_same_file_under_the_same_name() {
        let etc = |p: &Path| {
            p == Path::new("/etc/ha.d/ldirectord.cf") || p == Path::new("/etc/ha.d/web.cf")
        };
        for given in [None, Some("web.cf"), Some("/etc/ha.d/web.cf")] {
            let parent = locate_config(given, etc).unwrap();
            let child = locate_config(child_config(given, &parent).as_deref(), etc).unwrap();
            assert_eq!(child, parent, "{given:?}");
        }
        // A file found relative to the working directory is passed absolute.
        let cwd = std::env::current_dir().unwrap();
        let here = |p: &Path| p == Path::new("sub/web.cf") || p == cwd.join("sub/web.cf");
        let parent = locate_config(Some("sub/web.cf"), here).unwrap();
        let config = child_config(Some("sub/web.cf"), &parent).unwrap();
        assert_eq!(Path::new(&config), cwd.join("sub/web.cf"));
        assert_eq!(
            locate_config(Some(&config), here).unwrap().name,
            parent.name
        );
    }
}
