//! Differential test against Debian 12's keepalived (package `keepalived`, 1:2.2.7): for
//! every file under tests/fixtures/keepalived/{good,bad}, `keepalived --config-test`
//! and lvsctl's reader must exit with the same status, and when keepalived's first
//! message names a line, lvsctl's first error must name the same file and line. The
//! deliberate differences are listed in `DEVIATIONS` and in docs/keepalived-compat.md.
//!
//! Ignored by default because it needs keepalived installed (it only reads the files:
//! `--config-test` exits before starting anything). Run:
//! `cargo test --test keepalived_config_test -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use lvsctl::health::keepalived::{self, Options, Severity};

/// (fixture, keepalived's status, lvsctl's status, why they differ)
const DEVIATIONS: &[(&str, i32, u8, &str)] = &[
    (
        "bad/include-cycle.conf",
        0,
        5,
        "keepalived reads the cycle until it runs out of file descriptors and reports that as a note; lvsctl reads each file once and reports the cycle as an error",
    ),
    (
        "bad/http-without-url.conf",
        139,
        5,
        "keepalived 2.2.7 crashes (SIGSEGV) after dropping an HTTP_GET without url; lvsctl reports the checker as ignored",
    ),
];

const FIXTURES: &str = "tests/fixtures/keepalived";

fn fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["good", "bad"] {
        let dir = Path::new(FIXTURES).join(dir);
        for entry in std::fs::read_dir(&dir).expect("fixture directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "conf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// keepalived's status and its first message that names a line: (file, line).
fn keepalived(path: &Path) -> (i32, Option<(String, usize)>, String) {
    let out = Command::new("timeout")
        .args(["60", "keepalived", "--config-test", "-f"])
        .arg(path)
        .output()
        .expect("run keepalived");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = out.status.code().unwrap_or_else(|| {
        128 + std::os::unix::process::ExitStatusExt::signal(&out.status).unwrap_or(0)
    });
    let first = text.lines().find_map(|l| position(l, path));
    (status, first, text)
}

/// `(FILE: Line N) ...` or `(Line N) ...` (the main file).
fn position(line: &str, main: &Path) -> Option<(String, usize)> {
    let inner = line.strip_prefix('(')?.split_once(')')?.0;
    let (file, n) = match inner.split_once(": Line ") {
        Some((file, n)) => (file.to_owned(), n),
        None => (main.display().to_string(), inner.strip_prefix("Line ")?),
    };
    Some((file, n.trim().parse().ok()?))
}

fn base(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

#[test]
#[ignore = "needs Debian's keepalived: apt-get install keepalived; then cargo test --test keepalived_config_test -- --ignored"]
fn lvsctl_and_keepalived_agree_on_status_and_first_error() {
    let found = Command::new("keepalived").arg("--version").output();
    assert!(
        found.is_ok(),
        "keepalived is not installed (Debian package keepalived)"
    );
    let mut problems = Vec::new();
    let mut positions_compared = 0;
    let files = fixtures();
    assert!(files.len() > 20, "fixtures missing");
    for path in &files {
        let name = path
            .strip_prefix(FIXTURES)
            .unwrap_or(path)
            .display()
            .to_string();
        let (their_status, their_first, their_text) = keepalived(path);
        let ours =
            keepalived::read_file(path, &keepalived::SystemEnv::default(), &Options::default());
        let deviation = DEVIATIONS.iter().find(|d| d.0 == name);
        if let Some(&(_, theirs, our, _)) = deviation {
            if (their_status, ours.status) != (theirs, our) {
                problems.push(format!(
                    "{name}: the known deviation changed: keepalived {their_status}, lvsctl {}",
                    ours.status
                ));
            }
            continue;
        }
        if i32::from(ours.status) != their_status {
            problems.push(format!(
                "{name}: keepalived exits {their_status}, lvsctl {}\n  keepalived: {}\n  lvsctl: {}",
                ours.status,
                their_text.trim().replace('\n', "\n              "),
                keepalived::render(&name, &ours).trim().replace('\n', "\n          ")
            ));
            continue;
        }
        let our_first = ours.diagnostics.iter().find(|d| {
            matches!(
                d.severity,
                Severity::Fatal { .. } | Severity::Error | Severity::Security
            )
        });
        match (&their_first, our_first) {
            (Some((file, line)), Some(d)) => {
                positions_compared += 1;
                if (base(file), *line) != (base(&d.pos.file), d.pos.line) {
                    problems.push(format!(
                        "{name}: keepalived's first message is at {file}:{line}, lvsctl's first error at {}",
                        d.pos
                    ));
                }
            }
            (Some((file, line)), None) if their_status != 0 => problems.push(format!(
                "{name}: keepalived reports {file}:{line}, lvsctl nothing"
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        positions_compared >= 15,
        "only {positions_compared} first errors compared"
    );
}

/// `lvsctl health convert ldirectord`: keepalived reads the result without a complaint.
#[test]
#[ignore = "needs Debian's keepalived: apt-get install keepalived; then cargo test --test keepalived_config_test -- --ignored"]
fn keepalived_reads_converted_ldirectord_files_cleanly() {
    use lvsctl::health::config::{StaticEnv, parse_config};
    let source = "tests/fixtures/convert/site.cf";
    let text = std::fs::read_to_string(source).expect("fixture");
    let (config, _) = parse_config(source, &text, &StaticEnv::with_common_services())
        .expect("the fixture parses");
    let converted = lvsctl::health::convert::ldirectord_to_keepalived(source, &config);
    let dir = std::env::temp_dir().join(format!("lvsctl-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, &converted.text).expect("write");
    let (status, _, messages) = keepalived(&path);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status, 0, "{messages}\n{}", converted.text);
    assert_eq!(messages.trim(), "", "{}", converted.text);
}
