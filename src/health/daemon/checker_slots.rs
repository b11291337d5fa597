//! The registry's state of one check, and of the real servers that carry several checks of
//! their own (keepalived's checkers of a `real_server`).
//!
//! A report moves one check's state the same way whether the check is the virtual's (the
//! ldirectord path, the state kept in the real's slot itself) or one of a real's own (a
//! [`CheckerSlot`] each): [`observe`]. A real with checks of its own then takes their
//! AND ([`crate::health::state::all_of`], keepalived's count of failed checkers), and shows
//! in the status the worst of them.

use std::time::SystemTime;

use super::registry::{LastCheck, Report};
use crate::health::check::Outcome;
use crate::health::config::{RealCheck, RealServer, VirtualService};
use crate::health::state::all_of::all_of;
use crate::health::state::keepalived_epilog::Settings as EpilogSettings;
use crate::health::state::keepalived_file::FileChecker;
use crate::health::state::keepalived_http::Verdict;
use crate::health::state::{Event, Health, RealHealth, Thresholds};

/// One of a real's own checks.
#[derive(Debug, Clone)]
pub struct CheckerSlot {
    pub health: Option<RealHealth>,
    pub undecided_passes: u32,
    pub maintenance: bool,
    pub local_fault: bool,
    pub last: Option<LastCheck>,
    pub fingerprint: String,
    /// The check task currently reporting for this check.
    pub generation: u64,
    /// What it has added to the real's weight (keepalived's `misc_dynamic`).
    pub added_weight: i64,
    /// A verdict has been recorded (keepalived's `has_run`, see [`first_failure`]).
    pub has_run: bool,
}

/// The mutable state of one check, wherever it is kept.
pub struct CheckState<'a> {
    pub health: &'a mut Option<RealHealth>,
    pub undecided_passes: &'a mut u32,
    pub maintenance: &'a mut bool,
    pub local_fault: &'a mut bool,
    pub last: &'a mut Option<LastCheck>,
}

impl CheckerSlot {
    fn state(&mut self) -> CheckState<'_> {
        CheckState {
            health: &mut self.health,
            undecided_passes: &mut self.undecided_passes,
            maintenance: &mut self.maintenance,
            local_fault: &mut self.local_fault,
            last: &mut self.last,
        }
    }
}

/// How a check decides: its thresholds, or keepalived's HTTP, MISC or one-shot checkers
/// or Piranha's reentry rule, whose verdicts the reports carry.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub thresholds: Thresholds,
    pub verdicts: bool,
    /// keepalived's one-shot checkers (crate::health::state::keepalived_epilog): their
    /// retries of a real in service are logged as soft failures, out of `thresholds.fall`
    /// (`retry` + 1), as the daemon logs the failures its thresholds count.
    pub soft_failures: bool,
}

impl Rules {
    pub fn of_virtual(v: &VirtualService) -> Self {
        let epilog = EpilogSettings::of_virtual(v).is_some();
        Self {
            thresholds: Thresholds::for_virtual(v),
            verdicts: v.keepalived_http.is_some() || v.nanny.is_some() || epilog,
            soft_failures: epilog,
        }
    }

    fn of_check(v: &VirtualService, c: &RealCheck) -> Self {
        let epilog = EpilogSettings::of_check(c).is_some();
        Self {
            thresholds: Thresholds {
                fall: c.failure_count.max(1),
                rise: v.rise.max(1),
            },
            verdicts: c.keepalived_http.is_some()
                || c.keepalived_misc.is_some()
                || c.keepalived_file.is_some()
                || epilog,
            soft_failures: epilog,
        }
    }
}

/// What makes a real's own check "the same" across a reload: the real as configured
/// (without its line and its other checks) and the check.
pub fn checker_fingerprint(r: &RealServer, c: &RealCheck) -> String {
    let real = RealServer {
        line: 0,
        checks: Vec::new(),
        ..r.clone()
    };
    format!("{real:?}|{c:?}")
}

/// The slots of `r`'s own checks, each keeping the state of an unchanged check of `old`
/// (the same real's slots before a reload), matched in order as keepalived's
/// `migrate_checkers` does. A kept check keeps its task only at the same position.
pub fn checker_slots(r: &RealServer, old: &[CheckerSlot]) -> Vec<CheckerSlot> {
    let mut taken = vec![false; old.len()];
    r.checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let fingerprint = checker_fingerprint(r, c);
            let kept = old
                .iter()
                .enumerate()
                .find(|(j, o)| !taken[*j] && o.fingerprint == fingerprint);
            let Some((j, o)) = kept else {
                return new_slot(c, fingerprint);
            };
            taken[j] = true;
            CheckerSlot {
                generation: if i == j { o.generation } else { 0 },
                ..o.clone()
            }
        })
        .collect()
}

