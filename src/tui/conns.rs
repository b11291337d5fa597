//! The Connections view's query: which rows of `/proc/net/ip_vs_conn` to keep, and the
//! counting done while streaming them.
//!
//! The table can hold a million entries and the kernel may need seconds to list them, so
//! the collector streams rows through [`Accumulator`]: every row is counted (by state and by
//! real server), only the first `cap` matching rows are kept, and partial results are sent
//! while the read is in flight. Nothing here does I/O.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::time::Duration;

use crate::ipvs::{Connection, DestKey, ServiceKey};
use crate::tui::snapshot::ConnSnapshot;

/// Rows kept per read: enough to scroll through, small enough to sort per keystroke.
pub const DEFAULT_CAP: usize = 10_000;

/// Which connections belong to the scope the Services view selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnScope {
    All,
    /// A service: by (protocol, VIP, port), or for fwmark services by their real servers
    /// (a fwmark connection's virtual address is the packet's, not the service's).
    Service {
        key: ServiceKey,
        dests: Vec<DestKey>,
    },
    /// One real server of one service.
    Dest {
        key: ServiceKey,
        dest: DestKey,
    },
}

/// What the Connections view asks the collector for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnQuery {
    pub generation: u64,
    pub scope: ConnScope,
    /// Whitespace-separated terms, all of which must match. `state:`, `client:`, `rs:`,
    /// `vip:` and `proto:` restrict a term to one column; bare terms match any column.
    pub filter: String,
    pub cap: usize,
}

fn endpoint(addr: IpAddr, port: u16) -> String {
    DestKey { addr, port }.to_string()
}

fn in_service(c: &Connection, key: &ServiceKey, dests: &[DestKey]) -> bool {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            c.protocol.eq_ignore_ascii_case(protocol.listing_name())
                && c.virtual_addr == *addr
                && c.virtual_port == *port
        }
        ServiceKey::Fwmark { .. } => dests.contains(&dest_of(c)),
    }
}

fn dest_of(c: &Connection) -> DestKey {
    DestKey {
        addr: c.dest_addr,
        port: c.dest_port,
    }
}

fn term_matches(c: &Connection, term: &str) -> bool {
    let has = |text: &str| text.to_lowercase().contains(term);
    let (column, value) = term.split_once(':').unwrap_or(("", term));
    let col = |text: &str| text.to_lowercase().contains(value);
    match column {
        "state" => col(&c.state),
        "client" => col(&endpoint(c.client_addr, c.client_port)),
        "rs" => col(&endpoint(c.dest_addr, c.dest_port)),
        "vip" => col(&endpoint(c.virtual_addr, c.virtual_port)),
        "proto" => col(&c.protocol),
        _ => {
            has(&c.protocol)
                || has(&c.state)
                || has(&endpoint(c.client_addr, c.client_port))
                || has(&endpoint(c.virtual_addr, c.virtual_port))
                || has(&endpoint(c.dest_addr, c.dest_port))
        }
    }
}

impl ConnQuery {
    pub fn in_scope(&self, c: &Connection) -> bool {
        match &self.scope {
            ConnScope::All => true,
            ConnScope::Service { key, dests } => in_service(c, key, dests),
            ConnScope::Dest { key, dest } => {
                dest_of(c) == *dest && (key.is_fwmark() || in_service(c, key, &[]))
            }
        }
    }

    pub fn matches(&self, c: &Connection) -> bool {
        let filter = self.filter.to_lowercase();
        self.in_scope(c) && filter.split_whitespace().all(|t| term_matches(c, t))
    }
}

/// Streams rows into a [`ConnSnapshot`]. Counts cover every row in scope (so the per-state
/// and per-server numbers stay right when the filter narrows the table), rows only the
/// matching ones up to the cap.
#[derive(Debug)]
pub struct Accumulator {
    query: ConnQuery,
    filter: String,
    out: ConnSnapshot,
    /// Rows kept so far, including those already handed out by [`Accumulator::partial`].
    kept: usize,
    /// A partial result has been handed out: later ones carry only new rows.
    streamed: bool,
}

impl Accumulator {
    pub fn new(query: ConnQuery) -> Self {
        Self::with_progress(query, None, Duration::ZERO)
    }

