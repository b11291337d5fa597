//! The health daemon: check tasks, the reconciler and its kernel thread.
//!
//! `tasks` measures (one tokio task per check, hard deadlines); `registry` remembers
//! (health per real, what changed); `plan` decides (pure: desired vs live → ops); `kernel`
//! acts (one thread owning the backend, one batch per cycle); `run` is the event loop that
//! ties them together with signals, reload and the status API.

pub mod kernel;
pub mod log;
pub mod notify;
pub mod plan;
pub mod registry;
mod run;
pub mod tasks;

pub use kernel::BackendFactory;
pub use run::{DaemonError, DaemonOptions, run, run_config_check};
