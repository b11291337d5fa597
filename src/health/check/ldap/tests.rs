//! The LDAP check against an in-process directory speaking real LDAPv3 bytes.

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::ber::{self, tag};
use super::*;
use crate::health::check::fake;

/// What the fake directory holds: one bindable user and the entries a base search finds.
#[derive(Debug, Clone)]
struct Directory {
    user: (&'static str, &'static str),
    entries: &'static [&'static str],
}

fn result(id: i64, op: u8, code: i64, text: &str) -> Vec<u8> {
    let body = ber::constructed(
        op,
        &[
            &ber::integer(tag::ENUMERATED, code),
            &ber::encode(tag::OCTET_STRING, b""),
            &ber::encode(tag::OCTET_STRING, text.as_bytes()),
        ],
    );
    ber::constructed(tag::SEQUENCE, &[&ber::integer(tag::INTEGER, id), &body])
}

fn entry(id: i64, dn: &str) -> Vec<u8> {
    let attrs = ber::constructed(tag::SEQUENCE, &[]);
    let body = ber::constructed(
        0x64,
        &[&ber::encode(tag::OCTET_STRING, dn.as_bytes()), &attrs],
    );
    ber::constructed(tag::SEQUENCE, &[&ber::integer(tag::INTEGER, id), &body])
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, dir: Directory) {
    let mut buf = Vec::new();
    loop {
        while let Ok(Some(len)) = ber::element_len(&buf)
            && buf.len() >= len
        {
            let msg: Vec<u8> = buf.drain(..len).collect();
            let parts = ber::read_one(&msg).unwrap().children().unwrap();
            let id = parts[0].integer().unwrap();
            let op = parts[1];
            let fields = op.children().unwrap_or_default();
            let reply = match op.tag {
                0x60 => {
                    let name = fields[1].text();
                    let pass = fields[2].text();
                    let anonymous = name.is_empty() && pass.is_empty();
                    if anonymous || (name == dir.user.0 && pass == dir.user.1) {
                        result(id, 0x61, 0, "")
                    } else {
                        result(id, 0x61, 49, "bad password")
                    }
                }
                0x63 => {
                    let base = fields[0].text();
                    assert_eq!(fields[1].integer().unwrap(), 0, "scope must be base");
                    assert_eq!(fields[6].tag, 0x87);
                    assert_eq!(fields[6].content, b"objectClass");
                    let mut out = Vec::new();
                    for dn in dir.entries {
                        out.extend(entry(id, dn));
                    }
                    let code = if dir.entries.is_empty() { 32 } else { 0 };
                    let text = format!("base {base:?}");
                    out.extend(result(id, 0x65, code, &text));
                    out
                }
                _ => return,
            };
            if s.write_all(&reply).await.is_err() {
                return;
            }
        }
        let mut chunk = [0u8; 1024];
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn directory(dir: Directory, tls: bool) -> u16 {
    let (l, port) = fake::listener().await;
    let acceptor = Arc::new(fake::tls_acceptor());
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let dir = dir.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if tls {
                    if let Ok(s) = acceptor.accept(s).await {
                        serve(s, dir).await;
                    }
                } else {
                    serve(s, dir).await;
                }
            });
        }
    });
    port
}

fn check(tls: bool, bind: Option<(&str, &str)>, base: &str, receive: Option<&str>) -> LdapCheck {
    LdapCheck {
        tls,
        bind: bind.map(|(n, p)| (n.to_owned(), p.to_owned())),
        base: base.to_owned(),
        receive: receive.map(|r| Regex::new(r).unwrap()),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
    }
}

const EXAMPLE: Directory = Directory {
    user: ("cn=admin,dc=example", "s3cret"),
    entries: &["dc=example"],
};

#[tokio::test]
async fn bind_search_and_receive_decide() {
    for tls in [false, true] {
        let t = fake::target(directory(EXAMPLE, tls).await);
        let admin = Some(("cn=admin,dc=example", "s3cret"));
        assert_eq!(check(tls, None, "", None).run(&t).await, Outcome::Up);
        assert_eq!(
            check(tls, admin, "dc=example", Some("^dc=example$"))
                .run(&t)
                .await,
            Outcome::Up
        );
        let wrong = Some(("cn=admin,dc=example", "guess"));
        fake::assert_down(
            &check(tls, wrong, "dc=example", None).run(&t).await,
            "bind failed: invalidCredentials (49): bad password",
        );
        fake::assert_down(
            &check(tls, admin, "dc=example", Some("^ou=people"))
                .run(&t)
                .await,
            "entry DN \"dc=example\" does not match receive",
        );
    }
}

#[tokio::test]
async fn zero_or_two_entries_are_down() {
    let none = Directory {
        entries: &[],
        ..EXAMPLE
    };
    let t = fake::target(directory(none, false).await);
    fake::assert_down(
        &check(false, None, "dc=gone", None).run(&t).await,
        "search of \"dc=gone\" failed: noSuchObject (32): base \"dc=gone\"",
    );
    let two = Directory {
        entries: &["dc=a", "dc=b"],
        ..EXAMPLE
    };
    let t = fake::target(directory(two, false).await);
    fake::assert_down(
        &check(false, None, "", None).run(&t).await,
        "search returned 2 entries, expected exactly 1",
    );
}

