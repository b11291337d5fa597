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

use std::time::Duration;

pub use super::keepalived_http::Verdict;

/// What keepalived's configuration says about one MISC_CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub retry: u32,
    pub delay_loop: Duration,
    pub delay_before_retry: Duration,
    pub alpha: bool,
}

/// How one run of the script went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    Pass,
    Fail,
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
}

#[derive(Debug, Clone)]
pub struct MiscChecker {
    s: Settings,
    is_up: bool,
    has_run: bool,
    retry_it: u32,
}

impl MiscChecker {
    pub fn new(s: Settings) -> Self {
        Self {
            s,
            is_up: !s.alpha,
            has_run: false,
            retry_it: s.retry,
        }
    }

    pub fn observe(&mut self, run: Run) -> Step {
        let verdict = match run {
            Run::Pass => {
                self.retry_it = 0;
                (!self.is_up || !self.has_run).then_some(Verdict::Up)
            }
            Run::Fail if self.is_up || !self.has_run => {
                if self.retry_it < self.s.retry {
                    self.retry_it += 1;
                    None
                } else {
                    self.retry_it = 0;
                    Some(Verdict::Down)
                }
            }
            Run::Fail => None,
            Run::NotMade => {
                return Step {
                    verdict: None,
                    wait: self.s.delay_loop,
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

    use Run::{Fail, NotMade, Pass};
    use Verdict::{Down, Up};

    #[test]
    fn a_first_failed_run_takes_the_checker_down_at_once() {
        // retry 2, no alpha: the count starts at retry, so the first failure is final;
        // the real then stays down through failures, comes back at a pass.
        let mut c = checker(2, false);
        assert_eq!(
            transcript(&mut c, &[Fail, Fail, Pass, Pass]),
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
            transcript(&mut c, &[Pass, Fail, Fail, Fail, Fail]),
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
            transcript(&mut c, &[Pass, Fail, Pass, Fail, Fail]),
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
            transcript(&mut c, &[Fail, Fail, Pass]),
            [(Some(Down), LOOP), (None, LOOP), (Some(Up), LOOP)]
        );
    }

    #[test]
    fn a_run_not_made_changes_nothing() {
        let mut c = checker(1, false);
        assert_eq!(
            transcript(&mut c, &[Pass, Fail, NotMade, Fail]),
            [
                (Some(Up), LOOP),
                (None, RETRY),
                (None, LOOP),
                (Some(Down), LOOP)
            ]
        );
    }
}
