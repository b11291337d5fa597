//! The mysql check against an in-process server speaking the real packet bytes.

use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, CACHING_SHA2, NATIVE};
use super::*;
use crate::health::check::fake;

const USER: &str = "probe";
const PASSWORD: &str = "my pass";
const SCRAMBLE: [u8; 20] = *b"abcdefghijklmnopqrst";
const OTHER_SCRAMBLE: [u8; 20] = *b"ABCDEFGHIJKLMNOPQRST";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Greets with this plugin and checks its scramble.
    Plugin(&'static str),
    /// Greets with caching_sha2, then switches the client to native with a new scramble.
    SwitchToNative,
    /// caching_sha2 whose cache is empty, on a server without TLS: demands full
    /// authentication.
    FullAuth,
    /// caching_sha2 on a server offering TLS whose cache starts empty: full authentication
    /// (only over TLS) until a login succeeds, the fast path after.
    FullAuthTls,
    /// As `FullAuthTls`, but greets with mysql_native_password and switches the client to
    /// caching_sha2 (an account using caching_sha2 on a server defaulting to native).
    SwitchToSha2Tls,
    /// Greets with caching_sha2, then switches the client to mysql_clear_password.
    ClearPlugin,
    /// Answers the connection with an ERR (host not allowed).
    Refused,
}

impl Mode {
    fn offers_tls(self) -> bool {
        matches!(self, Mode::FullAuthTls | Mode::SwitchToSha2Tls)
    }
}

/// What the fake server saw, shared by its sessions.
#[derive(Debug, Default)]
struct Seen {
    connections: AtomicUsize,
    tls_sessions: AtomicUsize,
    /// caching_sha2's cache holds the account (a full authentication succeeded).
    cached: AtomicBool,
    /// Passwords received in clear.
    cleartext: AtomicUsize,
}

fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    wire::frame(seq, payload)
}

/// A MySQL 8 greeting: all capabilities, but CLIENT_SSL (0x800) only with `tls`.
fn greeting(plugin: &str, tls: bool) -> Vec<u8> {
    let mut p = vec![10];
    p.extend(b"8.0.36-fake\0");
    p.extend([9, 0, 0, 0]);
    p.extend(&SCRAMBLE[..8]);
    p.push(0);
    p.extend([
        0xff,
        if tls { 0xff } else { 0xf7 },
        0xff,
        0x02,
        0x00,
        0xff,
        0xdf,
        21,
    ]);
    p.extend([0; 10]);
    p.extend(&SCRAMBLE[8..]);
    p.push(0);
    p.extend(plugin.as_bytes());
    p.push(0);
    p
}

fn ok() -> Vec<u8> {
    vec![0, 0, 0, 2, 0, 0, 0]
}

fn err(code: u16, state: &str, text: &str) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend(code.to_le_bytes());
    p.push(b'#');
    p.extend(state.as_bytes());
    p.extend(text.as_bytes());
    p
}

async fn read_packet<S: AsyncRead + Unpin>(s: &mut S) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).await.ok()?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    let mut payload = vec![0; len];
    s.read_exact(&mut payload).await.ok()?;
    Some((h[3], payload))
}

fn cstr(buf: &[u8]) -> (&[u8], &[u8]) {
    let end = buf.iter().position(|b| *b == 0).unwrap();
    (&buf[..end], &buf[end + 1..])
}

/// The fields of a HandshakeResponse41: user, auth data, database, plugin.
fn parse_response(p: &[u8]) -> (String, Vec<u8>, String, String) {
    let flags = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
    let (user, rest) = cstr(&p[32..]);
    let n = rest[0] as usize;
    let auth = rest[1..=n].to_vec();
    let mut rest = &rest[1 + n..];
    let mut db = Vec::new();
    if flags & wire::cap::CONNECT_WITH_DB != 0 {
        let (d, r) = cstr(rest);
        db = d.to_vec();
        rest = r;
    }
    let (plugin, _) = cstr(rest);
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    (text(user), auth, text(&db), text(plugin))
}

