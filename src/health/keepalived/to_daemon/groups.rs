//! `virtual_server group NAME`: the group's IPVS services as keepalived 2.2.7 makes them,
//! for one virtual service of the daemon that writes to each of them
//! (crate::health::desired::service_keys).
//!
//! keepalived fills every member's service from the one virtual server (scheduler,
//! persistence, flags), puts each real server and the sorry server into every member
//! (`ipvs_group_cmd`: the address entries first, each address of a range in turn, then the
//! firewall marks), and runs one set of checkers per real server, one quorum and one set of
//! notify scripts for the whole group.

use std::collections::HashMap;
use std::net::IpAddr;

use super::Refusals;
use crate::health::keepalived::{
    GroupEntry, GroupRef, KeepalivedConfig, MAX_EXPANDED, Target, VirtualServer as KaVirtual,
};
use crate::ipvs::model::{Protocol, ServiceKey};

/// The group's services in keepalived's order, or None (refused) when the daemon could not
/// make them as keepalived does.
pub(super) fn members(r: &mut Refusals, v: &KaVirtual, g: &GroupRef) -> Option<Vec<ServiceKey>> {
    let before = r.0.len();
    // The reader has dropped a virtual server whose group mixes address families (as
    // keepalived does, with a warning): every entry is of the virtual server's family.
    for e in &g.entries {
        if let GroupEntry::Range { first, last, .. } = *e
            && range_len(first, last) > MAX_EXPANDED as u128
        {
            r.refuse(
                &v.pos,
                format!(
                    "virtual_server group {} with a range of more than {MAX_EXPANDED} addresses",
                    g.name
                ),
            );
        }
    }
    // The protocol only names address entries' services; keepalived ignores it for a
    // group of firewall marks only.
    let protocol = v.protocol.unwrap_or(Protocol::Tcp);
    let of = |fwmark: bool| {
        g.entries
            .iter()
            .filter(move |e| matches!(e, GroupEntry::Fwmark { .. }) == fwmark)
            .flat_map(move |e| e.service_keys(protocol, v.family))
    };
    let keys: Vec<ServiceKey> = of(false).chain(of(true)).collect();
    (r.0.len() == before && !keys.is_empty()).then_some(keys)
}

fn range_len(first: IpAddr, last: IpAddr) -> u128 {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => u128::from(u32::from(b).saturating_sub(u32::from(a))) + 1,
        (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(b).saturating_sub(u128::from(a)) + 1,
        _ => 0,
    }
}

/// A service that a group shares with another virtual server (the same group under the
/// same protocol, or an entry that is also a `virtual_server` of its own): keepalived
/// counts the live reals of each group entry across the virtual servers and leaves the
/// service while any of them has one; the daemon owns each service from one virtual.
/// `nftables_ipvs` with a group that has no firewall mark: keepalived then makes one
/// service on a firewall mark of its own and nftables rules for the group's addresses
/// (a group with marks is run as without it).
pub(super) fn shared(r: &mut Refusals, config: &KeepalivedConfig) {
    let mut owner: HashMap<ServiceKey, bool> = HashMap::new();
    let mut unmarked_group = false;
    for v in &config.virtual_servers {
        let is_group = matches!(v.target, Target::Group(_));
        if let Target::Group(g) = &v.target {
            unmarked_group |= !g
                .entries
                .iter()
                .any(|e| matches!(e, GroupEntry::Fwmark { .. }));
        }
        let protocol = v.protocol.unwrap_or(Protocol::Tcp);
        let mut clash = None;
        for key in v.target.service_keys(protocol, v.family) {
            if let Some(&other_is_group) = owner.get(&key) {
                if is_group || other_is_group {
                    clash = Some(key);
                }
            } else {
                owner.insert(key, is_group);
            }
        }
        if let Some(key) = clash {
            r.refuse(
                &v.pos,
                format!(
                    "a virtual_server group sharing the service {key} with another virtual_server"
                ),
            );
        }
    }
    if unmarked_group {
        for (keyword, pos) in &config.globals.ignored {
            if keyword == "nftables_ipvs" {
                r.refuse(
                    pos,
                    "nftables_ipvs with a virtual_server group without fwmark",
                );
            }
        }
    }
}
