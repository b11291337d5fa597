//! `service=sip` (docs/ldirectord-compat.md, Negotiate services): one `OPTIONS sip:<login>` request over the virtual's
//! protocol (TCP by default, UDP for `protocol=udp`); up only on `SIP/2.0 200 OK`.
//!
//! As in ldirectord, `Via:` names the check's *own* socket address (where a server without
//! `rport` support sends its answer) and a `Contact:` is included. Unlike ldirectord, whose
//! Via always says UDP, the Via transport is the one actually used.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Target, bounded, with_deadline};

/// Longest status line (or datagram) read: far more than `SIP/2.0 200 OK` needs.
const MAX_REPLY: usize = 4096;

#[derive(Debug, Clone)]
pub struct SipCheck {
    /// The request URI's user part (`login=`).
    pub login: String,
    pub udp: bool,
    pub timeout: Duration,
}

impl Check for SipCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let server = SocketAddr::new(target.real_addr, port);
            with_deadline(self.timeout, async move {
                let reply = if self.udp {
                    over_udp(server, &self.login).await
                } else {
                    over_tcp(server, &self.login).await
                };
                match reply {
                    Ok(text) => verdict(&text),
                    Err(e) => Failure::io(format_args!("sip {server}"), &e).into_outcome(),
                }
            })
            .await
        })
    }
}

/// Up on `SIP/2.0 200 OK`; otherwise down, quoting the status line.
fn verdict(reply: &str) -> Outcome {
    let first = reply.lines().next().unwrap_or("");
    if first.starts_with("SIP/2.0 200 OK") {
        Outcome::Up
    } else {
        Outcome::Down(first.to_owned())
    }
}

/// The OPTIONS request sent from `local` (the check's socket) over UDP or TCP.
pub fn options_request(login: &str, local: SocketAddr, udp: bool) -> String {
    let transport = if udp { "UDP" } else { "TCP" };
    let tag = std::process::id();
    format!(
        "OPTIONS sip:{login} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch=z9hG4bKlvsctl{tag};rport\r\n\
         Max-Forwards: 70\r\n\
         To: <sip:{login}>\r\n\
         From: <sip:{login}>;tag=lvsctl{tag}\r\n\
         Call-ID: lvsctl-{tag}-{}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Contact: <sip:{login}>\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        local.port()
    )
}

async fn over_udp(server: SocketAddr, login: &str) -> std::io::Result<String> {
    let sock = net::udp(server).await?;
    let request = options_request(login, sock.local_addr()?, true);
    sock.send(request.as_bytes()).await?;
    let mut buf = vec![0u8; MAX_REPLY];
    let n = sock.recv(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

async fn over_tcp(server: SocketAddr, login: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(server).await?;
    let request = options_request(login, s.local_addr()?, false);
    s.write_all(request.as_bytes()).await?;
    // Only the status line decides.
    Ok(bounded::read_line(&mut BufReader::new(s), MAX_REPLY).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::model::{Protocol, ServiceKey};
    use tokio::net::UdpSocket;

    #[tokio::test]
    async fn only_200_ok_is_up() {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = sock.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            for reply in ["SIP/2.0 200 OK\r\n\r\n", "SIP/2.0 404 Not Found\r\n\r\n"] {
                let (n, peer) = sock.recv_from(&mut buf).await.unwrap();
                assert!(buf[..n].starts_with(b"OPTIONS sip:probe SIP/2.0\r\n"));
                let via = format!("\r\nVia: SIP/2.0/UDP {peer};branch=");
                let text = String::from_utf8_lossy(&buf[..n]);
                assert!(text.contains(&via), "{text}");
                assert!(text.contains("\r\nContact: <sip:probe>\r\n"), "{text}");
                sock.send_to(reply.as_bytes(), peer).await.unwrap();
            }
        });
        let check = SipCheck {
            login: "probe".into(),
            udp: true,
            timeout: Duration::from_secs(2),
        };
        let t = Target {
            virtual_key: ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr: "10.0.0.1".parse().unwrap(),
                port: 5060,
            },
            real_addr: "127.0.0.1".parse().unwrap(),
            real_port: port,
            check_port: Some(port),
            route: crate::health::check::Route::default(),
        };
        assert_eq!(check.run(&t).await, Outcome::Up);
        assert_eq!(
            check.run(&t).await,
            Outcome::Down("SIP/2.0 404 Not Found".into())
        );
    }

    proptest::proptest! {
        /// Any reply (at most one datagram or one bounded line): a verdict, never a panic,
        /// and a reason no longer than the reply.
        #[test]
        fn any_reply_gets_a_verdict(reply in ".{0,600}") {
            match verdict(&reply) {
                Outcome::Up => proptest::prop_assert!(reply.starts_with("SIP/2.0 200 OK")),
                Outcome::Down(why) => proptest::prop_assert!(why.len() <= reply.len()),
                other => proptest::prop_assert!(false, "{other:?}"),
            }
        }
    }
}
