//! The dashboard's whole state. Plain data: `update` changes it, `render` reads it, the
//! tests build it directly.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::ipvs::Op;
use crate::ipvs::{Dest, DestKey, Rates, ServiceEntry, ServiceKey, Stats};
use crate::tui::conns::{self, ConnQuery, ConnScope, ConnSort};
use crate::tui::rates::RateTracker;
use crate::tui::rows::{self, RateSource, RowKey, RowParams, SortColumn, ViewRow};
use crate::tui::snapshot::{ConnSnapshot, Snapshot};
use crate::tui::table::Table;
use crate::tui::update::{MAX_INTERVAL, MIN_INTERVAL};

pub use crate::tui::options::TopOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Services,
    Connections,
    Details,
}

impl View {
    pub const ALL: [Self; 3] = [Self::Services, Self::Connections, Self::Details];

    pub const fn title(self) -> &'static str {
        match self {
            Self::Services => "Services",
            Self::Connections => "Connections",
            Self::Details => "Details",
        }
    }
}

/// A kernel write waiting for the user's yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub question: String,
    pub label: String,
    pub ops: Vec<Op>,
    /// A weight to remember for "restore" once confirmed (drain / set weight).
    pub remember: Option<(ServiceKey, DestKey, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    /// Editing the filter of the current view (the text lives in the view's state).
    Filter,
    EditWeight {
        service: ServiceKey,
        dest: DestKey,
        input: String,
    },
    Confirm(Pending),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    /// Set by a failed poll, so the next good poll clears it.
    pub from_poll: bool,
}

/// State of the Connections view.
#[derive(Debug, Clone)]
pub struct ConnView {
    pub data: Option<ConnSnapshot>,
    /// Display order of `data.rows`.
    pub order: Vec<usize>,
    pub cursor: usize,
    pub filter: String,
    pub follow: bool,
    pub sort: ConnSort,
    pub descending: bool,
    /// The query the collector is running, if any.
    pub query: Option<ConnQuery>,
    pub generation: u64,
}

