//! One tokio task per (virtual, real) check, each on its own interval.
//!
//! A task only measures: it runs its check under a hard deadline and sends a [`Report`];
//! it never touches state or the kernel. Because every run is bounded by its deadline and
//! tasks are independent, one black-holed server delays no other check (T44; see
//! docs/ldirectord-compat.md, Deadlines and scheduling).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::MissedTickBehavior;

use super::budget::Budget;
use super::faults;
use crate::health::check::MiscCheck;
use crate::health::check::misc::{KILLED, LastRun, TERM_GRACE};
use crate::health::check::{Check, Outcome, Route, Target, checker_for, with_deadline};
use crate::health::config::{KeepalivedFile, RealServer, VirtualService};
use crate::health::daemon::registry::{CheckId, Report};
use crate::health::daemon::reverse::ReverseNames;
use crate::health::maintenance::maintenance_file;
use crate::health::state::Health;
use crate::health::state::keepalived_epilog::{
    Checker as EpilogChecker, Settings as EpilogSettings,
};
use crate::health::state::keepalived_http::{Check as HttpCheck, HttpChecker, Settings, Verdict};
use crate::health::state::keepalived_misc::{
    MiscChecker, Run as MiscRun, Settings as MiscSettings,
};
use crate::health::state::reentry::{Reentry, Seen};

/// Everything a check task needs, owned.
#[derive(Debug)]
pub struct CheckJob {
    pub id: CheckId,
    /// Which of the real's own checks this is (0 for the virtual's check); a real's own
    /// check is built from [`VirtualService::checker`]'s view.
    pub checker: usize,
    pub generation: u64,
    pub check: Box<dyn Check>,
    pub target: Target,
    pub interval: Duration,
    /// Outer bound on one run, above the check's own timeout.
    pub limit: Duration,
    pub maintenance_dir: Option<PathBuf>,
    /// Reverse-DNS names for the maintenance files named after the host.
    pub reverse: Option<Arc<ReverseNames>>,
    /// The descriptors the checks share, and this check's take of them per run.
    pub budget: Arc<Budget>,
    pub descriptors: u32,
    /// keepalived's retries (see [`Retry`]); None runs on the interval's grid.
    pub retry: Option<Retry>,
    /// keepalived's HTTP checker (see [`run_keepalived_http`]); it replaces `retry`.
    pub http: Option<HttpChecker>,
    /// keepalived's TCP_CHECK, SMTP_CHECK, DNS_CHECK or PING_CHECK rules (see
    /// [`run_keepalived_epilog`]); they replace `retry`.
    pub epilog: Option<EpilogChecker>,
    /// With `http`: one check per url, run in the order the checker asks for.
    pub urls: Vec<Box<dyn Check>>,
    /// Piranha's reentry rule (see [`run_with_reentry`]); None for other formats.
    pub reentry: Option<Reentry>,
    /// keepalived's MISC_CHECK rules (see [`run_keepalived_misc`]) and where its script
    /// (`check`) leaves how each run ended.
    pub misc: Option<(MiscChecker, LastRun)>,
    /// keepalived's warmup, drawn: how much later than the daemon's own start slot the
    /// first run comes ([`warmup_delay`]); zero for the other formats.
    pub warmup: Duration,
    /// keepalived's FILE_CHECK: its task watches the file instead of running checks
    /// (super::ka_file).
    pub file: Option<KeepalivedFile>,
    /// Tests only: replaces a run's outcome (or panics in its place).
    #[cfg(test)]
    pub hook: Option<CheckHook>,
}

/// A test's stand-in for a check run: `Some(outcome)` replaces the check's own result; it
/// may also panic, as a buggy check would.
#[cfg(test)]
#[derive(Clone)]
pub struct CheckHook(pub Arc<HookFn>);

#[cfg(test)]
pub type HookFn = dyn Fn(&Target) -> Option<Outcome> + Send + Sync;

#[cfg(test)]
impl std::fmt::Debug for CheckHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckHook")
    }
}

