//! `service=http`/`https` negotiate checks: a small HTTP/1.1 client over tokio TCP, with
//! rustls for https (spec §2.3).
//!
//! What ldirectord counts as up: the *final* response (redirects are followed, as LWP does,
//! up to 7 hops) has a 2xx status and, when `receive` is set, its body matches that regular
//! expression. `Host:` is `virtualhost` or the real's address. A hand-written client keeps
//! the binary small and puts the whole exchange under the check's one deadline.
//!
//! `service=http_proxy` uses the same client with the real server as an HTTP proxy: every
//! request (redirects included) goes to the real as `GET http://host/path`, with `Host:`
//! naming the URL's host, and the same success rule applies.

use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{BoxFuture, Check, Outcome, Target, with_deadline};
use crate::health::config::HttpMethod;

/// Bodies beyond this are cut (the receive regex sees the first MiB).
const MAX_BODY: usize = 1 << 20;
/// LWP's default `max_redirect`.
const MAX_REDIRECTS: usize = 7;

#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// https: TLS without certificate verification (see `tls`).
    pub tls: bool,
    /// http_proxy: the real is a proxy and `request` an absolute `http://` URL.
    pub proxy: bool,
    pub method: HttpMethod,
    /// Path with its leading `/`; for a proxy check, the absolute URL.
    pub request: String,
    pub receive: Option<Regex>,
    pub virtual_host: Option<String>,
    pub timeout: Duration,
}

impl Check for HttpCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            if self.proxy {
                with_deadline(self.timeout, self.fetch_via_proxy(addr)).await
            } else {
                with_deadline(self.timeout, self.fetch(addr)).await
            }
        })
    }
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub status_line: String,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl HttpCheck {
    async fn fetch(&self, first: SocketAddr) -> Outcome {
        let mut addr = first;
        let mut host = self.virtual_host.clone().unwrap_or_else(|| host_of(first));
        let mut path = self.request.clone();
        for _ in 0..=MAX_REDIRECTS {
            let resp = match self.exchange(addr, &host, &path).await {
                Ok(r) => r,
                Err(e) => {
                    let scheme = if self.tls { "https" } else { "http" };
                    return Outcome::Down(format!("{scheme}://{host}{path}: {e}"));
                }
            };
            if (300..400).contains(&resp.status)
                && let Some(loc) = &resp.location
            {
                match redirect(addr, &host, loc, self.tls).await {
                    Some((a, h, p)) => (addr, host, path) = (a, h, p),
                    None => return Outcome::Down(format!("cannot follow redirect to {loc}")),
                }
                continue;
            }
            return self.judge(&resp);
        }
        Outcome::Down("too many redirects".to_owned())
    }

    /// Fetches `request` (an absolute URL) through the proxy at `proxy`, following
    /// redirects through it as LWP does.
    async fn fetch_via_proxy(&self, proxy: SocketAddr) -> Outcome {
        let mut url = self.request.clone();
        for _ in 0..=MAX_REDIRECTS {
            let Some(authority) = http_authority(&url) else {
                return Outcome::Down(format!(
                    "http_proxy needs an absolute http:// URL as request, not {url:?}"
                ));
            };
            let resp = match self.exchange(proxy, authority, &url).await {
                Ok(r) => r,
                Err(e) => return Outcome::Down(format!("{url} via proxy {proxy}: {e}")),
            };
            if (300..400).contains(&resp.status)
                && let Some(loc) = &resp.location
            {
                url = if loc.starts_with("http://") {
                    loc.clone()
                } else if loc.starts_with('/') {
                    format!("http://{authority}{loc}")
                } else {
                    return Outcome::Down(format!("cannot follow redirect to {loc}"));
                };
                continue;
            }
            return self.judge(&resp);
        }
        Outcome::Down("too many redirects".to_owned())
    }

    fn judge(&self, resp: &Response) -> Outcome {
        if !(200..300).contains(&resp.status) {
            return Outcome::Down(resp.status_line.clone());
        }
        match &self.receive {
            Some(re) if !re.is_match(&String::from_utf8_lossy(&resp.body)) => {
                Outcome::Down(format!("{}: body does not match receive", resp.status_line))
            }
            _ => Outcome::Up,
        }
    }

    async fn exchange(
        &self,
        addr: SocketAddr,
        host: &str,
        path: &str,
    ) -> std::io::Result<Response> {
        let method = match self.method {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
        };
        let stream = TcpStream::connect(addr).await?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lvsctl-health\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        let raw = if self.tls {
            let connector = super::tls::connector()
                .ok_or_else(|| std::io::Error::other("TLS is not available"))?;
            let name = super::tls::server_name(self.virtual_host.as_deref(), addr.ip());
            let tls = connector.connect(name, stream).await?;
            round_trip(tls, &req).await?
        } else {
            round_trip(stream, &req).await?
        };
        parse_response(&raw, self.method == HttpMethod::Head)
            .ok_or_else(|| std::io::Error::other("malformed HTTP response"))
    }
}

/// Sends the request and reads until the server closes (or the size cap). A TLS peer that
/// closes without close_notify still counts: the body is what it sent.
async fn round_trip<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    req: &str,
) -> std::io::Result<Vec<u8>> {
    stream.write_all(req.as_bytes()).await?;
    stream.flush().await?;
    let mut raw = Vec::new();
    let mut limited = (&mut stream).take((MAX_BODY + 64 * 1024) as u64);
    match limited.read_to_end(&mut raw).await {
        Ok(_) => Ok(raw),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => Ok(raw),
        Err(e) => Err(e),
    }
}

