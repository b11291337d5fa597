//! Scripted failures: make a chosen write (by number or by predicate) or the next read of a
//! kind fail with a given errno, without touching the fake's state — as a kernel refusal
//! would.

use std::fmt;

use crate::ipvs::backend::Op;
use crate::ipvs::error::OpKind;

type Predicate = Box<dyn FnMut(&Op) -> bool + Send>;

enum Trigger {
    /// The write whose 0-based submission number this is.
    Number(u64),
    /// The next write the predicate accepts.
    Matching(Predicate),
}

struct Injection {
    trigger: Trigger,
    errno: i32,
}

impl fmt::Debug for Injection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.trigger {
            Trigger::Number(n) => write!(f, "op #{n} fails with errno {}", self.errno),
            Trigger::Matching(_) => write!(f, "next matching op fails with errno {}", self.errno),
        }
    }
}

/// Pending one-shot failures, consumed when they fire.
#[derive(Debug, Default)]
pub(super) struct Injector {
    writes: Vec<Injection>,
    reads: Vec<(OpKind, i32)>,
}

impl Injector {
    pub fn fail_number(&mut self, number: u64, errno: i32) {
        self.writes.push(Injection {
            trigger: Trigger::Number(number),
            errno,
        });
    }

    pub fn fail_matching(&mut self, predicate: Predicate, errno: i32) {
        self.writes.push(Injection {
            trigger: Trigger::Matching(predicate),
            errno,
        });
    }

    pub fn fail_read(&mut self, kind: OpKind, errno: i32) {
        self.reads.push((kind, errno));
    }

    pub fn clear(&mut self) {
        self.writes.clear();
        self.reads.clear();
    }

    /// The errno for write number `number` (`op`), if an injection fires; it is consumed.
    pub fn take_write(&mut self, number: u64, op: &Op) -> Option<i32> {
        let index = self
            .writes
            .iter_mut()
            .position(|inj| match &mut inj.trigger {
                Trigger::Number(n) => *n == number,
                Trigger::Matching(pred) => pred(op),
            })?;
        Some(self.writes.remove(index).errno)
    }

    pub fn take_read(&mut self, kind: OpKind) -> Option<i32> {
        let index = self.reads.iter().position(|(k, _)| *k == kind)?;
        Some(self.reads.remove(index).1)
    }
}
