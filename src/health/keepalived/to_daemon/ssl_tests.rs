//! The `SSL` block: which files are read, what is refused, and the certificate really
//! presented in a handshake with a server that asks for one.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::*;
use crate::health::check::{Check, KeepalivedGet, Outcome, Target, keepalived_http};
use crate::health::config::TlsClientCert;
use crate::health::keepalived::tests::{FILE, clean};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/health/check/testdata");

fn testdata(name: &str) -> PathBuf {
    Path::new(TESTDATA).join(name)
}

fn conf(ssl: &str, checker: &str) -> String {
    format!(
        "SSL {{\n{ssl}}}\nvirtual_server 192.0.2.10 443 {{\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    \
         real_server 10.0.0.1 443 {{\n        {checker} {{\n            url {{\n                \
         path /\n            }}\n        }}\n    }}\n}}\n"
    )
}

fn block(cert: &str, key: &str, extra: &str) -> String {
    format!(
        "    certificate {}\n    key {}\n{extra}",
        testdata(cert).display(),
        testdata(key).display()
    )
}

/// `load_ssl` on `text` reading the real files; the paths it read are returned too.
fn load(text: &str) -> (Result<Config, String>, Vec<PathBuf>) {
    let ka = clean(text);
    let mut config = to_daemon(&ka).expect("mapped");
    let read = std::cell::RefCell::new(Vec::new());
    let reader = |p: &Path| -> io::Result<Vec<u8>> {
        read.borrow_mut().push(p.to_owned());
        std::fs::read(p)
    };
    let done = load_ssl(FILE, &ka, &mut config, &reader).map(|()| config);
    (done, read.into_inner())
}

#[track_caller]
fn load_error(text: &str) -> String {
    load(text).0.expect_err("a load error")
}

fn client_cert(config: &Config) -> Option<&TlsClientCert> {
    config.virtuals[0]
        .keepalived_http
        .as_ref()
        .and_then(|k| k.client_cert.as_ref())
}

/// certificate + key: the SSL_GET presents the certificate file's chain with its key;
/// `ca` is read (and must hold a certificate) but verifies nothing.
#[test]
fn the_block_gives_every_ssl_get_its_certificate() {
    let ca = format!("    ca {}\n", testdata("client-ca.pem").display());
    let (config, read) = load(&conf(&block("client.pem", "client.key", &ca), "SSL_GET"));
    let config = config.expect("loaded");
    let cert = client_cert(&config).expect("a client certificate");
    let want = CertificateDer::from_pem_file(testdata("client.pem")).unwrap();
    assert_eq!(cert.chain, vec![want]);
    let key = PrivateKeyDer::from_pem_file(testdata("client.key")).unwrap();
    assert_eq!(cert.key, key);
    assert_eq!(
        read,
        [
            testdata("client.pem"),
            testdata("client.key"),
            testdata("client-ca.pem")
        ]
    );
}

/// keepalived reads the files only for an SSL_GET (`ssl_required`): beside HTTP_GET alone
/// even missing files are fine, and HTTP_GET never gets the certificate.
#[test]
fn without_ssl_get_the_files_are_not_read() {
    let text = conf(&block("missing.pem", "missing.key", ""), "HTTP_GET");
    let (config, read) = load(&text);
    assert!(client_cert(&config.expect("loaded")).is_none());
    assert!(read.is_empty(), "{read:?}");
}

/// A certificate without key (or a key without certificate) loads but presents nothing,
/// as OpenSSL sends its certificate only with the key; the file is still read.
#[test]
fn half_a_pair_presents_nothing() {
    let cert = format!("    certificate {}\n", testdata("client.pem").display());
    let (config, read) = load(&conf(&cert, "SSL_GET"));
    assert!(client_cert(&config.expect("loaded")).is_none());
    assert_eq!(read, [testdata("client.pem")]);
    let key = format!("    key {}\n", testdata("client.key").display());
    assert!(client_cert(&load(&conf(&key, "SSL_GET")).0.expect("loaded")).is_none());
}

/// A `password` beside a key that is not encrypted is never asked for.
#[test]
fn a_password_with_a_plain_key_is_unused() {
    let text = conf(
        &block("client.pem", "client.key", "    password secret\n"),
        "SSL_GET",
    );
    assert!(client_cert(&load(&text).0.expect("loaded")).is_some());
}

