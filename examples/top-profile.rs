//! Profiling helper for `lvsctl top`: runs the dashboard's per-refresh work (the
//! collector's reads of the services on screen, `update`, `render` into an in-memory
//! terminal) for a number of cycles on one thread and prints where the time went, stage by
//! stage. The background sweep is left out: it has its own budget (`tui::sweep`), and
//! `examples/top-reads.rs` measures what its pieces cost.
//!
//!   top-profile [--kernel] [--services N] [--reals R] [--conns C] [--cycles K] [--conns-view]
//!
//! Without `--kernel` the table is an in-memory listing of N services x R real servers and
//! C connections (for callgrind on a machine without IPVS); with `--kernel` it reads the real
//! IPVS tables (root, in the VM). Each stage reports wall time and the thread's user and
//! system CPU (from `/proc/thread-self/stat`, in clock ticks, so use enough cycles).

// Timings are reported as floating-point milliseconds; precision beyond 2^52 ticks is moot.
#![allow(clippy::cast_precision_loss)]

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lvsctl::ipvs::netlink::NetlinkBackend;
use lvsctl::ipvs::{
    Backend, Connection, Dest, ForwardMethod, Protocol, Rates, Service, ServiceEntry, ServiceKey,
    Stats,
};
use lvsctl::tui::app::View;
use lvsctl::tui::conns::Accumulator;
use lvsctl::tui::snapshot::{Snapshot, TableRead};
use lvsctl::tui::{Action, App, Command, TopOptions, update, view};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};

#[derive(Debug, Clone, Copy)]
struct Opts {
    kernel: bool,
    services: usize,
    reals: usize,
    conns: usize,
    cycles: usize,
    conns_view: bool,
    big_reads: bool,
}

fn parse() -> anyhow::Result<Opts> {
    let mut o = Opts {
        kernel: false,
        services: 10_000,
        reals: 4,
        conns: 0,
        cycles: 20,
        conns_view: false,
        big_reads: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || -> anyhow::Result<usize> {
            args.next()
                .context("missing value")?
                .parse()
                .context("not a number")
        };
        match a.as_str() {
            "--kernel" => o.kernel = true,
            "--conns-view" => o.conns_view = true,
            "--big-reads" => o.big_reads = true,
            "--services" => o.services = num()?,
            "--reals" => o.reals = num()?,
            "--conns" => o.conns = num()?,
            "--cycles" => o.cycles = num()?,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(o)
}

fn vip(i: usize) -> IpAddr {
    let b = |shift: usize| u8::try_from((i >> shift) & 0xff).unwrap_or(0);
    IpAddr::V4(Ipv4Addr::new(10, b(16), b(8), b(0)))
}

fn key(i: usize) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: vip(i),
        port: 80,
    }
}

fn real(i: usize, j: usize) -> IpAddr {
    let host = u8::try_from(i % 250 + 1).unwrap_or(1);
    IpAddr::V4(Ipv4Addr::new(192, 168, u8::try_from(j).unwrap_or(0), host))
}

/// The host stand-in for the kernel: the table as a listing would decode it, plus the
/// connection rows, so a profile shows the dashboard's own work (the `FakeBackend` looks
/// dests up linearly, which would dominate at this size).
struct Table {
    entries: Vec<ServiceEntry>,
    conns: Vec<Connection>,
}

fn fake(o: &Opts) -> Table {
    let entries = (0..o.services)
        .map(|i| ServiceEntry {
            service: Service::new(key(i)),
            dests: (1..=o.reals)
                .map(|j| {
                    let mut d = Dest::new(real(i, j), 8080);
                    d.fwd = ForwardMethod::Masq;
                    d
                })
                .collect(),
        })
        .collect();
    let conns = (0..o.conns)
        .map(|n| Connection {
            protocol: "UDP".to_owned(),
            client_addr: IpAddr::V4(Ipv4Addr::new(10, 201, 0, 1 + u8::from(n % 2 == 1))),
            client_port: u16::try_from(1024 + n / 2).unwrap_or(0),
            virtual_addr: IpAddr::V4(Ipv4Addr::new(10, 250, 0, 1)),
            virtual_port: 53,
            dest_addr: IpAddr::V4(Ipv4Addr::new(192, 168, 250, 1 + (n % 4) as u8)),
            dest_port: 53,
            state: "UDP".to_owned(),
            expires: 800,
            pe_name: None,
            pe_data: None,
        })
        .collect();
    Table { entries, conns }
}

