//! keepalived 2.2.7's HTTP_GET/SSL_GET checker as a pure state machine: each check result
//! of one url gives the real's new state (if any) and the wait before the next check.
//!
//! Why its own machine: keepalived's HTTP checker does not follow the daemon's
//! fall/rise counting. Its rules, as check_http.c implements them (function names given
//! so the rules can be checked against that file's logic):
//!
//! - The urls are checked one per run, in order; a real is up when every url passed in
//!   one sweep. A pass moves to the next url and clears the retry count (`epilog`, a new
//!   checker registration).
//! - A failure of a real that is up, or before anything was decided (`timeout_epilog`),
//!   counts one retry; once the count exceeds `retry`, the real goes down and the url is
//!   remembered as the failed url (`epilog`, the retry registration).
//! - A failure of a real already down after the first decision counts nothing
//!   (`timeout_epilog`, "do not retry if server is already known as dead").
//! - A pass of the failed url only forgets it and restarts the sweep at the first url: a
//!   real down after retries needs that pass and then a full sweep, two passes with one url.
//!   A real that starts down under `alpha` is counted only at its first failure (it is
//!   down and decided after it), so no failed url is remembered unless that failure used
//!   up the retries (`retry` 0, or a url passed before it); otherwise one sweep brings it
//!   up.
//! - Before the first decision, a passing url sets the retry count to `retry`, so a
//!   failure after it takes the real down at once (`epilog`, "if !has_run").
//! - The next check waits `delay_loop` after a pass; after a failure `delay_before_retry`,
//!   or the longer of the two while a failed url is remembered. With `fast_recovery`, a
//!   real not yet decided, or down with no failed url, is checked again at once.
//! - A check that could not be made (no socket, bind failed) changes nothing and waits
//!   `delay_loop` (`http_connect_thread`).

use std::time::Duration;

/// What keepalived's configuration says about one HTTP_GET/SSL_GET checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Number of `url` blocks (at least one: a checker without any is dropped when the
    /// file is read).
    pub urls: usize,
    pub retry: u32,
    pub delay_loop: Duration,
    pub delay_before_retry: Duration,
    pub alpha: bool,
    pub fast_recovery: bool,
}

/// The result of checking the current url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Pass,
    Fail,
    /// The check could not be made (a local fault, not a failure of the real).
    NotMade,
}

/// keepalived's `update_svr_checker_state` call, if the check made one. `Up` is also
/// reported for a real that already was up (the first full sweep without `alpha`), as
/// keepalived logs its success then too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Up,
    Down,
}

/// What one check led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub verdict: Option<Verdict>,
    pub wait: Duration,
}

/// One checker's state between checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpChecker {
    settings: Settings,
    /// The url checked next; `urls` means past the last one.
    url: usize,
    failed_url: Option<usize>,
    retried: u32,
    up: bool,
    has_run: bool,
}

impl HttpChecker {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            url: 0,
            failed_url: None,
            retried: 0,
            up: !settings.alpha,
            has_run: false,
        }
    }

    /// Whether the real is up (in service) now.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The url the next check fetches (an index into the checker's `url` blocks).
    pub fn current_url(&self) -> usize {
        self.url
    }

    /// Applies the result of checking [`Self::current_url`].
    pub fn observe(&mut self, check: Check) -> Step {
        match check {
            Check::NotMade => Step {
                verdict: None,
                wait: self.settings.delay_loop,
            },
            Check::Pass => self.passed(),
            Check::Fail => self.failed(),
        }
    }

    fn passed(&mut self) -> Step {
        let mut verdict = None;
        self.url += 1;
        self.retried = 0;
        if self.url >= self.settings.urls && self.failed_url.is_none() {
            if !self.up || !self.has_run {
                self.up = true;
                self.has_run = true;
                verdict = Some(Verdict::Up);
            }
            self.url = 0;
        } else if self.failed_url.is_some() {
            self.failed_url = None;
            self.url = 0;
        }
        if !self.has_run {
            self.retried = self.settings.retry;
        }
        Step {
            verdict,
            wait: self.wait(self.settings.delay_loop),
        }
    }

    fn failed(&mut self) -> Step {
        let mut verdict = None;
        if self.up || !self.has_run {
            self.has_run = true;
            self.retried = self.retried.saturating_add(1);
            if self.retried > self.settings.retry {
                if self.up {
                    self.up = false;
                    verdict = Some(Verdict::Down);
                }
                self.failed_url = Some(self.url);
            }
        }
        let s = self.settings;
        let delay = if self.failed_url.is_some() {
            s.delay_before_retry.max(s.delay_loop)
        } else {
            s.delay_before_retry
        };
        Step {
            verdict,
            wait: self.wait(delay),
        }
    }

    /// `fast_recovery` overrides the wait while nothing was decided yet, or while the
    /// real is down with no failed url remembered.
    fn wait(&self, delay: Duration) -> Duration {
        let undecided = !self.has_run || (!self.up && self.failed_url.is_none());
        if self.settings.fast_recovery && undecided {
            Duration::ZERO
        } else {
            delay
        }
    }
}

#[cfg(test)]
#[path = "keepalived_http_tests.rs"]
mod tests;
