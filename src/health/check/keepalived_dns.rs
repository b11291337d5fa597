//! keepalived 2.2.7's DNS_CHECK exchange (check_dns.c): one UDP query, one answer.
//!
//! What it sends and what passes, as `dns_make_query` and `dns_recv_thread` do it:
//! - The query: a random id, only the RD flag, one question of the configured type and
//!   class IN. The name is cut at each `.` into labels as written (an empty label is
//!   sent as a zero length), ended by a zero byte unless the name is exactly `.`; the
//!   empty name (the default) is the root, one zero byte.
//! - The whole exchange (send and answer) has one `connect_timeout`.
//! - A datagram shorter than 8 bytes (keepalived compares with the size of a pointer,
//!   not of the 12-byte header), with another id, or without the QR bit is ignored and
//!   the wait goes on. The first other one decides: response code 0 passes, whatever the
//!   answer holds (an empty answer too); any other code fails.
//! - A receive error (an ICMP port unreachable reported on the connected socket) fails.
//!
//! Its schedule (`dns_final`: no retries for a real already down) is
//! [`crate::health::state::keepalived_epilog`]'s `Rule::Dns`, which the check task runs.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Source, Target};

/// keepalived's send and receive buffers (`DNS_BUFFER_SIZE`).
const BUFFER: usize = 768;
/// What keepalived takes for the header's size: `sizeof (r_header)`, a pointer.
const SHORTEST: usize = 8;

/// DNS_CHECK against the real (or its `connect_port`).
#[derive(Debug, Clone)]
pub struct KeepalivedDns {
    /// The RR type number (`type`, SOA by default).
    pub qtype: u16,
    /// `name` as written (empty by default).
    pub name: String,
    /// `connect_timeout`, for the whole exchange.
    pub timeout: Duration,
}

/// The query keepalived sends, with `id`; None when it would not fit keepalived's buffer
/// (keepalived itself would overrun it).
pub fn query(id: u16, qtype: u16, name: &str) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(BUFFER);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    if !name.is_empty() {
        let labels: Vec<&str> = name.strip_suffix('.').unwrap_or(name).split('.').collect();
        for label in labels {
            q.push(u8::try_from(label.len()).ok()?);
            q.extend_from_slice(label.as_bytes());
        }
    }
    if name != "." {
        q.push(0);
    }
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    (q.len() <= BUFFER).then_some(q)
}

/// What one received datagram means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Not the answer: keep waiting.
    Ignored,
    Pass,
    /// The response code.
    Fail(u8),
}

/// `dns_recv_thread`'s reading of a datagram answering query `id`.
pub fn judge(id: u16, datagram: &[u8]) -> Answer {
    if datagram.len() < SHORTEST {
        return Answer::Ignored;
    }
    let got = u16::from_be_bytes([datagram[0], datagram[1]]);
    let flags = u16::from_be_bytes([datagram[2], datagram[3]]);
    if got != id || flags & 0x8000 == 0 {
        return Answer::Ignored;
    }
    match (flags & 0x000f) as u8 {
        0 => Answer::Pass,
        rcode => Answer::Fail(rcode),
    }
}

impl Check for KeepalivedDns {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to query".to_owned());
            };
            let addr = SocketAddr::new(target.check_ip(), port);
            match self.exchange(addr, target.route.source()).await {
                Ok(()) => Outcome::Up,
                Err(outcome) => outcome,
            }
        })
    }
}

impl KeepalivedDns {
    async fn exchange(&self, addr: SocketAddr, from: Source<'_>) -> Result<(), Outcome> {
        let deadline = Instant::now() + self.timeout;
        let id: u16 = rand_id();
        let q = query(id, self.qtype, &self.name)
            .ok_or_else(|| Outcome::Down("name too long for the query".to_owned()))?;
        let sock = net::udp_from(addr, from)
            .await
            .map_err(Failure::into_outcome)?;
        match timeout_at(deadline, sock.send(&q)).await {
            Err(_) => return Err(Outcome::Down("write timeout to socket.".to_owned())),
            Ok(Err(e)) => return Err(Failure::io("failed to write socket", &e).into_outcome()),
            Ok(Ok(n)) if n != q.len() => {
                return Err(Outcome::Down(
                    "failed to write all of the datagram.".to_owned(),
                ));
            }
            Ok(Ok(_)) => {}
        }
        let mut buf = [0u8; BUFFER];
        loop {
            let n = match timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => return Err(Outcome::Down("read timeout from socket".to_owned())),
                Ok(Err(e)) => {
                    return Err(Failure::io("failed to read socket", &e).into_outcome());
                }
                Ok(Ok(n)) => n,
            };
            match judge(id, &buf[..n]) {
                Answer::Ignored => {}
                Answer::Pass => return Ok(()),
                Answer::Fail(rcode) => {
                    return Err(Outcome::Down(format!(
                        "read error occurred. (rcode = {rcode})"
                    )));
                }
            }
        }
    }
}

/// A query id no one on the path can guess from the last one.
fn rand_id() -> u16 {
    let mut b = [0u8; 2];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        return 0x4b41;
    }
    u16::from_be_bytes(b)
}

#[cfg(test)]
#[path = "keepalived_dns_tests.rs"]
mod tests;
