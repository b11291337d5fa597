//! The flattened, sorted and filtered rows of the Services table.
//!
//! Built in `update` when the table's layout or the view settings change (not for new
//! values alone: see `App::apply_snapshot`), never in `render`, so a frame of a
//! 10k-service table only formats the rows on screen. Rows point into the
//! snapshot by index and carry a [`RowKey`], which is what the selection remembers: keys
//! survive re-sorting and refreshes, indices do not.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::ipvs::{Dest, DestKey, Rates, ServiceEntry, ServiceKey};
use crate::tui::format;
use crate::tui::health::{HealthMap, HealthState};
use crate::tui::rates::RateTracker;
use crate::tui::snapshot::Names;

/// Identity of a Services-table row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKey {
    Service(ServiceKey),
    Dest(ServiceKey, DestKey),
}

impl RowKey {
    pub fn service(&self) -> ServiceKey {
        match self {
            Self::Service(s) | Self::Dest(s, _) => *s,
        }
    }
}

/// A visible row: its key and where its data lives in `Snapshot::entries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewRow {
    pub key: RowKey,
    pub service: usize,
    /// Index into the service's `dests`; `None` for the service row itself.
    pub dest: Option<usize>,
}

/// The rows a table `height` lines high shows with the cursor on row `cursor`: the first
/// screenful until the cursor moves past it, then the cursor stays on the last line.
/// Drawing and the choice of what each refresh reads both use it, so what is read is
/// exactly what is drawn.
pub fn window(cursor: usize, len: usize, height: usize) -> std::ops::Range<usize> {
    let height = height.max(1);
    let start = cursor.saturating_sub(height - 1).min(len);
    start..start.saturating_add(height).min(len)
}

/// Columns the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Name,
    Weight,
    Active,
    InAct,
    Persist,
    Cps,
    InPps,
    OutPps,
    InBps,
    OutBps,
    Health,
}

impl SortColumn {
    /// Cycle order of the `s` key.
    pub const ALL: [Self; 11] = [
        Self::Name,
        Self::Weight,
        Self::Active,
        Self::InAct,
        Self::Persist,
        Self::Cps,
        Self::InPps,
        Self::OutPps,
        Self::InBps,
        Self::OutBps,
        Self::Health,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Weight => "weight",
            Self::Active => "active",
            Self::InAct => "inactive",
            Self::Persist => "persistent",
            Self::Cps => "conn/s",
            Self::InPps => "in pkt/s",
            Self::OutPps => "out pkt/s",
            Self::InBps => "in B/s",
            Self::OutBps => "out B/s",
            Self::Health => "health",
        }
    }

    /// Numbers are most interesting largest first; names read alphabetically.
    pub const fn default_descending(self) -> bool {
        !matches!(self, Self::Name)
    }
}

/// Which rates the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    /// Counter deltas over the last poll interval.
    Delta,
    /// The kernel's 2-second estimators.
    Kernel,
}

/// Everything besides the data that decides which rows appear, in which order.
#[derive(Debug, Clone, Copy)]
pub struct RowParams<'a> {
    pub sort: SortColumn,
    pub descending: bool,
    pub filter: &'a str,
    pub collapsed: &'a HashSet<ServiceKey>,
    pub rates: &'a RateTracker,
    pub source: RateSource,
    pub health: &'a HealthMap,
    pub names: Option<&'a Names>,
}

/// The rates of a row according to the chosen source.
pub fn row_rates(key: &RowKey, kernel: Rates, p: &RowParams<'_>) -> Option<Rates> {
    match p.source {
        RateSource::Kernel => Some(kernel),
        RateSource::Delta => p.rates.get(key).and_then(|r| r.delta),
    }
}

/// [`row_rates`] of a row of the current entries, found by position (no hashing).
pub fn view_row_rates(row: &ViewRow, kernel: Rates, p: &RowParams<'_>) -> Option<Rates> {
    match p.source {
        RateSource::Kernel => Some(kernel),
        RateSource::Delta => p
            .rates
            .at(row.service, row.dest, &row.key)
            .and_then(|r| r.delta),
    }
}