/// Each file that does not load is named with its keyword, after the configuration's name.
#[test]
fn files_that_do_not_load_are_named() {
    let missing = testdata("missing.pem");
    let err = load_error(&conf(&block("missing.pem", "client.key", ""), "SSL_GET"));
    assert_eq!(
        err,
        format!(
            "{FILE}: SSL `certificate` {}: cannot read it: No such file or directory (os error 2)",
            missing.display()
        )
    );
    // A key file where a certificate is wanted, and the other way round.
    let err = load_error(&conf(&block("client.key", "client.key", ""), "SSL_GET"));
    assert!(
        err.ends_with("client.key: no PEM certificate in it"),
        "{err}"
    );
    let err = load_error(&conf(&block("client.pem", "client.pem", ""), "SSL_GET"));
    assert!(
        err.ends_with("client.pem: no PEM private key in it"),
        "{err}"
    );
    let ca = format!("    ca {}\n", testdata("client.key").display());
    let err = load_error(&conf(&block("client.pem", "client.key", &ca), "SSL_GET"));
    assert!(err.starts_with(&format!("{FILE}: SSL `ca` ")), "{err}");
    assert!(err.ends_with("no PEM certificate in it"), "{err}");
    // A DER file is not PEM.
    let err = load_error(&conf(&block("cert.der", "client.key", ""), "SSL_GET"));
    assert!(err.contains("SSL `certificate` "), "{err}");
}

/// A key that is not the certificate's is refused at load, as OpenSSL's key load does.
#[test]
fn a_key_of_another_certificate_is_refused() {
    let err = load_error(&conf(&block("client.pem", "other-ca.key", ""), "SSL_GET"));
    assert!(
        err.starts_with(&format!(
            "{FILE}: SSL `key` {}: not usable with the certificate",
            testdata("other-ca.key").display()
        )),
        "{err}"
    );
}

/// An encrypted key is refused, with or without `password`.
#[test]
fn an_encrypted_key_is_refused() {
    let with = conf(
        &block(
            "client.pem",
            "client-encrypted.key",
            "    password secret\n",
        ),
        "SSL_GET",
    );
    let err = load_error(&with);
    assert!(
        err.ends_with("an encrypted key (SSL `password`) is not supported by lvsctl health yet; decrypt it with `openssl pkey`"),
        "{err}"
    );
    let without = conf(&block("client.pem", "client-encrypted.key", ""), "SSL_GET");
    let err = load_error(&without);
    assert!(
        err.ends_with("the key is encrypted and the SSL block has no `password`"),
        "{err}"
    );
}

/// A TLS server (rustls) that requires a client certificate signed by `ca`, and answers
/// 200 once the handshake is done.
async fn serve_requiring(ca: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(testdata(ca)).unwrap())
        .unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .unwrap();
    let cert = CertificateDer::from(std::fs::read(testdata("cert.der")).unwrap());
    let key = PrivateKeyDer::try_from(std::fs::read(testdata("key.der")).unwrap()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut buf = [0u8; 512];
            let _ = tls.read(&mut buf).await;
            let _ = tls.write_all(b"HTTP/1.0 200 OK\r\n\r\nok").await;
            let _ = tls.shutdown().await;
        }
    });
    port
}

fn ssl_get(client: Option<&TlsClientCert>) -> KeepalivedGet {
    KeepalivedGet {
        path: "/".into(),
        protocol: keepalived_http::Protocol::Http10,
        virtualhost: None,
        expect: keepalived_http::Expect {
            status: vec![(200, 299)],
            digest: None,
            regex: None,
        },
        timeout: std::time::Duration::from_secs(2),
        tls: true,
        sni: None,
        client: client
            .map(|c| crate::health::check::tls::client_config(c).map_err(|e| e.to_string())),
    }
}

fn target(port: u16) -> Target {
    Target {
        virtual_key: crate::ipvs::model::ServiceKey::Addr {
            protocol: crate::ipvs::model::Protocol::Tcp,
            addr: "192.0.2.10".parse().unwrap(),
            port: 443,
        },
        real_addr: "127.0.0.1".parse().unwrap(),
        real_port: port,
        check_port: Some(port),
        route: crate::health::check::Route::default(),
    }
}

/// The certificate loaded from the block is the one a server requiring a certificate from
/// its CA accepts; a server trusting another CA, or a check without the block, fails.
#[tokio::test]
async fn the_loaded_certificate_passes_a_server_requiring_one() {
    let (config, _) = load(&conf(&block("client.pem", "client.key", ""), "SSL_GET"));
    let config = config.expect("loaded");
    let cert = client_cert(&config).expect("a client certificate");
    let port = serve_requiring("client-ca.pem").await;
    assert_eq!(ssl_get(Some(cert)).run(&target(port)).await, Outcome::Up);
    assert!(matches!(
        ssl_get(None).run(&target(port)).await,
        Outcome::Down(_)
    ));
    let other = serve_requiring("other-ca.pem").await;
    assert!(matches!(
        ssl_get(Some(cert)).run(&target(other)).await,
        Outcome::Down(_)
    ));
}
