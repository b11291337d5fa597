//! keepalived's virtual-level rule: the live reals' weights against `quorum` and
//! `hysteresis`, and the sorry server that replaces the pool while the quorum is down.
//!
//! Pure: a state plus the weight sum gives a new state and the transition to log. The
//! arithmetic is keepalived 2.2.7's, unsigned 32-bit included (docs/keepalived-compat.md,
//! "Quorum, hysteresis and the sorry server"):
//!
//! - The sum counts every live real's weight, 0 included (a live real of weight 0 adds
//!   nothing).
//! - A virtual starts with the quorum down: keepalived decides the start state before any
//!   real is in the pool, from a sum of 0, and 0 never reaches `quorum + hysteresis`
//!   (`quorum` is at least 1 unless every real has weight 0, and then `hysteresis` is
//!   `quorum - 1` wrapped to 4294967295).
//! - While down, the quorum is gained when the sum reaches `quorum + hysteresis`.
//! - While up, it is lost when the sum is 0 or below `quorum - hysteresis`. Both bounds are
//!   computed in 32-bit unsigned arithmetic, as keepalived does, then compared with the sum.
//! - At start (and after a reload) a virtual that stays down with a sorry server not yet in
//!   is taken down again explicitly: "Starting with quorum down", the sorry server goes in
//!   and quorum_down runs. Without a sorry server a virtual that starts down says nothing.
//! - The sorry server is in exactly while the quorum is down; while it is in, no real is in
//!   the pool (the live ones are taken out when it goes in and put back when it leaves).

use crate::health::config::VirtualService;

/// `quorum` and `hysteresis` of one virtual, as keepalived holds them after its own
/// corrections (the reader applies those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumRule {
    pub quorum: u32,
    pub hysteresis: u32,
    /// The virtual has a sorry server.
    pub sorry_server: bool,
}

/// Where a virtual stands: keepalived's `quorum_state_up` and whether its sorry server is
/// in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuorumState {
    pub up: bool,
    pub sorry_in: bool,
}

/// What changed, with the figures keepalived logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The quorum is now up (gained), else down (lost, or started down).
    pub up: bool,
    /// Decided at start or after a reload.
    pub init: bool,
    /// The bound the sum was compared with.
    pub threshold: u32,
    pub weight_sum: u64,
    /// The sorry server went in (`Some(true)`) or out (`Some(false)`).
    pub sorry: Option<bool>,
}

impl QuorumRule {
    /// The rule of a virtual read from a keepalived.conf; None for an ldirectord.cf.
    pub fn of(v: &VirtualService) -> Option<Self> {
        v.keepalived.as_ref().map(|q| Self {
            quorum: q.quorum,
            hysteresis: q.hysteresis,
            sorry_server: v.fallback.is_some(),
        })
    }

    /// The bound keepalived compares the sum with: `quorum + hysteresis` while down,
    /// `quorum - hysteresis` while up, in unsigned 32-bit arithmetic.
    pub fn threshold(self, up: bool) -> u32 {
        if up {
            self.quorum.wrapping_sub(self.hysteresis)
        } else {
            self.quorum.wrapping_add(self.hysteresis)
        }
    }

    /// The state before the first decision (keepalived's `set_quorum_states`, from the sum
    /// of the reals live when the configuration is read: none at start).
    pub fn initial(self, weight_sum: u64) -> QuorumState {
        QuorumState {
            up: weight_sum >= u64::from(self.quorum.wrapping_add(self.hysteresis)),
            sorry_in: false,
        }
    }

    /// keepalived's `update_quorum_state`: moves `state` for the live reals' `weight_sum`;
    /// `init` at start and after a reload. None when nothing changed.
    pub fn update(
        self,
        state: &mut QuorumState,
        weight_sum: u64,
        init: bool,
    ) -> Option<Transition> {
        let threshold = self.threshold(state.up);
        let t = u64::from(threshold);
        if !state.up && weight_sum >= t {
            state.up = true;
            let sorry = state.sorry_in.then_some(false);
            state.sorry_in = false;
            return Some(Transition {
                up: true,
                init,
                threshold,
                weight_sum,
                sorry,
            });
        }
        let lost = state.up && (weight_sum == 0 || weight_sum < t);
        let starts_down = init && !state.up && self.sorry_server && !state.sorry_in;
        if !(lost || starts_down) {
            return None;
        }
        state.up = false;
        let sorry = (self.sorry_server && !state.sorry_in).then_some(true);
        if self.sorry_server {
            state.sorry_in = true;
        }
        Some(Transition {
            up: false,
            init,
            threshold,
            weight_sum,
            sorry,
        })
    }
}

impl Transition {
    /// keepalived's log line for it, with the daemon's label for the virtual.
    pub fn line(&self, rule: QuorumRule, label: &str) -> String {
        let (q, h, t, s) = (
            rule.quorum,
            rule.hysteresis,
            self.threshold,
            self.weight_sum,
        );
        if self.up {
            format!("Gained quorum {q}+{h}={t} <= {s} for VS {label}")
        } else {
            let what = if self.init {
                "Starting with quorum down"
            } else {
                "Lost quorum"
            };
            format!("{what} {q}-{h}={t} > {s} for VS {label}")
        }
    }
}

#[cfg(test)]
#[path = "quorum_tests.rs"]
mod tests;
