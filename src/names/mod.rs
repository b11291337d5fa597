//! Names of hosts and services, and this machine's own name: one `/etc/services` parser,
//! one `/etc/hosts` reader and one resolver trait for every face.
//!
//! Faces look names up only through [`Resolver`], so parsing and formatting stay pure and
//! tests stay deterministic. Which resolver a face gets is decided where it is wired up:
//!
//! * [`SystemResolver`] answers as glibc answers ipvsadm and ldirectord: hosts through NSS
//!   (`/etc/hosts`, then DNS), services from `/etc/services`.
//! * [`FilesResolver`] reads `/etc/hosts` and `/etc/services` and never asks DNS: the
//!   dashboard's choice, because a refresh must not wait on reverse DNS of hundreds of
//!   real servers. Built from text, it is also the deterministic resolver of tests.
//! * [`NoNames`] resolves nothing: what `-n` means.

mod files;
mod hosts;
mod services;
mod system;

use std::fmt::Debug;
use std::net::IpAddr;

pub use files::FilesResolver;
pub use hosts::Hosts;
pub use services::Services;
pub use system::SystemResolver;

/// The address family a forward lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }
}

/// Host and service name lookups. `Send + Sync` because the health checker resolves on a
/// thread pool and the dashboard on its collector thread.
pub trait Resolver: Send + Sync + Debug {
    /// Forward host lookup: the first address of `family` (`gethostbyname` for IPv4).
    fn host_addr(&self, name: &str, family: Family) -> Option<IpAddr>;
    /// Port of a service name or alias for a protocol (`tcp`, `udp`, `sctp`), or for any
    /// protocol when `proto` is empty (`getservbyname`).
    fn service_port(&self, name: &str, proto: &str) -> Option<u16>;
    /// Reverse host lookup, the first name (`gethostbyaddr`). An address without a name is
    /// `None`, never the address itself.
    fn host_name(&self, addr: IpAddr) -> Option<String>;
    /// Official service name of a port for a protocol (`getservbyport`).
    fn service_name(&self, port: u16, proto: &str) -> Option<String>;
}

/// Resolves nothing: what `-n` means, and the deterministic default for tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Resolver for NoNames {
    fn host_addr(&self, _name: &str, _family: Family) -> Option<IpAddr> {
        None
    }
    fn service_port(&self, _name: &str, _proto: &str) -> Option<u16> {
        None
    }
    fn host_name(&self, _addr: IpAddr) -> Option<String> {
        None
    }
    fn service_name(&self, _port: u16, _proto: &str) -> Option<String> {
        None
    }
}

/// This machine's name: `$HOSTNAME` when set and not empty, else the kernel's host name,
/// else `localhost`.
///
/// The health checker uses it for the FTP/SIP login default (where ldirectord reads
/// `$HOSTNAME`, else `uname -n`) and for the alert mails' sender (where ldirectord calls
/// gethostname). One source for both is deliberate: where `$HOSTNAME` differs from the
/// kernel's name, ldirectord would log in as one host and sign its mails as another.
pub fn hostname() -> String {
    hostname_from(
        std::env::var("HOSTNAME").ok(),
        std::fs::read_to_string("/proc/sys/kernel/hostname").ok(),
    )
}

/// [`hostname`] from the environment variable and the kernel file's contents.
fn hostname_from(env: Option<String>, kernel: Option<String>) -> String {
    env.filter(|h| !h.is_empty())
        .or_else(|| {
            kernel
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
        })
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_prefers_the_environment_then_the_kernel() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(hostname_from(some("env"), some("kernel\n")), "env");
        assert_eq!(hostname_from(some(""), some("kernel\n")), "kernel");
        assert_eq!(hostname_from(None, some("kernel\n")), "kernel");
        assert_eq!(hostname_from(None, some("\n")), "localhost");
        assert_eq!(hostname_from(None, None), "localhost");
        assert!(!hostname().is_empty());
    }
}
