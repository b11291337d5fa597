//! The checker part of the model: each checker type's parameters, with the timing and
//! connection every timed checker has, and the top-level blocks checkers refer to.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::super::diag::Pos;
use super::{Script, seconds};

/// One checker of a real server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checker {
    pub pos: Pos,
    pub kind: CheckerKind,
    /// None for FILE_CHECK, which watches a file rather than running on a timer.
    pub timing: Option<Timing>,
    /// Where the check connects; None for MISC_CHECK and FILE_CHECK.
    pub connection: Option<Connection>,
    /// Counts as failed until it first succeeds (inherited from the real server).
    pub alpha: bool,
    /// Log every failure, not only state changes.
    pub log_all_failures: bool,
}

/// When a timed checker runs, after inheritance: a value the checker leaves unset comes
/// from its real server, which takes it from its virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// Between checks. Default 60 s (the virtual server's).
    #[serde(serialize_with = "seconds")]
    pub delay_loop: Duration,
    /// Failures retried before the checker is down. Default 1; MISC_CHECK 0; DNS_CHECK 3.
    pub retry: u32,
    /// Between a failure and its retry. Default 1 s; HTTP_GET/SSL_GET 3 s; DNS_CHECK the
    /// delay loop.
    #[serde(serialize_with = "seconds")]
    pub delay_before_retry: Duration,
    /// The first check runs after a random delay up to this. Default: the delay loop.
    #[serde(serialize_with = "seconds")]
    pub warmup: Duration,
}

/// Where and how a checker connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// `connect_ip`/`connect_port`, defaulting to the real server's address and the port
    /// written on its `real_server` line.
    pub target: SocketAddr,
    /// `bindto`/`bind_port`.
    pub bind_addr: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    /// `fwmark`: the mark put on the check's packets.
    pub fwmark: Option<u32>,
    /// Default 5 s (the virtual server's).
    #[serde(serialize_with = "seconds")]
    pub connect_timeout: Duration,
}

/// The checker types and their parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CheckerKind {
    /// Connects, then closes.
    Tcp,
    /// HTTP_GET.
    Http(HttpCheck),
    /// SSL_GET: HTTP over TLS, with the top-level `SSL` block's certificate if any.
    Ssl(HttpCheck),
    Misc(MiscCheck),
    Smtp(SmtpCheck),
    Dns(DnsCheck),
    Udp(UdpCheck),
    /// ICMP echo.
    Ping,
    File(FileCheck),
}

impl CheckerKind {
    /// The checker's keyword in keepalived.conf.
    pub const fn keyword(&self) -> &'static str {
        match self {
            Self::Tcp => "TCP_CHECK",
            Self::Http(_) => "HTTP_GET",
            Self::Ssl(_) => "SSL_GET",
            Self::Misc(_) => "MISC_CHECK",
            Self::Smtp(_) => "SMTP_CHECK",
            Self::Dns(_) => "DNS_CHECK",
            Self::Udp(_) => "UDP_CHECK",
            Self::Ping => "PING_CHECK",
            Self::File(_) => "FILE_CHECK",
        }
    }
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpCheck {
    pub urls: Vec<Url>,
    pub http_protocol: HttpProtocol,
    /// Send the host name (virtualhost, else the address) as TLS SNI.
    pub enable_sni: bool,
    /// Retry a failed URL at once when the real server is down.
    pub fast_recovery: bool,
}

/// The request line's version and whether `Connection: close` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpProtocol {
    /// `1.0` (default): HTTP/1.0 without Connection header.
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: HTTP/1.1 with `Connection: close`.
    Http11,
}

/// One `url` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Url {
    pub path: String,
    /// MD5 of the body.
    pub digest: Option<Digest>,
    /// Accepted status codes (default 200-299).
    pub status_codes: StatusCodes,
    /// The Host header: the url's `virtualhost`, else the checker's, the real server's or
    /// the virtual server's; None sends the address and port.
    pub virtualhost: Option<String>,
    pub regex: Option<UrlRegex>,
}

