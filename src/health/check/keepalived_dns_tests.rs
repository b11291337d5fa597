use super::*;
use tokio::net::UdpSocket;

#[test]
fn the_query_is_keepalived_s() {
    let q = query(0x1234, 6, "").unwrap();
    assert_eq!(
        q,
        [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1
        ]
    );
    let tail = |name: &str| query(1, 1, name).unwrap()[12..].to_vec();
    assert_eq!(tail("a.bc"), b"\x01a\x02bc\x00\x00\x01\x00\x01");
    assert_eq!(tail("a.bc."), b"\x01a\x02bc\x00\x00\x01\x00\x01");
    assert_eq!(tail("."), b"\x00\x00\x01\x00\x01");
    assert_eq!(tail("a..b"), b"\x01a\x00\x01b\x00\x00\x01\x00\x01");
    assert_eq!(tail(".a"), b"\x00\x01a\x00\x00\x01\x00\x01");
    assert_eq!(query(1, 1, &"x".repeat(256)), None);
}

#[test]
fn only_a_response_to_the_query_decides_and_its_rcode_is_all_that_counts() {
    let ok = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0];
    assert_eq!(judge(0x1234, &ok), Answer::Pass, "no answers is enough");
    assert_eq!(judge(0x1234, &ok[..7]), Answer::Ignored);
    assert_eq!(judge(0x1235, &ok), Answer::Ignored);
    assert_eq!(
        judge(0x1234, &[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0]),
        Answer::Ignored
    );
    assert_eq!(
        judge(0x1234, &[0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0]),
        Answer::Fail(3)
    );
}

/// A loopback DNS server that first sends a datagram with the wrong id, then answers
/// with `rcode`; it returns the query it got.
async fn server(rcode: u8) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 512];
        let (n, from) = sock.recv_from(&mut buf).await.unwrap();
        let q = buf[..n].to_vec();
        let mut wrong = q.clone();
        wrong[0] ^= 0xff;
        wrong[2] |= 0x80;
        sock.send_to(&wrong, from).await.unwrap();
        let mut answer = q.clone();
        answer[2] |= 0x80;
        answer[3] = (answer[3] & 0xf0) | rcode;
        sock.send_to(&answer, from).await.unwrap();
        q
    });
    (port, task)
}

fn dns() -> KeepalivedDns {
    KeepalivedDns {
        qtype: 1,
        name: "www.example".into(),
        timeout: Duration::from_secs(2),
    }
}

#[tokio::test]
async fn noerror_passes_and_servfail_fails() {
    let (port, server_task) = server(0).await;
    assert_eq!(
        dns().run(&super::super::fake::target_udp(port)).await,
        Outcome::Up
    );
    let q = server_task.await.unwrap();
    assert_eq!(&q[12..], b"\x03www\x07example\x00\x00\x01\x00\x01");
    let (port, _server) = server(2).await;
    assert_eq!(
        dns().run(&super::super::fake::target_udp(port)).await,
        Outcome::Down("read error occurred. (rcode = 2)".into())
    );
}

#[tokio::test]
async fn silence_times_out_within_one_timeout() {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let check = KeepalivedDns {
        timeout: Duration::from_millis(300),
        ..dns()
    };
    let start = std::time::Instant::now();
    assert_eq!(
        check.run(&super::super::fake::target_udp(port)).await,
        Outcome::Down("read timeout from socket".into())
    );
    assert!(start.elapsed() < Duration::from_secs(1));
    drop(sock);
}
