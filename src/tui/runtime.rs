//! The terminal side: set the terminal up, run the event loop, restore it on every way out.
//!
//! Keys and resizes are read on their own thread and arrive on the same channel as the
//! collector's data, so the loop sleeps until either has something (a timed poll of the
//! keyboard woke an idle dashboard twenty times a second: 1 % of a core under emulation).
//! It takes everything that arrived, then redraws once if anything changed. Input is
//! handled at once whatever the kernel is doing, because nothing here waits on the
//! collector.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};

use crate::tui::action::{Action, Command};
use crate::tui::app::{App, TopOptions};
use crate::tui::collector::{self, Signals, Sources};
use crate::tui::error::TopError;
use crate::tui::{keymap, update, view};

/// Longest sleep before checking that the collector thread is still alive (its channel
/// stays open while the terminal thread holds a sender too).
const WATCHDOG: Duration = Duration::from_secs(1);

/// Restores the terminal when dropped, so an error return leaves a usable shell. (Panics
/// are covered by the hook `ratatui::try_init` installs.)
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Run the dashboard until the user quits.
pub fn run_with(sources: Sources, options: TopOptions) -> Result<(), TopError> {
    // The terminal first: if it cannot be set up, no thread has been started.
    let mut terminal = ratatui::try_init().map_err(TopError::TerminalSetup)?;
    let _guard = RestoreGuard;
    let (events_tx, events_rx) = mpsc::channel::<Action>();
    let (commands_tx, commands_rx) = mpsc::channel::<Command>();
    let signals = Arc::new(Signals::default());
    let mut app = App::new(options);
    let settings = collector::Settings::new(app.interval, !app.numeric);
    let collector = collector::spawn(
        sources,
        events_tx.clone(),
        commands_rx,
        Arc::clone(&signals),
        settings,
    )
    .map_err(|e| TopError::Spawn("collector", e))?;
    spawn_input(events_tx).map_err(|e| TopError::Spawn("terminal", e))?;
    let size = terminal.size().map_err(TopError::TerminalSize)?;
    let mut ctx = Loop {
        commands: commands_tx,
        signals,
        collector,
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

/// Read the terminal on a thread of its own: keys and resizes go to the loop as actions.
/// It lives until the process ends (blocked in a read when the dashboard quits).
fn spawn_input(events: Sender<Action>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("lvsctl-top-input".to_owned())
        .spawn(move || {
            loop {
                let action = match event::read() {
                    Ok(Event::Key(k)) => Action::Key(k),
                    Ok(Event::Resize(width, height)) => Action::Resize { width, height },
                    Ok(_) => continue,
                    Err(e) => Action::TerminalFailed(e.to_string()),
                };
                let failed = matches!(action, Action::TerminalFailed(_));
                if events.send(action).is_err() || failed {
                    return;
                }
            }
        })
}

struct Loop {
    commands: Sender<Command>,
    signals: Arc<Signals>,
    collector: JoinHandle<()>,
}

impl Loop {
    /// Draw when something changed, react to keys at once, take in what the collector sent.
    fn run(
        &mut self,
        terminal: &mut DefaultTerminal,
        app: &mut App,
        events: &Receiver<Action>,
    ) -> Result<(), TopError> {
        let mut dirty = true;
        while !app.quit {
            if dirty {
                terminal
                    .draw(|f| view::render(app, f))
                    .map_err(TopError::Draw)?;
            }
            dirty = match events.recv_timeout(WATCHDOG) {
                Ok(first) => {
                    let changed = self.take(app, first)?;
                    self.drain(app, events)? || changed
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => return Err(TopError::CollectorStopped),
            };
            // Asked to quit, the collector may already have taken the Quit and gone.
            if self.collector.is_finished() && !app.quit {
                return Err(TopError::CollectorStopped);
            }
        }
        self.signals.command_waiting.store(true, Ordering::Relaxed);
        let _ = self.commands.send(Command::Quit);
        Ok(())
    }

    /// One action from either thread: keys are mapped in the app's current mode first.
    /// True when the screen may have changed (a refresh that found nothing new did not:
    /// not redrawing then keeps an idle dashboard near zero CPU).
    fn take(&mut self, app: &mut App, action: Action) -> Result<bool, TopError> {
        match action {
            Action::Key(k) => {
                if let Some(a) = keymap::map_key(app, k) {
                    self.dispatch(app, a);
                }
            }
            Action::TerminalFailed(e) => return Err(TopError::TerminalRead(e)),
            Action::Unchanged { .. } => {
                // Redrawn only if the header's word on the refresh period changes.
                let slowed = app.slowed_refresh().is_some();
                self.dispatch(app, action);
                return Ok(app.slowed_refresh().is_some() != slowed);
            }
            other => self.dispatch(app, other),
        }
        Ok(true)
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

    /// Take everything else already waiting, so a burst is drawn once. True when any of it
    /// may have changed the screen.
    fn drain(&mut self, app: &mut App, rx: &Receiver<Action>) -> Result<bool, TopError> {
        let mut changed = false;
        loop {
            match rx.try_recv() {
                Ok(a) => changed |= self.take(app, a)?,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(changed),
            }
        }
    }
}
