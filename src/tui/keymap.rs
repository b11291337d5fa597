//! Keys to actions, by mode. Arrows and vim keys both work; the help popup is generated
//! from [`HELP`]. The mouse is not captured, so the terminal's own text selection keeps
//! working (operators copy addresses out of the table).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::action::Action;
use crate::tui::app::{App, Mode, View};

/// (keys, what they do), shown by `?`.
pub const HELP: &[(&str, &str)] = &[
    ("1 2 3, Tab", "Services / Connections / Details view"),
    ("↑↓ j k", "move selection"),
    ("PgUp PgDn g G", "page up / down, first / last row"),
    ("Space, Enter", "collapse / expand the selected service"),
    ("c / e", "collapse all / expand all"),
    ("s / S", "sort by next column / reverse order"),
    ("/", "filter (Enter keeps, Esc clears)"),
    (
        "  connections",
        "terms: state:EST client:10.1 rs:10.0.1.1 vip: proto:",
    ),
    ("n", "toggle names / numeric addresses"),
    ("r", "rates: counter deltas / kernel estimator"),
    ("b", "bytes / packets per second (below 140 columns)"),
    ("f", "connections follow the selected service"),
    ("p", "pause / resume refreshing"),
    ("+ -", "refresh faster / slower"),
    ("w", "set weight of the selected real server"),
    ("d / u", "drain (weight 0) / restore earlier weight"),
    ("x", "remove the selected real server"),
    ("z / Z", "zero counters of the service / of all"),
    ("?", "this help"),
    ("q, Ctrl-C", "quit"),
];

fn ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c'))
}

/// The action for a key press in the app's current mode, if any.
pub fn map_key(app: &App, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if ctrl_c(&key) {
        return Some(Action::Quit);
    }
    match &app.mode {
        Mode::Filter | Mode::EditWeight { .. } => text_key(key),
        Mode::Confirm(_) => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Confirm),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => Some(Action::ToggleHelp),
            _ => None,
        },
        Mode::Normal => normal_key(app, key),
    }
}

fn text_key(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char(c) => Some(Action::Input(c)),
        KeyCode::Backspace => Some(Action::Backspace),
        KeyCode::Enter => Some(Action::Submit),
        KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    }
}

fn normal_key(app: &App, key: KeyEvent) -> Option<Action> {
    let services = app.view == View::Services;
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('1') => Action::ShowView(View::Services),
        KeyCode::Char('2') => Action::ShowView(View::Connections),
        KeyCode::Char('3') => Action::ShowView(View::Details),
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Char(' ') | KeyCode::Enter if services => Action::ToggleCollapse,
        KeyCode::Char('c') if services => Action::CollapseAll,
        KeyCode::Char('e') if services => Action::ExpandAll,
        KeyCode::Char('s') => Action::SortNext,
        KeyCode::Char('S') => Action::ReverseSort,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('n') => Action::ToggleNumeric,
        KeyCode::Char('r') => Action::ToggleRateSource,
        KeyCode::Char('b') => Action::TogglePackets,
        KeyCode::Char('f') => Action::ToggleFollow,
        KeyCode::Char('p') => Action::TogglePause,
        KeyCode::Char('+' | '=') => Action::Faster,
        KeyCode::Char('-') => Action::Slower,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Char('w') if services => Action::SetWeight,
        KeyCode::Char('d') if services => Action::Drain,
        KeyCode::Char('u') if services => Action::RestoreWeight,
        KeyCode::Char('x') if services => Action::RemoveDest,
        KeyCode::Char('z') if services => Action::ZeroService,
        KeyCode::Char('Z') => Action::ZeroAll,
        _ => return None,
    })
}
