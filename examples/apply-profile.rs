//! Profiling helper: everything `lvsctl apply FILE` does in user space for a cold apply,
//! on the host, without a kernel. The file is loaded, linted and planned against an empty
//! table through the real `rules::run::apply`; the backend encodes every write and frames
//! it into a send buffer exactly as the netlink backend does, but sends nothing.
//!
//!   cargo build --release --example apply-profile
//!   valgrind --tool=callgrind target/release/examples/apply-profile /tmp/rules10k
//!
//! Prints the plan summary, the bytes that would have been sent and the time taken.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context, bail};
use lvsctl::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceEntry, ServiceKey, SyncDaemon, Timeouts,
};
use lvsctl::ipvs::wire::{self, frame};
use lvsctl::ipvs::{Backend, BackendFactory, IpvsError, Op, Result};
use lvsctl::names::NoNames;
use lvsctl::rules::interrupt::Never;
use lvsctl::rules::run::{ApplyOptions, Streams, apply};

/// An empty table whose writes go into a buffer instead of a socket.
#[derive(Debug, Default)]
struct WireOnly {
    sent_bytes: usize,
    messages: usize,
}

impl Backend for WireOnly {
    fn info(&mut self) -> Result<Info> {
        Err(IpvsError::Malformed("not a kernel".into()))
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        Ok(Vec::new())
    }
    fn service(&mut self, _key: &ServiceKey) -> Result<Service> {
        Err(IpvsError::Malformed("not a kernel".into()))
    }
    fn dests(&mut self, _key: &ServiceKey) -> Result<Vec<Dest>> {
        Ok(Vec::new())
    }
    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        Ok(Vec::new())
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        Ok(Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        Ok(Vec::new())
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        let mut buf = Vec::new();
        let mut results = Vec::with_capacity(ops.len());
        for (seq, op) in (1u32..).zip(ops) {
            match wire::encode_op(op) {
                Ok(req) => {
                    frame::push_message(&mut buf, 0x20, req.flags(), seq, 4242, &req.payload);
                    self.messages += 1;
                    results.push(Ok(()));
                }
                Err(e) => results.push(Err(e.into())),
            }
        }
        self.sent_bytes += buf.len();
        results
    }
    fn connections(&mut self, _sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        Ok(())
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        Ok(GlobalStats::default())
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file] = args.as_slice() else {
        bail!("usage: apply-profile RULES_FILE");
    };
    let lock = std::env::temp_dir().join(format!("apply-profile.{}.lock", std::process::id()));
    let opts = ApplyOptions {
        lock_file: lock.clone(),
        ..ApplyOptions::new(PathBuf::from(file))
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stats = Arc::new(Mutex::new((0usize, 0usize)));
    let started = Instant::now();
    let code = {
        let stats = stats.clone();
        let mut open: BackendFactory = Box::new(move || -> Result<Box<dyn Backend>> {
            Ok(Box::new(Counting {
                inner: WireOnly::default(),
                stats: stats.clone(),
            }))
        });
        let mut io = Streams {
            out: &mut out,
            err: &mut err,
        };
        apply(&opts, &NoNames, &mut open, &mut Never, &mut io)
    };
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&lock);
    print!("{}", String::from_utf8_lossy(&out));
    eprint!("{}", String::from_utf8_lossy(&err));
    let (messages, bytes) = *stats.lock().unwrap_or_else(PoisonError::into_inner);
    println!("exit {code}; {messages} messages, {bytes} bytes framed; {elapsed:?}");
    if code != 0 {
        bail!("apply failed");
    }
    Ok::<(), anyhow::Error>(()).context("apply-profile")
}

/// Reports the wire totals back when the backend is dropped.
struct Counting {
    inner: WireOnly,
    stats: Arc<Mutex<(usize, usize)>>,
}

impl Drop for Counting {
    fn drop(&mut self) {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner) =
            (self.inner.messages, self.inner.sent_bytes);
    }
}

impl Backend for Counting {
    fn info(&mut self) -> Result<Info> {
        self.inner.info()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        self.inner.services()
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.inner.service(key)
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.inner.dests(key)
    }
    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        self.inner.entries()
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        self.inner.timeouts()
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.inner.daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.inner.apply(ops)
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.inner.connections(sink)
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.inner.global_stats()
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.inner.sysctls()
    }
}
