//! `service=http`/`https` negotiate checks: a small HTTP/1.1 client over tokio TCP, with
//! rustls for https and httparse for the response head.
//!
//! What ldirectord counts as up: the *final* response (redirects are followed, as LWP does,
//! up to 7 hops) has a 2xx status and, when `receive` is set, its body matches that regular
//! expression. A small client of our own keeps the binary small and puts the whole exchange
//! under the check's one deadline.
//!
//! Which redirects are followed is `redirects=` ([`RedirectPolicy`]): by default only those
//! whose request goes to the same address and port as the first (for http_proxy: through
//! the same real), never one whose `Location` holds a control character. Without
//! `receive` the body is not read: the status line is the verdict, and the connection is
//! reset as soon as the head is in. With it, the first [`MAX_BODY`] bytes are matched.
//!
//! The URL and `Host:` follow ldirectord and LWP exactly, because configs depend on them:
//! * The first URL is `scheme://REAL:CHECKPORT/request`, unless a *per-real* request
//!   contains `scheme://`; then that request (minus its leading `/`) is the whole URL and
//!   the connection goes to the URL's host, not to the real ([`first_request`]). A
//!   virtual's `request=` is always a path, even when it looks like a URL.
//! * The first request carries `Host: virtualhost`, or the real's bare IP (no port).
//! * LWP drops that header on redirects: later requests send the URL's authority
//!   (`10.1.0.1:443` after a relative redirect, since the first URL names the port). The
//!   scheme may change on a redirect (http ↔ https), as LWP allows.
//!
//! `service=http_proxy` uses the same client with the real server as an HTTP proxy: every
//! `http://` request (redirects included) goes to the real as `GET http://host/path` with
//! `Host:` naming the URL's authority; `https://` URLs are fetched directly, because
//! ldirectord configures LWP's proxy for the http scheme only.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::http_url::Url;
use super::http_url::{bare_host, has_control};

use regex::Regex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http_response::{MAX_BODY, Progress, Response, ResponseReader};
use super::net::Failure;
use super::{BoxFuture, Check, Outcome, Target, with_deadline};
use crate::health::config::{HttpMethod, RedirectPolicy};

/// LWP's default `max_redirect`.
const MAX_REDIRECTS: usize = 7;

#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// The scheme of a path request: https (TLS without certificate verification, see
    /// `tls`) or http.
    pub tls: bool,
    /// http_proxy: the real is the proxy every `http://` request goes through.
    pub proxy: bool,
    pub method: HttpMethod,
    /// `/path` (asked of the real itself), or a whole URL (see [`first_request`]).
    pub request: String,
    pub receive: Option<Regex>,
    /// `Host:` of the first request (not used through a proxy).
    pub virtual_host: Option<String>,
    pub timeout: Duration,
    /// Which redirects are followed.
    pub redirects: RedirectPolicy,
}

/// ldirectord's choice of what the first request fetches: a per-real request containing
/// `scheme://` (anywhere, as its unanchored match does; http_proxy's scheme is `http`)
/// becomes the URL itself, minus its leading `/`; any other request is a path on the
/// real. For http_proxy a virtual's request is the URL (minus `/`), and a per-real path
/// is fetched from the real's own address through the real.
pub fn first_request(
    per_real: Option<&str>,
    virtual_request: &str,
    scheme: &str,
    proxy: bool,
) -> String {
    let strip = |r: &str| r.strip_prefix('/').unwrap_or(r).to_owned();
    match per_real {
        Some(r) if r.contains(&format!("{scheme}://")) => strip(r),
        Some(r) => with_slash(r),
        None if proxy => strip(virtual_request),
        None => with_slash(virtual_request),
    }
}

fn with_slash(r: &str) -> String {
    if r.starts_with('/') {
        r.to_owned()
    } else {
        format!("/{r}")
    }
}

impl Check for HttpCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            with_deadline(self.timeout, self.fetch(addr)).await
        })
    }
}

/// LWP follows these (GET and HEAD keep their method).
fn is_followed_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

