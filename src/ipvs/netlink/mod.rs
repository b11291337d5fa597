//! The netlink backend: one socket, batched requests, errors mapped back to their request.
//!
//! Writes go out in chunks: many messages per `sendmsg`, an ACK asked for on the last one
//! only (the kernel reports every failure anyway, tagged with its seq), so a chunk of N ops
//! costs one `sendmsg` and 1 + failures `recvmsg` ([`NetlinkBackend::set_ack_every`]
//! restores ipvsadm's ACK-per-message flags at one `recvmsg` per op). Reads are dumps; the
//! per-service dest dumps of a full listing are pipelined (see `dests.rs`).
//!
//! Measured in the 6.1 VM (`tests/kernel_backend.rs`, debug build): 3000 writes in 12
//! `sendmsg` + 12 `recvmsg`; 2000 writes take ~0.3-0.5 s at 64-1024 messages per chunk vs
//! ~0.8 s one per call; a 1000-failure batch loses no error reply; listing 1000 services
//! with 2 dests each costs 1001 `sendmsg` + 2011 `recvmsg` (the kernel's floor: every
//! non-empty dump needs a second `recvmsg` for its DONE), 1000 services without dests 22
//! `sendmsg`.

mod connect;
mod dests;
mod exchange;
mod services;
mod sock;

use std::path::Path;

pub use sock::Counters;

use self::exchange::{Outcome, exchange, exchange_each};
use self::sock::Sock;
use crate::ipvs::backend::{Backend, ConnStream, Op};
use crate::ipvs::error::{IpvsError, OpKind, Result};
use crate::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceEntry, ServiceKey, SyncDaemon, Timeouts,
};
use crate::ipvs::procfs;
use crate::ipvs::wire::{self, Request};

/// Most messages per write `sendmsg`. Bounded because the whole skb runs under the genl
/// lock (stalling other IPVS users) and because every failure needs room in our receive
/// queue; 256 error replies use well under the 8 MiB we ask for.
pub(crate) const WRITE_CHUNK_MESSAGES: usize = 256;
/// Upper bound for [`NetlinkBackend::set_write_chunk`].
const MAX_WRITE_CHUNK_MESSAGES: usize = 1024;
/// Most bytes per write `sendmsg`; below the default 208 KiB send buffer limit as well, in
/// case raising it was refused.
const WRITE_CHUNK_BYTES: usize = 128 * 1024;

/// IPVS through generic netlink.
pub struct NetlinkBackend {
    sock: Sock,
    /// The socket of the GET_DEST dumps of a full listing, reading small skbs (see
    /// [`sock::DUMP_RECV_LEN`]).
    dump_sock: DumpSock,
    /// The GET_DEST requests of the last listing, reused while the table is unchanged.
    dest_reqs: dests::RequestCache,
    family: u16,
    info: Info,
    /// Most GET_DEST dumps per `sendmsg` in [`Backend::entries`].
    dump_batch: usize,
    /// Most messages per write `sendmsg` in [`Backend::apply`].
    write_chunk: usize,
    /// Ask for an ACK on every write (ipvsadm's exact flags) instead of the last of a chunk.
    ack_every: bool,
}

/// The dest-dump socket is opened by the first full listing, not at connect: most commands
/// (every write, a single service, timeouts) never list, and a short-lived process such as
/// `ipvsadm -a` should not pay for a socket it does not use. A socket belongs to the network
/// namespace of the thread that opens it; backends are used on the thread that connected
/// them (see `BackendFactory`), so that is the same namespace.
enum DumpSock {
    /// Not opened yet; reads of this many bytes when it is.
    Wanted(usize),
    Open(Sock),
    /// Could not be opened, truncated a reply, or switched off: listings use the main socket.
    Off,
}

impl DumpSock {
    /// The socket, opened now if it was only wanted; `None` when it is off.
    fn get(&mut self) -> Option<&mut Sock> {
        if let DumpSock::Wanted(len) = *self {
            *self = Sock::with_recv_len(len).map_or(DumpSock::Off, DumpSock::Open);
        }
        match self {
            DumpSock::Open(sock) => Some(sock),
            DumpSock::Wanted(_) | DumpSock::Off => None,
        }
    }
}

impl std::fmt::Debug for NetlinkBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetlinkBackend")
            .field("family", &self.family)
            .field("counters", &self.sock.counters)
            .finish_non_exhaustive()
    }
}

impl NetlinkBackend {
    /// Open the socket, resolve "IPVS" (loading ip_vs with modprobe once if needed, as
    /// ipvsadm does) and ask GET_INFO. Errors are `Unavailable` with ipvsadm's errno.
    pub fn connect() -> Result<Self> {
        connect::connect()
    }

    /// The GET_INFO answer obtained while connecting.
    pub fn cached_info(&self) -> Info {
        self.info
    }

