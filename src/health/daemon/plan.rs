//! The reconciler's decision, as a pure function: (what the config and the check results
//! want, the live kernel table) → the ops of one cycle and the log lines that go with them.
//!
//! Only services listed in [`Desired`] are looked at: virtual services the configuration
//! does not own are never read into a decision, so they are never touched (T22;
//! docs/ldirectord-compat.md, Ownership). Because the live table is read every cycle, drift
//! on owned services (a real deleted or re-weighted by hand, a scheduler changed) is
//! repaired on the next cycle.

use std::collections::{HashMap, HashSet};

use crate::health::state::Health;
use crate::ipvs::backend::Op;
use crate::ipvs::model::{Dest, DestKey, Service, ServiceEntry, ServiceKey};

/// One configured real as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredReal {
    /// The entry at its configured weight.
    pub dest: Dest,
    /// ldirectord's name for it in log lines: the address and port as configured (0 when
    /// omitted), which differs from the kernel entry's port for DR/tunnel reals and for
    /// NAT reals without a port (see `health::desired`).
    pub name: DestKey,
    /// None until its first check result: the kernel entry is then left exactly as it is
    /// (never added unchecked, never removed before we know).
    pub health: Option<Health>,
    /// Weight 0 instead of removal while down: keepalived's per-real
    /// `inhibit_on_failure`; None: the virtual's `quiescent`.
    pub inhibit: Option<bool>,
}

/// One owned virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVirtual {
    pub service: Service,
    /// ldirectord's label for logs (`vip:port` or the mark).
    pub label: String,
    pub reals: Vec<DesiredReal>,
    pub quiescent: bool,
    pub fallback: Option<Dest>,
    /// The fallback's name in log lines (as configured); None = its kernel entry's.
    pub fallback_name: Option<DestKey>,
    /// keepalived's `sorry_server_inhibit`: while not wanted, the fallback stays in the
    /// table at weight 0 instead of being deleted.
    pub fallback_inhibit: bool,
    /// Piranha's `quiesce_server`: zero the service's counters in the cycle that adds one
    /// of its reals.
    pub zero_on_add: bool,
}

impl DesiredVirtual {
    pub fn any_up(&self) -> bool {
        self.reals.iter().any(|r| r.health == Some(Health::Up))
    }

    /// True once every real has had a result (the fallback decision needs all of them).
    pub fn settled(&self) -> bool {
        self.reals.iter().all(|r| r.health.is_some())
    }
}

/// Why owned services are being removed, which names the `Purged virtual server (<tag>)`
/// lines. ldirectord purges virtuals dropped by a reload from `ld_start`, which it runs
/// again on reload, so they are tagged `start`; only `ld_stop` (cleanstop) says `stop`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Start-up and reload reconciliation.
    #[default]
    Start,
    /// Shutdown with `cleanstop`.
    Stop,
}

impl Phase {
    pub fn tag(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
        }
    }
}

/// Everything the configuration wants the kernel to hold, for one cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    pub virtuals: Vec<DesiredVirtual>,
    /// Owned services that left the configuration (reload) or are being cleaned at stop.
    pub remove: Vec<(ServiceKey, String)>,
    /// What `remove` is for.
    pub phase: Phase,
    pub readd_quiescent: bool,
    /// keepalived's whole-table steps, done before the plan (`table`).
    pub table: super::table::TableSteps,
}

/// The ops of one cycle, in kernel order, with one log line per op.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub ops: Vec<Op>,
    pub messages: Vec<String>,
}

impl Plan {
    fn push(&mut self, op: Op, message: String) {
        self.ops.push(op);
        self.messages.push(message);
    }
}

/// Computes the ops that bring the owned part of `live` to `desired`.
pub fn plan(desired: &Desired, live: &[ServiceEntry]) -> Plan {
    let live: HashMap<ServiceKey, &ServiceEntry> =
        live.iter().map(|e| (e.service.key, e)).collect();
    let mut out = Plan::default();
    for (key, label) in &desired.remove {
        if live.contains_key(key) {
            out.push(
                Op::DelService(*key),
                format!("Purged virtual server ({}): {label}", desired.phase.tag()),
            );
        }
    }
    for v in &desired.virtuals {
        plan_virtual(v, live.get(&v.service.key).copied(), desired, &mut out);
    }
    out
}

