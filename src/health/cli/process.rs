//! The daemon as a process: which one runs (the pid file), signalling it, and starting
//! the detached copy that plain `start` leaves running.

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

pub(super) fn signal(pid: i32, sig: rustix::process::Signal) -> bool {
    rustix::process::Pid::from_raw(pid)
        .is_some_and(|p| rustix::process::kill_process(p, sig).is_ok())
}

/// SIGTERM, then wait (up to 60 s) for the daemon to finish its cleanup.
pub(super) fn stop(pid: i32, pid_file: Option<&Path>) {
    if !signal(pid, rustix::process::Signal::TERM) {
        return;
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while Instant::now() < deadline {
        let gone = !Path::new(&format!("/proc/{pid}")).exists()
            || pid_file.is_some_and(|p| running_pid(p).is_none());
        if gone {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// ldirectord double-forks; we start ourselves again in a new process group with stdio on
/// /dev/null and wait until the child has written its pid file.
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
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
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
