//! keepalived 2.2.7's MISC_CHECK as a pure state machine: each run of the script gives
//! the checker's new state (if any) and the wait before the next run.
//!
//! Its rules, as check_misc.c's `misc_check_child_thread` has them (with
//! `validate_check_config` in check_data.c for the start):
//!
//! - The checker starts up, or down with `alpha`, and with its retry count already at
//!   `retry` ("one failure is enough initially"): until a run passes, a failed run takes
//!   it down at once.
//! - A run passes when the script exits 0 (and with `misc_dynamic` 2..255). A pass of a
//!   checker that is down or has not run yet brings it up; any pass clears the count.
//! - A failed run (another exit status, or the script killed by a signal, its timeout's
//!   included) of a checker that is up or has not run yet counts one retry while fewer than
//!   `retry` were counted, else clears the count and takes the checker down. A failed run
//!   of a checker already down after its first run changes nothing.
//! - The next run starts `delay_before_retry` after the start of this one while retries
//!   are counted, else `delay_loop` after it (at once when the script ran longer).
//! - A run that could not be made here (the daemon could not start a process) changes
//!   nothing and waits `delay_loop`; keepalived would never run that checker again.
//!
//! With `misc_dynamic` an exit status 2..255 passes too and sets the real's weight to the
//! status minus 2. keepalived keeps a real's effective weight (its `weight` plus what its
//! checkers added) and per checker the weight it counts (`cur_weight`) and the last exit
//! status: a pass whose status differs from the last one takes the checker's weight out
//! of the effective weight and puts in the new one, status − 2 − `weight` (0 for status
//! 0); a failed run that takes the checker down takes its weight out when the script
//! exited, but when it was killed (its timeout) only forgets it, the effective weight
//! keeping it, and the last status stays the one before. [`Step::added`] follows what
//! this checker has added to the effective weight, that quirk included.

use std::time::Duration;

pub use super::keepalived_http::Verdict;

/// What keepalived's configuration says about one MISC_CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub retry: u32,
    pub delay_loop: Duration,
    pub delay_before_retry: Duration,
    pub alpha: bool,
    /// `misc_dynamic`.
    pub dynamic: bool,
    /// The real's configured weight (keepalived's `iweight`).
    pub weight: u32,
}

/// How one run of the script went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// The script exited with this status (0..=255).
    Exited(u8),
    /// It was killed by a signal (its timeout's included).
    Killed,
    /// The run could not be made (a local fault, not a failure of the real).
    NotMade,
}

/// What one run led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// keepalived's `update_svr_checker_state` call, if the run made one.
    pub verdict: Option<Verdict>,
    /// Until the next run, counted from the start of this one.
    pub wait: Duration,
    /// What this checker has added to the real's weight so far (`misc_dynamic`).
    pub added: i64,
}

#[derive(Debug, Clone)]
pub struct MiscChecker {
    s: Settings,
    is_up: bool,
    has_run: bool,
    retry_it: u32,
    last_exit_code: u8,
    cur_weight: i64,
    added: i64,
}

impl MiscChecker {
    pub fn new(s: Settings) -> Self {
        Self {
            s,
            is_up: !s.alpha,
            has_run: false,
            retry_it: s.retry,
            last_exit_code: 0,
            cur_weight: 0,
            added: 0,
        }
    }

    fn passes(&self, code: u8) -> bool {
        code == 0 || (self.s.dynamic && code >= 2)
    }

