//! keepalived's `smtp_alert` mails mapped: the relay from `global_defs` and, per virtual
//! server, what it mails (crate::health::config::VirtualAlerts). keepalived 2.2.7 mails
//! only with an `smtp_server` and at least one `notification_email` (`smtp_alert`
//! returns at once otherwise), so without both nothing is mapped and nothing refused.
//!
//! What would not mail as keepalived mails is refused (docs/keepalived-compat.md, "Mail
//! alerts"): MISC_CHECK's and SMTP_CHECK's mails (their bodies carry the script's exit or
//! the failed step), a firewall-mark or group virtual server's (keepalived names their
//! services in forms the daemon does not keep), `omega`'s mails at stop, and a file whose
//! host name is unknown (keepalived would then send no sender or a null router_id).

use super::Refusals;
use crate::health::config::{CheckerTexts, KeepalivedMail, RealAlerts, VirtualAlerts, trio};
use crate::health::keepalived::{
    CheckerKind, Globals as KaGlobals, RealServer as KaReal, Target, VirtualServer as KaVirtual,
};
use crate::ipvs::model::ServiceKey;

/// keepalived's HELO name when it has none (smtp.c, `helo_cmd`).
const HELO_FALLBACK: &str = "localhost";

/// The relay keepalived mails through, if it mails at all.
pub(super) enum Relay {
    /// No `smtp_server` or no `notification_email`: no mail, whatever `smtp_alert` says.
    Off,
    On(KeepalivedMail),
    /// It would mail, but with a sender or router_id keepalived makes up from a host name
    /// this machine does not have.
    Unnamed(&'static str),
}

impl Relay {
    pub(super) fn of(g: &KaGlobals) -> Self {
        let Some(server) = g.smtp_server.as_ref() else {
            return Self::Off;
        };
        if g.notification_email.is_empty() {
            return Self::Off;
        }
        let Some(from) = g.notification_email_from.clone() else {
            return Self::Unnamed(
                "smtp_alert without notification_email_from on a host without a canonical name",
            );
        };
        let Some(router_id) = g.router_id.clone() else {
            return Self::Unnamed(
                "smtp_alert without router_id on a host without a canonical name",
            );
        };
        Self::On(KeepalivedMail {
            server: server.addr,
            helo: g
                .smtp_helo_name
                .clone()
                .unwrap_or_else(|| HELO_FALLBACK.to_owned()),
            from,
            to: g.notification_email.clone(),
            timeout: g.smtp_connect_timeout,
            router_id,
        })
    }

    pub(super) fn mail(&self) -> Option<KeepalivedMail> {
        match self {
            Self::On(m) => Some(m.clone()),
            Self::Off | Self::Unnamed(_) => None,
        }
    }
}

/// What `v` mails, or None when it mails nothing (after refusing what cannot run).
pub(super) fn virtual_alerts(
    r: &mut Refusals,
    relay: &Relay,
    no_checker_emails: bool,
    v: &KaVirtual,
) -> Option<VirtualAlerts> {
    if matches!(relay, Relay::Off) || !(v.smtp_alert || v.real_servers.iter().any(|k| k.smtp_alert))
    {
        return None;
    }
    let before = r.0.len();
    if let Relay::Unnamed(why) = relay {
        r.refuse(&v.pos, *why);
    }
    if v.omega {
        r.refuse(&v.pos, "smtp_alert with omega (keepalived's mails at stop)");
    }
    let key = match &v.target {
        Target::Group(_) => {
            r.refuse(&v.pos, "smtp_alert on a virtual_server group");
            None
        }
        Target::Service(key) => Some(*key),
    };
    let protocol = match key {
        Some(ServiceKey::Addr { protocol, .. }) => Some(protocol),
        Some(ServiceKey::Fwmark { .. }) => {
            r.refuse(&v.pos, "smtp_alert on a virtual_server fwmark");
            None
        }
        None => None,
    };
    let reals: Vec<RealAlerts> = v
        .real_servers
        .iter()
        .filter(|k| k.smtp_alert)
        .map(|k| RealAlerts {
            addr: k.addr,
            port: k.port,
            name: protocol.map_or_else(String::new, |p| trio(k.addr, p, k.port)),
            texts: k.checkers.iter().map(|c| texts(r, k, &c.kind)).collect(),
        })
        .collect();
    let name = key.and_then(crate::health::config::service_trio)?;
    (r.0.len() == before).then_some(VirtualAlerts {
        name,
        quorum: v.smtp_alert,
        no_checker_emails,
        reals,
    })
}

/// The bodies of a checker's mails (each checker file's `smtp_alert` calls).
fn texts(r: &mut Refusals, k: &KaReal, kind: &CheckerKind) -> Option<CheckerTexts> {
    let (up, down) = match kind {
        CheckerKind::Tcp => (
            "=> TCP CHECK succeed on service <=",
            "=> TCP CHECK failed on service <=",
        ),
        CheckerKind::Http(_) | CheckerKind::Ssl(_) => (
            "=> CHECK succeed on service <=",
            "=> CHECK failed on service : HTTP request failed <=",
        ),
        CheckerKind::Dns(_) => (
            "=> DNS_CHECK: succeed on service <=",
            "=> DNS_CHECK: failed on service <=",
        ),
        CheckerKind::Udp(_) => (
            "=> UDP CHECK succeed on service <=",
            "=> UDP CHECK failed on service <=",
        ),
        CheckerKind::Ping => (
            "=> ICMP CHECK succeed on service <=",
            "=> ICMP CHECK failed on service <=",
        ),
        // keepalived's FILE_CHECK never mails.
        CheckerKind::File(_) => return None,
        CheckerKind::Misc(_) | CheckerKind::Smtp(_) => {
            r.refuse(
                &k.pos,
                format!(
                    "smtp_alert on a real server with {} (its mails name the script's exit or the failed step)",
                    kind.keyword()
                ),
            );
            return None;
        }
    };
    Some(CheckerTexts { up, down })
}