async fn session(mut s: TcpStream, mode: Mode, seen: Arc<Seen>) -> Option<()> {
    seen.connections.fetch_add(1, Ordering::SeqCst);
    if mode == Mode::Refused {
        let e = err(
            1130,
            "HY000",
            "Host 'x' is not allowed to connect to this MySQL server",
        );
        // The real server sends this ERR as the greeting, without a SQL state marker.
        let mut plain = vec![0xff];
        plain.extend(&e[1..3]);
        plain.extend(&e[9..]);
        s.write_all(&packet(0, &plain)).await.ok()?;
        return None;
    }
    let plugin = match mode {
        Mode::Plugin(p) => p,
        Mode::SwitchToSha2Tls => NATIVE,
        _ => CACHING_SHA2,
    };
    s.write_all(&packet(0, &greeting(plugin, mode.offers_tls())))
        .await
        .ok()?;
    let (seq, first) = read_packet(&mut s).await?;
    assert_eq!(seq, 1);
    let flags = u32::from_le_bytes(first[..4].try_into().ok()?);
    if first.len() == 32 && flags & wire::cap::SSL != 0 {
        // SSLRequest: the rest of the session runs inside TLS.
        assert!(
            mode.offers_tls(),
            "SSLRequest to a server without CLIENT_SSL"
        );
        let tls = fake::tls_acceptor().accept(s).await.ok()?;
        seen.tls_sessions.fetch_add(1, Ordering::SeqCst);
        let mut tls = tls;
        let (seq, response) = read_packet(&mut tls).await?;
        assert_eq!(seq, 2);
        assert_eq!(
            response[..32],
            first[..],
            "response starts like the SSLRequest"
        );
        authenticate(tls, mode, &seen, response, 3, true).await
    } else {
        assert_eq!(
            flags & wire::cap::SSL,
            0,
            "CLIENT_SSL without an SSLRequest"
        );
        authenticate(s, mode, &seen, first, 2, false).await
    }
}