/// The slot of a check new to the real, in its state at start. keepalived reads a
/// FILE_CHECK's file with its configuration: that checker starts in the state and with
/// the weight the file gives, decided without a transition (no script runs for it).
fn new_slot(c: &RealCheck, fingerprint: String) -> CheckerSlot {
    let file = c.keepalived_file.as_ref().map(super::ka_file::start);
    let start_up = file.as_ref().map_or(c.start_up, |f| Some(f.is_up()));
    CheckerSlot {
        health: start_up.map(|up| RealHealth::new(if up { Health::Up } else { Health::Down })),
        undecided_passes: 0,
        maintenance: false,
        local_fault: false,
        last: None,
        fingerprint,
        generation: 0,
        added_weight: file.as_ref().map_or(0, FileChecker::added),
        has_run: file.is_some(),
    }
}

/// The real's state from its checks': the AND of their health (with the counts of the
/// worst), in maintenance when one is, and as last check the latest failed one, else the
/// latest.
pub fn combined(checkers: &[CheckerSlot]) -> (Option<RealHealth>, bool, Option<LastCheck>) {
    let health = all_of(checkers.iter().map(|c| c.health.map(|h| h.health))).map(|h| {
        let worst = checkers
            .iter()
            .filter_map(|c| c.health)
            .filter(|c| c.health == h)
            .max_by_key(|c| if h == Health::Down { c.failures } else { 0 });
        worst.unwrap_or(RealHealth::new(h))
    });
    let maintenance = checkers.iter().any(|c| c.maintenance);
    let at = |l: &&LastCheck| l.at.duration_since(SystemTime::UNIX_EPOCH).ok();
    let failed = checkers
        .iter()
        .filter_map(|c| c.last.as_ref())
        .filter(|l| l.reason.is_some())
        .max_by_key(at);
    let last = failed
        .or_else(|| {
            checkers
                .iter()
                .filter_map(|c| c.last.as_ref())
                .max_by_key(at)
        })
        .cloned();
    (health, maintenance, last)
}

/// The weight of a real whose checks add to it (keepalived's `misc_dynamic`): its
/// configured weight plus what they added, as keepalived's effective weight, within what
/// the kernel takes (`real_weight`: 0 to `i32::MAX`); None when they add nothing.
pub fn effective_weight(r: &RealServer, checkers: &[CheckerSlot]) -> Option<i32> {
    let added = checkers
        .iter()
        .fold(0i64, |sum, c| sum.saturating_add(c.added_weight));
    (added != 0).then(|| {
        let w = i64::from(r.weight).saturating_add(added);
        i32::try_from(w.clamp(0, i64::from(i32::MAX))).unwrap_or(i32::MAX)
    })
}

/// Applies `r` to the check `r.checker` of a real with checks of its own; None when the
/// report is not from that check's current task.
pub fn record_checker(
    v: &VirtualService,
    real: &RealServer,
    checkers: &mut [CheckerSlot],
    label: &dyn std::fmt::Display,
    r: &Report,
) -> Option<(Vec<String>, bool)> {
    let c = real.checks.get(r.checker)?;
    let slot = checkers.get_mut(r.checker)?;
    if slot.generation != r.generation {
        return None;
    }
    if let Some(w) = r.weight {
        slot.added_weight = w;
    }
    let rules = Rules::of_check(v, c);
    let first = first_failure(rules, c.start_up, &mut slot.has_run, r);
    Some((observe(label, rules, &mut slot.state(), r), first))
}

/// keepalived's checker reports its first verdict even when it changes nothing
/// (`update_svr_checker_state`): an `alpha` checker, down from the start, whose first
/// verdict is a failure runs its real's notify_down then. Whether `r` is that verdict;
/// marks the check as having run once it has a verdict.
pub fn first_failure(rules: Rules, start_up: Option<bool>, has_run: &mut bool, r: &Report) -> bool {
    let verdict = if rules.verdicts {
        r.verdict.map(|v| v == Verdict::Up)
    } else {
        match r.outcome {
            Outcome::Up => Some(true),
            Outcome::Down(_) => Some(false),
            _ => None,
        }
    };
    let first = start_up == Some(false) && !*has_run && verdict == Some(false);
    *has_run |= verdict.is_some();
    first
}

