//! The fake's service table: services with their real servers, and the operations on them in
//! the kernel's check order (`ip_vs_genl_set_cmd` and the functions it calls).
//!
//! Listing order: the kernel walks its address-service hash table and then its fwmark hash
//! table, so address services come before fwmark services, but within each group the order
//! is hash order. The fake keeps insertion order within each group, which is deterministic;
//! tests that compare with a real kernel must compare modulo order. Dests are listed newest
//! first, as the kernel's `list_add` at the head of the service's list does.
//!
//! Deleted dests are dropped at once. The kernel parks a deleted dest that connections still
//! reference in a trash list and revives it (with its counters) if it is re-added; the fake
//! has no connections to keep one alive, so a re-added dest starts from zero.

use super::rules::{self, Errno};
use crate::ipvs::model::{Dest, DestKey, Rates, Service, ServiceKey, Stats};

/// A service and its dests (newest first).
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub service: Service,
    pub dests: Vec<Dest>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Table {
    entries: Vec<Entry>,
}

impl Table {
    pub fn find(&self, key: &ServiceKey) -> Option<&Entry> {
        let key = rules::stored_key(key);
        self.entries.iter().find(|e| e.service.key == key)
    }

    pub fn find_mut(&mut self, key: &ServiceKey) -> Option<&mut Entry> {
        let key = rules::stored_key(key);
        self.entries.iter_mut().find(|e| e.service.key == key)
    }

    /// Services in listing order: address services, then fwmark services.
    pub fn listing(&self) -> impl Iterator<Item = &Entry> {
        let addr = self.entries.iter().filter(|e| !e.service.key.is_fwmark());
        addr.chain(self.entries.iter().filter(|e| e.service.key.is_fwmark()))
    }

    /// Whether any dest has a family other than its service's (the kernel's
    /// `mixed_address_family_dests` counter is non-zero).
    pub fn has_mixed_family_dests(&self) -> bool {
        self.entries.iter().any(|e| {
            let af = e.service.key.af();
            e.dests.iter().any(|d| d.af() != af)
        })
    }

    pub fn add_service(&mut self, svc: &Service) -> Result<(), Errno> {
        rules::service_policy(svc)?;
        if self.find(&svc.key).is_some() {
            return Err(libc::EEXIST);
        }
        rules::service_settings(svc)?;
        let mut stored = rules::stored_service(svc);
        stored.stats = Stats::default();
        stored.rates = Rates::default();
        self.entries.push(Entry {
            service: stored,
            dests: Vec::new(),
        });
        Ok(())
    }

    /// SET_SERVICE: scheduler, flags, timeout, netmask and PE are replaced; counters stay.
    pub fn edit_service(&mut self, svc: &Service) -> Result<(), Errno> {
        rules::service_policy(svc)?;
        let entry = self.find_mut(&svc.key).ok_or(libc::ESRCH)?;
        rules::service_settings(svc)?;
        let stored = rules::stored_service(svc);
        let current = &mut entry.service;
        current.scheduler = stored.scheduler;
        current.flags = stored.flags;
        current.timeout = stored.timeout;
        current.netmask = stored.netmask;
        current.pe_name = stored.pe_name;
        Ok(())
    }

    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), Errno> {
        let key = rules::stored_key(key);
        let index = self
            .entries
            .iter()
            .position(|e| e.service.key == key)
            .ok_or(libc::ESRCH)?;
        self.entries.remove(index);
        Ok(())
    }

    pub fn flush(&mut self) {
        self.entries.clear();
    }

    /// ZERO of one service: its counters and rates and those of its dests.
    pub fn zero_service(&mut self, key: &ServiceKey) -> Result<(), Errno> {
        let entry = self.find_mut(key).ok_or(libc::ESRCH)?;
        zero_entry(entry);
        Ok(())
    }

    pub fn zero_all(&mut self) {
        self.entries.iter_mut().for_each(zero_entry);
    }

    /// The part of `ip_vs_genl_set_cmd` every dest command shares: the service must exist,
    /// and for NEW/SET the family rule applies before anything else.
    fn dest_target(
        &mut self,
        key: &ServiceKey,
        dest: &Dest,
        check_family: bool,
        sync_running: bool,
    ) -> Result<&mut Entry, Errno> {
        let entry = self.find_mut(key).ok_or(libc::ESRCH)?;
        if check_family {
            rules::dest_family(entry.service.key.af(), dest, sync_running)?;
        }
        Ok(entry)
    }

    pub fn add_dest(
        &mut self,
        key: &ServiceKey,
        dest: &Dest,
        sync_running: bool,
    ) -> Result<(), Errno> {
        let entry = self.dest_target(key, dest, true, sync_running)?;
        rules::dest_settings(dest)?;
        if entry.dests.iter().any(|d| d.key() == dest.key()) {
            return Err(libc::EEXIST);
        }
        rules::dest_address(&dest.addr)?;
        let mut stored = rules::stored_dest(dest);
        stored.active_conns = 0;
        stored.inact_conns = 0;
        stored.persist_conns = 0;
        stored.stats = Stats::default();
        stored.rates = Rates::default();
        entry.dests.insert(0, stored);
        Ok(())
    }

    /// SET_DEST: forwarding, weight, thresholds and tunnel are replaced; counters stay.
    pub fn edit_dest(
        &mut self,
        key: &ServiceKey,
        dest: &Dest,
        sync_running: bool,
    ) -> Result<(), Errno> {
        let entry = self.dest_target(key, dest, true, sync_running)?;
        rules::dest_settings(dest)?;
        let current = entry
            .dests
            .iter_mut()
            .find(|d| d.key() == dest.key())
            .ok_or(libc::ENOENT)?;
        let stored = rules::stored_dest(dest);
        current.fwd = stored.fwd;
        current.weight = stored.weight;
        current.u_threshold = stored.u_threshold;
        current.l_threshold = stored.l_threshold;
        current.tunnel = stored.tunnel;
        Ok(())
    }

    pub fn del_dest(&mut self, key: &ServiceKey, dest: &DestKey) -> Result<(), Errno> {
        let entry = self.find_mut(key).ok_or(libc::ESRCH)?;
        let index = entry
            .dests
            .iter()
            .position(|d| d.key() == *dest)
            .ok_or(libc::ENOENT)?;
        entry.dests.remove(index);
        Ok(())
    }

    pub fn dest_mut(&mut self, key: &ServiceKey, dest: &DestKey) -> Option<&mut Dest> {
        self.find_mut(key)?
            .dests
            .iter_mut()
            .find(|d| d.key() == *dest)
    }
}

fn zero_entry(entry: &mut Entry) {
    entry.service.stats = Stats::default();
    entry.service.rates = Rates::default();
    for d in &mut entry.dests {
        d.stats = Stats::default();
        d.rates = Rates::default();
    }
}
