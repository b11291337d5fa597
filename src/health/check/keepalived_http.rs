//! keepalived 2.2.7's HTTP_GET/SSL_GET exchange, pure: the request it sends and how it
//! judges what it reads back. The I/O around it (connect, write, read until EOF with
//! `connect_timeout` per read) is not here.
//!
//! Facts this relies on, as keepalived's check_http.c and lib/html.c do it:
//! - The request is `GET <path> HTTP/1.<0|1>`, `User-Agent: KeepAliveClient`, then
//!   `Connection: close` for `http_protocol` 1.0C and 1.1, then `Host:` — the virtualhost
//!   if any, else the address (bracketed for IPv6) and `:port` — and an empty line. It is
//!   formatted into a 2048-byte buffer, so it is cut at 2047 bytes.
//! - Reads go into one 4096-byte buffer (4095 bytes of data). Until the header's end
//!   (the first CRLFCRLF) has been seen, reads accumulate; a full buffer without it reads
//!   nothing more and counts as the end of the stream. The response is judged at EOF.
//! - No header end by then: the check fails ("no data received"). The status is the three
//!   characters after the first space of the first line, when they are followed by a space
//!   and are digits; it must be one of the url's codes (else the check fails).
//! - `Content-Length:` (case as written) is searched in the buffer that held the header's
//!   end, up to any NUL byte, body included; it limits how many body bytes go into the MD5.
//! - The body's MD5 (of at most Content-Length bytes) must equal the url's `digest`.
//!   The count of body bytes it is limited by adds the whole read buffer after each read,
//!   so bytes a `regex` partial match kept are counted again (keepalived's `rx_bytes`).
//! - With a `regex`, each read buffer is searched (see [`super::keepalived_regex`]), and
//!   the url fails when a match was found with `regex_no_match`, or none without it.
//! - The checks come in that order (status, digest, regex); the first that fails names
//!   the failure.
//! - Redirects are not followed: a 301 is a status like any other.

use md5::{Digest as _, Md5};

use super::keepalived_regex::{Regex, Scan};
use crate::ipvsadm::parse::numbers::c_decimal;

/// keepalived's read buffer holds this much data.
pub(super) const BUFFER: usize = 4095;
/// keepalived formats its request into a buffer of this size (with its NUL).
const REQUEST_BUFFER: usize = 2048;

pub use crate::health::config::KeepalivedProtocol as Protocol;

/// The request keepalived sends. `host` is the virtualhost, or None to send `addr`.
pub fn request(
    path: &str,
    protocol: Protocol,
    host: Option<&str>,
    addr: std::net::SocketAddr,
) -> Vec<u8> {
    let minor = u8::from(protocol == Protocol::Http11);
    let close = if protocol == Protocol::Http10 {
        ""
    } else {
        "Connection: close\r\n"
    };
    let host = match (host, addr) {
        (Some(h), _) => h.to_owned(),
        (None, std::net::SocketAddr::V4(a)) => format!("{}:{}", a.ip(), a.port()),
        (None, std::net::SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let mut out = format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
    .into_bytes();
    out.truncate(REQUEST_BUFFER - 1);
    out
}

/// What one url asks of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// Accepted status codes, as inclusive ranges.
    pub status: Vec<(u16, u16)>,
    pub digest: Option<[u8; 16]>,
    pub regex: Option<Regex>,
}

/// Why a response failed (keepalived's wording in its log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NoData,
    Status,
    Digest,
    Regex,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoData => "Read, no data received",
            Self::Status => "HTTP status code error",
            Self::Digest => "MD5 digest error",
            Self::Regex => "Regex match failed",
        })
    }
}

/// The response as it is read.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// keepalived's read buffer: until the header's end, then what a regex partial match
    /// kept.
    buffer: Vec<u8>,
    extracted: bool,
    status: Option<u16>,
    content_len: Option<u64>,
    body_seen: u64,
    md5: Md5,
    regex: Option<Regex>,
    scan: Scan,
}

impl Response {
    /// A response to the url `expect` judges (its regex is searched as data comes).
    pub fn new(expect: &Expect) -> Self {
        Self {
            regex: expect.regex.clone(),
            ..Self::default()
        }
    }