fn host_of(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) if a.port() == 80 => a.ip().to_string(),
        SocketAddr::V6(a) if a.port() == 80 => format!("[{}]", a.ip()),
        other => other.to_string(),
    }
}

/// The `host[:port]` of an absolute `http://` URL.
fn http_authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then_some(authority)
}

/// Where a `Location` points: same server and Host for relative paths, else
/// `scheme://host[:port]/…` resolved.
async fn redirect(
    current: SocketAddr,
    host: &str,
    loc: &str,
    tls: bool,
) -> Option<(SocketAddr, String, String)> {
    if loc.starts_with('/') {
        return Some((current, host.to_owned(), loc.to_owned()));
    }
    // The scheme stays the check's: an http check follows http:// and an https check
    // https:// (a scheme switch is not followed).
    let (rest, default_port) = match loc.split_once("://")? {
        ("http", rest) if !tls => (rest, 80),
        ("https", rest) if tls => (rest, 443),
        _ => return None,
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !authority.ends_with(']')
    {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    let addr = tokio::net::lookup_host(with_port).await.ok()?.next()?;
    Some((addr, authority.to_owned(), path.to_owned()))
}

/// Status line, `Location`, and the body (content-length, chunked or until close).
pub fn parse_response(raw: &[u8], head: bool) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let header = String::from_utf8_lossy(&raw[..end]);
    let mut lines = header.split("\r\n");
    let status_line = lines.next()?.to_owned();
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let mut location = None;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "location" => location = Some(value.to_owned()),
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let rest = &raw[end + 4..];
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        let n = length.unwrap_or(rest.len()).min(rest.len()).min(MAX_BODY);
        rest[..n].to_vec()
    };
    Some(Response {
        status,
        status_line,
        location,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        rest = &rest[eol + 2..];
        if size == 0 || body.len() >= MAX_BODY {
            break;
        }
        let take = size.min(rest.len());
        body.extend_from_slice(&rest[..take]);
        rest = rest.get(take + 2..).unwrap_or(&[]);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_chunked_and_head() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
            false,
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_response(b"HTTP/1.0 301 Moved\r\nLocation: /new\r\n\r\n", true).unwrap();
        assert_eq!((r.status, r.location.as_deref()), (301, Some("/new")));
        assert!(parse_response(b"SSH-2.0\r\n\r\n", false).is_none());
        assert!(parse_response(b"HTTP/1.1 200", false).is_none());
    }

    /// A proxy that serves `http://backend.example/…` itself: `/old` redirects to `/new`,
    /// `/new` answers 200. Records the request heads it got.
    async fn proxy() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (l, port) = crate::health::check::fake::listener().await;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let first = head.lines().next().unwrap_or("").to_owned();
                let host = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Host: "))
                    .unwrap_or("")
                    .to_owned();
                log.lock().unwrap().push(format!("{first} | {host}"));
                let resp = match first.as_str() {
                    "GET http://backend.example/old HTTP/1.1" => {
                        "HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
                    }
                    "GET http://backend.example/new HTTP/1.1" => {
                        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nproxy ok!"
                    }
                    _ => "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
                };
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        (port, seen)
    }

    fn proxy_check(url: &str, receive: Option<&str>) -> HttpCheck {
        HttpCheck {
            tls: false,
            proxy: true,
            method: HttpMethod::Get,
            request: url.to_owned(),
            receive: receive.map(|r| Regex::new(r).unwrap()),
            virtual_host: None,
            timeout: Duration::from_secs(2),
        }
    }

    #[tokio::test]
    async fn http_proxy_fetches_absolute_urls_through_the_real() {
        use crate::health::check::fake;
        let (port, seen) = proxy().await;
        let t = fake::target(port);
        let c = proxy_check("http://backend.example/old", Some("^proxy ok"));
        assert_eq!(c.run(&t).await, Outcome::Up);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "GET http://backend.example/old HTTP/1.1 | backend.example",
                "GET http://backend.example/new HTTP/1.1 | backend.example"
            ]
        );
        let c = proxy_check("http://backend.example/new", Some("nope"));
        fake::assert_down(&c.run(&t).await, "does not match receive");
        let c = proxy_check("http://elsewhere.example/", None);
        assert_eq!(
            c.run(&t).await,
            Outcome::Down("HTTP/1.1 502 Bad Gateway".into())
        );
        let c = proxy_check("status.html", None);
        fake::assert_down(&c.run(&t).await, "needs an absolute http:// URL");
        let silent = fake::target(fake::silent().await);
        let mut c = proxy_check("http://backend.example/new", None);
        c.timeout = Duration::from_millis(300);
        let outcome = fake::within(c.timeout, c.run(&silent)).await;
        assert_eq!(outcome, Outcome::Down("timed out after 300 ms".into()));
        let junk = fake::target(fake::garbage(b"\x00\xffnot http\r\n\r\n").await);
        fake::assert_down(
            &proxy_check("http://a/", None).run(&junk).await,
            "malformed",
        );
    }

    #[test]
    fn authority_of_http_urls() {
        assert_eq!(
            http_authority("http://a.example:3128/x?y"),
            Some("a.example:3128")
        );
        assert_eq!(http_authority("http://a.example"), Some("a.example"));
        assert_eq!(http_authority("http:///x"), None);
        assert_eq!(http_authority("https://a/"), None);
    }
}
