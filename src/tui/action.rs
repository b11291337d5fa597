//! Everything that can happen to the dashboard ([`Action`]) and everything the dashboard
//! can ask of the outside world ([`Command`]). `update` turns the first into state changes
//! and the second; the runtime delivers actions and carries out commands.

use std::time::Duration;

use ratatui::crossterm::event::KeyEvent;

use crate::ipvs::{Op, ServiceKey};
use crate::tui::app::View;
use crate::tui::conns::ConnQuery;
use crate::tui::snapshot::{CollectError, ConnSnapshot, Snapshot, TableRead};

#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    ShowView(View),
    NextView,
    PrevView,
    ToggleHelp,
    TogglePause,
    /// Poll more often (halve the interval, down to 250 ms).
    Faster,
    /// Poll less often (double the interval, up to 60 s).
    Slower,
    ToggleNumeric,
    ToggleRateSource,
    /// Narrow terminals: show packets instead of bytes per second (or back).
    TogglePackets,

    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    ToggleCollapse,
    CollapseAll,
    ExpandAll,
    /// Sort by the next column; `ReverseSort` flips the direction.
    SortNext,
    ReverseSort,
    /// Connections view: follow the Services selection or show every connection.
    ToggleFollow,

    /// Start editing the filter of the current view.
    StartFilter,
    Input(char),
    Backspace,
    /// Enter: accept the text being edited / confirm.
    Submit,
    /// Esc: leave a popup or mode, clearing an edited filter.
    Cancel,
    /// `y` in a confirmation popup.
    Confirm,

    SetWeight,
    Drain,
    RestoreWeight,
    RemoveDest,
    ZeroService,
    ZeroAll,

    Snapshot(Box<Snapshot>),
    /// Rows read out of turn, at collector time `at`: services that just came on screen.
    TableRead {
        at: Duration,
        read: Box<TableRead>,
    },
    /// A refresh at collector time `at` that found nothing changed since the last one
    /// (only sent while idle): nothing to redraw.
    Unchanged {
        at: Duration,
    },
    Conns(Box<ConnSnapshot>),
    CollectFailed(CollectError),
    /// The collector ran a command's ops: one result per op.
    Applied {
        label: String,
        results: Vec<Result<(), String>>,
    },
    Resize {
        width: u16,
        height: u16,
    },
    /// A key from the terminal thread; the runtime maps it with [`crate::tui::keymap`]
    /// before it reaches `update`, which ignores it.
    Key(KeyEvent),
    /// The terminal could not be read; the runtime ends the dashboard with this error.
    TerminalFailed(String),
}

/// Side effects `update` asks for; executed on the collector thread, never while rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run kernel writes, then poll again so the result shows at once.
    Apply {
        label: String,
        ops: Vec<Op>,
    },
    SetInterval(Duration),
    SetPaused(bool),
    /// Resolve host and port names (true) or stop (false, `-n`).
    SetNames(bool),
    /// The services whose rows are on screen (and the selected one): every refresh reads
    /// these, and services new to the list are read at once.
    WatchServices(Vec<ServiceKey>),
    /// Start streaming connections for this query, or stop reading them (`None`).
    WatchConns(Option<ConnQuery>),
    /// Read the Details view's facts (version, timeouts, daemons, sysctls) with every poll
    /// (true, while that view is visible) or not at all.
    WatchDetails(bool),
    Quit,
}
