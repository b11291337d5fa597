//! A real with several checks of its own (keepalived's checkers of one `real_server`) is
//! in service only while every one of them is up.
//!
//! keepalived 2.2.7 keeps a count of failed checkers per real server rather than the AND
//! itself (`update_svr_checker_state` and `set_checker_state`, check/ipwrapper.c): a
//! checker that goes down takes the real out only when no other checker had failed, one
//! that comes back puts the real in only when it was the last failed one, and a checker
//! whose state does not change does nothing. Every checker starts up, except alpha ones,
//! which start down (and so does the real). The real is therefore in service exactly when
//! the count is 0, which is what [`all_of`] computes from the checkers' own states; the
//! tests replay the counting rule against it.

use super::Health;

/// The real's health from its checks' own: down as soon as one is down, up when all are
/// up, undecided otherwise (a check that has not decided yet, and none down).
pub fn all_of(checks: impl IntoIterator<Item = Option<Health>>) -> Option<Health> {
    let mut all_up = true;
    for c in checks {
        match c {
            Some(Health::Down) => return Some(Health::Down),
            Some(Health::Up) => {}
            None => all_up = false,
        }
    }
    all_up.then_some(Health::Up)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived's counting, as check/ipwrapper.c has it: `is_up` per checker,
    /// `num_failed_checkers` and `alive` per real.
    struct Keepalived {
        is_up: Vec<bool>,
        num_failed: usize,
        alive: bool,
    }

    impl Keepalived {
        /// Start: alpha checkers are set down (`set_checker_state(checker, false)` in
        /// check_data.c's `validate_check_config`), the real is added when none failed
        /// (`init_service_rs`).
        fn start(alpha: &[bool]) -> Self {
            let mut k = Self {
                is_up: vec![true; alpha.len()],
                num_failed: 0,
                alive: true,
            };
            for (i, &a) in alpha.iter().enumerate() {
                if a {
                    k.set_checker_state(i, false);
                    k.alive = false;
                }
            }
            k.alive = k.num_failed == 0;
            k
        }

        fn set_checker_state(&mut self, i: usize, up: bool) {
            if self.is_up[i] == up {
                return;
            }
            self.is_up[i] = up;
            if !up {
                self.num_failed += 1;
            } else if self.num_failed > 0 {
                self.num_failed -= 1;
            }
        }

        /// `update_svr_checker_state(alive, checker)`; `perform_svr_state` sets `alive`.
        fn update(&mut self, i: usize, alive: bool) {
            if self.is_up[i] == alive {
                return;
            }
            if alive {
                if self.num_failed <= 1 {
                    self.alive = true;
                }
            } else if self.num_failed == 0 {
                self.alive = false;
            }
            self.set_checker_state(i, alive);
        }
    }

    fn ours(is_up: &[bool]) -> Option<Health> {
        all_of(
            is_up
                .iter()
                .map(|&u| Some(if u { Health::Up } else { Health::Down })),
        )
    }

    #[test]
    fn a_real_is_up_only_while_every_checker_is() {
        // Two checkers, no alpha: both up, the first fails (out), the second fails too
        // (still out, the count is 2), the first recovers (still out: the second has
        // failed), the second recovers (in).
        let mut k = Keepalived::start(&[false, false]);
        let mut transcript = vec![(k.alive, ours(&k.is_up))];
        for (i, up) in [(0, false), (1, false), (0, true), (0, true), (1, true)] {
            k.update(i, up);
            transcript.push((k.alive, ours(&k.is_up)));
        }
        let up = Some(Health::Up);
        let down = Some(Health::Down);
        assert_eq!(
            transcript,
            [
                (true, up),
                (false, down),
                (false, down),
                (false, down),
                (false, down),
                (true, up)
            ]
        );
    }

    #[test]
    fn alpha_checkers_start_down_and_the_real_with_them() {
        // One alpha checker beside one without: the real starts out; the alpha one's
        // first pass brings it in.
        let mut k = Keepalived::start(&[true, false]);
        assert!(!k.alive);
        assert_eq!(ours(&k.is_up), Some(Health::Down));
        k.update(0, true);
        assert!(k.alive);
        assert_eq!(ours(&k.is_up), Some(Health::Up));
    }

    #[test]
    fn the_count_and_the_and_agree_on_every_sequence() {
        // Three checkers, every mix of alpha, every sequence of six results.
        for alpha in 0..8u32 {
            let alpha: Vec<bool> = (0..3).map(|b| alpha & (1 << b) != 0).collect();
            for seq in 0..6u32.pow(6) {
                let mut k = Keepalived::start(&alpha);
                let mut s = seq;
                for _ in 0..6 {
                    let step = s % 6;
                    s /= 6;
                    k.update((step / 2) as usize, step % 2 == 0);
                    let want = Some(if k.alive { Health::Up } else { Health::Down });
                    assert_eq!(ours(&k.is_up), want, "alpha {alpha:?} sequence {seq}");
                }
            }
        }
    }

    #[test]
    fn undecided_checks_leave_the_real_undecided_unless_one_is_down() {
        assert_eq!(all_of([Some(Health::Up), None]), None);
        assert_eq!(all_of([None, Some(Health::Down)]), Some(Health::Down));
        assert_eq!(all_of([]), Some(Health::Up));
    }
}
