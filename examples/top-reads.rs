//! What each kind of read of `lvsctl top` costs on the real kernel (root, in the VM, with a
//! table loaded): the GET_SERVICE dump, GET_SERVICE of single services, pipelined GET_DEST
//! dumps of a screenful of services, `/proc/net/ip_vs_stats`, and a whole listing.
//!
//!   top-reads [--reps N] [--screen S]
//!
//! CPU is this thread's on-CPU time from `/proc/thread-self/schedstat` (nanoseconds, user
//! and kernel together: the kernel fills a dump in the reader's own `recvmsg` calls), so a
//! few repetitions are enough. `recvmsg` counts show the dump rounds.

// Timings are reported as floating-point milliseconds.
#![allow(clippy::cast_precision_loss)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lvsctl::ipvs::netlink::NetlinkBackend;
use lvsctl::ipvs::{Backend, ServiceKey};

/// On-CPU time of this thread so far.
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// (user, system) CPU ticks (1/100 s) of this thread, to split `thread_cpu` coarsely.
fn thread_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = text.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    (
        f.get(11).copied().unwrap_or(0),
        f.get(12).copied().unwrap_or(0),
    )
}

struct Row {
    name: String,
    wall: Duration,
    cpu: Duration,
    user_ticks: u64,
    sys_ticks: u64,
    recvmsg: u64,
    sendmsg: u64,
    reps: u32,
}

fn measure(
    b: &mut NetlinkBackend,
    name: impl Into<String>,
    reps: u32,
    mut f: impl FnMut(&mut NetlinkBackend) -> anyhow::Result<()>,
) -> anyhow::Result<Row> {
    f(b)?; // warm: caches, and the first read of a socket sizes its skbs
    let c0 = b.counters();
    let (cpu0, t0, ticks0) = (thread_cpu(), Instant::now(), thread_ticks());
    for _ in 0..reps {
        f(b)?;
    }
    let (wall, cpu, ticks1) = (
        t0.elapsed(),
        thread_cpu().saturating_sub(cpu0),
        thread_ticks(),
    );
    let c1 = b.counters();
    Ok(Row {
        name: name.into(),
        wall,
        cpu,
        user_ticks: ticks1.0 - ticks0.0,
        sys_ticks: ticks1.1 - ticks0.1,
        recvmsg: c1.recvmsg_calls - c0.recvmsg_calls,
        sendmsg: c1.sendmsg_calls - c0.sendmsg_calls,
        reps,
    })
}

fn main() -> anyhow::Result<()> {
    let mut reps = 10u32;
    let mut screen = 50usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || -> anyhow::Result<usize> {
            args.next()
                .context("missing value")?
                .parse()
                .context("not a number")
        };
        match a.as_str() {
            "--reps" => reps = u32::try_from(num()?)?,
            "--screen" => screen = num()?,
            other => bail!("unknown argument {other}"),
        }
    }
    let mut b = NetlinkBackend::connect().context("connect")?;
    let services = b.services()?;
    let keys: Vec<ServiceKey> = services.iter().map(|s| s.key).collect();
    let dests: usize = b.dests_of(&keys)?.iter().map(Vec::len).sum();
    let shown: Vec<ServiceKey> = keys.iter().copied().take(screen).collect();
    let mut rows = vec![
        measure(&mut b, "GET_SERVICE dump", reps, |b| {
            b.services().map(drop).map_err(Into::into)
        })?,
        measure(
            &mut b,
            format!("GET_SERVICE x {} (one by one)", shown.len()),
            reps,
            |b| {
                for k in &shown {
                    b.service(k)?;
                }
                Ok(())
            },
        )?,
        measure(
            &mut b,
            format!("GET_SERVICE x {} (pipelined)", shown.len()),
            reps,
            |b| b.services_of(&shown).map(drop).map_err(Into::into),
        )?,
        measure(
            &mut b,
            format!("GET_DEST x {} (pipelined)", shown.len()),
            reps,
            |b| b.dests_of(&shown).map(drop).map_err(Into::into),
        )?,
        measure(&mut b, "/proc/net/ip_vs_stats", reps, |b| {
            b.global_stats().map(drop).map_err(Into::into)
        })?,
    ];
    rows.push(measure(
        &mut b,
        "whole listing (entries)",
        reps.div_ceil(5),
        |b| b.entries().map(drop).map_err(Into::into),
    )?);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} services, {dests} real servers; per call (mean of the repetitions):",
        services.len()
    )?;
    for r in rows {
        let n = f64::from(r.reps.max(1));
        writeln!(
            out,
            "  {:<34} wall {:9.2} ms  cpu {:9.2} ms (user {:8.1} sys {:8.1})  sendmsg {:6.1}  recvmsg {:7.1}",
            r.name,
            r.wall.as_secs_f64() * 1000.0 / n,
            r.cpu.as_secs_f64() * 1000.0 / n,
            r.user_ticks as f64 * 10.0 / n,
            r.sys_ticks as f64 * 10.0 / n,
            r.sendmsg as f64 / n,
            r.recvmsg as f64 / n,
        )?;
    }
    Ok(())
}
