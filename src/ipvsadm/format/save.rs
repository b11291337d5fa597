//! `ipvsadm -S`: one `-A` line per service, one `-a` line per destination,
//! always sorted, names never cut to column widths.
//!
//! The format is lossy and sometimes not restorable; that is reproduced on purpose because
//! scripts diff saved files: thresholds are not saved, fwmarks ≥ 2^31 come out negative,
//! flag-less `-b ` is left dangling, unknown forwarding methods print `(null)`.

use std::io::{self, Write};

use super::service::{
    dest_name, fwd_switch, is_tunnel, mask_text, pe_name, rule_name, sched_flags,
};
use super::sort::{sorted_dests, sorted_entries};
use crate::ipvs::model::{Dest, Service, ServiceEntry, TunnelCsum, TunnelType};
use crate::names::Resolver;

/// The whole table; `entries` in kernel order. An empty table writes nothing.
pub fn write_save(
    out: &mut dyn Write,
    entries: &[ServiceEntry],
    names: &dyn Resolver,
) -> io::Result<()> {
    for entry in sorted_entries(entries) {
        write_save_service(out, &entry.service, &entry.dests, names)?;
    }
    Ok(())
}

/// One service's `-A` line and its (sorted) `-a` lines; `dests` in kernel order.
pub fn write_save_service(
    out: &mut dyn Write,
    svc: &Service,
    dests: &[Dest],
    names: &dyn Resolver,
) -> io::Result<()> {
    let selector = rule_name(&svc.key, names);
    let mut line = Vec::with_capacity(128);
    push_service_rule(&mut line, svc, &selector);
    out.write_all(&line)?;
    for dest in sorted_dests(dests) {
        line.clear();
        push_dest_rule(&mut line, svc, &selector, dest, names);
        out.write_all(&line)?;
    }
    Ok(())
}

fn push_service_rule(line: &mut Vec<u8>, svc: &Service, selector: &[u8]) {
    line.extend_from_slice(b"-A ");
    line.extend_from_slice(selector);
    let _ = write!(line, " -s {}", svc.scheduler);
    if svc.flags.persistent() {
        let _ = write!(line, " -p {}", svc.timeout);
        if let Some(mask) = mask_text(svc) {
            let _ = write!(line, " -M {mask}");
        }
    }
    if let Some(pe) = pe_name(svc) {
        let _ = write!(line, " --pe {pe}");
    }
    if svc.flags.one_packet() {
        line.extend_from_slice(b" -o");
    }
    if let Some(flags) = sched_flags(svc.scheduler.as_str(), svc.flags) {
        let _ = write!(line, " -b {flags}");
    }
    line.push(b'\n');
}

fn push_dest_rule(
    line: &mut Vec<u8>,
    svc: &Service,
    selector: &[u8],
    dest: &Dest,
    names: &dyn Resolver,
) {
    line.extend_from_slice(b"-a ");
    line.extend_from_slice(selector);
    line.extend_from_slice(b" -r ");
    line.extend_from_slice(&dest_name(svc, dest, names, false));
    let _ = write!(line, " {} -w {}", fwd_switch(dest), dest.weight);
    if is_tunnel(dest) {
        push_tunnel_options(line, dest);
    }
    line.push(b'\n');
}

/// `--tun-type …` options of a tunnelling destination. An unknown tunnel type gets none (as
/// in ipvsadm); an unknown checksum mode (undefined behaviour in ipvsadm) gets no checksum
/// option, which keeps the line restorable.
fn push_tunnel_options(line: &mut Vec<u8>, dest: &Dest) {
    let t = &dest.tunnel;
    let csum = match t.csum {
        TunnelCsum::NoCsum => " --tun-nocsum",
        TunnelCsum::Csum => " --tun-csum",
        TunnelCsum::RemCsum => " --tun-remcsum",
        TunnelCsum::Other(_) => "",
    };
    let _ = match t.kind {
        TunnelType::Ipip => write!(line, " --tun-type ipip"),
        TunnelType::Gue => write!(line, " --tun-type gue --tun-port {}{csum}", t.port),
        TunnelType::Gre => write!(line, " --tun-type gre{csum}"),
        TunnelType::Other(_) => Ok(()),
    };
}
