//! Reaching IPVS the way ipvsadm does (docs/ipvsadm-compat.md, Process life-cycle):
//! resolve the "IPVS" genl family, ask GET_INFO; on any failure run
//! `/sbin/modprobe -- ip_vs` once and, if it succeeds, try again. Failures become
//! `Unavailable` with the errno ipvsadm would print.

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use super::NetlinkBackend;
use super::exchange::errno_of;
use super::sock::Sock;
use crate::ipvs::backend::Backend;
use crate::ipvs::error::{IpvsError, Result};
use crate::ipvs::model::Info;
use crate::ipvs::wire::FAMILY_NAME;
use crate::ipvs::wire::ctrl::{family_id, push_get_family};
use crate::ipvs::wire::frame::{Reply, split};

/// Absolute path, no PATH search, like ipvsadm.
const MODPROBE: &str = "/sbin/modprobe";

pub fn connect() -> Result<NetlinkBackend> {
    match attempt() {
        Ok(b) => Ok(b),
        Err(first) => {
            if load_module() {
                attempt().map_err(|errno| IpvsError::Unavailable { errno })
            } else {
                Err(IpvsError::Unavailable { errno: first })
            }
        }
    }
}

/// One initialisation attempt; the error is the errno ipvsadm would report.
fn attempt() -> std::result::Result<NetlinkBackend, i32> {
    let mut sock = Sock::open().map_err(|e| errno_of(&e))?;
    let family = resolve(&mut sock)?.ok_or_else(missing_family_errno)?;
    let mut backend = NetlinkBackend {
        sock,
        dump_sock: super::DumpSock::Wanted(super::sock::DUMP_RECV_LEN),
        dest_reqs: super::dests::RequestCache::default(),
        family,
        info: Info {
            version: 0,
            conn_tab_size: 0,
        },
        dump_batch: super::dests::MAX_DUMPS_PER_SEND,
        write_chunk: super::WRITE_CHUNK_MESSAGES,
        ack_every: false,
    };
    backend.info().map_err(|e| e.errno())?;
    Ok(backend)
}

/// The family id, `None` when the kernel has no "IPVS" family.
fn resolve(sock: &mut Sock) -> std::result::Result<Option<u16>, i32> {
    let seq = sock.next_seq();
    let mut buf = Vec::new();
    push_get_family(&mut buf, FAMILY_NAME, seq).map_err(|_| libc::EINVAL)?;
    sock.send(&buf, 1).map_err(|e| errno_of(&e))?;
    let mut id = None;
    loop {
        let bytes = sock.recv().map_err(|e| errno_of(&e))?.to_vec();
        for m in split(&bytes).map_err(|_| libc::EINVAL)? {
            if m.seq != seq {
                continue;
            }
            match m.reply().map_err(|_| libc::EINVAL)? {
                Reply::Data(p) => id = Some(family_id(p).map_err(|_| libc::EINVAL)?),
                Reply::Ack | Reply::Done => return Ok(id),
                Reply::Error(libc::ENOENT) => return Ok(None),
                Reply::Error(e) => return Err(e),
                Reply::Ignore => {}
            }
        }
    }
}

/// Without the genl family ipvsadm falls back to a raw socket + getsockopt, which fails
/// with ENOPROTOOPT for root and EPERM (no CAP_NET_RAW) for everybody else.
fn missing_family_errno() -> i32 {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root { libc::ENOPROTOOPT } else { libc::EPERM }
}

/// Run modprobe with our stdout/stderr (its messages are part of ipvsadm's output).
fn load_module() -> bool {
    Command::new(MODPROBE)
        .args(["--", "ip_vs"])
        .status()
        .is_ok_and(|s| s.success())
}
