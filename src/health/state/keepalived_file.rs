//! keepalived 2.2.7's FILE_CHECK as a pure state machine: each new value of the tracked
//! file gives the checker's new state (if any) and what it adds to its real's weight.
//!
//! Its rules, as keepalived's track_file code (trackers/track_file.c) and check_file.c
//! have them:
//!
//! - The file holds a number, read as C's `strtol` with base 0 reads the first 127
//!   bytes ([`parse_value`]): blanks, a sign, decimal, `0x` hexadecimal or `0` octal; no
//!   digits at all is 0, as are an empty file and a file that cannot be opened. A number
//!   that overflows, or lies outside -2^31..2^31, is logged and ignored: the checker keeps
//!   its state and the file's last value.
//! - Each value gives a status with the checker's `weight` W and `reverse` (M = -1, else
//!   1): with W = 0 the status is a fault when the value is not 0 (with `reverse`: when it
//!   is 0), else 0; otherwise value × W × M, bounded to 32 bits, where -2^31 is a fault.
//! - A new value (different from the last) whose status differs from the last value's:
//!   a fault takes the checker down and takes out what it added to the real's weight; a
//!   status after a fault brings it up and adds the status; one status after another adds
//!   the difference. The real's weight is its configured weight plus what its checkers
//!   add, within 0 and 2^31-1 (the daemon's `effective_weight`).
//! - At start the value read decides without a transition: the checker is down when the
//!   value is not 0 and W is 0 or the product is at most -2^31 (keepalived looks neither
//!   at `reverse` here nor, with a value of 0, at anything), and it adds the product
//!   (unbounded) when the value and W are not 0. A checker down at start that comes up
//!   still carries that product: keepalived adds the new status on top, and so does
//!   [`FileChecker`].
//! - The file's deletion or its move away counts as the value 0; its writing (closed
//!   after writing) or a move onto its name is read.

pub use super::keepalived_http::Verdict;
use crate::ipvsadm::parse::numbers::{CBase, c_integer};

/// What keepalived's configuration says about one FILE_CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The FILE_CHECK's `weight`, else its track_file's (1 by default).
    pub weight: i32,
    pub reverse: bool,
}

/// A value's status: keepalived's IPVS_WEIGHT_FAULT, or the weight it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Fault,
    Weight(i32),
}

impl Settings {
    fn multiplier(self) -> i64 {
        if self.reverse { -1 } else { 1 }
    }

    fn status(self, value: i64) -> Status {
        if self.weight == 0 {
            return if (value == 0) == self.reverse {
                Status::Fault
            } else {
                Status::Weight(0)
            };
        }
        let product = value
            .saturating_mul(i64::from(self.weight))
            .saturating_mul(self.multiplier());
        let bounded = product.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        match i32::try_from(bounded) {
            Ok(i32::MIN) | Err(_) => Status::Fault,
            Ok(w) => Status::Weight(w),
        }
    }
}

/// What a new value led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// keepalived's `update_svr_checker_state` call, if the value made one.
    pub verdict: Option<Verdict>,
    /// What this checker has added to the real's weight so far.
    pub added: i64,
}

#[derive(Debug, Clone)]
pub struct FileChecker {
    s: Settings,
    last: i64,
    cur_weight: i64,
    added: i64,
    is_up: bool,
}

impl FileChecker {
    /// The checker as keepalived starts it from the value read at start (`None`: a
    /// number the file did not hold, which leaves the value 0).
    pub fn start(s: Settings, value: Option<i64>) -> Self {
        let last = value.unwrap_or(0);
        let product = last
            .saturating_mul(i64::from(s.weight))
            .saturating_mul(s.multiplier());
        let fault = i64::from(i32::MIN);
        let down = last != 0 && (s.weight == 0 || product <= fault);
        let cur_weight = if last != 0 && s.weight != 0 {
            product
        } else {
            0
        };
        Self {
            s,
            last,
            cur_weight,
            added: cur_weight,
            is_up: !down,
        }
    }

    pub fn is_up(&self) -> bool {
        self.is_up
    }

    /// What it adds to the real's weight.
    pub fn added(&self) -> i64 {
        self.added
    }

    /// A value read from the file (`None`: not a number keepalived takes, ignored), or
    /// `Some(0)` for the file's deletion.
    pub fn observe(&mut self, value: Option<i64>) -> Step {
        let unchanged = Step {
            verdict: None,
            added: self.added,
        };
        let Some(value) = value else {
            return unchanged;
        };
        if value == self.last {
            return unchanged;
        }
        let previous = self.s.status(self.last);
        let next = self.s.status(value);
        self.last = value;
        let verdict = match (previous, next) {
            (p, n) if p == n => None,
            (_, Status::Fault) => {
                self.added = self.added.saturating_sub(self.cur_weight);
                self.cur_weight = 0;
                Some(Verdict::Down)
            }
            (Status::Fault, Status::Weight(w)) => {
                self.cur_weight = i64::from(w);
                self.added = self.added.saturating_add(i64::from(w));
                Some(Verdict::Up)
            }
            (Status::Weight(p), Status::Weight(w)) => {
                self.added = self.added.saturating_add(i64::from(w) - i64::from(p));
                self.cur_weight = i64::from(w);
                None
            }
        };
        match verdict {
            Some(Verdict::Up) => self.is_up = true,
            Some(Verdict::Down) => self.is_up = false,
            None => {}
        }
        Step {
            verdict,
            added: self.added,
        }
    }
}

/// The file's contents as keepalived reads them: `strtol(buf, NULL, 0)` on the first 127
/// bytes; None for a number keepalived ignores (an overflow, or outside
/// -2^31..=2^31).
pub fn parse_value(bytes: &[u8]) -> Option<i64> {
    let n = c_integer(&bytes[..bytes.len().min(127)], CBase::Prefixed);
    // strtol fails (ERANGE) past what a long holds.
    let magnitude = n.magnitude?;
    let value = if n.negative {
        0i64.checked_sub_unsigned(magnitude)?
    } else {
        i64::try_from(magnitude).ok()?
    };
    (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1)
        .contains(&value)
        .then_some(value)
}

#[cfg(test)]
#[path = "keepalived_file_tests.rs"]
mod tests;
