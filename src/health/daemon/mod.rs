//! The health daemon: check tasks, the reconciler and its kernel thread.
//!
//! `tasks` measures (one tokio task per check, hard deadlines), `checks` supervises those
//! tasks (a panicked one is restarted); `registry` remembers (health per real, what
//! changed); `plan` decides (pure: desired vs live → ops); `kernel` acts (one thread owning
//! the backend, one batch per cycle, started again if it panics; `table` its keepalived
//! whole-table steps); `run` starts the daemon
//! and `event_loop` ties them together with signals and the status API, `reload` swapping
//! in a changed configuration and `shutdown` stopping. `faults` and `rlimit` keep local
//! trouble from reading as a real server's: the classes of checks not made, and the limit
//! on open files. Around it: `log`/`syslog`/`clock` write ldirectord's log lines,
//! `notices` (with `monitor`, `alert`, `mail`) the monitorfile and e-mail alerts, `notify`
//! speaks systemd's protocol.

pub mod alert;
pub mod budget;
pub mod checker_slots;
mod checks;
pub mod clock;
mod event_loop;
pub mod execute;
pub mod faults;
pub mod ka_file;
pub mod ka_mail;
pub mod ka_scripts;
pub mod kernel;
pub mod log;
pub mod mail;
pub mod monitor;
pub mod notices;
pub mod notify;
pub mod plan;
pub mod registry;
mod reload;
pub mod reverse;
pub mod rlimit;
mod run;
mod shutdown;
pub mod syslog;
pub mod table;
pub mod tasks;

pub use log::Console;
pub use notify::Notifier;
pub use run::{ConfigFormat, DaemonError, DaemonOptions, run, run_config_check};

#[cfg(test)]
mod acceptance_tests;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod keepalived_multi_tests;
#[cfg(test)]
mod keepalived_tests;
#[cfg(test)]
mod piranha_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
