//! Everything the parser needs from the outside world, behind one trait.
//!
//! ldirectord resolves host and service names once at load time, fills FTP/SIP credentials
//! from the host name, and checks that the log, monitor and maintenance paths are usable.
//! Keeping those behind [`ParseEnv`] leaves the parser a pure function of (text, env) and lets
//! tests run without DNS or a particular /etc/services.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::net::IpAddr;
use std::path::Path;

use crate::names::{FilesResolver, Resolver, SystemResolver};

pub trait ParseEnv {
    /// Host and service names. Hosts are asked for names only (literals never get there);
    /// an empty protocol asks for a service name of any protocol.
    fn names(&self) -> &dyn Resolver;
    /// This machine's name, for the FTP/SIP default logins.
    fn hostname(&self) -> String;
    fn dir_exists(&self, path: &str) -> bool;
    /// Whether `path` could be opened for appending; Err carries the reason. Must not create
    /// or modify anything (check-config is read-only).
    fn appendable(&self, path: &str) -> Result<(), String>;
}

/// The real machine: the system resolver, [`crate::names::hostname`], the file system.
#[derive(Debug, Default)]
pub struct SystemEnv {
    names: SystemResolver,
}

impl SystemEnv {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ParseEnv for SystemEnv {
    fn names(&self) -> &dyn Resolver {
        &self.names
    }

    fn hostname(&self) -> String {
        crate::names::hostname()
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

/// A deterministic environment for tests and for tools that must not touch the network.
#[derive(Debug, Clone, Default)]
pub struct StaticEnv {
    pub names: FilesResolver,
    pub hostname: String,
    pub dirs: Vec<String>,
    /// Paths that cannot be opened for appending, with the reason.
    pub unwritable: HashMap<String, String>,
}

impl StaticEnv {
    /// Knows the handful of service names the tests and examples use.
    pub fn with_common_services() -> Self {
        let mut names = FilesResolver::default();
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
                names = names.with_service(name, port, proto);
            }
        }
        Self {
            names,
            hostname: "director".to_owned(),
            ..Self::default()
        }
    }

    pub fn host(mut self, name: &str, addr: IpAddr) -> Self {
        self.names = self.names.with_host(name, addr);
        self
    }
}

impl ParseEnv for StaticEnv {
    fn names(&self) -> &dyn Resolver {
        &self.names
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
