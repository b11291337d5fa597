//! `lvsctl check` is an offline lint: it runs anywhere (no root, no IPVS) through the real
//! binary and its clap wiring, with FILE:LINE:COL findings and exit codes 0/1/2.

use std::process::Command;

fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsctl"))
        .arg("check")
        .args(args)
        .output()
        .expect("run lvsctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_runs_without_a_kernel() {
    let dir = std::env::temp_dir().join(format!("lvsctl-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let clean = dir.join("clean.rules");
    std::fs::write(
        &clean,
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m\n",
    )
    .unwrap();
    let bad = dir.join("bad.rules");
    std::fs::write(
        &bad,
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1:80 -w many\n",
    )
    .unwrap();

    assert_eq!(
        check(&[clean.to_str().unwrap()]),
        (0, String::new(), String::new())
    );
    let (code, out, _) = check(&[clean.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!("{}:2:37: illegal weight specified\n", bad.display())
    );
    let (code, _, err) = check(&[dir.join("missing").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