impl CheckJob {
    pub fn new(
        v: &VirtualService,
        r: &RealServer,
        id: CheckId,
        generation: u64,
        maintenance_dir: Option<PathBuf>,
        reverse: Option<Arc<ReverseNames>>,
        budget: Arc<Budget>,
    ) -> Self {
        // Pings try `checkcount` times, each with the whole checktimeout.
        let connect = v
            .check
            .check_timeout
            .saturating_mul(v.check.check_count.max(1));
        let longest = connect.max(v.check.negotiate_timeout).max(1);
        Self {
            id,
            checker: 0,
            generation,
            check: checker_for(v, r),
            target: Target::new(v, r),
            interval: Duration::from_secs(u64::from(v.check_interval.max(1))),
            limit: Duration::from_secs(u64::from(longest) + 1),
            maintenance_dir,
            reverse,
            budget,
            descriptors: faults::per_run(v),
            retry: v.retry_delay.map(|delay| Retry {
                count: v.failure_count.saturating_sub(1),
                delay,
            }),
            http: v.keepalived_http.as_ref().map(|k| {
                HttpChecker::new(Settings {
                    urls: k.urls.len(),
                    retry: k.retry,
                    delay_loop: Duration::from_secs(u64::from(v.check_interval.max(1))),
                    delay_before_retry: k.delay_before_retry,
                    alpha: k.alpha,
                    fast_recovery: k.fast_recovery,
                })
            }),
            epilog: EpilogSettings::of_virtual(v).map(EpilogChecker::new),
            urls: crate::health::check::keepalived_url_checks(v),
            reentry: v.nanny.as_ref().map(|n| Reentry::new(n.reentry)),
            misc: None,
            warmup: v
                .keepalived
                .as_ref()
                .map_or(Duration::ZERO, |k| warmup_delay(k.warmup, draw())),
            file: None,
            #[cfg(test)]
            hook: None,
        }
    }

    /// The job of the `index`th of `r`'s own checks; None when it has no such check.
    #[allow(clippy::too_many_arguments)]
    pub fn of_real_check(
        v: &VirtualService,
        r: &RealServer,
        index: usize,
        id: CheckId,
        generation: u64,
        maintenance_dir: Option<PathBuf>,
        reverse: Option<Arc<ReverseNames>>,
        budget: Arc<Budget>,
    ) -> Option<Self> {
        let (cv, cr) = v.checker(r, index)?;
        let mut job = Self::new(&cv, &cr, id, generation, maintenance_dir, reverse, budget);
        job.checker = index;
        if let Some(c) = r.checks.get(index) {
            job.target.route = Route {
                connect_ip: c.connect_ip,
                bind: c.bind,
                device: c.bind_device.clone(),
                mark: c.mark,
            };
            job.warmup = warmup_delay(c.warmup, draw());
            job.file.clone_from(&c.keepalived_file);
        }
        if let Some(m) = r.checks.get(index).and_then(|c| c.keepalived_misc.as_ref()) {
            let script = MiscCheck::new(
                m.argv.clone(),
                &m.user,
                m.group.as_deref(),
                m.timeout,
                m.dynamic,
            );
            let last = script.last_run();
            job.check = Box::new(script);
            // The timeout, SIGTERM's grace, SIGKILL's, and a second for the rest.
            job.limit = m.timeout + TERM_GRACE * 2 + Duration::from_secs(1);
            let misc = MiscChecker::new(MiscSettings {
                retry: m.retry,
                delay_loop: job.interval,
                delay_before_retry: m.delay_before_retry,
                alpha: m.alpha,
                dynamic: m.dynamic,
                weight: r.weight,
            });
            job.misc = Some((misc, last));
        }
        Some(job)
    }

    fn in_maintenance(&self) -> bool {
        let Some(dir) = &self.maintenance_dir else {
            return false;
        };
        let addr: IpAddr = self.target.real_addr;
        // The cached name (never waited for): `<fqdn>` and `<short>` files count once known.
        let name = self.reverse.as_ref().and_then(|r| r.get(addr));
        maintenance_file(
            dir,
            addr,
            self.target.real_port,
            name.as_deref(),
            std::path::Path::exists,
        )
        .is_some()
    }
}

/// keepalived's schedule for a checker with `retry` and `delay_before_retry`: a failed run
/// is run again after `delay`, up to `count` times in a row; the run after that, and every
/// run after a success, waits the interval. Each wait starts when the run has ended, as
/// keepalived sets its next timer from the result, so these checks keep no grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub count: u32,
    pub delay: Duration,
}

impl Retry {
    /// The wait after a run; `retried` counts the retries made since the last wait of a
    /// whole interval. A failure is a `Down` outcome: a run that could not be made
    /// (a local fault) is no failure of the real and waits the interval.
    pub fn next_wait(self, retried: &mut u32, failed: bool, interval: Duration) -> Duration {
        if failed && *retried < self.count {
            *retried += 1;
            self.delay
        } else {
            *retried = 0;
            interval
        }
    }
}

/// Checks start in slots this wide: the checks of one slot share one wake-up of the runtime.
pub const SLOT: Duration = Duration::from_millis(10);

