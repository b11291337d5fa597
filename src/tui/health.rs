//! Health of real servers as the health daemon sees it, behind a trait.
//!
//! The dashboard only displays health; it never checks anything itself, and it knows nothing
//! of the health checker: [`HealthSource`] is the seam the wiring plugs the checker's status
//! sockets into (`cli::top`). The collector thread polls the source (it may do I/O), never
//! the render path. When a source reports nothing, the Health column is simply not shown.

use std::collections::HashMap;
use std::time::Duration;

use crate::ipvs::{DestKey, ServiceKey};

/// What the health daemon thinks of one real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HealthState {
    Up,
    Down,
    /// Failed and kept in the table with weight 0 (ldirectord's `quiescent = yes`).
    Quiesced,
    /// Being drained on purpose (weight 0 until its connections finish).
    Draining,
    Unknown,
}

impl HealthState {
    /// Short label that fits the narrow Health column.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Quiesced => "quiesced",
            Self::Draining => "draining",
            Self::Unknown => "?",
        }
    }
}

/// The status of one (service, real server) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthStatus {
    pub state: HealthState,
    /// Human-readable result of the last check (`HTTP 200`, `connection refused`).
    pub last_result: Option<String>,
    pub latency: Option<Duration>,
}

/// Health statuses keyed the way the dashboard keys its rows.
pub type HealthMap = HashMap<(ServiceKey, DestKey), HealthStatus>;

/// A provider of health statuses, polled on the collector thread once per refresh.
pub trait HealthSource {
    /// The current statuses; an empty map means "no health daemon" and hides the column.
    fn statuses(&mut self) -> HealthMap;
}

/// A source that reports nothing: no health daemon (tests, [`crate::tui::run`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHealth;

impl HealthSource for NoHealth {
    fn statuses(&mut self) -> HealthMap {
        HealthMap::new()
    }
}
