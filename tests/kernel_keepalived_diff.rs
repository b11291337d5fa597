//! `lvsctl health --keepalived` side by side with Debian's keepalived (its checker only,
//! `keepalived --check`) on the same keepalived.conf, against the same real servers failing
//! and coming back in the same steps: connect failures with inhibit_on_failure, the sorry
//! server coming in when no real is left (quorum 1) and going when one is back, an HTTP_GET
//! url answering 404, a page whose MD5 no longer matches `digest`, and recovery.
//!
//! The daemons run one after the other in the test's network namespace (the IPVS table is
//! per namespace). After each step the table is read once it has reached the state the step
//! should lead to (or after a deadline, whatever it then is) and held still for two seconds.
//! The two sequences of tables must be identical; then keepalived's own sequence must be the
//! expected one, so that the test cannot pass by both daemons doing nothing.
//! docs/keepalived-compat.md, "Running a keepalived.conf".

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/servers.rs"]
mod servers;
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use servers::{ServerNet, kill, reals_of, table};
use support::{lvsctl_bin, sh};

/// MD5 of "ok\n", the health page's content.
const OK_DIGEST: &str = "eff5bc1ef8ec9d03e640fc4370f5eacd";

fn keepalived_conf() -> String {
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 1\n delay_before_retry 1\n }";
    let http = format!(
        "HTTP_GET {{\n url {{\n path /health.html\n status_code 200\n digest {OK_DIGEST}\n }}\n \
         connect_timeout 1\n retry 1\n delay_before_retry 1\n }}"
    );
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.1 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         sorry_server 10.1.0.9 8089\n \
         real_server 10.1.0.1 8081 {{\n weight 3\n inhibit_on_failure\n {tcp}\n }}\n \
         real_server 10.1.0.2 8082 {{\n weight 2\n inhibit_on_failure\n {tcp}\n }}\n}}\n\
         virtual_server 10.0.0.2 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.3 8083 {{\n weight 1\n {http}\n }}\n \
         real_server 10.1.0.4 8084 {{\n weight 1\n {http}\n }}\n}}\n"
    )
}

/// The two services' `real → weight`, as `reals_of` reads them.
type State = (Option<BTreeMap<String, i64>>, Option<BTreeMap<String, i64>>);

fn state() -> State {
    (reals_of("10.0.0.1:80"), reals_of("10.0.0.2:80"))
}

/// `ipvsadm -Ln` with each service's real lines sorted (both daemons may add reals in
/// another order) and the connection counters left out: what the differential compares.
fn table_text() -> String {
    let (out, err, rc) = sh("ipvsadm -Ln");
    assert_eq!(rc, 0, "ipvsadm -Ln: {err}");
    let mut text = String::new();
    let mut reals: Vec<String> = Vec::new();
    for line in out.lines().skip(3) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"->") {
            reals.push(words.iter().take(4).copied().collect::<Vec<_>>().join(" "));
        } else {
            reals.sort();
            for r in reals.drain(..) {
                let _ = writeln!(text, "  {r}");
            }
            let _ = writeln!(text, "{}", words.join(" "));
        }
    }
    reals.sort();
    for r in reals {
        let _ = writeln!(text, "  {r}");
    }
    text
}

/// What one step should lead to.
struct Step {
    name: &'static str,
    want: State,
}

#[allow(clippy::unnecessary_wraps)] // reads as the State it builds
fn some(pairs: &[(&str, i64)]) -> Option<BTreeMap<String, i64>> {
    Some(table(pairs))
}

/// The steps' expected tables, which are keepalived 2.2.7's.
fn steps() -> Vec<Step> {
    let both1 = some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 2)]);
    let both2 = some(&[("10.1.0.3:8083", 1), ("10.1.0.4:8084", 1)]);
    vec![
        Step {
            name: "start: every real in at its weight, the sorry server out",
            want: (both1.clone(), both2.clone()),
        },
        Step {
            name: "10.1.0.1 stops: inhibited at weight 0",
            want: (
                some(&[("10.1.0.1:8081", 0), ("10.1.0.2:8082", 2)]),
                both2.clone(),
            ),
        },
        Step {
            name: "10.1.0.2 stops too: the sorry server comes in",
            want: (
                some(&[
                    ("10.1.0.1:8081", 0),
                    ("10.1.0.2:8082", 0),
                    ("10.1.0.9:8089", 1),
                ]),
                both2.clone(),
            ),
        },
        Step {
            name: "10.1.0.1 is back: the sorry server goes",
            want: (
                some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 0)]),
                both2.clone(),
            ),
        },
        Step {
            name: "10.1.0.3's page is gone (404): removed",
            want: (
                some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 0)]),
                some(&[("10.1.0.4:8084", 1)]),
            ),
        },
        Step {
            name: "10.1.0.4's page changes (digest): removed, the service stays empty",
            want: (
                some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 0)]),
                some(&[]),
            ),
        },
        Step {
            name: "both pages are back",
            want: (
                some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 0)]),
                both2.clone(),
            ),
        },
        Step {
            name: "10.1.0.2 is back",
            want: (both1, both2),
        },
    ]
}

/// The real servers and the pages the steps change.
struct World {
    net: ServerNet,
    tcp: [Option<Child>; 2],
    sorry: Child,
    web: [Child; 2],
    dirs: [String; 2],
}

