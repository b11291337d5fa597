//! What keepalived's `smtp_alert` mails need (docs/keepalived-compat.md, "Mail alerts"):
//! the relay and the envelope from `global_defs`, and per virtual server which of its
//! changes are mailed and how keepalived names its services in the subject. Set only by
//! `health::keepalived::to_daemon`; the ldirectord.cf and lvs.cf readers leave it empty.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::ipvs::model::{Protocol, ServiceKey};

/// `global_defs`' mail settings after keepalived's defaults (the reader applies them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedMail {
    /// `smtp_server` (port 25 unless given).
    pub server: SocketAddr,
    /// `smtp_helo_name`; keepalived says `localhost` when it has none.
    pub helo: String,
    /// `notification_email_from`: the envelope sender and the `From:` header.
    pub from: String,
    /// `notification_email`: one `RCPT TO` each, all in the `To:` header.
    pub to: Vec<String>,
    /// `smtp_connect_timeout`: the bound of the connect and of each reply.
    pub timeout: Duration,
    /// `router_id`: the `[...]` that starts every subject.
    pub router_id: String,
}

/// The mails one virtual server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAlerts {
    /// keepalived's name of the service (`[10.0.0.1]:tcp:80`).
    pub name: String,
    /// The virtual server's own `smtp_alert`: quorum changes are mailed.
    pub quorum: bool,
    /// `no_checker_emails`: a checker's change is mailed only when its real's changes too.
    pub no_checker_emails: bool,
    /// The reals whose `smtp_alert` is on.
    pub reals: Vec<RealAlerts>,
}

/// A real whose checkers' changes are mailed, found by its address and port as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealAlerts {
    pub addr: IpAddr,
    pub port: u16,
    /// keepalived's name of the real (`[10.0.0.2]:tcp:80`).
    pub name: String,
    /// Per checker, in the order of the real's checkers: the body of the mail when it
    /// passes again and when it fails; None for a checker keepalived never mails about
    /// (FILE_CHECK).
    pub texts: Vec<Option<CheckerTexts>>,
}

/// The bodies keepalived's checker mails with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckerTexts {
    pub up: &'static str,
    pub down: &'static str,
}

/// One mail the registry decided, before the relay's settings are added: the subject
/// after `[router_id] ` and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedAlert {
    pub subject: String,
    pub body: String,
}

/// keepalived's `inet_sockaddrtotrio`: `[ADDRESS]:PROTOCOL:PORT` (IPv6 without brackets
/// of its own inside the outer ones); None for a firewall mark, whose real servers
/// keepalived names with a protocol lvsctl does not keep.
pub fn service_trio(key: ServiceKey) -> Option<String> {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => Some(trio(addr, protocol, port)),
        ServiceKey::Fwmark { .. } => None,
    }
}

/// [`service_trio`] of a real of a service using `protocol`.
pub fn trio(addr: IpAddr, protocol: Protocol, port: u16) -> String {
    let proto = match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
        Protocol::Other(0) => "none",
        Protocol::Other(_) => "?",
    };
    format!("[{addr}]:{proto}:{port}")
}
