//! Connections shared by the protocol checks: TCP, optionally wrapped in unverified TLS
//! (pops, imaps, ldaps); and how a failed check is told apart from a check that could not
//! be made ([`Failure`]).

use std::fmt::Display;
use std::io;
use std::net::SocketAddr;

use rustix::io::Errno;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};

use super::bounded::ReadError;
use super::{Outcome, Source, tls};

/// A byte stream a check talks over (plain TCP or TLS on TCP).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connected stream of either kind.
pub type Stream = Box<dyn Io>;

/// Why a check did not pass: the real server failed it, or this machine could not make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The real server failed the check: [`Outcome::Down`].
    Down(String),
    /// Trouble on this machine: [`Outcome::LocalFault`].
    Local(String),
}

impl Failure {
    /// `context: error`, local when [`is_local`] says so.
    pub fn io(context: impl Display, e: &io::Error) -> Self {
        let text = format!("{context}: {e}");
        if is_local(e) {
            Self::Local(text)
        } else {
            Self::Down(text)
        }
    }

    /// The same failure with its text rewritten (a prefix added).
    #[must_use]
    pub fn map(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            Self::Down(why) => Self::Down(f(why)),
            Self::Local(why) => Self::Local(f(why)),
        }
    }

    pub fn into_outcome(self) -> Outcome {
        match self {
            Self::Down(why) => Outcome::Down(why),
            Self::Local(why) => Outcome::LocalFault(why),
        }
    }
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Self::Down(why)
    }
}

/// The error's own text, classified by [`is_local`].
impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if is_local(&e) {
            Self::Local(e.to_string())
        } else {
            Self::Down(e.to_string())
        }
    }
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        match &e {
            ReadError::Io(io) if is_local(io) => Self::Local(e.to_string()),
            _ => Self::Down(e.to_string()),
        }
    }
}

/// Whether `e` is trouble on this machine rather than an answer about the peer: out of
/// file descriptors (EMFILE for the process, ENFILE for the system), of memory or socket
/// buffers (ENOMEM, ENOBUFS), or of local ports (EADDRNOTAVAIL: every ephemeral port is
/// taken, or the source address is gone). A check that meets one of these has learnt
/// nothing about the real server, and with a thousand checks in flight during a network
/// partition it would otherwise report every healthy real down at once.
pub fn is_local(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::OutOfMemory
        || e.raw_os_error().is_some_and(|n| {
            [
                Errno::MFILE,
                Errno::NFILE,
                Errno::NOBUFS,
                Errno::NOMEM,
                Errno::ADDRNOTAVAIL,
            ]
            .iter()
            .any(|local| local.raw_os_error() == n)
        })
}

/// A TCP connection to `addr`; failures classified by [`is_local`].
pub async fn tcp(addr: SocketAddr) -> Result<TcpStream, Failure> {
    TcpStream::connect(addr)
        .await
        .map_err(|e| Failure::io(format_args!("connect to {addr}"), &e))
}

/// A TCP connection to `addr` from `from` (keepalived's `fwmark`, `bind_if`, then
/// `bindto`/`bind_port`, in keepalived's order) when given. A mark, device or bind that
/// fails is this machine's trouble, not the real's: keepalived reschedules such a checker
/// without counting a failure ("socket bind failed. Rescheduling"), and the real keeps
/// its state.
pub async fn tcp_from(addr: SocketAddr, from: Source<'_>) -> Result<TcpStream, Failure> {
    if from == Source::default() {
        return tcp(addr).await;
    }
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()
    } else {
        TcpSocket::new_v4()
    }
    .map_err(|e| Failure::io("TCP socket", &e))?;
    if let Some(mark) = from.mark {
        set_mark(&socket, mark)?;
    }
    if let Some(device) = from.device {
        socket
            .bind_device(Some(device.as_bytes()))
            .map_err(|e| device_failure(device, &e))?;
    }
    if let Some(local) = from.bind {
        socket
            .bind(local)
            .map_err(|e| Failure::Local(format!("bind to {local}: {e}")))?;
    }
    socket
        .connect(addr)
        .await
        .map_err(|e| Failure::io(format_args!("connect to {addr}"), &e))
}

/// Connects to `addr`, then runs a TLS handshake without certificate verification when
/// `use_tls` is set (the real is addressed by IP, so no SNI is sent; see `tls`).
pub async fn connect(addr: SocketAddr, use_tls: bool) -> Result<Stream, Failure> {
    let tcp = tcp(addr).await?;
    if !use_tls {
        return Ok(Box::new(tcp));
    }
    let stream = tls::handshake(tcp, None, addr.ip())
        .await
        .map_err(|e| Failure::io(format_args!("TLS handshake with {addr}"), &e))?;
    Ok(Box::new(stream))
}

