//! A handle on a FakeBackend that a command can own as `Box<dyn Backend>` while the test
//! keeps inspecting the fake, counting `apply` calls on the way.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceKey, SyncDaemon, Timeouts,
};
use crate::ipvs::{Backend, Op, Result};

/// Lets a test keep its fake while the command owns a `Box<dyn Backend>`.
#[derive(Clone)]
pub struct Shared {
    pub fake: Rc<RefCell<FakeBackend>>,
    /// `apply` calls made (each one a batch for the netlink backend).
    pub calls: Rc<Cell<usize>>,
}

impl Shared {
    pub fn new(fake: Rc<RefCell<FakeBackend>>) -> Self {
        Self {
            fake,
            calls: Rc::new(Cell::new(0)),
        }
    }
}

impl Backend for Shared {
    fn info(&mut self) -> Result<Info> {
        self.fake.borrow_mut().info()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        self.fake.borrow_mut().services()
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.fake.borrow_mut().service(key)
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.fake.borrow_mut().dests(key)
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        self.fake.borrow_mut().timeouts()
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.fake.borrow_mut().daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.calls.set(self.calls.get() + 1);
        self.fake.borrow_mut().apply(ops)
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.fake.borrow_mut().connections(sink)
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.fake.borrow_mut().global_stats()
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.fake.borrow_mut().sysctls()
    }
}
