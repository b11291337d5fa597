//! GET_SERVICE of chosen services, pipelined: what a face reads when it needs a few
//! services' counters and not the whole table.
//!
//! Each request is answered by one message (or ESRCH when the service is gone). Only the
//! last request of a `sendmsg` asks for an ACK: the kernel handles the messages of one
//! `sendmsg` in order, so that ACK settles every earlier request that got no error, and an
//! error is reported against its own request whatever the flags (see `exchange.rs`). A
//! request costs the kernel one hash lookup, against the dump's walk of the whole table.

use super::exchange::{Outcome, exchange_each};
use super::sock::Sock;
use crate::ipvs::error::{IpvsError, OpKind, Result};
use crate::ipvs::model::{Service, ServiceKey};
use crate::ipvs::wire::{self, Request};

/// Most GET_SERVICE requests per `sendmsg`: each answer waits in our receive queue until
/// read, and 256 of them use a small part of the 8 MiB asked for.
const MAX_PER_SEND: usize = 256;

/// The services `keys`, in that order; `None` for one that does not exist.
pub fn get_some(sock: &mut Sock, family: u16, keys: &[ServiceKey]) -> Result<Vec<Option<Service>>> {
    let reqs = keys
        .iter()
        .map(wire::get_service)
        .collect::<std::result::Result<Vec<Request>, _>>()?;
    let mut out: Vec<Option<Service>> = vec![None; keys.len()];
    for (c, chunk) in reqs.chunks(MAX_PER_SEND).enumerate() {
        let base = c * MAX_PER_SEND;
        let last = chunk.len().saturating_sub(1);
        let refs: Vec<(&Request, bool)> = chunk
            .iter()
            .enumerate()
            .map(|(j, r)| (r, j == last))
            .collect();
        let mut bad = None;
        let outcomes =
            exchange_each(
                sock,
                family,
                &refs,
                &mut |slot, msg| match wire::decode_service(msg) {
                    Ok(s) => {
                        if let Some(o) = out.get_mut(base + slot) {
                            *o = Some(s);
                        }
                    }
                    Err(e) => {
                        bad.get_or_insert(e);
                    }
                },
            );
        if let Some(e) = bad {
            return Err(e.into());
        }
        for (j, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Outcome::Ok(_) => {}
                Outcome::Errno(libc::ESRCH) => {
                    if let Some(o) = out.get_mut(base + j) {
                        *o = None;
                    }
                }
                Outcome::Errno(errno) => {
                    return Err(IpvsError::Kernel {
                        op: OpKind::GetService,
                        errno,
                    });
                }
                Outcome::Lost(errno) => {
                    return Err(IpvsError::Socket(std::io::Error::from_raw_os_error(errno)));
                }
            }
        }
    }
    Ok(out)
}
