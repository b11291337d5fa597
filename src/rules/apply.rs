//! Executing a plan through [`Backend::apply`], in large batches, stopping at the first
//! failed batch; rollback by planning from the live table back to a snapshot.
//!
//! The kernel has no transactions (performance anchors §2.3): every write that succeeded
//! stays. So the executor's job after a failure is to say exactly which writes were
//! applied, which one failed, and which were never sent — and, when asked, to undo the
//! applied ones with a second plan computed against what the kernel really holds then.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::ipvs::model::{DestKey, ServiceEntry, ServiceKey};
use crate::ipvs::{Backend, IpvsError, Op};

use super::plan::{self, Phase, Plan, PlanOptions, Step};

/// Ops per `Backend::apply` call. The netlink backend packs each call into as few
/// `sendmsg`s as its buffer allows; a bounded call size bounds how many ops run past a
/// failure (they were already submitted) and how long the genl lock is held.
pub const DEFAULT_BATCH: usize = 2048;

/// How long to wait for drained real servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainOptions {
    /// Give up waiting (and delete anyway) after this long.
    pub timeout: Duration,
    /// Re-read the active connection counts this often.
    pub poll: Duration,
}

/// What happened to a plan.
#[derive(Debug, Default)]
pub struct Execution {
    /// Writes the kernel accepted, in order.
    pub applied: Vec<Op>,
    /// Writes the kernel refused, with its answer.
    pub failed: Vec<(Op, IpvsError)>,
    /// Writes never sent because an earlier batch failed.
    pub not_applied: Vec<Op>,
    /// Outcome of the drain wait, when there was one.
    pub drain: Option<DrainWait>,
}

impl Execution {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty()
    }

    /// Kernel writes attempted (accepted or refused).
    pub fn writes(&self) -> usize {
        self.applied.len() + self.failed.len()
    }
}

/// Whether drained real servers emptied before the deletes went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainWait {
    pub emptied: bool,
    pub waited: Duration,
}

/// Execute a plan phase by phase (see [`Phase`]), `batch` ops per backend call. `sleep` is
/// how the drain wait passes time (tests pass a no-op).
pub fn execute(
    backend: &mut dyn Backend,
    plan: &Plan,
    batch: usize,
    drain: Option<DrainOptions>,
    sleep: &mut dyn FnMut(Duration),
) -> Execution {
    let mut exec = Execution::default();
    let batch = batch.max(1);
    let mut phases: Vec<(Phase, Vec<&Step>)> = Vec::new();
    for step in &plan.steps {
        match phases.last_mut() {
            Some((phase, steps)) if *phase == step.phase() => steps.push(step),
            _ => phases.push((step.phase(), vec![step])),
        }
    }
    let mut stopped = false;
    for (phase, steps) in phases {
        let ops: Vec<Op> = steps.iter().map(|s| s.op()).collect();
        if stopped {
            exec.not_applied.extend(ops);
            continue;
        }
        let mut ops = ops.into_iter();
        loop {
            // Ops move into the report rather than being cloned (50,000 on a cold apply).
            let chunk: Vec<Op> = ops.by_ref().take(batch).collect();
            if chunk.is_empty() {
                break;
            }
            if stopped {
                exec.not_applied.extend(chunk);
                continue;
            }
            let mut results = backend.apply(&chunk).into_iter();
            for op in chunk {
                match results.next() {
                    Some(Ok(())) => exec.applied.push(op),
                    Some(Err(e)) => exec.failed.push((op, copy_error(&e))),
                    None => exec.failed.push((
                        op,
                        IpvsError::Malformed("the backend gave no result".to_owned()),
                    )),
                }
            }
            stopped = !exec.failed.is_empty();
        }
        if phase == Phase::Drain
            && !stopped
            && let Some(opts) = drain
        {
            exec.drain = Some(wait_drained(backend, &steps, opts, sleep));
        }
    }
    exec
}

/// `IpvsError` is not `Clone` (it can hold an `io::Error`); keep what a report needs.
fn copy_error(e: &IpvsError) -> IpvsError {
    match e {
        IpvsError::Kernel { op, errno } => IpvsError::Kernel {
            op: *op,
            errno: *errno,
        },
        IpvsError::Unavailable { errno } => IpvsError::Unavailable { errno: *errno },
        other => IpvsError::Malformed(other.to_string()),
    }
}

/// Poll the drained real servers until none has active connections, or the timeout.
fn wait_drained(
    backend: &mut dyn Backend,
    steps: &[&Step],
    opts: DrainOptions,
    sleep: &mut dyn FnMut(Duration),
) -> DrainWait {
    let mut by_service: HashMap<ServiceKey, HashSet<DestKey>> = HashMap::new();
    for step in steps {
        if let Step::DrainDest { service, dest } = step {
            by_service.entry(*service).or_default().insert(dest.key());
        }
    }
    let mut waited = Duration::ZERO;
    loop {
        let active: u64 = by_service
            .iter()
            .map(|(svc, keys)| {
                backend.dests(svc).map_or(0, |dests| {
                    dests
                        .iter()
                        .filter(|d| keys.contains(&d.key()))
                        .map(|d| u64::from(d.active_conns))
                        .sum()
                })
            })
            .sum();
        if active == 0 {
            return DrainWait {
                emptied: true,
                waited,
            };
        }
        if waited >= opts.timeout {
            return DrainWait {
                emptied: false,
                waited,
            };
        }
        let step = opts
            .poll
            .min(opts.timeout.saturating_sub(waited))
            .max(Duration::from_millis(1));
        sleep(step);
        waited += step;
    }
}

/// The plan that takes the services `plan` touched from `current` back to `snapshot`.
pub fn rollback_plan(plan: &Plan, snapshot: &[ServiceEntry], current: &[ServiceEntry]) -> Plan {
    let touched = plan.touched();
    let keep = |entries: &[ServiceEntry]| -> Vec<ServiceEntry> {
        entries
            .iter()
            .filter(|e| touched.contains(&e.service.key))
            .cloned()
            .collect()
    };
    plan::plan(
        &keep(snapshot),
        &keep(current),
        PlanOptions {
            prune: true,
            drain: false,
        },
    )
}

/// Undo a failed execution: read the table again, plan back to `snapshot`, execute.
pub fn rollback(
    backend: &mut dyn Backend,
    plan: &Plan,
    snapshot: &[ServiceEntry],
    batch: usize,
) -> Result<(Plan, Execution), IpvsError> {
    let current = backend.entries()?;
    let back = rollback_plan(plan, snapshot, &current);
    let exec = execute(backend, &back, batch, None, &mut |_| {});
    Ok((back, exec))
}
