//! How often the collector may refresh: every interval, unless that would cost more than
//! [`CPU_BUDGET_PERCENT`] of one core.
//!
//! A refresh reads what the screen shows, so its cost follows the screen, not the table
//! (see `collector`); the work that needs the whole table has budgets of its own
//! (`sweep`) and is left out of this account. The pacer is the safety net for the rest: a
//! tiny interval on a slow kernel, a health source that answers slowly. A dashboard left
//! open on a big director must not become its busiest process, so the pacer keeps a CPU
//! account of the refreshes (the collector thread's CPU time less what the background
//! budgets spent): time earns credit at the budget's rate, CPU spends it, and after a
//! refresh that left the account in debt the next one waits until the debt is paid (the
//! header then says "slowed"). When refreshes are cheap the interval rules and the account
//! never matters. Pure: the caller supplies the clock and the CPU readings.

use std::time::Duration;

/// Share of one core the refreshes may spend, in percent: with the background's 3 %
/// (`sweep::BUSY_PERMILLE`) and the UI's drawing the whole program stays under a tenth of
/// a core.
pub const CPU_BUDGET_PERCENT: u32 = 8;

#[derive(Debug, Clone)]
pub struct Pacer {
    percent: u32,
    /// Credit in CPU time; never above zero (no saving up for bursts), below zero a debt.
    credit_nanos: i128,
    last: Option<(Duration, Duration)>,
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new(CPU_BUDGET_PERCENT)
    }
}

impl Pacer {
    pub fn new(percent: u32) -> Self {
        Self {
            percent: percent.clamp(1, 100),
            credit_nanos: 0,
            last: None,
        }
    }

    /// Start the account at `now` with the program's CPU time at `cpu`, so what the
    /// program spent before its first refresh (starting up, setting up the terminal) is not
    /// charged to its refreshes.
    pub fn begin(&mut self, now: Duration, cpu: Duration) {
        self.last = Some((now, cpu));
    }

    /// After a refresh that ended at `now` (any monotonic clock) with the program's total
    /// CPU time at `cpu`: how long to wait before the next one, at least `interval`.
    pub fn next_delay(&mut self, interval: Duration, now: Duration, cpu: Duration) -> Duration {
        let (then, cpu_then) = self.last.unwrap_or((now, Duration::ZERO));
        self.last = Some((now, cpu));
        let earned = now.saturating_sub(then).as_nanos() * u128::from(self.percent) / 100;
        let spent = cpu.saturating_sub(cpu_then).as_nanos();
        let credit = self.credit_nanos + to_i128(earned) - to_i128(spent);
        self.credit_nanos = credit.min(0);
        let debt = u128::try_from(-self.credit_nanos).unwrap_or(0);
        let repay = debt * 100 / u128::from(self.percent);
        interval.max(Duration::from_nanos(
            u64::try_from(repay).unwrap_or(u64::MAX),
        ))
    }
}

fn to_i128(n: u128) -> i128 {
    i128::try_from(n).unwrap_or(i128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn cheap_refreshes_keep_the_interval() {
        let mut p = Pacer::new(8);
        let mut cpu = Duration::ZERO;
        for i in 1..=20 {
            cpu += ms(30);
            assert_eq!(p.next_delay(S, S * i, cpu), S, "poll {i}");
        }
    }

    #[test]
    fn an_expensive_refresh_waits_until_its_cpu_is_paid_for() {
        let mut p = Pacer::new(8);
        // 2 s of CPU since the start (the first refresh): 25 s at 8 %.
        assert_eq!(p.next_delay(S, ms(2500), S * 2), S * 25);
        // The next one 25 s later cost 2 s again: 25 s earned 2 s, so it pays as it goes.
        let d = p.next_delay(S, ms(27_500), S * 4);
        assert_eq!(d, S * 25);
        // Over the long run the program stays at the budget, whatever a refresh costs.
        let mut now = ms(27_500) + d;
        let mut cpu = S * 4;
        for _ in 0..50 {
            cpu += ms(3100);
            now += p.next_delay(S, now, cpu);
        }
        let share = cpu.as_secs_f64() / now.as_secs_f64();
        assert!((0.07..=0.081).contains(&share), "{share}");
    }

    #[test]
    fn idle_time_is_not_saved_up_for_a_burst() {
        let mut p = Pacer::new(10);
        assert_eq!(p.next_delay(S, S, ms(10)), S);
        // An hour of cheap refreshes, then one costing 1 s: it is paid off after it.
        assert_eq!(p.next_delay(S, S * 3600, ms(20)), S);
        assert_eq!(p.next_delay(S, S * 3601, ms(1020)), S * 9);
    }

    #[test]
    fn what_was_spent_before_the_first_refresh_is_not_charged() {
        let mut p = Pacer::new(8);
        p.begin(ms(500), S * 2);
        assert_eq!(p.next_delay(S, ms(1500), ms(2050)), S);
        let mut q = Pacer::new(8);
        assert_eq!(q.next_delay(S, ms(1500), ms(2050)), ms(25_625));
    }

    #[test]
    fn a_clock_or_cpu_reading_going_backwards_does_no_harm() {
        let mut p = Pacer::new(8);
        assert_eq!(p.next_delay(S, S * 5, S), ms(12_500));
        assert_eq!(p.next_delay(S, S * 4, ms(500)), ms(12_500));
        assert_eq!(p.next_delay(S, S * 30, ms(500)), S);
    }
}
