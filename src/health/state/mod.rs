//! Per-real health state and what it means for the kernel table (docs/ldirectord-compat.md,
//! Health state and Kernel reconciliation).
//!
//! Pure: a state plus a check outcome gives a new state and an event to log; a virtual's
//! states plus its config give the destinations the kernel should hold. ldirectord's rules
//! are the defaults: `failurecount` consecutive failures take an up server down, and one
//! success brings it back. `rise` (successes needed to come back) is our addition, 1 =
//! ldirectord behaviour.

pub mod all_of;
pub mod keepalived_epilog;
pub mod keepalived_file;
pub mod keepalived_http;
pub mod keepalived_misc;
pub mod quorum;
pub mod reentry;

use crate::health::check::Outcome;
use crate::health::config::VirtualService;
use crate::health::desired::{desired_dest, desired_fallback};
use crate::ipvs::model::Dest;

/// Whether a real server should receive traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Up,
    Down,
}

/// Consecutive results needed to change state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Failures before an up server goes down (`failurecount`).
    pub fall: u32,
    /// Successes before a down server comes back (1 in ldirectord).
    pub rise: u32,
}

impl Thresholds {
    /// A virtual's `failurecount` and `rise` (1 unless the lvsctl extension is used, which
    /// is ldirectord's behaviour).
    pub fn for_virtual(v: &VirtualService) -> Self {
        Self {
            fall: v.failure_count.max(1),
            rise: v.rise.max(1),
        }
    }
}

/// What a check result changed; the caller logs it and acts on transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Unchanged,
    /// An up server failed but stays up: failure `count` of `fall`.
    SoftFailure {
        count: u32,
        fall: u32,
    },
    /// A success cleared earlier soft failures of an up server.
    SoftFailuresReset,
    /// A down server succeeded but needs more successes: `count` of `rise`.
    Rising {
        count: u32,
        rise: u32,
    },
    WentDown,
    WentUp,
}

/// One real server's health within one virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealHealth {
    pub health: Health,
    pub failures: u32,
    pub successes: u32,
}

impl RealHealth {
    pub fn new(health: Health) -> Self {
        Self {
            health,
            failures: 0,
            successes: 0,
        }
    }

    /// Applies one check outcome.
    pub fn observe(&mut self, outcome: &Outcome, t: Thresholds) -> Event {
        match (outcome, self.health) {
            (Outcome::NotChecked | Outcome::LocalFault(_), _) => Event::Unchanged,
            (Outcome::Down(_), Health::Up) => {
                self.successes = 0;
                self.failures += 1;
                if self.failures >= t.fall {
                    self.health = Health::Down;
                    Event::WentDown
                } else {
                    Event::SoftFailure {
                        count: self.failures,
                        fall: t.fall,
                    }
                }
            }
            (Outcome::Down(_), Health::Down) => {
                self.successes = 0;
                self.failures = self.failures.saturating_add(1);
                Event::Unchanged
            }
            (Outcome::Up, Health::Up) => {
                let had_failures = self.failures > 0;
                self.failures = 0;
                self.successes = self.successes.saturating_add(1);
                if had_failures {
                    Event::SoftFailuresReset
                } else {
                    Event::Unchanged
                }
            }
            (Outcome::Up, Health::Down) => {
                self.successes += 1;
                if self.successes >= t.rise {
                    *self = Self::new(Health::Up);
                    self.successes = 1;
                    Event::WentUp
                } else {
                    Event::Rising {
                        count: self.successes,
                        rise: t.rise,
                    }
                }
            }
        }
    }

    /// A forced transition (maintenance file): down at once, bypassing failurecount.
    pub fn force_down(&mut self) -> Event {
        let was_up = self.health == Health::Up;
        *self = Self::new(Health::Down);
        if was_up {
            Event::WentDown
        } else {
            Event::Unchanged
        }
    }
}

/// The destinations the kernel should hold for `v`, given each real's health (same order as
/// `v.reals`): up reals at their configured weight; down reals at weight 0 when quiescent
/// (if they are in the kernel already, or `readd_quiescent` says to re-add them), otherwise
/// absent; and the fallback, at weight 1, only while no real is up (docs/ldirectord-compat.md,
/// What an owned service should hold, and Fallback).
pub fn desired_dests(
    v: &VirtualService,
    health: &[Health],
    in_kernel: impl Fn(&Dest) -> bool,
    readd_quiescent: bool,
) -> Vec<Dest> {
    let mut out = Vec::new();
    let mut any_up = false;
    for (real, h) in v.reals.iter().zip(health) {
        let mut dest = desired_dest(v, real);
        match h {
            Health::Up => {
                any_up = true;
                out.push(dest);
            }
            Health::Down if v.quiescent && (readd_quiescent || in_kernel(&dest)) => {
                dest.weight = 0;
                out.push(dest);
            }
            Health::Down => {}
        }
    }
    if !any_up && let Some(f) = &v.fallback {
        let fallback = desired_fallback(v, f);
        // A fallback that is also a configured real would collide with its entry.
        if !out.iter().any(|d| d.key() == fallback.key()) {
            out.push(fallback);
        }
    }
    out
}

/// The fallbackcommand argument for a virtual's transition: `start` when it has just lost
/// its last up real, `stop` when it has just gained its first; None when nothing changed.
/// `last` is the argument passed last time (ldirectord runs the command only on changes).
pub fn fallback_command_arg(any_up: bool, last: Option<&'static str>) -> Option<&'static str> {
    let wanted = if any_up { "stop" } else { "start" };
    (last != Some(wanted)).then_some(wanted)
}

#[cfg(test)]
mod tests;