/// The rest of a session after the HandshakeResponse (sequence id `seq` next).
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    mode: Mode,
    seen: &Seen,
    response: Vec<u8>,
    mut seq: u8,
    tls: bool,
) -> Option<()> {
    let (user, auth, db, client_plugin) = parse_response(&response);
    assert_eq!((user.as_str(), db.as_str()), (USER, "app"));
    let accepted = match mode {
        Mode::Plugin(p) => {
            assert_eq!(client_plugin, p);
            auth == wire::auth_data(p, PASSWORD, &SCRAMBLE)?
        }
        Mode::SwitchToNative => {
            let mut switch = vec![0xfe];
            switch.extend(NATIVE.as_bytes());
            switch.push(0);
            switch.extend(OTHER_SCRAMBLE);
            switch.push(0);
            s.write_all(&packet(seq, &switch)).await.ok()?;
            let (got_seq, auth) = read_packet(&mut s).await?;
            assert_eq!(got_seq, seq + 1);
            seq += 2;
            auth == wire::native_scramble(PASSWORD, &OTHER_SCRAMBLE)
        }
        Mode::FullAuth => {
            s.write_all(&packet(seq, &[1, 4])).await.ok()?;
            // A client doing full auth would now send more; ours hangs up.
            let _ = read_packet(&mut s).await;
            return None;
        }
        Mode::FullAuthTls | Mode::SwitchToSha2Tls => {
            let mut scramble = SCRAMBLE;
            let mut auth = auth;
            if mode == Mode::SwitchToSha2Tls {
                assert_eq!(client_plugin, NATIVE);
                let mut switch = vec![0xfe];
                switch.extend(CACHING_SHA2.as_bytes());
                switch.push(0);
                switch.extend(OTHER_SCRAMBLE);
                switch.push(0);
                s.write_all(&packet(seq, &switch)).await.ok()?;
                let (got_seq, data) = read_packet(&mut s).await?;
                assert_eq!(got_seq, seq + 1);
                seq += 2;
                auth = data;
                scramble = OTHER_SCRAMBLE;
            }
            let fast = auth == wire::caching_sha2_scramble(PASSWORD, &scramble);
            if seen.cached.load(Ordering::SeqCst) && fast {
                s.write_all(&packet(seq, &[1, 3])).await.ok()?;
                seq += 1;
                true
            } else {
                s.write_all(&packet(seq, &[1, 4])).await.ok()?;
                if !tls {
                    // The real server would now read an RSA key request; ours hangs up.
                    let _ = read_packet(&mut s).await;
                    return None;
                }
                let (got_seq, answer) = read_packet(&mut s).await?;
                assert_eq!(got_seq, seq + 1);
                seq += 2;
                seen.cleartext.fetch_add(1, Ordering::SeqCst);
                let mut expected = PASSWORD.as_bytes().to_vec();
                expected.push(0);
                let right = answer == expected;
                if right {
                    seen.cached.store(true, Ordering::SeqCst);
                }
                right
            }
        }
        Mode::ClearPlugin => {
            let mut switch = vec![0xfe];
            switch.extend(b"mysql_clear_password\0");
            s.write_all(&packet(seq, &switch)).await.ok()?;
            let (got_seq, answer) = read_packet(&mut s).await?;
            assert_eq!(got_seq, seq + 1);
            seq += 2;
            seen.cleartext.fetch_add(1, Ordering::SeqCst);
            answer == [PASSWORD.as_bytes(), b"\0"].concat()
        }
        Mode::Refused => return None,
    };
    if !accepted {
        let text = format!("Access denied for user '{USER}'@'localhost' (using password: YES)");
        s.write_all(&packet(seq, &err(1045, "28000", &text)))
            .await
            .ok()?;
        return None;
    }
    if matches!(mode, Mode::Plugin(CACHING_SHA2)) {
        s.write_all(&packet(seq, &[1, 3])).await.ok()?;
        seq += 1;
    }
    s.write_all(&packet(seq, &ok())).await.ok()?;
    let (seq, query) = read_packet(&mut s).await?;
    assert_eq!((seq, query[0]), (0, 0x03));
    let sql = String::from_utf8(query[1..].to_vec()).ok()?;
    let column = b"\x03def\0\0\0\x011\0\x0c\x3f\0\x01\0\0\0\x08\x81\0\0\0\0".to_vec();
    let eof = vec![0xfe, 0, 0, 2, 0];
    let replies: Vec<Vec<u8>> = match sql.as_str() {
        "SELECT 1" => vec![vec![1], column, eof.clone(), b"\x011".to_vec(), eof],
        "SELECT 1 FROM DUAL WHERE 0" => vec![vec![1], column, eof.clone(), eof],
        _ => vec![err(1064, "42000", "You have an error in your SQL syntax")],
    };
    for (i, r) in replies.iter().enumerate() {
        s.write_all(&packet(i as u8 + 1, r)).await.ok()?;
    }
    let (seq, quit) = read_packet(&mut s).await?;
    assert_eq!((seq, quit.as_slice()), (0, &[1u8][..]));
    Some(())
}

/// A fake server on a free port; what it saw.
async fn server_seeing(mode: Mode) -> (u16, Arc<Seen>) {
    let (l, port) = fake::listener().await;
    let seen = Arc::new(Seen::default());
    let shared = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(session(s, mode, shared.clone()));
        }
    });
    (port, seen)
}

async fn server(mode: Mode) -> u16 {
    server_seeing(mode).await.0
}

fn check(password: &str, query: &str) -> MysqlCheck {
    MysqlCheck {
        user: USER.into(),
        password: password.into(),
        database: "app".into(),
        query: query.into(),
        timeout: Duration::from_secs(3),
        cleartext_passwords: true,
    }
}

