//! keepalived 2.2.7's UDP_CHECK exchange (check_udp.c over layer4.c's UDP helpers): one
//! datagram out, then one event decides.
//!
//! What keepalived does, and so what this does:
//! - A new non-blocking UDP socket of the target's family asks for extended errors
//!   (`IP_RECVERR`, `IPV6_RECVERR`; a failure to ask is only logged), is connected to the
//!   real (or `connect_port`) and sends `payload` once. Without `payload` it sends 32 bytes
//!   of "keepalived check - " repeated (keepalived fills its buffer so as not to send its
//!   stack). A failed connect, or a send that does not take the whole datagram, fails the
//!   check; a socket that cannot be made gives no verdict (keepalived only reschedules).
//! - Then it waits `connect_timeout` for the socket to become readable or to report an
//!   error; an error wins when both are there (keepalived's scheduler looks at
//!   `EPOLLERR` first).
//! - Timeout: passes, unless `require_reply` is set.
//! - Error: the first message of the error queue (`MSG_ERRQUEUE`) is read. An ICMP (or
//!   ICMPv6) destination unreachable, whatever its code (port, host, network...), fails.
//!   Anything else (another ICMP type, a local error, an empty queue) counts as a reply of
//!   no data: it passes, except that with `require_reply HEX` keepalived then compares a
//!   reply length it never set (its buffer size, one more than `max_reply_length`), so it
//!   fails.
//! - Readable: one datagram is received into a buffer of `max_reply_length` + 1 bytes
//!   (1 byte without `require_reply`). A receive error fails. Otherwise it passes, unless
//!   `require_reply` has a hex string: then the datagram's length must lie within
//!   `min_reply_length`..=`max_reply_length`, and its first bytes (as many as both have)
//!   must equal the string's outside the `X` wildcards (`check_udp_reply`). Without a hex
//!   string the lengths are not looked at.

use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{
    self, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType, SockaddrStorage,
    sockopt,
};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::{BoxFuture, Check, Outcome, Target};

/// What keepalived sends without `payload` (`set_buf` over its 32-byte `UDP_BUFSIZE`).
pub const DEFAULT_PAYLOAD: &[u8; 32] = b"keepalived check - keepalived ch";

/// `SO_EE_ORIGIN_ICMP`, `SO_EE_ORIGIN_ICMP6` (linux/errqueue.h).
const ORIGIN_ICMP: u8 = 2;
const ORIGIN_ICMP6: u8 = 3;
/// `ICMP_DEST_UNREACH`, `ICMPV6_DEST_UNREACH`.
const ICMP_DEST_UNREACH: u8 = 3;
const ICMPV6_DEST_UNREACH: u8 = 1;
/// keepalived's control buffer for the error queue.
const CONTROL: usize = 2560;

/// UDP_CHECK against the real (or its `connect_port`).
#[derive(Debug, Clone)]
pub struct KeepalivedUdp {
    /// `payload`; empty when not configured (keepalived's hex strings are never empty).
    pub payload: Vec<u8>,
    pub require_reply: bool,
    /// `require_reply`'s hex string; empty when none.
    pub reply: Vec<u8>,
    /// Set bits are wildcards; shorter than `reply` (empty) where nothing is.
    pub reply_mask: Vec<u8>,
    pub min_reply_length: u16,
    pub max_reply_length: u16,
    /// `connect_timeout`: the wait after the datagram is sent.
    pub timeout: Duration,
}

/// What ended the wait, as `udp_socket_state` tells it apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// Nothing within the timeout.
    Timeout,
    /// The socket reported an error; `unreachable` when the first queued error was an
    /// ICMP destination unreachable.
    Error { unreachable: bool },
    /// A datagram (as much as the buffer took), or the receive's error text.
    Received(Result<&'a [u8], String>),
}

impl KeepalivedUdp {
    /// The datagram sent.
    pub fn datagram(&self) -> &[u8] {
        if self.payload.is_empty() {
            DEFAULT_PAYLOAD
        } else {
            &self.payload
        }
    }

    /// How many bytes keepalived's receive takes.
    pub fn receive_buffer(&self) -> usize {
        if self.require_reply {
            usize::from(self.max_reply_length) + 1
        } else {
            1
        }
    }

    /// `check_udp_reply`: whether a reply of `len` bytes, `data` its start, does not match.
    pub fn mismatch(&self, len: usize, data: &[u8]) -> bool {
        if len < usize::from(self.min_reply_length) || len > usize::from(self.max_reply_length) {
            return true;
        }
        self.reply
            .iter()
            .zip(data)
            .enumerate()
            .any(|(i, (want, got))| {
                let wild = self.reply_mask.get(i).copied().unwrap_or(0);
                (want ^ got) & !wild != 0
            })
    }

    /// The verdict `udp_check_thread` gives `event`.
    pub fn verdict(&self, event: &Event<'_>) -> Outcome {
        let (len, data): (usize, &[u8]) = match event {
            Event::Timeout if self.require_reply => {
                return Outcome::Down("no reply within connect_timeout".to_owned());
            }
            Event::Timeout => return Outcome::Up,
            Event::Error { unreachable: true } => {
                return Outcome::Down("ICMP destination unreachable".to_owned());
            }
            // keepalived's length is still its buffer's size here.
            Event::Error { unreachable: false } => (self.receive_buffer(), &[]),
            Event::Received(Err(e)) => return Outcome::Down(format!("receive error: {e}")),
            Event::Received(Ok(d)) => (d.len(), d),
        };
        if !self.reply.is_empty() && self.mismatch(len, data) {
            return Outcome::Down("reply data mismatch".to_owned());
        }
        Outcome::Up
    }