impl World {
    fn new() -> Self {
        let net = ServerNet::new("d");
        let dirs = [3, 4].map(|i| format!("/run/lvkd-www-{}-{i}", std::process::id()));
        for d in &dirs {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(format!("{d}/health.html"), "ok\n").unwrap();
        }
        let tcp = [
            Some(net.httpd("10.1.0.1:8081")),
            Some(net.httpd("10.1.0.2:8082")),
        ];
        let sorry = net.httpd("10.1.0.9:8089");
        let web = [
            net.httpd_in("10.1.0.3:8083", &dirs[0]),
            net.httpd_in("10.1.0.4:8084", &dirs[1]),
        ];
        Self {
            net,
            tcp,
            sorry,
            web,
            dirs,
        }
    }

    /// Brings the servers to step `i`'s situation (0: all healthy).
    fn step(&mut self, i: usize) {
        let page = |k: usize| format!("{}/health.html", self.dirs[k]);
        match i {
            0 => {}
            1 => kill(self.tcp[0].as_mut().unwrap()),
            2 => kill(self.tcp[1].as_mut().unwrap()),
            3 => self.tcp[0] = Some(self.net.httpd("10.1.0.1:8081")),
            4 => std::fs::remove_file(page(0)).unwrap(),
            5 => std::fs::write(page(1), "changed\n").unwrap(),
            6 => {
                std::fs::write(page(0), "ok\n").unwrap();
                std::fs::write(page(1), "ok\n").unwrap();
            }
            7 => self.tcp[1] = Some(self.net.httpd("10.1.0.2:8082")),
            _ => unreachable!("no step {i}"),
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for c in self.tcp.iter_mut().flatten() {
            kill(c);
        }
        kill(&mut self.sorry);
        for c in &mut self.web {
            kill(c);
        }
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Waits for `want` (at most 40 s), then for two seconds without change; returns the table
/// text read then, and whether `want` was reached.
fn settle(want: &State) -> (String, bool) {
    let start = Instant::now();
    let mut reached = false;
    while start.elapsed() < Duration::from_secs(40) {
        if state() == *want {
            reached = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Held still: a flapping table is read as it ends up.
    let mut last = table_text();
    let mut still = Instant::now();
    while still.elapsed() < Duration::from_secs(2) && start.elapsed() < Duration::from_mins(1) {
        std::thread::sleep(Duration::from_millis(200));
        let now = table_text();
        if now != last {
            last = now;
            still = Instant::now();
        }
    }
    (last, reached)
}

/// A daemon run: the table after each step, and its log.
struct Run {
    tables: Vec<String>,
    reached: Vec<bool>,
    log: String,
}

fn run(daemon: &str, config: &str) -> Run {
    let mut world = World::new();
    let base = format!("/tmp/lvkd-{}-{daemon}", std::process::id());
    let log_path = format!("{base}.log");
    let log = File::create(&log_path).unwrap();
    let mut child = match daemon {
        "keepalived" => Command::new("/usr/sbin/keepalived")
            .args(["--check", "--dont-fork", "--log-console", "--log-detail"])
            .args(["--use-file", config])
            .args(["--pid", &format!("{base}.pid")])
            .args(["--checkers_pid", &format!("{base}.cpid")])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start keepalived"),
        _ => Command::new(lvsctl_bin())
            .args(["health", "--keepalived", config, "--foreground"])
            .args(["--pid-file", &format!("{base}.pid")])
            .args(["--socket", &format!("{base}.sock"), "start"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start lvsctl health --keepalived"),
    };
    let mut tables = Vec::new();
    let mut reached = Vec::new();
    for (i, step) in steps().iter().enumerate() {
        world.step(i);
        let (text, ok) = settle(&step.want);
        tables.push(format!("# {}\n{text}", step.name));
        reached.push(ok);
    }
    // Both delete their virtual services when stopped (SIGTERM).
    let (_, err, rc) = sh(&format!("kill -TERM {}", child.id()));
    assert_eq!(rc, 0, "kill: {err}");
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    kill(&mut child);
    let (text, ok) = settle(&(None, None));
    tables.push(format!("# stopped\n{text}"));
    reached.push(ok);
    // Whatever was left must not be the next daemon's start.
    sh("ipvsadm -C");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    Run {
        tables,
        reached,
        log,
    }
}

#[test]
fn the_same_steps_leave_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    let config = format!("/tmp/lvkd-{}.keepalived.conf", std::process::id());
    std::fs::write(&config, keepalived_conf()).unwrap();
    let (out, err, rc) = sh(&format!(
        "{} health --keepalived {config} check-config",
        lvsctl_bin()
    ));
    assert_eq!(rc, 0, "check-config: {out}{err}");
    let keepalived = run("keepalived", &config);
    let lvsctl = run("lvsctl", &config);
    let _ = std::fs::remove_file(&config);
    for (i, (k, l)) in keepalived.tables.iter().zip(&lvsctl.tables).enumerate() {
        assert_eq!(
            l, k,
            "step {i}: lvsctl's table (left) differs from keepalived's (right)\n\
             lvsctl log:\n{}\nkeepalived log:\n{}",
            lvsctl.log, keepalived.log
        );
    }
    for (i, ok) in keepalived.reached.iter().enumerate() {
        assert!(
            ok,
            "step {i}: keepalived did not reach the expected table; it had:\n{}\nlog:\n{}",
            keepalived.tables[i], keepalived.log
        );
    }
}
