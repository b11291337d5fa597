//! Transcripts derived by hand from check_http.c's `epilog`/`timeout_epilog`: each row is
//! a check result, the `update_svr_checker_state` call it makes and the next timer.

use super::*;

const LOOP: Duration = Duration::from_secs(10);
const RETRY: Duration = Duration::from_secs(3);

fn settings(urls: usize, retry: u32, alpha: bool) -> Settings {
    Settings {
        urls,
        retry,
        delay_loop: LOOP,
        delay_before_retry: RETRY,
        alpha,
        fast_recovery: false,
    }
}

/// Runs `rows` of (result, verdict, wait, up afterwards) and names the failing row.
fn transcript(mut c: HttpChecker, rows: &[(Check, Option<Verdict>, Duration, bool)]) {
    for (i, &(check, verdict, wait, up)) in rows.iter().enumerate() {
        let step = c.observe(check);
        assert_eq!(step, Step { verdict, wait }, "row {i}: {check:?}");
        assert_eq!(c.is_up(), up, "row {i}: up");
    }
}

use Check::{Fail, NotMade, Pass};
use Verdict::{Down, Up};

#[test]
fn a_failed_url_needs_a_pass_to_be_forgotten_then_a_full_sweep() {
    transcript(
        HttpChecker::new(settings(1, 1, false)),
        &[
            (Pass, Some(Up), LOOP, true),
            (Fail, None, RETRY, true),
            (Fail, Some(Down), LOOP, false),
            (Fail, None, LOOP, false),
            (Pass, None, LOOP, false),
            (Pass, Some(Up), LOOP, true),
            (Fail, None, RETRY, true),
            (Pass, None, LOOP, true),
            (Fail, None, RETRY, true),
            (NotMade, None, LOOP, true),
            (Fail, Some(Down), LOOP, false),
        ],
    );
}

#[test]
fn retry_zero_takes_a_real_down_at_the_first_failure() {
    transcript(
        HttpChecker::new(settings(1, 0, false)),
        &[
            (Fail, Some(Down), LOOP, false),
            (Pass, None, LOOP, false),
            (Pass, Some(Up), LOOP, true),
        ],
    );
}

#[test]
fn under_alpha_a_real_that_never_passed_comes_up_at_its_first_sweep() {
    transcript(
        HttpChecker::new(settings(1, 1, true)),
        &[
            (Fail, None, RETRY, false),
            (Fail, None, RETRY, false),
            (Fail, None, RETRY, false),
            (Pass, Some(Up), LOOP, true),
            (Fail, None, RETRY, true),
            (Fail, Some(Down), LOOP, false),
            (Pass, None, LOOP, false),
            (Pass, Some(Up), LOOP, true),
        ],
    );
}

#[test]
fn under_alpha_with_retry_zero_the_first_failure_is_remembered() {
    transcript(
        HttpChecker::new(settings(1, 0, true)),
        &[
            (Fail, None, LOOP, false),
            (Pass, None, LOOP, false),
            (Pass, Some(Up), LOOP, true),
        ],
    );
}

#[test]
fn every_url_must_pass_in_one_sweep_and_a_pass_before_the_first_sweep_spends_the_retries() {
    let mut c = HttpChecker::new(settings(2, 2, false));
    assert_eq!(c.current_url(), 0);
    let rows = [
        (Pass, None, LOOP, true, 1),
        (Fail, Some(Down), LOOP, false, 1),
        (Pass, None, LOOP, false, 0),
        (Pass, None, LOOP, false, 1),
        (Pass, Some(Up), LOOP, true, 0),
        (Fail, None, RETRY, true, 0),
        (Pass, None, LOOP, true, 1),
        (Fail, None, RETRY, true, 1),
        (Fail, None, RETRY, true, 1),
        (Fail, Some(Down), LOOP, false, 1),
    ];
    for (i, (check, verdict, wait, up, url)) in rows.into_iter().enumerate() {
        assert_eq!(c.observe(check), Step { verdict, wait }, "row {i}");
        assert_eq!((c.is_up(), c.current_url()), (up, url), "row {i}");
    }
}

#[test]
fn a_failed_url_is_rechecked_every_longer_of_the_two_delays() {
    let mut s = settings(1, 0, false);
    s.delay_before_retry = Duration::from_secs(30);
    transcript(
        HttpChecker::new(s),
        &[
            (Fail, Some(Down), Duration::from_secs(30), false),
            (Fail, None, Duration::from_secs(30), false),
            (Pass, None, LOOP, false),
        ],
    );
}

#[test]
fn fast_recovery_rechecks_at_once_while_undecided_or_down_without_a_failed_url() {
    let mut s = settings(2, 1, true);
    s.fast_recovery = true;
    transcript(
        HttpChecker::new(s),
        &[
            (Pass, None, Duration::ZERO, false),
            (NotMade, None, LOOP, false),
            // The pass before the first decision spent the retries: the failed url is
            // remembered, so the recheck waits the longer delay.
            (Fail, None, LOOP, false),
            (Fail, None, LOOP, false),
            (Pass, None, Duration::ZERO, false),
            (Pass, None, Duration::ZERO, false),
            (Pass, Some(Up), LOOP, true),
        ],
    );
    let mut s = settings(1, 0, false);
    s.fast_recovery = true;
    transcript(
        HttpChecker::new(s),
        &[
            (Pass, Some(Up), LOOP, true),
            (Fail, Some(Down), LOOP, false),
            (Pass, None, Duration::ZERO, false),
            (Pass, Some(Up), LOOP, true),
        ],
    );
}
