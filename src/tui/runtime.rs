//! The terminal side: set the terminal up, run the event loop, restore it on every way out.
//!
//! The loop waits on the keyboard for at most [`TICK`], then drains whatever the collector
//! sent, and redraws only when something changed. Input is handled at once whatever the
//! kernel is doing, because nothing here waits on the collector.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::Duration;

use anyhow::Context;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};

use crate::tui::action::{Action, Command};
use crate::tui::app::{App, TopOptions};
use crate::tui::collector::{self, Signals, Sources};
use crate::tui::{keymap, update, view};

/// Longest wait for a key before looking at the collector's channel again.
const TICK: Duration = Duration::from_millis(50);

/// Restores the terminal when dropped, so an error return leaves a usable shell. (Panics
/// are covered by the hook `ratatui::try_init` installs.)
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Run the dashboard until the user quits.
pub fn run_with(sources: Sources, options: TopOptions) -> anyhow::Result<()> {
    // The terminal first: if it cannot be set up, no thread has been started.
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let _guard = RestoreGuard;
    let (events_tx, events_rx) = mpsc::channel::<Action>();
    let (commands_tx, commands_rx) = mpsc::channel::<Command>();
    let signals = Arc::new(Signals::default());
    let mut app = App::new(options);
    collector::spawn(
        sources,
        events_tx,
        commands_rx,
        Arc::clone(&signals),
        app.interval,
        !app.numeric,
    )
    .context("cannot start the collector thread")?;
    let size = terminal.size().context("cannot read the terminal size")?;
    let mut ctx = Loop {
        commands: commands_tx,
        signals,
    };
    ctx.dispatch(
        &mut app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
    );
    ctx.run(&mut terminal, &mut app, &events_rx)
}

struct Loop {
    commands: Sender<Command>,
    signals: Arc<Signals>,
}

impl Loop {
    /// Draw when something changed, react to keys at once, take in what the collector sent.
    fn run(
        &mut self,
        terminal: &mut DefaultTerminal,
        app: &mut App,
        events: &Receiver<Action>,
    ) -> anyhow::Result<()> {
        let mut dirty = true;
        while !app.quit {
            if dirty {
                terminal
                    .draw(|f| view::render(app, f))
                    .context("cannot draw")?;
                dirty = false;
            }
            if event::poll(TICK).context("cannot read the terminal")? {
                let action = match event::read().context("cannot read the terminal")? {
                    Event::Key(k) => keymap::map_key(app, k),
                    Event::Resize(width, height) => Some(Action::Resize { width, height }),
                    _ => None,
                };
                if let Some(a) = action {
                    self.dispatch(app, a);
                }
                dirty = true;
            }
            dirty |= self.drain(app, events)?;
        }
        self.signals.command_waiting.store(true, Ordering::Relaxed);
        let _ = self.commands.send(Command::Quit);
        Ok(())
    }

    /// Update the state and pass the resulting commands to the collector.
    fn dispatch(&mut self, app: &mut App, action: Action) {
        for cmd in update::update(app, action) {
            // Raise the flags first, so a read in flight stops before the command arrives.
            match cmd {
                Command::WatchConns(_) => {
                    let generation = app.conns.generation;
                    self.signals
                        .conn_generation
                        .store(generation, Ordering::Relaxed);
                }
                Command::Apply { .. } | Command::Quit => {
                    self.signals.command_waiting.store(true, Ordering::Relaxed);
                }
                _ => {}
            }
            if self.commands.send(cmd).is_err() {
                app.set_status("the data collector stopped; press q to quit", true);
            }
        }
        if app.quit {
            self.signals
                .conn_generation
                .store(u64::MAX, Ordering::Relaxed);
        }
    }

    /// Take everything the collector sent; true when anything arrived. Errors when the
    /// collector is gone without being asked to stop (it panicked: the panic hook has
    /// already restored the terminal, so the dashboard cannot go on).
    fn drain(&mut self, app: &mut App, rx: &Receiver<Action>) -> anyhow::Result<bool> {
        let mut any = false;
        loop {
            match rx.try_recv() {
                Ok(a) => {
                    self.dispatch(app, a);
                    any = true;
                }
                Err(TryRecvError::Empty) => return Ok(any),
                // Asked to quit: the collector may already have taken the Quit and gone.
                Err(TryRecvError::Disconnected) if app.quit => return Ok(any),
                Err(TryRecvError::Disconnected) => {
                    anyhow::bail!("lvsctl top: the data collector stopped unexpectedly")
                }
            }
        }
    }
}
