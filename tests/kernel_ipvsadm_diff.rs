//! Differential suite: every case runs twice in fresh network namespaces of the IPVS
//! guest, once with the real ipvsadm 1.31 and once with lvsctl's ipvsadm personality
//! (invoked with argv[0] `ipvsadm`), from the same setup. Stdout bytes, stderr bytes and
//! exit codes of every command must be identical, and so must the kernel state each run
//! leaves, read back by both tools.
//!
//! Cases live in `tests/ipvsadm-diff/*.cases` (format documented in table.cases).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

const REAL_IPVSADM: &str = "/usr/sbin/ipvsadm";
const THREADS: usize = 4;
static TABLE_CASE: Mutex<()> = Mutex::new(());

#[derive(Debug, Default, Clone)]
struct Case {
    file: String,
    line: usize,
    setup: Vec<String>,
    commands: Vec<String>,
    stdin: String,
    /// From a file marked `# batched`: single-command cases on an empty table, run one
    /// after another in one namespace per tool (state read by ipvsadm -Sn after each, and
    /// cleared if not empty), because process start-up dominates under emulation.
    batched: bool,
}

fn parse_cases(file: &str, text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut cur = Case::default();
    let flush = |cur: &mut Case, cases: &mut Vec<Case>| {
        if !cur.commands.is_empty() {
            cases.push(std::mem::take(cur));
        }
        *cur = Case::default();
    };
    for (i, raw) in text.lines().enumerate() {
        if cur.commands.is_empty() && cur.setup.is_empty() && cur.stdin.is_empty() {
            file.clone_into(&mut cur.file);
            cur.line = i + 1;
        }
        if raw.trim().is_empty() {
            flush(&mut cur, &mut cases);
        } else if let Some(rest) = raw.strip_prefix("@ ") {
            cur.setup.push(rest.to_owned());
        } else if let Some(rest) = raw.strip_prefix("$ ") {
            cur.commands.push(rest.to_owned());
        } else if let Some(rest) = raw.strip_prefix("<") {
            cur.stdin.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            cur.stdin.push('\n');
        } else {
            assert!(
                raw.starts_with('#'),
                "{file}:{}: unrecognised line {raw:?}",
                i + 1
            );
        }
    }
    flush(&mut cur, &mut cases);
    cases
}

fn all_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ipvsadm-diff");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read case dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(p).expect("read cases");
            let batched = text.lines().any(|l| l.trim() == "# batched");
            let mut cases = parse_cases(&name, &text);
            for c in &mut cases {
                c.batched = batched;
                assert!(
                    !batched || (c.setup.is_empty() && c.commands.len() == 1),
                    "{}:{}: batched cases have no setup and one command",
                    c.file,
                    c.line
                );
            }
            cases
        })
        .collect()
}

/// Everything one run of a case produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// (stdout, stderr, exit code) per command.
    commands: Vec<(String, String, String)>,
    /// Final state read back by the real ipvsadm, then by lvsctl.
    state_by_real: String,
    state_by_ours: String,
}

/// State read back after every case: `-Sn` covers services and real servers but drops
/// thresholds, which `--thresholds` shows. Timeouts and daemons are read only by cases that
/// touch them (process start-up is expensive under emulation).
fn state_queries(case: &Case) -> String {
    let mut q = "-Sn; T -Ln --thresholds".to_owned();
    let text = case.commands.join(" ");
    if text.contains("--set") {
        q.push_str("; T -L --timeout");
    }
    if text.contains("daemon") {
        q.push_str("; T -L --daemon");
    }
    q
}

