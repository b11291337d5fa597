//! Rates from counter deltas between polls, and the short history behind each sparkline.
//!
//! The kernel's estimators are a 2-second EWMA that lags bursts and updates only every
//! 2 s; dividing counter deltas by the poll interval gives what happened in the last
//! interval. Both are shown (the user toggles which). Deltas are keyed by row key so they
//! survive re-sorting, and a counter that went backwards (zeroed with `-Z`) yields "unknown"
//! for one poll instead of a huge bogus rate.

use std::collections::HashMap;
use std::time::Duration;

use crate::ipvs::{DestKey, Rates, ServiceEntry, ServiceKey, Stats};
use crate::tui::history::History;
use crate::tui::rows::RowKey;

/// Per-second rates from two counter readings `dt` apart; `None` when they cannot be
/// trusted (no time passed, or a counter went backwards because it was zeroed).
pub fn delta_rates(prev: &Stats, cur: &Stats, dt: Duration) -> Option<Rates> {
    let millis = u64::try_from(dt.as_millis()).ok().filter(|m| *m > 0)?;
    let per_second = |before: u64, after: u64| -> Option<u64> {
        let delta = after.checked_sub(before)?;
        let scaled = u128::from(delta) * 1000 + u128::from(millis / 2);
        Some(u64::try_from(scaled / u128::from(millis)).unwrap_or(u64::MAX))
    };
    Some(Rates {
        cps: per_second(prev.conns, cur.conns)?,
        inpps: per_second(prev.inpkts, cur.inpkts)?,
        outpps: per_second(prev.outpkts, cur.outpkts)?,
        inbps: per_second(prev.inbytes, cur.inbytes)?,
        outbps: per_second(prev.outbytes, cur.outbytes)?,
    })
}

/// What the tracker knows about one row.
#[derive(Debug, Clone, Default)]
pub struct RowRates {
    /// Rates over the last poll interval; `None` until two polls were seen.
    pub delta: Option<Rates>,
    /// Connections per second, for the sparkline.
    pub history: History,
    prev: Option<(Duration, Stats)>,
    /// The poll that last reported this row.
    seen: u64,
}

impl RowRates {
    fn observe(&mut self, at: Duration, stats: Stats, kernel: Rates) {
        self.delta = self
            .prev
            .and_then(|(then, before)| delta_rates(&before, &stats, at.checked_sub(then)?));
        self.prev = Some((at, stats));
        self.history.push(self.delta.map_or(kernel.cps, |r| r.cps));
    }
}

#[derive(Debug, Clone, Default)]
struct ServiceRates {
    own: RowRates,
    dests: HashMap<DestKey, RowRates>,
    seen: u64,
}

/// Delta rates and histories of every row of the services table, nested by service so a
/// poll of 110k rows hashes each service key once, and updated in place (no moves of the
/// per-row histories).
#[derive(Debug, Clone, Default)]
pub struct RateTracker {
    services: HashMap<ServiceKey, ServiceRates>,
    polls: u64,
}

impl RateTracker {
    /// Take in a whole poll. Rows gone from the table are forgotten, so a re-added server
    /// starts fresh instead of showing a delta against its previous life.
    pub fn observe(&mut self, at: Duration, entries: &[ServiceEntry]) {
        self.polls += 1;
        let poll = self.polls;
        for e in entries {
            let svc = self.services.entry(e.service.key).or_default();
            svc.seen = poll;
            svc.own.observe(at, e.service.stats, e.service.rates);
            for d in &e.dests {
                let row = svc.dests.entry(d.key()).or_default();
                row.seen = poll;
                row.observe(at, d.stats, d.rates);
            }
            if svc.dests.len() != e.dests.len() {
                svc.dests.retain(|_, r| r.seen == poll);
            }
        }
        if self.services.len() != entries.len() {
            self.services.retain(|_, s| s.seen == poll);
        }
    }

    pub fn get(&self, key: &RowKey) -> Option<&RowRates> {
        match key {
            RowKey::Service(s) => self.services.get(s).map(|r| &r.own),
            RowKey::Dest(s, d) => self.services.get(s)?.dests.get(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{AddressFamily, ServiceKey};

    fn stats(conns: u64, bytes: u64) -> Stats {
        Stats {
            conns,
            inpkts: conns * 10,
            outpkts: conns * 8,
            inbytes: bytes,
            outbytes: bytes * 2,
        }
    }

    #[test]
    fn delta_rates_divide_by_the_real_interval() {
        let r = delta_rates(&stats(100, 1000), &stats(300, 5000), Duration::from_secs(2));
        assert_eq!(
            r,
            Some(Rates {
                cps: 100,
                inpps: 1000,
                outpps: 800,
                inbps: 2000,
                outbps: 4000
            })
        );
        let r = delta_rates(&stats(0, 0), &stats(3, 0), Duration::from_millis(1500));
        assert_eq!(r.map(|r| r.cps), Some(2));
    }

    #[test]
    fn zeroed_counters_and_zero_intervals_give_unknown() {
        assert_eq!(
            delta_rates(&stats(5, 5), &stats(1, 9), Duration::from_secs(1)),
            None
        );
        assert_eq!(
            delta_rates(&stats(1, 1), &stats(2, 2), Duration::ZERO),
            None
        );
    }

    #[test]
    fn tracker_computes_deltas_per_key_and_forgets_removed_rows() {
        let key = ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 1,
        };
        let entry = |conns| {
            let mut s = crate::ipvs::Service::new(key);
            s.stats = stats(conns, 0);
            s.rates.cps = 7;
            ServiceEntry {
                service: s,
                dests: vec![],
            }
        };
        let row = RowKey::Service(key);
        let mut t = RateTracker::default();
        t.observe(Duration::from_secs(1), &[entry(10)]);
        assert_eq!(t.get(&row).and_then(|r| r.delta), None);
        t.observe(Duration::from_secs(2), &[entry(15)]);
        assert_eq!(t.get(&row).and_then(|r| r.delta).map(|r| r.cps), Some(5));
        t.observe(Duration::from_secs(3), &[]);
        assert!(t.get(&row).is_none());
        t.observe(Duration::from_secs(4), &[entry(100)]);
        assert_eq!(t.get(&row).and_then(|r| r.delta), None);
    }
}
