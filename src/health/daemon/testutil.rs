//! Helpers for this module's tests.

use std::os::unix::net::UnixDatagram;

/// One datagram, retrying reads that a signal interrupted (daemon tests in the same process
/// install tokio's signal handlers, e.g. for SIGCHLD).
pub fn recv(sock: &UnixDatagram, buf: &mut [u8]) -> usize {
    loop {
        match sock.recv(buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("no datagram: {e}"),
        }
    }
}
