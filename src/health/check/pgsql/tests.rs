//! The pgsql check against an in-process server speaking protocol 3.0 bytes.

use std::num::NonZeroU32;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::scram::{base64_decode, base64_encode};
use super::*;
use crate::health::check::crypto::{hmac_sha256, pbkdf2_sha256, sha256, xor};
use crate::health::check::fake;

const USER: &str = "probe";
const PASSWORD: &str = "pg pass";
/// A password that SASLprep turns into "pg pass" (no-break space, soft hyphen).
const PREPPED: &str = "pg\u{A0}pa\u{AD}ss";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Trust,
    Cleartext,
    Md5,
    Scram,
    /// SCRAM where the server does not really know the password: it accepts any proof and
    /// signs with the wrong key.
    ScramImpostor,
    Gssapi,
}

/// How the fake server answers an SSLRequest (and what its pg_hba.conf allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    /// `N`: no TLS; plain connections are served.
    Off,
    /// `S`, and only TLS sessions are served (`hostssl` lines only).
    Required,
    /// `S`, but TLS sessions are refused before authentication (`hostnossl` lines only).
    Refused,
    /// `S`, then the connection is closed instead of a TLS handshake.
    Broken,
    /// Closes the connection on an SSLRequest without answering.
    Hangup,
    /// Answers an SSLRequest with an ErrorResponse.
    Error,
}

/// What the fake server saw.
#[derive(Debug, Default)]
struct Seen {
    ssl_requests: AtomicUsize,
    tls_sessions: AtomicUsize,
    /// Sessions that reached the query (plain or TLS).
    queries: AtomicUsize,
    /// Passwords received in clear.
    cleartext: AtomicUsize,
}

fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn auth(code: u32, extra: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(extra);
    msg(b'R', &body)
}

fn error(code: &str, text: &str) -> Vec<u8> {
    msg(b'E', format!("SFATAL\0C{code}\0M{text}\0\0").as_bytes())
}

async fn read_frontend<S: AsyncRead + Unpin>(s: &mut S) -> Option<(u8, Vec<u8>)> {
    let tag = s.read_u8().await.ok()?;
    let len = s.read_u32().await.ok()? as usize;
    let mut body = vec![0; len - 4];
    s.read_exact(&mut body).await.ok()?;
    Some((tag, body))
}

fn cstrings(body: &[u8]) -> Vec<String> {
    body.split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Server half of SCRAM-SHA-256; returns false when the client's proof is wrong.
async fn scram_server<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    impostor: bool,
) -> Option<bool> {
    s.write_all(&auth(10, b"SCRAM-SHA-256\0\0")).await.ok()?;
    let (_, body) = read_frontend(s).await?;
    let mechanism_end = body.iter().position(|b| *b == 0)?;
    assert_eq!(&body[..mechanism_end], b"SCRAM-SHA-256");
    let client_first = String::from_utf8(body[mechanism_end + 5..].to_vec()).ok()?;
    let bare = client_first.strip_prefix("n,,")?.to_owned();
    let client_nonce = bare.strip_prefix("n=,r=")?;
    let salt = b"pepper salt";
    let server_first = format!("r={client_nonce}SRVNONCE,s={},i=64", base64_encode(salt));
    s.write_all(&auth(11, server_first.as_bytes())).await.ok()?;
    let (_, body) = read_frontend(s).await?;
    let client_final = String::from_utf8(body).ok()?;
    let (without_proof, proof) = client_final.rsplit_once(",p=")?;
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let salted = pbkdf2_sha256(PASSWORD.as_bytes(), salt, NonZeroU32::new(64)?);
    let stored = sha256(&[&hmac_sha256(&salted, b"Client Key")]);
    let proof: [u8; 32] = base64_decode(proof)?.try_into().ok()?;
    let client_key = xor(&proof, &hmac_sha256(&stored, auth_message.as_bytes()));
    if sha256(&[&client_key]) != stored && !impostor {
        return Some(false);
    }
    let server_key = hmac_sha256(
        &salted,
        if impostor {
            b"Wrong Key!"
        } else {
            b"Server Key"
        },
    );
    let verifier = base64_encode(&hmac_sha256(&server_key, auth_message.as_bytes()));
    s.write_all(&auth(12, format!("v={verifier}").as_bytes()))
        .await
        .ok()?;
    Some(true)
}

