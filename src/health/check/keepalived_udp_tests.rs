use super::*;
use crate::health::check::fake::{target_udp, udp_check};

fn udp() -> KeepalivedUdp {
    udp_check(b"")
}

fn with_reply(reply: &[u8], mask: &[u8]) -> KeepalivedUdp {
    KeepalivedUdp {
        require_reply: true,
        reply: reply.to_vec(),
        reply_mask: mask.to_vec(),
        ..udp()
    }
}

#[test]
fn without_payload_keepalived_sends_its_32_byte_filler() {
    // layer4.c set_buf: "keepalived check - " repeated over UDP_BUFSIZE (32) bytes.
    assert_eq!(udp().datagram(), b"keepalived check - keepalived ch");
    let c = KeepalivedUdp {
        payload: vec![1, 2],
        ..udp()
    };
    assert_eq!(c.datagram(), [1, 2]);
}

#[test]
fn the_receive_buffer_is_one_byte_or_one_past_max_reply_length() {
    // udp_check_thread: max_reply_len + 1 with require_reply, else recv into one char.
    assert_eq!(udp().receive_buffer(), 1);
    assert_eq!(with_reply(&[], &[]).receive_buffer(), 256);
}

#[test]
fn check_udp_reply_compares_the_shorter_of_both_outside_wildcards() {
    let c = with_reply(&[0xab, 0xcd], &[0x0f, 0x00]);
    assert!(
        !c.mismatch(2, &[0xa7, 0xcd]),
        "low nibble of byte 0 is wild"
    );
    assert!(c.mismatch(2, &[0xbb, 0xcd]));
    assert!(c.mismatch(2, &[0xab, 0xce]));
    assert!(
        !c.mismatch(1, &[0xab]),
        "a shorter reply compares its own length"
    );
    assert!(
        !c.mismatch(3, &[0xab, 0xcd, 0xff]),
        "a longer one the string's"
    );
    assert!(!c.mismatch(0, &[]), "an empty reply compares nothing");
}

#[test]
fn check_udp_reply_bounds_the_length_before_any_byte() {
    let c = KeepalivedUdp {
        min_reply_length: 2,
        max_reply_length: 3,
        ..with_reply(&[0xab], &[])
    };
    assert!(c.mismatch(1, &[0xab]));
    assert!(!c.mismatch(2, &[0xab, 0]));
    assert!(!c.mismatch(3, &[0xab, 0, 0]));
    assert!(c.mismatch(4, &[0xab, 0, 0, 0]));
}

#[test]
fn udp_check_thread_verdicts() {
    let plain = udp();
    let bare_reply = KeepalivedUdp {
        require_reply: true,
        min_reply_length: 5,
        ..udp()
    };
    let hex = with_reply(&[0x01], &[]);
    let up = |c: &KeepalivedUdp, e: Event<'_>| c.verdict(&e) == Outcome::Up;
    // udp_socket_state: a read timeout passes unless require_reply is set.
    assert!(up(&plain, Event::Timeout));
    assert!(!up(&bare_reply, Event::Timeout));
    // udp_socket_error: a destination unreachable fails whatever else is set.
    assert!(!up(&plain, Event::Error { unreachable: true }));
    // Another queued error is a success with the buffer's length: only a hex reply fails it.
    assert!(up(&plain, Event::Error { unreachable: false }));
    assert!(up(&bare_reply, Event::Error { unreachable: false }));
    assert!(!up(&hex, Event::Error { unreachable: false }));
    // A datagram: lengths and bytes count only with require_reply's hex string.
    assert!(up(&bare_reply, Event::Received(Ok(b"ab"))));
    assert!(up(&hex, Event::Received(Ok(b"\x01zz"))));
    assert!(!up(&hex, Event::Received(Ok(b"\x02"))));
    assert!(up(&hex, Event::Received(Ok(b""))), "min_reply_length 0");
    assert!(!up(&plain, Event::Received(Err("refused".into()))));
}

/// A loopback server that answers each datagram with `answer`; it returns the first
/// datagram it got.
async fn echo(answer: &'static [u8]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 512];
        let (n, from) = sock.recv_from(&mut buf).await.unwrap();
        sock.send_to(answer, from).await.unwrap();
        buf[..n].to_vec()
    });
    (port, task)
}

#[tokio::test]
async fn an_answering_server_passes_and_gets_the_payload() {
    let (port, server) = echo(b"\x01\x02pong").await;
    assert_eq!(udp().run(&target_udp(port)).await, Outcome::Up);
    assert_eq!(server.await.unwrap(), DEFAULT_PAYLOAD);
    let (port, server) = echo(b"\x01\x02pong").await;
    let c = KeepalivedUdp {
        payload: b"ping".to_vec(),
        ..with_reply(&[0x01, 0x00], &[0x00, 0xff])
    };
    assert_eq!(c.run(&target_udp(port)).await, Outcome::Up);
    assert_eq!(server.await.unwrap(), b"ping");
}

#[tokio::test]
async fn a_reply_that_does_not_match_fails() {
    let (port, _server) = echo(b"\x07").await;
    assert_eq!(
        with_reply(&[0x01], &[]).run(&target_udp(port)).await,
        Outcome::Down("reply data mismatch".into())
    );
    // One byte past max_reply_length: keepalived's buffer is one byte longer for that.
    let (port, _server) = echo(b"\x01\x02\x03").await;
    let c = KeepalivedUdp {
        max_reply_length: 2,
        ..with_reply(&[0x01], &[])
    };
    assert_eq!(
        c.run(&target_udp(port)).await,
        Outcome::Down("reply data mismatch".into())
    );
}

#[tokio::test]
async fn a_silent_server_passes_unless_a_reply_is_required() {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let start = std::time::Instant::now();
    assert_eq!(udp().run(&target_udp(port)).await, Outcome::Up);
    assert!(start.elapsed() >= Duration::from_millis(300));
    let c = KeepalivedUdp {
        require_reply: true,
        ..udp()
    };
    assert_eq!(
        c.run(&target_udp(port)).await,
        Outcome::Down("no reply within connect_timeout".into())
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    drop(sock);
}

#[tokio::test]
async fn a_closed_port_fails_at_once_on_the_kernel_s_port_unreachable() {
    // The loopback answers a datagram to a closed port with ICMP port unreachable, which
    // IP_RECVERR queues on the socket: a failure well before the timeout, also without
    // require_reply.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    drop(sock);
    let c = KeepalivedUdp {
        timeout: Duration::from_secs(5),
        ..udp()
    };
    let start = std::time::Instant::now();
    assert_eq!(
        c.run(&target_udp(port)).await,
        Outcome::Down("ICMP destination unreachable".into())
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn ipv6_reads_icmpv6_unreachable_too() {
    let Ok(sock) = std::net::UdpSocket::bind("[::1]:0") else {
        return; // no IPv6 loopback here
    };
    let port = sock.local_addr().unwrap().port();
    drop(sock);
    let target = Target {
        real_addr: "::1".parse().unwrap(),
        ..target_udp(port)
    };
    let c = KeepalivedUdp {
        timeout: Duration::from_secs(5),
        ..udp()
    };
    assert_eq!(
        c.run(&target).await,
        Outcome::Down("ICMP destination unreachable".into())
    );
}
