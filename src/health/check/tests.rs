//! Checks against local listeners and scripts on 127.0.0.1; no root, no network.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use super::external::arguments;
use super::{Check, ConnectCheck, ExternalCheck, Outcome, Target, with_deadline};
use crate::health::config::{StaticEnv, VirtualService, parse_config};
use crate::ipvs::model::{AddressFamily, Protocol, ServiceKey};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn target(port: Option<u16>) -> Target {
    Target {
        virtual_key: ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("192.0.2.1"),
            port: 80,
        },
        real_addr: ip("127.0.0.1"),
        real_port: 8080,
        check_port: port,
        route: crate::health::check::Route::default(),
    }
}

/// An executable shell script in a fresh temporary directory.
fn script(name: &str, body: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("lvsctl-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("check");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (path, dir)
}

fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .is_ok_and(|stat| !stat.contains(") Z "))
}

#[tokio::test]
async fn connect_to_a_listener_is_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let check = ConnectCheck::new(Duration::from_secs(2));
    assert_eq!(check.run(&target(Some(port))).await, Outcome::Up);
}

/// What the server side of a finished check sees next: the check resets the connection
/// rather than closing it (no FIN exchange, no TIME_WAIT on the director).
async fn next_read(mut conn: tokio::net::TcpStream) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    let mut buf = [0_u8; 64];
    tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("the check neither closed nor reset the connection")
}

#[tokio::test]
async fn connect_check_resets_its_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let check = ConnectCheck::new(Duration::from_secs(2));
    assert_eq!(check.run(&target(Some(port))).await, Outcome::Up);
    let (conn, _) = listener.accept().await.unwrap();
    let read = next_read(conn).await;
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset)
    );
}

/// A server that answers with a framed response and keeps the connection open: the check
/// decides as soon as the response is complete (not at its deadline) and resets.
#[tokio::test]
async fn http_check_stops_at_the_end_of_a_framed_response_and_resets() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut kinds = Vec::new();
        for response in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nheal\r\n3\r\nthy\r\n0\r\n\r\n",
        ] {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = vec![0_u8; 4096];
            let _ = conn.read(&mut buf).await.unwrap();
            conn.write_all(response).await.unwrap();
            kinds.push(next_read(conn).await.map_err(|e| e.kind()));
        }
        kinds
    });
    let env = StaticEnv::with_common_services();
    let text = format!(
        "virtual=192.0.2.1:80\n    real=127.0.0.1:{port} masq\n    service=http\n    request=\"/\"\n    receive=\"^healthy$\"\n    negotiatetimeout=30\n"
    );
    let v = parse_config("t.cf", &text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0);
    let t = Target::new(&v, &v.reals[0]);
    let check = super::checker_for(&v, &v.reals[0]);
    for _ in 0..2 {
        let started = Instant::now();
        assert_eq!(check.run(&t).await, Outcome::Up);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    let reset = Err(std::io::ErrorKind::ConnectionReset);
    assert_eq!(server.await.unwrap(), vec![reset, reset]);
}

#[tokio::test]
async fn connect_to_a_closed_port_is_down() {
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let check = ConnectCheck::new(Duration::from_secs(2));
    let outcome = check.run(&target(Some(port))).await;
    assert!(
        matches!(&outcome, Outcome::Down(r) if r.contains("connect to 127.0.0.1")),
        "{outcome:?}"
    );
    assert!(matches!(check.run(&target(None)).await, Outcome::Down(_)));
}

