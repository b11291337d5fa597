//! `checktype=ping`, and `connect` on UDP virtuals (docs/ldirectord-compat.md, Check
//! types; T41): ICMP echo over a raw socket (root only, like ldirectord), up to
//! `checkcount` attempts of `checktimeout` each; the first matching reply means up. IPv6
//! uses ICMPv6 echo.
//!
//! The raw socket is opened with rustix and driven by tokio as a datagram socket: raw ICMP
//! sockets speak sendto/recvfrom like UDP ones, so no unsafe code is needed.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use rustix::net::{AddressFamily, SocketType, ipproto, socket};
use tokio::net::UdpSocket;

use super::net::Failure;
use super::{BoxFuture, Check, Outcome, Target};

/// Per-process sequence numbers, so concurrent pings to one host are told apart.
static SEQUENCE: AtomicU16 = AtomicU16::new(1);

#[derive(Debug, Clone)]
pub struct PingCheck {
    pub timeout: Duration,
    pub attempts: u32,
}

impl Check for PingCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            // keepalived's PING_CHECK pings `connect_ip` when given (it binds nothing).
            let ip = target.check_ip();
            let sock = match open(ip) {
                Ok(s) => s,
                Err(e) => return Failure::io("cannot open an ICMP socket", &e).into_outcome(),
            };
            for _ in 0..self.attempts.max(1) {
                let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
                let id = (std::process::id() & 0xffff) as u16;
                let packet = echo_request(ip.is_ipv6(), id, seq);
                let dest = SocketAddr::new(ip, 0);
                if let Err(e) = sock.send_to(&packet, dest).await {
                    return Failure::io(format_args!("ping {ip}"), &e).into_outcome();
                }
                let wait = wait_reply(&sock, ip, id, seq);
                if tokio::time::timeout(self.timeout, wait).await.is_ok() {
                    return Outcome::Up;
                }
            }
            Outcome::Down(format!("no echo reply from {ip}"))
        })
    }
}

fn open(addr: IpAddr) -> std::io::Result<UdpSocket> {
    let fd = match addr {
        IpAddr::V4(_) => socket(AddressFamily::INET, SocketType::RAW, Some(ipproto::ICMP)),
        IpAddr::V6(_) => socket(AddressFamily::INET6, SocketType::RAW, Some(ipproto::ICMPV6)),
    }?;
    let std_sock = std::net::UdpSocket::from(fd);
    std_sock.set_nonblocking(true)?;
    UdpSocket::from_std(std_sock)
}

async fn wait_reply(sock: &UdpSocket, from: IpAddr, id: u16, seq: u16) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        if peer.ip() == from && is_echo_reply(&buf[..n], from.is_ipv6(), id, seq) {
            return;
        }
    }
}

/// Type, code, checksum, identifier, sequence, 8 bytes of payload. The kernel fills in
/// the ICMPv6 checksum itself.
pub fn echo_request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(b"lvsctl\0\0");
    if !v6 {
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// IPv4 raw sockets deliver the IP header too; IPv6 ones do not.
pub fn is_echo_reply(packet: &[u8], v6: bool, id: u16, seq: u16) -> bool {
    let icmp = if v6 {
        packet
    } else {
        let ihl = usize::from(packet.first().map_or(0, |b| b & 0x0f)) * 4;
        packet.get(ihl..).unwrap_or(&[])
    };
    let reply_type = if v6 { 129 } else { 0 };
    icmp.len() >= 8
        && icmp[0] == reply_type
        && icmp[4..6] == id.to_be_bytes()
        && icmp[6..8] == seq.to_be_bytes()
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_checksum_and_reply_matching() {
        let p = echo_request(false, 0x1234, 7);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        let mut reply = vec![0x45; 20];
        reply.extend_from_slice(&p);
        reply[20] = 0;
        assert!(is_echo_reply(&reply, false, 0x1234, 7));
        assert!(!is_echo_reply(&reply, false, 0x1234, 8));
        assert!(!is_echo_reply(&reply[..22], false, 0x1234, 7));
        let mut v6 = echo_request(true, 1, 2);
        v6[0] = 129;
        assert!(is_echo_reply(&v6, true, 1, 2));
    }
}