impl HttpCheck {
    async fn fetch(&self, real: SocketAddr) -> Outcome {
        let mut url = if self.request.starts_with('/') {
            let scheme = if self.tls && !self.proxy {
                "https"
            } else {
                "http"
            };
            format!(
                "{scheme}://{}:{}{}",
                bare_host(real.ip()),
                real.port(),
                self.request
            )
        } else {
            self.request.clone()
        };
        // ldirectord sets Host itself only for http/https; LWP drops it on a redirect.
        let mut host_header = (!self.proxy).then(|| {
            self.virtual_host
                .clone()
                .unwrap_or_else(|| bare_host(real.ip()))
        });
        if has_control(&url) {
            return Outcome::Down(format!("URL contains control characters: {url:?}"));
        }
        let mut first = None;
        for _ in 0..=MAX_REDIRECTS {
            let Some(u) = Url::parse(&url) else {
                return Outcome::Down(format!("URL must be absolute http(s): {url:?}"));
            };
            let first = first.get_or_insert_with(|| self.endpoint(&u, real)).clone();
            let host = host_header.take().unwrap_or_else(|| u.authority.clone());
            let through_proxy = self.proxy && !u.tls;
            let resp = match self
                .exchange(&u, &host, through_proxy.then_some(real))
                .await
            {
                Ok(r) => r,
                Err(e) if through_proxy => {
                    return Failure::io(format_args!("{url} via proxy {real}"), &e).into_outcome();
                }
                Err(e) => return Failure::io(&url, &e).into_outcome(),
            };
            let next = match &resp.location {
                Some(loc) if is_followed_redirect(resp.status) => loc,
                _ => return self.judge(&resp),
            };
            let status = &resp.status_line;
            if has_control(next) {
                return Outcome::Down(format!(
                    "{status}: not following a redirect whose Location holds control characters"
                ));
            }
            url = u.join(next);
            match self.redirects {
                RedirectPolicy::Any => {}
                RedirectPolicy::None => {
                    return Outcome::Down(format!(
                        "{status}: redirect to {url} not followed (redirects=none)"
                    ));
                }
                RedirectPolicy::SameReal => {
                    // A Location that is no http(s) URL is reported by the next round.
                    let stays = Url::parse(&url).is_none_or(|n| self.endpoint(&n, real) == first);
                    if !stays {
                        return Outcome::Down(format!(
                            "{status}: redirect to {url} leaves the real server, not followed \
                             (redirects=same-real; redirects=any follows it as ldirectord does)"
                        ));
                    }
                }
            }
        }
        Outcome::Down("too many redirects".to_owned())
    }

    /// Where a request for `url` connects: the real when the request goes through it as a
    /// proxy, else the URL's host (an address in its canonical form, a name in lower case)
    /// and port. Redirects under `redirects=same-real` must keep this the same.
    fn endpoint(&self, url: &Url, real: SocketAddr) -> (String, u16) {
        if self.proxy && !url.tls {
            return (real.ip().to_string(), real.port());
        }
        let host = url
            .host
            .parse::<IpAddr>()
            .map_or_else(|_| url.host.to_ascii_lowercase(), |ip| ip.to_string());
        (host, url.port)
    }

    fn judge(&self, resp: &Response) -> Outcome {
        if !(200..300).contains(&resp.status) {
            return Outcome::Down(resp.status_line.clone());
        }
        match &self.receive {
            Some(re) if !super::receive_matches(re, &String::from_utf8_lossy(&resp.body)) => {
                Outcome::Down(format!("{}: body does not match receive", resp.status_line))
            }
            _ => Outcome::Up,
        }
    }

    /// One request for `url`: straight to its host, or to `proxy` with the absolute URL.
    async fn exchange(
        &self,
        url: &Url,
        host: &str,
        proxy: Option<SocketAddr>,
    ) -> std::io::Result<Response> {
        let method = match self.method {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
        };
        let (addr, target) = match proxy {
            Some(p) => (
                p,
                format!("{}://{}{}", url.scheme(), url.authority, url.path),
            ),
            None => (url.socket_addr().await?, url.path.clone()),
        };
        let mut stream = TcpStream::connect(addr).await?;
        super::net::abort_on_close(&stream);
        let head_request = self.method == HttpMethod::Head;
        // Without receive= the verdict is the status line's: the body is not read at all.
        let body_cap = if self.receive.is_some() { MAX_BODY } else { 0 };
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lvsctl-health\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        let reader = ResponseReader::new(head_request, body_cap);
        if url.tls && proxy.is_none() {
            // SNI names the host the Host header names (none for an IP address).
            let sni_host = Url::parse(&format!("https://{host}")).map(|h| h.host);
            let mut tls = super::tls::handshake(stream, sni_host.as_deref(), addr.ip()).await?;
            round_trip(&mut tls, &req, reader).await
        } else {
            round_trip(&mut stream, &req, reader).await
        }
    }
}

/// Sends the request and reads until `reader` has the response (complete by its framing,
/// or all the body it keeps) or the server closes. A TLS peer that closes without
/// close_notify still counts: the body is what it sent.
async fn round_trip<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    req: &str,
    mut reader: ResponseReader,
) -> std::io::Result<Response> {
    stream.write_all(req.as_bytes()).await?;
    stream.flush().await?;
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => {
                if reader.feed(&chunk[..n]).map_err(std::io::Error::other)? == Progress::Done {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && reader.started() => break,
            Err(e) => return Err(e),
        }
    }
    reader.into_response().map_err(std::io::Error::other)
}

/// Bytes asked of the connection per read.
const READ_CHUNK: usize = 16 * 1024;

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
