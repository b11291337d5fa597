//! Host and port names for what the collector read, looked up once per address (a reverse
//! DNS lookup may take seconds the first time) and handed to the UI only when a new one
//! was learnt: at 40,000 real servers, sending every name with every refresh would copy a
//! large map each second for nothing.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::ipvs::{Protocol, ServiceKey};
use crate::names::Resolver;
use crate::tui::snapshot::{Names, TableRead};

pub(super) struct NameCache {
    enabled: bool,
    hosts: HashMap<IpAddr, Option<String>>,
    ports: HashMap<(u16, &'static str), Option<String>>,
    names: Names,
    /// A name was learnt (or names were switched on) since the UI last got them.
    news: bool,
}

impl NameCache {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            hosts: HashMap::new(),
            ports: HashMap::new(),
            names: Names::default(),
            news: enabled,
        }
    }

    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        self.news |= on;
    }

    /// Look up the names of every service and real server in `read`.
    pub fn learn(&mut self, read: &TableRead, resolver: &dyn Resolver) {
        if !self.enabled {
            return;
        }
        let services = read
            .listing
            .iter()
            .flatten()
            .chain(read.services.iter().filter_map(|(_, s)| s.as_ref()));
        for s in services {
            if let ServiceKey::Addr { addr, port, .. } = s.key {
                self.endpoint(&s.key, addr, port, resolver);
            }
        }
        for (key, dests) in &read.dests {
            for d in dests {
                self.endpoint(key, d.addr, d.port, resolver);
            }
        }
    }

    fn endpoint(&mut self, key: &ServiceKey, addr: IpAddr, port: u16, resolver: &dyn Resolver) {
        let host = self
            .hosts
            .entry(addr)
            .or_insert_with(|| resolver.host_name(addr));
        if let Some(h) = host
            && !self.names.hosts.contains_key(&addr)
        {
            self.names.hosts.insert(addr, h.clone());
            self.news = true;
        }
        let Some(proto) = key.protocol().and_then(Protocol::services_name) else {
            return;
        };
        let name = self
            .ports
            .entry((port, proto))
            .or_insert_with(|| resolver.service_name(port, proto));
        if let Some(n) = name
            && !self.names.ports.contains_key(&(port, proto))
        {
            self.names.ports.insert((port, proto), n.clone());
            self.news = true;
        }
    }

    /// All names known, when something was learnt since the last call.
    pub fn take_news(&mut self) -> Option<Names> {
        std::mem::take(&mut self.news).then(|| self.names.clone())
    }
}
