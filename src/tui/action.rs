//! Everything that can happen to the dashboard ([`Action`]) and everything the dashboard
//! can ask of the outside world ([`Command`]). `update` turns the first into state changes
//! and the second; the runtime delivers actions and carries out commands.

use std::time::Duration;

use crate::ipvs::Op;
use crate::tui::app::View;
use crate::tui::conns::ConnQuery;
use crate::tui::snapshot::{CollectError, ConnSnapshot, Snapshot};

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
    /// Start streaming connections for this query, or stop reading them (`None`).
    WatchConns(Option<ConnQuery>),
    Quit,
}
