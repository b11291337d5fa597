//! One fake seen from two places: a command, a daemon or a collector thread owns it as
//! `Box<dyn Backend>` while the test keeps inspecting it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::FakeBackend;
use crate::ipvs::backend::{Backend, BackendFactory, Op};
use crate::ipvs::error::Result;
use crate::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceEntry, ServiceKey, SyncDaemon, Timeouts,
};

/// A cloneable handle on one [`FakeBackend`]; every clone is the same kernel.
#[derive(Debug, Clone, Default)]
pub struct SharedFake(Arc<Mutex<FakeBackend>>);

impl SharedFake {
    pub fn new(fake: FakeBackend) -> Self {
        Self(Arc::new(Mutex::new(fake)))
    }

    /// The fake itself. A test that panicked while holding it does not hide it from the
    /// next assertion (the poison is ignored).
    pub fn lock(&self) -> MutexGuard<'_, FakeBackend> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A factory whose every call opens this same fake.
    pub fn factory(&self) -> BackendFactory {
        let fake = self.clone();
        Box::new(move || Ok(Box::new(fake.clone()) as Box<dyn Backend>))
    }
}

impl From<FakeBackend> for SharedFake {
    fn from(fake: FakeBackend) -> Self {
        Self::new(fake)
    }
}

impl From<Arc<Mutex<FakeBackend>>> for SharedFake {
    fn from(fake: Arc<Mutex<FakeBackend>>) -> Self {
        Self(fake)
    }
}

impl Backend for SharedFake {
    fn info(&mut self) -> Result<Info> {
        self.lock().info()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        self.lock().services()
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.lock().service(key)
    }
    fn services_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Option<Service>>> {
        self.lock().services_of(keys)
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.lock().dests(key)
    }
    fn dests_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<Dest>>> {
        self.lock().dests_of(keys)
    }
    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        self.lock().entries()
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        self.lock().timeouts()
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.lock().daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.lock().apply(ops)
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.lock().connections(sink)
    }
    fn open_connections(&mut self) -> Result<Box<dyn crate::ipvs::ConnStream>> {
        self.lock().open_connections()
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.lock().global_stats()
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.lock().sysctls()
    }
}