/// Give the counters some traffic, so rates, sorting and sparklines have work.
fn tick(t: &mut Table, cycle: u64) {
    for (i, e) in t.entries.iter_mut().enumerate() {
        let n = cycle * (i as u64 % 7 + 1);
        let stats = Stats {
            conns: n,
            inpkts: n * 10,
            outpkts: n * 8,
            inbytes: n * 1000,
            outbytes: n * 8000,
        };
        let rates = Rates {
            cps: i as u64 % 7,
            ..Rates::default()
        };
        e.service.stats = stats;
        e.service.rates = rates;
        for d in &mut e.dests {
            d.stats = stats;
            d.rates = rates;
        }
    }
}

/// CPU ticks (user, system) of this thread.
fn cpu() -> (u64, u64) {
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

#[derive(Default, Clone, Copy)]
struct Acc {
    wall: Duration,
    user: u64,
    sys: u64,
}

struct Stages {
    names: Vec<&'static str>,
    acc: Vec<Acc>,
}

impl Stages {
    fn time<T>(&mut self, name: &'static str, f: impl FnOnce() -> T) -> T {
        let (u0, s0) = cpu();
        let t0 = Instant::now();
        let out = f();
        let wall = t0.elapsed();
        let (u1, s1) = cpu();
        let i = if let Some(i) = self.names.iter().position(|n| *n == name) {
            i
        } else {
            self.names.push(name);
            self.acc.push(Acc::default());
            self.names.len() - 1
        };
        let a = &mut self.acc[i];
        a.wall += wall;
        a.user += u1 - u0;
        a.sys += s1 - s0;
        out
    }
}

fn main() -> anyhow::Result<()> {
    let o = parse()?;
    let mut kernel_backend = if o.kernel {
        let mut b = NetlinkBackend::connect()?;
        b.set_small_dump_reads(!o.big_reads);
        Some(b)
    } else {
        None
    };
    let mut fake_table = if o.kernel { None } else { Some(fake(&o)) };
    let hz = 100.0;
    let mut app = App::new(TopOptions {
        numeric: true,
        ..TopOptions::default()
    });
    update(
        &mut app,
        Action::Resize {
            width: 160,
            height: 50,
        },
    );
    let area = Rect::new(0, 0, 160, 50);
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(area),
        },
    )?;
    let mut query = None;
    if o.conns_view {
        for a in [Action::ShowView(View::Connections), Action::ToggleFollow] {
            for c in update(&mut app, a) {
                if let Command::WatchConns(q) = c {
                    query = q;
                }
            }
        }
    }
    let mut st = Stages {
        names: Vec::new(),
        acc: Vec::new(),
    };
    // The first refresh reads the whole table, as the sweep does over time; every later
    // one only the services on screen, which the app names in its WatchServices command.
    let first = match (kernel_backend.as_mut(), fake_table.as_ref()) {
        (Some(b), _) => TableRead::whole(b.entries()?),
        (None, Some(t)) => TableRead::whole(t.entries.clone()),
        (None, None) => TableRead::default(),
    };
    let mut screen = Vec::new();
    let first = Snapshot {
        at: Duration::ZERO,
        read: first,
        ..Snapshot::default()
    };
    for c in update(&mut app, Action::Snapshot(Box::new(first))) {
        if let Command::WatchServices(keys) = c {
            screen = keys;
        }
    }
    let index: HashMap<ServiceKey, usize> = fake_table.as_ref().map_or_else(HashMap::new, |t| {
        t.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.service.key, i))
            .collect()
    });
    let start = Instant::now();
    let total0 = cpu();
    for cycle in 0..o.cycles {
        if let Some(t) = fake_table.as_mut() {
            tick(t, cycle as u64);
        }
        let (read, global) = if let Some(backend) = kernel_backend.as_mut() {
            let services = st.time("screen: GET_SERVICE, pipelined", || {
                backend.services_of(&screen)
            })?;
            let dests = st.time("screen: GET_DEST, pipelined", || backend.dests_of(&screen))?;
            let global = st.time("global stats", || backend.global_stats().ok());
            let read = TableRead {
                listing: None,
                services: screen.iter().copied().zip(services).collect(),
                dests: screen.iter().copied().zip(dests).collect(),
            };
            (read, global)
        } else {
            let t = fake_table.as_ref().context("no table")?;
            let read = st.time("screen: copied from the fake table", || {
                let entries = screen.iter().filter_map(|k| t.entries.get(*index.get(k)?));
                TableRead {
                    listing: None,
                    services: entries
                        .clone()
                        .map(|e| (e.service.key, Some(e.service.clone())))
                        .collect(),
                    dests: entries.map(|e| (e.service.key, e.dests.clone())).collect(),
                }
            });
            (read, None)
        };
        let snap = Snapshot {
            at: Duration::from_secs(cycle as u64 + 1),
            read,
            global,
            ..Snapshot::default()
        };
        let commands = st.time("update(Snapshot)", || {
            update(&mut app, Action::Snapshot(Box::new(snap)))
        });
        for c in commands {
            if let Command::WatchServices(keys) = c {
                screen = keys;
            }
        }
        if let Some(q) = &query {
            let data = st.time("connections read+accumulate", || {
                let mut acc = Accumulator::new(q.clone());
                match (kernel_backend.as_mut(), fake_table.as_ref()) {
                    (Some(b), _) => b.connections(&mut |c| {
                        acc.push(c);
                        true
                    })?,
                    (None, Some(t)) => t.conns.iter().cloned().for_each(|c| acc.push(c)),
                    (None, None) => {}
                }
                anyhow::Ok(acc.finish())
            })?;
            st.time("update(Conns)", || {
                update(&mut app, Action::Conns(Box::new(data)))
            });
        }
        st.time("render+flush", || {
            terminal.draw(|f| view::render(&app, f)).map(|_| ())
        })?;
    }
    let total1 = cpu();
    let wall = start.elapsed();
    let n = o.cycles.max(1) as f64;
    let mut out = std::io::stdout().lock();
    if let Some(k) = &kernel_backend {
        let c = k.counters();
        writeln!(
            out,
            "netlink: {} sendmsg, {} recvmsg, small dump reads {}",
            c.sendmsg_calls,
            c.recvmsg_calls,
            k.small_dump_reads()
        )?;
    }
    writeln!(
        out,
        "{} cycles, {} services x {} reals, {} conns ({}): {:.1} ms wall/cycle, {:.1} ms user + {:.1} ms sys CPU/cycle",
        o.cycles,
        o.services,
        o.reals,
        o.conns,
        if o.kernel { "kernel" } else { "fake" },
        wall.as_secs_f64() * 1000.0 / n,
        (total1.0 - total0.0) as f64 / hz * 1000.0 / n,
        (total1.1 - total0.1) as f64 / hz * 1000.0 / n,
    )?;
    for (name, a) in st.names.iter().zip(&st.acc) {
        writeln!(
            out,
            "  {name:<42} wall {:8.2} ms  user {:8.2} ms  sys {:8.2} ms  (per cycle)",
            a.wall.as_secs_f64() * 1000.0 / n,
            a.user as f64 / hz * 1000.0 / n,
            a.sys as f64 / hz * 1000.0 / n,
        )?;
    }
    Ok(())
}
