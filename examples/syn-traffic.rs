//! Bench helper: keep the counters of some IPVS services moving. Opens a TCP connection
//! to each of `COUNT` consecutive VIPs from `FIRST` on `PORT` in turn, `RATE` a second,
//! and drops it after a millisecond: the SYN goes through IPVS (a connection entry, the
//! service's and the real server's counters) whether or not the real server answers.
//!
//!   syn-traffic FIRST_VIP COUNT PORT RATE
//!
//! Runs until killed. Needs a route to the VIPs (the bench points them at a dummy device).

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [first, count, port, rate] = args.as_slice() else {
        bail!("usage: syn-traffic FIRST_VIP COUNT PORT RATE");
    };
    let first: Ipv4Addr = first.parse().context("FIRST_VIP")?;
    let count: u32 = count.parse().context("COUNT")?;
    let port: u16 = port.parse().context("PORT")?;
    let rate: u32 = rate.parse().context("RATE")?;
    if count == 0 || rate == 0 {
        bail!("COUNT and RATE must be positive");
    }
    let gap = Duration::from_secs(1) / rate;
    let start = Instant::now();
    for n in 0u64.. {
        let vip = Ipv4Addr::from(u32::from(first).wrapping_add((n % u64::from(count)) as u32));
        // A refused or timed-out connect still went through IPVS; only the SYN matters.
        let _ =
            TcpStream::connect_timeout(&SocketAddr::from((vip, port)), Duration::from_millis(1));
        let due = start + gap * u32::try_from(n + 1).unwrap_or(u32::MAX);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    Ok(())
}
