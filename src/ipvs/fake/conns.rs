//! The fake's connection table read in slices ([`Backend::open_connections`]), going round
//! forever when the test asked for an endless table.
//!
//! [`Backend::open_connections`]: crate::ipvs::Backend::open_connections

use crate::ipvs::backend::ConnStream;
use crate::ipvs::error::Result;
use crate::ipvs::model::Connection;

/// A copy of the rows taken when the read started, as a read of the kernel's file sees
/// the table of its time.
#[derive(Debug)]
pub(super) struct FakeConns {
    pub rows: Vec<Connection>,
    pub next: usize,
    pub endless: bool,
}

impl ConnStream for FakeConns {
    fn read(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<bool> {
        loop {
            if self.next == self.rows.len() {
                if !self.endless || self.rows.is_empty() {
                    return Ok(false);
                }
                self.next = 0;
            }
            let row = self.rows[self.next].clone();
            self.next += 1;
            if !sink(row) {
                return Ok(self.endless || self.next < self.rows.len());
            }
        }
    }
}
