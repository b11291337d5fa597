//! `ipvsadm -L`: header, title lines, service and destination lines for every mode.
//!
//! The executor can stream (header before the service dump, one service at a time, as
//! ipvsadm does so that partial output on errors matches) with [`write_list_header`],
//! [`write_title`] and [`write_service_entry`], or render a whole table with
//! [`write_full_listing`] / [`write_single_listing`].

use std::io::{self, Write};

use super::addr::push_left;
use super::number::{low32, push_largenum};
use super::service::{dest_name, fwd_name, is_tunnel, listing_name, push_default_line};
use super::sort::{sorted_dests, sorted_entries};
use crate::ipvs::model::{Dest, Info, Service, ServiceEntry, TunnelCsum, TunnelType};
use crate::names::Resolver;

/// Which columns a listing shows (`--stats`, `--rate`, ... or none of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListMode {
    #[default]
    Default,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    TunInfo,
}

impl ListMode {
    /// Modes in ipvsadm's precedence order: when several mode options are given, the first
    /// of these that was given wins.
    pub const PRECEDENCE: [Self; 5] = [
        Self::Stats,
        Self::Rate,
        Self::Thresholds,
        Self::PersistentConn,
        Self::TunInfo,
    ];

    /// The mode ipvsadm uses when the options for all of `given` were on the command line.
    pub fn select(given: &[Self]) -> Self {
        Self::PRECEDENCE
            .into_iter()
            .find(|mode| given.contains(mode))
            .unwrap_or(Self::Default)
    }
}

/// Listing options that change the output. `-n` is not here: pass `NoNames` as resolver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListFormat {
    pub mode: ListMode,
    /// `--exact`: counters unscaled.
    pub exact: bool,
    /// `--nosort`: keep the kernel's order of services and destinations.
    pub nosort: bool,
}

/// `IP Virtual Server version X.Y.Z (size=N)`, printed only by the full listing, before the
/// services are fetched.
pub fn write_list_header(out: &mut dyn Write, info: &Info) -> io::Result<()> {
    let (major, minor, patch) = info.version_triple();
    writeln!(
        out,
        "IP Virtual Server version {major}.{minor}.{patch} (size={})",
        info.conn_tab_size as i32
    )
}

