//! `lvsctl health convert`: a keepalived.conf's LVS part written as an ldirectord.cf, and an
//! ldirectord.cf written as a keepalived.conf, as far as the two formats say the same thing.
//!
//! Both directions start from the resolved models the readers produce
//! ([`crate::health::keepalived::KeepalivedConfig`], [`crate::health::config::Config`]), so
//! every default is written out explicitly and the output does not depend on the other
//! program's defaults. Whatever the target format cannot express is never dropped quietly:
//! it becomes a [`Lost`] note naming the source line, and a comment at the place in the
//! output where it would have gone. The rules are in docs/keepalived-compat.md, Converting.
//! Pure: text in, text out.

mod from_keepalived;
mod from_ldirectord;
#[cfg(test)]
mod tests;

pub use from_keepalived::keepalived_to_ldirectord;
pub use from_ldirectord::ldirectord_to_keepalived;

use std::fmt;
use std::net::IpAddr;

use crate::ipvs::model::Netmask;

/// The converted file and what could not be carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub text: String,
    pub lost: Vec<Lost>,
}

/// Something of the source the target format cannot say, with the source line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    pub file: String,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: a setting of the whole file whose line the reader does not keep.
        if self.line == 0 {
            write!(f, "{}: not carried over: {}", self.file, self.what)
        } else {
            write!(
                f,
                "{}:{}: not carried over: {}",
                self.file, self.line, self.what
            )
        }
    }
}

/// Collects the output and the notes side by side, so each note also lands as a comment
/// where the lost setting would have been written.
struct Writer {
    file: String,
    text: String,
    lost: Vec<Lost>,
}

impl Writer {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            text: String::new(),
            lost: Vec::new(),
        }
    }

    fn line(&mut self, indent: usize, text: impl AsRef<str>) {
        for _ in 0..indent {
            self.text.push_str("    ");
        }
        self.text.push_str(text.as_ref());
        self.text.push('\n');
    }

    /// Notes a loss and leaves a comment (`#` is a comment in both formats).
    fn lose(&mut self, indent: usize, line: usize, what: impl Into<String>) {
        let what = what.into();
        self.line(indent, format!("# not carried over: {what}"));
        // One block read several times (a group's services) says it once.
        if !self.lost.iter().any(|l| l.line == line && l.what == what) {
            self.lost.push(Lost {
                file: self.file.clone(),
                line,
                what,
            });
        }
    }

    fn finish(self) -> Conversion {
        Conversion {
            text: self.text,
            lost: self.lost,
        }
    }
}

/// A persistence netmask as both formats write it: a dotted quad for IPv4, a prefix length
/// for IPv6.
fn netmask_text(mask: Netmask) -> String {
    match mask {
        Netmask::V4(m) => m.to_string(),
        Netmask::V6(prefix) => prefix.to_string(),
    }
}

/// `ADDR:PORT` in ldirectord's spelling (`[v6]:port`); port 0 (a firewall-mark service's
/// real server) is left out.
fn host_port(addr: IpAddr, port: u16) -> String {
    match (addr, port) {
        (IpAddr::V4(a), 0) => a.to_string(),
        (IpAddr::V6(a), 0) => format!("[{a}]"),
        (IpAddr::V4(a), _) => format!("{a}:{port}"),
        (IpAddr::V6(a), _) => format!("[{a}]:{port}"),
    }
}

/// A value written in double quotes in either format: both readers take the text between
/// the quotes literally, so a value with a double quote or a line break cannot be written.
fn quoted(value: &str) -> Option<String> {
    (!value.contains(['"', '\n', '\r'])).then(|| format!("\"{value}\""))
}