/// A StartupMessage's body (or an SSLRequest's code).
async fn read_startup<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let len = s.read_u32().await.ok()? as usize;
    let mut body = vec![0; len.checked_sub(4)?];
    s.read_exact(&mut body).await.ok()?;
    Some(body)
}

const SSL_REQUEST: [u8; 4] = [0x04, 0xd2, 0x16, 0x2f];

async fn session(mut s: TcpStream, method: Method, tls: Tls, seen: Arc<Seen>) -> Option<()> {
    let body = read_startup(&mut s).await?;
    if body != SSL_REQUEST {
        if tls == Tls::Required {
            let text = "no pg_hba.conf entry for host \"127.0.0.1\", user \"probe\", \
                        database \"app\", no encryption";
            s.write_all(&error("28000", text)).await.ok()?;
            return None;
        }
        return serve(s, body, method, &seen).await;
    }
    seen.ssl_requests.fetch_add(1, Ordering::SeqCst);
    match tls {
        Tls::Off => {
            s.write_all(b"N").await.ok()?;
            let body = read_startup(&mut s).await?;
            serve(s, body, method, &seen).await
        }
        Tls::Required | Tls::Refused => {
            s.write_all(b"S").await.ok()?;
            let mut t = fake::tls_acceptor().accept(s).await.ok()?;
            seen.tls_sessions.fetch_add(1, Ordering::SeqCst);
            let body = read_startup(&mut t).await?;
            if tls == Tls::Refused {
                let text = "no pg_hba.conf entry for host \"127.0.0.1\", user \"probe\", \
                            database \"app\", SSL encryption";
                t.write_all(&error("28000", text)).await.ok()?;
                return None;
            }
            serve(t, body, method, &seen).await
        }
        Tls::Broken => {
            s.write_all(b"S").await.ok()?;
            None
        }
        Tls::Hangup => None,
        Tls::Error => {
            s.write_all(&error("53300", "sorry, too many clients already"))
                .await
                .ok()?;
            None
        }
    }
}

/// The session from the StartupMessage `body` on.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    body: Vec<u8>,
    method: Method,
    seen: &Seen,
) -> Option<()> {
    assert_eq!(&body[..4], [0, 3, 0, 0]);
    let params = cstrings(&body[4..]);
    assert_eq!(&params[..4], ["user", USER, "database", "app"]);
    let accepted = match method {
        Method::Trust => true,
        Method::Cleartext => {
            s.write_all(&auth(3, &[])).await.ok()?;
            let (_, body) = read_frontend(&mut s).await?;
            seen.cleartext.fetch_add(1, Ordering::SeqCst);
            cstrings(&body)[0] == PASSWORD
        }
        Method::Md5 => {
            let salt = [7, 7, 7, 7];
            s.write_all(&auth(5, &salt)).await.ok()?;
            let (_, body) = read_frontend(&mut s).await?;
            cstrings(&body)[0] == super::wire::md5_password(USER, PASSWORD, salt)
        }
        Method::Scram | Method::ScramImpostor => {
            scram_server(&mut s, method == Method::ScramImpostor).await?
        }
        Method::Gssapi => {
            s.write_all(&auth(7, &[])).await.ok()?;
            return None;
        }
    };
    if !accepted {
        let text = format!("password authentication failed for user \"{USER}\"");
        s.write_all(&error("28P01", &text)).await.ok()?;
        return None;
    }
    let mut hello = auth(0, &[]);
    hello.extend(msg(b'S', b"server_version\x0015.0\0"));
    hello.extend(msg(b'K', &[0, 0, 0, 1, 0, 0, 0, 2]));
    hello.extend(msg(b'Z', b"I"));
    s.write_all(&hello).await.ok()?;
    let (tag, body) = read_frontend(&mut s).await?;
    assert_eq!(tag, b'Q');
    seen.queries.fetch_add(1, Ordering::SeqCst);
    let sql = cstrings(&body)[0].clone();
    let row_description = msg(
        b'T',
        b"\0\x01ok\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0",
    );
    let mut reply = Vec::new();
    match sql.as_str() {
        "SELECT 1" => {
            reply.extend(&row_description);
            reply.extend(msg(b'D', b"\0\x01\0\0\0\x011"));
            reply.extend(msg(b'C', b"SELECT 1\0"));
        }
        "SELECT 1 WHERE false" => {
            reply.extend(&row_description);
            reply.extend(msg(b'C', b"SELECT 0\0"));
        }
        _ => reply.extend(error("42601", "syntax error")),
    }
    reply.extend(msg(b'Z', b"I"));
    s.write_all(&reply).await.ok()?;
    let (tag, _) = read_frontend(&mut s).await?;
    assert_eq!(tag, b'X');
    Some(())
}

