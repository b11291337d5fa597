//! The registry's keepalived mails: which change of a real's checker or of a virtual's
//! quorum keepalived 2.2.7 mails about with `smtp_alert`, and the subject and body it
//! writes (docs/keepalived-compat.md, "Mail alerts"). Pure; the mail task sends them.
//!
//! - A checker that changes state mails when its real's `smtp_alert` is on (the checker
//!   files' `smtp_alert(SMTP_MSG_RS, ...)`, called only when `checker_was_up` differs from
//!   the new state), unless `no_checker_emails` is set and the real itself stays as it was.
//!   Subject `Realserver REAL of virtual server VIRTUAL - UP|DOWN`, the real's state after
//!   the change (one failed checker of two makes it DOWN); the body is the checker's text.
//! - A quorum change mails when the virtual's own `smtp_alert` is on (`do_vs_notifies`):
//!   subject `Virtualserver VIRTUAL - UP|DOWN`, body `=> WHAT Q+H=T <= SUM <=` in 80 bytes
//!   (its buffer), `+` and `<=` even when lost, unlike the log line.
//! - A real a reload takes away while live mails `=> Removing <=` (`clear_service_rs`).

use super::VirtualSlot;
use crate::health::config::{KeepalivedAlert, RealServer};
use crate::health::state::quorum::{QuorumRule, Transition};

/// keepalived writes the quorum body into `char message[80]`.
const QUORUM_BODY_MAX: usize = 79;

impl VirtualSlot {
    /// The mail for checker `checker` of `real` going from `checker_up.0` to
    /// `checker_up.1`, the real from `real_up.0` to `real_up.1`.
    pub(super) fn checker_mail(
        &self,
        real: &RealServer,
        checker: usize,
        checker_up: (bool, bool),
        real_up: (bool, bool),
    ) -> Option<KeepalivedAlert> {
        if checker_up.0 == checker_up.1 {
            return None;
        }
        let alerts = self.v.keepalived.as_ref()?.alerts.as_ref()?;
        if alerts.no_checker_emails && real_up.0 == real_up.1 {
            return None;
        }
        let ra = alerts
            .reals
            .iter()
            .find(|a| a.addr == real.addr && a.port == real.port)?;
        let texts = (*ra.texts.get(checker)?)?;
        Some(KeepalivedAlert {
            subject: format!(
                "Realserver {} of virtual server {} - {}",
                ra.name,
                alerts.name,
                state(real_up.1)
            ),
            body: (if checker_up.1 { texts.up } else { texts.down }).to_owned(),
        })
    }

    /// The mail for a quorum transition, when the virtual's `smtp_alert` is on.
    pub(super) fn quorum_mail(&self, rule: QuorumRule, t: &Transition) -> Option<KeepalivedAlert> {
        let alerts = self
            .v
            .keepalived
            .as_ref()?
            .alerts
            .as_ref()
            .filter(|a| a.quorum)?;
        let what = match (t.up, t.init) {
            (true, true) => "Starting with quorum up",
            (true, false) => "Gained quorum",
            (false, true) => "Starting with quorum down",
            (false, false) => "Lost quorum",
        };
        let mut body = format!(
            "=> {what} {}+{}={} <= {} <=",
            rule.quorum, rule.hysteresis, t.threshold, t.weight_sum
        );
        // ASCII only, so any byte is a character boundary.
        body.truncate(QUORUM_BODY_MAX);
        Some(KeepalivedAlert {
            subject: format!("Virtualserver {} - {}", alerts.name, state(t.up)),
            body,
        })
    }

    /// The mail for a live real a reload removes, when its `smtp_alert` is on.
    pub(super) fn removal_mail(&self, real: &RealServer) -> Option<KeepalivedAlert> {
        let alerts = self.v.keepalived.as_ref()?.alerts.as_ref()?;
        let ra = alerts
            .reals
            .iter()
            .find(|a| a.addr == real.addr && a.port == real.port)?;
        Some(KeepalivedAlert {
            subject: format!(
                "Realserver {} of virtual server {} - DOWN",
                ra.name, alerts.name
            ),
            body: "=> Removing <=".to_owned(),
        })
    }
}

fn state(up: bool) -> &'static str {
    if up { "UP" } else { "DOWN" }
}
