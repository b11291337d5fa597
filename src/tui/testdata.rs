//! Fixed model values for the dashboard's tests: a small director with IPv4, IPv6, UDP
//! persistent and fwmark services, two polls a second apart, and the same director in the
//! in-memory kernel for the collector to poll.

use std::net::IpAddr;
use std::time::Duration;

use crate::ipvs::fake::{FakeBackend, SharedFake};
use crate::ipvs::{
    AddressFamily, Connection, DaemonRole, Dest, ForwardMethod, GlobalStats, Info, Protocol, Rates,
    Service, ServiceEntry, ServiceFlags, ServiceKey, Stats, SyncDaemon, Timeouts,
};
use crate::tui::action::Action;
use crate::tui::app::{App, TopOptions};
use crate::tui::health::{HealthState, HealthStatus};
use crate::tui::snapshot::{ConnSnapshot, Details, Snapshot, TableRead};
use crate::tui::update::update;

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn web() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip("10.0.0.1"),
        port: 80,
    }
}

pub fn dns() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip("10.0.0.1"),
        port: 53,
    }
}

pub fn fwm() -> ServiceKey {
    ServiceKey::Fwmark {
        af: AddressFamily::Inet,
        mark: 7,
    }
}

pub fn v6() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip("2001:db8::1"),
        port: 443,
    }
}

fn stats(conns: u64, scale: u64) -> Stats {
    Stats {
        conns,
        inpkts: conns * 10 * scale,
        outpkts: conns * 8 * scale,
        inbytes: conns * 1500 * scale,
        outbytes: conns * 12_000 * scale,
    }
}

fn rates(cps: u64) -> Rates {
    Rates {
        cps,
        inpps: cps * 10,
        outpps: cps * 8,
        inbps: cps * 1500,
        outbps: cps * 12_000,
    }
}

/// A real server with counters that grow with `tick`.
pub fn dest(addr: &str, port: u16, weight: i32, active: u32, tick: u64) -> Dest {
    let mut d = Dest::new(ip(addr), port);
    d.weight = weight;
    d.active_conns = active;
    d.inact_conns = active / 3;
    d.stats = stats(1000 + u64::from(active) * tick, 1);
    d.rates = rates(u64::from(active) / 2);
    d
}

fn service(key: ServiceKey, sched: &str, dests: Vec<Dest>) -> ServiceEntry {
    let mut s = Service::new(key);
    s.scheduler = crate::ipvs::Scheduler::new(sched);
    s.flags = ServiceFlags(ServiceFlags::HASHED);
    let total = dests.iter().fold(Stats::default(), |a, d| Stats {
        conns: a.conns + d.stats.conns,
        inpkts: a.inpkts + d.stats.inpkts,
        outpkts: a.outpkts + d.stats.outpkts,
        inbytes: a.inbytes + d.stats.inbytes,
        outbytes: a.outbytes + d.stats.outbytes,
    });
    s.stats = total;
    s.rates = rates(dests.iter().map(|d| d.rates.cps).sum());
    ServiceEntry { service: s, dests }
}

/// The table at poll number `tick` (counters grow between ticks).
pub fn entries(tick: u64) -> Vec<ServiceEntry> {
    let mut udp = service(
        dns(),
        "rr",
        vec![
            dest("10.0.2.1", 53, 1, 40, tick),
            dest("10.0.2.2", 53, 1, 10, tick),
        ],
    );
    udp.service.flags.0 |= ServiceFlags::PERSISTENT;
    udp.service.timeout = 300;
    for d in &mut udp.dests {
        d.fwd = ForwardMethod::Masq;
    }
    let mut tun = service(fwm(), "sh", vec![dest("10.0.3.1", 0, 5, 7, tick)]);
    tun.dests[0].fwd = ForwardMethod::Tunnel;
    tun.dests[0].u_threshold = 100;
    tun.dests[0].l_threshold = 10;
    vec![
        service(
            web(),
            "wlc",
            vec![
                dest("10.0.1.3", 80, 0, 2, tick),
                dest("10.0.1.2", 80, 3, 900, tick),
                dest("10.0.1.1", 80, 5, 1200, tick),
            ],
        ),
        udp,
        tun,
        service(v6(), "wrr", vec![dest("2001:db8::10", 8443, 2, 30, tick)]),
    ]
}

pub fn details() -> Details {
    let mut daemon = SyncDaemon::new(DaemonRole::Master, "eth0", 1);
    daemon.mcast_group = Some(ip("224.0.0.81"));
    daemon.mcast_port = Some(8848);
    let sysctls = [
        ("am_droprate", "10"),
        ("conn_reuse_mode", "1"),
        ("conntrack", "0"),
        ("expire_nodest_conn", "0"),
        ("expire_quiescent_template", "0"),
        ("sloppy_tcp", "0"),
        ("snat_reroute", "1"),
    ];
    Details {
        info: Some(Ok(Info {
            version: (1 << 16) | (2 << 8) | 1,
            conn_tab_size: 4096,
        })),
        timeouts: Some(Ok(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        })),
        daemons: Some(Ok(vec![daemon])),
        sysctls: Some(Ok(sysctls
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())),
    }
}

