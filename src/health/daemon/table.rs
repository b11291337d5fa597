//! keepalived's steps on the whole IPVS table (`lvs_flush`, `lvs_flush_onstop` without
//! `VS`, `lvs_timeouts`), done on the kernel thread before a cycle's own ops.
//!
//! keepalived 2.2.7 does them so (docs/keepalived-compat.md, "Whole-table settings"):
//! - at start, with any of the three timeouts given, it first reads the kernel's timeouts
//!   and keeps them as the originals (once: never read again while it runs), then writes
//!   each given one and the original for the others; `lvs_flush` then empties the table
//!   before any service is added;
//! - at reload, the originals are written back (when it had changed them) and the new
//!   file's timeouts written as at start; no flush;
//! - at stop, `lvs_flush_onstop` without `VS` empties the table instead of deleting the
//!   owned services, then the originals are written back if it had changed them.
//!
//! A failed read, write or flush is logged and the daemon goes on: keepalived does the
//! same, and none of them may take a real out of service. The originals live as long as
//! the kernel thread's [`Snapshot`](super::kernel::Snapshot): a thread started again after
//! a panic has none, and then restores nothing at stop.

use crate::health::config::KeepalivedTable;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::model::Timeouts;

/// What a cycle does to the whole table before its own ops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableSteps {
    /// FLUSH first (then the owned services are read afresh: none are left).
    pub flush: bool,
    pub timeouts: TimeoutStep,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimeoutStep {
    #[default]
    Leave,
    /// Write these (0 = the original), reading the originals first when not yet read.
    Set(Timeouts),
    /// Write the originals back, if they were read.
    Restore,
}

impl TableSteps {
    /// At start: the timeouts, then the flush.
    pub fn start(t: &KeepalivedTable) -> Self {
        Self {
            flush: t.flush_at_start,
            ..Self::reload(t)
        }
    }

    /// At reload: the new file's timeouts, or the originals back.
    pub fn reload(t: &KeepalivedTable) -> Self {
        let timeouts = if t.timeouts == Timeouts::default() {
            TimeoutStep::Restore
        } else {
            TimeoutStep::Set(t.timeouts)
        };
        Self {
            flush: false,
            timeouts,
        }
    }

    /// At stop: the flush (keepalived's clear_services: only when the file has virtual
    /// servers), then the originals back.
    pub fn stop(t: &KeepalivedTable, has_virtuals: bool) -> Self {
        Self {
            flush: t.flush_at_stop && has_virtuals,
            timeouts: TimeoutStep::Restore,
        }
    }
}

/// What the steps did: log lines, failures, and whether the table was flushed.
#[derive(Debug, Default)]
pub struct TableOutcome {
    pub messages: Vec<String>,
    pub errors: Vec<String>,
    pub flushed: bool,
}

/// Runs `steps` on `backend`; `originals` is the thread's memory of the kernel's own
/// timeouts. At start the timeouts go before the flush, at stop after it, as keepalived
/// orders them; either order leaves the same table.
pub fn run(
    backend: &mut dyn Backend,
    steps: TableSteps,
    originals: &mut Option<Timeouts>,
    stopping: bool,
) -> TableOutcome {
    let mut out = TableOutcome::default();
    if !stopping {
        timeouts(backend, steps.timeouts, originals, &mut out);
    }
    if steps.flush {
        match one(backend, &Op::Flush) {
            Ok(()) => {
                out.flushed = true;
                out.messages.push("Flushed the IPVS table".to_owned());
            }
            Err(e) => out
                .errors
                .push(format!("Failed to flush the IPVS table: {e}")),
        }
    }
    if stopping {
        timeouts(backend, steps.timeouts, originals, &mut out);
    }
    out
}

fn timeouts(
    backend: &mut dyn Backend,
    step: TimeoutStep,
    originals: &mut Option<Timeouts>,
    out: &mut TableOutcome,
) {
    let (write, verb) = match step {
        TimeoutStep::Leave => return,
        TimeoutStep::Restore => match *originals {
            Some(o) => (o, "Restored"),
            None => return,
        },
        TimeoutStep::Set(t) => {
            if originals.is_none() {
                match backend.timeouts() {
                    Ok(o) => *originals = Some(o),
                    // As keepalived: the given ones are still written, the others left
                    // as they are (0), and nothing is restored later.
                    Err(e) => out.errors.push(format!("Failed to get IPVS timeouts: {e}")),
                }
            }
            let o = originals.unwrap_or_default();
            let pick = |given: u32, original: u32| if given == 0 { original } else { given };
            let write = Timeouts {
                tcp: pick(t.tcp, o.tcp),
                tcp_fin: pick(t.tcp_fin, o.tcp_fin),
                udp: pick(t.udp, o.udp),
            };
            (write, "Set")
        }
    };
    match one(backend, &Op::SetTimeouts(write)) {
        Ok(()) => out.messages.push(format!(
            "{verb} IPVS timeouts: tcp {} tcpfin {} udp {}",
            write.tcp, write.tcp_fin, write.udp
        )),
        Err(e) => out.errors.push(format!("Failed to set IPVS timeouts: {e}")),
    }
}

fn one(backend: &mut dyn Backend, op: &Op) -> Result<(), crate::ipvs::error::IpvsError> {
    backend
        .apply(std::slice::from_ref(op))
        .pop()
        .unwrap_or(Ok(()))
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
