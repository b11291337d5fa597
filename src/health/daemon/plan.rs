//! The reconciler's decision, as a pure function: (what the config and the check results
//! want, the live kernel table) → the ops of one cycle and the log lines that go with them.
//!
//! Only services listed in [`Desired`] are looked at: virtual services the configuration
//! does not own are never read into a decision, so they are never touched (spec §3.5 step 7,
//! T22). Because the live table is read every cycle, drift on owned services (a real deleted
//! or re-weighted by hand, a scheduler changed) is repaired on the next cycle.

use std::collections::{HashMap, HashSet};

use crate::health::state::Health;
use crate::ipvs::backend::Op;
use crate::ipvs::model::{Dest, DestKey, Service, ServiceEntry, ServiceKey};

/// One configured real as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredReal {
    /// The entry at its configured weight.
    pub dest: Dest,
    /// None until its first check result: the kernel entry is then left exactly as it is
    /// (never added unchecked, never removed before we know).
    pub health: Option<Health>,
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

/// Everything the configuration wants the kernel to hold, for one cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    pub virtuals: Vec<DesiredVirtual>,
    /// Owned services that left the configuration (reload) or are being cleaned at stop.
    pub remove: Vec<(ServiceKey, String)>,
    pub readd_quiescent: bool,
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
                format!("Purged virtual server (stop): {label}"),
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
    // Deletions and additions go out in the same batch, so swapping the fallback for the
    // first healthy real leaves no window in which the service has no destination.
    let mut gone: Vec<&DestKey> = live_dests
        .keys()
        .filter(|k| !wanted.keys.contains(*k))
        .collect();
    gone.sort();
    for k in gone {
        let what = if wanted.configured.contains(k) {
            "Deleted real server"
        } else if v.fallback.as_ref().is_some_and(|f| f.key() == *k) {
            "Deleted fallback server"
        } else {
            "Purged real server (start)"
        };
        out.push(Op::DelDest(key, *k), format!("{what}: {k} ({})", v.label));
    }
    for w in &wanted.dests {
        let dest = &w.dest;
        let line = |verb: &str| {
            format!(
                "{verb}: {} ({}) (Weight set to {})",
                dest.key(),
                v.label,
                dest.weight
            )
        };
        match live_dests.get(&dest.key()) {
            None => out.push(Op::AddDest(key, dest.clone()), line(w.add_verb)),
            Some(now) if !now.same_config(dest) => {
                let verb = if dest.weight == 0 {
                    "Quiescent real server"
                } else {
                    "Restored real server"
                };
                out.push(Op::EditDest(key, dest.clone()), line(verb));
            }
            Some(_) => {}
        }
    }
}

struct Wanted {
    dest: Dest,
    add_verb: &'static str,
}

/// What one virtual should hold. The sets make the plan linear in the number of reals: a
/// thousand reals are planned every checkinterval, and pairwise comparisons there cost
/// milliseconds of CPU per cycle (tens under emulation).
struct WantedSet {
    /// In configuration order, the fallback last.
    dests: Vec<Wanted>,
    /// Their keys.
    keys: HashSet<DestKey>,
    /// Every configured real's key, wanted or not.
    configured: HashSet<DestKey>,
}

/// The entries `v` should have, given what is live (for the "leave it as it is" cases).
fn wanted_dests(v: &DesiredVirtual, live: &HashMap<DestKey, &Dest>, readd: bool) -> WantedSet {
    let mut out = WantedSet {
        dests: Vec::with_capacity(v.reals.len() + 1),
        keys: HashSet::with_capacity(v.reals.len() + 1),
        configured: HashSet::with_capacity(v.reals.len()),
    };
    let push = |out: &mut WantedSet, dest: Dest, add_verb: &'static str| {
        out.keys.insert(dest.key());
        out.dests.push(Wanted { dest, add_verb });
    };
    for r in &v.reals {
        let k = r.dest.key();
        if !out.configured.insert(k) {
            continue; // the same kernel entry configured twice: the first line wins
        }
        match r.health {
            Some(Health::Up) => push(&mut out, r.dest.clone(), "Added real server"),
            Some(Health::Down) if v.quiescent && (readd || live.contains_key(&k)) => {
                let mut dest = r.dest.clone();
                dest.weight = 0;
                push(&mut out, dest, "Added quiescent real server");
            }
            Some(Health::Down) => {}
            None => {
                if let Some(now) = live.get(&k) {
                    push(&mut out, (*now).clone(), "Added real server");
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
        if wanted && !out.configured.contains(&k) {
            push(&mut out, f.clone(), "Added fallback server");
        }
    }
    out
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