/// When a check with this generation first runs, after the task starts: one of the
/// [`SLOT`]-wide slots of (at most) the first second, so a thousand reals do not all connect
/// in the same millisecond, yet a thousand reals wake the runtime a hundred times a second
/// rather than a thousand (each wake-up is a context switch, ~10 % of the daemon's CPU).
pub fn first_offset(generation: u64, interval: Duration) -> Duration {
    let slot_ms = SLOT.as_millis() as u64;
    let slots = (interval.as_millis().clamp(1, 1000) as u64 / slot_ms).max(1);
    Duration::from_millis(generation.wrapping_mul(617) % slots * slot_ms)
}

/// keepalived's wait before a checker's first check beyond its bootstrap delay:
/// `warmup × random() / RAND_MAX`, uniform from 0 to `warmup` inclusive, so that checkers
/// started together spread out. keepalived draws it for every checker when its checker
/// process starts and again on each reload; `draw` is the random number, 0 to `u32::MAX`.
pub fn warmup_delay(warmup: Duration, draw: u32) -> Duration {
    let nanos = warmup.as_nanos() * u128::from(draw) / u128::from(u32::MAX);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A random number for [`warmup_delay`]. The unit tests draw 0, so that the schedules they
/// assert do not move at random; `warmup_delay` and a job with a drawn warmup are tested
/// on their own.
fn draw() -> u32 {
    if cfg!(test) {
        return 0;
    }
    let mut b = [0u8; 4];
    // Without randomness the checks start at once, as with warmup 0.
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        return 0;
    }
    u32::from_ne_bytes(b)
}

/// The first tick at or after `now` on the grid `base + offset + k * interval`.
pub fn first_tick<I>(base: I, now: I, offset: Duration, interval: Duration) -> I
where
    I: Copy + Ord + std::ops::Add<Duration, Output = I> + std::ops::Sub<I, Output = Duration>,
{
    let start = base + offset;
    if start >= now || interval.is_zero() {
        return start;
    }
    let periods = (now - start).as_nanos().div_ceil(interval.as_nanos());
    start + interval.saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX))
}

/// One grid for every task of the process: tasks started by a reload, or a few
/// milliseconds apart, still share their slots.
fn grid_base() -> tokio::time::Instant {
    static BASE: OnceLock<tokio::time::Instant> = OnceLock::new();
    *BASE.get_or_init(tokio::time::Instant::now)
}

/// The task's work: it ends when `tx` is closed (or when the task is aborted). The event
/// loop runs it in its set of check tasks, which tells it when one panicked.
pub async fn run(mut job: CheckJob, tx: UnboundedSender<Report>) {
    let first = first_tick(
        grid_base(),
        tokio::time::Instant::now(),
        first_offset(job.generation, job.interval),
        job.interval,
    ) + job.warmup;
    if let Some(file) = job.file.take() {
        // keepalived watches the file from the start, without warmup.
        return super::ka_file::run(job, tx, file).await;
    }
    if let Some(misc) = job.misc.take() {
        return run_keepalived_misc(job, tx, first, misc).await;
    }
    if let Some(http) = job.http {
        return run_keepalived_http(job, tx, first, http).await;
    }
    if let Some(epilog) = job.epilog {
        return run_keepalived_epilog(job, tx, first, epilog).await;
    }
    if let Some(retry) = job.retry {
        return run_with_retries(job, tx, first, retry).await;
    }
    if let Some(reentry) = job.reentry {
        return run_with_reentry(job, tx, first, reentry).await;
    }
    let mut ticks = tokio::time::interval_at(first, job.interval);
    // A check that overran (a timeout longer than the interval) resumes on its own
    // grid, so the checks of a slot stay together.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let report = run_once(&job, &*job.check).await;
        if tx.send(report).is_err() {
            return;
        }
    }
}