/// T44: the deadline resolves a check that never finishes.
#[tokio::test]
async fn the_deadline_is_hard() {
    let start = Instant::now();
    let outcome = with_deadline(Duration::from_millis(50), std::future::pending()).await;
    assert_eq!(outcome, Outcome::Down("timed out after 50 ms".to_owned()));
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// What a check reports leaves the deadline escaped and capped, so no output the daemon
/// writes it to (log, monitor file, status, mail) carries a real server's raw text.
#[tokio::test]
async fn reasons_leave_the_deadline_clean() {
    let limit = Duration::from_secs(1);
    let raw = format!("500 \x1b]0;owned\x07\r\nX: y{}", "z".repeat(2000));
    let down = with_deadline(limit, async { Outcome::Down(raw.clone()) }).await;
    let Outcome::Down(why) = down else {
        panic!("{down:?}")
    };
    assert!(why.starts_with("500 \\x1b]0;owned\\x07\\r\\nX: y"), "{why}");
    assert!(why.len() <= super::reason::MAX_REASON);
    let local = with_deadline(limit, async { Outcome::LocalFault("a\nb".into()) }).await;
    assert_eq!(local, Outcome::LocalFault("a\\nb".into()));
    let up = with_deadline(limit, async { Outcome::Up }).await;
    assert_eq!(up, Outcome::Up);
}

/// T42: external argv is `vip vport rip rport` (brackets for IPv6, mark and 0 for fwmarks).
#[test]
fn external_arguments_follow_ldirectord() {
    assert_eq!(
        arguments(&target(Some(1))),
        ["192.0.2.1", "80", "127.0.0.1", "8080"]
    );
    let v6 = Target {
        virtual_key: ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("2001:db8::1"),
            port: 443,
        },
        real_addr: ip("2001:db8::2"),
        real_port: 0,
        route: crate::health::check::Route::default(),
        check_port: Some(443),
    };
    assert_eq!(
        arguments(&v6),
        ["[2001:db8::1]", "443", "[2001:db8::2]", "0"]
    );
    let mark = Target {
        virtual_key: ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 42,
        },
        ..target(None)
    };
    assert_eq!(arguments(&mark), ["42", "0", "127.0.0.1", "8080"]);
}

/// T42: the script receives exactly `vip vport rip rport`; exit 0 is up, anything else down.
#[tokio::test]
async fn external_exit_status_decides() {
    let (ok, dir) = script("ok", "echo \"$@\" > \"$(dirname \"$0\")/argv\"; exit 0");
    let check = ExternalCheck::new(ok.to_str().unwrap(), Duration::from_secs(5));
    assert_eq!(check.run(&target(None)).await, Outcome::Up);
    let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
    assert_eq!(argv, "192.0.2.1 80 127.0.0.1 8080\n");
    let (fail, dir2) = script("fail", "exit 3");
    let outcome = ExternalCheck::new(fail.to_str().unwrap(), Duration::from_secs(5))
        .run(&target(None))
        .await;
    assert!(
        matches!(&outcome, Outcome::Down(r) if r.contains("exit status: 3")),
        "{outcome:?}"
    );
    let missing = ExternalCheck::new("/nonexistent/check", Duration::from_secs(5))
        .run(&target(None))
        .await;
    assert!(
        matches!(&missing, Outcome::Down(r) if r.contains("cannot run")),
        "{missing:?}"
    );
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_dir_all(dir2).ok();
}

