use super::*;
use tokio::net::TcpListener;

async fn serve(reply: &'static [u8]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = vec![0u8; 512];
        let n = s.read(&mut got).await.unwrap();
        got.truncate(n);
        s.write_all(reply).await.unwrap();
        got
    });
    (port, task)
}

fn get(path: &str) -> KeepalivedGet {
    KeepalivedGet {
        path: path.to_owned(),
        protocol: Protocol::Http10,
        virtualhost: None,
        expect: Expect {
            status: vec![(200, 299)],
            digest: None,
            regex: None,
        },
        timeout: Duration::from_secs(2),
        tls: false,
        sni: None,
        client: None,
    }
}

fn target(port: u16) -> Target {
    Target {
        virtual_key: crate::ipvs::model::ServiceKey::Addr {
            protocol: crate::ipvs::model::Protocol::Tcp,
            addr: "192.0.2.1".parse().unwrap(),
            port: 80,
        },
        real_addr: "127.0.0.1".parse().unwrap(),
        real_port: port,
        check_port: Some(port),
        route: crate::health::check::Route::default(),
    }
}

#[tokio::test]
async fn a_2xx_answer_passes_and_a_404_fails() {
    let (port, server) = serve(b"HTTP/1.0 200 OK\r\n\r\nok").await;
    assert_eq!(get("/h").run(&target(port)).await, Outcome::Up);
    let sent = server.await.unwrap();
    assert_eq!(
        sent,
        format!("GET /h HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:{port}\r\n\r\n")
            .into_bytes()
    );
    let (port, _server) = serve(b"HTTP/1.0 404 Not Found\r\n\r\n").await;
    assert_eq!(
        get("/h").run(&target(port)).await,
        Outcome::Down(format!("HTTP status code error 127.0.0.1:{port}"))
    );
}

#[tokio::test]
async fn a_closed_port_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(matches!(
        get("/").run(&target(port)).await,
        Outcome::Down(_)
    ));
}

/// What a TLS test server saw: the SNI and the request.
type Seen = (Option<String>, Vec<u8>);

/// A TLS server (the throw-away certificate) that reads the request, sends `parts` with
/// `gap` between them, then ends as `end` says.
async fn serve_tls(
    parts: &'static [&'static [u8]],
    gap: Duration,
    close_notify: bool,
) -> (u16, tokio::task::JoinHandle<Seen>) {
    let (listener, port) = super::super::fake::listener().await;
    let acceptor = super::super::fake::tls_acceptor();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = acceptor.accept(tcp).await.unwrap();
        let sni = s.get_ref().1.server_name().map(str::to_owned);
        let mut got = vec![0u8; 512];
        let n = s.read(&mut got).await.unwrap();
        got.truncate(n);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(gap).await;
            }
            // A client that timed out has gone: the rest cannot be written.
            if s.write_all(part).await.is_err() || s.flush().await.is_err() {
                break;
            }
        }
        if close_notify {
            // The client may have given up (timed out) and gone already.
            let _ = s.shutdown().await;
        } else {
            // Drop the TCP connection under the TLS session: no close_notify.
            let (tcp, _) = s.into_inner();
            drop(tcp);
        }
        (sni, got)
    });
    (port, task)
}

fn ssl_get(sni: Option<&str>) -> KeepalivedGet {
    KeepalivedGet {
        tls: true,
        sni: sni.map(str::to_owned),
        virtualhost: sni.map(str::to_owned),
        ..get("/health")
    }
}

/// SSL_GET: an unverified certificate is fine, the SNI is the url's `sni` and the request
/// is HTTP_GET's.
#[tokio::test]
async fn ssl_get_sends_the_request_over_unverified_tls_with_its_sni() {
    let (port, server) = serve_tls(&[b"HTTP/1.0 200 OK\r\n\r\nok"], Duration::ZERO, true).await;
    assert_eq!(
        ssl_get(Some("www.example")).run(&target(port)).await,
        Outcome::Up
    );
    let (sni, sent) = server.await.unwrap();
    assert_eq!(sni.as_deref(), Some("www.example"));
    assert_eq!(
        sent,
        b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example\r\n\r\n"
    );
    let (port, server) = serve_tls(&[b"HTTP/1.0 503 No\r\n\r\n"], Duration::ZERO, true).await;
    assert_eq!(
        ssl_get(None).run(&target(port)).await,
        Outcome::Down(format!("HTTP status code error 127.0.0.1:{port}"))
    );
    assert_eq!(server.await.unwrap().0, None, "no SNI without enable_sni");
}

/// ssl_read_thread judges what was read on any SSL error, so a server that drops the
/// connection without close_notify after its answer passes.
#[tokio::test]
async fn ssl_get_judges_a_response_cut_without_close_notify() {
    let (port, _server) = serve_tls(&[b"HTTP/1.0 200 OK\r\n\r\nok"], Duration::ZERO, false).await;
    assert_eq!(ssl_get(None).run(&target(port)).await, Outcome::Up);
}

/// SSL_GET reads the whole response within one connect_timeout from when it became
/// readable (each read gets what is left of the last one's timer); HTTP_GET gives each
/// read its own.
#[tokio::test]
async fn ssl_get_reads_within_one_timeout_http_get_within_one_per_read() {
    const PARTS: &[&[u8]] = &[b"HTTP/1.0 200 OK\r\n\r\n", b"a", b"b"];
    // Two seconds of slack either way: each gap is two seconds under the timeout, the two
    // together two over it (0.3 s of slack failed once on a loaded host, 1 s once at
    // nice 19 beside three busy guests).
    let gap = Duration::from_secs(4);
    let (port, _server) = serve_tls(PARTS, gap, true).await;
    let check = KeepalivedGet {
        timeout: Duration::from_secs(6),
        ..ssl_get(None)
    };
    assert_eq!(
        check.run(&target(port)).await,
        Outcome::Down(format!("Timeout SSL read 127.0.0.1:{port}"))
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = vec![0u8; 512];
        let _ = s.read(&mut got).await.unwrap();
        for (i, part) in PARTS.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(gap).await;
            }
            s.write_all(part).await.unwrap();
        }
    });
    let plain = KeepalivedGet {
        timeout: Duration::from_secs(6),
        ..get("/health")
    };
    assert_eq!(plain.run(&target(port)).await, Outcome::Up);
}

#[test]
fn only_dns_names_without_a_trailing_dot_are_sent_as_sni() {
    assert!(sends_as_sni("www.example"));
    assert!(sends_as_sni("under_score.example"));
    assert!(!sends_as_sni("www.example."));
    assert!(!sends_as_sni("192.0.2.1"));
    assert!(!sends_as_sni("bad name"));
}