impl Default for ConnView {
    fn default() -> Self {
        Self {
            data: None,
            order: Vec::new(),
            cursor: 0,
            filter: String::new(),
            follow: true,
            sort: ConnSort::Kernel,
            descending: false,
            query: None,
            generation: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub options: TopOptions,
    pub view: View,
    pub mode: Mode,
    pub paused: bool,
    pub interval: Duration,
    pub numeric: bool,
    pub source: RateSource,
    /// Below the wide layout, the In/Out columns show packets (true) or bytes per second.
    pub packets: bool,
    /// The last refresh's global counters, details, health and names (its table reads
    /// are merged into `table`).
    pub snapshot: Option<Snapshot>,
    /// The IPVS table as read so far: the rows on screen fresh, the rest from the
    /// background sweep.
    pub table: Table,
    /// The services whose rows are on screen (and the selected one), as last sent to the
    /// collector: what each refresh reads.
    pub watched: Vec<ServiceKey>,
    /// Time between the last two snapshots: more than the interval when the collector
    /// slows down to stay within its CPU budget (the header says so). Forgotten when the
    /// interval changes or polling pauses, so a gap the user caused is not reported.
    pub refresh: Option<Duration>,
    /// When the last snapshot was taken, for `refresh`; `None` after such a reset.
    pub last_at: Option<Duration>,
    pub rates: RateTracker,
    pub global_prev: Option<(Duration, Stats)>,
    pub global_delta: Option<Rates>,
    pub sort: SortColumn,
    pub descending: bool,
    pub filter: String,
    pub collapsed: HashSet<ServiceKey>,
    /// Visible rows of the Services table, rebuilt by `update` (never by `render`).
    pub rows: Vec<ViewRow>,
    /// Memory `rows` are sorted in, kept for the next rebuild.
    pub row_scratch: rows::Scratch,
    pub cursor: usize,
    pub selected: Option<RowKey>,
    pub conns: ConnView,
    /// Whether the collector was asked to read the Details view's facts.
    pub details_watched: bool,
    /// Weights from before a drain or weight change, for "restore".
    pub saved_weights: HashMap<(ServiceKey, DestKey), i32>,
    pub status: Option<Status>,
    /// Set when IPVS cannot be reached at all; replaces the views with an explanation.
    pub unavailable: Option<String>,
    /// Rows per page of the tables, from the terminal height.
    pub page: usize,
    /// Terminal width as last reported (the runtime redraws at any size; tests size frames
    /// from it).
    pub width: u16,
    pub quit: bool,
}

impl App {
    pub fn new(options: TopOptions) -> Self {
        let options = TopOptions {
            interval: options.interval.clamp(MIN_INTERVAL, MAX_INTERVAL),
            ..options
        };
        Self {
            options,
            view: View::Services,
            mode: Mode::Normal,
            paused: false,
            interval: options.interval,
            numeric: options.numeric,
            source: RateSource::Delta,
            packets: false,
            snapshot: None,
            table: Table::default(),
            watched: Vec::new(),
            refresh: None,
            last_at: None,
            rates: RateTracker::default(),
            global_prev: None,
            global_delta: None,
            sort: SortColumn::Name,
            descending: false,
            filter: String::new(),
            collapsed: HashSet::new(),
            rows: Vec::new(),
            row_scratch: rows::Scratch::default(),
            cursor: 0,
            selected: None,
            conns: ConnView::default(),
            details_watched: false,
            saved_weights: HashMap::new(),
            status: None,
            unavailable: None,
            page: 10,
            width: 80,
            quit: false,
        }
    }

    pub fn entries(&self) -> &[ServiceEntry] {
        self.table.entries()
    }

    pub fn entry(&self, row: &ViewRow) -> Option<&ServiceEntry> {
        self.entries().get(row.service)
    }

    pub fn dest(&self, row: &ViewRow) -> Option<&Dest> {
        self.entry(row)?.dests.get(row.dest?)
    }

    pub fn selected_row(&self) -> Option<&ViewRow> {
        self.rows.get(self.cursor)
    }

    pub fn row_params(&self) -> RowParams<'_> {
        RowParams {
            sort: self.sort,
            descending: self.descending,
            filter: &self.filter,
            collapsed: &self.collapsed,
            rates: &self.rates,
            source: self.source,
            health: self.snapshot.as_ref().map_or(&EMPTY_HEALTH, |s| &s.health),
            names: self.names(),
        }
    }

    /// Names to render with, `None` in numeric mode.
    pub fn names(&self) -> Option<&crate::tui::snapshot::Names> {
        if self.numeric {
            None
        } else {
            self.snapshot.as_ref().and_then(|s| s.names.as_ref())
        }
    }

    /// Rebuild the visible rows and put the cursor back on the selected key; when that row
    /// is gone (filtered out, deleted), stay at the same position.
    pub fn rebuild_rows(&mut self) {
        self.make_rows(rows::build_into, false);
    }

    /// The rows again after new data: all of them (`full`) or, when only some services'
    /// real servers changed, in the services' last order where it cannot depend on them
    /// (see [`rows::relayout_into`]). A cursor on the last row stays on the last row: at
    /// the end of a big table the last service's real servers arrive after it came on
    /// screen, and would otherwise land below the screen's edge.
    pub fn refresh_rows(&mut self, full: bool) {
        if full {
            self.make_rows(rows::build_into, true);
        } else {
            self.make_rows(rows::relayout_into, true);
        }
    }

    fn make_rows(
        &mut self,
        build: fn(&mut Vec<ViewRow>, &mut rows::Scratch, &[ServiceEntry], &RowParams<'_>),
        follow_end: bool,
    ) {
        let at_end = follow_end && self.cursor + 1 == self.rows.len();
        let entries = self.table.entries();
        let mut rows = std::mem::take(&mut self.rows);
        let mut scratch = std::mem::take(&mut self.row_scratch);
        build(&mut rows, &mut scratch, entries, &self.row_params());
        self.rows = rows;
        self.row_scratch = scratch;
        if at_end && self.view == View::Services {
            self.cursor = self.rows.len().saturating_sub(1);
        } else if let Some(key) = self.selected
            && let Some(i) = self.rows.iter().position(|r| r.key == key)
        {
            self.cursor = i;
        }
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        self.selected = self.rows.get(self.cursor).map(|r| r.key);
    }

    /// Take in an answer to the current connection query: a whole one, or the next part
    /// of a streamed one (appended to the rows shown).
    pub fn take_conns(&mut self, data: ConnSnapshot) {
        if data.generation != self.conns.generation {
            return;
        }
        let data = match self.conns.data.take() {
            Some(mut shown) if data.append && shown.generation == data.generation => {
                shown.rows.extend(data.rows);
                ConnSnapshot {
                    rows: shown.rows,
                    append: false,
                    ..data
                }
            }
            _ => ConnSnapshot {
                append: false,
                ..data
            },
        };
        self.conns.order = conns::order(&data.rows, self.conns.sort, self.conns.descending);
        self.conns.cursor = self.conns.cursor.min(data.rows.len().saturating_sub(1));
        self.conns.data = Some(data);
    }

    pub fn resort_conns(&mut self) {
        if let Some(data) = &self.conns.data {
            self.conns.order = conns::order(&data.rows, self.conns.sort, self.conns.descending);
        }
    }

    /// The connection scope the Services selection implies.
    pub fn conn_scope(&self) -> ConnScope {
        if !self.conns.follow {
            return ConnScope::All;
        }
        let Some(row) = self.selected_row() else {
            return ConnScope::All;
        };
        match (row.key, self.entry(row)) {
            (RowKey::Dest(key, dest), _) => ConnScope::Dest { key, dest },
            (RowKey::Service(key), Some(e)) => ConnScope::Service {
                key,
                dests: e.dests.iter().map(Dest::key).collect(),
            },
            (RowKey::Service(_), None) => ConnScope::All,
        }
    }

    /// Forget the refresh period (the user paused or changed the interval).
    pub fn reset_refresh(&mut self) {
        self.refresh = None;
        self.last_at = None;
    }

    /// The refresh period when it is well above the interval (`None` otherwise).
    pub fn slowed_refresh(&self) -> Option<Duration> {
        self.refresh
            .filter(|r| !self.paused && *r > self.interval.saturating_mul(3) / 2)
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            from_poll: false,
        });
    }
}

static EMPTY_HEALTH: std::sync::LazyLock<crate::tui::health::HealthMap> =
    std::sync::LazyLock::new(crate::tui::health::HealthMap::new);
