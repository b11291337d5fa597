//! The check tasks as a supervised set: one task per check, started, replaced and stopped
//! by the event loop, which also learns when one of them panicked.
//!
//! A check task that panics (a bug in a check, met on some server's answer) would otherwise
//! just be gone: its real server never checked again, frozen in its last state with nobody
//! told. Here the panic surfaces in the event loop (tokio reports it when the task is
//! joined), which logs and counts it, records the run as "not checked", and starts the task
//! again; it runs again at its next interval.

use std::any::Any;
use std::collections::HashMap;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{AbortHandle, Id, JoinSet};

use super::registry::{CheckId, Report};

/// A task's key: the real's check and which of the real's own checks (0 for the
/// virtual's).
pub type TaskId = (CheckId, usize);
use super::tasks::{self, CheckJob};

#[derive(Debug, Default)]
pub struct Checks {
    set: JoinSet<()>,
    by_check: HashMap<TaskId, (Id, AbortHandle)>,
    by_task: HashMap<Id, TaskId>,
}

impl Checks {
    pub fn contains(&self, id: &TaskId) -> bool {
        self.by_check.contains_key(id)
    }

    /// Starts the task of `job`, replacing the check's running one.
    pub fn start(&mut self, job: CheckJob, tx: UnboundedSender<Report>) {
        let id = (job.id, job.checker);
        self.stop(&id);
        let handle = self.set.spawn(tasks::run(job, tx));
        self.by_task.insert(handle.id(), id);
        self.by_check.insert(id, (handle.id(), handle));
    }

    pub fn stop(&mut self, id: &TaskId) {
        if let Some((task, handle)) = self.by_check.remove(id) {
            handle.abort();
            self.by_task.remove(&task);
        }
    }

    /// Stops every task whose check `keep` rejects.
    pub fn retain(&mut self, keep: impl Fn(&TaskId) -> bool) {
        let gone: Vec<TaskId> = self
            .by_check
            .keys()
            .filter(|id| !keep(id))
            .copied()
            .collect();
        for id in gone {
            self.stop(&id);
        }
    }

    pub fn stop_all(&mut self) {
        self.set.abort_all();
        self.by_check.clear();
        self.by_task.clear();
    }

    /// The next check whose current task panicked, with the panic's message. Tasks that
    /// were stopped or replaced are forgotten on the way. Waits forever while there are no
    /// tasks; cancel-safe (the set's join is).
    pub async fn panicked(&mut self) -> (TaskId, String) {
        loop {
            let Some(ended) = self.set.join_next_with_id().await else {
                std::future::pending::<()>().await;
                continue;
            };
            let (task, panic) = match ended {
                Ok((task, ())) => (task, None),
                Err(e) => {
                    let task = e.id();
                    (task, e.try_into_panic().ok().map(|p| message(p.as_ref())))
                }
            };
            let Some(check) = self.by_task.remove(&task) else {
                continue;
            };
            if self.by_check.get(&check).is_some_and(|(t, _)| *t == task) {
                self.by_check.remove(&check);
                if let Some(why) = panic {
                    return (check, why);
                }
            }
        }
    }
}

/// The text a panic was raised with (`panic!("…")` gives a `&str` or a `String`).
pub fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
