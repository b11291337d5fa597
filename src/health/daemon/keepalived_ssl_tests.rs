//! SSL_GET run by the whole daemon on the FakeBackend against a loopback HTTPS server.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Run, VIP};

/// A loopback HTTPS server (the check tests' throw-away certificate) whose body is
/// `status: alive` while `ok` is set, else `status: dead`; it records each SNI it gets.
fn tls_web_server(ok: Arc<std::sync::atomic::AtomicBool>, sni: Arc<Mutex<Vec<String>>>) -> u16 {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::io::{Read, Write};
    let cert = CertificateDer::from(include_bytes!("../check/testdata/cert.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("../check/testdata/key.der").to_vec(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, s);
            let mut req = [0u8; 512];
            if tls.read(&mut req).is_err() {
                continue;
            }
            if let Some(name) = tls.conn.server_name() {
                sni.lock().unwrap().push(name.to_owned());
            }
            let reply: &[u8] = if ok.load(std::sync::atomic::Ordering::SeqCst) {
                b"HTTP/1.0 200 OK\r\n\r\nstatus: alive"
            } else {
                b"HTTP/1.0 200 OK\r\n\r\nstatus: dead"
            };
            let _ = tls.write_all(reply);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    port
}

/// SSL_GET with a literal regex and enable_sni: the real is out when the body stops
/// matching (status 200 throughout), with the url's virtualhost as SNI, and back, as for
/// HTTP_GET, at the second pass.
#[test]
fn an_ssl_get_real_follows_its_regex_over_unverified_tls() {
    let ok = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sni = Arc::new(Mutex::new(Vec::new()));
    let port = tls_web_server(ok.clone(), sni.clone());
    let text = format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        SSL_GET {{
            url {{
                path /health
                virtualhost www.example
                regex alive
            }}
            enable_sni
            connect_timeout 1
            retry 1
            delay_before_retry 0.3
        }}
    }}
}}
"
    );
    let run = Run::start("ssl", &text);
    run.wait("real in service from the start", &[(port, 2)]);
    ok.store(false, std::sync::atomic::Ordering::SeqCst);
    run.wait("no match: real removed", &[]);
    ok.store(true, std::sync::atomic::Ordering::SeqCst);
    let took = run.wait("match again: real restored", &[(port, 2)]);
    assert!(took >= Duration::from_millis(950), "back after {took:?}");
    run.stop();
    let names = sni.lock().unwrap().clone();
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n == "www.example"), "{names:?}");
}
