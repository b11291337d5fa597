//! keepalived 2.2.7's one-shot checkers (TCP_CHECK, SMTP_CHECK, DNS_CHECK, UDP_CHECK,
//! PING_CHECK) as a pure state machine: each result gives the real's new state (if any)
//! and the wait before the next check, as the checker's epilogue function sets them.
//!
//! Why one machine with three rules: the checkers share `retry`, `delay_before_retry` and
//! `delay_loop`, but not what happens to a failure while the real is already down:
//! - `tcp_epilog` (check_tcp.c), and `smtp_final` (check_smtp.c), which counts the same:
//!   a failure is retried `retry` times after `delay_before_retry`, whatever the real's
//!   state; the failure after them calls the real down (if it was up or nothing was
//!   decided yet) and waits `delay_loop`.
//! - `dns_final` (check_dns.c): the same while the real is up or undecided; a failure of
//!   a real already down waits `delay_loop`, without retries.
//! - `udp_epilog` (check_udp.c) and `icmp_epilog` (check_ping.c): retries only while the
//!   real is up; a failure of a real down or undecided-but-down (`alpha`) waits
//!   `delay_loop` and, once retries are used up or none are left, calls it down.
//!
//! Every checker starts with its retries used up (`validate_check_config` in check_data.c
//! sets `retry_it = retry` when keepalived starts: "one failure is enough initially"), so
//! until a check has passed, a failure calls the real down at once and the next check is
//! a `delay_loop` later; only after a pass is a failure retried.
//!
//! In all of them a pass calls the real up when it was down or nothing was decided yet,
//! forgets the retries and waits `delay_loop`; a check that could not be made (no socket)
//! changes nothing and waits `delay_loop`. "Calls up/down" is
//! `update_svr_checker_state`, reported as the [`Verdict`] even for a real already in
//! that state (the first decision), as the HTTP checker's machine does.

use std::time::Duration;

use crate::health::config::{CheckType, KeepalivedCheck, RealCheck, VirtualService};

pub use super::keepalived_http::{Check, Step, Verdict};

/// Which epilogue the checker follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// TCP_CHECK, SMTP_CHECK.
    Tcp,
    /// DNS_CHECK.
    Dns,
    /// UDP_CHECK, PING_CHECK.
    UdpIcmp,
}

/// What keepalived's configuration says about one checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub rule: Rule,
    pub retry: u32,
    pub delay_loop: Duration,
    pub delay_before_retry: Duration,
    pub alpha: bool,
}

impl Settings {
    /// The epilogue of the virtual's one check, when it is one of these checkers.
    pub fn of_virtual(v: &VirtualService) -> Option<Self> {
        if v.keepalived_http.is_some() {
            return None;
        }
        let c = v.check.check_type;
        let e = v.keepalived_check.as_ref();
        of_parts(
            c,
            e,
            v.start_up,
            v.retry_delay,
            v.failure_count,
            v.check_interval,
        )
    }

    /// The epilogue of one of a real's own checks, when it is one of these checkers.
    pub fn of_check(c: &RealCheck) -> Option<Self> {
        if c.keepalived_http.is_some() || c.keepalived_misc.is_some() {
            return None;
        }
        let (t, e) = (c.check.check_type, c.keepalived_check.as_ref());
        of_parts(
            t,
            e,
            c.start_up,
            c.retry_delay,
            c.failure_count,
            c.check_interval,
        )
    }
}

/// Only a keepalived.conf gives a check both a `retry_delay` and a `start_up`; its
/// TCP_CHECK, SMTP_CHECK and DNS_CHECK connect, its PING_CHECK pings. Anything else (an
/// ldirectord.cf's or Piranha's check, or the `on` check keepalived's reals without
/// checkers get) keeps the daemon's thresholds.
fn of_parts(
    check: CheckType,
    exchange: Option<&KeepalivedCheck>,
    start_up: Option<bool>,
    retry_delay: Option<Duration>,
    failure_count: u32,
    delay_loop: u32,
) -> Option<Settings> {
    let rule = match (check, exchange) {
        (CheckType::Connect, None | Some(KeepalivedCheck::Smtp { .. })) => Rule::Tcp,
        (CheckType::Connect, Some(KeepalivedCheck::Dns { .. })) => Rule::Dns,
        // udp_epilog is icmp_epilog's rule but for its log and mail texts.
        (CheckType::Ping, None) | (CheckType::Connect, Some(KeepalivedCheck::Udp { .. })) => {
            Rule::UdpIcmp
        }
        _ => return None,
    };
    Some(Settings {
        rule,
        // The mapping's failure_count is keepalived's `retry` + 1.
        retry: failure_count.saturating_sub(1),
        delay_loop: Duration::from_secs(u64::from(delay_loop.max(1))),
        delay_before_retry: retry_delay?,
        alpha: !start_up?,
    })
}

/// One checker's state between checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checker {
    settings: Settings,
    retried: u32,
    up: bool,
    has_run: bool,
}

impl Checker {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            // Used up: the first failure is not retried (see the module's comment).
            retried: settings.retry,
            up: !settings.alpha,
            has_run: false,
        }
    }

    /// Whether the real is up (in service) now.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Applies one check's result.
    pub fn observe(&mut self, check: Check) -> Step {
        let s = self.settings;
        let (verdict, wait) = match check {
            Check::NotMade => (None, s.delay_loop),
            Check::Pass => {
                self.retried = 0;
                let verdict = (!self.up || !self.has_run).then_some(Verdict::Up);
                (verdict, s.delay_loop)
            }
            Check::Fail => self.failed(),
        };
        if check != Check::NotMade {
            self.has_run = true;
        }
        match verdict {
            Some(Verdict::Up) => self.up = true,
            Some(Verdict::Down) => self.up = false,
            None => {}
        }
        Step { verdict, wait }
    }

    fn failed(&mut self) -> (Option<Verdict>, Duration) {
        let s = self.settings;
        let live = self.up || !self.has_run;
        let retry_left = self.retried < s.retry;
        let retries = match s.rule {
            Rule::Tcp => true,
            Rule::Dns => live,
            Rule::UdpIcmp => self.up,
        };
        if retries && retry_left {
            self.retried += 1;
            return (None, s.delay_before_retry);
        }
        // UDP/ICMP: a real down before any decision (alpha) with retries left is only
        // rescheduled; the call down comes when none are left.
        let decides = match s.rule {
            Rule::UdpIcmp => live && !retry_left,
            Rule::Tcp | Rule::Dns => live,
        };
        self.retried = 0;
        (decides.then_some(Verdict::Down), s.delay_loop)
    }
}

#[cfg(test)]
#[path = "keepalived_epilog_tests.rs"]
mod tests;
