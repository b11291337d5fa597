use std::path::Path;

use super::*;
use crate::health::config::LogTarget;
use crate::health::daemon::log::Console;

/// Writes `text` as an executable file, as it is (no interpreter line added).
fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The name of the user the tests run as, so the scripts can run as it.
fn me() -> String {
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

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lvsctl-kas-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn script(argv: &[&str]) -> NotifyScript {
    NotifyScript {
        argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        user: me(),
        group: None,
    }
}

async fn wait_for(path: &Path) -> String {
    for _ in 0..500 {
        if let Ok(s) = std::fs::read_to_string(path)
            && s.ends_with('\n')
        {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} never written", path.display());
}

#[test]
fn the_shell_line_quotes_every_word_as_keepalived_s_cmd_str() {
    let argv: Vec<String> = ["/bin/n.sh", "a b", "it's"].map(str::to_owned).into();
    assert_eq!(shell_line(&argv), "'/bin/n.sh' 'a b' 'it's'");
    let argv: Vec<String> = ["</etc/x", "y"].map(str::to_owned).into();
    assert_eq!(shell_line(&argv), "</etc/x 'y'");
}

#[test]
fn the_program_is_named_by_its_real_path_keeping_a_link_s_name_in_the_same_directory() {
    let d = dir("path");
    let real = d.join("real.sh");
    write_script(&real, "exit 0\n");
    std::os::unix::fs::symlink(&real, d.join("link.sh")).unwrap();
    std::fs::create_dir_all(d.join("sub")).unwrap();
    let canon = std::fs::canonicalize(&d).unwrap();
    // `..` resolved.
    let dotted = d.join("sub/../real.sh");
    assert_eq!(real_path(&dotted), canon.join("real.sh"));
    // A link beside its target keeps its own name (busybox-style programs act on it).
    assert_eq!(real_path(&d.join("link.sh")), canon.join("link.sh"));
    // A link elsewhere, under a name its target's directory does not have: the target.
    std::os::unix::fs::symlink(&real, d.join("sub/other.sh")).unwrap();
    assert_eq!(real_path(&d.join("sub/other.sh")), canon.join("real.sh"));
    // A hard link of the same file under the configured name keeps that name.
    std::fs::hard_link(&real, d.join("hard.sh")).unwrap();
    std::os::unix::fs::symlink(d.join("hard.sh"), d.join("sub/hard.sh")).unwrap();
    assert_eq!(real_path(&d.join("sub/hard.sh")), canon.join("hard.sh"));
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_script_gets_its_words_without_a_shell_and_nothing_appended() {
    let d = dir("argv");
    let out = d.join("out");
    let prog = d.join("n.sh");
    write_script(
        &prog,
        &format!(
            "#!/bin/sh\nprintf '%s|' \"$0\" \"$@\" > {out}.tmp; echo >> {out}.tmp; mv {out}.tmp {out}\n",
            out = out.display()
        ),
    );
    let s = script(&[prog.to_str().unwrap(), "a b", "$HOME"]);
    spawn(&s).unwrap().wait().await.unwrap();
    let canon = std::fs::canonicalize(&prog).unwrap();
    assert_eq!(
        wait_for(&out).await,
        format!("{}|a b|$HOME|\n", canon.display())
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn a_file_without_interpreter_line_runs_through_the_shell() {
    let d = dir("noexec");
    let out = d.join("out");
    let prog = d.join("plain");
    write_script(&prog, &format!("echo \"$1\" > {}\n", out.display()));
    let text = std::fs::read_to_string(&prog).unwrap();
    assert!(!text.starts_with("#!"), "{text}");
    let s = script(&[prog.to_str().unwrap(), "x y"]);
    spawn(&s).unwrap().wait().await.unwrap();
    assert_eq!(wait_for(&out).await, "x y\n");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_unknown_user_or_a_missing_program_is_a_line_to_log() {
    let mut s = script(&["/nonexistent/n.sh"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let e = spawn(&s).unwrap_err();
    assert!(
        e.starts_with("Error exec-ing command '/nonexistent/n.sh'"),
        "{e}"
    );
    s.user = "no-such-user-lvsctl".into();
    let e = spawn(&s).unwrap_err();
    assert!(
        e.contains("unknown user or group no-such-user-lvsctl"),
        "{e}"
    );
}

#[tokio::test]
async fn at_stop_a_script_still_running_after_a_second_is_killed_with_its_group() {
    let d = dir("stop");
    let pidfile = d.join("child");
    let prog = d.join("slow.sh");
    write_script(
        &prog,
        &format!(
            "#!/bin/sh\nsleep 30 &\necho $! > {}\nwait\n",
            pidfile.display()
        ),
    );
    let log = Logger::new(
        "t",
        &LogTarget::File(d.join("log")),
        Console::None,
        "lvsctl",
        d.join("no-syslog"),
    );
    let start = std::time::Instant::now();
    run_at_stop(&[script(&[prog.to_str().unwrap()])], &log).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    let pid = wait_for(&pidfile).await.trim().to_owned();
    // The sleep the script left in its group is gone too.
    let mut gone = false;
    for _ in 0..200 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone, "sleep {pid} still running");
    let _ = std::fs::remove_dir_all(&d);
}
