//! The registry's kernel side: the [`Desired`] state the reconciler brings the kernel to,
//! and the services a reload deletes. A keepalived `virtual_server group` is one virtual
//! of the registry (one check per real, one quorum) and one desired service per member,
//! each with the same reals in the same state, as keepalived writes every change to each
//! member (docs/keepalived-compat.md, "What runs with keepalived's semantics").

use std::collections::HashSet;

use super::{Health, Registry, VirtualSlot, checker_slots, real_name};
use crate::health::config::key_label;
use crate::health::daemon::plan::{Desired, DesiredReal, DesiredVirtual, Phase};
use crate::health::desired::{dest_in, fallback_in, service_in, service_keys};
use crate::ipvs::model::{Dest, DestKey, ServiceKey};

impl VirtualSlot {
    /// What the service `key` (one of [`service_keys`]) should hold; `single` when it is
    /// the virtual's only one (its entries are then the slots' own).
    fn desired_in(&self, key: ServiceKey, single: bool) -> DesiredVirtual {
        let v = &self.v;
        let reals = self
            .reals
            .iter()
            .map(|s| {
                let dest = if single {
                    s.dest.clone()
                } else {
                    dest_in(v, key, &s.real)
                };
                DesiredReal {
                    dest: match checker_slots::effective_weight(&s.real, &s.checkers) {
                        Some(weight) => Dest { weight, ..dest },
                        None => dest,
                    },
                    name: real_name(&s.real),
                    // keepalived's sorry server replaces the whole pool: while it is in,
                    // every real is out as if down (at weight 0 with inhibit).
                    health: if self.quorum.is_some_and(|q| q.sorry_in) {
                        Some(Health::Down)
                    } else {
                        s.health.map(|h| h.health)
                    },
                    inhibit: s.real.inhibit,
                }
            })
            .collect();
        DesiredVirtual {
            service: service_in(v, key),
            label: key_label(key),
            reals,
            quiescent: v.quiescent,
            fallback: v.fallback.as_ref().map(|f| fallback_in(v, key, f)),
            fallback_name: v.fallback.as_ref().map(|f| DestKey {
                addr: f.addr,
                port: f.port,
            }),
            fallback_inhibit: v.keepalived.as_ref().is_some_and(|k| k.sorry_inhibit),
            zero_on_add: v.nanny.as_ref().is_some_and(|n| n.quiesce_server),
        }
    }
}

impl Registry {
    /// The kernel state this registry wants; `remove` lists owned services to delete.
    /// A keepalived group's virtual is one [`DesiredVirtual`] per member service, each with
    /// the same reals in the same state: what keepalived writes to every member.
    pub fn desired(&self, remove: Vec<(ServiceKey, String)>) -> Desired {
        let virtuals = self
            .virtuals
            .iter()
            .flat_map(|vs| {
                let members = service_keys(&vs.v);
                let single = members.len() == 1;
                members
                    .into_iter()
                    .map(move |key| vs.desired_in(key, single))
            })
            .collect();
        Desired {
            virtuals,
            remove,
            phase: Phase::Start,
            readd_quiescent: self.readd_quiescent,
            table: crate::health::daemon::table::TableSteps::default(),
        }
    }

    /// The services of this registry that `new` does not have, with their labels: what a
    /// reload to `new` deletes (a keepalived group's members one by one).
    pub fn services_leaving(&self, new: &Registry) -> Vec<(ServiceKey, String)> {
        let kept: HashSet<ServiceKey> = new
            .virtuals
            .iter()
            .flat_map(|vs| service_keys(&vs.v))
            .collect();
        self.virtuals
            .iter()
            .flat_map(|vs| service_keys(&vs.v))
            .filter(|key| !kept.contains(key))
            .map(|key| (key, key_label(key)))
            .collect()
    }
}
