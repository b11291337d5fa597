//! Forwarding methods (`lb_kind`, `lvs_method`, `sorry_server_lvs_method`) with their
//! tunnel options.

use super::super::model::Forwarding;
use super::super::stream::KwLine;
use super::{Report, values};
use crate::ipvs::model::{ForwardMethod, Tunnel, TunnelCsum, TunnelType};

pub(super) fn is_tunnel(f: Option<Forwarding>) -> bool {
    f.is_some_and(|f| f.method == ForwardMethod::Tunnel)
}

/// `NAT`, `DR` or `TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`. keepalived
/// takes the method even when a tunnel option is bad (then the tunnel stays as before):
/// Some(method with tunnel) when all is well, Some(method with the old tunnel) otherwise,
/// None when the method itself is unknown.
pub(super) fn forwarding(
    r: &mut Report<'_, '_>,
    line: &KwLine,
    before: Option<Forwarding>,
    who: &str,
) -> Option<Forwarding> {
    let method = match r.arg(line, 1)? {
        "NAT" => ForwardMethod::Masq,
        "DR" => ForwardMethod::Route,
        "TUN" => ForwardMethod::Tunnel,
        other => {
            r.error(
                &line.pos,
                format!("unknown forwarding method {other:?} for the {who} server"),
            );
            return None;
        }
    };
    let keep_tunnel = Forwarding {
        method,
        tunnel: before.map(|f| f.tunnel).unwrap_or_default(),
    };
    let mut tunnel = Tunnel::default();
    let mut i = 2;
    while i < line.words.len() {
        let value = line.words.get(i + 1).map(String::as_str);
        match (line.words[i].as_str(), value) {
            ("type", Some("ipip")) => tunnel.kind = TunnelType::Ipip,
            ("type", Some("gue")) => tunnel.kind = TunnelType::Gue,
            ("type", Some("gre")) => tunnel.kind = TunnelType::Gre,
            ("port", Some(p)) => match values::unsigned(p, 1, 65535) {
                Ok(p) => tunnel.port = p as u16,
                Err(e) => {
                    r.error(
                        &line.pos,
                        format!("invalid gue tunnel port for the {who} server: {e}"),
                    );
                    return Some(keep_tunnel);
                }
            },
            ("nocsum", _) => tunnel.csum = TunnelCsum::NoCsum,
            ("csum", _) => tunnel.csum = TunnelCsum::Csum,
            ("remcsum", _) => tunnel.csum = TunnelCsum::RemCsum,
            (opt, _) => {
                r.error(
                    &line.pos,
                    format!("invalid tunnel option {opt:?} for the {who} server"),
                );
                return Some(keep_tunnel);
            }
        }
        i += if matches!(line.words[i].as_str(), "type" | "port") {
            2
        } else {
            1
        };
    }
    let problem = if (tunnel.kind == TunnelType::Gue) != (tunnel.port != 0) {
        Some("gue tunnels need a port, and only they take one")
    } else if tunnel.kind == TunnelType::Ipip && tunnel.csum != TunnelCsum::NoCsum {
        Some("ipip tunnels take no checksum option")
    } else if tunnel.kind == TunnelType::Gre && tunnel.csum == TunnelCsum::RemCsum {
        Some("gre tunnels take no remote checksum option")
    } else {
        None
    };
    if let Some(p) = problem {
        r.error(&line.pos, p);
        return Some(keep_tunnel);
    }
    Some(Forwarding { method, tunnel })
}
