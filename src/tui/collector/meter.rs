//! The clock the background budget is kept in: this thread's CPU time.
//!
//! CPU, not wall time: the kernel fills a dump in the reader's own `recvmsg` calls, so the
//! thread's CPU time is what a read costs the machine, and a loaded host that makes a read
//! take longer must not make the dashboard read less. `CLOCK_THREAD_CPUTIME_ID` brings the
//! running thread's account up to date when asked (`/proc/thread-self/schedstat` moves
//! only at scheduler ticks, too coarse for slices of a few milliseconds).

use std::time::Duration;

/// A clock that only moves while this thread runs. Tests drive one by hand.
pub trait Meter: Send {
    /// CPU time of the calling thread so far.
    fn cpu(&mut self) -> Duration;
}

/// The calling thread's CPU time, user and kernel together.
#[derive(Debug, Default)]
pub struct ThreadCpu;

impl Meter for ThreadCpu {
    fn cpu(&mut self) -> Duration {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_clock_moves_with_work_and_never_back() {
        let mut m = ThreadCpu;
        let before = m.cpu();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        let after = m.cpu();
        assert!(after > before);
        assert!(m.cpu() >= after);
    }
}
