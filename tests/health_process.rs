//! `lvsctl health start|stop|reload` against pid files that do not name a daemon of ours,
//! through the real binary, with no daemon (and no kernel) needed: a reused pid is never
//! signalled, and `start` sees a daemon that holds its pid file's lock.
//!
//! The configuration files here are deliberately broken, so that a `start` that went on
//! past the "already running" check stops at the configuration (exit 2) instead of
//! starting a daemon on this machine.

#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsctl-health-proc-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn health(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsctl"))
        .arg("health")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A process whose command line says `lvsctl` (what the pid check looks for) but which
/// runs `sleep`: a stale pid file's pid, reused.
fn impostor() -> Child {
    let child = Command::new("bash")
        .args(["-c", "exec -a lvsctl sleep 60"])
        .spawn()
        .unwrap();
    // Wait for the exec.
    for _ in 0..100 {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
        if cmdline.starts_with(b"lvsctl\0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn alive(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(None))
}

fn files(dir: &Path, pid: u32) -> (String, String) {
    let cf = dir.join("web.cf");
    std::fs::write(&cf, "this is not ldirectord.cf\n").unwrap();
    let pid_file = dir.join("web.pid");
    std::fs::write(&pid_file, format!("{pid}\n")).unwrap();
    (cf.display().to_string(), pid_file.display().to_string())
}

/// Before, `stop` sent TERM to whatever the pid file named if its command line mentioned
/// lvsctl or ldirectord; `reload` sent it HUP.
#[test]
fn a_reused_pid_is_never_signalled() {
    let dir = temp("reused");
    let mut child = impostor();
    let (cf, pid_file) = files(&dir, child.id());
    let (code, _, err) = health(&["--pid-file", &pid_file, &cf, "stop"]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        alive(&mut child),
        "stop killed a process that is not lvsctl"
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not lvsctl: not signalled"), "{err}");
    for cmd in ["reload", "restart"] {
        let (code, _, err) = health(&["--pid-file", &pid_file, &cf, cmd]);
        std::thread::sleep(Duration::from_millis(200));
        assert!(alive(&mut child), "{cmd} signalled it");
        assert_eq!(code, 1, "{cmd}: {err}");
    }
    // `status` still reports what ldirectord would: the command line matches.
    let (code, _, err) = health(&["--pid-file", &pid_file, &cf, "status"]);
    assert_eq!(code, 0, "{err}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A daemon holds its pid file's lock: `start` says it runs (exit 0, ldirectord's status)
/// instead of starting a second one. Before, a pid file whose process was not recognised
/// by its command line counted as stale and a second daemon was started.
#[test]
fn start_sees_a_daemon_that_holds_the_pid_file() {
    let dir = temp("locked");
    let (cf, pid_file) = files(&dir, std::process::id());
    let lock = File::open(&pid_file).unwrap();
    lock.lock().unwrap();
    let (code, _, err) = health(&["--pid-file", &pid_file, &cf, "start"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "is already running with pid: {}",
            std::process::id()
        )),
        "{err}"
    );
    drop(lock);
    let (code, _, _) = health(&["--pid-file", &pid_file, &cf, "start"]);
    assert_eq!(code, 2, "unlocked: the (broken) configuration is read");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A daemon recognised by its pid file: `start` says so (before, it exited 0 silently).
#[test]
fn start_while_running_says_so() {
    let dir = temp("running");
    let mut child = impostor();
    let (cf, pid_file) = files(&dir, child.id());
    let (code, _, err) = health(&["--pid-file", &pid_file, &cf, "start"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("is already running with pid: {}", child.id())),
        "{err}"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