/// [`run`] on keepalived's schedule.
async fn run_with_retries(
    job: CheckJob,
    tx: UnboundedSender<Report>,
    first: tokio::time::Instant,
    retry: Retry,
) {
    tokio::time::sleep_until(first).await;
    let mut retried = 0;
    loop {
        let report = run_once(&job, &*job.check).await;
        let failed = matches!(report.outcome, Outcome::Down(_));
        let wait = retry.next_wait(&mut retried, failed, job.interval);
        if tx.send(report).is_err() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// [`run`] on the interval's grid, each result put through Piranha's reentry rule, whose
/// verdict the report carries: the rule needs the time of each result, which the task has
/// on the runtime's clock.
async fn run_with_reentry(
    job: CheckJob,
    tx: UnboundedSender<Report>,
    first: tokio::time::Instant,
    mut reentry: Reentry,
) {
    let mut ticks = tokio::time::interval_at(first, job.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let mut report = run_once(&job, &*job.check).await;
        let seen = match report.outcome {
            Outcome::Up => Seen::Pass,
            Outcome::Down(_) => Seen::Fail,
            Outcome::NotChecked | Outcome::LocalFault(_) => Seen::Nothing,
        };
        let now = tokio::time::Instant::now().saturating_duration_since(first);
        report.verdict = reentry.observe(seen, now).map(|h| match h {
            Health::Up => Verdict::Up,
            Health::Down => Verdict::Down,
        });
        if tx.send(report).is_err() {
            return;
        }
    }
}

/// [`run`] as keepalived's HTTP checker: each run's result goes through the checker, whose
/// verdict the report carries and whose wait (counted from the run's end) comes next.
async fn run_keepalived_http(
    job: CheckJob,
    tx: UnboundedSender<Report>,
    first: tokio::time::Instant,
    mut http: HttpChecker,
) {
    tokio::time::sleep_until(first).await;
    loop {
        let check = job
            .urls
            .get(http.current_url())
            .map_or(&*job.check, |c| &**c);
        let mut report = run_once(&job, check).await;
        let step = http.observe(match report.outcome {
            Outcome::Up => HttpCheck::Pass,
            Outcome::Down(_) => HttpCheck::Fail,
            Outcome::NotChecked | Outcome::LocalFault(_) => HttpCheck::NotMade,
        });
        report.verdict = step.verdict;
        if tx.send(report).is_err() {
            return;
        }
        tokio::time::sleep(step.wait).await;
    }
}

/// [`run`] as keepalived's one-shot checkers (TCP_CHECK, SMTP_CHECK, DNS_CHECK,
/// PING_CHECK): each run's result goes through the checker's epilogue, whose verdict the
/// report carries and whose wait, counted from the run's end as keepalived sets its timer
/// when the check has ended, comes next.
async fn run_keepalived_epilog(
    job: CheckJob,
    tx: UnboundedSender<Report>,
    first: tokio::time::Instant,
    mut epilog: EpilogChecker,
) {
    tokio::time::sleep_until(first).await;
    loop {
        let mut report = run_once(&job, &*job.check).await;
        let step = epilog.observe(match report.outcome {
            Outcome::Up => HttpCheck::Pass,
            Outcome::Down(_) => HttpCheck::Fail,
            Outcome::NotChecked | Outcome::LocalFault(_) => HttpCheck::NotMade,
        });
        report.verdict = step.verdict;
        if tx.send(report).is_err() {
            return;
        }
        tokio::time::sleep(step.wait).await;
    }
}

/// [`run`] as keepalived's MISC_CHECK: each run's result goes through the checker, whose
/// verdict the report carries; its wait counts from the start of the run, as keepalived
/// schedules the next run from the time it launched the script.
async fn run_keepalived_misc(
    job: CheckJob,
    tx: UnboundedSender<Report>,
    first: tokio::time::Instant,
    (mut misc, last): (MiscChecker, LastRun),
) {
    tokio::time::sleep_until(first).await;
    loop {
        let started = tokio::time::Instant::now();
        let mut report = run_once(&job, &*job.check).await;
        let how = last.load(Ordering::Relaxed);
        let step = misc.observe(match &report.outcome {
            Outcome::NotChecked | Outcome::LocalFault(_) => MiscRun::NotMade,
            _ if how == KILLED => MiscRun::Killed,
            _ => match u8::try_from(how) {
                Ok(code) => MiscRun::Exited(code),
                // No run of the script (a test's stand-in): its outcome as a status.
                Err(_) if report.outcome == Outcome::Up => MiscRun::Exited(0),
                Err(_) => MiscRun::Exited(1),
            },
        });
        report.verdict = step.verdict;
        report.weight = Some(step.added);
        if tx.send(report).is_err() {
            return;
        }
        tokio::time::sleep_until(started + step.wait).await;
    }
}

async fn run_once(job: &CheckJob, check: &dyn Check) -> Report {
    let at = SystemTime::now();
    let started = Instant::now();
    let maintenance = job.in_maintenance();
    let outcome = if maintenance {
        Outcome::Down("Server in maintenance".to_owned())
    } else {
        #[cfg(test)]
        if let Some(outcome) = job.hook.as_ref().and_then(|hook| (hook.0)(&job.target)) {
            return Report {
                id: job.id,
                checker: job.checker,
                generation: job.generation,
                outcome,
                maintenance,
                at,
                duration: started.elapsed(),
                verdict: None,
                weight: None,
            };
        }
        // The share is taken before the run's own deadline starts, and held to its end.
        match job.budget.take(job.descriptors, job.limit).await {
            Ok(_share) => with_deadline(job.limit, check.run(&job.target)).await,
            Err(why) => Outcome::LocalFault(why),
        }
    };
    Report {
        id: job.id,
        checker: job.checker,
        generation: job.generation,
        outcome,
        maintenance,
        at,
        duration: started.elapsed(),
        verdict: None,
        weight: None,
    }
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
