//! Check-level items of the spec's acceptance checklist (§7.2) that the per-check tests
//! did not pin down: the SNI an https check sends (T40), HEAD without receive (T40) and a
//! dns check without receive (T43). docs/health-acceptance.md maps every item to its tests.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::fake;
use super::{Outcome, Target, checker_for};
use crate::health::config::{StaticEnv, VirtualService, parse_config};

/// The one virtual of `text`, its check and target.
fn check_of(text: &str) -> (Box<dyn super::Check>, Target) {
    let env = StaticEnv::with_common_services();
    let v: VirtualService = parse_config("t.cf", text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0);
    (checker_for(&v, &v.reals[0]), Target::new(&v, &v.reals[0]))
}

/// A TLS server (the test certificate) that records the SNI of every handshake and
/// answers `200 ok`.
async fn sni_server() -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    let (l, port) = fake::listener().await;
    let acceptor = fake::tls_acceptor();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let Ok(mut tls) = acceptor.accept(s).await else {
                continue;
            };
            let sni = tls.get_ref().1.server_name().map(str::to_owned);
            log.lock().unwrap().push(sni);
            let mut buf = vec![0u8; 4096];
            let _ = tls.read(&mut buf).await;
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
            let _ = tls.shutdown().await;
        }
    });
    (port, seen)
}

/// T40: https sends `virtualhost` as SNI (a deliberate deviation: ldirectord's IP-literal
/// URL sends none), and no SNI without a virtualhost (an IP cannot be a server name).
#[tokio::test]
async fn t40_https_sends_virtualhost_as_sni_and_none_for_a_bare_ip() {
    let (port, seen) = sni_server().await;
    let cf = |extra: &str| {
        format!(
            "virtual=192.0.2.1:443\n    real=127.0.0.1:{port} masq\n    service=https\n    negotiatetimeout=3\n{extra}"
        )
    };
    let (c, t) = check_of(&cf("    virtualhost=www.example\n"));
    assert_eq!(c.run(&t).await, Outcome::Up);
    let (c, t) = check_of(&cf(""));
    assert_eq!(c.run(&t).await, Outcome::Up);
    assert_eq!(
        *seen.lock().unwrap(),
        [Some("www.example".to_owned()), None]
    );
}

/// An HTTP server that records request lines and answers HEAD with headers only (a
/// Content-Length but no body, as HEAD responses are) and `/broken` with 500.
async fn head_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let (l, port) = fake::listener().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let first = head.lines().next().unwrap_or("").to_owned();
            let resp: &[u8] = if first.contains("/broken") {
                b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
            };
            log.lock().unwrap().push(first);
            let _ = s.write_all(resp).await;
            let _ = s.shutdown().await;
        }
    });
    (port, seen)
}

/// T40: httpmethod=HEAD without receive sends HEAD and counts a 2xx (with no body) as up,
/// a 5xx as down.
#[tokio::test]
async fn t40_head_without_receive_is_up_on_2xx() {
    let (port, seen) = head_server().await;
    let cf = |request: &str| {
        format!(
            "virtual=192.0.2.1:80\n    real=127.0.0.1:{port} masq\n    service=http\n    httpmethod=HEAD\n    request=\"{request}\"\n    negotiatetimeout=3\n"
        )
    };
    let (c, t) = check_of(&cf("alive"));
    assert_eq!(c.run(&t).await, Outcome::Up);
    let (c, t) = check_of(&cf("broken"));
    fake::assert_down(&c.run(&t).await, "500 Oops");
    assert_eq!(
        *seen.lock().unwrap(),
        ["HEAD /alive HTTP/1.1", "HEAD /broken HTTP/1.1"]
    );
}

/// T43: a dns check with an empty receive is always down (as ldirectord), without even
/// asking the server.
#[tokio::test]
async fn t43_dns_without_receive_is_down() {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let (c, t) = check_of(&format!(
        "virtual=192.0.2.1:53\n    real=127.0.0.1:{port} masq\n    service=dns\n    request=\"www.example\"\n    negotiatetimeout=2\n"
    ));
    fake::assert_down(&c.run(&t).await, "without receive");
    let mut buf = [0u8; 512];
    let got = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        sock.recv_from(&mut buf),
    )
    .await;
    assert!(got.is_err(), "no query sent");
}
