//! `checktype=external`: run `checkcommand` with ldirectord's four arguments
//! (docs/ldirectord-compat.md, Check types): virtual address (or fwmark number), virtual
//! port (`0` for fwmark), real address, real port as configured. IPv6 addresses are passed
//! in brackets. Exit 0 = up. No shell is involved.
//!
//! The command runs as the leader of its own process group, and whatever way the check
//! ends, the whole group is gone afterwards: on timeout the group gets SIGTERM
//! (ldirectord's contract), then SIGKILL after [`KILL_GRACE`]; after any exit the group
//! gets SIGKILL, so a child the script left behind, or one that ignores SIGTERM, cannot
//! outlive the check and pile up with every interval; and if the check itself is
//! abandoned (the daemon's outer deadline, a reload), dropping it kills the group too.
//!
//! Signalling a group by the leader's id is safe even after the leader is reaped: the
//! kernel keeps a process id reserved while any process still uses it as its group id, so
//! as long as a member is left to kill, the id is still this group's. (With no member
//! left the signal finds nobody, unless in the microseconds between the reaping and the
//! signal the kernel's id counter wrapped all the way round to hand that very id to a new
//! group leader.)
//!
//! A command that cannot be started because of this machine (no descriptors, no memory,
//! the process limit) is a local fault; one that does not exist or may not be run is
//! down, as in ldirectord.

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group};
use tokio::process::{Child, Command};

use super::net::{Failure, is_local};
use super::{BoxFuture, Check, Outcome, Target};
use crate::ipvs::model::ServiceKey;

/// How long a timed-out command gets between SIGTERM and SIGKILL. The daemon's outer
/// bound on one run is the check timeout plus one second, so the timeout, this grace and
/// the reaping fit inside it and the check reports its own "timed out" reason.
pub const KILL_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct ExternalCheck {
    pub command: String,
    /// The effective checktimeout.
    pub timeout: Duration,
}

impl ExternalCheck {
    pub fn new(command: &str, timeout: Duration) -> Self {
        Self {
            command: command.to_owned(),
            timeout,
        }
    }
}

/// The four arguments ldirectord passes.
pub fn arguments(target: &Target) -> [String; 4] {
    let (vip, vport) = match target.virtual_key {
        ServiceKey::Addr { addr, port, .. } => (bracketed(addr), port.to_string()),
        ServiceKey::Fwmark { mark, .. } => (mark.to_string(), "0".to_owned()),
    };
    [
        vip,
        vport,
        bracketed(target.real_addr),
        target.real_port.to_string(),
    ]
}

fn bracketed(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// Whether a spawn failed because of the command itself (missing, not executable, not a
/// program) rather than because of this machine.
fn command_unusable(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
        || e.raw_os_error().is_some_and(|n| {
            [
                Errno::ACCESS,
                Errno::NOEXEC,
                Errno::NOTDIR,
                Errno::LOOP,
                Errno::NAMETOOLONG,
                Errno::ISDIR,
                Errno::PERM,
            ]
            .iter()
            .any(|errno| errno.raw_os_error() == n)
        })
}

/// What a failed spawn means: the command is unusable (down) or the machine is short of
/// something (a local fault: descriptors, memory, the process limit's EAGAIN, …).
pub(super) fn spawn_failure(command: &str, e: &std::io::Error) -> Outcome {
    let context = format!("cannot run {command}");
    if command_unusable(e) && !is_local(e) {
        Failure::Down(format!("{context}: {e}")).into_outcome()
    } else {
        Failure::Local(format!("{context}: {e}")).into_outcome()
    }
}

impl Check for ExternalCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let spawned = Command::new(&self.command)
                .args(arguments(target))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(e) => return spawn_failure(&self.command, &e),
            };
            let Some(mut run) = Run::new(child) else {
                return Outcome::LocalFault(format!(
                    "{} started without a process id",
                    self.command
                ));
            };
            match tokio::time::timeout(self.timeout, run.finish()).await {
                Ok(Ok(status)) if status.success() => Outcome::Up,
                Ok(Ok(status)) => Outcome::Down(format!("{} exited with {status}", self.command)),
                Ok(Err(e)) => Outcome::LocalFault(format!("waiting for {}: {e}", self.command)),
                Err(_) => {
                    run.signal(Signal::TERM);
                    if tokio::time::timeout(KILL_GRACE, run.finish())
                        .await
                        .is_err()
                    {
                        run.signal(Signal::KILL);
                        let _ = run.finish().await;
                    }
                    Outcome::Down(format!(
                        "{} timed out after {} ms",
                        self.command,
                        self.timeout.as_millis()
                    ))
                }
            }
        })
    }
}

/// A started command and its process group. Dropping it kills the whole group.
pub(super) struct Run {
    child: Child,
    group: Pid,
    /// Set once the leader is reaped.
    reaped: bool,
}

impl Run {
    pub(super) fn new(child: Child) -> Option<Self> {
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw)?;
        Some(Self {
            child,
            group,
            reaped: false,
        })
    }

    /// Sends `signal` to the whole group (which may be gone already; nothing to do then).
    pub(super) fn signal(&self, signal: Signal) {
        let _ = kill_process_group(self.group, signal);
    }

    /// Waits for the leader to exit and reaps it, then kills what is left of its group.
    pub(super) async fn finish(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = self.child.wait().await;
        self.reaped = status.is_ok();
        self.signal(Signal::KILL);
        status
    }
}

impl Drop for Run {
    /// An abandoned check (the daemon's outer deadline, a reload): tokio's kill_on_drop
    /// would kill and reap only the leader.
    fn drop(&mut self) {
        if !self.reaped {
            self.signal(Signal::KILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spawn that fails for lack of resources is a local fault; one that fails because
    /// the command is missing or not runnable is down.
    #[test]
    fn spawn_failures_are_classified() {
        for errno in [
            Errno::MFILE,
            Errno::NFILE,
            Errno::NOMEM,
            Errno::AGAIN,
            Errno::NOBUFS,
        ] {
            let e = std::io::Error::from_raw_os_error(errno.raw_os_error());
            let outcome = spawn_failure("/bin/chk", &e);
            assert!(
                matches!(&outcome, Outcome::LocalFault(r) if r.starts_with("cannot run /bin/chk: ")),
                "{outcome:?}"
            );
        }
        for errno in [Errno::NOENT, Errno::ACCESS, Errno::NOEXEC, Errno::NOTDIR] {
            let e = std::io::Error::from_raw_os_error(errno.raw_os_error());
            let outcome = spawn_failure("/bin/chk", &e);
            assert!(
                matches!(&outcome, Outcome::Down(r) if r.starts_with("cannot run /bin/chk: ")),
                "{outcome:?}"
            );
        }
    }
}
