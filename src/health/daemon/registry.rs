//! The reconciler's memory: every owned virtual with its reals, each real's health and
//! last check, and the fallbackcommand state. Pure data; the event loop feeds it check
//! reports and asks it for the [`Desired`] kernel state.
//!
//! A reload builds a new registry from the new config and carries over the state of every
//! check whose definition did not change (its [`fingerprint`]), so unchanged reals keep
//! their health and failure counts instead of being rebuilt from the kernel
//! (docs/ldirectord-compat.md, Reload; and Deliberate differences).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::checker_slots::{self, CheckState, CheckerSlot, Rules};
use crate::health::check::Outcome;
use crate::health::config::{Config, KeepalivedAlert, NotifyScript, RealServer, VirtualService};
use crate::health::desired::desired_dest;
use crate::health::state::keepalived_http::Verdict;
use crate::health::state::quorum::QuorumState;
use crate::health::state::{Health, RealHealth, fallback_command_arg};
use crate::ipvs::model::{AddressFamily, Dest, DestKey, ServiceKey};

/// A check's identity in the registry: the virtual and the real's kernel entry.
pub type CheckId = (ServiceKey, DestKey);

/// One result from a check task.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: CheckId,
    /// Which of the real's own checks ([`RealServer::checks`]) it is from; 0 for the
    /// virtual's check.
    pub checker: usize,
    /// The task that produced it; reports of replaced tasks are ignored.
    pub generation: u64,
    pub outcome: Outcome,
    /// A maintenance file forced the real down; `outcome` is then not a check result.
    pub maintenance: bool,
    pub at: SystemTime,
    pub duration: Duration,
    /// What keepalived's HTTP checker decided from this result, for a virtual with
    /// `keepalived_http` (its task runs the checker, as the checker also decides the
    /// next wait); None otherwise, and when it decided nothing.
    pub verdict: Option<Verdict>,
    /// What the check has added to the real's weight (keepalived's `misc_dynamic`); None
    /// for other checks.
    pub weight: Option<i64>,
}

/// The last check of a real, for the status API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    pub at: SystemTime,
    pub duration: Duration,
    /// Why it failed; None when it passed.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RealSlot {
    pub real: RealServer,
    /// The kernel entry at configured weight.
    pub dest: Dest,
    /// None until decided: the first failing result, or as many passes in a row as `rise`
    /// asks for. While None the kernel keeps whatever it has for this real.
    pub health: Option<RealHealth>,
    /// Passes in a row counted while still undecided (only when `rise` > 1).
    pub undecided_passes: u32,
    pub maintenance: bool,
    /// The last results were local faults: the check could not be made (logged when such
    /// a run starts and when it ends).
    pub local_fault: bool,
    pub last: Option<LastCheck>,
    pub fingerprint: String,
    /// The check task currently reporting for this slot.
    pub generation: u64,
    /// The states of the real's own checks, when it has some: then they decide, and
    /// `health`, `maintenance` and `last` above are what they come to (see
    /// [`checker_slots::combined`]).
    pub checkers: Vec<CheckerSlot>,
    /// A check verdict has been recorded (keepalived's `has_run`).
    pub has_run: bool,
}

impl RealSlot {
    /// Whether `r` comes from the current task of its check.
    pub fn current(&self, r: &Report) -> bool {
        if self.checkers.is_empty() {
            r.checker == 0 && self.generation == r.generation
        } else {
            self.checkers
                .get(r.checker)
                .is_some_and(|c| c.generation == r.generation)
        }
    }

    fn combine(&mut self) {
        if self.checkers.is_empty() {
            return;
        }
        let (health, maintenance, last) = checker_slots::combined(&self.checkers);
        self.health = health;
        self.maintenance = maintenance;
        self.last = last;
    }
}

#[derive(Debug, Clone)]
pub struct VirtualSlot {
    pub v: VirtualService,
    pub reals: Vec<RealSlot>,
    /// The fallbackcommand argument last used (ldirectord runs it only on changes).
    pub fallback_arg: Option<&'static str>,
    /// keepalived's quorum state, for a virtual read from a keepalived.conf.
    pub quorum: Option<QuorumState>,
}