#[tokio::test]
async fn native_caching_sha2_and_auth_switch_log_in() {
    for mode in [
        Mode::Plugin(NATIVE),
        Mode::Plugin(CACHING_SHA2),
        Mode::SwitchToNative,
    ] {
        let t = fake::target(server(mode).await);
        assert_eq!(
            check(PASSWORD, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn wrong_passwords_and_refusals_are_down() {
    for mode in [
        Mode::Plugin(NATIVE),
        Mode::Plugin(CACHING_SHA2),
        Mode::SwitchToNative,
    ] {
        let t = fake::target(server(mode).await);
        fake::assert_down(
            &check("guess", "SELECT 1").run(&t).await,
            "ERROR 1045 (28000): Access denied for user 'probe'@'localhost'",
        );
    }
    let t = fake::target(server(Mode::Refused).await);
    fake::assert_down(
        &check(PASSWORD, "SELECT 1").run(&t).await,
        "ERROR 1130: Host 'x' is not allowed",
    );
}

/// Full authentication on a server without TLS: down, saying why, after one connection.
#[tokio::test]
async fn full_auth_without_tls_is_down_with_the_reason() {
    let (port, seen) = server_seeing(Mode::FullAuth).await;
    fake::assert_down(
        &check(PASSWORD, "SELECT 1").run(&fake::target(port)).await,
        "caching_sha2_password wants full authentication (no cached entry for \"probe\", e.g. \
         after a server restart), which needs TLS or RSA: the server offers no TLS (no \
         CLIENT_SSL) and this check does no RSA key exchange",
    );
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 0);
}

/// Full authentication on a server offering TLS: one plain attempt, one TLS login that
/// sends exactly password + NUL (the fake compares the bytes), then the filled cache lets
/// the next check through on the plain fast path. The same after an auth switch.
#[tokio::test]
async fn full_auth_logs_in_over_tls_then_the_fast_path_serves() {
    for mode in [Mode::FullAuthTls, Mode::SwitchToSha2Tls] {
        let (port, seen) = server_seeing(mode).await;
        let t = fake::target(port);
        assert_eq!(
            check(PASSWORD, "SELECT 1").run(&t).await,
            Outcome::Up,
            "{mode:?}"
        );
        assert_eq!(seen.connections.load(Ordering::SeqCst), 2, "{mode:?}");
        assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 1, "{mode:?}");
        assert!(seen.cached.load(Ordering::SeqCst));
        assert_eq!(check(PASSWORD, "SELECT 1").run(&t).await, Outcome::Up);
        assert_eq!(seen.connections.load(Ordering::SeqCst), 3, "{mode:?}");
        assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 1, "{mode:?}");
    }
}

/// A server asking for the password in clear (caching_sha2's full authentication, over TLS
/// that is never verified, or the mysql_clear_password plugin) gets nothing unless
/// cleartext_passwords=yes: the real is down with the reason, and no TLS session is even
/// opened for it.
#[tokio::test]
async fn cleartext_demands_are_refused_unless_allowed() {
    let refusing = MysqlCheck {
        cleartext_passwords: false,
        ..check(PASSWORD, "SELECT 1")
    };
    for mode in [
        Mode::FullAuthTls,
        Mode::SwitchToSha2Tls,
        Mode::FullAuth,
        Mode::ClearPlugin,
    ] {
        let (port, seen) = server_seeing(mode).await;
        let t = fake::target(port);
        let outcome = refusing.run(&t).await;
        fake::assert_down(&outcome, "server asked for the cleartext password");
        fake::assert_down(&outcome, NOT_SENT);
        assert_eq!(seen.cleartext.load(Ordering::SeqCst), 0, "{mode:?}");
        assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 0, "{mode:?}");
    }
    let (port, seen) = server_seeing(Mode::ClearPlugin).await;
    let t = fake::target(port);
    assert_eq!(check(PASSWORD, "SELECT 1").run(&t).await, Outcome::Up);
    assert_eq!(seen.cleartext.load(Ordering::SeqCst), 1);
    // The fast path reveals nothing: it logs in either way.
    let (port, _) = server_seeing(Mode::Plugin(CACHING_SHA2)).await;
    assert_eq!(refusing.run(&fake::target(port)).await, Outcome::Up);
}

