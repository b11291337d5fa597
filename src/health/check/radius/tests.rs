//! The RADIUS check against an in-process server that decodes the real request bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use md5::{Digest, Md5};

use super::wire::{self, attr, code};
use super::*;
use crate::health::check::fake;
use tokio::net::UdpSocket;

const USER: &str = "probe";
const PASSWORD: &str = "correct horse";

/// How the fake server behaves.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// A proper server with this secret.
    Server(&'static str),
    /// Drops the first `n` requests, then serves with the secret "s3cret".
    DropFirst(usize),
    /// Answers every request with these bytes.
    Garbage(&'static [u8]),
    /// Serves with the secret "s3cret" and signs its replies with a Message-Authenticator
    /// (as FreeRADIUS 3.2.5+); `forged`: a wrong one under a right Response Authenticator.
    Signed { forged: bool },
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The server's side of RFC 2865: check the Message-Authenticator, recover the password,
/// answer Accept or Reject with a proper Response Authenticator.
fn answer(request: &[u8], secret: &[u8]) -> Vec<u8> {
    answer_signed(request, secret, None)
}

/// [`answer`], with a Message-Authenticator in the reply when `signed` says so: `Some(true)`
/// makes it wrong by one bit.
fn answer_signed(request: &[u8], secret: &[u8], signed: Option<bool>) -> Vec<u8> {
    assert_eq!(request[0], code::ACCESS_REQUEST);
    let id = request[1];
    let auth: [u8; 16] = request[4..20].try_into().unwrap();
    let (mut user, mut password, mut nas, mut mac_ok) = (None, None, None, false);
    let mut at = 20;
    while at < request.len() {
        let (kind, len) = (request[at], request[at + 1] as usize);
        let value = &request[at + 2..at + len];
        match kind {
            attr::USER_NAME => user = Some(String::from_utf8(value.to_vec()).unwrap()),
            attr::USER_PASSWORD => {
                let mut plain = Vec::new();
                let mut previous = auth.to_vec();
                for block in value.chunks(16) {
                    let pad = md5(&[secret, &previous]);
                    plain.extend(block.iter().zip(pad).map(|(c, k)| c ^ k));
                    previous = block.to_vec();
                }
                while plain.last() == Some(&0) {
                    plain.pop();
                }
                password = Some(String::from_utf8_lossy(&plain).into_owned());
            }
            attr::NAS_IP_ADDRESS => nas = Some(value.to_vec()),
            attr::MESSAGE_AUTHENTICATOR => {
                let mut zeroed = request.to_vec();
                zeroed[at + 2..at + len].fill(0);
                mac_ok = wire::hmac_md5(secret, &zeroed).unwrap() == value;
            }
            _ => {}
        }
        at += len;
    }
    assert_eq!(nas.as_deref(), Some(&[127, 0, 0, 1][..]));
    let accept = mac_ok && user.as_deref() == Some(USER) && password.as_deref() == Some(PASSWORD);
    let mut reply = vec![0, id, 0, 0];
    reply.extend_from_slice(&auth);
    if accept {
        reply[0] = code::ACCESS_ACCEPT;
    } else {
        reply[0] = code::ACCESS_REJECT;
        reply.extend_from_slice(&[attr::REPLY_MESSAGE, 2 + 14]);
        reply.extend_from_slice(b"wrong password");
    }
    let mac_at = reply.len() + 2;
    if signed.is_some() {
        reply.extend_from_slice(&[attr::MESSAGE_AUTHENTICATOR, 18]);
        reply.extend_from_slice(&[0; 16]);
    }
    let len = reply.len() as u16;
    reply[2..4].copy_from_slice(&len.to_be_bytes());
    if let Some(forged) = signed {
        // RFC 3579 §3.2: over the reply with the Request Authenticator in its header.
        let mut mac = wire::hmac_md5(secret, &reply).unwrap();
        if forged {
            mac[0] ^= 1;
        }
        reply[mac_at..mac_at + 16].copy_from_slice(&mac);
    }
    let response_auth = md5(&[&reply[..4], &auth, &reply[20..], secret]);
    reply[4..20].copy_from_slice(&response_auth);
    reply
}

/// Starts the server; returns its port and a counter of requests received.
async fn server(mode: Mode) -> (u16, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            let nth = counter.fetch_add(1, Ordering::SeqCst);
            let reply = match mode {
                Mode::Server(secret) => answer(&buf[..n], secret.as_bytes()),
                Mode::DropFirst(k) if nth < k => continue,
                Mode::DropFirst(_) => answer(&buf[..n], b"s3cret"),
                Mode::Garbage(bytes) => bytes.to_vec(),
                Mode::Signed { forged } => answer_signed(&buf[..n], b"s3cret", Some(forged)),
            };
            let _ = sock.send_to(&reply, peer).await;
        }
    });
    (port, seen)
}

