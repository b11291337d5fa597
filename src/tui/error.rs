//! Why the dashboard stopped, typed, so the wiring decides how to word and report it.
//!
//! Each variant keeps the underlying error as its source: printed with its chain (as the
//! binary does), the message reads the same as before the error was typed.

use std::io;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TopError {
    /// The terminal could not be put into raw mode or the alternate screen.
    #[error("cannot set up the terminal")]
    TerminalSetup(#[source] io::Error),
    /// The terminal's size could not be read at start.
    #[error("cannot read the terminal size")]
    TerminalSize(#[source] io::Error),
    /// Reading keys failed (the terminal went away).
    #[error("cannot read the terminal: {0}")]
    TerminalRead(String),
    /// Writing a frame failed.
    #[error("cannot draw")]
    Draw(#[source] io::Error),
    /// A thread (`collector` or `terminal`) could not be started.
    #[error("cannot start the {0} thread")]
    Spawn(&'static str, #[source] io::Error),
    /// The collector thread ended (it panicked) while the dashboard was running.
    #[error("lvsctl top: the data collector stopped unexpectedly")]
    CollectorStopped,
}
