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
use crate::tui::table::ReadAt;

/// Per-second rates from two counter readings `dt` apart; `None` when they cannot be
/// trusted (no time passed, or a counter went backwards because it was zeroed).
pub fn delta_rates(prev: &Stats, cur: &Stats, dt: Duration) -> Option<Rates> {
    let millis = u64::try_from(dt.as_millis()).ok().filter(|m| *m > 0)?;
    let per_second = |before: u64, after: u64| -> Option<u64> {
        let delta = after.checked_sub(before)?;
        // 64-bit arithmetic unless it would overflow (u128 division is a library call, and
        // this runs five times per row per poll).
        if let Some(scaled) = delta
            .checked_mul(1000)
            .and_then(|x| x.checked_add(millis / 2))
        {
            return Some(scaled / millis);
        }
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

#[derive(Debug, Clone)]
struct ServiceRates {
    key: ServiceKey,
    own: RowRates,
    /// In the order of the service's `dests` in the last poll.
    dests: Vec<(DestKey, RowRates)>,
}

impl ServiceRates {
    fn new(key: ServiceKey) -> Self {
        Self {
            key,
            own: RowRates::default(),
            dests: Vec::new(),
        }
    }
}

/// Delta rates and histories of every row of the services table, laid out like the last
/// poll's entries: `services[i]` is `entries[i]`, and its `dests[j]` is that entry's
/// `dests[j]`. The kernel lists a table in the same order poll after poll, so a poll of
/// 50,000 rows is taken in by walking both lists side by side and comparing keys, with no
/// hashing; only when the layout changed are the rows matched up by key (and rows gone
/// from the table forgotten, so a re-added server starts fresh instead of showing a delta
/// against its previous life). Rows built from the same entries find their rates by
/// position ([`RateTracker::at`]).
#[derive(Debug, Clone, Default)]
pub struct RateTracker {
    services: Vec<ServiceRates>,
    /// Position of each service in `services`, for lookups by key.
    index: HashMap<ServiceKey, usize>,
}

impl RateTracker {
    /// Take in a whole poll.
    pub fn observe(&mut self, at: Duration, entries: &[ServiceEntry]) {
        let all: Vec<usize> = (0..entries.len()).collect();
        self.observe_rows(at, entries, &all, &|_| (true, true));
    }

    /// Take in a refresh that read only the entries at positions `read` (in any order,
    /// repeats allowed); `read_at` says which of their parts were read at `at`. The other
    /// rows keep their rates and histories (a row off screen shows the rates of its last
    /// reading, and the next delta spans the time since then), and are not even visited:
    /// a refresh of fifty rows of a 10,000-service table costs fifty rows.
    pub fn observe_table(
        &mut self,
        at: Duration,
        entries: &[ServiceEntry],
        read_at: &[ReadAt],
        read: &[usize],
        moved: bool,
    ) {
        if moved {
            self.relayout(entries);
        }
        self.observe_rows(at, entries, read, &|i| {
            read_at
                .get(i)
                .map_or((false, false), |r| (r.service == at, r.dests == Some(at)))
        });
    }

    fn observe_rows(
        &mut self,
        at: Duration,
        entries: &[ServiceEntry],
        read: &[usize],
        fresh: &dyn Fn(usize) -> (bool, bool),
    ) {
        // Positions match the last layout unless services came, went or moved (the caller
        // says so); the rows read are checked all the same.
        let same_layout = self.services.len() == entries.len()
            && read.iter().all(|&i| {
                matches!((self.services.get(i), entries.get(i)), (Some(s), Some(e)) if s.key == e.service.key)
            });
        if !same_layout {
            self.relayout(entries);
        }
        let mut read = read.to_vec();
        read.sort_unstable();
        read.dedup();
        for i in read {
            let (Some(svc), Some(e)) = (self.services.get_mut(i), entries.get(i)) else {
                continue;
            };
            let (service, dests) = fresh(i);
            if service {
                svc.own.observe(at, e.service.stats, e.service.rates);
            }
            if !dests {
                continue;
            }
            let same_dests = svc.dests.len() == e.dests.len()
                && svc
                    .dests
                    .iter()
                    .zip(&e.dests)
                    .all(|((k, _), d)| *k == d.key());
            if !same_dests {
                relayout_dests(&mut svc.dests, &e.dests);
            }
            for ((_, row), d) in svc.dests.iter_mut().zip(&e.dests) {
                row.observe(at, d.stats, d.rates);
            }
        }
    }

    /// Match the services up with a new layout by key.
    fn relayout(&mut self, entries: &[ServiceEntry]) {
        let mut old: HashMap<ServiceKey, ServiceRates> =
            self.services.drain(..).map(|s| (s.key, s)).collect();
        self.services = entries
            .iter()
            .map(|e| {
                old.remove(&e.service.key)
                    .unwrap_or_else(|| ServiceRates::new(e.service.key))
            })
            .collect();
        self.index = self
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key, i))
            .collect();
    }

    /// The rates of a row by key.
    pub fn get(&self, key: &RowKey) -> Option<&RowRates> {
        let svc = self
            .services
            .get(*self.index.get(&key.service())?)
            .filter(|s| s.key == key.service())?;
        match key {
            RowKey::Service(_) => Some(&svc.own),
            RowKey::Dest(_, d) => svc.dests.iter().find(|(k, _)| k == d).map(|(_, r)| r),
        }
    }

    /// The rates of the row at `entries[service].dests[dest]` (the service itself for
    /// `None`) of the entries last observed, checked against `key` (falling back to a
    /// lookup by key should the two ever disagree).
    pub fn at(&self, service: usize, dest: Option<usize>, key: &RowKey) -> Option<&RowRates> {
        let found = self.services.get(service).and_then(|s| match (dest, key) {
            (None, RowKey::Service(k)) if s.key == *k => Some(&s.own),
            (Some(j), RowKey::Dest(k, d)) if s.key == *k => {
                s.dests.get(j).filter(|(dk, _)| dk == d).map(|(_, r)| r)
            }
            _ => None,
        });
        found.or_else(|| self.get(key))
    }
}

