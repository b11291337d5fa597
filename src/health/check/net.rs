//! Connections shared by the protocol checks: TCP, optionally wrapped in unverified TLS
//! (pops, imaps, ldaps), and bounded reads.
//!
//! Every read here is capped, so a server that streams garbage cannot make a check
//! allocate without limit before its deadline ends it.

use std::net::SocketAddr;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;

use super::tls;

/// A byte stream a check talks over (plain TCP or TLS on TCP).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connected stream of either kind.
pub type Stream = Box<dyn Io>;

/// The error text of a read that met the end of the stream.
pub const CLOSED: &str = "connection closed";

/// Longest line a line-based dialog accepts.
pub const MAX_LINE: u64 = 64 * 1024;

/// Connects to `addr`, then runs a TLS handshake without certificate verification when
/// `use_tls` is set (the real is addressed by IP, so no SNI is sent; see `tls`).
pub async fn connect(addr: SocketAddr, use_tls: bool) -> Result<Stream, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    if !use_tls {
        return Ok(Box::new(tcp));
    }
    let stream = tls::handshake(tcp, None, addr.ip())
        .await
        .map_err(|e| format!("TLS handshake with {addr}: {e}"))?;
    Ok(Box::new(stream))
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

/// One line without its line ending; an error at end of stream or past [`MAX_LINE`].
pub async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<String, String> {
    let mut raw = Vec::new();
    let n = (&mut *r)
        .take(MAX_LINE)
        .read_until(b'\n', &mut raw)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Err(CLOSED.to_owned());
    }
    if !raw.ends_with(b"\n") && n as u64 >= MAX_LINE {
        return Err(format!("line longer than {MAX_LINE} bytes"));
    }
    let text = String::from_utf8_lossy(&raw);
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// Appends what one read returns to `buf` (an error at end of stream). Reading straight
/// into the vector keeps the callers' futures small.
pub async fn fill<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Result<usize, String> {
    buf.reserve(16 * 1024);
    match r.read_buf(buf).await {
        Ok(0) => Err(CLOSED.to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}
