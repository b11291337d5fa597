//! Everything the parser needs from the outside world, behind one trait.
//!
//! ldirectord resolves host and service names once at load time, fills FTP/SIP credentials
//! from the host name, and checks that the log, monitor and maintenance paths are usable.
//! Keeping those behind [`ParseEnv`] leaves the parser a pure function of (text, env) and lets
//! tests run without DNS or a particular /etc/services.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

use crate::ipvs::model::AddressFamily;

pub trait ParseEnv {
    /// First address of `family` for a host name (names only; literals never get here).
    fn host(&self, name: &str, family: AddressFamily) -> Option<IpAddr>;
    /// Port of a service name for `proto` (`tcp`, `udp`, `sctp`); `""` means any protocol.
    fn service_port(&self, name: &str, proto: &str) -> Option<u16>;
    /// This machine's name (`$HOSTNAME`, else `uname -n`), for the FTP/SIP default logins.
    fn hostname(&self) -> String;
    fn dir_exists(&self, path: &str) -> bool;
    /// Whether `path` could be opened for appending; Err carries the reason. Must not create
    /// or modify anything (check-config is read-only).
    fn appendable(&self, path: &str) -> Result<(), String>;
}

/// The real machine: getaddrinfo, /etc/services, the file system.
#[derive(Debug, Default)]
pub struct SystemEnv {
    services: Option<String>,
}

impl SystemEnv {
    pub fn new() -> Self {
        Self {
            services: std::fs::read_to_string("/etc/services").ok(),
        }
    }
}

impl ParseEnv for SystemEnv {
    fn host(&self, name: &str, family: AddressFamily) -> Option<IpAddr> {
        let addrs = (name, 0).to_socket_addrs().ok()?;
        addrs
            .map(|a| a.ip())
            .find(|ip| AddressFamily::of(ip) == family)
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        lookup_services(self.services.as_deref()?, name, proto)
    }

    fn hostname(&self) -> String {
        if let Ok(h) = std::env::var("HOSTNAME")
            && !h.is_empty()
        {
            return h;
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_or_else(|_| "localhost".to_owned(), |s| s.trim().to_owned())
    }

    fn dir_exists(&self, path: &str) -> bool {
        Path::new(path).is_dir()
    }

    fn appendable(&self, path: &str) -> Result<(), String> {
        let p = Path::new(path);
        if p.exists() {
            return OpenOptions::new()
                .append(true)
                .open(p)
                .map(drop)
                .map_err(|e| e.to_string());
        }
        match p.parent() {
            Some(dir) if dir.as_os_str().is_empty() || dir.is_dir() => Ok(()),
            _ => Err("the directory does not exist".to_owned()),
        }
    }
}

/// Finds `name` (or one of its aliases) for `proto` in /etc/services text.
pub fn lookup_services(text: &str, name: &str, proto: &str) -> Option<u16> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let service = words.next()?;
        let (port, p) = words.next()?.split_once('/')?;
        let names_match = service == name || words.any(|alias| alias == name);
        (names_match && (proto.is_empty() || p == proto))
            .then(|| port.parse().ok())
            .flatten()
    })
}

/// A deterministic environment for tests and for tools that must not touch the network.
#[derive(Debug, Clone, Default)]
pub struct StaticEnv {
    pub hosts: HashMap<String, Vec<IpAddr>>,
    /// (name, proto) → port; proto `""` entries match any protocol.
    pub services: HashMap<(String, String), u16>,
    pub hostname: String,
    pub dirs: Vec<String>,
    /// Paths that cannot be opened for appending, with the reason.
    pub unwritable: HashMap<String, String>,
}

impl StaticEnv {
    /// Knows the handful of service names the tests and examples use.
    pub fn with_common_services() -> Self {
        let mut env = Self {
            hostname: "director".to_owned(),
            ..Self::default()
        };
        for (name, port) in [
            ("http", 80),
            ("https", 443),
            ("domain", 53),
            ("ftp", 21),
            ("smtp", 25),
            ("sip", 5060),
            ("mysql", 3306),
        ] {
            for proto in ["tcp", "udp"] {
                env.services
                    .insert((name.to_owned(), proto.to_owned()), port);
            }
        }
        env
    }

    pub fn host(mut self, name: &str, addr: IpAddr) -> Self {
        self.hosts.entry(name.to_owned()).or_default().push(addr);
        self
    }
}

impl ParseEnv for StaticEnv {
    fn host(&self, name: &str, family: AddressFamily) -> Option<IpAddr> {
        self.hosts
            .get(name)?
            .iter()
            .copied()
            .find(|ip| AddressFamily::of(ip) == family)
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        let exact = self.services.get(&(name.to_owned(), proto.to_owned()));
        exact.copied().or_else(|| {
            self.services
                .iter()
                .find(|((n, p), _)| n == name && (proto.is_empty() || p.is_empty()))
                .map(|(_, port)| *port)
        })
    }

    fn hostname(&self) -> String {
        self.hostname.clone()
    }

    fn dir_exists(&self, path: &str) -> bool {
        self.dirs.iter().any(|d| d == path)
    }

    fn appendable(&self, path: &str) -> Result<(), String> {
        self.unwritable.get(path).map_or(Ok(()), |r| Err(r.clone()))
    }
}