/// The two title lines of a mode.
pub fn write_title(out: &mut dyn Write, mode: ListMode) -> io::Result<()> {
    const PROT: &str = "Prot LocalAddress:Port";
    const REMOTE: &str = "  -> RemoteAddress:Port";
    match mode {
        ListMode::Stats => writeln!(
            out,
            "{PROT:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        ),
        ListMode::Rate => writeln!(
            out,
            "{PROT:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        ),
        ListMode::Thresholds => writeln!(
            out,
            "{PROT:<33} {:<10} {:<10} {:<10} {:<10}\n{REMOTE}",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        ),
        ListMode::PersistentConn => writeln!(
            out,
            "{PROT:<33} {:<9} {:<11} {:<10} {:<10}\n{REMOTE}",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        ),
        ListMode::TunInfo => writeln!(
            out,
            "{PROT} Scheduler Flags\n{REMOTE}           Forward TunnelInfo    Weight ActiveConn InActConn"
        ),
        ListMode::Default => writeln!(
            out,
            "{PROT} Scheduler Flags\n{REMOTE}           Forward Weight ActiveConn InActConn"
        ),
    }
}

/// Full listing: header, title, services (sorted unless `nosort`) with their destinations.
/// `entries` are in kernel order.
pub fn write_full_listing(
    out: &mut dyn Write,
    info: &Info,
    entries: &[ServiceEntry],
    fmt: &ListFormat,
    names: &dyn Resolver,
) -> io::Result<()> {
    write_list_header(out, info)?;
    let entries: Vec<&ServiceEntry> = if fmt.nosort {
        entries.iter().collect()
    } else {
        sorted_entries(entries)
    };
    write_title(out, fmt.mode)?;
    for entry in entries {
        write_service_entry(out, &entry.service, &entry.dests, fmt, names)?;
    }
    Ok(())
}

/// `-L <service>`: title lines and that one service, no header line.
pub fn write_single_listing(
    out: &mut dyn Write,
    entry: &ServiceEntry,
    fmt: &ListFormat,
    names: &dyn Resolver,
) -> io::Result<()> {
    write_title(out, fmt.mode)?;
    write_service_entry(out, &entry.service, &entry.dests, fmt, names)
}

/// One service line and its destination lines; `dests` in kernel order (sorted here unless
/// `nosort`).
pub fn write_service_entry(
    out: &mut dyn Write,
    svc: &Service,
    dests: &[Dest],
    fmt: &ListFormat,
    names: &dyn Resolver,
) -> io::Result<()> {
    let mut line = Vec::with_capacity(128);
    push_service_line(&mut line, svc, *fmt, names);
    line.push(b'\n');
    out.write_all(&line)?;
    let dests: Vec<&Dest> = if fmt.nosort {
        dests.iter().collect()
    } else {
        sorted_dests(dests)
    };
    for dest in dests {
        line.clear();
        push_dest_line(&mut line, svc, dest, *fmt, names);
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

fn push_service_line(line: &mut Vec<u8>, svc: &Service, fmt: ListFormat, names: &dyn Resolver) {
    let counters = match fmt.mode {
        ListMode::Stats => {
            let s = &svc.stats;
            [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
        }
        ListMode::Rate => {
            let r = &svc.rates;
            [r.cps, r.inpps, r.outpps, r.inbps, r.outbps]
        }
        _ => return push_default_line(line, svc, names),
    };
    push_left(line, &listing_name(&svc.key, names), 33);
    for v in counters {
        push_largenum(line, v, fmt.exact);
    }
}

fn push_dest_line(
    line: &mut Vec<u8>,
    svc: &Service,
    dest: &Dest,
    fmt: ListFormat,
    names: &dyn Resolver,
) {
    line.extend_from_slice(b"  -> ");
    push_left(line, &dest_name(svc, dest, names, true), 28);
    // Numbers below are ASCII, so std's char-based padding equals printf's byte padding.
    let _ = match fmt.mode {
        ListMode::Stats => {
            let s = &dest.stats;
            for v in [low32(s.conns), low32(s.inpkts), low32(s.outpkts)] {
                push_largenum(line, v, fmt.exact);
            }
            push_largenum(line, s.inbytes, fmt.exact);
            push_largenum(line, s.outbytes, fmt.exact);
            Ok(())
        }
        ListMode::Rate => {
            let r = &dest.rates;
            let res = write!(
                line,
                " {:>8} {:>8} {:>8}",
                low32(r.cps),
                low32(r.inpps),
                low32(r.outpps)
            );
            push_largenum(line, low32(r.inbps), fmt.exact);
            push_largenum(line, low32(r.outbps), fmt.exact);
            res
        }
        ListMode::Thresholds => write!(
            line,
            " {:<10} {:<10} {:<10} {:<10}",
            dest.u_threshold, dest.l_threshold, dest.active_conns, dest.inact_conns
        ),
        ListMode::PersistentConn => write!(
            line,
            " {:<9} {:<11} {:<10} {:<10}",
            dest.weight as u32, dest.persist_conns, dest.active_conns, dest.inact_conns
        ),
        ListMode::TunInfo => write!(
            line,
            " {:<7} {:<13} {:<6} {:<10} {:<10}",
            fwd_name(dest),
            tunnel_info(dest),
            dest.weight,
            dest.active_conns,
            dest.inact_conns
        ),
        ListMode::Default => write!(
            line,
            " {:<7} {:<6} {:<10} {:<10}",
            fwd_name(dest),
            dest.weight,
            dest.active_conns,
            dest.inact_conns
        ),
    };
}

/// TunnelInfo column: `ipip`, `gue:<port>:<csum>`, `gre:<csum>`, `n/a` for anything else.
fn tunnel_info(dest: &Dest) -> String {
    if !is_tunnel(dest) {
        return "n/a".to_owned();
    }
    let t = &dest.tunnel;
    match t.kind {
        TunnelType::Ipip => "ipip".to_owned(),
        TunnelType::Gue => format!("gue:{}:{}", t.port, csum_mark(t.csum)),
        TunnelType::Gre => format!("gre:{}", csum_mark(t.csum)),
        TunnelType::Other(_) => "n/a".to_owned(),
    }
}

/// Checksum mark of the TunnelInfo column. ipvsadm indexes a 3-entry table with the raw
/// value (undefined behaviour beyond it); we print `?` for values it cannot name.
const fn csum_mark(csum: TunnelCsum) -> &'static str {
    match csum {
        TunnelCsum::NoCsum => "-c",
        TunnelCsum::Csum => "+c",
        TunnelCsum::RemCsum => "r+c",
        TunnelCsum::Other(_) => "?",
    }
}
