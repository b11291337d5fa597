//! What an apply did, for people and for scripts: which writes were applied, which one the
//! kernel refused (with the file position of the object it was about), which were never
//! sent, and what the rollback did.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::ipvs::Op;
use crate::ipvs::model::{DestKey, ServiceKey};

use super::apply::Execution;
use super::interrupt::Interrupt;
use super::model::{KeyMap, Rules};
use super::source::Pos;

/// Where each object of the file was written, to point kernel errors at lines.
#[derive(Debug, Default)]
pub struct Positions {
    file: String,
    services: KeyMap<ServiceKey, Pos>,
    dests: KeyMap<(ServiceKey, DestKey), Pos>,
}

impl Positions {
    pub fn of(rules: &Rules) -> Self {
        let mut p = Self {
            file: rules.file.clone(),
            ..Self::default()
        };
        for s in &rules.services {
            p.services.insert(s.key(), s.pos);
            for d in &s.dests {
                p.dests.insert((s.key(), d.dest.key()), d.pos);
            }
        }
        p
    }

    /// `FILE:LINE:COL` of the object an op writes, when the file defines it.
    pub fn of_op(&self, op: &Op) -> Option<String> {
        let pos = match op {
            Op::AddService(s) | Op::EditService(s) => self.services.get(&s.key),
            Op::AddDest(k, d) | Op::EditDest(k, d) => self.dests.get(&(*k, d.key())),
            _ => None,
        }?;
        Some(format!("{}:{pos}", self.file))
    }
}

/// One op in words.
pub fn op_text(op: &Op) -> String {
    match op {
        Op::AddService(s) => format!("add service {}", s.key),
        Op::EditService(s) => format!("edit service {}", s.key),
        Op::DelService(k) => format!("delete service {k}"),
        Op::AddDest(k, d) => format!("add real server {} to {k}", d.key()),
        Op::EditDest(k, d) => format!("edit real server {} of {k} (weight {})", d.key(), d.weight),
        Op::DelDest(k, d) => format!("delete real server {d} from {k}"),
        other => format!("{:?}", other.kind()),
    }
}

fn failure_text(op: &Op, error: &crate::ipvs::IpvsError, at: &Positions) -> String {
    let place = at.of_op(op).map(|p| format!("{p}: ")).unwrap_or_default();
    format!("{place}kernel refused to {}: {error}", op_text(op))
}

fn list(out: &mut String, title: &str, ops: &[Op]) {
    if ops.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", ops.len());
    for op in ops {
        let _ = writeln!(out, "  {}", op_text(op));
    }
}

/// The stderr report of a failed or interrupted execution.
pub fn failure_human(exec: &Execution, at: &Positions) -> String {
    let mut out = String::new();
    for (op, error) in &exec.failed {
        let _ = writeln!(out, "{}", failure_text(op, error, at));
    }
    match exec.interrupted {
        Some(signal) => {
            let _ = writeln!(
                out,
                "apply interrupted by {}: {} writes applied, {} not sent.",
                signal.name(),
                exec.applied.len(),
                exec.not_applied.len()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "apply stopped: {} writes applied, {} refused, {} not sent.",
                exec.applied.len(),
                exec.failed.len(),
                exec.not_applied.len()
            );
        }
    }
    list(&mut out, "applied", &exec.applied);
    let refused: Vec<Op> = exec.failed.iter().map(|(op, _)| op.clone()).collect();
    list(&mut out, "refused", &refused);
    list(&mut out, "not applied", &exec.not_applied);
    out
}

/// The machine-readable form of an execution.
pub fn execution_json(exec: &Execution, at: &Positions) -> Value {
    let texts = |ops: &[Op]| ops.iter().map(op_text).collect::<Vec<_>>();
    json!({
        "ok": exec.succeeded(),
        "writes": exec.writes(),
        "applied": texts(&exec.applied),
        "failed": exec.failed.iter().map(|(op, e)| json!({
            "op": op_text(op),
            "error": e.to_string(),
            "errno": e.errno(),
            "at": at.of_op(op),
        })).collect::<Vec<_>>(),
        "not_applied": texts(&exec.not_applied),
        "interrupted": exec.interrupted.map(Interrupt::name),
        "drain": exec.drain.map(|d| json!({
            "emptied": d.emptied,
            "waited_ms": d.waited.as_millis() as u64,
        })),
    })
}
