//! Piranha's reentry rule (docs/piranha.md, The check): one failed check takes a real out,
//! and it comes back only once its checks have passed, with no failure in between, for
//! the reentry period. Pure: a result and the time it was seen give the verdict.
//!
//! The period runs from the first passing check after the last failure, so a real that
//! passes every `interval` comes back at the first pass at least `reentry` after that one
//! (with a 6 s interval and `reentry = 15`: passes at 0, 6, 12, back at 18). A period of 0
//! brings it back at its first pass. Before its first result a real is undecided, as under
//! ldirectord: its first pass puts it in at once, its first failure keeps it out and
//! starts the reentry rule. A run that could not be made says nothing about the real and
//! changes nothing, not even a period under way.

use std::time::Duration;

use super::Health;

/// One check's result, as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Pass,
    Fail,
    /// Not made (a local fault) or not a check (`checktype=off`).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Undecided,
    Up,
    /// Out; `passing_since` is when the current run of passes began.
    Down {
        passing_since: Option<Duration>,
    },
}

/// One real's reentry state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reentry {
    period: Duration,
    state: State,
}

impl Reentry {
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            state: State::Undecided,
        }
    }

    /// The rule for a real whose health is already known, for a check task started again
    /// (after a panic): a real that is out stays out until it passes for the period.
    #[must_use]
    pub fn resumed(self, health: Health) -> Self {
        let state = match health {
            Health::Up => State::Up,
            Health::Down => State::Down {
                passing_since: None,
            },
        };
        Self { state, ..self }
    }

    /// Applies a result seen at `now` (any fixed origin, never going back); returns the
    /// real's new health when it changed, or was decided for the first time.
    pub fn observe(&mut self, seen: Seen, now: Duration) -> Option<Health> {
        let down = State::Down {
            passing_since: None,
        };
        match (self.state, seen) {
            (_, Seen::Nothing) | (State::Up, Seen::Pass) => None,
            (State::Undecided, Seen::Pass) => {
                self.state = State::Up;
                Some(Health::Up)
            }
            (State::Undecided | State::Up, Seen::Fail) => {
                self.state = down;
                Some(Health::Down)
            }
            (State::Down { .. }, Seen::Fail) => {
                self.state = down;
                None
            }
            (State::Down { passing_since }, Seen::Pass) => {
                let since = passing_since.unwrap_or(now);
                if now.saturating_sub(since) >= self.period {
                    self.state = State::Up;
                    Some(Health::Up)
                } else {
                    self.state = State::Down {
                        passing_since: Some(since),
                    };
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Runs a transcript of (second, result) and returns the verdicts with their seconds.
    fn run(period: u64, transcript: &[(u64, Seen)]) -> Vec<(u64, Health)> {
        let mut r = Reentry::new(secs(period));
        transcript
            .iter()
            .filter_map(|&(t, seen)| r.observe(seen, secs(t)).map(|h| (t, h)))
            .collect()
    }

    use Seen::{Fail, Nothing, Pass};

    #[test]
    fn the_issue_15_file_a_real_fails_then_comes_back_after_15_seconds_of_passes() {
        // keepalive = 6, reentry = 15: in at the first pass, out at the failure at 12,
        // passing from 18, back at the first pass 15 s after that one (36).
        let t = [
            (0, Pass),
            (6, Pass),
            (12, Fail),
            (18, Pass),
            (24, Pass),
            (30, Pass),
            (36, Pass),
            (42, Pass),
        ];
        assert_eq!(
            run(15, &t),
            vec![(0, Health::Up), (12, Health::Down), (36, Health::Up)]
        );
    }

    #[test]
    fn a_failure_during_the_period_starts_it_again() {
        let t = [
            (0, Fail),
            (6, Pass),
            (12, Pass),
            (18, Fail),
            (24, Pass),
            (30, Pass),
            (36, Pass),
        ];
        assert_eq!(run(10, &t), vec![(0, Health::Down), (36, Health::Up)]);
    }

    #[test]
    fn a_first_failure_keeps_the_real_out_and_the_rule_applies() {
        assert_eq!(
            run(5, &[(0, Fail), (1, Pass), (3, Pass), (6, Pass)]),
            vec![(0, Health::Down), (6, Health::Up)]
        );
    }

    #[test]
    fn reentry_0_restores_at_the_first_pass() {
        assert_eq!(
            run(0, &[(0, Pass), (1, Fail), (2, Pass)]),
            vec![(0, Health::Up), (1, Health::Down), (2, Health::Up)]
        );
    }

    #[test]
    fn the_period_is_inclusive() {
        assert_eq!(
            run(12, &[(0, Fail), (6, Pass), (18, Pass)]),
            vec![(0, Health::Down), (18, Health::Up)]
        );
    }

    #[test]
    fn runs_not_made_change_nothing() {
        // Nothing before the first result; a local fault during the period neither resets
        // nor ends it.
        let t = [
            (0, Nothing),
            (1, Fail),
            (2, Pass),
            (3, Nothing),
            (7, Pass),
            (8, Nothing),
        ];
        assert_eq!(run(5, &t), vec![(1, Health::Down), (7, Health::Up)]);
    }

    #[test]
    fn a_resumed_rule_keeps_a_real_out_for_the_period() {
        let mut r = Reentry::new(secs(5)).resumed(Health::Down);
        assert_eq!(r.observe(Pass, secs(0)), None);
        assert_eq!(r.observe(Pass, secs(5)), Some(Health::Up));
        let mut r = Reentry::new(secs(5)).resumed(Health::Up);
        assert_eq!(r.observe(Pass, secs(0)), None);
        assert_eq!(r.observe(Fail, secs(1)), Some(Health::Down));
    }

    #[test]
    fn an_up_real_stays_up_on_passes() {
        assert_eq!(
            run(180, &[(0, Pass), (6, Pass), (12, Pass)]),
            vec![(0, Health::Up)]
        );
    }
}