fn check(passwd: &str, timeout_ms: u64) -> RadiusCheck {
    RadiusCheck {
        login: USER.into(),
        passwd: passwd.into(),
        secret: "s3cret".into(),
        timeout: Duration::from_millis(timeout_ms),
    }
}

#[tokio::test]
async fn accept_is_up_reject_is_down() {
    let (port, _) = server(Mode::Server("s3cret")).await;
    // The virtual is TCP; RADIUS still goes over UDP.
    let t = fake::target(port);
    assert_eq!(check(PASSWORD, 2000).run(&t).await, Outcome::Up);
    assert_eq!(
        check("guess", 2000).run(&t).await,
        Outcome::Down("Access-Reject: wrong password".into())
    );
}

#[tokio::test]
async fn a_server_with_another_secret_is_not_believed() {
    let (port, _) = server(Mode::Server("other")).await;
    let outcome = fake::within(
        Duration::from_millis(600),
        check(PASSWORD, 600).run(&fake::target(port)),
    )
    .await;
    fake::assert_down(&outcome, "ignored a reply: reply authenticator is wrong");
}

/// A reply whose Response Authenticator is right but whose Message-Authenticator is not
/// (someone who could not sign it edited the packet) is ignored, even an Access-Accept.
#[tokio::test]
async fn a_reply_with_a_wrong_message_authenticator_is_not_believed() {
    let (port, _) = server(Mode::Signed { forged: false }).await;
    assert_eq!(
        check(PASSWORD, 2000).run(&fake::target(port)).await,
        Outcome::Up
    );
    let (port, seen) = server(Mode::Signed { forged: true }).await;
    let outcome = fake::within(
        Duration::from_millis(600),
        check(PASSWORD, 600).run(&fake::target(port)),
    )
    .await;
    fake::assert_down(
        &outcome,
        "ignored a reply: reply Message-Authenticator is wrong",
    );
    assert!(seen.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn a_lost_request_is_sent_again() {
    let (port, seen) = server(Mode::DropFirst(1)).await;
    assert_eq!(
        check(PASSWORD, 3000).run(&fake::target(port)).await,
        Outcome::Up
    );
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn silence_and_garbage_are_down_by_the_deadline() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let t = fake::target(silent.local_addr().unwrap().port());
    let outcome = fake::within(Duration::from_millis(300), check(PASSWORD, 300).run(&t)).await;
    assert!(
        matches!(&outcome, Outcome::Down(r) if r.ends_with("no reply within 300 ms")),
        "{outcome:?}"
    );
    for junk in [&b"\x02"[..], &[2u8; 20][..], &[0xffu8; 4096][..]] {
        let (port, _) = server(Mode::Garbage(junk)).await;
        let outcome = check(PASSWORD, 300).run(&fake::target(port)).await;
        fake::assert_down(&outcome, "ignored a reply");
    }
}

proptest::proptest! {
    /// Replies with any attributes and a correct Response Authenticator (so the parser gets
    /// past the signature to the attributes), and any bytes at all: no panic, and the
    /// Reply-Message text comes from the packet.
    #[test]
    fn any_reply_is_verified_without_panicking(
        code in proptest::prelude::any::<u8>(),
        attrs in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
    ) {
        let (id, request_auth, secret) = (9u8, [3u8; 16], b"s3cret");
        let len = (20 + attrs.len()) as u16;
        let mut packet = vec![code, id];
        packet.extend_from_slice(&len.to_be_bytes());
        let auth = md5(&[&packet[..4], &request_auth, &attrs, secret]);
        packet.extend_from_slice(&auth);
        packet.extend_from_slice(&attrs);
        if let Ok(reply) = wire::verify_reply(&packet, id, &request_auth, secret) {
            proptest::prop_assert_eq!(reply.code, code);
            let text = reply.message.map_or(0, |m| m.len());
            proptest::prop_assert!(text <= 3 * attrs.len() + attrs.len() / 2);
        }
        let _ = wire::verify_reply(&junk, id, &request_auth, secret);
    }
}
