//! The one netlink socket of a backend: setup, counted send and receive.
//!
//! Socket options matter for batching: the kernel sends acks and errors with
//! MSG_DONTWAIT, so a receive buffer that fills up silently loses them (the socket reports
//! ENOBUFS). We raise SO_RCVBUF (SO_RCVBUFFORCE when privileged, which
//! IPVS requires anyway), raise SO_SNDBUF so one `sendmsg` can carry a whole chunk, set
//! NETLINK_CAP_ACK so error replies do not echo whole requests, and set a receive timeout so
//! a lost reply ends in an error instead of a hang.

use std::io;
use std::os::fd::AsRawFd;

use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;

/// Receive buffer per `recvmsg`: the kernel sizes dump skbs up to ~32 KiB from the largest
/// buffer we have used, so twice that never truncates.
pub const RECV_BUF_LEN: usize = 64 * 1024;
/// Receive length of the socket that runs the per-service GET_DEST dumps: exactly
/// NLMSG_GOODSIZE on x86-64 (a 4 KiB page minus the 320-byte `skb_shared_info`), the
/// smallest skb a dump gets. A socket that ever asked for more gets skbs that large for
/// every later dump (`max_recvmsg_len` only grows), and the kernel clears each one: with
/// 64 KiB reads a 10,000-service listing cleared 20,000 32-KiB skbs, half of its system
/// time in the VM. A kernel whose NLMSG_GOODSIZE is larger may truncate a reply at
/// this length; that is detected (MSG_TRUNC) and the listing falls back to the big buffer.
pub const DUMP_RECV_LEN: usize = 4096 - 320;
/// Kernel-side receive queue we ask for (the kernel doubles it for bookkeeping).
const RCVBUF_BYTES: i32 = 8 * 1024 * 1024;
/// Kernel-side send buffer: one `sendmsg` may carry up to `sk_sndbuf - 32` bytes.
const SNDBUF_BYTES: i32 = 4 * 1024 * 1024;
/// How long to wait for a reply the kernel owes us before giving up.
const RECV_TIMEOUT_SECS: i64 = 30;

/// Syscall counters, for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Netlink messages sent (requests, family resolution included).
    pub messages_sent: u64,
    pub sendmsg_calls: u64,
    pub recvmsg_calls: u64,
}

impl Counters {
    /// Both sockets' counts together.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self {
            messages_sent: self.messages_sent + other.messages_sent,
            sendmsg_calls: self.sendmsg_calls + other.sendmsg_calls,
            recvmsg_calls: self.recvmsg_calls + other.recvmsg_calls,
        }
    }
}

pub struct Sock {
    inner: NlSocket,
    pid: u32,
    seq: u32,
    pub counters: Counters,
    buf: Vec<u8>,
}

impl Sock {
    /// A socket reading with [`RECV_BUF_LEN`].
    pub fn open() -> io::Result<Self> {
        Self::with_recv_len(RECV_BUF_LEN)
    }

    /// A socket whose `recvmsg` calls ask for exactly `recv_len` bytes (see
    /// [`DUMP_RECV_LEN`]); a longer datagram is an EMSGSIZE error, never silently cut.
    pub fn with_recv_len(recv_len: usize) -> io::Result<Self> {
        let inner = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
        let fd = inner.as_raw_fd();
        if sockopt::set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF_BYTES).is_err() {
            // Unprivileged: the kernel caps this at rmem_max; IPVS will refuse us anyway.
            inner.set_recv_buffer_size(RCVBUF_BYTES as usize)?;
        }
        if sockopt::set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, SNDBUF_BYTES).is_err() {
            let _ = sockopt::set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, SNDBUF_BYTES);
        }
        // Older kernels lack CAP_ACK; replies are then only larger, never different.
        let _ = sockopt::set_int(fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, 1);
        sockopt::set_recv_timeout(fd, RECV_TIMEOUT_SECS)?;
        let pid = inner.pid()?;
        Ok(Self {
            inner,
            pid,
            seq: initial_seq(),
            counters: Counters::default(),
            buf: vec![0; recv_len],
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Next sequence number (wrapping; 0 is skipped so it never looks like a kernel event).
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// One `sendmsg` carrying `messages` netlink messages.
    pub fn send(&mut self, buf: &[u8], messages: usize) -> io::Result<()> {
        self.counters.sendmsg_calls += 1;
        self.counters.messages_sent += messages as u64;
        let n = self.inner.send(buf, Msg::empty())?;
        if n == buf.len() {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(libc::EMSGSIZE))
        }
    }

    /// One `recvmsg` (one kernel skb); returns the bytes received. A datagram longer than
    /// the buffer is EMSGSIZE (MSG_TRUNC makes the kernel report its real length).
    pub fn recv(&mut self) -> io::Result<&[u8]> {
        self.counters.recvmsg_calls += 1;
        let (n, _groups) = self.inner.recv(&mut self.buf[..], Msg::TRUNC)?;
        if n > self.buf.len() {
            return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
        }
        Ok(&self.buf[..n])
    }
}

/// A per-process starting point so two backends in one process are easy to tell apart in
/// an strace; any value works since replies are matched by (pid, seq).
fn initial_seq() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() as u32)
}

/// The only unsafe code of the backend: neli exposes no setter for SO_RCVBUFFORCE,
/// SO_SNDBUF(FORCE), NETLINK_CAP_ACK or SO_RCVTIMEO.
///
/// rustix has safe setters for all but NETLINK_CAP_ACK, but they take an `AsFd`, and
/// neli's `NlSocket` (0.7.5) implements only `AsRawFd`: lending its descriptor to rustix
/// needs an unsafe `BorrowedFd::borrow_raw`, and CAP_ACK would still need a raw
/// `setsockopt`. One audited `setsockopt` call is less unsafe code than those two.
#[allow(unsafe_code)]
mod sockopt {
    use std::io;
    use std::os::fd::RawFd;

    fn set<T>(fd: RawFd, level: i32, name: i32, value: &T) -> io::Result<()> {
        // SAFETY: `value` is a live, properly aligned T for the whole call and the length
        // passed is exactly its size; setsockopt only reads that many bytes from it.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                std::ptr::from_ref(value).cast::<libc::c_void>(),
                std::mem::size_of::<T>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    pub fn set_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
        set(fd, level, name, &value)
    }

    pub fn set_recv_timeout(fd: RawFd, secs: i64) -> io::Result<()> {
        let tv = libc::timeval {
            tv_sec: secs,
            tv_usec: 0,
        };
        set(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
    }
}
