//! `lvsctl apply` against the real kernel, proving what apply promises: a 1 % change costs
//! exactly the changed entries in kernel writes, a TCP connection through an unchanged
//! service survives an apply, and a kernel error half way with `--rollback` leaves the table
//! as it was. Run inside the IPVS VM (`tests/vm/lvs-vm`); each test has its own netns.

mod support;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{lvsctl_bin, sh};

/// Rules in `ipvsadm -Sn` form: `n` services with `reals` masquerading real servers each.
fn table(
    n: usize,
    reals: usize,
    sched: impl Fn(usize) -> String,
    weight: impl Fn(usize, usize) -> i32,
) -> String {
    let mut text = String::new();
    for i in 0..n {
        let vip = format!("10.50.{}.{}:80", i / 250, i % 250 + 1);
        let _ = writeln!(text, "-A -t {vip} -s {}", sched(i));
        for j in 1..=reals {
            let _ = writeln!(
                text,
                "-a -t {vip} -r 192.168.{j}.{}:8080 -m -w {}",
                i % 250 + 1,
                weight(i, j)
            );
        }
    }
    text
}

fn write_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lvsctl-kapply-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write rules file");
    path
}

fn lock_file(test: &str) -> String {
    format!("/run/lvsctl-test/{test}-{}.lock", std::process::id())
}

/// `lvsctl apply --json FILE ARGS`: (exit code, parsed JSON, stderr).
fn apply(test: &str, file: &Path, args: &str) -> (i32, Value, String) {
    let (out, err, rc) = sh(&format!(
        "{} apply --json --lock-file {} {args} {}",
        lvsctl_bin(),
        lock_file(test),
        file.display()
    ));
    let v = serde_json::from_str(&out).unwrap_or(Value::Null);
    (rc, v, err)
}

fn saved_sorted() -> Vec<String> {
    let (out, err, rc) = sh("ipvsadm -Sn");
    assert_eq!(rc, 0, "{err}");
    let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn one_percent_change_costs_exactly_the_changed_entries() {
    kernel_test!();
    let base = table(100, 2, |_| "rr".to_owned(), |_, _| 1);
    let file = write_file("base", &base);
    let (rc, v, err) = apply("pct", &file, "");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(
        v["result"]["writes"], 300,
        "100 services + 200 real servers"
    );
    assert_eq!(saved_sorted(), sorted(&base));

    // Same file again: nothing to do, no writes.
    let (rc, v, err) = apply("pct", &file, "");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(v["drift"], false, "{v}");
    let (_, _, rc) = sh(&format!("{} diff {}", lvsctl_bin(), file.display()));
    assert_eq!(rc, 0, "diff: no drift");

    // 1 % of the 300 entries: one scheduler, one weight, one real server swapped.
    let mut changed = table(
        100,
        2,
        |i| if i == 10 { "wlc" } else { "rr" }.to_owned(),
        |i, j| {
            if i == 20 && j == 1 { 5 } else { 1 }
        },
    );
    changed = changed.replace(
        "-a -t 10.50.0.31:80 -r 192.168.2.31:8080 -m -w 1",
        "-a -t 10.50.0.31:80 -r 192.168.3.31:8080 -m -w 1",
    );
    let file2 = write_file("changed", &changed);
    let (_, _, rc) = sh(&format!("{} diff {}", lvsctl_bin(), file2.display()));
    assert_eq!(rc, 2, "diff: drift");
    let (rc, v, err) = apply("pct", &file2, "");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(
        v["result"]["writes"], 4,
        "edit service, edit dest, add dest, delete dest: {v}"
    );
    assert_eq!(saved_sorted(), sorted(&changed));
}

/// Test-binary helper: when started with LVSCTL_ECHO_SERVER=ADDR (in the server netns),
/// echo lines back on every connection until killed. A no-op in a normal test run.
#[test]
fn echo_server_helper() {
    let Ok(addr) = std::env::var("LVSCTL_ECHO_SERVER") else {
        return;
    };
    let listener = TcpListener::bind(&addr).expect("bind echo server");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().expect("clone stream");
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if writeln!(writer, "{line}").is_err() {
                    break;
                }
            }
        });
    }
}

struct Server {
    child: Child,
    netns: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = sh(&format!("ip netns del {}", self.netns));
    }
}

fn run(cmd: &str) {
    let (_, err, rc) = sh(cmd);
    assert_eq!(rc, 0, "{cmd}: {err}");
}

