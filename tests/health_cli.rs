//! `lvsctl health` and a link named `ldirectord` through the real binary, for what needs no
//! daemon: help, version and the command-line errors, which exit 255 with the usage as
//! ldirectord's do.

use std::process::Command;

fn run(program: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .expect("run lvsctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn health(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["health"];
    all.extend_from_slice(args);
    run(std::path::Path::new(env!("CARGO_BIN_EXE_lvsctl")), &all)
}

#[test]
fn command_line_errors_print_the_usage_and_exit_255() {
    for (args, message) in [
        (&["x.cf", "bogus"][..], "unknown command bogus"),
        (&["bogus"][..], "unknown command bogus"),
        (&[][..], "no command"),
        (&["-x", "start"][..], "unknown option -x"),
        (&["check-config"][..], "check-config needs a FILE"),
        (&["convert", "keepalived"][..], "convert needs a FILE"),
        (
            &["convert", "nginx", "x.conf"][..],
            "convert needs the format of FILE: keepalived or ldirectord, not \"nginx\"",
        ),
        (&["--pid-file"][..], "--pid-file needs FILE"),
    ] {
        let (code, out, err) = health(args);
        assert_eq!(code, 255, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert!(
            err.starts_with(&format!("{message}\nusage: lvsctl health ")),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn help_and_version_exit_0() {
    for flag in ["-h", "-?", "--help"] {
        let (code, out, err) = health(&[flag]);
        assert_eq!((code, err.as_str()), (0, ""), "{flag}");
        assert!(out.starts_with("usage: lvsctl health "), "{out}");
        assert!(out.contains("\nOptions added by lvsctl:\n"), "{out}");
    }
    let (code, out, _) = health(&["web.cf", "--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("lvsctl health "), "{out}");
}

#[test]
fn as_ldirectord_an_unknown_command_is_a_usage_error_too() {
    let dir = std::env::temp_dir().join(format!("lvsctl-health-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("ldirectord");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_lvsctl"), &link).unwrap();
    let (code, _, err) = run(&link, &["ldirectord.cf", "stat"]);
    assert_eq!(code, 255, "{err}");
    assert!(err.contains("unknown command stat\nusage:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn convert_prints_the_other_format_and_lists_the_losses_with_status_1() {
    let (code, out, err) = health(&[
        "convert",
        "keepalived",
        "tests/fixtures/keepalived/good/realistic.conf",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("# ldirectord.cf written by `lvsctl health convert`"));
    assert!(out.contains("\nvirtual=203.0.113.10:80\n"), "{out}");
    assert!(!err.is_empty());
    for line in err.lines() {
        assert!(
            line.starts_with("tests/fixtures/keepalived/good/realistic.conf")
                && line.contains(": not carried over: "),
            "{line}"
        );
    }
    // Nothing lost: status 0 and a silent stderr.
    let dir = std::env::temp_dir().join(format!("lvsctl-cli-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("plain.cf");
    std::fs::write(
        &plain,
        "checkinterval=5\nvirtual=10.0.0.1:80\n\treal=10.0.1.1:80 masq 2\n\tchecktype=connect\n",
    )
    .unwrap();
    let (code, out, err) = health(&["convert", "ldirectord", plain.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains("virtual_server 10.0.0.1 80 {\n"), "{out}");
    assert!(out.contains("        TCP_CHECK {\n"), "{out}");
    // A file that does not read: the errors, status 2, nothing on stdout.
    std::fs::write(&plain, "virtual=10.0.0.1:80\n\tbogus=1\n").unwrap();
    let (code, out, err) = health(&["convert", "ldirectord", plain.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains(":2:"), "{err}");
    let (code, out, _) = health(&["convert", "keepalived", "/nonexistent/keepalived.conf"]);
    assert_eq!((code, out.as_str()), (2, ""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keepalived_check_config_prints_keepalived_diagnostics_and_the_refusals() {
    // A file lvsctl runs: keepalived's summary, status 0.
    let good = "tests/fixtures/keepalived/good/minimal.conf";
    let (code, out, err) = health(&["--keepalived", good, "check-config"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        format!(
            "{good}: OK: 1 virtual server(s), 1 real server(s), 1 checker(s), 0 skipped block(s)\n"
        )
    );
    // One keepalived runs but lvsctl does not: every refusal with FILE:LINE, status 1.
    let dir = std::env::temp_dir().join(format!("lvsctl-cli-ka-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keepalived.conf");
    std::fs::write(
        &file,
        "virtual_server 10.0.0.1 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    \
         sorry_server 10.0.0.9 80\n    ha_suspend\n    real_server 10.0.0.2 80 {\n        TCP_CHECK {\n            connect_timeout 1.5\n        }\n    }\n}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, out, _) = health(&["--keepalived", path, "check-config"]);
    assert_eq!(code, 1, "{out}");
    let refusals: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        refusals,
        [
            format!("{path}:1: ha_suspend is not supported by lvsctl health yet"),
            format!(
                "{path}:8: a connect_timeout that is not whole seconds is not supported by lvsctl health yet"
            ),
        ]
    );
    // start refuses it too, before anything runs: status 2, the refusals on stderr.
    let (code, _, err) = health(&["--keepalived", path, "--foreground", "start"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(":8: a connect_timeout that is not whole"),
        "{err}"
    );
    // A file keepalived itself would not run keeps keepalived's status.
    let (code, out, _) = health(&[
        "--keepalived",
        "/nonexistent/keepalived.conf",
        "check-config",
    ]);
    assert_eq!(code, 4, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn piranha_check_config_prints_the_reading_and_the_refusals() {
    use std::fmt::Write as _;
    // The issue's lvs.cf runs: the reader's warning, pulse's keys as ignored, the summary.
    let issue = "tests/fixtures/piranha/issue-15.cf";
    let (code, out, err) = health(&["--piranha", issue, "check-config"]);
    assert_eq!(code, 0, "{out}{err}");
    let failover = "failover between the directors is VRRP's job (keepalived), not the checker's";
    let mut want = format!(
        "{issue}:21: warning: load_monitor = ruptime (weights from rstatd/rwhod load) is not \
         supported; the weights stay as configured\n"
    );
    for (line, key) in [
        (1, "serial_no"),
        (2, "primary"),
        (3, "service"),
        (4, "backup_active"),
        (5, "backup"),
        (6, "heartbeat"),
        (7, "heartbeat_port"),
        (9, "deadtime"),
        (11, "debug_level"),
    ] {
        let _ = writeln!(want, "{issue}:{line}: ignored: {key} ({failover})");
    }
    let _ = writeln!(want, "{issue}: OK: 1 virtual(s), 2 server(s)");
    assert_eq!(out, want);
    let dir = std::env::temp_dir().join(format!("lvsctl-cli-pir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Two active virtuals for one service: read, but refused, status 1; start exits 2.
    let twice = dir.join("twice.cf");
    std::fs::write(
        &twice,
        "virtual a {\naddress = 10.0.0.1\n}\nvirtual b {\naddress = 10.0.0.1\n}\n",
    )
    .unwrap();
    let path = twice.to_str().unwrap();
    let refusal = format!(
        "{path}:4: a second active virtual for the service of line 1 (virtual b) is not \
         supported by lvsctl health yet\n"
    );
    let (code, out, _) = health(&["--piranha", path, "check-config"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out,
        format!("{path}: OK: 2 virtual(s), 0 server(s)\n{refusal}")
    );
    let (code, _, err) = health(&["--piranha", path, "--foreground", "start"]);
    assert_eq!((code, err), (2, refusal));
    // Errors: status 2, from check-config and start alike.
    let broken = dir.join("broken.cf");
    std::fs::write(&broken, "virtual a {\nport = 80\n}\n").unwrap();
    let path = broken.to_str().unwrap();
    let error = format!("{path}:1: error: virtual a has no `address`\n");
    let (code, out, _) = health(&["--piranha", path, "check-config"]);
    assert_eq!((code, out), (2, error.clone()));
    let (code, _, err) = health(&["--piranha", path, "-d", "start"]);
    assert_eq!((code, err), (2, error));
    // A file that is not there: status 1, as for a keepalived.conf.
    let (code, _, err) = health(&["--piranha", "/nonexistent/lvs.cf", "status"]);
    assert_eq!(
        (code, err),
        (1, "config file /nonexistent/lvs.cf not found\n".to_owned())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