/// Sort value of a row for the numeric columns (`None` sorts last). `si` and `dest` say
/// where the row is in the entries, so its rates are found by position.
fn metric(
    entry: &ServiceEntry,
    si: usize,
    dest: Option<(usize, &Dest)>,
    col: SortColumn,
    p: &RowParams<'_>,
) -> Option<u64> {
    let sum = |f: fn(&Dest) -> u64| entry.dests.iter().map(f).sum::<u64>();
    let (row, kernel) = match dest {
        Some((di, d)) => (
            ViewRow {
                key: RowKey::Dest(entry.service.key, d.key()),
                service: si,
                dest: Some(di),
            },
            d.rates,
        ),
        None => (
            ViewRow {
                key: RowKey::Service(entry.service.key),
                service: si,
                dest: None,
            },
            entry.service.rates,
        ),
    };
    let rates = || view_row_rates(&row, kernel, p);
    let dest = dest.map(|(_, d)| d);
    match (col, dest) {
        (SortColumn::Weight, Some(d)) => Some(d.weight.max(0) as u64),
        (SortColumn::Weight, None) => Some(sum(|d| d.weight.max(0) as u64)),
        (SortColumn::Active, Some(d)) => Some(d.active_conns.into()),
        (SortColumn::Active, None) => Some(sum(|d| d.active_conns.into())),
        (SortColumn::InAct, Some(d)) => Some(d.inact_conns.into()),
        (SortColumn::InAct, None) => Some(sum(|d| d.inact_conns.into())),
        (SortColumn::Persist, Some(d)) => Some(d.persist_conns.into()),
        (SortColumn::Persist, None) => Some(sum(|d| d.persist_conns.into())),
        (SortColumn::Cps, _) => rates().map(|r| r.cps),
        (SortColumn::InPps, _) => rates().map(|r| r.inpps),
        (SortColumn::OutPps, _) => rates().map(|r| r.outpps),
        (SortColumn::InBps, _) => rates().map(|r| r.inbps),
        (SortColumn::OutBps, _) => rates().map(|r| r.outbps),
        (SortColumn::Health, Some(d)) => p
            .health
            .get(&(entry.service.key, d.key()))
            .map(|h| health_rank(h.state)),
        (SortColumn::Name | SortColumn::Health, _) => None,
    }
}

/// Health sorts worst first when descending.
const fn health_rank(state: HealthState) -> u64 {
    match state {
        HealthState::Up => 0,
        HealthState::Unknown => 1,
        HealthState::Draining => 2,
        HealthState::Quiesced => 3,
        HealthState::Down => 4,
    }
}

fn compare<T: Ord>(a: &(Option<u64>, T), b: &(Option<u64>, T), descending: bool) -> Ordering {
    let by_metric = match (a.0, b.0) {
        (Some(x), Some(y)) if descending => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    let by_name = if descending && a.0.is_none() && b.0.is_none() {
        b.1.cmp(&a.1)
    } else {
        a.1.cmp(&b.1)
    };
    by_metric.then(by_name)
}

fn matches(text: &str, needle: &str) -> bool {
    text.to_lowercase().contains(needle)
}

fn service_matches(entry: &ServiceEntry, needle: &str, p: &RowParams<'_>) -> bool {
    let s = &entry.service;
    matches(&format::service_key(&s.key, None), needle)
        || matches(&format::service_key(&s.key, p.names), needle)
        || matches(s.scheduler.as_str(), needle)
}

fn dest_matches(entry: &ServiceEntry, d: &Dest, needle: &str, p: &RowParams<'_>) -> bool {
    let k = entry.service.key;
    matches(&format::dest_key(&k, &d.key(), None), needle)
        || matches(&format::dest_key(&k, &d.key(), p.names), needle)
        || matches(format::forward(d.fwd), needle)
        || p.health
            .get(&(k, d.key()))
            .is_some_and(|h| matches(h.state.label(), needle))
}

/// Scratch space of [`build_into`], kept between polls: a 10,000-service table needs half
/// a megabyte of it, and memory that large allocated afresh each poll is returned to the
/// kernel and faulted in again every time.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    /// (sort value, key, index, whether the service itself matched the filter)
    services: Vec<(Option<u64>, ServiceKey, usize, bool)>,
    dests: Vec<(Option<u64>, DestKey, usize)>,
    /// `services` holds an order made by [`build_into`].
    ordered: bool,
}

