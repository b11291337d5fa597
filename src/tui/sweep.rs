//! What `lvsctl top` reads beyond the screen, and when: the plan of the background work,
//! kept within a CPU budget. Pure: the collector measures and reports the costs.
//!
//! A refresh reads the rows on screen; everything that needs the whole table (the header's
//! totals, a sort or filter on a real-server field, the order of services sorted by a
//! rate) comes from a sweep that walks the table in passes: a pass starts with the
//! GET_SERVICE dump (the listing) and then reads the real servers of every service not on
//! screen, a slice per refresh. At 10,000 services under emulation the listing alone costs
//! a quarter to half a second and each GET_DEST dump a fifth of a millisecond, so a pass
//! takes 3 % of a core for a minute or more; on a small table it is one refresh.
//!
//! The budget is an account: wall time earns credit at the budget's rate, work spends it,
//! and work starts only while the account is not in debt. One indivisible piece of work
//! (the listing) may leave it in debt; the next waits until that is paid back, so over
//! time the share holds whatever the pieces cost.

use std::time::Duration;

/// Share of one core the background may use while the table changes, in permille.
pub const BUSY_PERMILLE: u32 = 30;
/// Share while the Connections view reads `/proc/net/ip_vs_conn`: the view on screen
/// needs the read, and on a kernel whose reads restart their walk of the connection hash
/// every 4 KiB a 100,000-row table costs tens of seconds.
pub const CONNS_PERMILLE: u32 = 60;
/// Share while nothing moves (no packet, no rate): the sweep then only notices edits off
/// screen, slowly.
pub const IDLE_PERMILLE: u32 = 2;
/// A listing whose last reading cost at most this share of the interval is read every
/// refresh, in the foreground: the table then needs no background at all for its order.
pub const FOREGROUND_LISTING_PERMILLE: u32 = 10;
/// Services read per slice before any cost is known.
const FIRST_SLICE: usize = 8;
/// Most services per slice, so one refresh stays short whatever the budget allows.
pub const MAX_SLICE: usize = 1024;

/// A CPU account earning `permille` of wall time.
#[derive(Debug, Clone)]
pub struct Budget {
    permille: u32,
    /// Nanoseconds; below zero a debt.
    credit: i128,
    last: Option<Duration>,
}

impl Budget {
    pub fn new(permille: u32) -> Self {
        Self {
            permille,
            credit: 0,
            last: None,
        }
    }

    pub fn set_permille(&mut self, permille: u32) {
        self.permille = permille;
    }

    pub fn permille(&self) -> u32 {
        self.permille
    }

    /// Credit for the time since the last call; never saved beyond `cap`, so an idle
    /// hour does not pay for a burst.
    pub fn earn(&mut self, now: Duration, cap: Duration) {
        let then = self.last.unwrap_or(now);
        self.last = Some(now);
        let earned = now.saturating_sub(then).as_nanos() * u128::from(self.permille) / 1000;
        let cap = i128::try_from(cap.as_nanos()).unwrap_or(i128::MAX);
        self.credit = self
            .credit
            .saturating_add(i128::try_from(earned).unwrap_or(i128::MAX))
            .min(cap);
    }

    pub fn spend(&mut self, cost: Duration) {
        let cost = i128::try_from(cost.as_nanos()).unwrap_or(i128::MAX);
        self.credit = self.credit.saturating_sub(cost);
    }

    /// The credit available, `None` while in debt.
    pub fn credit(&self) -> Option<Duration> {
        (self.credit >= 0).then(|| Duration::from_nanos(u64::try_from(self.credit).unwrap_or(0)))
    }

    /// Wall time from `now` until the debt is paid back (zero when there is none). The
    /// account is brought up to date only by [`Budget::earn`], so what was earned since
    /// then counts here: a caller that asked again after every refresh would otherwise be
    /// told the same wait each time, and with a debt longer than the interval to pay
    /// back, the refresh would always come first and the debt never be paid.
    pub fn until_even(&self, now: Duration) -> Duration {
        if self.credit >= 0 || self.permille == 0 {
            return Duration::ZERO;
        }
        let debt = u128::try_from(-self.credit).unwrap_or(0);
        let wait = debt * 1000 / u128::from(self.permille);
        let wait = Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX));
        let since = now.saturating_sub(self.last.unwrap_or(now));
        wait.saturating_sub(since)
    }
}

/// The next piece of background work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Read the listing: a new pass starts.
    Listing,
    /// Read the real servers of the services at these positions of the listing.
    Dests(Vec<usize>),
    /// Nothing now (in debt, or nothing left).
    Wait,
}

/// Where the sweep is in its pass, and what its pieces cost.
#[derive(Debug, Clone, Default)]
pub struct Sweep {
    /// Position in the listing of the next service whose real servers to read.
    next: usize,
    /// Services in the listing of the current pass (none before the first listing).
    len: usize,
    listed: bool,
    /// Estimated cost of one GET_DEST dump and of the listing, from the last readings.
    per_dump: Option<Duration>,
    listing: Option<Duration>,
}

impl Sweep {
    /// The listing is cheap enough to read with every refresh of `interval`.
    pub fn listing_in_foreground(&self, interval: Duration) -> bool {
        self.listing
            .is_some_and(|c| c <= interval * FOREGROUND_LISTING_PERMILLE / 1000)
    }

