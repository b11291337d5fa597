//! Ctrl-C and SIGTERM during `lvsctl apply`: a request to stop between two batches, never
//! death in the middle of one.
//!
//! Dying at once would leave a partly applied table and no word about which part. So once
//! the first kernel write is near, SIGINT and SIGTERM only set a flag; the executor looks at
//! it before each batch and between the polls of the drain wait, stops there, and the
//! report says what was and was not applied (and `--rollback` undoes the applied part).
//! Until then (reading the file, planning) a signal ends the process as usual: nothing has
//! been written.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The signal that asked an apply to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    pub fn name(self) -> &'static str {
        match self {
            Self::Int => "SIGINT",
            Self::Term => "SIGTERM",
        }
    }

    /// 128 + the signal number: what a shell reports for a command the signal ended, so a
    /// script sees the same status as if the signal had killed it, report or not.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Int => 128 + SIGINT,
            Self::Term => 128 + SIGTERM,
        }
    }

    fn from_signal(signal: usize) -> Option<Self> {
        match i32::try_from(signal).ok()? {
            SIGINT => Some(Self::Int),
            SIGTERM => Some(Self::Term),
            _ => None,
        }
    }
}

/// Where an apply learns that it should stop.
pub trait Interrupts {
    /// From now on a signal asks to stop instead of ending the process. Called once,
    /// just before the first kernel write.
    fn arm(&mut self) -> io::Result<()>;
    /// The signal received since [`Interrupts::arm`] (the later one if both came).
    fn requested(&self) -> Option<Interrupt>;
}

/// No signal ever arrives (dry runs, tests).
#[derive(Debug, Default)]
pub struct Never;

impl Interrupts for Never {
    fn arm(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn requested(&self) -> Option<Interrupt> {
        None
    }
}

/// The process's SIGINT and SIGTERM, caught into a flag once armed.
#[derive(Debug, Default)]
pub struct Signals {
    /// 0, or the number of the signal caught last.
    caught: Arc<AtomicUsize>,
}

impl Signals {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Interrupts for Signals {
    fn arm(&mut self) -> io::Result<()> {
        for signal in [SIGINT, SIGTERM] {
            // The handler only stores into the atomic (async-signal-safe); `register_usize`
            // installs it with SA_RESTART, so a batch's netlink I/O is not cut short.
            signal_hook::flag::register_usize(signal, self.caught.clone(), signal as usize)?;
        }
        Ok(())
    }

    fn requested(&self) -> Option<Interrupt> {
        Interrupt::from_signal(self.caught.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_what_a_shell_reports_for_the_signal() {
        assert_eq!(
            (Interrupt::Int.exit_code(), Interrupt::Term.exit_code()),
            (130, 143)
        );
        assert_eq!(Interrupt::from_signal(2), Some(Interrupt::Int));
        assert_eq!(Interrupt::from_signal(15), Some(Interrupt::Term));
        assert_eq!(Interrupt::from_signal(0), None);
    }

    #[test]
    fn an_unarmed_flag_reports_nothing() {
        assert_eq!(Signals::new().requested(), None);
        assert_eq!(Never.requested(), None);
    }
}
