//! `lvsctl health` against the real kernel: real servers are busybox httpd processes in a
//! network namespace behind a veth pair, the daemon runs in the foreground as a child of
//! the test, and the kernel table is read back with the real ipvsadm.
//!
//! Timing: checkinterval 1 s and checktimeout 2 s; state changes are polled for with
//! generous bounds because the guest is emulated.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/servers.rs"]
mod servers;
mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use servers::{ServerNet, kill, reals_of, table};
use support::{lvsctl_bin, sh};

/// The daemon under test, with its own pid file, socket and log.
struct Daemon {
    child: Child,
    config: String,
    pid_file: String,
    socket: String,
    log: String,
}

impl Daemon {
    fn start(tag: &str, config_text: &str) -> Self {
        Self::start_with(tag, config_text, &[])
    }

    fn start_with(tag: &str, config_text: &str, extra: &[&str]) -> Self {
        Self::start_env(tag, config_text, extra, &[])
    }

    fn start_env(tag: &str, config_text: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let base = format!("lvh-{}-{tag}", std::process::id());
        let config = format!("/tmp/{base}.cf");
        std::fs::write(&config, config_text).unwrap();
        let pid_file = format!("/run/{base}.pid");
        let socket = format!("/run/{base}.sock");
        let log = format!("/tmp/{base}.log");
        let child = Command::new(lvsctl_bin())
            .args([
                "health",
                "--foreground",
                "--pid-file",
                &pid_file,
                "--socket",
                &socket,
            ])
            .args(extra)
            .args([&config, "start"])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start lvsctl health");
        Self {
            child,
            config,
            pid_file,
            socket,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn command(&self, cmd: &str) -> (String, String, i32) {
        sh(&format!(
            "{} health --pid-file {} --socket {} {} {cmd}",
            lvsctl_bin(),
            self.pid_file,
            self.socket,
            self.config
        ))
    }

    fn rewrite(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
    }

    /// SIGTERM and wait for the cleanup to finish.
    fn stop(mut self) -> String {
        let (_, err, rc) = self.command("stop");
        assert_eq!(rc, 0, "stop: {err}");
        let status = wait_exit(&mut self.child, Duration::from_secs(30));
        assert_eq!(status, Some(0), "daemon exit status; log:\n{}", self.log());
        self.log()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Ok(Some(s)) = child.try_wait() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Polls until the service looks like `want`; returns how long it took.
fn wait_for(service: &str, want: &BTreeMap<String, i64>, limit: Duration, d: &Daemon) -> Duration {
    let start = Instant::now();
    loop {
        let now = reals_of(service);
        if now.as_ref() == Some(want) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{service}: wanted {want:?}, kernel has {now:?} after {limit:?}; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

const LIMIT: Duration = Duration::from_secs(30);

fn config(globals: &str, reals: &str) -> String {
    format!(
        "checkinterval=1\ncheckTimeout=2\nfailurecount=1\n{globals}\
         virtual=10.0.0.1:80\n{reals}\tfallback=10.1.0.9:80 masq\n\tscheduler=rr\n\tprotocol=tcp\n\tchecktype=connect\n"
    )
    .replace("checkTimeout", "checktimeout")
}

/// T26 and T29 in the kernel, and the proof in the VM of docs/health-acceptance.md: a stopped server is removed, all down → fallback at weight 1, a restarted server is restored, cleanstop=yes deletes the virtual.
#[test]
fn removal_fallback_restore_status_and_cleanstop() {
    kernel_test!();
    let net = ServerNet::new("a");
    let mut a = net.httpd("10.1.0.1:8081");
    let mut b = net.httpd("10.1.0.2:8082");
    let cf = config(
        "quiescent=no\n",
        "\treal=10.1.0.1:8081 masq 3\n\treal=10.1.0.2:8082 masq 3\n",
    );
    let d = Daemon::start("a", &cf);
    let both = table(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 3)]);
    wait_for("10.0.0.1:80", &both, LIMIT, &d);

    kill(&mut a);
    let took = wait_for("10.0.0.1:80", &table(&[("10.1.0.2:8082", 3)]), LIMIT, &d);
    assert!(took < Duration::from_secs(10), "removal took {took:?}");
    assert!(
        d.log()
            .contains("Deleted real server: 10.1.0.1:8081 (10.0.0.1:80)"),
        "{}",
        d.log()
    );

    kill(&mut b);
    wait_for("10.0.0.1:80", &table(&[("10.1.0.9:80", 1)]), LIMIT, &d);

    let mut a = net.httpd("10.1.0.1:8081");
    wait_for("10.0.0.1:80", &table(&[("10.1.0.1:8081", 3)]), LIMIT, &d);

    let (out, err, rc) = d.command("status");
    assert_eq!(rc, 0, "status: {err}");
    assert!(err.contains("is running with pid"), "{err}");
    assert!(out.contains("10.1.0.1:8081") && out.contains("up"), "{out}");
    assert!(
        out.contains("10.1.0.2:8082") && out.contains("down"),
        "{out}"
    );

    let log = d.stop();
    assert_eq!(
        reals_of("10.0.0.1:80"),
        None,
        "cleanstop removes the service; log:\n{log}"
    );
    kill(&mut a);
}

/// T22, T25, T28, T29, T44 in the kernel: a stopped server is quiesced as fast with another one black-holed; drift is repaired; reload with a changed and a broken config; cleanstop=no and a foreign service are left alone.
#[test]
fn quiescent_blackhole_drift_reload_and_no_cleanstop() {
    kernel_test!();
    let (_, err, rc) =
        sh("ipvsadm -A -t 10.0.0.2:80 -s rr && ipvsadm -a -t 10.0.0.2:80 -r 10.9.9.9:80 -m");
    assert_eq!(rc, 0, "foreign service: {err}");
    let net = ServerNet::new("b");
    let mut servers: Vec<Child> = [
        "10.1.0.1:8081",
        "10.1.0.2:8082",
        "10.1.0.3:8083",
        "10.1.0.4:8084",
    ]
    .iter()
    .map(|a| net.httpd(a))
    .collect();
    let reals =
        "\treal=10.1.0.1:8081 masq 3\n\treal=10.1.0.2:8082 masq 3\n\treal=10.1.0.3:8083 masq 3\n";
    let d = Daemon::start("b", &config("quiescent=yes\ncleanstop=no\n", reals));
    let all = [
        ("10.1.0.1:8081", 3),
        ("10.1.0.2:8082", 3),
        ("10.1.0.3:8083", 3),
    ];
    wait_for("10.0.0.1:80", &table(&all), LIMIT, &d);

    // Black-hole C, then stop A: A must be quiesced as fast as without the black hole.
    // nft, not iptables: Debian 12's iptables 1.8.9 (nf_tables backend) cannot append to
    // INPUT on the 5.10 kernel (RULE_APPEND: ENOENT), while nft works on every kernel the VM
    // harness boots.
    net.sh(
        "nft 'add table inet lvh; add chain inet lvh input { type filter hook input priority 0; }; \
         add rule inet lvh input tcp dport 8083 drop'",
    );
    kill(&mut servers[0]);
    let want = [
        ("10.1.0.1:8081", 0),
        ("10.1.0.2:8082", 3),
        ("10.1.0.3:8083", 0),
    ];
    let took = wait_for("10.0.0.1:80", &table(&want), LIMIT, &d);
    assert!(took < Duration::from_secs(12), "quiescing took {took:?}");

    // Drift: a real deleted by hand comes back on the next cycle.
    let (_, err, rc) = sh("ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.2:8082");
    assert_eq!(rc, 0, "{err}");
    wait_for("10.0.0.1:80", &table(&want), LIMIT, &d);

    // Reload with a changed config: B re-weighted, C removed, D added after its check.
    let reals2 =
        "\treal=10.1.0.1:8081 masq 3\n\treal=10.1.0.2:8082 masq 5\n\treal=10.1.0.4:8084 masq 2\n";
    d.rewrite(&config("quiescent=yes\ncleanstop=no\n", reals2));
    let (_, err, rc) = d.command("reload");
    assert_eq!(rc, 0, "reload: {err}");
    let want2 = [
        ("10.1.0.1:8081", 0),
        ("10.1.0.2:8082", 5),
        ("10.1.0.4:8084", 2),
    ];
    wait_for("10.0.0.1:80", &table(&want2), LIMIT, &d);

    // A broken config keeps the old one running.
    d.rewrite("virtual=10.0.0.1:80\n\treal=nonsense\n");
    let (_, err, rc) = d.command("reload");
    assert_eq!(rc, 0, "reload: {err}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        reals_of("10.0.0.1:80").as_ref(),
        Some(&table(&want2)),
        "log:\n{}",
        d.log()
    );
    assert!(
        d.log().contains("old configuration stays in effect"),
        "{}",
        d.log()
    );

    let log = d.stop();
    assert_eq!(
        reals_of("10.0.0.1:80").as_ref(),
        Some(&table(&want2)),
        "cleanstop=no keeps the table; log:\n{log}"
    );
    assert_eq!(
        reals_of("10.0.0.2:80").as_ref(),
        Some(&table(&[("10.9.9.9:80", 1)])),
        "foreign service untouched"
    );
    for s in &mut servers {
        kill(s);
    }
}

/// T30 and T26 in the kernel: a maintenance file takes the real out, the fallback comes in and fallbackcommand runs start then stop; a 404 is down.
#[test]
fn http_negotiate_maintenance_and_fallback_command() {
    kernel_test!();
    let net = ServerNet::new("c");
    let base = format!("/run/lvh-{}-c", std::process::id());
    let (good, empty, maint) = (
        format!("{base}/www"),
        format!("{base}/empty"),
        format!("{base}/maint"),
    );
    for d in [&good, &empty, &maint] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(format!("{good}/check.html"), "service is healthy\n").unwrap();
    let script = format!("{base}/fb.sh");
    let out = format!("{base}/fb.out");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" >> {out}\n")).unwrap();
    sh(&format!("chmod +x {script}"));
    let mut good_server = net.httpd_in("10.1.0.1:8081", &good);
    let mut missing_page = net.httpd_in("10.1.0.2:8082", &empty); // 404 for the check page
    let cf = format!(
        "checkinterval=1\nnegotiatetimeout=2\nquiescent=no\nmaintenancedir={maint}\n\
         virtual=10.0.0.1:80\n\treal=10.1.0.1:8081 masq 2\n\treal=10.1.0.2:8082 masq 2\n\
         \tfallback=10.1.0.9:80 masq\n\tfallbackcommand={script}\n\tservice=http\n\
         \trequest=\"check.html\"\n\treceive=\"healthy\"\n\tscheduler=wrr\n\tprotocol=tcp\n\tchecktype=negotiate\n"
    );
    let d = Daemon::start_with("c", &cf, &["--metrics", "127.0.0.1:9101"]);
    wait_for("10.0.0.1:80", &table(&[("10.1.0.1:8081", 2)]), LIMIT, &d);

    std::fs::write(format!("{maint}/10.1.0.1"), "").unwrap();
    wait_for("10.0.0.1:80", &table(&[("10.1.0.9:80", 1)]), LIMIT, &d);
    let start = Instant::now();
    while !std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("start")
    {
        assert!(
            start.elapsed() < LIMIT,
            "fallbackcommand not run; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "start 10.0.0.1:80 tcp\n"
    );
    assert!(
        d.log().contains("Server in maintenance: 10.1.0.1:8081"),
        "{}",
        d.log()
    );

    std::fs::remove_file(format!("{maint}/10.1.0.1")).unwrap();
    wait_for("10.0.0.1:80", &table(&[("10.1.0.1:8081", 2)]), LIMIT, &d);
    let start = Instant::now();
    while !std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("stop")
    {
        assert!(
            start.elapsed() < LIMIT,
            "fallbackcommand stop not run; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (json, err, rc) = d.command("--json status");
    assert_eq!(rc, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("status JSON");
    let reals = v["virtuals"][0]["reals"].as_array().unwrap();
    assert_eq!(reals[0]["state"], "up");
    assert_eq!(reals[0]["kernel_weight"], 2);
    assert_eq!(reals[1]["state"], "down");
    assert!(
        reals[1]["reason"].as_str().unwrap().contains("404"),
        "{json}"
    );
    let metrics = {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect("127.0.0.1:9101").expect("metrics endpoint");
        conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        text
    };
    assert!(
        metrics.contains("lvsctl_health_real_up{virtual=\"10.0.0.1:80\",real=\"10.1.0.1:8081\"} 1"),
        "{metrics}"
    );
    d.stop();
    kill(&mut good_server);
    kill(&mut missing_page);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn ldirectord_command_line_start_status_reload_stop() {
    kernel_test!();
    let base = format!("/run/lvh-{}-d", std::process::id());
    std::fs::create_dir_all(&base).unwrap();
    let link = format!("{base}/ldirectord");
    std::os::unix::fs::symlink(lvsctl_bin(), &link).unwrap();
    let cf = format!("{base}/web.cf");
    let log = format!("/tmp/lvh-{}-d.log", std::process::id());
    std::fs::write(
        &cf,
        format!(
            "checkinterval=1\nlogfile=\"{log}\"\nvirtual=10.0.0.3:80\n\treal=10.1.0.1:80 masq\n\tchecktype=on\n"
        ),
    )
    .unwrap();
    let pid = format!("{base}/ld.pid");
    let sock = format!("{base}/ld.sock");
    let ld = |cmd: &str| {
        sh(&format!(
            "{link} --pid-file {pid} --socket {sock} {cf} {cmd}"
        ))
    };

    let (_, err, rc) = ld("status");
    assert_eq!(rc, 3, "status when stopped: {err}");
    assert!(err.contains("is stopped"), "{err}");
    assert_eq!(ld("reload").2, 1, "reload when stopped");
    assert_eq!(ld("stop").2, 0, "stop when stopped");

    let (_, err, rc) = ld("start");
    assert_eq!(rc, 0, "start: {err}");
    let daemon_pid: i32 = std::fs::read_to_string(&pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let start = Instant::now();
    while reals_of("10.0.0.3:80").as_ref() != Some(&table(&[("10.1.0.1:80", 1)])) {
        let l = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            start.elapsed() < LIMIT,
            "checktype=on real not added; log:\n{l}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(ld("start").2, 0, "start when running is a no-op");
    // The detached daemon keeps the name it was started under (ps, syslog ident).
    let cmdline = std::fs::read(format!("/proc/{daemon_pid}/cmdline")).unwrap();
    assert!(
        cmdline.starts_with(b"ldirectord\0--detached\0"),
        "{}",
        String::from_utf8_lossy(&cmdline)
    );
    let (_, err, rc) = ld("status");
    assert_eq!(rc, 0, "{err}");
    assert!(
        err.contains(&format!("is running with pid: {daemon_pid}")),
        "{err}"
    );
    assert_eq!(ld("reload").2, 0);

    assert_eq!(ld("stop").2, 0);
    assert!(!std::path::Path::new(&pid).exists(), "pid file removed");
    assert_eq!(reals_of("10.0.0.3:80"), None, "cleanstop");
    let l = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        l.contains("Reloading Linux Director Daemon config on signal"),
        "{l}"
    );
    assert!(l.contains("terminated on signal: TERM"), "{l}");

    std::fs::write(&cf, "virtual=10.0.0.3:80\n\treal=bogus\n").unwrap();
    let (_, err, rc) = ld("start");
    assert_eq!(rc, 2, "a broken config exits 2: {err}");
    assert!(err.contains("web.cf:2"), "{err}");
    let _ = std::fs::remove_dir_all(&base);
}

/// T41: connect on a UDP virtual pings (an unreachable real is never added); T29: a second TERM during the cleanup still leaves no partial table.
#[test]
fn t41_connect_on_a_udp_virtual_pings() {
    kernel_test!();
    let _net = ServerNet::new("e");
    let cf = "checkinterval=1\nchecktimeout=1\nvirtual=10.0.0.5:53\n\treal=10.1.0.1:53 masq\n\treal=10.1.0.50:53 masq\n\tprotocol=udp\n\tchecktype=connect\n";
    let d = Daemon::start("e", cf);
    let want = table(&[("10.1.0.1:53", 1)]);
    let start = Instant::now();
    loop {
        let (out, _, _) = sh("ipvsadm -Ln -u 10.0.0.5:53");
        if out.contains("10.1.0.1:53") {
            break;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{want:?} not reached: {out}; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let (out, _, _) = sh("ipvsadm -Ln -u 10.0.0.5:53");
    assert!(!out.contains("10.1.0.50"), "unreachable real added: {out}");

    // T29: a second TERM during the cleanup neither aborts it nor leaves a partial table.
    let mut d = d;
    let pid = d.child.id();
    let (_, err, rc) = sh(&format!("kill -TERM {pid}; kill -TERM {pid}"));
    assert_eq!(rc, 0, "{err}");
    let status = wait_exit(&mut d.child, Duration::from_secs(30));
    assert_eq!(status, Some(0), "log:\n{}", d.log());
    assert_eq!(reals_of("10.0.0.5:53"), None, "log:\n{}", d.log());
}

/// Under systemd: READY=1 once the service is in the kernel, WATCHDOG=1 at WATCHDOG_USEC/2,
/// STOPPING=1 at TERM; log times in the TZ the daemon runs under; the monitorfile gets a line
/// per check result in ldirectord's format.
#[test]
fn systemd_notify_local_time_and_monitorfile() {
    use std::os::unix::net::UnixDatagram;
    kernel_test!();
    let net = ServerNet::new("f");
    let mut a = net.httpd("10.1.0.1:8081");
    let base = format!("/run/lvh-{}-f", std::process::id());
    std::fs::create_dir_all(&base).unwrap();
    let sock = format!("{base}/notify");
    let rx = UnixDatagram::bind(&sock).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let recv = || {
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let monitor = format!("{base}/monitor");
    let cf = config(
        "quiescent=no\n",
        &format!(
            "\treal=10.1.0.1:8081 masq 2\n\treal=10.1.0.2:8082 masq 2\n\tmonitorfile={monitor}\n"
        ),
    );
    let before = std::time::SystemTime::now();
    let d = Daemon::start_env(
        "f",
        &cf,
        &[],
        &[
            ("NOTIFY_SOCKET", &sock),
            ("WATCHDOG_USEC", "1000000"),
            ("TZ", "XYZ-5"),
        ],
    );
    assert_eq!(recv(), "READY=1", "log:\n{}", d.log());
    assert!(
        reals_of("10.0.0.1:80").is_some(),
        "the service exists at READY=1"
    );
    assert_eq!(recv(), "WATCHDOG=1");
    wait_for("10.0.0.1:80", &table(&[("10.1.0.1:8081", 2)]), LIMIT, &d);
    let lines = |state: &str, ip: &str| {
        std::fs::read_to_string(&monitor)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!(" connect tcp {ip} ")) && l.contains(state))
            .count()
    };
    let start = Instant::now();
    while lines("[up] -", "10.1.0.1 8081 2 masq / ") < 2 || lines("[down] ", "10.1.0.2") < 2 {
        assert!(
            start.elapsed() < LIMIT,
            "monitorfile: {:?}",
            std::fs::read_to_string(&monitor)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = std::time::SystemTime::now();

    // `[<ctime>|name|pid] ...` in UTC+5 (POSIX TZ `XYZ-5`).
    let log = d.log();
    let stamp = log.get(1..25).unwrap_or_default().to_owned();
    let five = Duration::from_hours(5);
    let mut t = before - Duration::from_secs(2);
    let mut seen = Vec::new();
    while t <= after + Duration::from_secs(2) {
        seen.push(lvsctl::health::daemon::clock::Tm::utc(t + five).ctime());
        t += Duration::from_secs(1);
    }
    assert!(
        seen.contains(&stamp),
        "log stamp {stamp:?} is not UTC+5: {seen:?}"
    );
    let monitor_text = std::fs::read_to_string(&monitor).unwrap();
    assert!(
        monitor_text
            .lines()
            .all(|l| seen.iter().any(|s| l.starts_with(&format!("[{s}] [")))),
        "{monitor_text}"
    );

    let (_, err, rc) = d.command("stop");
    assert_eq!(rc, 0, "stop: {err}");
    let mut rest = Vec::new();
    while rest.last().map(String::as_str) != Some("STOPPING=1") {
        rest.push(recv());
    }
    assert!(
        rest[..rest.len() - 1].iter().all(|m| m == "WATCHDOG=1"),
        "{rest:?}"
    );
    drop(d);
    kill(&mut a);
    let _ = std::fs::remove_dir_all(&base);
}