    /// The dynamic family id the kernel gave "IPVS".
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Bound the GET_DEST dumps sent per `sendmsg` by `entries()` (1 disables pipelining;
    /// capped at 64). For benchmarks and tests.
    pub fn set_dump_batch(&mut self, max: usize) {
        self.dump_batch = max;
    }

    /// Run the dest dumps of a full listing on their own small-read socket (the default) or
    /// on the main socket with 64 KiB reads. For benchmarks and tests.
    pub fn set_small_dump_reads(&mut self, on: bool) {
        if !on {
            self.dump_sock = DumpSock::Off;
        } else if matches!(self.dump_sock, DumpSock::Off) {
            self.dump_sock = DumpSock::Wanted(sock::DUMP_RECV_LEN);
        }
    }

    /// Run the dest dumps on a fresh socket reading `len` bytes per `recvmsg`. A length
    /// below the kernel's skb size truncates replies, which a listing detects and answers by
    /// falling back to the main socket for good. For benchmarks and tests.
    pub fn set_dump_recv_len(&mut self, len: usize) {
        self.dump_sock = DumpSock::Wanted(len.max(wire::frame::NLMSG_HDRLEN));
    }

    /// Whether listings use a small-read dump socket (it is dropped after a truncated
    /// reply, or when it cannot be opened).
    pub fn small_dump_reads(&self) -> bool {
        !matches!(self.dump_sock, DumpSock::Off)
    }

    /// Bound the messages per write `sendmsg` (default 256, capped at 1024). For
    /// benchmarks and tests.
    pub fn set_write_chunk(&mut self, max: usize) {
        self.write_chunk = max.clamp(1, MAX_WRITE_CHUNK_MESSAGES);
    }

    /// Ask the kernel for an ACK on every write message, keeping even the flags of each
    /// message identical to ipvsadm's, at the cost of one `recvmsg` per op (default: off,
    /// only the last message of a chunk asks; failures are reported either way).
    pub fn set_ack_every(&mut self, on: bool) {
        self.ack_every = on;
    }

    /// Syscall and message counters since the sockets were opened.
    pub fn counters(&self) -> Counters {
        let dumps = match &self.dump_sock {
            DumpSock::Open(s) => s.counters,
            DumpSock::Wanted(_) | DumpSock::Off => Counters::default(),
        };
        self.sock.counters.plus(dumps)
    }

    /// One request that must succeed; returns its data messages.
    fn query(&mut self, req: Result<Request, wire::WireError>, op: OpKind) -> Result<Vec<Vec<u8>>> {
        let req = req?;
        match exchange(&mut self.sock, self.family, &[(&req, true)]).pop() {
            Some(Outcome::Ok(data)) => Ok(data),
            Some(Outcome::Errno(errno)) => Err(IpvsError::Kernel { op, errno }),
            Some(Outcome::Lost(errno)) => Err(lost(errno)),
            None => Err(lost(libc::EIO)),
        }
    }
}

fn lost(errno: i32) -> IpvsError {
    IpvsError::Socket(std::io::Error::from_raw_os_error(errno))
}

impl Backend for NetlinkBackend {
    fn info(&mut self) -> Result<Info> {
        let data = self.query(wire::get_info(), OpKind::GetInfo)?;
        let first = data
            .first()
            .ok_or_else(|| IpvsError::Malformed("no GET_INFO reply".into()))?;
        let info = wire::decode_info(first)?;
        self.info = info;
        Ok(info)
    }

    fn opening_info(&mut self) -> Result<Info> {
        Ok(self.info)
    }

    fn services(&mut self) -> Result<Vec<Service>> {
        // Decoded straight from the receive buffer: 10,000 services need no copies first.
        let req = wire::get_services()?;
        let mut out = Vec::new();
        let mut bad = None;
        let outcome = exchange_each(&mut self.sock, self.family, &[(&req, true)], &mut |_, m| {
            match wire::decode_service(m) {
                Ok(s) => out.push(s),
                Err(e) => {
                    bad.get_or_insert(e);
                }
            }
        })
        .pop();
        match outcome {
            Some(Outcome::Ok(_)) => match bad {
                Some(e) => Err(e.into()),
                None => Ok(out),
            },
            Some(Outcome::Errno(errno)) => Err(IpvsError::Kernel {
                op: OpKind::GetServices,
                errno,
            }),
            Some(Outcome::Lost(errno)) => Err(lost(errno)),
            None => Err(lost(libc::EIO)),
        }
    }

    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let data = self.query(wire::get_service(key), OpKind::GetService)?;
        let first = data
            .first()
            .ok_or_else(|| IpvsError::Malformed("no GET_SERVICE reply".into()))?;
        Ok(wire::decode_service(first)?)
    }

