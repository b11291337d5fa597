//! Rates from counter deltas between polls, and the short history behind each sparkline.
//!
//! The kernel's estimators are a 2-second EWMA that lags bursts and updates only every
//! 2 s; dividing counter deltas by the poll interval gives what happened in the last
//! interval. Both are shown (the user toggles which). Deltas are keyed by row key so they
//! survive re-sorting, and a counter that went backwards (zeroed with `-Z`) yields "unknown"
//! for one poll instead of a huge bogus rate.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::ipvs::{Rates, Stats};
use crate::tui::rows::RowKey;

/// Samples kept per row: 5 minutes at the default 1 s interval.
pub const HISTORY_LEN: usize = 300;

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
    /// Connections per second, oldest first, for the sparkline.
    pub history: VecDeque<u64>,
    prev: Option<(Duration, Stats)>,
}

/// Delta rates and histories of every row of the services table.
#[derive(Debug, Clone, Default)]
pub struct RateTracker {
    rows: HashMap<RowKey, RowRates>,
}

impl RateTracker {
    /// Feed one row's counters (and kernel rates, used for history until deltas exist).
    pub fn observe(&mut self, key: RowKey, at: Duration, stats: Stats, kernel: Rates) {
        let row = self.rows.entry(key).or_default();
        row.delta = row
            .prev
            .and_then(|(then, before)| delta_rates(&before, &stats, at.checked_sub(then)?));
        row.prev = Some((at, stats));
        let sample = row.delta.map_or(kernel.cps, |r| r.cps);
        if row.history.len() == HISTORY_LEN {
            row.history.pop_front();
        }
        row.history.push_back(sample);
    }

    /// Forget rows that are gone from the table (so a re-added server starts fresh).
    pub fn retain(&mut self, keep: impl Fn(&RowKey) -> bool) {
        self.rows.retain(|k, _| keep(k));
    }

    pub fn get(&self, key: &RowKey) -> Option<&RowRates> {
        self.rows.get(key)
    }
}

/// A text sparkline of the whole history (the last 5 minutes at 1 s) in `width` cells.
/// Text, not the Sparkline widget, so it fits in a table cell.
///
/// Each cell averages a fixed number of samples (`HISTORY_LEN / width`, aligned to the
/// newest), so the picture scrolls steadily instead of rescaling as history fills up; a
/// young history leaves the left blank. Zero stays blank so idle rows look idle.
pub fn spark(history: &VecDeque<u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if width == 0 {
        return String::new();
    }
    let per_cell = (HISTORY_LEN / width).max(1);
    let cells: Vec<Option<u64>> = (0..width)
        .rev()
        .map(|back| {
            let newest = history.len().checked_sub(back * per_cell)?;
            let oldest = newest.saturating_sub(per_cell);
            let n = newest.checked_sub(oldest).filter(|n| *n > 0)?;
            let sum: u128 = history.range(oldest..newest).map(|&v| u128::from(v)).sum();
            Some(u64::try_from(sum / n as u128).unwrap_or(u64::MAX))
        })
        .collect();
    let max = cells.iter().flatten().copied().max().unwrap_or(0);
    cells
        .into_iter()
        .map(|c| match c {
            Some(v) if v > 0 && max > 0 => {
                let level = (u128::from(v) * 7 / u128::from(max)) as usize;
                BARS[level.min(7)]
            }
            _ => ' ',
        })
        .collect()
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
    fn tracker_computes_deltas_per_key_and_caps_history() {
        let key = RowKey::Service(ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 1,
        });
        let mut t = RateTracker::default();
        t.observe(
            key,
            Duration::from_secs(1),
            stats(10, 0),
            Rates {
                cps: 7,
                ..Rates::default()
            },
        );
        assert_eq!(t.get(&key).and_then(|r| r.delta), None);
        assert_eq!(
            t.get(&key).map(|r| r.history.back().copied()),
            Some(Some(7))
        );
        t.observe(key, Duration::from_secs(2), stats(15, 0), Rates::default());
        assert_eq!(t.get(&key).and_then(|r| r.delta).map(|r| r.cps), Some(5));
        for i in 0..400 {
            t.observe(
                key,
                Duration::from_secs(3 + i),
                stats(15, 0),
                Rates::default(),
            );
        }
        assert_eq!(t.get(&key).map(|r| r.history.len()), Some(HISTORY_LEN));
        t.retain(|_| false);
        assert!(t.get(&key).is_none());
    }

    #[test]
    fn spark_averages_fixed_buckets_aligned_to_the_newest_sample() {
        // 300 cells: one sample each, scaled to the maximum, blank before the history.
        let h: VecDeque<u64> = [0, 1, 4, 8].into_iter().collect();
        assert_eq!(
            spark(&h, HISTORY_LEN)
                .chars()
                .rev()
                .take(5)
                .collect::<String>(),
            "█▄▁  "
        );
        // 2 cells of 150 samples: the young history lands in the newest cell only.
        assert_eq!(spark(&h, 2), " █");
        let full: VecDeque<u64> = (0..HISTORY_LEN as u64)
            .map(|i| if i < 150 { 10 } else { 80 })
            .collect();
        assert_eq!(spark(&full, 2), "▁█");
        assert_eq!(spark(&VecDeque::new(), 3), "   ");
        assert_eq!(spark(&full, 0), "");
    }
}
