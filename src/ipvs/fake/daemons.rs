//! The fake's connection-sync daemons (`ip_vs_genl_new_daemon`, `start_sync_thread`,
//! `stop_sync_thread` in Linux 6.1), in the kernel's check order: interface name policy,
//! multicast group, mixed-family dests, interface lookup (ENODEV), then the role
//! (EEXIST when it already runs, EINVAL when the state is neither master nor backup).

use std::net::{IpAddr, Ipv4Addr};

use super::rules::{self, Errno};
use crate::ipvs::model::{DaemonRole, SyncDaemon};

/// `IP_VS_SYNC_GROUP` and `IP_VS_SYNC_PORT`.
const DEFAULT_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
const DEFAULT_PORT: u16 = 8848;

/// A network interface the fake pretends exists: its name and MTU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeInterface {
    pub name: String,
    pub mtu: u32,
}

impl FakeInterface {
    pub fn new(name: impl Into<String>, mtu: u32) -> Self {
        Self {
            name: name.into(),
            mtu,
        }
    }

    /// `lo` (MTU 65536) and `eth0` (MTU 1500).
    pub fn defaults() -> Vec<Self> {
        vec![Self::new("lo", 65536), Self::new("eth0", 1500)]
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Daemons {
    master: Option<SyncDaemon>,
    backup: Option<SyncDaemon>,
}

impl Daemons {
    pub fn any_running(&self) -> bool {
        self.master.is_some() || self.backup.is_some()
    }

    /// GET_DAEMON dump order: master, then backup.
    pub fn listing(&self) -> Vec<SyncDaemon> {
        self.master.iter().chain(&self.backup).cloned().collect()
    }

    pub fn start(
        &mut self,
        req: &SyncDaemon,
        interfaces: &[FakeInterface],
        mixed_family_dests: bool,
    ) -> Result<(), Errno> {
        if req.mcast_ifn.len() > rules::IFNAME_MAX {
            return Err(libc::EINVAL);
        }
        rules::daemon_group(req.mcast_group.as_ref())?;
        if mixed_family_dests {
            return Err(libc::EINVAL);
        }
        let iface = interfaces
            .iter()
            .find(|i| i.name == req.mcast_ifn)
            .ok_or(libc::ENODEV)?;
        let role = rules::daemon_role(req.state)?;
        let slot = match role {
            DaemonRole::Master => &mut self.master,
            DaemonRole::Backup => &mut self.backup,
        };
        if slot.is_some() {
            return Err(libc::EEXIST);
        }
        *slot = Some(filled(req, role, iface.mtu));
        Ok(())
    }

    /// DEL_DAEMON looks at the role only (the sync id is ignored, as in the kernel).
    pub fn stop(&mut self, role: DaemonRole) -> Result<(), Errno> {
        let slot = match role {
            DaemonRole::Master => &mut self.master,
            DaemonRole::Backup => &mut self.backup,
        };
        slot.take().map(|_| ()).ok_or(libc::ESRCH)
    }
}

/// The daemon as GET_DAEMON reports it: every optional field present, defaults filled.
fn filled(req: &SyncDaemon, role: DaemonRole, if_mtu: u32) -> SyncDaemon {
    let group = req.mcast_group.unwrap_or(IpAddr::V4(DEFAULT_GROUP));
    SyncDaemon {
        state: role.raw(),
        mcast_ifn: req.mcast_ifn.clone(),
        syncid: req.syncid,
        sync_maxlen: Some(rules::daemon_maxlen(
            role,
            group.is_ipv6(),
            if_mtu,
            req.sync_maxlen,
        )),
        mcast_group: Some(group),
        mcast_port: Some(req.mcast_port.filter(|&p| p != 0).unwrap_or(DEFAULT_PORT)),
        mcast_ttl: Some(req.mcast_ttl.filter(|&t| t != 0).unwrap_or(1)),
    }
}