/// The any-address of `addr`'s family, port 0: a socket bound there lets the kernel
/// choose its source.
fn unspecified(addr: SocketAddr) -> SocketAddr {
    if addr.is_ipv6() {
        SocketAddr::from(([0u16; 8], 0))
    } else {
        SocketAddr::from(([0u8; 4], 0))
    }
}

/// Marks the socket's packets (SO_MARK, which needs CAP_NET_ADMIN); refused, it is this
/// machine's trouble. tokio's sockets have no setter for it, nix's setsockopt has.
pub fn set_mark(socket: &impl std::os::fd::AsFd, mark: u32) -> Result<(), Failure> {
    nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::Mark, &mark)
        .map_err(|e| Failure::Local(format!("firewall mark {mark}: {e}")))
}

/// SO_BINDTODEVICE refused (no such device, a name too long): this machine's trouble.
fn device_failure(device: &str, e: &io::Error) -> Failure {
    Failure::Local(format!("bind to device {device}: {e}"))
}

/// A UDP socket of `addr`'s family, connected to it (so only its replies are read).
pub async fn udp(addr: SocketAddr) -> io::Result<tokio::net::UdpSocket> {
    let sock = tokio::net::UdpSocket::bind(unspecified(addr)).await?;
    sock.connect(addr).await?;
    Ok(sock)
}

/// [`udp`] from `from` when given; a device or a bind that fails is a local fault, as in
/// [`tcp_from`].
pub async fn udp_from(
    addr: SocketAddr,
    from: Source<'_>,
) -> Result<tokio::net::UdpSocket, Failure> {
    if from == Source::default() {
        return udp(addr).await.map_err(|e| Failure::io("UDP socket", &e));
    }
    let local = from.bind.unwrap_or_else(|| unspecified(addr));
    let sock = tokio::net::UdpSocket::bind(local)
        .await
        .map_err(|e| Failure::Local(format!("bind to {local}: {e}")))?;
    if let Some(mark) = from.mark {
        set_mark(&sock, mark)?;
    }
    if let Some(device) = from.device {
        sock.bind_device(Some(device.as_bytes()))
            .map_err(|e| device_failure(device, &e))?;
    }
    sock.connect(addr)
        .await
        .map_err(|e| Failure::io(format_args!("connect to {addr}"), &e))?;
    Ok(sock)
}

/// Makes closing `tcp` send a reset instead of a FIN. A check that has its verdict needs
/// nothing more from the connection: a reset costs the director one packet instead of a
/// FIN exchange, leaves no TIME_WAIT socket per check (1,000 reals checked every second
/// would keep ~60,000 of them), and when a deadline cuts off a check to a black-holed
/// server, no orphaned socket keeps retransmitting its FIN into the void. HAProxy closes
/// its health checks the same way. Failing to set it only costs the FIN exchange.
pub fn abort_on_close(tcp: &TcpStream) {
    let _ = tcp.set_zero_linger();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every local errno is local, whatever the call; answers from the network are not.
    #[test]
    fn local_errors_are_told_from_remote_ones() {
        for errno in [
            Errno::MFILE,
            Errno::NFILE,
            Errno::NOBUFS,
            Errno::NOMEM,
            Errno::ADDRNOTAVAIL,
        ] {
            let e = io::Error::from_raw_os_error(errno.raw_os_error());
            assert!(is_local(&e), "{e}");
            let f = Failure::io("connect to 10.0.0.1:80", &e);
            assert!(
                matches!(f.clone().into_outcome(), Outcome::LocalFault(ref r) if r.starts_with("connect to 10.0.0.1:80: ")),
                "{f:?}"
            );
            let read: Failure = ReadError::Io(e).into();
            assert!(matches!(read, Failure::Local(_)), "{read:?}");
        }
        assert!(is_local(&io::Error::from(io::ErrorKind::OutOfMemory)));
        for errno in [
            Errno::CONNREFUSED,
            Errno::HOSTUNREACH,
            Errno::NETUNREACH,
            Errno::TIMEDOUT,
            Errno::CONNRESET,
            Errno::ACCESS,
        ] {
            let e = io::Error::from_raw_os_error(errno.raw_os_error());
            assert!(!is_local(&e), "{e}");
            assert!(matches!(
                Failure::io("x", &e).into_outcome(),
                Outcome::Down(_)
            ));
        }
        assert!(!is_local(&io::Error::other("malformed reply")));
        let closed: Failure = ReadError::Closed.into();
        assert_eq!(closed, Failure::Down("connection closed".into()));
        assert_eq!(
            Failure::Local("x".into()).map(|w| format!("mysql: {w}")),
            Failure::Local("mysql: x".into())
        );
    }
}
