//! Executing a plan through [`Backend::apply`], in large batches, stopping at the first
//! failed batch or at a signal; rollback by planning from the live table back to a snapshot.
//!
//! IPVS has no transactions: the messages of a batch run one by one and a failure leaves
//! the earlier ones applied (docs/ipvsadm-compat.md, Batching and acknowledgements). So
//! the executor's job after a failure is to say exactly which writes were applied, which
//! one failed, and which were never sent — and, when asked, to undo the applied ones with
//! a second plan computed against what the kernel really holds then.
//!
//! A signal (see [`super::interrupt`]) is only looked at between batches: a batch once
//! sent is read back to its last acknowledgement, so at a stop every write is either
//! acknowledged (applied) or was never sent — none is in doubt. "Between batches" does not
//! mean "between consistent states": a service may already have some of its real servers
//! and not yet the others, which is why the report lists each write and `--rollback`
//! exists.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::ipvs::model::{DestKey, ServiceEntry, ServiceKey};
use crate::ipvs::{Backend, IpvsError, Op};

use super::interrupt::Interrupt;
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
    /// Writes never sent because an earlier batch failed or a signal stopped the apply.
    pub not_applied: Vec<Op>,
    /// Outcome of the drain wait, when there was one.
    pub drain: Option<DrainWait>,
    /// The signal that stopped the execution before its last batch.
    pub interrupted: Option<Interrupt>,
}

impl Execution {
    /// Every write was sent and accepted.
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && self.interrupted.is_none()
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

/// How an execution passes time and learns that it should stop: the system's in a
/// command, a test's own in tests.
pub struct Hooks<'a> {
    /// How the drain wait passes time (tests pass a no-op).
    pub sleep: Box<dyn FnMut(Duration) + 'a>,
    /// Asked before each batch and between the drain wait's polls.
    pub stop: Box<dyn Fn() -> Option<Interrupt> + 'a>,
}

impl std::fmt::Debug for Hooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooks")
    }
}

impl Hooks<'static> {
    /// No waiting, no signal: a rollback, and tests.
    pub fn none() -> Self {
        Self {
            sleep: Box::new(|_| {}),
            stop: Box::new(|| None),
        }
    }
}

/// Execute a plan phase by phase (see [`Phase`]), `batch` ops per backend call, until the
/// end, a refused write (its batch runs to the end: it was sent) or `hooks.stop`.
pub fn execute(
    backend: &mut dyn Backend,
    plan: &Plan,
    batch: usize,
    drain: Option<DrainOptions>,
    hooks: &mut Hooks<'_>,
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
    for (phase, steps) in phases {
        let mut ops = steps.iter().map(|s| s.op());
        loop {
            // Ops move into the report rather than being cloned (50,000 on a cold apply).
            let chunk: Vec<Op> = ops.by_ref().take(batch).collect();
            if chunk.is_empty() {
                break;
            }
            if stopped(&mut exec, hooks) {
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
        }
        if phase == Phase::Drain
            && !stopped(&mut exec, hooks)
            && let Some(opts) = drain
        {
            let wait = wait_drained(backend, &steps, opts, hooks);
            exec.interrupted = wait.1;
            exec.drain = Some(wait.0);
        }
    }
    exec
}

/// Whether the execution has stopped: a write was refused, or a signal came (which is
/// noted the first time it is seen).
fn stopped(exec: &mut Execution, hooks: &Hooks<'_>) -> bool {
    if !exec.failed.is_empty() || exec.interrupted.is_some() {
        return true;
    }
    exec.interrupted = (hooks.stop)();
    exec.interrupted.is_some()
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

/// Poll the drained real servers until none has active connections, the timeout, or a
/// signal (returned with the wait so far).
fn wait_drained(
    backend: &mut dyn Backend,
    steps: &[&Step],
    opts: DrainOptions,
    hooks: &mut Hooks<'_>,
) -> (DrainWait, Option<Interrupt>) {
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
        let wait = |emptied| DrainWait { emptied, waited };
        if active == 0 {
            return (wait(true), None);
        }
        if waited >= opts.timeout {
            return (wait(false), None);
        }
        if let Some(signal) = (hooks.stop)() {
            return (wait(false), Some(signal));
        }
        let step = opts
            .poll
            .min(opts.timeout.saturating_sub(waited))
            .max(Duration::from_millis(1));
        (hooks.sleep)(step);
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

/// Undo a failed or interrupted execution: read the table again, plan back to `snapshot`,
/// execute. Signals are not looked at: a rollback stopped half way would leave a table
/// that is neither the old one nor the new one.
pub fn rollback(
    backend: &mut dyn Backend,
    plan: &Plan,
    snapshot: &[ServiceEntry],
    batch: usize,
) -> Result<(Plan, Execution), IpvsError> {
    let current = backend.entries()?;
    let back = rollback_plan(plan, snapshot, &current);
    let exec = execute(backend, &back, batch, None, &mut Hooks::none());
    Ok((back, exec))
}