    /// An accumulator whose answers carry the progress of the read: the rows of the last
    /// complete read (`total`) and when this one started.
    pub fn with_progress(query: ConnQuery, total: Option<u64>, started: Duration) -> Self {
        let filter = query.filter.to_lowercase();
        let out = ConnSnapshot {
            generation: query.generation,
            total,
            started,
            ..ConnSnapshot::default()
        };
        Self {
            query,
            filter,
            out,
            kept: 0,
            streamed: false,
        }
    }

    pub fn push(&mut self, c: Connection) {
        self.out.seen += 1;
        if !self.query.in_scope(&c) {
            return;
        }
        // Look up before inserting: a million rows share a dozen states, so no clone.
        match self.out.by_state.get_mut(&c.state) {
            Some(n) => *n += 1,
            None => {
                self.out.by_state.insert(c.state.clone(), 1);
            }
        }
        *self.out.by_dest.entry(dest_of(&c)).or_default() += 1;
        if self.filter.split_whitespace().all(|t| term_matches(&c, t)) {
            self.out.matched += 1;
            if self.kept < self.query.cap {
                self.kept += 1;
                self.out.rows.push(c);
            }
        }
    }

    /// The result so far, to show while the read continues: the counts, and the rows kept
    /// since the previous partial result (moved out, not copied).
    pub fn partial(&mut self) -> ConnSnapshot {
        let rows = std::mem::take(&mut self.out.rows);
        let append = std::mem::replace(&mut self.streamed, true);
        ConnSnapshot {
            generation: self.out.generation,
            rows,
            seen: self.out.seen,
            matched: self.out.matched,
            by_state: self.out.by_state.clone(),
            by_dest: self.out.by_dest.clone(),
            complete: false,
            append,
            total: self.out.total,
            started: self.out.started,
        }
    }

    /// Rows read so far.
    pub fn seen(&self) -> u64 {
        self.out.seen
    }

    /// The final result; after partial results, its rows are only the ones not sent yet.
    pub fn finish(mut self) -> ConnSnapshot {
        self.out.complete = true;
        self.out.append = self.streamed;
        self.out
    }
}

/// Columns of the Connections table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnSort {
    /// Proc-file (hash) order, what `ipvsadm -lcn` prints.
    Kernel,
    Protocol,
    Expire,
    State,
    Client,
    Virtual,
    Dest,
}

impl ConnSort {
    pub const ALL: [Self; 7] = [
        Self::Kernel,
        Self::Protocol,
        Self::Expire,
        Self::State,
        Self::Client,
        Self::Virtual,
        Self::Dest,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Kernel => "kernel order",
            Self::Protocol => "proto",
            Self::Expire => "expire",
            Self::State => "state",
            Self::Client => "client",
            Self::Virtual => "virtual",
            Self::Dest => "real server",
        }
    }
}

fn cmp_conn(a: &Connection, b: &Connection, sort: ConnSort) -> Ordering {
    match sort {
        ConnSort::Kernel => Ordering::Equal,
        ConnSort::Protocol => a.protocol.cmp(&b.protocol),
        ConnSort::Expire => a.expires.cmp(&b.expires),
        ConnSort::State => a.state.cmp(&b.state),
        ConnSort::Client => (a.client_addr, a.client_port).cmp(&(b.client_addr, b.client_port)),
        ConnSort::Virtual => {
            (a.virtual_addr, a.virtual_port).cmp(&(b.virtual_addr, b.virtual_port))
        }
        ConnSort::Dest => (a.dest_addr, a.dest_port).cmp(&(b.dest_addr, b.dest_port)),
    }
}

