//! The demo's traffic: a simulated second at a time, moved on whenever the dashboard reads.
//!
//! Each service has its own arrival rate, swinging slowly (a few minutes per cycle) so the
//! sparklines have a shape. New connections are spread over the real servers in
//! proportion to their weights (weight 0 gets none, as in the kernel), stay established
//! for a while, close, linger in `TIME_WAIT` and go; each brings packets and bytes both
//! ways. The in-memory kernel is then told the new counters, the rate estimates (smoothed
//! like the kernel's), the connection counts and the connection table's rows. Pseudo
//! random but seeded, so two runs of the demo look alike.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::ipvs::fake::FakeBackend;
use crate::ipvs::{
    Backend, Connection, DestKey, GlobalStats, Op, Protocol, Rates, Result, ServiceKey, Stats,
};
use crate::tui::demo::{failing, health};

/// Most connections alive at once: enough for a lively Connections view.
const MAX_LIVE: usize = 3000;
/// Simulated seconds caught up at most per read (after a pause, the rest is skipped).
const MAX_CATCH_UP: u32 = 30;

/// New connections per second of each service (by position in `demo::entries`), and the
/// period of its swing in seconds.
const ARRIVALS: [(f64, f64); 6] = [
    (40.0, 180.0),
    (25.0, 240.0),
    (60.0, 90.0),
    (15.0, 300.0),
    (8.0, 150.0),
    (3.0, 120.0),
];

#[derive(Debug)]
struct Live {
    conn: Connection,
    key: ServiceKey,
    dest: DestKey,
    started: Duration,
    /// Established until then, closing after.
    closes: Duration,
    /// Gone from the table then.
    gone: Duration,
}

/// The simulated director.
#[derive(Debug)]
pub struct Sim {
    pub(super) fake: FakeBackend,
    start: Instant,
    /// Simulated time reached (whole seconds).
    now: Duration,
    rng: u64,
    carry: HashMap<ServiceKey, f64>,
    live: Vec<Live>,
    services: HashMap<ServiceKey, (Stats, Rates)>,
    dests: HashMap<(ServiceKey, DestKey), (Stats, Rates)>,
    global: (Stats, Rates),
    /// The failing real server's weight before the checker quiesced it.
    quiesced: Option<i32>,
}

impl Sim {
    pub fn new(fake: FakeBackend) -> Self {
        let mut sim = Self {
            fake,
            start: Instant::now(),
            now: Duration::ZERO,
            rng: 0x9e37_79b9_7f4a_7c15,
            carry: HashMap::new(),
            live: Vec::new(),
            services: HashMap::new(),
            dests: HashMap::new(),
            global: (Stats::default(), Rates::default()),
            quiesced: None,
        };
        // A minute of history, so the first screen is not empty.
        sim.advance(Duration::from_mins(1));
        sim.start = Instant::now().checked_sub(sim.now).unwrap_or(sim.start);
        sim
    }

    /// Simulated time now.
    pub fn now(&self) -> Duration {
        self.now
    }

    pub(super) fn advance_to_now(&mut self) {
        self.advance(self.start.elapsed());
    }

    /// Simulate every whole second up to `to`.
    pub fn advance(&mut self, to: Duration) {
        let behind = to.saturating_sub(self.now).as_secs();
        let skip = behind.saturating_sub(u64::from(MAX_CATCH_UP));
        self.now += Duration::from_secs(skip);
        while self.now + Duration::from_secs(1) <= to {
            self.now += Duration::from_secs(1);
            self.second();
        }
    }

