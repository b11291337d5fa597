//! Semantic checks ipvsadm leaves to the kernel, run before anything is written.
//!
//! ipvsadm -R finds these problems one kernel error at a time, half way through a restore;
//! `lvsctl check` finds them all offline. Errors are things the kernel is certain to refuse
//! (or that cannot mean what the author wanted); warnings are things a kernel might still
//! accept, such as a scheduler module this build does not know.

use std::net::IpAddr;

use crate::ipvs::model::{
    AddressFamily, ForwardMethod, Netmask, Scheduler, ServiceKey, TunnelType,
};

use super::model::{RuleDest, RuleService, Rules};
use super::source::Finding;

/// Every semantic finding of a loaded file, in file order.
pub fn lint(rules: &Rules) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in &rules.services {
        lint_service(&rules.file, service, &mut findings);
        for dest in &service.dests {
            lint_dest(&rules.file, service, dest, &mut findings);
        }
    }
    findings.sort_by_key(|f| f.pos);
    findings
}

fn lint_service(file: &str, rule: &RuleService, out: &mut Vec<Finding>) {
    let s = &rule.service;
    // Positions are looked up only for a finding: most objects have none.
    let sched_pos = || {
        rule.origin
            .value_pos(Some('s'), "scheduler")
            .unwrap_or(rule.pos)
    };
    let name = s.scheduler.as_str();
    if name.is_empty() {
        out.push(Finding::error(file, sched_pos(), "empty scheduler name"));
    } else if name.len() > Scheduler::MAX_LEN {
        out.push(Finding::error(
            file,
            sched_pos(),
            format!(
                "scheduler name `{name}` is longer than the kernel's {} bytes",
                Scheduler::MAX_LEN
            ),
        ));
    } else if !s.scheduler.is_known() {
        out.push(Finding::warning(
            file,
            sched_pos(),
            format!(
                "unknown scheduler `{name}`: the kernel refuses it unless a module \
                 ip_vs_{name} exists (known: {}, none)",
                Scheduler::KNOWN.join(", ")
            ),
        ));
    }
    if let Netmask::V6(prefix) = s.netmask
        && !(1..=128).contains(&prefix)
    {
        let pos = rule
            .origin
            .value_pos(Some('M'), "netmask")
            .unwrap_or(rule.pos);
        out.push(Finding::error(
            file,
            pos,
            format!("IPv6 persistence netmask /{prefix} is not within 1..128"),
        ));
    }
}

fn lint_dest(file: &str, service: &RuleService, rule: &RuleDest, out: &mut Vec<Finding>) {
    let d = &rule.dest;
    let key = service.key();
    let at =
        |short: Option<char>, long: &str| rule.origin.value_pos(short, long).unwrap_or(rule.pos);
    if d.weight < 0 {
        out.push(Finding::error(
            file,
            at(Some('w'), "weight"),
            format!(
                "weight {} is negative (the kernel wants 0 or more)",
                d.weight
            ),
        ));
    }
    if d.l_threshold > d.u_threshold {
        out.push(Finding::error(
            file,
            at(Some('y'), "l-threshold"),
            format!(
                "lower threshold {} is above the upper threshold {} (the kernel refuses it \
                 with ERANGE; 0 means no limit)",
                d.l_threshold, d.u_threshold
            ),
        ));
    }
    if d.fwd == ForwardMethod::Tunnel && d.tunnel.kind == TunnelType::Gue && d.tunnel.port == 0 {
        out.push(Finding::error(
            file,
            at(None, "tun-type"),
            "a GUE tunnel needs --tun-port",
        ));
    }
    lint_dest_address(file, key, rule, || at(Some('r'), "real-server"), out);
    if let (ServiceKey::Addr { port, .. }, Some(written)) = (key, rule.written_port)
        && matches!(d.fwd, ForwardMethod::Route | ForwardMethod::Tunnel)
        && written != port
    {
        out.push(Finding::warning(
            file,
            at(Some('r'), "real-server"),
            format!(
                "real server port {written} differs from the service port {port}: direct \
                     routing and tunnelling cannot change ports (ipvsadm uses {port})"
            ),
        ));
    }
}

fn lint_dest_address(
    file: &str,
    key: ServiceKey,
    rule: &RuleDest,
    pos: impl Fn() -> super::source::Pos,
    out: &mut Vec<Finding>,
) {
    let d = &rule.dest;
    let bad_addr = match d.addr {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    if bad_addr {
        out.push(Finding::error(
            file,
            pos(),
            format!(
                "real server address {} is not a unicast address (the kernel refuses it)",
                d.addr
            ),
        ));
    }
    if d.af() == key.af() {
        return;
    }
    let message = match key {
        ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark,
        } if d.af() == AddressFamily::Inet6 => format!(
            "IPv6 real server {} in the IPv4 fwmark service {key}: an IPv6 fwmark service is \
             written `-f {mark} -6`",
            d.key()
        ),
        _ => format!(
            "real server {} is not of the address family of service {key}",
            d.key()
        ),
    };
    if d.fwd == ForwardMethod::Tunnel {
        let note = " (allowed for tunnelling, but only while no sync daemon runs)";
        out.push(Finding::warning(file, pos(), message + note));
    } else {
        out.push(Finding::error(file, pos(), message));
    }
}
