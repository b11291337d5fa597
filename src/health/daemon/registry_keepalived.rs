//! The registry's keepalived part: each virtual's quorum state weighed as keepalived 2.2.7
//! weighs it (crate::health::state::quorum), and the notify scripts keepalived runs, queued
//! in its order for the event loop (docs/keepalived-compat.md, "Quorum, hysteresis and the
//! sorry server" and "Notify scripts").

use super::{Health, RealSlot, Registry, VirtualSlot};
use crate::health::config::{Config, KeepalivedAlert, NotifyScript, RealServer};
use crate::health::desired::desired_dest;
use crate::health::state::quorum::QuorumRule;

/// A virtual's quorum moved: what keepalived logs, runs and mails for it.
pub(super) struct QuorumChange {
    pub line: String,
    pub script: Option<NotifyScript>,
    pub mail: Option<KeepalivedAlert>,
}

impl VirtualSlot {
    /// keepalived's `weigh_live_realservers`: the weights of the live reals (each as the
    /// kernel takes it, at most 2147483647).
    pub(super) fn live_weight(&self) -> u64 {
        self.reals
            .iter()
            .filter(|s| s.health.is_some_and(|h| h.health == Health::Up))
            .map(|s| u64::from(s.real.weight.min(i32::MAX as u32)))
            .sum()
    }

    /// Moves the quorum state for the current live weight; when it changed, keepalived's
    /// log line, the quorum_up or quorum_down script and the `smtp_alert` mail
    /// (keepalived's `do_vs_notifies`).
    pub(super) fn update_quorum(&mut self, init: bool) -> Option<QuorumChange> {
        let rule = QuorumRule::of(&self.v)?;
        let sum = self.live_weight();
        let label = self.label();
        let state = self.quorum.get_or_insert_with(|| rule.initial(0));
        let t = rule.update(state, sum, init)?;
        let k = self.v.keepalived.as_ref()?;
        let script = if t.up { &k.quorum_up } else { &k.quorum_down };
        Some(QuorumChange {
            line: t.line(rule, &label),
            script: script.clone(),
            mail: self.quorum_mail(rule, &t),
        })
    }

    /// A real's notify_up or notify_down (keepalived's `do_rs_notifies`).
    pub(super) fn real_notify(&self, real: &RealServer, up: bool) -> Option<NotifyScript> {
        let k = self.v.keepalived.as_ref()?;
        let n = k
            .notifies
            .iter()
            .find(|n| n.addr == real.addr && n.port == real.port)?;
        if up { n.up.clone() } else { n.down.clone() }
    }

    /// With `omega`, the scripts keepalived runs when it stops (`clear_service_vs`): the
    /// notify_down of every live real still in the pool (one the sorry server pushed out
    /// is not, unless inhibited to weight 0; none with `lvs_flush_onstop VS`, which deletes
    /// the service whole), then quorum_down whatever the state.
    pub(super) fn stop_scripts(&self) -> Vec<NotifyScript> {
        let Some(k) = self.v.keepalived.as_ref().filter(|k| k.omega) else {
            return Vec::new();
        };
        let sorry_in = self.quorum.is_some_and(|q| q.sorry_in);
        // A real is in the pool unless the sorry server pushed it out, and one inhibited to
        // weight 0 still is.
        let in_pool = |s: &RealSlot| !sorry_in || self.v.inhibits(&s.real);
        let mut out: Vec<NotifyScript> = self
            .reals
            .iter()
            .filter(|_| !k.flush_on_stop)
            .filter(|s| in_pool(s) && s.health.is_some_and(|h| h.health == Health::Up))
            .filter_map(|s| self.real_notify(&s.real, false))
            .collect();
        out.extend(k.quorum_down.clone());
        out
    }
}

impl Registry {
    /// keepalived's scripts for what a reload to `config` takes away
    /// (`clear_diff_services`): each live real in the pool that leaves gets its
    /// notify_down; a virtual whose quorum was up gets its quorum_down when the live reals
    /// it keeps (none when it leaves) weigh 0 or less than `quorum - hysteresis`.
    /// The mails keepalived sends for the same (`smtp_alert`: "=> Removing <=" for each
    /// such real, "=> Lost quorum ... <=" for such a virtual) come second.
    pub(super) fn reload_scripts(
        &self,
        config: &Config,
    ) -> (Vec<NotifyScript>, Vec<KeepalivedAlert>) {
        let (mut out, mut mails) = (Vec::new(), Vec::new());
        for ov in &self.virtuals {
            let Some(rule) = QuorumRule::of(&ov.v) else {
                continue;
            };
            let new = config.virtuals.iter().find(|v| v.key == ov.v.key);
            let kept = |s: &RealSlot| {
                new.is_some_and(|v| {
                    v.reals
                        .iter()
                        .any(|r| desired_dest(v, r).key() == s.dest.key())
                })
            };
            let sorry_in = ov.quorum.is_some_and(|q| q.sorry_in);
            let in_pool = |s: &RealSlot| !sorry_in || ov.v.inhibits(&s.real);
            let live = |s: &RealSlot| s.health.is_some_and(|h| h.health == Health::Up);
            for s in ov
                .reals
                .iter()
                .filter(|s| !kept(s) && live(s) && in_pool(s))
            {
                out.extend(ov.real_notify(&s.real, false));
                mails.extend(ov.removal_mail(&s.real));
            }
            let sum: u64 = ov
                .reals
                .iter()
                .filter(|s| kept(s) && live(s))
                .map(|s| u64::from(s.real.weight.min(i32::MAX as u32)))
                .sum();
            let was_up = ov.quorum.is_some_and(|q| q.up);
            if was_up && (sum == 0 || sum < u64::from(rule.threshold(true))) {
                out.extend(ov.v.keepalived.as_ref().and_then(|k| k.quorum_down.clone()));
                let lost = crate::health::state::quorum::Transition {
                    up: false,
                    init: false,
                    threshold: rule.threshold(true),
                    weight_sum: sum,
                    sorry: None,
                };
                mails.extend(ov.quorum_mail(rule, &lost));
            }
        }
        (out, mails)
    }

    /// keepalived's scripts at stop (`omega`), in its order.
    pub fn stop_scripts(&self) -> Vec<NotifyScript> {
        self.virtuals
            .iter()
            .flat_map(VirtualSlot::stop_scripts)
            .collect()
    }
}
