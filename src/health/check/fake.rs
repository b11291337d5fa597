//! Shared pieces of the in-process fake servers the check tests talk to.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{Outcome, Target};
use crate::ipvs::model::{Protocol, ServiceKey};

fn target_with(protocol: Protocol, port: u16) -> Target {
    Target {
        virtual_key: ServiceKey::Addr {
            protocol,
            addr: "192.0.2.1".parse().unwrap(),
            port,
        },
        real_addr: "127.0.0.1".parse().unwrap(),
        real_port: port,
        check_port: Some(port),
        route: crate::health::check::Route::default(),
    }
}

/// A real on 127.0.0.1:`port` of a TCP virtual.
pub fn target(port: u16) -> Target {
    target_with(Protocol::Tcp, port)
}

/// A real on 127.0.0.1:`port` of a UDP virtual.
pub fn target_udp(port: u16) -> Target {
    target_with(Protocol::Udp, port)
}

/// A UDP_CHECK sending `payload`, needing no reply, with a 300 ms timeout.
pub fn udp_check(payload: &[u8]) -> super::KeepalivedUdp {
    super::KeepalivedUdp {
        payload: payload.to_vec(),
        require_reply: false,
        reply: Vec::new(),
        reply_mask: Vec::new(),
        min_reply_length: 0,
        max_reply_length: 255,
        timeout: Duration::from_millis(300),
    }
}

/// A listener on a free loopback port.
pub async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// TLS server side with the throw-away certificate in `testdata/`.
pub fn tls_acceptor() -> TlsAcceptor {
    let cert = CertificateDer::from(include_bytes!("testdata/cert.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("testdata/key.der").to_vec(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Accepts connections and never sends a byte (keeps them open for a minute).
pub async fn silent() -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    port
}

/// Sends `bytes` on every connection, then closes it.
pub async fn garbage(bytes: &'static [u8]) -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.write_all(bytes).await;
            let _ = s.shutdown().await;
        }
    });
    port
}

/// Sends `bytes` on every connection, then keeps it open without a word (a minute).
pub async fn garbage_then_hold(bytes: &'static [u8]) -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let _ = s.write_all(bytes).await;
                tokio::time::sleep(Duration::from_mins(1)).await;
            });
        }
    });
    port
}

/// Asserts the outcome is down with a reason containing `needle`.
#[track_caller]
pub fn assert_down(outcome: &Outcome, needle: &str) {
    assert!(
        matches!(outcome, Outcome::Down(r) if r.contains(needle)),
        "expected down with {needle:?}, got {outcome:?}"
    );
}

/// Runs `fut` and asserts it finished well within `limit` plus scheduling slack.
pub async fn within<F: std::future::Future<Output = Outcome>>(limit: Duration, fut: F) -> Outcome {
    let start = std::time::Instant::now();
    let outcome = fut.await;
    assert!(
        start.elapsed() < limit + Duration::from_millis(1500),
        "took {:?}",
        start.elapsed()
    );
    outcome
}

/// An HTTP server that records `request line | Host` of every request and answers by
/// path from `routes` (`PORT` in a response becomes its port), 404 otherwise.
pub async fn http_recorder(
    routes: &'static [(&'static str, &'static str)],
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (l, port) = listener().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let first = head.lines().next().unwrap_or("").to_owned();
            let host = head
                .lines()
                .find_map(|l| l.strip_prefix("Host: "))
                .unwrap_or("")
                .to_owned();
            let path = first.split(' ').nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(format!("{first} | {host}"));
            let resp = routes.iter().find(|(p, _)| *p == path).map_or(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                |(_, r)| r,
            );
            let _ = s
                .write_all(resp.replace("PORT", &port.to_string()).as_bytes())
                .await;
        }
    });
    (port, seen)
}