    /// Writes from the dashboard go to the in-memory kernel; zeroing also zeroes the
    /// simulator's own counters, which it tells the kernel every second.
    pub(super) fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        let results = self.fake.apply(ops);
        for (op, r) in ops.iter().zip(&results) {
            match (op, r) {
                (Op::Zero(None), Ok(())) => {
                    self.services.clear();
                    self.dests.clear();
                    self.global = (Stats::default(), Rates::default());
                }
                (Op::Zero(Some(key)), Ok(())) => {
                    self.services.remove(key);
                    self.dests.retain(|(k, _), _| k != key);
                }
                _ => {}
            }
        }
        results
    }

    /// Uniform in [0, 1).
    fn random(&mut self) -> f64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        f64::from(u32::try_from(x >> 32).unwrap_or(0)) / 4_294_967_296.0
    }

    /// Uniform in [low, high).
    fn between(&mut self, low: u32, high: u32) -> u64 {
        let span = f64::from(high.saturating_sub(low));
        u64::from(low) + (self.random() * span) as u64
    }

    fn second(&mut self) {
        let t = self.now.as_secs_f64();
        self.check_health();
        let Ok(entries) = self.fake.entries() else {
            return;
        };
        let before = self.snapshot_counters();
        for (i, e) in entries.iter().enumerate() {
            let (base, period) = ARRIVALS.get(i).copied().unwrap_or((5.0, 200.0));
            let phase = f64::from(u32::try_from(i).unwrap_or(0)) * 1.7;
            let swing = 1.0 + 0.6 * (std::f64::consts::TAU * t / period + phase).sin();
            let due = base * swing * (0.85 + 0.3 * self.random());
            let carry = self.carry.entry(e.service.key).or_insert(0.0);
            let total = *carry + due;
            let n = total.floor();
            *carry = total - n;
            let weights: Vec<(DestKey, u64)> = e
                .dests
                .iter()
                .map(|d| (d.key(), u64::try_from(d.weight.max(0)).unwrap_or(0)))
                .collect();
            for _ in 0..(n as u64) {
                if let Some(dest) = self.pick(&weights) {
                    self.connect(e.service.key, dest);
                }
            }
        }
        self.age_connections();
        self.update_rates(&before);
        self.publish(&entries);
    }

    /// A real server chosen in proportion to the weights; none when all are 0.
    fn pick(&mut self, weights: &[(DestKey, u64)]) -> Option<DestKey> {
        let total: u64 = weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return None;
        }
        let mut x = self.between(0, u32::try_from(total).unwrap_or(u32::MAX));
        for &(d, w) in weights {
            if x < w {
                return Some(d);
            }
            x -= w;
        }
        None
    }

    fn connect(&mut self, key: ServiceKey, dest: DestKey) {
        let udp = key.protocol() == Some(Protocol::Udp);
        let (vip, vport) = match key {
            ServiceKey::Addr { addr, port, .. } => (addr, port),
            // A firewall-mark service: the packet's own address, one of the site's.
            ServiceKey::Fwmark { .. } => (IpAddr::from([192, 0, 2, 80]), 80),
        };
        let client: IpAddr = if vip.is_ipv6() {
            IpAddr::from([
                0x2001,
                0xdb8,
                0xff,
                0,
                0,
                0,
                0,
                u16::try_from(self.between(1, 200)).unwrap_or(1),
            ])
        } else {
            IpAddr::from([203, 0, 113, u8::try_from(self.between(1, 255)).unwrap_or(1)])
        };
        let lasts = if udp { 1 } else { self.between(2, 25) };
        let closes = self.now + Duration::from_secs(lasts);
        let linger = if udp { 8 } else { self.between(4, 12) };
        let conn = Connection {
            protocol: if udp { "UDP" } else { "TCP" }.to_owned(),
            client_addr: client,
            client_port: u16::try_from(self.between(1024, 65535)).unwrap_or(40000),
            virtual_addr: vip,
            virtual_port: vport,
            dest_addr: dest.addr,
            dest_port: if dest.port == 0 { vport } else { dest.port },
            state: if udp { "UDP" } else { "ESTABLISHED" }.to_owned(),
            expires: 0,
            pe_name: None,
            pe_data: None,
        };
        if self.live.len() >= MAX_LIVE {
            self.live.remove(0);
        }
        self.live.push(Live {
            conn,
            key,
            dest,
            started: self.now,
            closes,
            gone: closes + Duration::from_secs(linger),
        });
        let packets_in = self.between(6, 14);
        let packets_out = self.between(8, 24);
        let bytes_in = self.between(400, 1500);
        let bytes_out = self.between(2_000, 60_000);
        let add = |s: &mut Stats| {
            s.conns += 1;
            s.inpkts += packets_in;
            s.outpkts += packets_out;
            s.inbytes += bytes_in;
            s.outbytes += bytes_out;
        };
        add(&mut self.services.entry(key).or_default().0);
        add(&mut self.dests.entry((key, dest)).or_default().0);
        add(&mut self.global.0);
    }

    /// Established connections close, closed ones linger, then go.
    fn age_connections(&mut self) {
        let now = self.now;
        self.live.retain(|l| l.gone > now);
        for l in &mut self.live {
            let tcp = l.conn.protocol == "TCP";
            if tcp && now >= l.closes {
                "TIME_WAIT".clone_into(&mut l.conn.state);
            }
            let until = if tcp && now < l.closes {
                // An established connection's timeout (15 minutes) restarts with each
                // packet, and a live one had one a moment ago.
                let quiet = now.saturating_sub(l.started).as_secs() % 3;
                Duration::from_secs(900 - quiet)
            } else {
                l.gone.saturating_sub(now)
            };
            l.conn.expires = u32::try_from(until.as_secs()).unwrap_or(0);
        }
    }

    fn snapshot_counters(&self) -> HashMap<(ServiceKey, Option<DestKey>), Stats> {
        let mut out: HashMap<(ServiceKey, Option<DestKey>), Stats> = self
            .services
            .iter()
            .map(|(k, (s, _))| ((*k, None), *s))
            .collect();
        out.extend(
            self.dests
                .iter()
                .map(|((k, d), (s, _))| ((*k, Some(*d)), *s)),
        );
        out
    }

    /// The kernel's estimator, roughly: a quarter of the way to the last second's rate.
    fn update_rates(&mut self, before: &HashMap<(ServiceKey, Option<DestKey>), Stats>) {
        let smooth = |rates: &mut Rates, then: Stats, now: Stats| {
            let step = |r: &mut u64, a: u64, b: u64| {
                let x = b.saturating_sub(a);
                *r = if x >= *r {
                    *r + (x - *r) / 4
                } else {
                    *r - (*r - x) / 4
                };
            };
            step(&mut rates.cps, then.conns, now.conns);
            step(&mut rates.inpps, then.inpkts, now.inpkts);
            step(&mut rates.outpps, then.outpkts, now.outpkts);
            step(&mut rates.inbps, then.inbytes, now.inbytes);
            step(&mut rates.outbps, then.outbytes, now.outbytes);
        };
        for (k, (s, r)) in &mut self.services {
            smooth(r, before.get(&(*k, None)).copied().unwrap_or_default(), *s);
        }
        for ((k, d), (s, r)) in &mut self.dests {
            smooth(
                r,
                before.get(&(*k, Some(*d))).copied().unwrap_or_default(),
                *s,
            );
        }
        let then = before
            .iter()
            .filter(|((_, d), _)| d.is_none())
            .fold(Stats::default(), |a, (_, s)| add(a, *s));
        let now = self
            .services
            .values()
            .fold(Stats::default(), |a, (s, _)| add(a, *s));
        let mut g = self.global.1;
        smooth(&mut g, then, now);
        self.global.1 = g;
    }

    /// Tell the in-memory kernel what the second brought.
    fn publish(&mut self, entries: &[crate::ipvs::ServiceEntry]) {
        let mut counts: HashMap<(ServiceKey, DestKey), (u32, u32)> = HashMap::new();
        for l in &self.live {
            let c = counts.entry((l.key, l.dest)).or_default();
            if l.conn.state == "ESTABLISHED" {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        for e in entries {
            let key = e.service.key;
            let (stats, rates) = self.services.get(&key).copied().unwrap_or_default();
            self.fake.set_service_traffic(&key, stats, rates);
            for d in &e.dests {
                let dk = d.key();
                let (stats, rates) = self.dests.get(&(key, dk)).copied().unwrap_or_default();
                self.fake.set_dest_traffic(&key, &dk, stats, rates);
                let (active, inactive) = counts.get(&(key, dk)).copied().unwrap_or_default();
                self.fake.set_dest_conns(&key, &dk, (active, inactive, 0));
            }
        }
        self.fake.set_global_stats(GlobalStats {
            stats: self.global.0,
            rates: self.global.1,
        });
        self.fake
            .set_connections(self.live.iter().map(|l| l.conn.clone()).collect());
    }

    /// The simulated checker: the failing real server is quiesced while down, and gets its
    /// weight back when up again.
    fn check_health(&mut self) {
        let (key, dest) = failing();
        let down = health::is_down(self.now);
        let current = self
            .fake
            .dests(&key)
            .ok()
            .and_then(|ds| ds.into_iter().find(|d| d.key() == dest));
        let Some(current) = current else {
            return;
        };
        match (down, self.quiesced) {
            (true, None) => {
                self.quiesced = Some(current.weight);
                let mut d = current;
                d.weight = 0;
                let _ = self.fake.apply_one(&Op::EditDest(key, d));
            }
            (false, Some(weight)) => {
                self.quiesced = None;
                let mut d = current;
                d.weight = weight;
                let _ = self.fake.apply_one(&Op::EditDest(key, d));
            }
            _ => {}
        }
    }
}

fn add(a: Stats, b: Stats) -> Stats {
    Stats {
        conns: a.conns + b.conns,
        inpkts: a.inpkts + b.inpkts,
        outpkts: a.outpkts + b.outpkts,
        inbytes: a.inbytes + b.inbytes,
        outbytes: a.outbytes + b.outbytes,
    }
}
