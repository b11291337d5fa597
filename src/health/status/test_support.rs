//! Helpers for the status module's tests: a document of any size, an event loop that
//! answers with it, a logger that drops everything.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::accept::Log;
use super::server::Ask;
use super::{FaultCounts, RealState, RealStatus, StatusReport, VirtualStatus};
use crate::ipvs::model::{DestKey, Protocol, ServiceKey};

/// A status document of `reals` reals (about 170 bytes of JSON each).
pub fn report(reals: usize) -> StatusReport {
    let real = |i: usize| RealStatus {
        dest: DestKey {
            addr: std::net::IpAddr::from([10, 1, (i / 250) as u8, (i % 250) as u8]),
            port: 80,
        },
        state: RealState::Up,
        kernel_weight: Some(1),
        configured_weight: 1,
        successes: 1,
        failures: 0,
        last_check_ms: Some(1_700_000_000_000),
        last_duration_ms: Some(1),
        reason: Some("x".repeat(40)),
    };
    StatusReport {
        config: "t".into(),
        pid: 1,
        virtuals: vec![VirtualStatus {
            service: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "10.0.0.1".parse().unwrap(),
                port: 80,
            },
            label: "10.0.0.1:80".into(),
            up: reals,
            fallback_active: false,
            reals: (0..reals).map(real).collect(),
        }],
        faults: FaultCounts::default(),
    }
}

/// Answers every ask with `report`, as the event loop does.
pub fn fake_loop(report: StatusReport) -> Ask {
    let (tx, mut rx) = mpsc::unbounded_channel::<oneshot::Sender<Arc<StatusReport>>>();
    let report = Arc::new(report);
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(Arc::clone(&report));
        }
    });
    tx
}

pub fn quiet() -> Log {
    Arc::new(|_: &str| {})
}
