//! keepalived's port rules for real servers and the sorry server, applied after reading.

use super::super::build::raw::RawSorry;
use super::super::diag::{Diagnostics, Pos};
use super::super::model::{Forwarding, GroupEntry, GroupRef, SorryServer};
use super::err;
use crate::ipvs::model::ForwardMethod;

/// keepalived's port rules: NAT keeps a real server's own port (the virtual server's
/// when none); other methods use the virtual server's port, and no port for firewall
/// marks.
#[allow(clippy::too_many_arguments)]
pub(super) fn real_port(
    port: u16,
    f: Forwarding,
    group: Option<&GroupRef>,
    fwmark: bool,
    vs_port: u16,
    pos: &Pos,
    d: &mut Diagnostics,
) -> u16 {
    let nat = f.method == ForwardMethod::Masq;
    if let Some(g) = group {
        if nat || port == 0 {
            return port;
        }
        if g.entries
            .iter()
            .any(|e| matches!(e, GroupEntry::Fwmark { .. }))
        {
            err(
                d,
                pos,
                format!("real server port {port} is ignored for the group's firewall marks"),
            );
        }
        for e in &g.entries {
            if let GroupEntry::Range { port: p, .. } = *e
                && p != port
            {
                err(
                    d,
                    pos,
                    format!("real server port {port} differs from the group entry's port {p}"),
                );
            }
        }
        return port;
    }
    if nat {
        return if !fwmark && port == 0 { vs_port } else { port };
    }
    if fwmark {
        if port != 0 {
            err(
                d,
                pos,
                format!("real server port {port} given for a firewall-mark service; cleared"),
            );
        }
        return 0;
    }
    if port != 0 && port != vs_port {
        err(
            d,
            pos,
            format!(
                "real server port {port} differs from the virtual server's {vs_port} and is reset (only NAT can change ports)"
            ),
        );
    }
    vs_port
}

/// The sorry server's port follows the real servers' rules.
#[allow(clippy::too_many_arguments)]
pub(super) fn sorry_server(
    s: &RawSorry,
    f: Forwarding,
    fwmark: bool,
    vs_port: u16,
    group: Option<&GroupRef>,
    pos: &Pos,
    d: &mut Diagnostics,
) -> SorryServer {
    let mut port = s.port;
    if f.method != ForwardMethod::Masq {
        if let Some(g) = group {
            let differs = g.entries.iter().any(|e| match *e {
                GroupEntry::Fwmark { .. } => true,
                GroupEntry::Range { port: p, .. } => p != port,
            });
            if port != 0 && differs {
                err(
                    d,
                    pos,
                    "the sorry server's port is ignored for the group's services",
                );
            }
        } else if fwmark {
            if port != 0 {
                err(
                    d,
                    pos,
                    "the sorry server's port is cleared for a firewall-mark service",
                );
            }
            port = 0;
        } else {
            if port != 0 && port != vs_port {
                err(
                    d,
                    pos,
                    "the sorry server's port differs from the virtual server's; reset",
                );
            }
            port = vs_port;
        }
    }
    SorryServer {
        addr: s.addr,
        port,
        forwarding: f,
        inhibit: s.inhibit,
    }
}