/// Match a service's real servers up with a new layout by key; new ones start empty.
fn relayout_dests(rows: &mut Vec<(DestKey, RowRates)>, dests: &[crate::ipvs::Dest]) {
    let mut old = std::mem::take(rows);
    rows.reserve(dests.len());
    for d in dests {
        let key = d.key();
        let found = old.iter().position(|(k, _)| *k == key);
        let rates = found.map(|i| old.swap_remove(i).1).unwrap_or_default();
        rows.push((key, rates));
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
    fn rows_not_read_keep_their_rates_and_the_next_delta_spans_the_gap() {
        let key = |mark| ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark,
        };
        let entry = |mark, conns| {
            let mut s = crate::ipvs::Service::new(key(mark));
            s.stats = stats(conns, 0);
            ServiceEntry {
                service: s,
                dests: vec![],
            }
        };
        let secs = Duration::from_secs;
        let cps = |t: &RateTracker, mark| {
            t.get(&RowKey::Service(key(mark)))
                .and_then(|r| r.delta)
                .map(|r| r.cps)
        };
        let mut t = RateTracker::default();
        t.observe(secs(1), &[entry(1, 0), entry(2, 0)]);
        t.observe(secs(2), &[entry(1, 10), entry(2, 20)]);
        assert_eq!((cps(&t, 1), cps(&t, 2)), (Some(10), Some(20)));
        // Only the first is read at 3 s: the second keeps what it had.
        let read_at = |first: u64, second: u64| {
            vec![
                ReadAt {
                    service: secs(first),
                    dests: Some(secs(first)),
                },
                ReadAt {
                    service: secs(second),
                    dests: Some(secs(second)),
                },
            ]
        };
        let now = [entry(1, 40), entry(2, 999)];
        t.observe_table(secs(3), &now, &read_at(3, 2), &[0, 0], false);
        assert_eq!((cps(&t, 1), cps(&t, 2)), (Some(30), Some(20)));
        // Read again at 10 s: its delta is over the 8 s since its last reading.
        let now = [entry(1, 40), entry(2, 180)];
        t.observe_table(secs(10), &now, &read_at(3, 10), &[1], false);
        assert_eq!(cps(&t, 2), Some(20));
        assert_eq!(cps(&t, 1), Some(30));
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
