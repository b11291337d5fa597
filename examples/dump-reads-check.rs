//! Check (in the VM, as root, with a table loaded) that a full listing is the same whichever
//! way the GET_DEST dumps are read: on the small-read socket (the default), on the main
//! socket with 64 KiB reads, and on a socket whose reads are too short, which truncates
//! replies and must fall back to the main socket without losing or repeating anything.
//!
//!   dump-reads-check

use anyhow::{Context, bail};
use lvsctl::ipvs::Backend;
use lvsctl::ipvs::netlink::NetlinkBackend;

fn main() -> anyhow::Result<()> {
    let mut b = NetlinkBackend::connect().context("connect")?;
    let small = b.entries()?;
    let dests: usize = small.iter().map(|e| e.dests.len()).sum();
    if !b.small_dump_reads() {
        bail!("the small-read socket was dropped on a normal listing");
    }
    b.set_small_dump_reads(false);
    let big = b.entries()?;
    b.set_dump_recv_len(600);
    let truncated = b.entries()?;
    if b.small_dump_reads() {
        bail!("600-byte reads did not truncate (or the fallback kept the socket)");
    }
    for (name, other) in [("64 KiB reads", &big), ("truncated reads", &truncated)] {
        if *other != small {
            bail!("{name} listed something else than small reads");
        }
    }
    println!(
        "same listing three ways: {} services, {dests} real servers",
        small.len()
    );
    Ok(())
}
