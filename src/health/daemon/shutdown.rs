//! The stop: checks end, `execute=` instances are stopped, and `cleanstop` virtuals leave
//! the kernel in one batch (or keepalived's `lvs_flush_onstop` empties the table), then
//! keepalived's `lvs_timeouts` are restored.

use std::time::Duration;

use super::event_loop::Daemon;
use super::execute::InstanceCmd;
use super::table::TableSteps;
use crate::health::config::key_label;
use crate::health::desired::service_keys;
use crate::ipvs::model::ServiceKey;

impl Daemon {
    /// Stops every check, then deletes the owned services with `cleanstop` in one batch;
    /// the others are left exactly as they are (docs/ldirectord-compat.md, Stop).
    pub(super) async fn shutdown(&mut self) {
        self.checks.stop_all();
        let stops = self.config.globals.execute.iter();
        let stopping = self.instances(stops.map(|n| (n.clone(), InstanceCmd::Stop)).collect());
        // The service deletion below removes these reals in the same batch.
        let purged = self
            .registry
            .stop_purges(|id| self.weights.contains_key(id));
        for line in &purged {
            self.log.log(line);
        }
        self.notices.kernel_messages(&purged);
        let remove: Vec<(ServiceKey, String)> = self
            .registry
            .virtuals
            .iter()
            .filter(|vs| vs.v.cleanstop)
            .flat_map(|vs| service_keys(&vs.v))
            .map(|key| (key, key_label(key)))
            .collect();
        let desired = crate::health::daemon::plan::Desired {
            virtuals: Vec::new(),
            remove,
            phase: crate::health::daemon::plan::Phase::Stop,
            readd_quiescent: false,
            table: TableSteps::stop(
                &self.config.globals.keepalived_table,
                !self.config.virtuals.is_empty(),
            ),
        };
        let report = self.kernel.sync(desired).await;
        self.absorb(report);
        // keepalived runs omega's scripts as it takes each real out.
        let scripts = self.registry.stop_scripts();
        super::ka_scripts::run_at_stop(&scripts, &self.log).await;
        if let Some(task) = stopping {
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
    }
}
