use super::*;
use crate::health::check::fake;
use tokio::net::{TcpListener, UdpSocket};

fn check(send: Option<&[u8]>, expect: Option<Match>, ms: u64) -> NannyCheck {
    NannyCheck {
        send: send.map(<[u8]>::to_vec),
        expect,
        program: None,
        udp: false,
        timeout: Duration::from_millis(ms),
    }
}

fn contains(t: &str) -> Match {
    Match::Contains(t.as_bytes().to_vec())
}

/// Accepts one connection, checks what was sent, writes `reply` in pieces, then either
/// closes or keeps the connection open.
async fn server(
    expect_request: &'static [u8],
    reply: &'static [&'static [u8]],
    close: bool,
) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = vec![0u8; expect_request.len()];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(got, expect_request);
        for piece in reply {
            s.write_all(piece).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if !close {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    });
    port
}

#[tokio::test]
async fn the_issue_15_check_sends_the_request_and_finds_http_across_reads() {
    // The expected text split over two writes is still found: the reply is matched whole.
    let port = server(
        b"GET / HTTP/1.0\r\n\r\n",
        &[b"HT", b"TP/1.1 200 OK\r\n\r\n"],
        false,
    )
    .await;
    let c = check(
        Some(b"GET / HTTP/1.0\r\n\r\n"),
        Some(contains("HTTP")),
        2000,
    );
    assert_eq!(c.run(&fake::target(port)).await, Outcome::Up);
}

#[tokio::test]
async fn a_reply_without_expect_is_down_when_the_server_closes() {
    let port = server(b"PING\n", &[b"nothing here\n"], true).await;
    let c = check(Some(b"PING\n"), Some(contains("PONG")), 2000);
    fake::assert_down(&c.run(&fake::target(port)).await, "did not hold `expect`");
}

#[tokio::test]
async fn a_reply_that_never_matches_ends_at_the_timeout() {
    let port = server(b"", &[b"busy\n"], false).await;
    let c = check(None, Some(contains("ready")), 300);
    assert_eq!(
        c.run(&fake::target(port)).await,
        Outcome::Down("timed out after 300 ms".into())
    );
}

#[tokio::test]
async fn use_regex_matches_the_reply_and_may_span_lines() {
    let port = server(b"STATUS\r\n", &[b"200 OK\r\nload: 3\r\n"], false).await;
    let re = Regex::new(r"OK\r\nload: [0-9]").unwrap();
    let c = check(Some(b"STATUS\r\n"), Some(Match::Regex(re)), 2000);
    assert_eq!(c.run(&fake::target(port)).await, Outcome::Up);
}

#[tokio::test]
async fn without_expect_connecting_and_sending_is_up_and_a_closed_port_is_down() {
    let port = server(b"hello", &[], false).await;
    assert_eq!(
        check(Some(b"hello"), None, 2000)
            .run(&fake::target(port))
            .await,
        Outcome::Up
    );
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    fake::assert_down(
        &check(None, None, 2000).run(&fake::target(port)).await,
        "refused",
    );
}

#[tokio::test]
async fn an_endless_reply_fails_after_max_reply_bytes() {
    static CHUNK: [u8; 8192] = [b'x'; 8192];
    static REPLY: [&[u8]; 9] = [&CHUNK; 9];
    let port = server(b"", &REPLY, false).await;
    let c = check(None, Some(contains("ready")), 5000);
    fake::assert_down(&c.run(&fake::target(port)).await, "first 65536 bytes");
}

#[tokio::test]
async fn udp_sends_one_datagram_and_needs_a_reply() {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            let reply: &[u8] = if &buf[..n] == b"ping" { b"pong" } else { b"?" };
            let _ = sock.send_to(reply, peer).await;
        }
    });
    let mut c = check(Some(b"ping"), Some(contains("pong")), 2000);
    c.udp = true;
    assert_eq!(c.run(&fake::target_udp(port)).await, Outcome::Up);
    c.send = None;
    // An empty datagram gets `?`: a reply, but not the expected one.
    c.timeout = Duration::from_millis(300);
    fake::assert_down(&c.run(&fake::target_udp(port)).await, "did not hold");
    c.expect = None;
    assert_eq!(c.run(&fake::target_udp(port)).await, Outcome::Up);
}

#[tokio::test]
async fn udp_silence_is_down_at_the_timeout() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut c = check(None, None, 200);
    c.udp = true;
    let t = fake::target_udp(silent.local_addr().unwrap().port());
    assert_eq!(
        c.run(&t).await,
        Outcome::Down("no reply within 200 ms".into())
    );
}

fn program(cmd: &str, expect: Option<Match>, ms: u64) -> NannyCheck {
    NannyCheck {
        program: Some(cmd.to_owned()),
        ..check(Some(b"not sent"), expect, ms)
    }
}

#[tokio::test]
async fn send_program_gets_the_address_for_percent_h_and_its_output_is_matched() {
    let t = fake::target(1);
    let c = program(
        "echo checked %h twice %h",
        Some(contains("checked 127.0.0.1 twice 127.0.0.1")),
        5000,
    );
    assert_eq!(c.run(&t).await, Outcome::Up);
    // With expect, the output decides, not the exit status.
    let c = program("echo ready; exit 3", Some(contains("ready")), 5000);
    assert_eq!(c.run(&t).await, Outcome::Up);
    let c = program("echo busy", Some(contains("ready")), 5000);
    fake::assert_down(&c.run(&t).await, "did not hold `expect`");
}

#[tokio::test]
async fn send_program_without_expect_is_its_exit_status() {
    let t = fake::target(1);
    assert_eq!(program("exit 0", None, 5000).run(&t).await, Outcome::Up);
    fake::assert_down(&program("exit 4", None, 5000).run(&t).await, "exited with");
}

#[tokio::test]
async fn send_program_is_ended_at_the_timeout() {
    let t = fake::target(1);
    let started = std::time::Instant::now();
    let c = program("sleep 30", None, 300);
    fake::assert_down(&c.run(&t).await, "timed out after 300 ms");
    assert!(started.elapsed() < Duration::from_secs(5));
}
