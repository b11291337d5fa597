//! keepalived's HTTP_GET/SSL_GET over a connection (the exchange itself is
//! [`super::keepalived_http`]). keepalived bounds each step by its `connect_timeout`
//! rather than the whole run; the daemon's outer deadline still bounds the run.
//!
//! The steps' timeouts, as check_http.c and check_ssl.c arm them:
//! - HTTP_GET: connecting, sending the request, waiting for the response, then each read
//!   until EOF, each within `connect_timeout`; a read error fails the check.
//! - SSL_GET: connecting and the TLS handshake within one `connect_timeout`
//!   (`http_check_thread` gives the handshake what is left of the connect's timer);
//!   sending within another; waiting until the socket is readable within another; then
//!   every read to the end within one more, counted from then (`ssl_read_thread` gives
//!   each read what is left of the previous one's timer). Any TLS read error (a reset, a
//!   close without close_notify, an alert) ends the stream like EOF and what was read is
//!   judged (`ssl_read_thread` judges on every `SSL_get_error` but WANT_READ).
//! - SSL_GET's TLS: the certificate is not verified (keepalived never sets a verify mode,
//!   so OpenSSL's default, no verification, holds), no client certificate is offered, and
//!   the SNI is the url's `sni` (set by `enable_sni`), else none.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::keepalived_http::{Expect, Protocol, Response, request};
use super::net::Failure;
use super::{BoxFuture, Check, Outcome, Source, Target, net, tls};

/// One url of an HTTP_GET (or SSL_GET, with `tls`).
#[derive(Debug, Clone)]
pub struct KeepalivedGet {
    pub path: String,
    pub protocol: Protocol,
    /// The Host header's name; None sends the address and port.
    pub virtualhost: Option<String>,
    pub expect: Expect,
    /// `connect_timeout`, per step.
    pub timeout: Duration,
    /// SSL_GET: TLS without certificate verification.
    pub tls: bool,
    /// SSL_GET with `enable_sni`: the server name sent (a DNS name); None sends none.
    pub sni: Option<String>,
    /// SSL_GET with the `SSL` block's certificate: its client configuration, or why it
    /// could not be built (every run then fails with that); None presents none.
    pub client: Option<Result<Arc<rustls::ClientConfig>, String>>,
}

impl Check for KeepalivedGet {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let addr = SocketAddr::new(target.check_ip(), port);
            let from = target.route.source();
            let done = if self.tls {
                self.over_tls(addr, from).await
            } else {
                self.plain(addr, from).await
            };
            match done {
                Ok(()) => Outcome::Up,
                Err(outcome) => outcome,
            }
        })
    }
}

fn timed_out(what: &str, addr: SocketAddr) -> Outcome {
    Outcome::Down(format!("Timeout {what} {addr}"))
}

impl KeepalivedGet {
    async fn plain(&self, addr: SocketAddr, from: Source<'_>) -> Result<(), Outcome> {
        let mut stream = timeout(self.timeout, net::tcp_from(addr, from))
            .await
            .map_err(|_| timed_out("connecting", addr))?
            .map_err(Failure::into_outcome)?;
        self.send(&mut stream, addr).await?;
        let mut response = Response::new(&self.expect);
        let mut buf = vec![0u8; 4096];
        loop {
            let room = response.room();
            if room == 0 {
                break;
            }
            let n = timeout(self.timeout, stream.read(&mut buf[..room]))
                .await
                .map_err(|_| timed_out("HTTP read", addr))?
                .map_err(|e| Outcome::Down(format!("Read error with {addr}: {e}")))?;
            if n == 0 {
                break;
            }
            response.feed(&buf[..n]);
        }
        self.judge(response, addr)
    }

    async fn over_tls(&self, addr: SocketAddr, from: Source<'_>) -> Result<(), Outcome> {
        let mut stream = timeout(self.timeout, async {
            let client = match &self.client {
                Some(Ok(config)) => Some(config),
                // Our own trouble (never reached: the load refuses such a certificate).
                Some(Err(e)) => return Err(Failure::Local(format!("client certificate: {e}"))),
                None => None,
            };
            let tcp = net::tcp_from(addr, from).await?;
            tls::handshake_as(client, tcp, self.sni.as_deref(), addr.ip())
                .await
                .map_err(|e| Failure::io(format_args!("SSL handshake with {addr}"), &e))
        })
        .await
        .map_err(|_| timed_out("connecting", addr))?
        .map_err(Failure::into_outcome)?;
        self.send(&mut stream, addr).await?;
        let (tcp, tls) = stream.get_ref();
        if tls.wants_read() {
            readable(tcp, self.timeout)
                .await
                .map_err(|()| timed_out("WEB read", addr))?;
        }
        let deadline = Instant::now() + self.timeout;
        let mut response = Response::new(&self.expect);
        let mut buf = vec![0u8; 4096];
        loop {
            let room = response.room();
            if room == 0 {
                break;
            }
            let read = timeout_at(deadline, stream.read(&mut buf[..room]))
                .await
                .map_err(|_| timed_out("SSL read", addr))?;
            match read {
                Ok(n) if n > 0 => response.feed(&buf[..n]),
                _ => break,
            }
        }
        self.judge(response, addr)
    }

    async fn send<S: AsyncRead + tokio::io::AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        addr: SocketAddr,
    ) -> Result<(), Outcome> {
        let req = request(&self.path, self.protocol, self.virtualhost.as_deref(), addr);
        timeout(self.timeout, async {
            stream.write_all(&req).await?;
            stream.flush().await
        })
        .await
        .map_err(|_| timed_out("WEB write", addr))?
        .map_err(|e| Outcome::Down(format!("Cannot send get request to {addr}: {e}")))
    }

    fn judge(&self, response: Response, addr: SocketAddr) -> Result<(), Outcome> {
        response
            .judge(&self.expect)
            .map_err(|why| Outcome::Down(format!("{why} {addr}")))
    }
}

/// Whether rustls sends `name` as the SNI byte for byte, as OpenSSL sends any name: a DNS
/// name (rustls sends none for anything else) without a trailing dot (which it strips).
pub fn sends_as_sni(name: &str) -> bool {
    matches!(
        rustls::pki_types::ServerName::try_from(name),
        Ok(rustls::pki_types::ServerName::DnsName(_))
    ) && !name.ends_with('.')
}

/// Waits until the socket has something to read (data, EOF or an error), as keepalived's
/// read thread waits on the descriptor; Err(()) after `limit`.
async fn readable(tcp: &TcpStream, limit: Duration) -> Result<(), ()> {
    let mut byte = [0u8; 1];
    timeout(limit, tcp.peek(&mut byte))
        .await
        .map(|_| ())
        .map_err(|_| ())
}

#[cfg(test)]
#[path = "keepalived_get_tests.rs"]
mod tests;