/// T42: a timeout kills the script and its children and counts as down.
#[tokio::test]
async fn external_timeout_kills_the_whole_process_group() {
    let (hang, dir) = script(
        "hang",
        "d=$(dirname \"$0\"); sleep 30 & echo $! > \"$d/child\"; echo $$ > \"$d/self\"; wait",
    );
    let check = ExternalCheck::new(hang.to_str().unwrap(), Duration::from_millis(300));
    let start = Instant::now();
    let outcome = check.run(&target(None)).await;
    assert!(
        matches!(&outcome, Outcome::Down(r) if r.contains("timed out after 300 ms")),
        "{outcome:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let child = std::fs::read_to_string(dir.join("child")).unwrap();
    let me = std::fs::read_to_string(dir.join("self")).unwrap();
    let mut gone = false;
    for _ in 0..50 {
        if !alive(&child) && !alive(&me) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        gone,
        "script {me} or its child {child} survived the timeout"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// Processes (zombies aside) whose process group is `pgid`.
fn group_members(pgid: &str) -> Vec<String> {
    let pgid = pgid.trim();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{name}/stat")).ok()?;
            // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
            let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
            (*fields.first()? != "Z" && *fields.get(2)? == pgid).then_some(name)
        })
        .collect()
}

/// Waits (up to 5 s) until no process of group `pgid` is left; the survivors otherwise.
async fn group_gone(pgid: &str) -> Result<(), Vec<String>> {
    for _ in 0..250 {
        if group_members(pgid).is_empty() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(group_members(pgid))
}

/// Runs `check`, again while the script is still "text file busy": a test thread that
/// forks while another writes a script holds the script open for writing until it execs.
/// Returns the outcome and how long that run took.
async fn run_settled(check: &ExternalCheck) -> (Outcome, Duration) {
    for _ in 0..50 {
        let start = Instant::now();
        match check.run(&target(None)).await {
            Outcome::LocalFault(r) if r.contains("Text file busy") => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return (other, start.elapsed()),
        }
    }
    let start = Instant::now();
    (check.run(&target(None)).await, start.elapsed())
}

/// Whatever way an external check ends (a timeout where the leader dies of SIGTERM but a
/// grandchild ignores it, a clean exit that leaves a child behind, or the check being
/// abandoned by an outer deadline), no process of its group is left afterwards.
#[tokio::test]
async fn external_checks_leave_no_process_of_their_group() {
    let (stubborn, dir) = script(
        "stubborn",
        "d=$(dirname \"$0\"); echo $$ > \"$d/self\"\n\
         sh -c 'trap \"\" TERM; exec sleep 30' &\n\
         wait",
    );
    let check = ExternalCheck::new(stubborn.to_str().unwrap(), Duration::from_millis(300));
    let (outcome, took) = run_settled(&check).await;
    assert!(
        matches!(&outcome, Outcome::Down(r) if r.contains("timed out after 300 ms")),
        "{outcome:?}"
    );
    // The timeout, the grace and the reaping fit the daemon's outer bound (timeout + 1 s).
    assert!(took < Duration::from_millis(1300), "{took:?}");
    let leader = std::fs::read_to_string(dir.join("self")).unwrap();
    assert_eq!(group_gone(&leader).await, Ok(()), "after a timeout");

    let (leaves, dir2) = script(
        "leaves",
        "echo $$ > \"$(dirname \"$0\")/self\"; sleep 30 & exit 0",
    );
    let check = ExternalCheck::new(leaves.to_str().unwrap(), Duration::from_secs(5));
    assert_eq!(run_settled(&check).await.0, Outcome::Up);
    let leader = std::fs::read_to_string(dir2.join("self")).unwrap();
    assert_eq!(group_gone(&leader).await, Ok(()), "after a clean exit");

    let (hangs, dir3) = script(
        "abandoned",
        "echo $$ > \"$(dirname \"$0\")/self\"; sleep 30 & wait",
    );
    let check = ExternalCheck::new(hangs.to_str().unwrap(), Duration::from_secs(10));
    let t = target(None);
    let cut = tokio::time::timeout(Duration::from_millis(300), check.run(&t)).await;
    assert!(cut.is_err());
    let leader = std::fs::read_to_string(dir3.join("self")).unwrap();
    assert_eq!(
        group_gone(&leader).await,
        Ok(()),
        "after the check was abandoned"
    );
    for d in [dir, dir2, dir3] {
        std::fs::remove_dir_all(d).ok();
    }
}

/// T44: a hung check does not delay a concurrent one.
#[tokio::test]
async fn a_hung_check_does_not_delay_another() {
    let (hang, dir) = script("concurrent", "exec sleep 30");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let slow = ExternalCheck::new(hang.to_str().unwrap(), Duration::from_millis(500));
    let fast = ConnectCheck::new(Duration::from_secs(2));
    let start = Instant::now();
    let t = target(Some(port));
    let timed_fast = async {
        let o = fast.run(&t).await;
        (o, start.elapsed())
    };
    let (slow_outcome, (fast_outcome, fast_time)) = tokio::join!(slow.run(&t), timed_fast);
    assert!(matches!(slow_outcome, Outcome::Down(_)));
    assert_eq!(fast_outcome, Outcome::Up);
    assert!(
        fast_time < Duration::from_millis(400),
        "fast check took {fast_time:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn checker_for_maps_check_types() {
    let env = StaticEnv::with_common_services();
    let parse = |extra: &str| {
        let text = format!("virtual=192.0.2.1:80\n    real=127.0.0.1:80 gate\n{extra}");
        parse_config("t.cf", &text, &env)
            .unwrap()
            .0
            .virtuals
            .remove(0)
    };
    let checker_for = |v: &VirtualService| super::checker_for(v, &v.reals[0]);
    let t = target(Some(1));
    assert_eq!(
        checker_for(&parse("    checktype=on\n")).run(&t).await,
        Outcome::Up
    );
    assert_eq!(
        checker_for(&parse("    checktype=off\n")).run(&t).await,
        Outcome::NotChecked
    );
    assert_eq!(
        checker_for(&parse("    service=none\n")).run(&t).await,
        Outcome::Up
    );
    let http = checker_for(&parse("")).run(&t).await;
    assert!(
        matches!(&http, Outcome::Down(r) if r.contains("http://")),
        "{http:?}"
    );
    let v = parse("    checktype=connect\n    checktimeout=7\n");
    assert_eq!(
        format!("{:?}", checker_for(&v)),
        "ConnectCheck { timeout: 7s }"
    );
}

/// A one-shot-per-connection HTTP server: `/old` redirects to `/new`, which answers with
/// the request's Host header in the body.
async fn http_server() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let host = req
                .lines()
                .find_map(|l| l.strip_prefix("Host: "))
                .unwrap_or("")
                .to_owned();
            let resp = if req.starts_with("GET /old ") {
                "HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n".to_owned()
            } else if req.starts_with("GET /new ") {
                let body = format!("hello from {host}");
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
            };
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    port
}

/// T40: 301→200 is up, receive regex on a 2xx body, Host = virtualhost.
#[tokio::test]
async fn t40_http_follows_redirects_matches_receive_and_sends_virtualhost() {
    let port = http_server().await;
    let env = StaticEnv::with_common_services();
    let cf = |extra: &str| {
        let text = format!(
            "virtual=192.0.2.1:80\n    real=127.0.0.1:{port} masq\n    service=http\n    negotiatetimeout=3\n{extra}"
        );
        let v = parse_config("t.cf", &text, &env)
            .unwrap()
            .0
            .virtuals
            .remove(0);
        let t = Target::new(&v, &v.reals[0]);
        (super::checker_for(&v, &v.reals[0]), t)
    };
    let (c, t) = cf(
        "    request=\"new\"\n    receive=\"^hello from www\\.example$\"\n    virtualhost=www.example\n",
    );
    assert_eq!(c.run(&t).await, Outcome::Up);
    // LWP drops the configured Host on a redirect: /new then sees the URL's authority.
    let (c, t) = cf(&format!(
        "    request=\"old\"\n    receive=\"^hello from 127\\.0\\.0\\.1:{port}$\"\n    virtualhost=www.example\n"
    ));
    assert_eq!(c.run(&t).await, Outcome::Up);
    // A per-real request that is a whole URL is fetched from the URL's host (here the
    // same server, while the real's own port 1 is closed); a virtual's is only a path.
    let text = format!(
        "virtual=192.0.2.1:80\n    real=127.0.0.1:1 masq \"http://127.0.0.1:{port}/new\", \"^hello from www\"\n    service=http\n    virtualhost=www.example\n"
    );
    let v = parse_config("t.cf", &text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0);
    let t = Target::new(&v, &v.reals[0]);
    assert_eq!(
        super::checker_for(&v, &v.reals[0]).run(&t).await,
        Outcome::Up
    );
    let (c, t) = cf(&format!("    request=\"http://127.0.0.1:{port}/new\"\n"));
    assert_eq!(
        c.run(&t).await,
        Outcome::Down("HTTP/1.1 404 Not Found".into())
    );
    let (c, t) = cf("    request=\"old\"\n    receive=\"nope\"\n");
    assert!(matches!(c.run(&t).await, Outcome::Down(r) if r.contains("does not match")));
    let (c, t) = cf("    request=\"missing\"\n");
    assert_eq!(
        c.run(&t).await,
        Outcome::Down("HTTP/1.1 404 Not Found".into())
    );
}

/// https against `openssl s_server -www` with a throw-away self-signed certificate
/// (skipped where the openssl tool is missing): unverified TLS, 200 counts as up.
#[tokio::test]
async fn https_accepts_a_self_signed_certificate() {
    let dir = std::env::temp_dir().join(format!("lvh-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("k.pem"), dir.join("c.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-subj",
            "/CN=www.example",
            "-days",
            "1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        eprintln!("openssl not usable: skipped");
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let env = StaticEnv::with_common_services();
    let text = format!(
        "virtual=192.0.2.1:443\n    real=127.0.0.1:{port} masq\n    service=https\n    negotiatetimeout=3\n    virtualhost=www.example\n"
    );
    let v = parse_config("t.cf", &text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0);
    let check = super::checker_for(&v, &v.reals[0]);
    let t = Target::new(&v, &v.reals[0]);
    let mut outcome = Outcome::NotChecked;
    for _ in 0..50 {
        outcome = check.run(&t).await;
        if outcome == Outcome::Up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(outcome, Outcome::Up);
}

#[tokio::test]
async fn negotiate_maps_every_service_to_its_check() {
    let env = StaticEnv::with_common_services();
    let kind = |header: &str, extra: &str| {
        let text = format!("{header}\n    real=127.0.0.1:80 gate\n{extra}");
        let v = parse_config("t.cf", &text, &env)
            .unwrap()
            .0
            .virtuals
            .remove(0);
        let debug = format!("{:?}", super::checker_for(&v, &v.reals[0]));
        debug
            .split([' ', '('])
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let tcp = "virtual=192.0.2.1:80";
    let cases = [
        (tcp, "    service=pops\n", "DialogCheck"),
        (tcp, "    service=imaps\n", "DialogCheck"),
        (tcp, "    service=ldap\n", "LdapCheck"),
        (tcp, "    service=ldaps\n", "LdapCheck"),
        (tcp, "    service=radius\n", "RadiusCheck"),
        (
            tcp,
            "    service=http_proxy\n    request=\"http://a/\"\n",
            "HttpCheck",
        ),
        (
            tcp,
            "    service=mysql\n    login=\"u\"\n    request=\"SELECT 1\"\n",
            "MysqlCheck",
        ),
        (
            tcp,
            "    service=pgsql\n    login=\"u\"\n    request=\"SELECT 1\"\n",
            "PgsqlCheck",
        ),
        (
            tcp,
            "    service=mysql\n    request=\"SELECT 1\"\n",
            "AlwaysDown",
        ),
        (tcp, "    service=pgsql\n    login=\"u\"\n", "AlwaysDown"),
        (
            tcp,
            "    service=oracle\n    login=\"u\"\n    request=\"x\"\n",
            "AlwaysDown",
        ),
        (
            tcp,
            "    service=simpletcp\n    receive=\"ok\"\n",
            "DialogCheck",
        ),
        (
            "virtual=192.0.2.1:7",
            "    protocol=udp\n    service=simpletcp\n    receive=\"ok\"\n",
            "SimpleUdpCheck",
        ),
    ];
    for (header, extra, expected) in cases {
        assert_eq!(kind(header, extra), expected, "{extra}");
    }
    let text = "virtual=192.0.2.1:1521\n    real=127.0.0.1:1521 gate\n";
    let v = parse_config("t.cf", text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0);
    assert_eq!(
        super::checker_for(&v, &v.reals[0])
            .run(&target(Some(1521)))
            .await,
        Outcome::Down(super::ORACLE_UNSUPPORTED.to_owned())
    );
}

#[test]
fn receive_matches_like_perl_dollar_before_a_final_newline() {
    use super::receive_matches;
    let re = |r: &str| regex::Regex::new(r).unwrap();
    assert!(receive_matches(&re("^healthy$"), "healthy\n"));
    assert!(receive_matches(&re("^healthy$"), "healthy"));
    assert!(!receive_matches(&re("^healthy$"), "healthy\n\n"));
    assert!(!receive_matches(&re("^healthy$"), "healthy\r\n"));
    assert!(receive_matches(&re("y\n$"), "healthy\n"));
    assert!(!receive_matches(&re("^sick$"), "healthy\n"));
}