pub fn snapshot(tick: u64) -> Snapshot {
    let entries = entries(tick);
    let global = GlobalStats {
        stats: Stats {
            conns: 1_234_567 + 2000 * tick,
            inpkts: 98_765_432 + 20_000 * tick,
            outpkts: 87_654_321 + 16_000 * tick,
            inbytes: 12_345_678_901 + 3_000_000 * tick,
            outbytes: 98_765_432_109 + 24_000_000 * tick,
        },
        rates: rates(1900),
    };
    Snapshot {
        at: Duration::from_secs(tick),
        read: TableRead::whole(entries),
        global: Some(global),
        details: details(),
        health: crate::tui::health::HealthMap::default(),
        names: None,
        idle: false,
    }
}

/// The refresh at `tick` of a big table: only the services on the app's screen are read
/// (the rest of the table keeps what was read of it before).
pub fn screen_snapshot(app: &App, tick: u64) -> Snapshot {
    let mut snap = snapshot(tick);
    let on_screen: Vec<ServiceEntry> = entries(tick)
        .into_iter()
        .filter(|e| app.watched.contains(&e.service.key))
        .collect();
    snap.read = TableRead {
        listing: None,
        services: on_screen
            .iter()
            .map(|e| (e.service.key, Some(e.service.clone())))
            .collect(),
        dests: on_screen
            .into_iter()
            .map(|e| (e.service.key, e.dests))
            .collect(),
    };
    snap
}

/// Health statuses for the web service's real servers.
pub fn with_health(mut snap: Snapshot) -> Snapshot {
    let k = web();
    let st = |state, ms: Option<u64>, result: &str| HealthStatus {
        state,
        last_result: Some(result.to_owned()),
        latency: ms.map(Duration::from_millis),
    };
    let d = |a: &str| crate::ipvs::DestKey {
        addr: ip(a),
        port: 80,
    };
    snap.health.insert(
        (k, d("10.0.1.1")),
        st(HealthState::Up, Some(12), "HTTP 200"),
    );
    snap.health.insert(
        (k, d("10.0.1.2")),
        st(HealthState::Down, None, "connection refused"),
    );
    snap.health.insert(
        (k, d("10.0.1.3")),
        st(HealthState::Draining, Some(3), "HTTP 200"),
    );
    snap
}

/// An app that has seen two polls (so counter-delta rates exist).
pub fn app_with(options: TopOptions, width: u16, height: u16) -> App {
    let mut app = App::new(options);
    update(&mut app, Action::Resize { width, height });
    update(&mut app, Action::Snapshot(Box::new(snapshot(1))));
    update(&mut app, Action::Snapshot(Box::new(snapshot(2))));
    app
}

pub fn app() -> App {
    app_with(TopOptions::default(), 80, 24)
}

pub fn conn(client: &str, cport: u16, rs: &str, state: &str, expires: u32) -> Connection {
    Connection {
        protocol: "TCP".to_owned(),
        client_addr: ip(client),
        client_port: cport,
        virtual_addr: ip("10.0.0.1"),
        virtual_port: 80,
        dest_addr: ip(rs),
        dest_port: 80,
        state: state.to_owned(),
        expires,
        pe_name: None,
        pe_data: None,
    }
}

pub fn conn_rows() -> Vec<Connection> {
    vec![
        conn("192.168.7.21", 51_234, "10.0.1.1", "ESTABLISHED", 899),
        conn("192.168.7.22", 40_001, "10.0.1.2", "TIME_WAIT", 61),
        conn("192.168.7.23", 40_002, "10.0.1.1", "ESTABLISHED", 512),
        conn("198.51.100.9", 33_333, "10.0.1.2", "SYN_RECV", 45),
        conn("192.168.7.21", 51_300, "10.0.1.1", "FIN_WAIT", 100),
    ]
}

/// A complete answer to the app's current connection query.
pub fn conns_for(app: &App, rows: &[Connection]) -> ConnSnapshot {
    let query = app.conns.query.clone().unwrap();
    let mut acc = crate::tui::conns::Accumulator::new(query);
    for c in rows {
        acc.push(c.clone());
    }
    acc.finish()
}

/// A director for the collector to poll: the table of `entries(1)` and the rows of
/// `conn_rows()` in the in-memory kernel.
pub fn director() -> SharedFake {
    let mut fake = FakeBackend::with_entries(&entries(1)).unwrap();
    fake.set_connections(conn_rows());
    SharedFake::new(fake)
}