#[tokio::test]
async fn full_auth_with_a_wrong_password_is_down_with_the_server_error() {
    for mode in [Mode::FullAuthTls, Mode::SwitchToSha2Tls] {
        let (port, seen) = server_seeing(mode).await;
        fake::assert_down(
            &check("guess", "SELECT 1").run(&fake::target(port)).await,
            "ERROR 1045 (28000): Access denied for user 'probe'@'localhost'",
        );
        assert_eq!(seen.tls_sessions.load(Ordering::SeqCst), 1, "{mode:?}");
        assert!(!seen.cached.load(Ordering::SeqCst));
    }
}

#[tokio::test]
async fn zero_rows_and_query_errors_are_down() {
    let t = fake::target(server(Mode::Plugin(NATIVE)).await);
    fake::assert_down(
        &check(PASSWORD, "SELECT 1 FROM DUAL WHERE 0").run(&t).await,
        "query returned no rows",
    );
    fake::assert_down(
        &check(PASSWORD, "SELEC").run(&t).await,
        "query failed: ERROR 1064 (42000): You have an error",
    );
}

/// T44: mysql against a silent server is down by its deadline.
#[tokio::test]
async fn silence_and_garbage_are_down_in_time() {
    let t = fake::target(fake::silent().await);
    let mut c = check(PASSWORD, "SELECT 1");
    c.timeout = Duration::from_millis(300);
    let outcome = fake::within(c.timeout, c.run(&t)).await;
    assert_eq!(outcome, Outcome::Down("timed out after 300 ms".into()));
    for junk in [
        &b"HTTP/1.1 400 Bad Request\r\n\r\n"[..],
        b"\x01\0\0\0\x0a",
        b"\x05\0\0\0\x0a8.0\0",
        b"\xff\xff\xff\0",
        b"",
    ] {
        let t = fake::target(fake::garbage(junk).await);
        let outcome = check(PASSWORD, "SELECT 1").run(&t).await;
        assert!(matches!(outcome, Outcome::Down(_)), "{junk:?}: {outcome:?}");
    }
}

/// Manual interoperability check against a real MySQL or MariaDB server at
/// `LVSCTL_INTEROP_MYSQL` (host:port) holding, e.g. from an `--init-file`:
/// `CREATE DATABASE app; CREATE TABLE app.t (x INT); INSERT INTO app.t VALUES (1);`
/// `CREATE USER 'probe'@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT ALL ON app.* TO 'probe'@'127.0.0.1';`
#[tokio::test]
#[ignore = "needs a running MySQL/MariaDB (LVSCTL_INTEROP_MYSQL)"]
async fn against_a_real_server() {
    let addr: std::net::SocketAddr = std::env::var("LVSCTL_INTEROP_MYSQL")
        .unwrap()
        .parse()
        .unwrap();
    let t = fake::target(addr.port());
    let with = |password: &str, database: &str, query: &str| MysqlCheck {
        user: "probe".into(),
        password: password.into(),
        database: database.into(),
        query: query.into(),
        timeout: Duration::from_secs(5),
        cleartext_passwords: true,
    };
    assert_eq!(
        with("pw", "app", "SELECT x FROM t").run(&t).await,
        Outcome::Up
    );
    assert_eq!(with("pw", "", "SELECT 1").run(&t).await, Outcome::Up);
    fake::assert_down(
        &with("guess", "app", "SELECT 1").run(&t).await,
        "ERROR 1045 (28000): Access denied",
    );
    fake::assert_down(
        &with("pw", "app", "SELECT x FROM t WHERE x = 2")
            .run(&t)
            .await,
        "query returned no rows",
    );
    fake::assert_down(
        &with("pw", "app", "SELECT * FROM nope").run(&t).await,
        "ERROR 1146 (42S02)",
    );
    fake::assert_down(&with("pw", "nodb", "SELECT 1").run(&t).await, "ERROR 1044");
}