/// A real server in its own netns behind a veth pair, reached by NAT from this netns.
fn start_server() -> Server {
    let netns = format!("lvsrv{}", std::process::id());
    run(&format!("ip netns add {netns}"));
    run(&format!(
        "ip link add vd type veth peer name vs netns {netns}"
    ));
    run("ip addr add 10.77.0.1/24 dev vd && ip link set vd up");
    run("ip route add 10.88.0.0/24 dev vd");
    run(&format!(
        "ip -n {netns} addr add 10.77.0.2/24 dev vs && ip -n {netns} link set vs up && \
         ip -n {netns} link set lo up"
    ));
    let me = std::env::current_exe().expect("test binary");
    let child = Command::new("ip")
        .args(["netns", "exec", &netns])
        .arg(me)
        .args(["--exact", "echo_server_helper", "--nocapture"])
        .env("LVSCTL_ECHO_SERVER", "10.77.0.2:8080")
        .stdout(Stdio::null())
        .spawn()
        .expect("start echo server");
    Server { child, netns }
}

fn connect(addr: &str) -> TcpStream {
    for _ in 0..100 {
        if let Ok(s) =
            TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(2))
        {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("cannot connect to {addr}");
}

fn echo(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, text: &str) -> String {
    writeln!(stream, "{text}").expect("send");
    let mut line = String::new();
    reader.read_line(&mut line).expect("receive");
    line.trim_end().to_owned()
}

/// (connections counted by the service, active connections of its first real server).
fn service_counts(vip: &str) -> (u64, u64) {
    let (out, err, rc) = sh(&format!("{} list --json", lvsctl_bin()));
    assert_eq!(rc, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    let svc = v["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["address"] == vip))
        .cloned()
        .unwrap_or(Value::Null);
    (
        svc["stats"]["conns"].as_u64().unwrap_or(0),
        svc["real_servers"][0]["active_conns"].as_u64().unwrap_or(0),
    )
}

#[test]
fn tcp_client_on_an_unchanged_service_is_not_disturbed() {
    kernel_test!();
    let _server = start_server();
    let web = "-A -t 10.88.0.1:80 -s rr\n-a -t 10.88.0.1:80 -r 10.77.0.2:8080 -m -w 1\n";
    let others = table(50, 2, |_| "rr".to_owned(), |_, _| 1);
    let file = write_file("tcp1", &format!("{web}{others}"));
    let (rc, _, err) = apply("tcp", &file, "");
    assert_eq!(rc, 0, "{err}");

    let mut stream = connect("10.88.0.1:80");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    assert_eq!(echo(&mut stream, &mut reader, "before"), "before");
    // Counters reach the listing through the 2-second estimator. The service may count more
    // than one connection: `connect` retries while the echo server is still starting, and
    // the kernel counts the refused attempts too.
    std::thread::sleep(Duration::from_secs(3));
    let before = service_counts("10.88.0.1");
    assert!(
        before.0 >= 1 && before.1 == 1,
        "one active connection: {before:?}"
    );

    // Every other service changes (scheduler and weights), some go away with --prune.
    let changed = table(40, 3, |_| "wlc".to_owned(), |_, j| j as i32);
    let file2 = write_file("tcp2", &format!("{web}{changed}"));
    let (rc, v, err) = apply("tcp", &file2, "--prune");
    assert_eq!(rc, 0, "{err}");
    let steps = v["plan"]["steps"].as_array().expect("steps");
    assert!(steps.len() > 100, "a big apply: {}", steps.len());
    assert!(
        steps.iter().all(|s| s["service"] != "TCP 10.88.0.1:80"),
        "the web service is untouched"
    );

    assert_eq!(echo(&mut stream, &mut reader, "after"), "after");
    // A service deleted and re-created would show 0 connections here.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        service_counts("10.88.0.1"),
        before,
        "same service and real server objects, counters kept"
    );
    let (conns, _, _) = sh("ipvsadm -Lnc");
    assert!(conns.contains("ESTABLISHED"), "{conns}");
}

/// Every kind of object a rules file can describe, read back from the kernel exactly as
/// planned: re-applying the file writes nothing.
#[test]
fn mixed_table_round_trips_through_the_kernel() {
    kernel_test!();
    let text = "\
-A -t 10.0.0.1:80 -s wlc -p 60 -M 255.255.255.0
-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10
-a -t 10.0.0.1:80 -r 192.168.1.2 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.0.0.1:80 -r 192.168.1.3 -g -w 0
-A -u 10.0.0.2:53 -s sh -b sh-port,sh-fallback -o -p 10 --pe sip
-a -u 10.0.0.2:53 -r 192.168.2.1:53 -m -w 1
-A -t [2001:db8::1]:443 -s mh -b mh-port
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 1
-a -t [2001:db8::1]:443 -r 192.168.4.1 -i -w 1 --tun-type gre --tun-nocsum
-A -f 7 -s rr
-a -f 7 -r 192.168.3.1:0 -m -w 1
-A -f 8 -6 -s none -p 300 -M 64
-a -f 8 -6 -r [2001:db8::20]:0 -m -w 4
-A --sctp-service 10.0.0.3:5000 -s fo
-a --sctp-service 10.0.0.3:5000 -r 192.168.5.1:5000 -m -w 1
";
    let file = write_file("mixed", text);
    let (out, err, rc) = sh(&format!("{} check {}", lvsctl_bin(), file.display()));
    // One warning (the IPv4 tunnel real server of an IPv6 service), no errors.
    assert_eq!((rc, out.lines().count()), (1, 1), "{out}{err}");
    assert!(out.contains(":9:28: warning:"), "{out}");
    let (rc, v, err) = apply("mixed", &file, "");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(v["result"]["writes"], 15, "{v}");
    let (rc, v, err) = apply("mixed", &file, "");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(v["drift"], false, "{v}");
    // The same table as JSON (lvsctl list --json) is a rules file too, with no drift.
    let (json, err, rc) = sh(&format!("{} list --json", lvsctl_bin()));
    assert_eq!(rc, 0, "{err}");
    let json_file = write_file("mixed.json", &json);
    let (out, err, rc) = sh(&format!("{} diff {}", lvsctl_bin(), json_file.display()));
    assert_eq!(rc, 0, "{out}{err}");
}

#[test]
fn kernel_error_midway_with_rollback_leaves_the_table_as_it_was() {
    kernel_test!();
    let base = table(60, 2, |_| "rr".to_owned(), |_, _| 1);
    let file = write_file("rb1", &base);
    let (rc, _, err) = apply("rb", &file, "");
    assert_eq!(rc, 0, "{err}");
    let before = saved_sorted();

    // Edits everywhere, new services, and one new service (half way) with a scheduler
    // module that does not exist: the kernel refuses it with ENOENT.
    let mut text = table(
        60,
        3,
        |i| if i % 2 == 0 { "wlc" } else { "rr" }.to_owned(),
        |_, j| j as i32 + 1,
    );
    for i in 0..40 {
        let sched = if i == 20 { "nosuch" } else { "sh" };
        let _ = writeln!(text, "-A -t 10.60.0.{}:443 -s {sched}", i + 1);
        let _ = writeln!(
            text,
            "-a -t 10.60.0.{}:443 -r 192.168.7.{}:443 -m -w 1",
            i + 1,
            i + 1
        );
    }
    let file2 = write_file("rb2", &text);
    let (rc, v, err) = apply("rb", &file2, "--rollback");
    assert_eq!(rc, 1, "{err}");
    assert!(
        err.contains("kernel refused to add service TCP 10.60.0.21:443"),
        "{err}"
    );
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(
        v["result"]["failed"].as_array().map(Vec::len),
        Some(1),
        "{v}"
    );
    assert_eq!(v["rollback"]["ok"], true, "{v}");
    assert_eq!(saved_sorted(), before, "table restored exactly");
}

/// `--drain`: the replaced real server gets weight 0 first (new connections go to the new
/// one), lvsctl waits while it still carries an active connection, and deletes it when the
/// connection is gone or the drain timeout passes.
#[test]
fn drain_quiesces_then_waits_for_active_connections() {
    kernel_test!();
    let _server = start_server();
    let old = "-A -t 10.88.0.1:80 -s rr\n-a -t 10.88.0.1:80 -r 10.77.0.2:8080 -m -w 1\n";
    let (rc, _, err) = apply("drain", &write_file("drain1", old), "");
    assert_eq!(rc, 0, "{err}");
    let mut stream = connect("10.88.0.1:80");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    assert_eq!(echo(&mut stream, &mut reader, "hi"), "hi");

    // The old real server is replaced; watch for its weight 0 while the apply waits.
    let new = "-A -t 10.88.0.1:80 -s rr\n-a -t 10.88.0.1:80 -r 10.77.0.9:8080 -m -w 1\n";
    let file = write_file("drain2", new);
    let watcher = std::thread::spawn(|| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let (out, _, _) = sh("ipvsadm -Ln");
            if out
                .lines()
                .any(|l| l.contains("10.77.0.2:8080") && l.contains("Masq    0 "))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    });
    let started = Instant::now();
    let (rc, _, err) = apply("drain", &file, "--prune --drain --drain-timeout 3");
    let took = started.elapsed();
    assert_eq!(rc, 0, "{err}");
    assert!(
        watcher.join().expect("watcher"),
        "old real server was never at weight 0"
    );
    assert!(
        took >= Duration::from_secs(3),
        "did not wait for the connection: {took:?}"
    );
    assert!(err.contains("still had active connections"), "{err}");
    assert_eq!(saved_sorted(), sorted(new));
    drop(reader);
    drop(stream);

    // With no active connection left, the drain ends at once.
    let back = write_file("drain3", old);
    let started = Instant::now();
    let (rc, _, err) = apply("drain", &back, "--prune --drain --drain-timeout 30");
    assert_eq!(rc, 0, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(!err.contains("still had active connections"), "{err}");
    assert_eq!(saved_sorted(), sorted(old));
}

/// `lvsctl apply --json FILE ARGS` started in the background, stdout and stderr captured.
struct Running {
    child: Option<Child>,
}

impl Running {
    fn start(args: &[&str], file: &Path) -> Self {
        let child = Command::new(lvsctl_bin())
            .args(["apply", "--json"])
            .args(args)
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lvsctl apply");
        Self { child: Some(child) }
    }

    fn signal(&self, sig: rustix::process::Signal) {
        let id = self.child.as_ref().expect("running").id();
        let pid = rustix::process::Pid::from_raw(id as i32).expect("pid");
        rustix::process::kill_process(pid, sig).expect("signal apply");
    }

    /// Waits for the exit: (exit code, None when killed by a signal; JSON; stderr). Both
    /// pipes are read at once: an interrupted apply lists tens of thousands of writes on
    /// stderr as well, far more than a pipe holds.
    fn finish(mut self) -> (Option<i32>, Value, String) {
        let child = self.child.take().expect("running");
        let out = child.wait_with_output().expect("wait for apply");
        (
            out.status.code(),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `ipvsadm -Ln -t VIP` (one GET_SERVICE and its real servers, cheap at any table
/// size) until it lists `real`: the apply is in its real-server batches.
fn wait_for_real(vip: &str, real: &str) {
    let start = Instant::now();
    loop {
        let (out, _, _) = sh(&format!("ipvsadm -Ln -t {vip}"));
        if out.contains(real) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_mins(5),
            "{real} never appeared in {vip}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The 10,000 × 4 table of the signal tests, and each rules line by the op text an apply
/// report gives for it.
fn big_table(weight: i32) -> (String, std::collections::HashMap<String, String>) {
    let text = table(10_000, 4, |_| "rr".to_owned(), |_, _| weight);
    let mut lines = std::collections::HashMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let op = match words.as_slice() {
            ["-A", "-t", vip, ..] => format!("add service TCP {vip}"),
            ["-a", "-t", vip, "-r", real, ..] => format!("add real server {real} to TCP {vip}"),
            _ => panic!("unexpected line {line}"),
        };
        lines.insert(op, line.to_owned());
    }
    (text, lines)
}

/// SIGTERM while a 10,000-service, 40,000-real-server apply is writing: it stops between
/// two batches, exits 143, and its report is exact — the kernel holds precisely the writes
/// the report lists as applied, and none of those it lists as not applied.
#[test]
fn sigterm_midway_stops_between_batches_and_reports_exactly() {
    kernel_test!();
    let (text, line_of) = big_table(1);
    let file = write_file("sig1", &text);
    let lock = lock_file("sig1");
    let run = Running::start(&["--lock-file", &lock], &file);
    wait_for_real("10.50.0.1:80", "192.168.1.1:8080");
    run.signal(rustix::process::Signal::TERM);
    let (code, v, err) = run.finish();
    assert_eq!(
        code,
        Some(143),
        "exit status after SIGTERM; stderr:\n{err:.2000}"
    );
    let result = &v["result"];
    assert_eq!(result["interrupted"], "SIGTERM", "{}", brief(result));
    let applied: Vec<&str> = result["applied"]
        .as_array()
        .expect("applied")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let not_applied = result["not_applied"].as_array().expect("not applied").len();
    assert!(
        applied.len() > 10_000 && not_applied > 0,
        "stopped in the real-server batches: {} applied, {not_applied} not",
        applied.len()
    );
    assert_eq!(
        applied.len() + not_applied,
        50_000,
        "every write accounted for"
    );
    assert_eq!(
        applied.len() % apply_batch(),
        10_000 % apply_batch(),
        "the applied writes are whole batches"
    );
    assert!(err.contains("apply interrupted by SIGTERM"), "{err:.2000}");
    let expected: Vec<String> = applied
        .iter()
        .map(|op| line_of.get(*op).cloned().unwrap_or_else(|| panic!("{op}")))
        .collect();
    assert_eq!(
        saved_sorted(),
        sorted(&expected.join("\n")),
        "the kernel holds exactly the applied writes"
    );
}

/// The start of a JSON value, for assertion messages (a 50,000-write report is long).
fn brief(v: &Value) -> String {
    v.to_string().chars().take(2000).collect()
}

/// The batch size `lvsctl apply` uses (`rules::apply::DEFAULT_BATCH`).
fn apply_batch() -> usize {
    lvsctl::rules::apply::DEFAULT_BATCH
}

/// SIGTERM in the middle of an apply with --rollback: the writes made are undone and the
/// table reads back byte for byte as `ipvsadm -Sn` showed it before.
#[test]
fn sigterm_midway_with_rollback_restores_the_table_byte_for_byte() {
    kernel_test!();
    let base = table(50, 2, |_| "rr".to_owned(), |_, _| 1);
    let (rc, _, err) = apply("sig2", &write_file("sig2a", &base), "");
    assert_eq!(rc, 0, "{err}");
    let (before, err, rc) = sh("ipvsadm -Sn");
    assert_eq!(rc, 0, "{err}");
    // The same 50 services at weight 2 with two more real servers each, and 9,950 new ones.
    let (text, _) = big_table(2);
    let file = write_file("sig2b", &text);
    let lock = lock_file("sig2");
    let run = Running::start(&["--lock-file", &lock, "--rollback"], &file);
    wait_for_real("10.50.0.200:80", "192.168.1.200:8080");
    run.signal(rustix::process::Signal::TERM);
    let (code, v, err) = run.finish();
    assert_eq!(
        code,
        Some(143),
        "exit status after SIGTERM; stderr:\n{err:.2000}"
    );
    assert_eq!(
        v["result"]["interrupted"],
        "SIGTERM",
        "{}",
        brief(&v["result"])
    );
    assert!(
        !v["result"]["not_applied"]
            .as_array()
            .expect("not applied")
            .is_empty(),
        "stopped before the end"
    );
    assert_eq!(v["rollback"]["ok"], true, "{}", brief(&v["rollback"]));
    assert!(err.contains("rolled back"), "{err:.2000}");
    let (after, err, rc) = sh("ipvsadm -Sn");
    assert_eq!(rc, 0, "{err}");
    assert!(
        after == before,
        "table not restored:\nbefore:\n{before}\nafter:\n{after:.4000}"
    );
}

/// Two applies at once with the default lock file: the second is refused with a clear
/// message and writes nothing, even after the health unit's runtime directory
/// (/run/lvsctl, which systemd deletes when lvsctl-health stops) has been removed.
#[test]
fn a_second_apply_is_refused_while_one_runs() {
    kernel_test!();
    let (text, _) = big_table(1);
    let file = write_file("two1", &text);
    let first = Running::start(&[], &file);
    wait_for_real("10.50.0.1:80", "192.168.1.1:8080");
    let _ = std::fs::remove_dir_all("/run/lvsctl");
    let other = write_file("two2", "-A -t 10.99.0.1:80 -s rr\n");
    let (out, err, rc) = sh(&format!("{} apply {}", lvsctl_bin(), other.display()));
    assert_eq!(rc, 1, "the second apply: {out}{err}");
    assert!(
        err.contains("another lvsctl apply is running"),
        "the second apply says why: {err}"
    );
    let (code, v, err) = first.finish();
    assert_eq!(code, Some(0), "the first apply: {err:.2000}");
    assert_eq!(v["result"]["writes"], 50_000);
    assert_eq!(
        saved_sorted(),
        sorted(&text),
        "only the first apply's table"
    );
}