impl VirtualSlot {
    pub fn label(&self) -> String {
        self.v.label()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub virtuals: Vec<VirtualSlot>,
    pub readd_quiescent: bool,
    /// keepalived's quorum lines decided when the registry was built (start, reload), for
    /// the event loop to log.
    pub quorum_lines: Vec<String>,
    /// keepalived's notify scripts due, in the order keepalived runs them, for the event
    /// loop to start once the kernel has been brought in line.
    pub scripts: Vec<NotifyScript>,
    /// keepalived's `smtp_alert` mails due, in its order, for the event loop to hand to
    /// the mail task with the scripts.
    pub mails: Vec<KeepalivedAlert>,
    /// Where each check's slot is: reports arrive at a thousand per second with many reals.
    index: HashMap<CheckId, (usize, usize)>,
}

/// What makes two checks "the same" across a reload: the real as configured (without its
/// line number), the virtual's check settings, its interval and Piranha's check.
pub fn fingerprint(v: &VirtualService, r: &RealServer) -> String {
    let mut real = r.clone();
    real.line = 0;
    format!("{real:?}|{:?}|{}|{:?}", v.check, v.check_interval, v.nanny)
}

impl Registry {
    /// The registry for `config`, keeping the state of unchanged checks from `old`.
    pub fn build(config: &Config, old: Option<&Registry>) -> Self {
        let virtuals: Vec<VirtualSlot> = config
            .virtuals
            .iter()
            .map(|v| {
                let old_v = old.and_then(|o| o.virtual_slot(&v.key));
                let mut reals: Vec<RealSlot> = Vec::new();
                for r in &v.reals {
                    let dest = desired_dest(v, r);
                    if reals.iter().any(|s| s.dest.key() == dest.key()) {
                        continue; // one check per kernel entry
                    }
                    let fp = fingerprint(v, r);
                    let old_slot =
                        old_v.and_then(|o| o.reals.iter().find(|s| s.dest.key() == dest.key()));
                    let kept = old_slot.filter(|s| s.fingerprint == fp);
                    let mut slot = match kept {
                        Some(s) => RealSlot {
                            real: r.clone(),
                            dest,
                            ..s.clone()
                        },
                        None => RealSlot {
                            real: r.clone(),
                            dest,
                            health: v.start_up.map(|up| {
                                RealHealth::new(if up { Health::Up } else { Health::Down })
                            }),
                            undecided_passes: 0,
                            maintenance: false,
                            local_fault: false,
                            last: None,
                            fingerprint: fp,
                            generation: 0,
                            checkers: Vec::new(),
                            has_run: false,
                        },
                    };
                    if !r.checks.is_empty() {
                        let old = old_slot.map_or(&[][..], |s| &s.checkers[..]);
                        slot.checkers = checker_slots::checker_slots(r, old);
                        slot.combine();
                    }
                    reals.push(slot);
                }
                // keepalived carries a virtual's quorum state over a reload.
                let quorum = old_v.and_then(|o| o.quorum).map(|q| QuorumState {
                    sorry_in: q.sorry_in && v.fallback.is_some(),
                    ..q
                });
                VirtualSlot {
                    v: v.clone(),
                    reals,
                    fallback_arg: old_v.and_then(|o| o.fallback_arg),
                    quorum,
                }
            })
            .collect();
        let mut virtuals = virtuals;
        let (mut quorum_lines, mut scripts, mut mails) = (Vec::new(), Vec::new(), Vec::new());
        if let Some(old) = old {
            (scripts, mails) = old.reload_scripts(config);
        }
        for change in virtuals.iter_mut().filter_map(|vs| vs.update_quorum(true)) {
            quorum_lines.push(change.line);
            scripts.extend(change.script);
            mails.extend(change.mail);
        }
        let index = virtuals
            .iter()
            .enumerate()
            .flat_map(|(vi, vs): (usize, &VirtualSlot)| {
                vs.reals
                    .iter()
                    .enumerate()
                    .map(move |(ri, s)| ((vs.v.key, s.dest.key()), (vi, ri)))
            })
            .collect();
        Self {
            virtuals,
            readd_quiescent: config.globals.readd_quiescent,
            quorum_lines,
            scripts,
            mails,
            index,
        }
    }