fn plan_virtual(v: &DesiredVirtual, live: Option<&ServiceEntry>, d: &Desired, out: &mut Plan) {
    let key = v.service.key;
    let live_dests: HashMap<DestKey, &Dest> = match live {
        None => {
            out.push(
                Op::AddService(v.service.clone()),
                format!("Added virtual server: {}", v.label),
            );
            HashMap::new()
        }
        Some(entry) => {
            if !entry.service.same_config(&v.service) {
                out.push(
                    Op::EditService(v.service.clone()),
                    format!("Changed virtual server: {}", v.label),
                );
            }
            entry.dests.iter().map(|d| (d.key(), d)).collect()
        }
    };
    let wanted = wanted_dests(v, &live_dests, d.readd_quiescent);
    // ldirectord's texts (`_remove_service`, `_restore_service`, `purge_untracked_service`):
    // `<Verb> <tag> server: <name> (<virtual>)`, plus `(Weight set to N)` on additions and
    // weight changes. Deletions and additions go out in the same batch, so swapping the
    // fallback for the first healthy real leaves no window without a destination.
    let mut gone: Vec<&DestKey> = live_dests
        .keys()
        .filter(|k| !wanted.keys.contains(*k))
        .collect();
    gone.sort();
    for k in gone {
        let line = if let Some(name) = wanted.configured.get(k) {
            format!("Deleted real server: {} ({})", mapped(*k, *name), v.label)
        } else if v.fallback.as_ref().is_some_and(|f| f.key() == *k) {
            let name = v.fallback_name.unwrap_or(*k);
            format!(
                "Deleted fallback server: {} ({})",
                mapped(*k, name),
                v.label
            )
        } else {
            format!("Purged real server (start): {k} ({})", v.label)
        };
        out.push(Op::DelDest(key, *k), line);
    }
    let mut real_added = false;
    for w in &wanted.dests {
        let dest = &w.dest;
        let tail = |name: &dyn std::fmt::Display| {
            format!("{name} ({}) (Weight set to {})", v.label, dest.weight)
        };
        match live_dests.get(&dest.key()) {
            None => {
                let line = if w.readd {
                    format!("Readd Quiescent real server: {}", tail(&w.name))
                } else {
                    format!("Added {} server: {}", w.tag, tail(&w.name))
                };
                out.push(Op::AddDest(key, dest.clone()), line);
                real_added |= w.tag == "real" && dest.weight > 0;
            }
            Some(now) if !now.same_config(dest) => {
                let line = if dest.weight == 0 {
                    format!(
                        "Quiescent {} server: {}",
                        w.tag,
                        tail(&mapped(dest.key(), w.name))
                    )
                } else {
                    format!("Restored {} server: {}", w.tag, tail(&w.name))
                };
                out.push(Op::EditDest(key, dest.clone()), line);
            }
            Some(_) => {}
        }
    }
    // After the add, in the same batch: the counters the returning real starts with are
    // the service's from then on (as `ipvsadm -Z -t|-u|-f SERVICE` would leave them).
    if v.zero_on_add && real_added {
        out.push(
            Op::Zero(Some(key)),
            format!(
                "Zeroed counters of virtual server: {} (quiesce_server)",
                v.label
            ),
        );
    }
}

/// How ldirectord names an entry it found in the kernel under another port than the
/// configured one: `<kernel entry> mapped from <configured>` (`_remove_service`).
fn mapped(kernel: DestKey, name: DestKey) -> String {
    if kernel == name {
        kernel.to_string()
    } else {
        format!("{kernel} mapped from {name}")
    }
}

struct Wanted {
    dest: Dest,
    /// ldirectord's name for it (configured address and port).
    name: DestKey,
    /// `real` or `fallback`.
    tag: &'static str,
    /// A down quiescent real added at weight 0 (`readdquiescent`).
    readd: bool,
}

/// What one virtual should hold. The sets make the plan linear in the number of reals: a
/// thousand reals are planned every checkinterval, and pairwise comparisons there cost
/// milliseconds of CPU per cycle (tens under emulation).
struct WantedSet {
    /// In configuration order, the fallback last.
    dests: Vec<Wanted>,
    /// Their keys.
    keys: HashSet<DestKey>,
    /// Every configured real's key, wanted or not, with its name.
    configured: HashMap<DestKey, DestKey>,
}

/// The entries `v` should have, given what is live (for the "leave it as it is" cases).
fn wanted_dests(v: &DesiredVirtual, live: &HashMap<DestKey, &Dest>, readd: bool) -> WantedSet {
    let mut out = WantedSet {
        dests: Vec::with_capacity(v.reals.len() + 1),
        keys: HashSet::with_capacity(v.reals.len() + 1),
        configured: HashMap::with_capacity(v.reals.len()),
    };
    let push = |out: &mut WantedSet, w: Wanted| {
        out.keys.insert(w.dest.key());
        out.dests.push(w);
    };
    for r in &v.reals {
        let k = r.dest.key();
        if out.configured.contains_key(&k) {
            continue; // the same kernel entry configured twice: the first line wins
        }
        out.configured.insert(k, r.name);
        let real = |dest: Dest, readd: bool| Wanted {
            dest,
            name: r.name,
            tag: "real",
            readd,
        };
        match r.health {
            Some(Health::Up) => push(&mut out, real(r.dest.clone(), false)),
            Some(Health::Down)
                if r.inhibit.unwrap_or(v.quiescent) && (readd || live.contains_key(&k)) =>
            {
                let mut dest = r.dest.clone();
                dest.weight = 0;
                push(&mut out, real(dest, true));
            }
            Some(Health::Down) => {}
            None => {
                if let Some(now) = live.get(&k) {
                    push(&mut out, real((*now).clone(), false));
                }
            }
        }
    }
    if let Some(f) = &v.fallback {
        let k = f.key();
        let wanted = if v.any_up() {
            false
        } else if v.settled() {
            true
        } else {
            live.contains_key(&k) // undecided: keep whatever is there
        };
        // A fallback that is also a configured real is that real's entry, not a second one.
        if (wanted || v.fallback_inhibit) && !out.configured.contains_key(&k) {
            let mut dest = f.clone();
            if !wanted {
                dest.weight = 0;
            }
            let w = Wanted {
                dest,
                name: v.fallback_name.unwrap_or(k),
                tag: "fallback",
                readd: false,
            };
            push(&mut out, w);
        }
    }
    out
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