/// Display order of `rows` (indices), stable so equal keys keep kernel order.
pub fn order(rows: &[Connection], sort: ConnSort, descending: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| {
        let o = cmp_conn(&rows[a], &rows[b], sort);
        if descending { o.reverse() } else { o }
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Protocol;

    pub(crate) fn conn(client: &str, vip: &str, rs: &str, state: &str, expires: u32) -> Connection {
        let (ca, cp) = client.split_once(':').unwrap();
        let (va, vp) = vip.split_once(':').unwrap();
        let (da, dp) = rs.split_once(':').unwrap();
        Connection {
            protocol: "TCP".to_owned(),
            client_addr: ca.parse().unwrap(),
            client_port: cp.parse().unwrap(),
            virtual_addr: va.parse().unwrap(),
            virtual_port: vp.parse().unwrap(),
            dest_addr: da.parse().unwrap(),
            dest_port: dp.parse().unwrap(),
            state: state.to_owned(),
            expires,
            pe_name: None,
            pe_data: None,
        }
    }

    fn web() -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
        }
    }

    fn query(scope: ConnScope, filter: &str, cap: usize) -> ConnQuery {
        ConnQuery {
            generation: 3,
            scope,
            filter: filter.to_owned(),
            cap,
        }
    }

    fn rows() -> Vec<Connection> {
        vec![
            conn(
                "192.168.1.5:40000",
                "10.0.0.1:80",
                "10.0.1.1:80",
                "ESTABLISHED",
                800,
            ),
            conn(
                "192.168.1.6:40001",
                "10.0.0.1:80",
                "10.0.1.2:80",
                "TIME_WAIT",
                60,
            ),
            conn(
                "192.168.1.7:40002",
                "10.0.0.1:443",
                "10.0.1.1:443",
                "ESTABLISHED",
                500,
            ),
            conn(
                "192.168.1.5:40003",
                "10.0.0.1:80",
                "10.0.1.1:80",
                "FIN_WAIT",
                30,
            ),
        ]
    }

    #[test]
    fn scope_counts_everything_and_filter_narrows_rows_up_to_the_cap() {
        let scope = ConnScope::Service {
            key: web(),
            dests: vec![],
        };
        let mut acc = Accumulator::new(query(scope, "client:192.168.1.5", 1));
        for c in rows() {
            acc.push(c);
        }
        let out = acc.finish();
        assert!(out.complete);
        assert_eq!(out.generation, 3);
        assert_eq!((out.seen, out.matched, out.rows.len()), (4, 2, 1));
        assert_eq!(out.by_state.get("ESTABLISHED"), Some(&1));
        assert_eq!(out.by_state.get("TIME_WAIT"), Some(&1));
        let rs1: DestKey = DestKey {
            addr: "10.0.1.1".parse().unwrap(),
            port: 80,
        };
        assert_eq!(out.by_dest.get(&rs1), Some(&2));
    }

    #[test]
    fn partial_results_hand_out_each_row_once() {
        let mut acc = Accumulator::new(query(ConnScope::All, "", 3));
        let mut rows = rows().into_iter();
        acc.push(rows.next().unwrap());
        let first = acc.partial();
        assert_eq!((first.rows.len(), first.seen, first.append), (1, 1, false));
        assert!(!first.complete);
        acc.push(rows.next().unwrap());
        let second = acc.partial();
        assert_eq!(
            (second.rows.len(), second.seen, second.append),
            (1, 2, true)
        );
        rows.for_each(|c| acc.push(c));
        let last = acc.finish();
        // The cap counts the rows already handed out.
        assert_eq!((last.rows.len(), last.seen, last.matched), (1, 4, 4));
        assert!(last.complete && last.append);
        assert_eq!(last.by_state.get("ESTABLISHED"), Some(&2));
    }

    #[test]
    fn fwmark_services_match_by_real_server_and_dest_scope_by_both() {
        let rs2 = DestKey {
            addr: "10.0.1.2".parse().unwrap(),
            port: 80,
        };
        let fwm = ServiceKey::Fwmark {
            af: crate::ipvs::AddressFamily::Inet,
            mark: 7,
        };
        let q = query(
            ConnScope::Service {
                key: fwm,
                dests: vec![rs2],
            },
            "",
            10,
        );
        assert_eq!(rows().iter().filter(|c| q.matches(c)).count(), 1);
        let q = query(
            ConnScope::Dest {
                key: web(),
                dest: rs2,
            },
            "",
            10,
        );
        assert_eq!(rows().iter().filter(|c| q.matches(c)).count(), 1);
        let q = query(ConnScope::All, "established 443", 10);
        assert_eq!(rows().iter().filter(|c| q.matches(c)).count(), 1);
    }

    #[test]
    fn order_sorts_stably_in_both_directions() {
        let r = rows();
        assert_eq!(order(&r, ConnSort::Expire, false), vec![3, 1, 2, 0]);
        assert_eq!(order(&r, ConnSort::Expire, true), vec![0, 2, 1, 3]);
        assert_eq!(order(&r, ConnSort::State, false), vec![0, 2, 3, 1]);
        assert_eq!(order(&r, ConnSort::Kernel, false), vec![0, 1, 2, 3]);
    }
}
