//! Linking `virtual_server group NAME` to its group.

use super::super::build::raw::{RawGroup, RawTarget, RawVs};
use super::super::diag::{Diagnostics, Phase, Severity};
use super::super::model::{GroupEntry, GroupRef};
use crate::ipvs::model::AddressFamily;

/// Attaches each `virtual_server group` to its group; keepalived drops (and only logs)
/// a virtual server whose group is missing or of the wrong address family.
pub(super) fn linked(
    vss: Vec<RawVs>,
    groups: &[RawGroup],
    diags: &mut Diagnostics,
) -> Vec<(RawVs, Option<GroupRef>)> {
    let mut out = Vec::new();
    for mut vs in vss {
        let RawTarget::Group(name) = &vs.target else {
            out.push((vs, None));
            continue;
        };
        let Some(group) = groups.iter().find(|g| &g.name == name) else {
            let message = format!(
                "virtual server group {name} is not defined; keepalived ignores this virtual server"
            );
            diags.push(vs.pos.clone(), Severity::Warning, Phase::Validate, message);
            continue;
        };
        let has = |f: AddressFamily| {
            group.entries.iter().any(|e| match e {
                GroupEntry::Range { first, .. } => AddressFamily::of(first) == f,
                GroupEntry::Fwmark { family, .. } => *family == Some(f),
            })
        };
        let (v4, v6) = (has(AddressFamily::Inet), has(AddressFamily::Inet6));
        let group_af = match (v4, v6) {
            (true, false) => Some(AddressFamily::Inet),
            (false, true) => Some(AddressFamily::Inet6),
            _ => None,
        };
        let clash = match (vs.af, group_af) {
            (Some(_), None) => v4 && v6,
            (Some(a), Some(g)) => a != g,
            (None, _) => false,
        };
        if clash {
            let message = format!(
                "virtual server group {name}'s address family does not match the virtual server's; keepalived ignores this virtual server"
            );
            diags.push(vs.pos.clone(), Severity::Warning, Phase::Validate, message);
            continue;
        }
        if vs.af.is_none() {
            vs.af = group_af;
        }
        let link = GroupRef {
            name: name.clone(),
            entries: group.entries.clone(),
        };
        out.push((vs, Some(link)));
    }
    out
}