    pub fn observe(&mut self, run: Run) -> Step {
        let verdict = match run {
            Run::Exited(code) if self.passes(code) => {
                if code != self.last_exit_code {
                    self.added = self.added.saturating_sub(self.cur_weight);
                    self.cur_weight = if code == 0 {
                        0
                    } else {
                        i64::from(code) - 2 - i64::from(self.s.weight)
                    };
                    self.added = self.added.saturating_add(self.cur_weight);
                    self.last_exit_code = code;
                }
                self.retry_it = 0;
                (!self.is_up || !self.has_run).then_some(Verdict::Up)
            }
            Run::Exited(_) | Run::Killed if self.is_up || !self.has_run => {
                if self.retry_it < self.s.retry {
                    self.retry_it += 1;
                    None
                } else {
                    self.retry_it = 0;
                    if let Run::Exited(code) = run {
                        self.added = self.added.saturating_sub(self.cur_weight);
                        self.last_exit_code = code;
                    }
                    self.cur_weight = 0;
                    Some(Verdict::Down)
                }
            }
            Run::Exited(_) | Run::Killed => None,
            Run::NotMade => {
                return Step {
                    verdict: None,
                    wait: self.s.delay_loop,
                    added: self.added,
                };
            }
        };
        match verdict {
            Some(Verdict::Up) => self.is_up = true,
            Some(Verdict::Down) => self.is_up = false,
            None => {}
        }
        self.has_run = true;
        Step {
            verdict,
            wait: if self.retry_it > 0 {
                self.s.delay_before_retry
            } else {
                self.s.delay_loop
            },
            added: self.added,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOP: Duration = Duration::from_secs(10);
    const RETRY: Duration = Duration::from_secs(2);

    fn checker(retry: u32, alpha: bool) -> MiscChecker {
        MiscChecker::new(Settings {
            retry,
            delay_loop: LOOP,
            delay_before_retry: RETRY,
            alpha,
            dynamic: false,
            weight: 1,
        })
    }

    fn transcript(c: &mut MiscChecker, runs: &[Run]) -> Vec<(Option<Verdict>, Duration)> {
        runs.iter()
            .map(|&r| {
                let s = c.observe(r);
                (s.verdict, s.wait)
            })
            .collect()
    }

    use Run::NotMade;
    const PASS: Run = Run::Exited(0);
    const FAIL: Run = Run::Exited(1);
    use Verdict::{Down, Up};

    #[test]
    fn a_first_failed_run_takes_the_checker_down_at_once() {
        // retry 2, no alpha: the count starts at retry, so the first failure is final;
        // the real then stays down through failures, comes back at a pass.
        let mut c = checker(2, false);
        assert_eq!(
            transcript(&mut c, &[FAIL, FAIL, PASS, PASS]),
            [
                (Some(Down), LOOP),
                (None, LOOP),
                (Some(Up), LOOP),
                (None, LOOP)
            ]
        );
    }

    #[test]
    fn after_a_pass_retry_failures_are_retried_before_the_checker_goes_down() {
        let mut c = checker(2, false);
        assert_eq!(
            transcript(&mut c, &[PASS, FAIL, FAIL, FAIL, FAIL]),
            [
                (Some(Up), LOOP),
                (None, RETRY),
                (None, RETRY),
                (Some(Down), LOOP),
                (None, LOOP)
            ]
        );
        // A pass between failures clears the count.
        let mut c = checker(1, false);
        assert_eq!(
            transcript(&mut c, &[PASS, FAIL, PASS, FAIL, FAIL]),
            [
                (Some(Up), LOOP),
                (None, RETRY),
                (None, LOOP),
                (None, RETRY),
                (Some(Down), LOOP)
            ]
        );
    }

    #[test]
    fn with_alpha_the_checker_is_down_until_a_pass() {
        let mut c = checker(0, true);
        assert_eq!(
            transcript(&mut c, &[FAIL, FAIL, PASS]),
            [(Some(Down), LOOP), (None, LOOP), (Some(Up), LOOP)]
        );
    }

    #[test]
    fn a_run_not_made_changes_nothing() {
        let mut c = checker(1, false);
        assert_eq!(
            transcript(&mut c, &[PASS, FAIL, NotMade, FAIL]),
            [
                (Some(Up), LOOP),
                (None, RETRY),
                (None, LOOP),
                (Some(Down), LOOP)
            ]
        );
    }

    fn dynamic(retry: u32, weight: u32) -> MiscChecker {
        MiscChecker::new(Settings {
            retry,
            delay_loop: LOOP,
            delay_before_retry: RETRY,
            alpha: false,
            dynamic: true,
            weight,
        })
    }

    fn added(c: &mut MiscChecker, runs: &[Run]) -> Vec<(Option<Verdict>, i64)> {
        runs.iter()
            .map(|&r| {
                let s = c.observe(r);
                (s.verdict, s.added)
            })
            .collect()
    }

    #[test]
    fn without_misc_dynamic_exit_2_and_above_fail() {
        let mut c = checker(0, false);
        assert_eq!(
            added(&mut c, &[PASS, Run::Exited(7)]),
            [(Some(Up), 0), (Some(Down), 0)]
        );
    }

    #[test]
    fn misc_dynamic_sets_the_weight_to_the_status_minus_2() {
        // weight 3: status 10 makes the real's weight 8 (adds 5), status 2 makes it 0
        // (adds -3), status 0 puts the configured weight back; only a change of status
        // changes the weight.
        let mut c = dynamic(0, 3);
        assert_eq!(
            added(
                &mut c,
                &[Run::Exited(10), Run::Exited(10), Run::Exited(2), PASS]
            ),
            [(Some(Up), 5), (None, 5), (None, -3), (None, 0)]
        );
    }

    #[test]
    fn a_dynamic_checker_going_down_on_an_exit_takes_its_weight_out() {
        let mut c = dynamic(0, 3);
        assert_eq!(
            added(&mut c, &[Run::Exited(10), FAIL, Run::Exited(10)]),
            [(Some(Up), 5), (Some(Down), 0), (Some(Up), 5)]
        );
    }

    /// keepalived's quirk: a script killed at its timeout takes the checker down and
    /// forgets its weight without taking it out of the real's effective weight, and keeps
    /// the last status; the same status again then changes nothing, and another adds its
    /// weight on top.
    #[test]
    fn a_dynamic_checker_killed_keeps_its_weight_in_the_effective_weight() {
        let mut c = dynamic(0, 3);
        assert_eq!(
            added(
                &mut c,
                &[
                    Run::Exited(10),
                    Run::Killed,
                    Run::Exited(10),
                    Run::Exited(6)
                ]
            ),
            [(Some(Up), 5), (Some(Down), 5), (Some(Up), 5), (None, 6)]
        );
    }

    #[test]
    fn retried_failures_leave_the_weight() {
        let mut c = dynamic(1, 3);
        assert_eq!(
            added(&mut c, &[Run::Exited(10), FAIL, Run::Exited(9)]),
            [(Some(Up), 5), (None, 5), (None, 4)]
        );
    }
}