fn script(case: &Case, tool: &str, ours_link: &Path, dir: &Path) -> String {
    let mut s = String::new();
    let q = |p: &Path| p.display().to_string();
    // A new netns has lo down, and then the kernel refuses every real server as "not
    // unicast" (no local routing table): bring it up like any real host has it.
    writeln!(s, "cd {}\nip link set lo up", q(dir)).unwrap();
    if !case.setup.is_empty() {
        // One restore instead of a process per line: process start-up dominates in the guest.
        writeln!(
            s,
            "{REAL_IPVSADM} -R >/dev/null 2>setup.err <<'SETUP'\n{}\nSETUP",
            case.setup.join("\n")
        )
        .unwrap();
    }
    writeln!(s, "ipvsadm() {{ (exec -a ipvsadm {tool} \"$@\"); }}").unwrap();
    for (i, cmd) in case.commands.iter().enumerate() {
        writeln!(s, "{{ {cmd}\n}} <stdin >out.{i} 2>err.{i}; echo $? >rc.{i}").unwrap();
    }
    for (reader, file) in [
        (REAL_IPVSADM.to_owned(), "state.real"),
        (q(ours_link), "state.ours"),
    ] {
        let queries = state_queries(case).replace("T ", &format!("{reader} "));
        writeln!(s, "{{ {reader} {queries}; }} >{file} 2>&1").unwrap();
    }
    s
}