    fn services_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Option<Service>>> {
        services::get_some(&mut self.sock, self.family, keys)
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        let data = self.query(wire::get_dests(key), OpKind::GetDests)?;
        data.iter()
            .map(|m| wire::decode_dest(m, key.af()).map_err(IpvsError::from))
            .collect()
    }

    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        let services = self.services()?;
        let (family, batch, cache) = (self.family, self.dump_batch, &mut self.dest_reqs);
        let dests = match self.dump_sock.get() {
            Some(small) => match dests::dump_all(small, family, &services, batch, cache) {
                // A reply too long for the small reads (or a broken socket): drop that
                // socket for good, with whatever dump it had in flight, and use the main one.
                Err(IpvsError::Socket(_)) => {
                    self.dump_sock = DumpSock::Off;
                    dests::dump_all(&mut self.sock, family, &services, batch, cache)?
                }
                other => other?,
            },
            None => dests::dump_all(&mut self.sock, family, &services, batch, cache)?,
        };
        Ok(services
            .into_iter()
            .zip(dests)
            .map(|(service, dests)| ServiceEntry { service, dests })
            .collect())
    }

    fn dests_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<Dest>>> {
        let (family, batch) = (self.family, self.dump_batch);
        match self.dump_sock.get() {
            Some(small) => match dests::dump_some(small, family, keys, batch) {
                // As in `entries`: a reply too long for the small reads.
                Err(IpvsError::Socket(_)) => {
                    self.dump_sock = DumpSock::Off;
                    dests::dump_some(&mut self.sock, family, keys, batch)
                }
                other => other,
            },
            None => dests::dump_some(&mut self.sock, family, keys, batch),
        }
    }

    fn timeouts(&mut self) -> Result<Timeouts> {
        let data = self.query(wire::get_timeouts(), OpKind::GetTimeouts)?;
        let first = data
            .first()
            .ok_or_else(|| IpvsError::Malformed("no GET_CONFIG reply".into()))?;
        Ok(wire::decode_timeouts(first)?)
    }

    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        let data = self.query(wire::get_daemons(), OpKind::GetDaemons)?;
        data.iter()
            .map(|m| wire::decode_daemon(m).map_err(IpvsError::from))
            .collect()
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        let mut results: Vec<Option<Result<()>>> = ops.iter().map(|_| None).collect();
        let mut encoded = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            match wire::encode_op(op) {
                Ok(req) => encoded.push((i, req)),
                Err(e) => results[i] = Some(Err(e.into())),
            }
        }
        for chunk in chunks(&encoded, self.write_chunk) {
            let last = chunk.len().saturating_sub(1);
            let reqs: Vec<(&Request, bool)> = chunk
                .iter()
                .enumerate()
                .map(|(j, (_, req))| (req, j == last || self.ack_every))
                .collect();
            let outcomes = exchange(&mut self.sock, self.family, &reqs);
            for ((i, _), outcome) in chunk.iter().zip(outcomes) {
                results[*i] = Some(match outcome {
                    Outcome::Ok(_) => Ok(()),
                    Outcome::Errno(errno) => Err(IpvsError::Kernel {
                        op: ops[*i].kind(),
                        errno,
                    }),
                    Outcome::Lost(errno) => Err(lost(errno)),
                });
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(lost(libc::EIO))))
            .collect()
    }

    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        procfs::for_each_connection(Path::new(procfs::THREAD_CONN_PATH), sink)
    }

    fn open_connections(&mut self) -> Result<Box<dyn ConnStream>> {
        let file = procfs::ConnFile::open(Path::new(procfs::THREAD_CONN_PATH))?;
        Ok(Box::new(file))
    }

    fn global_stats(&mut self) -> Result<GlobalStats> {
        procfs::read_global_stats(Path::new(procfs::THREAD_STATS_PATH))
    }

    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        procfs::read_sysctls(Path::new(procfs::SYSCTL_DIR))
    }
}

/// The backend is meant to live on a dedicated "IPVS actor" thread.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<NetlinkBackend>();
};

/// Split encoded requests into write chunks bounded by message count and bytes.
fn chunks(reqs: &[(usize, Request)], max_messages: usize) -> Vec<&[(usize, Request)]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, req)) in reqs.iter().enumerate() {
        let len = wire::frame::align(wire::frame::NLMSG_HDRLEN + req.payload.len());
        if i > start && (i - start >= max_messages || bytes + len > WRITE_CHUNK_BYTES) {
            out.push(&reqs[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += len;
    }
    if start < reqs.len() {
        out.push(&reqs[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::model::{AddressFamily, ServiceKey};

    fn zero(i: usize) -> (usize, Request) {
        let key = ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: i as u32,
        };
        (i, wire::encode_op(&Op::Zero(Some(key))).unwrap())
    }

    #[test]
    fn chunks_respect_message_and_byte_bounds() {
        let reqs: Vec<_> = (0..1000).map(zero).collect();
        let sizes: Vec<usize> = chunks(&reqs, 256).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [256, 256, 256, 232]);
        let msg_len = wire::frame::align(wire::frame::NLMSG_HDRLEN + reqs[0].1.payload.len());
        let by_bytes = chunks(&reqs, 1024);
        assert!(
            by_bytes
                .iter()
                .all(|c| c.len() * msg_len <= WRITE_CHUNK_BYTES)
        );
        assert_eq!(by_bytes.iter().map(|c| c.len()).sum::<usize>(), 1000);
        assert!(chunks(&[], 256).is_empty());
        assert_eq!(chunks(&reqs[..1], 1).len(), 1);
    }
}
