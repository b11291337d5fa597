//! One tokio task per (virtual, real) check, each on its own interval.
//!
//! A task only measures: it runs its check under a hard deadline and sends a [`Report`];
//! it never touches state or the kernel. Because every run is bounded by its deadline and
//! tasks are independent, one black-holed server delays no other check (spec §3.2, T44).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::health::check::{Check, Outcome, Target, checker_for, with_deadline};
use crate::health::config::{RealServer, VirtualService};
use crate::health::daemon::registry::{CheckId, Report};
use crate::health::maintenance::maintenance_file;

/// Everything a check task needs, owned.
#[derive(Debug)]
pub struct CheckJob {
    pub id: CheckId,
    pub generation: u64,
    pub check: Box<dyn Check>,
    pub target: Target,
    pub interval: Duration,
    /// Outer bound on one run, above the check's own timeout.
    pub limit: Duration,
    pub maintenance_dir: Option<PathBuf>,
}

impl CheckJob {
    pub fn new(
        v: &VirtualService,
        r: &RealServer,
        id: CheckId,
        generation: u64,
        maintenance_dir: Option<PathBuf>,
    ) -> Self {
        // Pings try `checkcount` times, each with the whole checktimeout.
        let connect = v
            .check
            .check_timeout
            .saturating_mul(v.check.check_count.max(1));
        let longest = connect.max(v.check.negotiate_timeout).max(1);
        Self {
            id,
            generation,
            check: checker_for(v, r),
            target: Target::new(v, r),
            interval: Duration::from_secs(u64::from(v.check_interval.max(1))),
            limit: Duration::from_secs(u64::from(longest) + 1),
            maintenance_dir,
        }
    }

    fn in_maintenance(&self) -> bool {
        let Some(dir) = &self.maintenance_dir else {
            return false;
        };
        let addr: IpAddr = self.target.real_addr;
        // Reverse-DNS names are not tried: only `<ip>:<port>` and `<ip>` files count.
        maintenance_file(
            dir,
            addr,
            self.target.real_port,
            None,
            std::path::Path::exists,
        )
        .is_some()
    }
}

/// Starts the task; it ends when `tx` is closed or the handle is aborted.
pub fn spawn(job: CheckJob, tx: UnboundedSender<Report>) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Spread the checks over (at most) the first second, so a thousand reals do not
        // all connect in the same millisecond every interval.
        let spread_ms = job.interval.as_millis().clamp(1, 1000) as u64;
        let offset = Duration::from_millis(job.generation.wrapping_mul(617) % spread_ms);
        let first = tokio::time::Instant::now() + offset;
        let mut ticks = tokio::time::interval_at(first, job.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let report = run_once(&job).await;
            if tx.send(report).is_err() {
                return;
            }
        }
    })
}

async fn run_once(job: &CheckJob) -> Report {
    let at = SystemTime::now();
    let started = Instant::now();
    let maintenance = job.in_maintenance();
    let outcome = if maintenance {
        Outcome::Down("Server in maintenance".to_owned())
    } else {
        with_deadline(job.limit, job.check.run(&job.target)).await
    };
    Report {
        id: job.id,
        generation: job.generation,
        outcome,
        maintenance,
        at,
        duration: started.elapsed(),
    }
}