/// A fake server on a free port; what it saw.
async fn server_with(method: Method, tls: Tls) -> (u16, Arc<Seen>) {
    let (l, port) = fake::listener().await;
    let seen = Arc::new(Seen::default());
    let shared = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(session(s, method, tls, shared.clone()));
        }
    });
    (port, seen)
}

/// A server without TLS (answers `N`).
async fn server(method: Method) -> u16 {
    server_with(method, Tls::Off).await.0
}

fn check(password: &str, query: &str) -> PgsqlCheck {
    PgsqlCheck {
        user: USER.into(),
        password: password.into(),
        database: "app".into(),
        query: query.into(),
        timeout: Duration::from_secs(3),
        cleartext_passwords: true,
    }
}

#[tokio::test]
async fn every_password_method_logs_in() {
    for method in [Method::Trust, Method::Cleartext, Method::Md5, Method::Scram] {
        let t = fake::target(server(method).await);
        assert_eq!(
            check(PASSWORD, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{method:?}"
        );
    }
}

/// A server asking for the password in clear gets nothing unless cleartext_passwords=yes,
/// over plain text, inside (unverified) TLS and after a fallback from refused TLS alike; the
/// real is down with the reason.
#[tokio::test]
async fn cleartext_requests_are_refused_unless_allowed() {
    for tls in [Tls::Off, Tls::Required, Tls::Refused] {
        let (port, seen) = server_with(Method::Cleartext, tls).await;
        let t = fake::target(port);
        let refusing = PgsqlCheck {
            cleartext_passwords: false,
            ..check(PASSWORD, "SELECT 1")
        };
        fake::assert_down(&refusing.run(&t).await, NOT_SENT);
        assert_eq!(seen.cleartext.load(Ordering::SeqCst), 0, "{tls:?}");
        assert_eq!(
            check(PASSWORD, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{tls:?}"
        );
        assert_eq!(seen.cleartext.load(Ordering::SeqCst), 1, "{tls:?}");
    }
    // md5 and SCRAM reveal nothing: they log in either way.
    for method in [Method::Md5, Method::Scram] {
        let t = fake::target(server(method).await);
        let refusing = PgsqlCheck {
            cleartext_passwords: false,
            ..check(PASSWORD, "SELECT 1")
        };
        assert_eq!(refusing.run(&t).await, Outcome::Up, "{method:?}");
    }
}

#[tokio::test]
async fn wrong_passwords_are_down() {
    for method in [Method::Cleartext, Method::Md5, Method::Scram] {
        let t = fake::target(server(method).await);
        fake::assert_down(
            &check("guess", "SELECT 1").run(&t).await,
            "FATAL 28P01: password authentication failed for user \"probe\"",
        );
    }
}

/// SCRAM hashes the SASLprepped password: a no-break space is a space and a soft hyphen
/// is nothing, so these spellings of "pg pass" log in. md5 and cleartext send the bytes as
/// they are, as libpq does, so there the same spelling is a wrong password.
#[tokio::test]
async fn scram_passwords_are_saslprepped() {
    let t = fake::target(server(Method::Scram).await);
    for spelled in [
        "pg\u{A0}pass",
        "pg \u{AD}pass",
        "\u{AD}pg\u{2003}pa\u{AD}ss",
    ] {
        assert_eq!(
            check(spelled, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{spelled:?}"
        );
    }
    for method in [Method::Cleartext, Method::Md5] {
        let t = fake::target(server(method).await);
        fake::assert_down(
            &check("pg\u{A0}pass", "SELECT 1").run(&t).await,
            "FATAL 28P01: password authentication failed",
        );
    }
}

#[tokio::test]
async fn a_server_that_does_not_know_the_password_is_down() {
    let t = fake::target(server(Method::ScramImpostor).await);
    fake::assert_down(
        &check("guess", "SELECT 1").run(&t).await,
        "server signature is wrong",
    );
}

#[tokio::test]
async fn rows_errors_and_methods_decide() {
    let t = fake::target(server(Method::Md5).await);
    fake::assert_down(
        &check(PASSWORD, "SELECT 1 WHERE false").run(&t).await,
        "query returned no rows",
    );
    fake::assert_down(
        &check(PASSWORD, "SELEC").run(&t).await,
        "query failed: FATAL 42601: syntax error",
    );
    let t = fake::target(server(Method::Gssapi).await);
    fake::assert_down(
        &check(PASSWORD, "SELECT 1").run(&t).await,
        "authentication method 7 (Kerberos/GSSAPI/SSPI) is not supported",
    );
}

/// TLS preferred: the server answers the SSLRequest with `S` and (hostssl) serves only TLS
/// sessions; startup, every password method and the query all run inside TLS.
#[tokio::test]
async fn tls_is_used_when_the_server_offers_it() {
    for method in [Method::Trust, Method::Cleartext, Method::Md5, Method::Scram] {
        let (port, seen) = server_with(method, Tls::Required).await;
        let t = fake::target(port);
        assert_eq!(
            check(PASSWORD, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{method:?}"
        );
        assert_eq!(seen.ssl_requests.load(Ordering::SeqCst), 1, "{method:?}");
        assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 1, "{method:?}");
        assert_eq!(seen.queries.load(Ordering::SeqCst), 1, "{method:?}");
    }
    // A wrong password over TLS: the server's error (libpq's prefer then retries in plain
    // text, which this hostssl-only server refuses; both reasons are reported).
    let (port, seen) = server_with(Method::Scram, Tls::Required).await;
    let outcome = check("guess", "SELECT 1").run(&fake::target(port)).await;
    fake::assert_down(
        &outcome,
        "over TLS: FATAL 28P01: password authentication failed for user \"probe\"; \
         without TLS: FATAL 28000: no pg_hba.conf entry",
    );
    assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 1);
}

/// `N`: the login goes on in plain text on the same connection.
#[tokio::test]
async fn plain_text_when_the_server_says_n() {
    let (port, seen) = server_with(Method::Scram, Tls::Off).await;
    assert_eq!(
        check(PASSWORD, "SELECT 1").run(&fake::target(port)).await,
        Outcome::Up
    );
    assert_eq!(seen.ssl_requests.load(Ordering::SeqCst), 1);
    assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 0);
    assert_eq!(seen.queries.load(Ordering::SeqCst), 1);
}

/// As libpq's prefer: a failed TLS handshake or a TLS session refused before
/// authentication (hostnossl) is retried once in plain text.
#[tokio::test]
async fn refused_or_broken_tls_falls_back_to_plain_text() {
    for tls in [Tls::Refused, Tls::Broken] {
        let (port, seen) = server_with(Method::Md5, tls).await;
        assert_eq!(
            check(PASSWORD, "SELECT 1").run(&fake::target(port)).await,
            Outcome::Up,
            "{tls:?}"
        );
        assert_eq!(seen.ssl_requests.load(Ordering::SeqCst), 1, "{tls:?}");
        assert_eq!(seen.queries.load(Ordering::SeqCst), 1, "{tls:?}");
    }
}

#[tokio::test]
async fn a_server_that_hangs_up_or_errs_on_the_ssl_request_is_down() {
    let (port, _) = server_with(Method::Trust, Tls::Hangup).await;
    fake::assert_down(
        &check(PASSWORD, "SELECT 1").run(&fake::target(port)).await,
        "connection closed after the SSLRequest",
    );
    let (port, _) = server_with(Method::Trust, Tls::Error).await;
    fake::assert_down(
        &check(PASSWORD, "SELECT 1").run(&fake::target(port)).await,
        "FATAL 53300: sorry, too many clients already",
    );
    let t = fake::target(fake::garbage(b"X").await);
    fake::assert_down(
        &check(PASSWORD, "SELECT 1").run(&t).await,
        "unexpected answer 'X' to the SSLRequest",
    );
}

/// pgsql against a silent server is down by its deadline; garbage is down at once.
#[tokio::test]
async fn silence_and_garbage_are_down_in_time() {
    let t = fake::target(fake::silent().await);
    let mut c = check(PASSWORD, "SELECT 1");
    c.timeout = Duration::from_millis(300);
    let outcome = fake::within(c.timeout, c.run(&t)).await;
    assert_eq!(outcome, Outcome::Down("timed out after 300 ms".into()));
    for junk in [
        &b"HTTP/1.1 400 Bad Request\r\n\r\n"[..],
        b"R\0\0\0\x02",
        b"R\0\0\0\x06\0\0",
        b"R\x7f\xff\xff\xff",
        b"R\0\0\0\x0c\0\0\0\x0b\0\0\0\0",
        b"",
        // The same after a plain `N` to the SSLRequest, so the message parser sees them.
        b"NHTTP/1.1 400 Bad Request\r\n\r\n",
        b"NR\0\0\0\x02",
        b"NR\0\0\0\x06\0\0",
        b"NR\x7f\xff\xff\xff",
        b"NR\0\0\0\x0c\0\0\0\x0b\0\0\0\0",
        b"N",
        b"S\x16\x03\x01\0\x01\0",
    ] {
        let t = fake::target(fake::garbage(junk).await);
        let outcome = check(PASSWORD, "SELECT 1").run(&t).await;
        assert!(matches!(outcome, Outcome::Down(_)), "{junk:?}: {outcome:?}");
    }
}

/// A throw-away PostgreSQL cluster on loopback, started from the server binaries in
/// `LVSCTL_PG_BIN` (default: Debian's PostgreSQL 15). With `ssl`, it has a self-signed
/// certificate made by `openssl`, `ssl=on`, and a pg_hba.conf that serves TCP logins
/// only over TLS (`hostssl`), except user `plain` only without (`hostnossl`). Stopped
/// (SIGINT, fast shutdown) and removed on drop. Run as root, the cluster lives under
/// `TMPDIR`, which the postgres account must be able to enter (e.g. `TMPDIR=/var/tmp`
/// where /tmp is mode 0700).
struct RealPostgres {
    dir: std::path::PathBuf,
    server: std::process::Child,
    port: u16,
}

impl RealPostgres {
    fn start(ssl: bool) -> Self {
        use std::process::Command;
        let bin = std::path::PathBuf::from(
            std::env::var("LVSCTL_PG_BIN").unwrap_or("/usr/lib/postgresql/15/bin".into()),
        );
        let dir = std::env::temp_dir().join(format!(
            "lvsctl-pg-{}{}",
            std::process::id(),
            if ssl { "-ssl" } else { "" }
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pw"), PASSWORD).unwrap();
        // initdb refuses to run as root: drop to the postgres account when we are root.
        let root = rustix::process::geteuid().is_root();
        let as_owner = |program: &str| {
            let mut c = if root {
                let mut c = Command::new("setpriv");
                c.args([
                    "--reuid=postgres",
                    "--regid=postgres",
                    "--clear-groups",
                    "--",
                ]);
                c.arg(bin.join(program));
                c
            } else {
                Command::new(bin.join(program))
            };
            c.stdout(std::process::Stdio::null());
            c
        };
        if ssl {
            let made = Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                ])
                .args(["-subj", "/CN=lvsctl-test", "-keyout"])
                .arg(dir.join("server.key"))
                .arg("-out")
                .arg(dir.join("server.crt"))
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(made.success(), "openssl req failed");
            std::fs::set_permissions(
                dir.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        if root {
            assert!(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&dir)
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let data = dir.join("data");
        let made = as_owner("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", dir.join("pw").display()))
            .status()
            .unwrap();
        assert!(made.success(), "initdb failed");
        let hba = if ssl {
            "local all all trust\n\
             hostnossl all plain 127.0.0.1/32 password\n\
             hostssl all md5user 127.0.0.1/32 md5\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n"
        } else {
            "local all all trust\n\
             host all plain 127.0.0.1/32 password\n\
             host all md5user 127.0.0.1/32 md5\n\
             host all all 127.0.0.1/32 scram-sha-256\n"
        };
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = as_owner("postgres")
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-k")
            .arg(&dir)
            .args(if ssl {
                vec![
                    "-c".to_owned(),
                    "ssl=on".to_owned(),
                    "-c".to_owned(),
                    format!("ssl_cert_file={}", dir.join("server.crt").display()),
                    "-c".to_owned(),
                    format!("ssl_key_file={}", dir.join("server.key").display()),
                ]
            } else {
                Vec::new()
            })
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let me = Self { dir, server, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        me.psql(
            "SET password_encryption = 'md5'; \
             CREATE ROLE md5user LOGIN PASSWORD 'pw5'; \
             CREATE ROLE plain LOGIN PASSWORD 'pwc';",
        );
        // The server SASLpreps a SCRAM password when it stores it: this one is "pg pass".
        me.psql(&format!(
            "SET password_encryption = 'scram-sha-256'; \
             CREATE ROLE prepped LOGIN PASSWORD '{PREPPED}';"
        ));
        me
    }

    fn psql(&self, sql: &str) {
        let ok = std::process::Command::new("psql")
            .args(["-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                "-d",
                "postgres",
                "-qc",
                sql,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "psql {sql}");
    }
}

impl Drop for RealPostgres {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.server.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
        }
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL server binaries (LVSCTL_PG_BIN), psql and openssl; run with --ignored"]
async fn against_a_real_postgresql() {
    for ssl in [false, true] {
        let pg = RealPostgres::start(ssl);
        logins_and_queries(&pg, ssl).await;
    }
}

async fn logins_and_queries(pg: &RealPostgres, ssl: bool) {
    let t = fake::target(pg.port);
    let with = |user: &str, password: &str, query: &str| PgsqlCheck {
        user: user.into(),
        password: password.into(),
        database: "postgres".into(),
        query: query.into(),
        timeout: Duration::from_secs(5),
        cleartext_passwords: true,
    };
    // A row only when this very session is encrypted (or, without ssl, is not).
    let on_tls = format!("SELECT 1 FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl = {ssl}");
    // SCRAM-SHA-256 (the initdb user), md5, and cleartext "password" logins; with ssl,
    // "plain" is hostnossl: the TLS session is refused and the plain retry serves.
    for (user, password) in [(USER, PASSWORD), ("md5user", "pw5"), ("plain", "pwc")] {
        let expect_tls = ssl && user != "plain";
        let query = format!(
            "SELECT 1 FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl = {expect_tls}"
        );
        assert_eq!(
            with(user, password, &query).run(&t).await,
            Outcome::Up,
            "{user} ssl={ssl}"
        );
        fake::assert_down(
            &with(user, "guess", "SELECT 1").run(&t).await,
            "FATAL 28P01: password authentication failed",
        );
    }
    // SASLprep on both sides: the password as stored, and another spelling of it.
    for password in [PREPPED, "pg\u{2003}pa\u{AD}ss"] {
        assert_eq!(
            with("prepped", password, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{password:?} ssl={ssl}"
        );
    }
    fake::assert_down(
        &with(USER, PASSWORD, "SELECT 1 WHERE false").run(&t).await,
        "query returned no rows",
    );
    assert_eq!(with(USER, PASSWORD, &on_tls).run(&t).await, Outcome::Up);
    fake::assert_down(
        &with(USER, PASSWORD, "SELECT * FROM nope").run(&t).await,
        "42P01",
    );
    let mut missing_db = with(USER, PASSWORD, "SELECT 1");
    missing_db.database = "nope".into();
    fake::assert_down(&missing_db.run(&t).await, "3D000");
}