/// The visible rows: services sorted, each followed by its (sorted, filtered) real servers
/// unless collapsed. A service matching the filter shows all its real servers; a service
/// whose name does not match shows only the matching ones, and is hidden if none match.
pub fn build(entries: &[ServiceEntry], p: &RowParams<'_>) -> Vec<ViewRow> {
    let mut rows = Vec::new();
    build_into(&mut rows, &mut Scratch::default(), entries, p);
    rows
}

/// [`build`] into `rows`, reusing its memory and `scratch`'s. Runs after every poll, so
/// each row's sort value is computed once (not per comparison).
pub fn build_into(
    rows: &mut Vec<ViewRow>,
    scratch: &mut Scratch,
    entries: &[ServiceEntry],
    p: &RowParams<'_>,
) {
    let needle = p.filter.trim().to_lowercase();
    // (sort value, key, index, whether the service itself matched)
    let services = &mut scratch.services;
    services.clear();
    for (si, entry) in entries.iter().enumerate() {
        let all = needle.is_empty() || service_matches(entry, &needle, p);
        if all
            || entry
                .dests
                .iter()
                .any(|d| dest_matches(entry, d, &needle, p))
        {
            let m = metric(entry, si, None, p.sort, p);
            services.push((m, entry.service.key, si, all));
        }
    }
    services.sort_by(|a, b| compare(&(a.0, a.1), &(b.0, b.1), p.descending));
    scratch.ordered = true;
    expand(rows, scratch, entries, p, &needle);
}

/// The rows again in the services' last order, after only some services' real servers
/// changed (a slice of the background sweep): sorting 10,000 services again for that
/// would cost the UI more than the refresh itself under emulation. Falls back to
/// [`build_into`] when the order may depend on real servers (a filter, a sort by a
/// real-server column) or was never made.
pub fn relayout_into(
    rows: &mut Vec<ViewRow>,
    scratch: &mut Scratch,
    entries: &[ServiceEntry],
    p: &RowParams<'_>,
) {
    let by_dests = matches!(
        p.sort,
        SortColumn::Weight
            | SortColumn::Active
            | SortColumn::InAct
            | SortColumn::Persist
            | SortColumn::Health
    );
    if !scratch.ordered || by_dests || !p.filter.trim().is_empty() {
        return build_into(rows, scratch, entries, p);
    }
    expand(rows, scratch, entries, p, "");
}

/// Each ordered service's row, followed by its (sorted, filtered) real servers unless
/// it is collapsed.
fn expand(
    rows: &mut Vec<ViewRow>,
    scratch: &mut Scratch,
    entries: &[ServiceEntry],
    p: &RowParams<'_>,
    needle: &str,
) {
    let dest_shown =
        |entry: &ServiceEntry, all: bool, d: &Dest| all || dest_matches(entry, d, needle, p);
    let total = scratch
        .services
        .iter()
        .map(|&(_, _, si, _)| 1 + entries.get(si).map_or(0, |e| e.dests.len()))
        .sum();
    rows.clear();
    rows.reserve(total);
    let dests = &mut scratch.dests;
    for &(_, key, si, all) in &scratch.services {
        let Some(entry) = entries.get(si) else {
            continue;
        };
        rows.push(ViewRow {
            key: RowKey::Service(key),
            service: si,
            dest: None,
        });
        if !p.collapsed.is_empty() && p.collapsed.contains(&key) {
            continue;
        }
        dests.clear();
        for (di, d) in entry.dests.iter().enumerate() {
            if dest_shown(entry, all, d) {
                let m = metric(entry, si, Some((di, d)), p.sort, p);
                dests.push((m, d.key(), di));
            }
        }
        dests.sort_by(|a, b| compare(&(a.0, a.1), &(b.0, b.1), p.descending));
        rows.extend(dests.iter().map(|&(_, dk, di)| ViewRow {
            key: RowKey::Dest(key, dk),
            service: si,
            dest: Some(di),
        }));
    }
}
