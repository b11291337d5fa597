//! The demo's health checker: every real server passes its check, except one that fails
//! for a quarter of a minute in every minute, and is quiesced meanwhile.

use std::time::Duration;

use crate::ipvs::Backend;
use crate::tui::demo::{Shared, failing};
use crate::tui::health::{HealthMap, HealthSource, HealthState, HealthStatus};

/// Length of the failing real server's cycle, and the part of it it is down.
const CYCLE: u64 = 60;
const DOWN: std::ops::Range<u64> = 20..35;

/// Whether the failing real server fails its check at simulated time `t`.
pub fn is_down(t: Duration) -> bool {
    DOWN.contains(&(t.as_secs() % CYCLE))
}

/// Health as the demo's checker reports it.
#[derive(Debug)]
pub struct DemoHealth(pub Shared);

impl HealthSource for DemoHealth {
    fn statuses(&mut self) -> HealthMap {
        let mut sim = self.0.now();
        let now = sim.now();
        let Ok(entries) = sim.fake.entries() else {
            return HealthMap::new();
        };
        drop(sim);
        let mut map = HealthMap::new();
        for (i, e) in entries.iter().enumerate() {
            for (j, d) in e.dests.iter().enumerate() {
                let pair = (e.service.key, d.key());
                let status = if pair == failing() && is_down(now) {
                    HealthStatus {
                        state: HealthState::Quiesced,
                        last_result: Some("connection refused".to_owned()),
                        latency: None,
                    }
                } else {
                    // A latency that wanders a little, per real server.
                    let wobble = (now.as_secs() + (i * 7 + j * 3) as u64) % 9;
                    HealthStatus {
                        state: HealthState::Up,
                        last_result: Some(result(e.service.key).to_owned()),
                        latency: Some(Duration::from_millis(2 + wobble + (i as u64 % 3) * 4)),
                    }
                };
                map.insert(pair, status);
            }
        }
        map
    }
}

/// What a passing check says, by the kind of service.
fn result(key: crate::ipvs::ServiceKey) -> &'static str {
    match key {
        crate::ipvs::ServiceKey::Addr { port: 53, .. } => "DNS answer",
        crate::ipvs::ServiceKey::Addr { port: 25, .. } => "220 ESMTP",
        crate::ipvs::ServiceKey::Addr { .. } => "HTTP 200",
        crate::ipvs::ServiceKey::Fwmark { .. } => "connected",
    }
}
