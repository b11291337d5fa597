//! A minimal in-memory kernel for the rules tests: the errnos apply cares about (EEXIST,
//! ESRCH, ENOENT for missing dests and unknown schedulers, ERANGE), scripted failures and a
//! write counter.

use crate::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceEntry, ServiceKey, SyncDaemon, Timeouts,
};
use crate::ipvs::{Backend, IpvsError, Op, Result};

#[derive(Default)]
pub struct TestKernel {
    pub table: Vec<ServiceEntry>,
    pub writes: usize,
    pub calls: usize,
    /// Fail (with this errno) the write whose 0-based number this is.
    pub fail_write: Option<(usize, i32)>,
}

fn err(op: &Op, errno: i32) -> IpvsError {
    IpvsError::Kernel {
        op: op.kind(),
        errno,
    }
}

impl TestKernel {
    pub fn with(table: Vec<ServiceEntry>) -> Self {
        Self {
            table,
            ..Self::default()
        }
    }

    fn find(&mut self, key: &ServiceKey) -> Option<&mut ServiceEntry> {
        self.table.iter_mut().find(|e| e.service.key == *key)
    }

    fn one(&mut self, op: &Op) -> Result<()> {
        let number = self.writes;
        self.writes += 1;
        if let Some((n, errno)) = self.fail_write
            && n == number
        {
            return Err(err(op, errno));
        }
        let check_sched = |s: &Service| s.scheduler.is_known();
        match op {
            Op::AddService(s) => {
                if self.find(&s.key).is_some() {
                    return Err(err(op, libc::EEXIST));
                }
                if !check_sched(s) {
                    return Err(err(op, libc::ENOENT));
                }
                self.table.push(ServiceEntry {
                    service: s.clone(),
                    dests: Vec::new(),
                });
            }
            Op::EditService(s) => {
                if !check_sched(s) {
                    return Err(err(op, libc::ENOENT));
                }
                let e = self.find(&s.key).ok_or_else(|| err(op, libc::ESRCH))?;
                let stats = e.service.stats;
                e.service = Service { stats, ..s.clone() };
            }
            Op::DelService(k) => {
                let before = self.table.len();
                self.table.retain(|e| e.service.key != *k);
                if before == self.table.len() {
                    return Err(err(op, libc::ESRCH));
                }
            }
            Op::AddDest(k, d) => {
                let e = self.find(k).ok_or_else(|| err(op, libc::ESRCH))?;
                if e.dests.iter().any(|x| x.key() == d.key()) {
                    return Err(err(op, libc::EEXIST));
                }
                if d.l_threshold > d.u_threshold || d.weight < 0 {
                    return Err(err(op, libc::ERANGE));
                }
                e.dests.insert(0, d.clone());
            }
            Op::EditDest(k, d) => {
                let e = self.find(k).ok_or_else(|| err(op, libc::ESRCH))?;
                let x = e
                    .dests
                    .iter_mut()
                    .find(|x| x.key() == d.key())
                    .ok_or_else(|| err(op, libc::ENOENT))?;
                *x = Dest {
                    active_conns: x.active_conns,
                    stats: x.stats,
                    ..d.clone()
                };
            }
            Op::DelDest(k, dk) => {
                let e = self.find(k).ok_or_else(|| err(op, libc::ESRCH))?;
                let before = e.dests.len();
                e.dests.retain(|x| x.key() != *dk);
                if before == e.dests.len() {
                    return Err(err(op, libc::ENOENT));
                }
            }
            _ => return Err(err(op, libc::EINVAL)),
        }
        Ok(())
    }
}

impl Backend for TestKernel {
    fn info(&mut self) -> Result<Info> {
        Ok(Info {
            version: 0x0001_0201,
            conn_tab_size: 4096,
        })
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        Ok(self.table.iter().map(|e| e.service.clone()).collect())
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.find(key)
            .map(|e| e.service.clone())
            .ok_or(IpvsError::Kernel {
                op: crate::ipvs::OpKind::GetService,
                errno: libc::ESRCH,
            })
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        Ok(self.find(key).map(|e| e.dests.clone()).unwrap_or_default())
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        Ok(Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        Ok(Vec::new())
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.calls += 1;
        ops.iter().map(|op| self.one(op)).collect()
    }
    fn connections(&mut self, _sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        Ok(())
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        Ok(GlobalStats::default())
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
}
