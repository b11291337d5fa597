//! Pipelined GET_DEST dumps for a full listing.
//!
//! The kernel allows one dump in progress per socket; a second dump request arriving while
//! one runs fails with EBUSY. A dump finishes inside the `sendmsg` that started it only when
//! its NLMSG_DONE fits into the first reply skb; otherwise it is continued from our
//! `recvmsg` calls. IPVS dump callbacks return the skb length, so on Linux 6.1 a dump that
//! produced any entry always needs one more round (measured: 1000 services with 2 dests
//! each cost 2 `recvmsg` per service whatever we do); only services without dests finish
//! at once. So we send several GET_DEST requests per `sendmsg`, collect what completes, and
//! re-issue (in order) the ones that were refused with EBUSY. The batch size adapts: it
//! doubles while whole batches come back empty (many services without dests), and drops to
//! what got through as soon as the kernel refuses one, so a table of busy services pays no
//! refused requests at all.

use std::collections::VecDeque;

use super::exchange::{Outcome, exchange_each};
use super::sock::Sock;
use crate::ipvs::error::{IpvsError, OpKind, Result};
use crate::ipvs::model::{Dest, Service, ServiceKey};
use crate::ipvs::wire::{self, Request};

/// Upper bound of GET_DEST requests per `sendmsg`.
pub const MAX_DUMPS_PER_SEND: usize = 64;

/// GET_DEST requests of the last listing, by position: the kernel lists the services in
/// the same order poll after poll, so `lvsctl top` encodes them again only when the table
/// changed.
#[derive(Debug, Default)]
pub struct RequestCache {
    reqs: Vec<(ServiceKey, Request)>,
}

impl RequestCache {
    fn for_services(&mut self, services: &[Service]) -> Result<&[(ServiceKey, Request)]> {
        let same = self.reqs.len() == services.len()
            && self
                .reqs
                .iter()
                .zip(services)
                .all(|((k, _), s)| *k == s.key);
        if !same {
            self.reqs = services
                .iter()
                .map(|s| Ok((s.key, wire::get_dests(&s.key)?)))
                .collect::<Result<_>>()?;
        }
        Ok(&self.reqs)
    }
}

/// The dests of every service, in the order of `services`.
pub fn dump_all(
    sock: &mut Sock,
    family: u16,
    services: &[Service],
    max_batch: usize,
    cache: &mut RequestCache,
) -> Result<Vec<Vec<Dest>>> {
    let reqs = cache.for_services(services)?;
    dump(sock, family, reqs, max_batch)
}

/// The dests of the services `keys`, in that order (a service that does not exist has
/// none): the same pipelining for a few services, e.g. the rows on a screen.
pub fn dump_some(
    sock: &mut Sock,
    family: u16,
    keys: &[ServiceKey],
    max_batch: usize,
) -> Result<Vec<Vec<Dest>>> {
    let reqs = keys
        .iter()
        .map(|k| Ok((*k, wire::get_dests(k)?)))
        .collect::<Result<Vec<_>>>()?;
    dump(sock, family, &reqs, max_batch)
}

/// One GET_DEST dump per request, pipelined, answers in request order.
fn dump(
    sock: &mut Sock,
    family: u16,
    reqs: &[(ServiceKey, Request)],
    max_batch: usize,
) -> Result<Vec<Vec<Dest>>> {
    let mut out: Vec<Vec<Dest>> = vec![Vec::new(); reqs.len()];
    let mut queue: VecDeque<usize> = (0..reqs.len()).collect();
    let max_batch = max_batch.clamp(1, MAX_DUMPS_PER_SEND);
    let mut batch = 1;
    let mut take: Vec<usize> = Vec::with_capacity(max_batch);
    let mut busy = Vec::new();
    while !queue.is_empty() {
        take.clear();
        take.extend(queue.drain(..batch.min(queue.len())));
        let refs: Vec<(&Request, bool)> = take.iter().map(|&i| (&reqs[i].1, true)).collect();
        busy.clear();
        let mut all_empty = true;
        let mut bad = None;
        // Decoded as they arrive, straight from the receive buffer.
        let outcomes = exchange_each(sock, family, &refs, &mut |slot, msg| {
            let Some(&i) = take.get(slot) else { return };
            match wire::decode_dest(msg, reqs[i].0.af()) {
                Ok(d) => out[i].push(d),
                Err(e) => {
                    bad.get_or_insert(e);
                }
            }
        });
        if let Some(e) = bad {
            return Err(e.into());
        }
        for (&i, outcome) in take.iter().zip(outcomes) {
            match outcome {
                Outcome::Ok(_) => all_empty &= out[i].is_empty(),
                Outcome::Errno(libc::EBUSY) => {
                    out[i].clear();
                    busy.push(i);
                }
                Outcome::Errno(errno) => {
                    return Err(IpvsError::Kernel {
                        op: OpKind::GetDests,
                        errno,
                    });
                }
                Outcome::Lost(errno) => {
                    return Err(IpvsError::Socket(std::io::Error::from_raw_os_error(errno)));
                }
            }
        }
        let done = take.len() - busy.len();
        batch = if !busy.is_empty() {
            done.max(1)
        } else if all_empty {
            (batch * 2).min(max_batch)
        } else {
            batch
        };
        for &i in busy.iter().rev() {
            queue.push_front(i);
        }
    }
    Ok(out)
}
