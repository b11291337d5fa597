//! `checktype=external`: run `checkcommand` with ldirectord's four arguments (spec §2.1):
//! virtual address (or fwmark number), virtual port (`0` for fwmark), real address, real port
//! as configured. IPv6 addresses are passed in brackets. Exit 0 = up. No shell is involved.
//!
//! On timeout the command's process group gets SIGTERM (ldirectord's contract) and, if it is
//! still there after a short grace period, SIGKILL, so hung scripts cannot pile up.

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::process::{Child, Command};

use super::{BoxFuture, Check, Outcome, Target};
use crate::ipvs::model::ServiceKey;

/// How long a timed-out command gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

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
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) => return Outcome::Down(format!("cannot run {}: {e}", self.command)),
            };
            match tokio::time::timeout(self.timeout, child.wait()).await {
                Ok(Ok(status)) if status.success() => Outcome::Up,
                Ok(Ok(status)) => Outcome::Down(format!("{} exited with {status}", self.command)),
                Ok(Err(e)) => Outcome::Down(format!("waiting for {}: {e}", self.command)),
                Err(_) => {
                    terminate(&mut child).await;
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

/// SIGTERM to the whole process group, then SIGKILL after [`KILL_GRACE`].
async fn terminate(child: &mut Child) {
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    if let Some(pid) = group {
        // The group may already be gone; nothing to do then.
        let _ = kill_process_group(pid, Signal::TERM);
    }
    if tokio::time::timeout(KILL_GRACE, child.wait())
        .await
        .is_err()
    {
        if let Some(pid) = group {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        let _ = child.kill().await;
    }
}