    pub fn virtual_slot(&self, key: &ServiceKey) -> Option<&VirtualSlot> {
        self.virtuals.iter().find(|v| v.v.key == *key)
    }

    /// The virtual and slot a report is about, if that check still exists.
    pub fn slot(&self, id: &CheckId) -> Option<(&VirtualService, &RealSlot)> {
        let (vi, ri) = *self.index.get(id)?;
        let vs = self.virtuals.get(vi)?;
        Some((&vs.v, vs.reals.get(ri)?))
    }

    /// True once every real has had its first result.
    pub fn settled(&self) -> bool {
        self.virtuals
            .iter()
            .all(|vs| vs.reals.iter().all(|s| s.health.is_some()))
    }

    pub fn slot_mut(&mut self, id: &CheckId) -> Option<(&VirtualService, &mut RealSlot)> {
        let (vi, ri) = *self.index.get(id)?;
        let vs = self.virtuals.get_mut(vi)?;
        let slot = vs.reals.get_mut(ri)?;
        Some((&vs.v, slot))
    }

    /// Applies one report. Returns whether the kernel may need a change (a real's health
    /// changed) and the log lines for soft failures.
    pub fn record(&mut self, r: &Report) -> (bool, Vec<String>) {
        let Some((v, slot)) = self.slot_mut(&r.id) else {
            return (false, Vec::new());
        };
        let label = Label {
            real: real_name(&slot.real),
            v,
        };
        let before = slot.health.map(|h| h.health);
        // The reporting checker's own state: keepalived mails a checker's changes.
        let checker_health = |s: &RealSlot| {
            if s.checkers.is_empty() {
                s.health
            } else {
                s.checkers.get(r.checker).and_then(|c| c.health)
            }
            .map(|h| h.health)
        };
        let checker_before = checker_health(slot);
        let mut weight_changed = false;
        let (mut lines, first_failure) = if slot.checkers.is_empty() {
            if slot.generation != r.generation || r.checker != 0 {
                return (false, Vec::new());
            }
            let rules = Rules::of_virtual(v);
            let first_failure =
                checker_slots::first_failure(rules, v.start_up, &mut slot.has_run, r);
            let mut st = CheckState {
                health: &mut slot.health,
                undecided_passes: &mut slot.undecided_passes,
                maintenance: &mut slot.maintenance,
                local_fault: &mut slot.local_fault,
                last: &mut slot.last,
            };
            (
                checker_slots::observe(&label, rules, &mut st, r),
                first_failure,
            )
        } else {
            let weight = checker_slots::effective_weight(&slot.real, &slot.checkers);
            let Some(recorded) =
                checker_slots::record_checker(v, &slot.real, &mut slot.checkers, &label, r)
            else {
                return (false, Vec::new());
            };
            slot.combine();
            weight_changed = checker_slots::effective_weight(&slot.real, &slot.checkers) != weight;
            recorded
        };
        let now = slot.health.map(|h| h.health);
        let checker_now = checker_health(slot);
        let changed = now != before;
        let real = slot.real.clone();
        // keepalived runs the real's script, then weighs the quorum again, after every
        // change of a real's state.
        if let Some(&(vi, _)) = self.index.get(&r.id)
            && let Some(vs) = self.virtuals.get_mut(vi)
        {
            if changed || first_failure {
                let up = now == Some(Health::Up);
                self.scripts.extend(vs.real_notify(&real, up));
            }
            if changed && let Some(change) = vs.update_quorum(false) {
                lines.push(change.line);
                self.scripts.extend(change.script);
                self.mails.extend(change.mail);
            }
            let up = |h: Option<Health>| h == Some(Health::Up);
            self.mails.extend(vs.checker_mail(
                &real,
                r.checker,
                (up(checker_before), up(checker_now)),
                (up(before), up(now)),
            ));
        }
        (changed || weight_changed, lines)
    }