/// An MD5 digest (shown as 32 hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub [u8; 16]);

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(32);
        for b in self.0 {
            let _ = write!(hex, "{b:02x}");
        }
        s.serialize_str(&hex)
    }
}

/// HTTP status codes as sorted, disjoint, inclusive ranges (shown as `200-299`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCodes(Vec<(u16, u16)>);

impl StatusCodes {
    /// Adds `lo..=hi`, merging with what overlaps or touches it.
    pub fn add(&mut self, lo: u16, hi: u16) {
        self.0.push((lo, hi));
        self.0.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(self.0.len());
        for &(a, b) in &self.0 {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.0 = merged;
    }

    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|&(a, b)| (a..=b).contains(&code))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }
}

impl Serialize for StatusCodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        }))
    }
}

/// `regex` with its options (PCRE2 syntax and option names as keepalived passes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlRegex {
    pub pattern: String,
    /// `regex_no_match`: succeed when the body does not match.
    pub no_match: bool,
    pub options: Vec<String>,
    pub min_offset: usize,
    /// One beyond the last offset a match may start at (0: no limit).
    pub max_offset: usize,
}

/// MISC_CHECK: runs a program; success is exit 0 (see `dynamic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MiscCheck {
    pub script: Script,
    /// Kills the program after this long. Default: the virtual server's delay loop.
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
    /// `misc_dynamic`: exit 0 up, 1 down, 2..255 up with weight (code - 2).
    pub dynamic: bool,
}

/// SMTP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpCheck {
    /// Default `smtpchecker.keepalived.org`.
    pub helo_name: String,
}

/// DNS_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsCheck {
    /// Default SOA.
    pub query_type: DnsType,
    /// Default the root (empty name).
    pub name: String,
}

/// The query types DNS_CHECK knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Mx,
    Txt,
    Aaaa,
    Rrsig,
    Dnskey,
}

impl DnsType {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "A" => Self::A,
            "NS" => Self::Ns,
            "CNAME" => Self::Cname,
            "SOA" => Self::Soa,
            "MX" => Self::Mx,
            "TXT" => Self::Txt,
            "AAAA" => Self::Aaaa,
            "RRSIG" => Self::Rrsig,
            "DNSKEY" => Self::Dnskey,
            _ => return None,
        })
    }

    /// The RR type number.
    pub const fn code(self) -> u16 {
        match self {
            Self::A => 1,
            Self::Ns => 2,
            Self::Cname => 5,
            Self::Soa => 6,
            Self::Mx => 15,
            Self::Txt => 16,
            Self::Aaaa => 28,
            Self::Rrsig => 46,
            Self::Dnskey => 48,
        }
    }
}

/// UDP_CHECK: sends `payload` (keepalived's 32-byte filler when none) and, with
/// `require_reply`, needs an answer matching `reply` where `reply_mask` bits are clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UdpCheck {
    pub payload: Vec<u8>,
    pub require_reply: bool,
    pub reply: Vec<u8>,
    /// Set bits are wildcards (`X` nibbles in the hex string).
    pub reply_mask: Vec<u8>,
    pub min_reply_length: u16,
    /// Default 255.
    pub max_reply_length: u16,
}

/// FILE_CHECK: the real server's weight follows a number in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    /// The `track_file` it names.
    pub track_file: String,
    pub file: PathBuf,
    /// The value in the file is multiplied by this (the FILE_CHECK's `weight`, else the
    /// track_file's); 0 means any non-zero value takes the server down.
    pub weight: i32,
    pub reverse: bool,
}

/// A top-level `track_file NAME { file PATH; weight N [reverse]; init_file [N] [overwrite] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackFile {
    pub name: String,
    pub pos: Pos,
    pub file: PathBuf,
    /// Default 1.
    pub weight: i32,
    pub reverse: bool,
    /// `init_file`: create the file with this value at start (`overwrite`: even if it
    /// exists).
    pub init: Option<TrackFileInit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrackFileInit {
    pub value: i32,
    pub overwrite: bool,
}

/// The top-level `SSL` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SslContext {
    pub password: Option<String>,
    pub ca: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
}