    /// How many bytes the next read may take; 0 means keepalived sees the end.
    pub fn room(&self) -> usize {
        BUFFER - self.buffer.len()
    }

    /// Takes one read's bytes (at most [`Self::room`]; more is cut).
    pub fn feed(&mut self, data: &[u8]) {
        let data = &data[..data.len().min(self.room())];
        if self.extracted {
            self.digest(data);
            self.buffer.extend_from_slice(data);
            self.body_seen = self.body_seen.saturating_add(self.buffer.len() as u64);
            self.search(true);
            return;
        }
        self.buffer.extend_from_slice(data);
        let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            return;
        };
        self.extracted = true;
        self.status = status_code(&self.buffer);
        self.content_len = content_length(&self.buffer);
        let body = self.buffer[end + 4..].to_vec();
        self.digest(&body);
        self.body_seen = body.len() as u64;
        // The whole buffer, header included, is the first subject; not searched at all
        // when no body byte came with the header.
        self.search(!body.is_empty());
    }

    /// The MD5 of `data`, up to Content-Length counted against the bytes seen so far.
    fn digest(&mut self, data: &[u8]) {
        let len = data.len() as u64;
        let take = match self.content_len {
            Some(limit) => limit.saturating_sub(self.body_seen).min(len),
            None => len,
        };
        self.md5
            .update(&data[..usize::try_from(take).unwrap_or(data.len())]);
    }

    /// Searches the buffer when `search` (and there is a regex); empties it unless a
    /// partial match keeps it.
    fn search(&mut self, search: bool) {
        let keep = match (&self.regex, search) {
            (Some(re), true) => self.scan.check(re, &mut self.buffer),
            _ => false,
        };
        if !keep {
            self.buffer.clear();
        }
    }

    /// The verdict at EOF.
    pub fn judge(self, expect: &Expect) -> Result<(), Failure> {
        if !self.extracted {
            return Err(Failure::NoData);
        }
        let status = self.status.unwrap_or(0);
        if !expect
            .status
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&status))
        {
            return Err(Failure::Status);
        }
        if let Some(want) = expect.digest
            && <[u8; 16]>::from(self.md5.finalize()) != want
        {
            return Err(Failure::Digest);
        }
        match &expect.regex {
            Some(re) if self.scan.matched() == re.no_match => Err(Failure::Regex),
            _ => Ok(()),
        }
    }
}

/// The three digits after the first space of the first line, followed by a space.
fn status_code(buf: &[u8]) -> Option<u16> {
    let space = buf.iter().position(|&b| b == b' ' || b == b'\r')?;
    if buf[space] != b' ' {
        return None;
    }
    let code = buf.get(space + 1..space + 5)?;
    if code[3] != b' ' || !code[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        code[..3]
            .iter()
            .fold(0, |n, &d| n * 10 + u16::from(d - b'0')),
    )
}

/// `Content-Length:` as keepalived reads it: the first occurrence before any NUL, then a C
/// `strtoul` (blanks, a sign, digits) that must end at CR, LF or the data's end; None is
/// keepalived's "no length" (also for a value that overflows).
fn content_length(buf: &[u8]) -> Option<u64> {
    const TAG: &[u8] = b"Content-Length:";
    let text = buf.split(|&b| b == 0).next().unwrap_or_default();
    let at = text.windows(TAG.len()).position(|w| w == TAG)? + TAG.len();
    let rest = &text[at..];
    let n = c_decimal(rest);
    let value = match (n.digits, n.magnitude) {
        (false, _) => 0,
        // strtoul's ERANGE: ULONG_MAX, which keepalived reads as no length.
        (true, None) => return None,
        (true, Some(m)) if n.negative => m.wrapping_neg(),
        (true, Some(m)) => m,
    };
    let end = n.end;
    match rest.get(end) {
        None | Some(b'\r' | b'\n') => (value != u64::MAX).then_some(value),
        Some(_) => None,
    }
}

#[cfg(test)]
#[path = "keepalived_http_tests.rs"]
mod tests;
