//! `lvsctl top`: the live dashboard that replaces `watch ipvsadm -Ln --rate` and
//! `ipvsadm -lcn | grep`.
//!
//! Shape (the Elm architecture, on threads): a collector thread ([`collector`]) owns the
//! backend and sends owned snapshots; the UI thread ([`runtime`]) maps keys to [`Action`]s
//! ([`keymap`]), feeds them and the snapshots to the pure [`update()`], and draws with
//! the pure [`view::render`]. Kernel writes leave `update` as [`Command`]s and run on the
//! collector thread, so the UI never waits on the kernel.
//!
//! The cost of a refresh follows the screen, not the table: `update` tells the collector
//! which services' rows are visible (`Command::WatchServices`), a refresh reads those,
//! and whatever needs the whole table is read in the background within a CPU budget
//! ([`sweep`]) and merged into the app's copy of the table ([`table`]), whose labels say
//! how old it is.

pub mod action;
pub mod app;
pub mod collector;
pub mod conns;
pub mod demo;
pub mod error;
pub mod format;
pub mod health;
pub mod history;
mod intake;
pub mod keymap;
mod ops;
pub mod options;
pub mod pacing;
pub mod rates;
mod reconcile;
pub mod rows;
mod runtime;
pub mod snapshot;
pub mod sweep;
pub mod table;
pub mod update;
pub mod view;

pub use action::{Action, Command};
pub use app::App;
pub use collector::Sources;
pub use error::TopError;

use crate::ipvs::BackendFactory;
use crate::names::FilesResolver;
pub use health::{HealthMap, HealthSource, HealthState, HealthStatus, NoHealth};
pub use options::{TopOptions, options, parse_interval};
pub use runtime::run_with;
pub use update::update;

/// Run `lvsctl top` with no health source and names from `/etc/hosts` and `/etc/services`
/// (use [`run_with`] to supply a health source or another resolver).
///
/// `factory` is called on the collector thread (netlink sockets belong to the thread's
/// network namespace, and backends are not `Sync`), and again after each failure to reach
/// IPVS. For `lvsctl top --interval 1`:
///
/// ```no_run
/// use std::time::Duration;
///
/// use lvsctl::ipvs::netlink::NetlinkBackend;
/// use lvsctl::ipvs::{Backend, BackendFactory};
///
/// let factory: BackendFactory =
///     Box::new(|| Ok(Box::new(NetlinkBackend::connect()?) as Box<dyn Backend>));
/// lvsctl::tui::run(factory, lvsctl::tui::options(Duration::from_secs(1), false, false))?;
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn run(factory: BackendFactory, options: TopOptions) -> Result<(), TopError> {
    let sources = Sources {
        factory,
        health: Box::new(NoHealth),
        resolver: Box::new(FilesResolver::load()),
    };
    run_with(sources, options)
}

#[cfg(test)]
mod collector_tests;
#[cfg(test)]
mod screen_tests;
#[cfg(test)]
mod testdata;
#[cfg(test)]
mod update_tests;