    /// ldirectord's lines for stopping with `cleanstop`: `Purged real server (stop)` for
    /// every up real of a cleanstop virtual that is in the kernel (each also gets a mail).
    pub fn stop_purges(&self, in_kernel: impl Fn(&CheckId) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        for vs in self.virtuals.iter().filter(|vs| vs.v.cleanstop) {
            for s in &vs.reals {
                let up = s.health.is_some_and(|h| h.health == Health::Up);
                if up && in_kernel(&(vs.v.key, s.dest.key())) {
                    out.push(format!(
                        "Purged real server (stop): {} ({})",
                        real_name(&s.real),
                        vs.label()
                    ));
                }
            }
        }
        out
    }

    /// The fallbackcommand lines due now (`<cmd> start|stop <vip:port> <proto>`), only for
    /// virtuals whose reals all have a result, remembering what was run.
    pub fn due_fallback_commands(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for vs in &mut self.virtuals {
            let settled = vs.reals.iter().all(|s| s.health.is_some());
            if !settled {
                continue;
            }
            let any_up = vs
                .reals
                .iter()
                .any(|s| s.health.is_some_and(|h| h.health == Health::Up));
            let Some(arg) = fallback_command_arg(any_up, vs.fallback_arg) else {
                continue;
            };
            let first = vs.fallback_arg.is_none();
            vs.fallback_arg = Some(arg);
            // At start a healthy virtual has nothing to stop.
            if first && arg == "stop" {
                continue;
            }
            if let Some(cmd) = &vs.v.fallback_command {
                out.push(format!("{cmd} {arg} {}", fallback_command_target(&vs.v)));
            }
        }
        out
    }
}

/// ldirectord's name for a real in log lines: `$r->{server}:$r->{port}`, the address (IPv6
/// bracketed) and the port as configured (0 when omitted), not the kernel entry's port.
pub fn real_name(r: &RealServer) -> DestKey {
    DestKey {
        addr: r.addr,
        port: r.port,
    }
}

/// How the soft-failure lines name a real: `10.1.0.1:80 (tcp:10.0.0.1:80)`. Written only
/// when a line is, which few of the thousand reports a second of a large director need.
pub struct Label<'a> {
    real: DestKey,
    v: &'a VirtualService,
}

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.real, virtual_id(self.v))
    }
}

/// ldirectord's `get_virtual_id_str`, which the soft-failure lines use instead of the plain
/// label: `tcp:10.0.0.1:80`, `udp:[2001:db8::1]:53`, `fwm:7`, `fwm6:7`.
pub fn virtual_id(v: &VirtualService) -> String {
    match v.key {
        ServiceKey::Addr { protocol, .. } => {
            format!("{}:{}", protocol.listing_name().to_lowercase(), v.label())
        }
        ServiceKey::Fwmark { af, mark } => match af {
            AddressFamily::Inet => format!("fwm:{mark}"),
            AddressFamily::Inet6 => format!("fwm6:{mark}"),
        },
    }
}

/// `vip:port proto`, as ldirectord passes it (`:0 fwm` for firewall marks; see
/// docs/ldirectord-compat.md, Fallback).
pub fn fallback_command_target(v: &VirtualService) -> String {
    match v.key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let host = match addr {
                IpAddr::V4(a) => a.to_string(),
                IpAddr::V6(a) => format!("[{a}]"),
            };
            format!("{host}:{port} {}", protocol.listing_name().to_lowercase())
        }
        ServiceKey::Fwmark { .. } => ":0 fwm".to_owned(),
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "restart_tests.rs"]
mod restart_tests;

#[path = "registry_keepalived.rs"]
mod keepalived;

#[path = "registry_ka_mail.rs"]
mod ka_mail;

#[cfg(test)]
#[path = "registry_ka_mail_tests.rs"]
mod ka_mail_tests;

#[path = "registry_desired.rs"]
mod desired;

#[cfg(test)]
#[path = "quorum_tests.rs"]
mod quorum_tests;

#[cfg(test)]
#[path = "group_tests.rs"]
mod group_tests;