/// Moves one check's state by one report; returns the log lines for soft failures.
pub fn observe(
    label: &dyn std::fmt::Display,
    rules: Rules,
    st: &mut CheckState<'_>,
    r: &Report,
) -> Vec<String> {
    *st.last = Some(LastCheck {
        at: r.at,
        duration: r.duration,
        reason: match &r.outcome {
            Outcome::Down(why) => Some(why.clone()),
            Outcome::LocalFault(why) => Some(format!("not checked: {why}")),
            _ => None,
        },
    });
    let mut lines = Vec::new();
    // A run of local faults is logged once, when it starts, and once when it ends: a
    // thousand checks short of descriptors must not write a thousand lines a second.
    match &r.outcome {
        Outcome::LocalFault(why) if !*st.local_fault => {
            *st.local_fault = true;
            lines.push(format!("Real server not checked: {label}: {why}"));
        }
        Outcome::LocalFault(_) => {}
        _ if *st.local_fault => {
            *st.local_fault = false;
            lines.push(format!("Real server checked again: {label}"));
        }
        _ => {}
    }
    if r.maintenance {
        if !*st.maintenance {
            lines.push(format!("Server in maintenance: {label}"));
        }
        *st.maintenance = true;
        st.health
            .get_or_insert(RealHealth::new(Health::Down))
            .force_down();
    } else if rules.soft_failures {
        *st.maintenance = false;
        lines.extend(retried(label, rules.thresholds.fall, st.health, r));
    } else if rules.verdicts {
        *st.maintenance = false;
        // keepalived's HTTP and MISC checkers count their own retries: only their
        // verdicts move the real, and they log no soft failures.
        match r.verdict {
            Some(Verdict::Up) => *st.health = Some(RealHealth::new(Health::Up)),
            Some(Verdict::Down) => *st.health = Some(RealHealth::new(Health::Down)),
            None => {}
        }
    } else {
        *st.maintenance = false;
        let t = rules.thresholds;
        match st.health.as_mut() {
            Some(h) => match h.observe(&r.outcome, t) {
                Event::SoftFailure { count, fall } => lines.push(format!(
                    "Soft failure real server: {label} failure {count}/{fall}"
                )),
                Event::SoftFailuresReset => {
                    lines.push(format!("Resetting soft failure count: {label}"));
                }
                Event::Rising { count, rise } => lines.push(format!(
                    "Rising real server: {label} success {count}/{rise}"
                )),
                _ => {}
            },
            // Nothing was learnt: no state, and no "Rising" line either.
            None if matches!(r.outcome, Outcome::LocalFault(_)) => {}
            None => match first_health(&r.outcome, t, *st.undecided_passes) {
                Ok(h) => {
                    *st.undecided_passes = 0;
                    *st.health = Some(h);
                }
                Err(count) => {
                    *st.undecided_passes = count;
                    lines.push(format!(
                        "Rising real server: {label} success {count}/{}",
                        t.rise
                    ));
                }
            },
        }
    }
    lines
}

/// One report of a keepalived one-shot checker: its verdict moves the real; a failure it
/// retries (no verdict) of a real in service counts as a soft failure and is logged as
/// one, and a pass after such failures resets the count. The checker's own retry count is
/// the same number: it counts the failures of a real in service since its last pass or
/// verdict. A real down counts its failures for the status only.
fn retried(
    label: &dyn std::fmt::Display,
    fall: u32,
    health: &mut Option<RealHealth>,
    r: &Report,
) -> Option<String> {
    let before = health.unwrap_or(RealHealth::new(Health::Up));
    let (next, line) = match (r.verdict, &r.outcome) {
        (Some(Verdict::Up), _) => (RealHealth::new(Health::Up), None),
        (Some(Verdict::Down), _) => {
            let failures = match before.health {
                Health::Up => before.failures.saturating_add(1),
                Health::Down => 1,
            };
            let down = RealHealth {
                health: Health::Down,
                failures,
                successes: 0,
            };
            (down, None)
        }
        (None, Outcome::Down(_)) => {
            let mut h = before;
            h.successes = 0;
            h.failures = h.failures.saturating_add(1);
            let line = (h.health == Health::Up).then(|| {
                format!(
                    "Soft failure real server: {label} failure {}/{fall}",
                    h.failures
                )
            });
            (h, line)
        }
        (None, Outcome::Up) if before.health == Health::Up && before.failures > 0 => {
            let line = format!("Resetting soft failure count: {label}");
            (RealHealth::new(Health::Up), Some(line))
        }
        (None, _) => return None,
    };
    *health = Some(next);
    line
}

/// The state an undecided real takes from a result (no failurecount: there is no traffic
/// to protect yet, and the real is not in the pool): a failure decides Down at once; a pass
/// decides Up once `rise` passes in a row have been seen, counting `passes` earlier ones.
/// `Err(n)` means still undecided after `n` passes — so a real that is already serving when
/// the daemon (re)starts is left in the kernel while it earns its `rise`, instead of being
/// pulled out after its first good check.
fn first_health(outcome: &Outcome, t: Thresholds, passes: u32) -> Result<RealHealth, u32> {
    match outcome {
        Outcome::Up if passes + 1 >= t.rise => {
            let mut h = RealHealth::new(Health::Up);
            h.successes = passes + 1;
            Ok(h)
        }
        Outcome::Up => Err(passes + 1),
        // Nothing was learnt about the real: it stays undecided (and, when it is already
        // serving, in the kernel). `observe` never gets here with one.
        Outcome::LocalFault(_) => Err(passes),
        Outcome::Down(_) | Outcome::NotChecked => {
            let mut h = RealHealth::new(Health::Down);
            h.failures = 1;
            Ok(h)
        }
    }
}

#[cfg(test)]
#[path = "checker_slots_tests.rs"]
mod tests;
