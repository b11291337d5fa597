use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;
use crate::ipvs::model::{Protocol, ServiceKey};

fn target() -> Target {
    Target {
        virtual_key: ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "192.0.2.10".parse().unwrap(),
            port: 80,
        },
        real_addr: "127.0.0.1".parse().unwrap(),
        real_port: 80,
        check_port: Some(80),
        route: crate::health::check::Route::default(),
    }
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lvsctl-misc-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn script(dir: &Path, body: &str) -> String {
    let path = dir.join("check");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    let status = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path.display().to_string()
}

/// As the daemon's own user: no uid change.
fn own_user() -> String {
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2) == Some(&uid.as_str())).then(|| f[0].to_owned())
        })
        .unwrap()
}

async fn run(argv: &[&str], timeout: Duration) -> Outcome {
    let argv = argv.iter().map(|s| (*s).to_owned()).collect();
    MiscCheck::new(argv, &own_user(), None, timeout, false)
        .run(&target())
        .await
}

#[tokio::test]
async fn exit_0_passes_any_other_status_fails() {
    let d = dir("status");
    let path = script(&d, "exit \"$1\"");
    assert_eq!(
        run(&[&path, "0"], Duration::from_secs(5)).await,
        Outcome::Up
    );
    for code in ["1", "2", "255"] {
        let outcome = run(&[&path, code], Duration::from_secs(5)).await;
        assert_eq!(
            outcome,
            Outcome::Down(format!("{path} exited with status {code}"))
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn the_words_are_the_arguments_without_a_shell() {
    let d = dir("argv");
    // Passes only when called with exactly `a b` and `$HOME` unexpanded.
    let path = script(
        &d,
        "[ \"$#\" = 2 ] && [ \"$1\" = 'a b' ] && [ \"$2\" = '$HOME' ] && exit 0; exit 1",
    );
    assert_eq!(
        run(&[&path, "a b", "$HOME"], Duration::from_secs(5)).await,
        Outcome::Up
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// keepalived's child exits 0 when the exec fails: "script errors aren't server errors".
#[tokio::test]
async fn a_script_that_cannot_be_executed_passes() {
    let d = dir("noexec");
    let missing = d.join("missing").display().to_string();
    assert_eq!(run(&[&missing], Duration::from_secs(5)).await, Outcome::Up);
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_file_test_goes_through_the_shell() {
    let d = dir("redir");
    let present = script(&d, "exit 0");
    assert_eq!(
        run(&[&format!("<{present}")], Duration::from_secs(5)).await,
        Outcome::Up
    );
    let missing = format!("<{}", d.join("missing").display());
    assert!(matches!(
        run(&[&missing], Duration::from_secs(5)).await,
        Outcome::Down(_)
    ));
    assert_eq!(shell_line(&["<a".into(), "b c".into()]), "<a 'b c'");
    assert_eq!(shell_line(&["/x".into()]), "'/x'");
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_script_past_its_timeout_gets_sigterm_and_fails() {
    let d = dir("timeout");
    let path = script(&d, "sleep 30");
    let start = Instant::now();
    let outcome = run(&[&path], Duration::from_secs(1)).await;
    assert_eq!(
        outcome,
        Outcome::Down(format!("{path} timed out after 1 s"))
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A script that handles SIGTERM and exits: its exit status counts (keepalived reads it
/// as any other exit).
#[tokio::test]
async fn a_script_exiting_on_sigterm_has_its_status() {
    let d = dir("trap");
    let path = script(&d, "trap 'exit 0' TERM\nsleep 30 & wait");
    assert_eq!(run(&[&path], Duration::from_secs(1)).await, Outcome::Up);
    let _ = std::fs::remove_dir_all(&d);
}

/// One that ignores SIGTERM is killed 2 s later.
#[tokio::test]
async fn a_script_ignoring_sigterm_is_killed_after_two_seconds() {
    let d = dir("ignore");
    let path = script(&d, "trap '' TERM\nwhile :; do sleep 0.1; done");
    let start = Instant::now();
    let outcome = run(&[&path], Duration::from_secs(1)).await;
    let took = start.elapsed();
    assert_eq!(
        outcome,
        Outcome::Down(format!("{path} timed out after 1 s"))
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_unknown_user_is_a_local_fault_at_each_run() {
    let c = MiscCheck::new(
        vec!["/bin/true".into()],
        "no-such-user-lvsctl",
        None,
        Duration::from_secs(1),
        false,
    );
    assert_eq!(
        c.ids,
        Err("no user no-such-user-lvsctl to run the MISC_CHECK script as".to_owned())
    );
}

#[tokio::test]
async fn with_misc_dynamic_2_to_255_pass_and_the_status_is_kept() {
    let d = dir("dynamic");
    let path = script(&d, "exit \"$1\"");
    let check = |code: &str| {
        MiscCheck::new(
            vec![path.clone(), code.to_owned()],
            &own_user(),
            None,
            Duration::from_secs(5),
            true,
        )
    };
    for (code, up) in [("0", true), ("1", false), ("2", true), ("255", true)] {
        let c = check(code);
        let outcome = c.run(&target()).await;
        assert_eq!(outcome == Outcome::Up, up, "{code}: {outcome:?}");
        assert_eq!(
            c.last_run().load(std::sync::atomic::Ordering::Relaxed),
            code.parse::<i32>().unwrap()
        );
    }
    let slow = script(&d, "sleep 30");
    let c = MiscCheck::new(vec![slow], &own_user(), None, Duration::from_secs(1), true);
    assert!(matches!(c.run(&target()).await, Outcome::Down(_)));
    assert_eq!(
        c.last_run().load(std::sync::atomic::Ordering::Relaxed),
        KILLED
    );
    let _ = std::fs::remove_dir_all(&d);
}