fn run_case(case: &Case, index: usize, tool: &str, ours_link: &Path) -> Outcome {
    let dir = PathBuf::from(format!(
        "/run/ipvsadm-diff/{index}-{}",
        if tool == REAL_IPVSADM { "real" } else { "ours" }
    ));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("stdin"), &case.stdin).expect("write stdin");
    std::fs::write(dir.join("script"), script(case, tool, ours_link, &dir)).expect("write script");
    let status = Command::new("unshare")
        .args(["-n", "bash", "script"])
        .current_dir(&dir)
        .status()
        .expect("spawn unshare");
    assert!(
        status.success() || status.code().is_some(),
        "case script crashed"
    );
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| format!("<{name}: {e}>"))
    };
    let commands = (0..case.commands.len())
        .map(|i| {
            (
                read(&format!("out.{i}")),
                read(&format!("err.{i}")),
                read(&format!("rc.{i}")),
            )
        })
        .collect();
    let setup_errors = std::fs::read_to_string(dir.join("setup.err")).unwrap_or_default();
    assert!(
        setup_errors.is_empty(),
        "{}:{}: the case's setup fails with the real ipvsadm: {setup_errors}",
        case.file,
        case.line
    );
    let outcome = Outcome {
        commands,
        state_by_real: read("state.real"),
        state_by_ours: read("state.ours"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

/// Run a group of batched cases in one namespace with one tool.
fn run_batch(cases: &[(usize, &Case)], chunk: usize, tool: &str) -> Vec<Outcome> {
    let side = if tool == REAL_IPVSADM { "real" } else { "ours" };
    let dir = PathBuf::from(format!("/run/ipvsadm-diff/batch{chunk}-{side}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut s = format!(
        "cd {}\nip link set lo up\nipvsadm() {{ (exec -a ipvsadm {tool} \"$@\"); }}\n",
        dir.display()
    );
    for (i, case) in cases {
        std::fs::write(dir.join(format!("stdin.{i}")), &case.stdin).expect("write stdin");
        writeln!(
            s,
            "{{ {}\n}} <stdin.{i} >out.{i} 2>err.{i}; echo $? >rc.{i}\n\
             {REAL_IPVSADM} -Sn >state.{i} 2>&1; [ -s state.{i} ] && {REAL_IPVSADM} -C",
            case.commands[0]
        )
        .unwrap();
    }
    std::fs::write(dir.join("script"), s).expect("write script");
    let status = Command::new("unshare")
        .args(["-n", "bash", "script"])
        .current_dir(&dir)
        .status()
        .expect("spawn unshare");
    assert!(status.code().is_some(), "batch script crashed");
    let read = |name: String| {
        std::fs::read_to_string(dir.join(&name)).unwrap_or_else(|e| format!("<{name}: {e}>"))
    };
    let outcomes = cases
        .iter()
        .map(|(i, _)| Outcome {
            commands: vec![(
                read(format!("out.{i}")),
                read(format!("err.{i}")),
                read(format!("rc.{i}")),
            )],
            state_by_real: read(format!("state.{i}")),
            state_by_ours: String::new(),
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    outcomes
}

fn describe(case: &Case, real: &Outcome, ours: &Outcome) -> String {
    let mut s = format!("--- {}:{}\n", case.file, case.line);
    for (i, cmd) in case.commands.iter().enumerate() {
        let (r, o) = (&real.commands[i], &ours.commands[i]);
        if r != o {
            writeln!(s, "  $ {cmd}").unwrap();
            for (what, a, b) in [
                ("stdout", &r.0, &o.0),
                ("stderr", &r.1, &o.1),
                ("rc", &r.2, &o.2),
            ] {
                if a != b {
                    writeln!(s, "    {what}: ipvsadm {a:?}\n    {what}: lvsctl  {b:?}").unwrap();
                }
            }
        }
    }
    for (what, a, b) in [
        (
            "state read by ipvsadm",
            &real.state_by_real,
            &ours.state_by_real,
        ),
        (
            "state read by lvsctl",
            &real.state_by_ours,
            &ours.state_by_ours,
        ),
        (
            "ipvsadm vs lvsctl reading the ipvsadm-made state",
            &real.state_by_real,
            &real.state_by_ours,
        ),
    ] {
        if a != b {
            writeln!(s, "  {what} differs:\n    {a:?}\n    {b:?}").unwrap();
        }
    }
    s
}

#[test]
fn ipvsadm_and_lvsctl_agree_byte_for_byte() {
    let all = all_cases();
    assert!(all.len() >= 150, "only {} cases", all.len());
    // LVSCTL_DIFF_ONLY=table.cases:72 (or just a file name) narrows the run while debugging.
    let only = std::env::var("LVSCTL_DIFF_ONLY").unwrap_or_default();
    let cases: Vec<Case> = all
        .into_iter()
        .filter(|c| only.is_empty() || format!("{}:{}", c.file, c.line).starts_with(&only))
        .collect();
    kernel_test!();
    let bin = std::fs::canonicalize(support::lvsctl_bin()).expect("lvsctl binary");
    let link_dir = Path::new("/run/ipvsadm-diff/bin");
    std::fs::create_dir_all(link_dir).expect("mkdir");
    let ours_link = link_dir.join("ipvsadm");
    let _ = std::fs::remove_file(&ours_link);
    std::os::unix::fs::symlink(&bin, &ours_link).expect("symlink");
    let ours = ours_link.display().to_string();

    // Work items: each unbatched case alone, batched cases in a few chunks.
    let batched: Vec<(usize, &Case)> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.batched)
        .collect();
    let mut items: Vec<Vec<(usize, &Case)>> = batched
        .chunks(batched.len().div_ceil(THREADS).max(1))
        .map(<[_]>::to_vec)
        .collect();
    items.extend(
        cases
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.batched)
            .map(|x| vec![x]),
    );

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(n) else { break };
                    let (reals, mine): (Vec<Outcome>, Vec<Outcome>) = if item[0].1.batched {
                        (run_batch(item, n, REAL_IPVSADM), run_batch(item, n, &ours))
                    } else {
                        // One table case at a time: in Linux 6.1 a multi-part service dump
                        // can repeat or skip entries while another namespace changes its
                        // table (one hash table for all namespaces). Batched cases only
                        // fail locally and leave their tables empty, so they run alongside.
                        let _one_table_at_a_time = TABLE_CASE.lock().unwrap();
                        let (i, case) = item[0];
                        (
                            vec![run_case(case, i, REAL_IPVSADM, &ours_link)],
                            vec![run_case(case, i, &ours, &ours_link)],
                        )
                    };
                    for (((i, case), real), mine) in item.iter().zip(reals).zip(mine) {
                        let cross_read_differs =
                            !case.batched && real.state_by_real != real.state_by_ours;
                        if real != mine || cross_read_differs {
                            failures
                                .lock()
                                .unwrap()
                                .push((*i, describe(case, &real, &mine)));
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let report: String = failures.iter().map(|(_, s)| s.as_str()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{report}",
        failures.len(),
        cases.len()
    );
}
