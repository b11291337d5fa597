//! `service=simpletcp` on a `protocol=udp` virtual (docs/ldirectord-compat.md, Negotiate
//! services): ldirectord opens its socket
//! with the virtual's protocol, so the request goes out as one datagram and every reply
//! datagram is read line by line until a line matches `receive`.
//!
//! UDP never signals the end of the answer, so a server that replies without a matching
//! line is down only when the deadline ends the wait (as in ldirectord, whose readline
//! blocks until the alarm); the reason then quotes the last line seen.

use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use tokio::time::Instant;

use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Target};

/// Largest datagram read (the kernel cuts a longer one to the buffer): the read is bounded.
const MAX_DATAGRAM: usize = 65_536;

#[derive(Debug, Clone)]
pub struct SimpleUdpCheck {
    /// Already unescaped (see `simpletcp_request`).
    pub request: String,
    pub receive: Regex,
    pub timeout: Duration,
}

impl Check for SimpleUdpCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let deadline = Instant::now() + self.timeout;
            match self.exchange(addr, deadline).await {
                Ok(()) => Outcome::Up,
                Err(failure) => failure.into_outcome(),
            }
        })
    }
}

impl SimpleUdpCheck {
    async fn exchange(&self, addr: SocketAddr, deadline: Instant) -> Result<(), Failure> {
        let timed_out = || format!("timed out after {} ms", self.timeout.as_millis());
        let failed = |e: std::io::Error| Failure::io(format_args!("udp {addr}"), &e);
        let sock = tokio::time::timeout_at(deadline, net::udp(addr))
            .await
            .map_err(|_| timed_out())?
            .map_err(failed)?;
        sock.send(self.request.as_bytes()).await.map_err(failed)?;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut last = None;
        loop {
            let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => {
                    return Err(Failure::Down(match last {
                        Some(line) => format!("no line matched receive (last: {line:?})"),
                        None => format!("no reply within {} ms", self.timeout.as_millis()),
                    }));
                }
                // A connected UDP socket reports the ICMP port-unreachable here.
                Ok(Err(e)) => return Err(failed(e)),
                Ok(Ok(n)) => n,
            };
            let text = String::from_utf8_lossy(&buf[..n]);
            for line in text.lines() {
                let line = line.trim_end_matches('\r');
                if self.receive.is_match(line) {
                    return Ok(());
                }
                last = Some(line.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::check::fake;
    use tokio::net::UdpSocket;

    fn check(receive: &str, ms: u64) -> SimpleUdpCheck {
        SimpleUdpCheck {
            request: super::super::simpletcp_request("/status\\n"),
            receive: Regex::new(receive).unwrap(),
            timeout: Duration::from_millis(ms),
        }
    }

    /// Answers each datagram with `reply` (after checking the request bytes).
    async fn server(reply: &'static [u8]) -> u16 {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = sock.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
                assert_eq!(&buf[..n], b"status\n");
                let _ = sock.send_to(reply, peer).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn a_matching_reply_line_is_up() {
        let port = server(b"hello\r\nstate: ready\r\n").await;
        let t = fake::target_udp(port);
        assert_eq!(check("^state: ready$", 2000).run(&t).await, Outcome::Up);
    }

    #[tokio::test]
    async fn a_non_matching_reply_waits_for_the_deadline() {
        let port = server(b"state: busy\n\xff\xfe").await;
        let t = fake::target_udp(port);
        let start = std::time::Instant::now();
        let outcome = check("^state: ready$", 300).run(&t).await;
        assert!(
            matches!(&outcome, Outcome::Down(r) if r.contains("no line matched")),
            "{outcome:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn silence_and_closed_ports_are_down() {
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let t = fake::target_udp(silent.local_addr().unwrap().port());
        let outcome = check("x", 200).run(&t).await;
        assert_eq!(outcome, Outcome::Down("no reply within 200 ms".into()));
        let closed = silent.local_addr().unwrap().port();
        drop(silent);
        let outcome = check("x", 2000).run(&fake::target_udp(closed)).await;
        assert!(
            matches!(&outcome, Outcome::Down(r) if r.contains("refused")),
            "{outcome:?}"
        );
    }
}
