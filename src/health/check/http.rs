//! `service=http`/`https` negotiate checks: a small HTTP/1.1 client over tokio TCP, with
//! rustls for https and httparse for the response head.
//!
//! What ldirectord counts as up: the *final* response (redirects are followed, as LWP does,
//! up to 7 hops) has a 2xx status and, when `receive` is set, its body matches that regular
//! expression. A small client of our own keeps the binary small and puts the whole exchange
//! under the check's one deadline.
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

use regex::Regex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http_response::{MAX_BODY, Response, complete_len, parse_response};
use super::net::Failure;
use super::{BoxFuture, Check, Outcome, Target, with_deadline};
use crate::health::config::HttpMethod;

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

/// An absolute `http://` or `https://` URL, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub tls: bool,
    /// `host[:port]` as written (user info removed): what LWP puts into `Host:`.
    pub authority: String,
    /// The host without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, at least `/`; the fragment is dropped.
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Option<Self> {
        let (scheme, rest) = text.split_once("://")?;
        let (tls, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (false, 80),
            "https" => (true, 443),
            _ => return None,
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let (host, after) = inner.split_once(']')?;
            match after.strip_prefix(':') {
                Some(p) if !p.is_empty() => (host, p.parse().ok()?),
                _ if after.is_empty() || after == ":" => (host, default_port),
                _ => return None,
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, "")) => (h, default_port),
                Some((h, p)) => (h, p.parse().ok()?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return None;
        }
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Some(Self {
            tls,
            authority: authority.to_owned(),
            host: host.to_owned(),
            port,
            path,
        })
    }

    fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// `Location` resolved against this URL (absolute, scheme-relative, absolute-path,
    /// query-only or relative-path references).
    pub fn join(&self, location: &str) -> String {
        let scheme_len = location.find("://").filter(|&i| {
            i > 0
                && location[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if scheme_len.is_some() {
            return location.to_owned();
        }
        let origin = format!("{}://{}", self.scheme(), self.authority);
        if let Some(rest) = location.strip_prefix("//") {
            format!("{}://{rest}", self.scheme())
        } else if location.starts_with('/') {
            format!("{origin}{location}")
        } else if location.starts_with('?') {
            let path = self.path.split('?').next().unwrap_or("/");
            format!("{origin}{path}{location}")
        } else {
            let path = self.path.split('?').next().unwrap_or("/");
            let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
            format!("{origin}{dir}{location}")
        }
    }

    async fn socket_addr(&self) -> std::io::Result<SocketAddr> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        tokio::net::lookup_host((self.host.as_str(), self.port))
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("{} has no address", self.host)))
    }
}

/// The real's address as ldirectord writes it into URLs and `Host:` (IPv6 bracketed).
fn bare_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
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
        for _ in 0..=MAX_REDIRECTS {
            let Some(u) = Url::parse(&url) else {
                return Outcome::Down(format!("URL must be absolute http(s): {url:?}"));
            };
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
            match &resp.location {
                Some(loc) if is_followed_redirect(resp.status) => url = u.join(loc),
                _ => return self.judge(&resp),
            }
        }
        Outcome::Down("too many redirects".to_owned())
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
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lvsctl-health\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        let raw = if url.tls && proxy.is_none() {
            // SNI names the host the Host header names (none for an IP address).
            let sni_host = Url::parse(&format!("https://{host}")).map(|h| h.host);
            let mut tls = super::tls::handshake(stream, sni_host.as_deref(), addr.ip()).await?;
            round_trip(&mut tls, &req, head_request).await?
        } else {
            round_trip(&mut stream, &req, head_request).await?
        };
        parse_response(&raw, head_request).map_err(std::io::Error::other)
    }
}