/// T44: ldap against a silent server is down by its deadline.
#[tokio::test]
async fn a_silent_server_is_down_by_the_deadline() {
    let t = fake::target(fake::silent().await);
    let mut c = check(false, None, "", None);
    c.timeout = Duration::from_millis(300);
    let outcome = fake::within(c.timeout, c.run(&t)).await;
    assert_eq!(outcome, Outcome::Down("timed out after 300 ms".into()));
    // ldaps against a server that never starts the TLS handshake.
    c.tls = true;
    let outcome = fake::within(c.timeout, c.run(&t)).await;
    assert_eq!(outcome, Outcome::Down("timed out after 300 ms".into()));
}

#[tokio::test]
async fn garbage_replies_are_down() {
    for junk in [
        &b"HTTP/1.1 400 Bad Request\r\n\r\n"[..],
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x80\x00\x00",
        b"\x30\x03\x02\x01\x01",
        b"\x30\x05\x02\x01\x07\x61\x00",
        b"",
    ] {
        let t = fake::target(fake::garbage(junk).await);
        let outcome = check(false, None, "", None).run(&t).await;
        assert!(matches!(outcome, Outcome::Down(_)), "{junk:?}: {outcome:?}");
    }
}

/// Manual interoperability check against a real OpenLDAP `slapd` holding `dc=example`
/// with rootdn `cn=admin,dc=example` / `secret`, for example (slapd.conf):
/// `database mdb`, `suffix "dc=example"`, `rootdn "cn=admin,dc=example"`, `rootpw secret`,
/// started with `slapd -h "ldap://127.0.0.1:13389/ ldaps://127.0.0.1:13636/"` and TLS
/// certificate lines. Set `LVSCTL_INTEROP_LDAP=127.0.0.1:13389` and
/// `LVSCTL_INTEROP_LDAPS=127.0.0.1:13636`.
#[tokio::test]
#[ignore = "needs a running slapd (LVSCTL_INTEROP_LDAP, LVSCTL_INTEROP_LDAPS)"]
async fn against_a_real_slapd() {
    for (var, tls) in [
        ("LVSCTL_INTEROP_LDAP", false),
        ("LVSCTL_INTEROP_LDAPS", true),
    ] {
        let addr: std::net::SocketAddr = std::env::var(var).unwrap().parse().unwrap();
        let t = fake::target(addr.port());
        let admin = Some(("cn=admin,dc=example", "secret"));
        assert_eq!(check(tls, None, "", None).run(&t).await, Outcome::Up);
        assert_eq!(
            check(tls, admin, "dc=example", Some("^dc=example$"))
                .run(&t)
                .await,
            Outcome::Up
        );
        assert_eq!(
            check(tls, None, "dc=example", None).run(&t).await,
            Outcome::Up
        );
        fake::assert_down(
            &check(
                tls,
                Some(("cn=admin,dc=example", "guess")),
                "dc=example",
                None,
            )
            .run(&t)
            .await,
            "invalidCredentials (49)",
        );
        fake::assert_down(
            &check(tls, admin, "dc=nope,dc=example", None).run(&t).await,
            "noSuchObject (32)",
        );
        fake::assert_down(
            &check(tls, admin, "dc=example", Some("^ou=")).run(&t).await,
            "does not match receive",
        );
    }
}

proptest::proptest! {
    /// Any bytes, and any bytes inside a well-formed message envelope: the framing and the
    /// message parser never panic, a frame never claims more than the element cap, and
    /// what a parsed message holds comes from the input (at most 3 bytes of text per
    /// input byte, lossy UTF-8's worst case).
    #[test]
    fn any_bytes_parse_within_their_bounds(
        raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        op in proptest::prelude::any::<u8>(),
    ) {
        if let Ok(Some(len)) = ber::element_len(&raw) {
            proptest::prop_assert!(len <= ber::MAX_ELEMENT + 10);
        }
        let wrapped = ber::constructed(
            tag::SEQUENCE,
            &[&ber::integer(tag::INTEGER, 1), &ber::encode(op, &raw)],
        );
        for bytes in [&raw[..], &wrapped[..]] {
            if let Ok(message) = message::parse(bytes) {
                let text = match &message.response {
                    message::Response::Entry(dn) => dn.len(),
                    message::Response::Bind(r)
                    | message::Response::SearchDone(r)
                    | message::Response::Extended(r) => r.diagnostic.len(),
                    _ => 0,
                };
                proptest::prop_assert!(text <= 3 * bytes.len());
            }
            // Walk every element breadth-first without recursion.
            let mut queue = vec![bytes];
            let mut seen = 0;
            while let Some(b) = queue.pop() {
                seen += 1;
                proptest::prop_assert!(seen <= 2 * bytes.len() + 2);
                if let Ok(e) = ber::read_one(b) {
                    let _ = e.integer();
                    if let Ok(kids) = e.children() {
                        queue.extend(kids.iter().map(|k| k.content));
                    }
                }
            }
        }
    }
}