    async fn exchange(
        &self,
        addr: SocketAddr,
        bind: Option<SocketAddr>,
        mark: Option<u32>,
    ) -> Outcome {
        let fd = match open(addr) {
            Ok(fd) => fd,
            Err(e) => return Outcome::LocalFault(format!("UDP socket: {e}")),
        };
        // keepalived's udp_bind_connect marks the socket before it binds; a mark refused
        // is counted as a failed check there and a local fault here, as a failed bind.
        if let Some(mark) = mark
            && let Err(super::net::Failure::Local(why) | super::net::Failure::Down(why)) =
                super::net::set_mark(&fd, mark)
        {
            return Outcome::LocalFault(why);
        }
        // keepalived only logs a failure to ask for extended errors.
        let _ = if addr.is_ipv6() {
            socket::setsockopt(&fd, sockopt::Ipv6RecvErr, &true)
        } else {
            socket::setsockopt(&fd, sockopt::Ipv4RecvErr, &true)
        };
        // keepalived counts a failed bind as a failed check (udp_epilog); the daemon, whose
        // rule is never to take a real out for its own trouble, reports a local fault.
        if let Some(local) = bind
            && let Err(e) = socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(local))
        {
            return Outcome::LocalFault(format!("bind to {local}: {e}"));
        }
        if let Err(e) = socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
            return Outcome::Down(format!("UDP connect: {e}"));
        }
        // Sent at once on the non-blocking socket, as keepalived does before it waits.
        let plain = std::net::UdpSocket::from(fd);
        let data = self.datagram();
        match plain.send(data) {
            Ok(n) if n == data.len() => {}
            Ok(n) => return Outcome::Down(format!("UDP send: {n} of {} bytes", data.len())),
            Err(e) => return Outcome::Down(format!("UDP send: {e}")),
        }
        let sock = match UdpSocket::from_std(plain) {
            Ok(s) => s,
            Err(e) => return Outcome::LocalFault(format!("UDP socket: {e}")),
        };
        let deadline = Instant::now() + self.timeout;
        let mut buf = vec![0u8; self.receive_buffer()];
        loop {
            let ready = match timeout_at(deadline, sock.ready(Interest::READABLE | Interest::ERROR))
                .await
            {
                Err(_) => return self.verdict(&Event::Timeout),
                Ok(Err(e)) => return Outcome::LocalFault(format!("UDP socket: {e}")),
                Ok(Ok(r)) => r,
            };
            if ready.is_error() {
                let unreachable = first_error_unreachable(&sock);
                return self.verdict(&Event::Error { unreachable });
            }
            if !ready.is_readable() {
                continue;
            }
            match sock.try_recv(&mut buf) {
                // A readiness the socket no longer has: keepalived's level-triggered wait
                // would not have woken.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return self.verdict(&Event::Received(Err(e.to_string()))),
                Ok(n) => return self.verdict(&Event::Received(Ok(&buf[..n]))),
            }
        }
    }
}

impl Check for KeepalivedUdp {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to send to".to_owned());
            };
            let addr = SocketAddr::new(target.check_ip(), port);
            // keepalived's UDP_CHECK marks its socket and binds it to `bindto` but never to
            // `bind_if`'s device (its udp_bind_connect has no SO_BINDTODEVICE, unlike the
            // TCP and DNS checks').
            self.exchange(addr, target.route.bind, target.route.mark)
                .await
        })
    }
}

/// keepalived's socket: non-blocking, close-on-exec, of the target's family.
fn open(addr: SocketAddr) -> nix::Result<OwnedFd> {
    let family = if addr.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    socket::socket(
        family,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// `udp_socket_error`: whether the first message of the error queue carries an ICMP or
/// ICMPv6 destination unreachable. A queue that cannot be read counts as no such error.
fn first_error_unreachable(sock: &UdpSocket) -> bool {
    let mut header = [0u8; 8];
    let mut iov = [IoSliceMut::new(&mut header)];
    let mut control = vec![0u8; CONTROL];
    let Ok(msg) = socket::recvmsg::<SockaddrStorage>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::MSG_ERRQUEUE,
    ) else {
        return false;
    };
    let Ok(cmsgs) = msg.cmsgs() else {
        return false;
    };
    cmsgs.into_iter().any(|c| match c {
        ControlMessageOwned::Ipv4RecvErr(e, _) => {
            e.ee_origin == ORIGIN_ICMP && e.ee_type == ICMP_DEST_UNREACH
        }
        ControlMessageOwned::Ipv6RecvErr(e, _) => {
            e.ee_origin == ORIGIN_ICMP6 && e.ee_type == ICMPV6_DEST_UNREACH
        }
        _ => false,
    })
}

#[cfg(test)]
#[path = "keepalived_udp_tests.rs"]
mod tests;
