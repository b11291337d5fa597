//! The http check against in-process servers: URLs, Host headers, proxies, redirects.

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
        redirects: RedirectPolicy::default(),
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
        redirects: RedirectPolicy::default(),
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

/// A server that answers every request with `response` and counts the requests.
async fn counting(response: &'static str) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (l, port) = crate::health::check::fake::listener().await;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = s.write_all(response.as_bytes()).await;
        }
    });
    (port, count)
}

fn with_policy(redirects: RedirectPolicy) -> HttpCheck {
    HttpCheck {
        redirects,
        receive: None,
        ..check("/", None)
    }
}

/// A real that redirects to another port of 127.0.0.1, where something would answer 200:
/// by default the check does not go there (the redirect leaves the real) and says why;
/// redirects=any goes, as ldirectord does; redirects=none follows nothing.
#[tokio::test]
async fn redirects_leave_the_real_only_when_allowed() {
    use crate::health::check::fake;
    use std::sync::atomic::Ordering;
    let (elsewhere, hits) = counting("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let moved = format!(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{elsewhere}/admin\r\nContent-Length: 0\r\n\r\n"
    );
    let (real, _) = counting(moved.leak()).await;
    let t = fake::target(real);
    let outcome = with_policy(RedirectPolicy::SameReal).run(&t).await;
    fake::assert_down(
        &outcome,
        &format!(
            "HTTP/1.1 302 Found: redirect to http://127.0.0.1:{elsewhere}/admin leaves the real server"
        ),
    );
    fake::assert_down(&outcome, "redirects=same-real");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the other server"
    );
    let outcome = with_policy(RedirectPolicy::None).run(&t).await;
    fake::assert_down(&outcome, "not followed (redirects=none)");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert_eq!(with_policy(RedirectPolicy::Any).run(&t).await, Outcome::Up);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// Redirects that stay on the real are followed under the default: a relative Location,
/// and an absolute one naming the real's address and port, in any spelling.
#[tokio::test]
async fn redirects_that_stay_on_the_real_are_followed() {
    use crate::health::check::fake;
    const STAYS: &[(&str, &str)] = &[
        (
            "/a",
            "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "/b",
            "HTTP/1.1 302 Found\r\nLocation: HTTP://127.0.0.1:PORT/c\r\nContent-Length: 0\r\n\r\n",
        ),
        ("/c", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine"),
        (
            "/port",
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/c\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "/ftp",
            "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/c\r\nContent-Length: 0\r\n\r\n",
        ),
    ];
    let (port, seen) = fake::http_recorder(STAYS).await;
    let t = fake::target(port);
    assert_eq!(check("/a", None).run(&t).await, Outcome::Up);
    assert_eq!(seen.lock().unwrap().len(), 3);
    // The same address on another port is another server.
    fake::assert_down(
        &check("/port", None).run(&t).await,
        "leaves the real server",
    );
    // A Location that is no http(s) URL says so, whatever the policy.
    fake::assert_down(
        &check("/ftp", None).run(&t).await,
        "URL must be absolute http(s): \"ftp://127.0.0.1/c\"",
    );
}

/// A Location that smuggles a header (a CR LF inside a folded field value) is refused, and
/// so is a configured URL with a control character: nothing with them is sent.
#[tokio::test]
async fn control_characters_in_urls_are_refused() {
    use crate::health::check::fake;
    const FOLDED: &[(&str, &str)] = &[(
        "/a",
        "HTTP/1.1 302 Found\r\nLocation: /b\r\n X-Injected: 1\r\nContent-Length: 0\r\n\r\n",
    )];
    let (port, seen) = fake::http_recorder(FOLDED).await;
    let t = fake::target(port);
    let outcome = check("/a", None).run(&t).await;
    fake::assert_down(&outcome, "Location holds control characters");
    assert_eq!(seen.lock().unwrap().len(), 1, "{:?}", seen.lock().unwrap());
    let mut any = check("/a", None);
    any.redirects = RedirectPolicy::Any;
    fake::assert_down(&any.run(&t).await, "Location holds control characters");
    fake::assert_down(
        &check("/x\r\nX-Injected: 1", None).run(&t).await,
        "URL contains control characters",
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(Url::parse("http://a/\0"), None);
}

/// A head that never ends (100 MB of header) is down once it passes 64 KiB, long before
/// the deadline; a body the verdict does not need is not waited for.
#[tokio::test]
async fn endless_heads_are_cut_and_unneeded_bodies_are_not_read() {
    use crate::health::check::fake;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (l, port) = fake::listener().await;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Big: ").await;
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..1600 {
                    if s.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut c = check("/", None);
    c.timeout = Duration::from_secs(20);
    let start = std::time::Instant::now();
    fake::assert_down(
        &c.run(&fake::target(port)).await,
        "malformed HTTP response: head longer than 65536 bytes",
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );

    // Head in, body promised but never sent: up without receive=, down with it.
    let stalls = fake::garbage_then_hold(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").await;
    let t = fake::target(stalls);
    let mut c = with_policy(RedirectPolicy::SameReal);
    c.timeout = Duration::from_millis(500);
    assert_eq!(c.run(&t).await, Outcome::Up);
    let mut c = check("/", None);
    c.timeout = Duration::from_millis(500);
    assert_eq!(
        c.run(&t).await,
        Outcome::Down("timed out after 500 ms".into())
    );
}
