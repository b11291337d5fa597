//! Bench helper: create many IPVS connections quickly by sending one UDP datagram to a VIP
//! from each of `COUNT` distinct (source address, source port) pairs. IPVS creates a
//! connection entry for every new client address and port, whether or not the real server
//! exists, and keeps it for the UDP timeout.
//!
//!   cargo run --release --example udp-conns -- VIP:PORT COUNT SRC_IP [SRC_IP...]
//!
//! Ports 1024..=65535 of each source address are used in turn, so COUNT may be up to
//! 64,512 per source address. Prints how many datagrams were sent and how many failed.

use std::net::{IpAddr, SocketAddr, UdpSocket};

use anyhow::{Context, bail};

const FIRST_PORT: u16 = 1024;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, count, sources @ ..] = args.as_slice() else {
        bail!("usage: udp-conns VIP:PORT COUNT SRC_IP [SRC_IP...]");
    };
    let target: SocketAddr = target.parse().context("VIP:PORT")?;
    let count: usize = count.parse().context("COUNT")?;
    let sources: Vec<IpAddr> = sources
        .iter()
        .map(|s| s.parse().context("SRC_IP"))
        .collect::<anyhow::Result<_>>()?;
    let per_source = usize::from(u16::MAX - FIRST_PORT) + 1;
    if sources.is_empty() || count > per_source * sources.len() {
        bail!(
            "{count} datagrams need at least {} source addresses",
            count.div_ceil(per_source)
        );
    }
    let (mut sent, mut failed) = (0_usize, 0_usize);
    for i in 0..count {
        let src = sources[i / per_source];
        let port = FIRST_PORT + (i % per_source) as u16;
        let ok = UdpSocket::bind(SocketAddr::new(src, port))
            .and_then(|s| s.send_to(b"x", target))
            .is_ok();
        if ok {
            sent += 1;
        } else {
            failed += 1;
        }
    }
    println!("udp-conns: sent {sent} datagrams to {target}, {failed} failed");
    Ok(())
}