    /// What to read next with `credit` available (`None`: in debt); `on_screen(i)` says
    /// whether the service at position `i` is read by every refresh anyway.
    pub fn plan(&self, credit: Option<Duration>, on_screen: &dyn Fn(usize) -> bool) -> Step {
        let pass_open = self.listed && self.next < self.len;
        let credit = match credit {
            Some(c) => c,
            // The first slice runs even in debt (the first listing made one): its cost is
            // what later slices are sized by, and the first screen needs real servers.
            None if pass_open && self.per_dump.is_none() => Duration::ZERO,
            None => return Step::Wait,
        };
        if !pass_open {
            return Step::Listing;
        }
        let n = match self.per_dump {
            None => FIRST_SLICE,
            Some(per) if per.is_zero() => MAX_SLICE,
            Some(per) => usize::try_from(credit.as_nanos() / per.as_nanos()).unwrap_or(MAX_SLICE),
        }
        .clamp(1, MAX_SLICE);
        let slice: Vec<usize> = (self.next..self.len)
            .filter(|&i| !on_screen(i))
            .take(n)
            .collect();
        if slice.is_empty() {
            // Everything left is on screen: the pass is done.
            return Step::Listing;
        }
        Step::Dests(slice)
    }

    /// A listing of `len` services was read (by a refresh or the sweep), costing `cost`
    /// when measured: a new pass starts when the last one is done.
    pub fn listed(&mut self, len: usize, cost: Option<Duration>) {
        if let Some(c) = cost {
            self.listing = Some(c);
        }
        if !self.listed || self.next >= self.len || len != self.len {
            self.next = 0;
        }
        self.len = len;
        self.listed = true;
    }

    /// The slice `positions` was read at `cost` in all.
    pub fn swept(&mut self, positions: &[usize], cost: Duration) {
        if let Some(&last) = positions.last() {
            self.next = self.next.max(last + 1);
            let n = u32::try_from(positions.len()).unwrap_or(u32::MAX).max(1);
            let per = cost / n;
            // Weighted towards the last reading, so a table that grew is soon costed right.
            self.per_dump = Some(self.per_dump.map_or(per, |old| (old + per * 3) / 4));
        }
    }

    /// The pass is done: every service of the listing was read.
    pub fn pass_done(&self) -> bool {
        self.listed && self.next >= self.len
    }

    /// Estimated cost of the listing, once read.
    pub fn listing_cost(&self) -> Option<Duration> {
        self.listing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_account_earns_its_share_pays_debts_and_saves_no_more_than_the_cap() {
        let mut b = Budget::new(40);
        b.earn(ms(0), ms(100));
        assert_eq!(b.credit(), Some(ms(0)));
        b.earn(ms(1000), ms(100));
        assert_eq!(b.credit(), Some(ms(40)));
        // A listing costing 250 ms leaves a debt paid back in 5.25 s at 4 %.
        b.spend(ms(250));
        assert_eq!(b.credit(), None);
        assert_eq!(b.until_even(ms(1000)), ms(5250));
        // Asked again later, the wait counts what was earned since the last reckoning.
        assert_eq!(b.until_even(ms(3000)), ms(3250));
        assert_eq!(b.until_even(ms(7000)), ms(0));
        b.earn(ms(6250), ms(100));
        assert_eq!(b.credit(), Some(ms(0)));
        // An idle hour saves only the cap.
        b.earn(ms(3_600_000), ms(100));
        assert_eq!(b.credit(), Some(ms(100)));
    }

    #[test]
    fn a_pass_is_a_listing_then_slices_sized_by_the_credit_skipping_the_screen() {
        let mut s = Sweep::default();
        let none = |_: usize| false;
        assert_eq!(s.plan(Some(ms(40)), &none), Step::Listing);
        assert_eq!(s.plan(None, &none), Step::Wait);
        s.listed(100, Some(ms(20)));
        // No cost known yet: a small first slice, even in debt.
        assert_eq!(s.plan(None, &none), Step::Dests((0..8).collect()));
        assert_eq!(s.plan(Some(ms(40)), &none), Step::Dests((0..8).collect()));
        s.swept(&(0..8).collect::<Vec<_>>(), ms(8));
        assert_eq!(s.plan(None, &none), Step::Wait);
        // 1 ms per dump: 40 ms of credit buys 40, the screen's services are skipped.
        let screen = |i: usize| (10..20).contains(&i);
        let Step::Dests(slice) = s.plan(Some(ms(40)), &screen) else {
            panic!("no slice")
        };
        assert_eq!(slice.len(), 40);
        assert_eq!(slice[..2], [8, 9]);
        assert_eq!(slice[2], 20);
        s.swept(&slice, ms(40));
        assert_eq!(slice.last(), Some(&57));
        // Little credit still reads one; the rest of the pass, then a new listing.
        assert_eq!(s.plan(Some(ms(0)), &none), Step::Dests(vec![58]));
        let rest: Vec<usize> = (58..100).collect();
        s.swept(&rest, ms(50));
        assert!(s.pass_done());
        assert_eq!(s.plan(Some(ms(5)), &none), Step::Listing);
    }

    #[test]
    fn a_slice_never_exceeds_its_bounds() {
        let mut s = Sweep::default();
        s.listed(5000, None);
        s.swept(&[0], Duration::ZERO);
        let Step::Dests(slice) = s.plan(Some(ms(1000)), &|_| false) else {
            panic!("no slice")
        };
        assert_eq!(slice.len(), MAX_SLICE);
        // Only services on screen left: nothing to sweep, the pass is over.
        let mut s = Sweep::default();
        s.listed(3, None);
        assert_eq!(s.plan(Some(ms(1)), &|_| true), Step::Listing);
    }

    #[test]
    fn a_cheap_listing_is_read_in_the_foreground() {
        let mut s = Sweep::default();
        assert!(!s.listing_in_foreground(Duration::from_secs(1)));
        s.listed(4, Some(Duration::from_micros(300)));
        assert!(s.listing_in_foreground(Duration::from_secs(1)));
        s.listed(10_000, Some(ms(250)));
        assert!(!s.listing_in_foreground(Duration::from_secs(1)));
    }
}
