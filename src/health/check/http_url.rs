//! Absolute http(s) URLs as the http check meets them: the first request's URL, and each
//! redirect's `Location` resolved against the URL it answered.
//!
//! A URL or `Location` with a control character is refused outright: it would end up in
//! the request line or the `Host:` header, where a CR or LF starts a new header (a real
//! server could make the checker send headers of its choosing) and a NUL or other C0
//! character is never valid.

use std::net::{IpAddr, SocketAddr};

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
    /// The URL taken apart; None when it is not an absolute http(s) URL or holds a
    /// control character.
    pub fn parse(text: &str) -> Option<Self> {
        if has_control(text) {
            return None;
        }
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

    pub fn scheme(&self) -> &'static str {
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

    pub async fn socket_addr(&self) -> std::io::Result<SocketAddr> {
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
pub fn bare_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// Whether `text` holds a C0 control character (CR, LF, NUL, …) or DEL.
pub fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_control())
}