/// Sends the request and reads until the response is complete by its framing, or until
/// the server closes (or the size cap). A TLS peer that closes without close_notify still
/// counts: the body is what it sent.
async fn round_trip<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    req: &str,
    head_request: bool,
) -> std::io::Result<Vec<u8>> {
    stream.write_all(req.as_bytes()).await?;
    stream.flush().await?;
    let cap = MAX_BODY + 64 * 1024;
    let mut raw = Vec::with_capacity(1024);
    loop {
        if raw.len() >= cap {
            raw.truncate(cap);
            return Ok(raw);
        }
        if raw.capacity() == raw.len() {
            raw.reserve(16 * 1024);
        }
        match stream.read_buf(&mut raw).await {
            Ok(0) => return Ok(raw),
            Ok(_) => {
                if let Some(n) = complete_len(&raw, head_request) {
                    raw.truncate(n);
                    return Ok(raw);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {
                return Ok(raw);
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        fake::assert_down(&c.run(&t).await, "URL must be absolute");
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

    /// A response head with more fields than the parser holds is a down check that says
    /// so; a `gzip, chunked` body is read as chunked.
    #[tokio::test]
    async fn heads_the_parser_refuses_or_codings_it_stacks() {
        use crate::health::check::fake;
        const STACKED: &[(&str, &str)] = &[(
            "/",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4\r\nfine\r\n0\r\n\r\n",
        )];
        use std::fmt::Write as _;
        let mut crowded = "HTTP/1.1 200 OK\r\n".to_owned();
        for i in 0..101 {
            write!(crowded, "X-Field-{i}: v\r\n").unwrap();
        }
        crowded.push_str("Content-Length: 4\r\n\r\nfine");
        let t = fake::target(fake::garbage(crowded.leak().as_bytes()).await);
        fake::assert_down(
            &check("/", None).run(&t).await,
            "malformed HTTP response: more than 100 header fields",
        );
        let (port, _) = fake::http_recorder(STACKED).await;
        // Dechunked, the body is `fine` and matches receive; taken as it came, it would be
        // the chunk framing too and would not.
        assert_eq!(check("/", None).run(&fake::target(port)).await, Outcome::Up);
    }

    #[test]
    fn urls_parse_and_join_as_lwp_resolves_them() {
        let u = Url::parse("https://user:pw@www.example:8443/a/b?q=1#frag").unwrap();
        assert_eq!(
            (
                u.tls,
                u.authority.as_str(),
                u.host.as_str(),
                u.port,
                u.path.as_str()
            ),
            (true, "www.example:8443", "www.example", 8443, "/a/b?q=1")
        );
        let u = Url::parse("http://[2001:db8::1]:81?x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("2001:db8::1", 81, "/?x")
        );
        let u = Url::parse("HTTP://a.example").unwrap();
        assert_eq!(
            (u.authority.as_str(), u.port, u.path.as_str()),
            ("a.example", 80, "/")
        );
        for bad in [
            "http:///x",
            "ftp://a/",
            "status.html",
            "http://a:99999/",
            "http://[::1/",
        ] {
            assert_eq!(Url::parse(bad), None, "{bad}");
        }
        let base = Url::parse("http://10.1.0.1:80/dir/page?x=1").unwrap();
        assert_eq!(base.join("/new"), "http://10.1.0.1:80/new");
        assert_eq!(base.join("other"), "http://10.1.0.1:80/dir/other");
        assert_eq!(base.join("?y=2"), "http://10.1.0.1:80/dir/page?y=2");
        assert_eq!(base.join("//b.example/x"), "http://b.example/x");
        assert_eq!(base.join("https://c.example/"), "https://c.example/");
    }

    #[test]
    fn first_request_follows_ldirectord_ld_setup() {
        // A per-real request containing the scheme is the whole URL.
        assert_eq!(
            first_request(Some("/http://www.example/x"), "/", "http", false),
            "http://www.example/x"
        );
        // The match is unanchored, as in ldirectord (and LWP then refuses the relative URL).
        assert_eq!(
            first_request(Some("/cgi?u=http://a/"), "/", "http", false),
            "cgi?u=http://a/"
        );
        // An https check needs `https://` in it; anything else is a path on the real.
        assert_eq!(
            first_request(Some("/http://www.example/x"), "/", "https", false),
            "/http://www.example/x"
        );
        assert_eq!(
            first_request(Some("/ok.html"), "/", "https", false),
            "/ok.html"
        );
        // A virtual request is always a path (http) or the URL itself (http_proxy).
        assert_eq!(
            first_request(None, "/http://www.example/x", "http", false),
            "/http://www.example/x"
        );
        assert_eq!(
            first_request(None, "/http://www.example/x", "http", true),
            "http://www.example/x"
        );
        assert_eq!(first_request(Some("/s"), "/", "http", true), "/s");
    }

    fn check(request: &str, virtual_host: Option<&str>) -> HttpCheck {
        HttpCheck {
            tls: false,
            proxy: false,
            method: HttpMethod::Get,
            request: request.to_owned(),
            receive: Some(Regex::new("^fine$").unwrap()),
            virtual_host: virtual_host.map(str::to_owned),
            timeout: Duration::from_secs(2),
        }
    }

    const ROUTES: &[(&str, &str)] = &[
        (
            "/a",
            "HTTP/1.1 301 Moved\r\nLocation: b\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "/b",
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:PORT/c\r\nContent-Length: 0\r\n\r\n",
        ),
        ("/c", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine"),
        ("/304", "HTTP/1.1 304 Not Modified\r\nLocation: /c\r\n\r\n"),
    ];

    #[tokio::test]
    async fn host_is_the_bare_real_or_virtualhost_first_then_the_url_authority() {
        use crate::health::check::fake;
        let (port, seen) = crate::health::check::fake::http_recorder(ROUTES).await;
        let t = fake::target(port);
        assert_eq!(check("/a", Some("www.example")).run(&t).await, Outcome::Up);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "GET /a HTTP/1.1 | www.example".to_owned(),
                format!("GET /b HTTP/1.1 | 127.0.0.1:{port}"),
                format!("GET /c HTTP/1.1 | 127.0.0.1:{port}"),
            ]
        );
        seen.lock().unwrap().clear();
        // No virtualhost: the real's IP without the port (ldirectord's Host => server).
        assert_eq!(check("/c", None).run(&t).await, Outcome::Up);
        assert_eq!(*seen.lock().unwrap(), ["GET /c HTTP/1.1 | 127.0.0.1"]);
        // Only 301/302/303/307/308 are followed.
        fake::assert_down(&check("/304", None).run(&t).await, "304 Not Modified");
    }

    #[tokio::test]
    async fn a_per_real_url_goes_to_the_url_host_not_to_the_real() {
        use crate::health::check::fake;
        let (port, seen) = crate::health::check::fake::http_recorder(ROUTES).await;
        // The real's check port is closed; the URL names the server that answers.
        let closed = fake::target(1);
        let url = format!("http://127.0.0.1:{port}/c");
        assert_eq!(
            check(&url, Some("www.example")).run(&closed).await,
            Outcome::Up
        );
        assert_eq!(*seen.lock().unwrap(), ["GET /c HTTP/1.1 | www.example"]);
        let c = check(&url, None);
        assert_eq!(c.run(&closed).await, Outcome::Up);
        fake::assert_down(
            &check("cgi?u=http://a/", None).run(&closed).await,
            "URL must be absolute",
        );
        // A request that only looks like a URL stays a path on the real.
        let real = fake::target(port);
        fake::assert_down(
            &check(&format!("/{url}"), None).run(&real).await,
            "404 Not Found",
        );
        assert_eq!(
            seen.lock().unwrap().last().unwrap(),
            &format!("GET /{url} HTTP/1.1 | 127.0.0.1")
        );
    }
}
