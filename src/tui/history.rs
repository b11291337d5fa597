//! The short history behind each sparkline, in constant space per row.
//!
//! A 10k-service x 10-server director has 110k rows; keeping every sample of 5 minutes
//! would cost 264 MB. Samples are instead averaged into fixed buckets as they arrive:
//! 60 buckets of 5 samples (5 minutes at the default 1 s) in 240 bytes per row, plus the
//! bucket being filled, which is shown at once so a fresh row is never blank.

/// Samples averaged into one bucket.
pub const SAMPLES_PER_BUCKET: u32 = 5;
/// Completed buckets kept.
pub const BUCKETS: usize = 60;

/// Connections per second over the last `BUCKETS * SAMPLES_PER_BUCKET` polls.
#[derive(Debug, Clone)]
pub struct History {
    /// Ring of completed bucket averages; `head` is the oldest once full.
    buckets: [u32; BUCKETS],
    len: usize,
    head: usize,
    partial_sum: u64,
    partial_n: u32,
}

impl Default for History {
    fn default() -> Self {
        Self {
            buckets: [0; BUCKETS],
            len: 0,
            head: 0,
            partial_sum: 0,
            partial_n: 0,
        }
    }
}

impl History {
    pub fn push(&mut self, sample: u64) {
        self.partial_sum = self.partial_sum.saturating_add(sample);
        self.partial_n += 1;
        if self.partial_n < SAMPLES_PER_BUCKET {
            return;
        }
        let avg = u32::try_from(self.partial_sum / u64::from(self.partial_n)).unwrap_or(u32::MAX);
        self.partial_sum = 0;
        self.partial_n = 0;
        if self.len < BUCKETS {
            self.buckets[(self.head + self.len) % BUCKETS] = avg;
            self.len += 1;
        } else {
            self.buckets[self.head] = avg;
            self.head = (self.head + 1) % BUCKETS;
        }
    }

    /// Bucket averages, oldest first, the partly filled bucket last.
    fn series(&self) -> impl DoubleEndedIterator<Item = u64> + '_ {
        let done = (0..self.len).map(|i| u64::from(self.buckets[(self.head + i) % BUCKETS]));
        let partial = (self.partial_n > 0).then(|| self.partial_sum / u64::from(self.partial_n));
        done.chain(partial)
    }

    /// Samples seen, up to the capacity (for tests and the trend's time span).
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.partial_n == 0
    }
}

/// A text sparkline of the whole history in `width` cells. Text, not the Sparkline
/// widget, so it fits in a table cell.
///
/// Each cell averages `BUCKETS / width` buckets aligned to the newest, so the picture
/// scrolls steadily instead of rescaling as history fills up; a young history leaves the
/// left blank. Zero stays blank so idle rows look idle.
pub fn spark(history: &History, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if width == 0 {
        return String::new();
    }
    let per_cell = (BUCKETS / width).max(1);
    let newest_first: Vec<u64> = history.series().rev().collect();
    let mut cells: Vec<Option<u64>> = newest_first
        .chunks(per_cell)
        .take(width)
        .map(|c| Some(c.iter().sum::<u64>() / c.len() as u64))
        .collect();
    cells.resize(width, None);
    cells.reverse();
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

    fn history(samples: impl IntoIterator<Item = u64>) -> History {
        let mut h = History::default();
        for s in samples {
            h.push(s);
        }
        h
    }

    #[test]
    fn the_partial_bucket_shows_at_once() {
        let h = history([2, 4]);
        assert!(!h.is_empty());
        assert_eq!(spark(&h, 3), "  █");
        assert_eq!(spark(&History::default(), 3), "   ");
        assert_eq!(spark(&h, 0), "");
    }

    #[test]
    fn buckets_average_and_the_ring_keeps_the_newest() {
        // One cell per bucket: 0, 10, 80 per second, then a partial bucket of 40.
        let h = history([0; 5].into_iter().chain([10; 5]).chain([80; 5]).chain([40]));
        assert_eq!(spark(&h, BUCKETS), " ".repeat(BUCKETS - 4) + " ▁█▄");
        // Two cells of 30 buckets: everything lands in the newest.
        assert_eq!(spark(&h, 2), " █");
        // Far more samples than capacity: the oldest fall out, memory stays constant.
        let h = history((0..10_000).map(|i| if i < 9_850 { 1000 } else { 10 }));
        assert_eq!(spark(&h, 2), "█▁");
    }
}
