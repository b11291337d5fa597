//! Bench helper: the real `lvsctl health` daemon (event loop, check tasks, kernel thread)
//! on a machine without IPVS, over the in-memory backend, so its CPU and detection latency
//! can be measured natively (`bench/health-native.sh`) instead of under emulation.
//!
//!   health-native [--keepalived] CONFIG
//!
//! With `--keepalived`, CONFIG is a keepalived.conf run as `lvsctl health --keepalived`
//! runs it (`bench/health-native.sh` with `FORMAT=keepalived`).
//!
//! The in-memory table starts with every configured virtual and real at its configured
//! weight, like a director whose daemon restarts (the VM bench preloads the kernel table the
//! same way).
//!
//! Runs until TERM/INT, logging to stderr like `lvsctl health --foreground`. Every real
//! server the daemon deletes is printed on stdout as `deleted PORT UNIX_SECONDS` the moment
//! the backend acknowledges it (what `health-bench detect` reads when `HB_DELETIONS` names
//! that output). The only difference from the real thing is the backend: no netlink.

use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use lvsctl::health::config::{ConfigLocation, SystemEnv, parse_config};
use lvsctl::health::daemon::{ConfigFormat, DaemonOptions, run};
use lvsctl::health::desired::{desired_dest, desired_service};
use lvsctl::health::keepalived::{
    Options, SystemEnv as KeepalivedSystemEnv, read_file, render_refusals, to_daemon,
};
use lvsctl::ipvs::backend::{Backend, Op};
use lvsctl::ipvs::error::Result;
use lvsctl::ipvs::fake::FakeBackend;
use lvsctl::ipvs::model::{
    Connection, Dest, GlobalStats, Info, Service, ServiceKey, SyncDaemon, Timeouts,
};

/// The fake, printing each acknowledged DEL_DEST.
struct Recorder(FakeBackend);

impl Backend for Recorder {
    fn info(&mut self) -> Result<Info> {
        self.0.info()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        self.0.services()
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.0.service(key)
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.0.dests(key)
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        self.0.timeouts()
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.0.daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        let results = self.0.apply(ops);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let mut out = std::io::stdout().lock();
        for (op, r) in ops.iter().zip(&results) {
            if let (Op::DelDest(_, d), Ok(())) = (op, r) {
                let _ = writeln!(out, "deleted {} {now:.6}", d.port);
            }
        }
        let _ = out.flush();
        results
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.0.connections(sink)
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.0.global_stats()
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.0.sysctls()
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (keepalived, config) = match args.as_slice() {
        [config] => (false, config),
        [flag, config] if flag == "--keepalived" => (true, config),
        _ => bail!("usage: health-native [--keepalived] CONFIG"),
    };
    let path = PathBuf::from(config);
    let name = path
        .file_name()
        .context("CONFIG")?
        .to_string_lossy()
        .into_owned();
    let parsed = if keepalived {
        let outcome = read_file(&path, &KeepalivedSystemEnv::default(), &Options::default());
        let Some(read) = outcome.config else {
            bail!("{config} does not read");
        };
        match to_daemon(&read) {
            Ok(parsed) => parsed,
            Err(refusals) => bail!("{}", render_refusals(&refusals)),
        }
    } else {
        let text = std::fs::read_to_string(&path).context("CONFIG")?;
        let Ok((parsed, _)) = parse_config(config, &text, &SystemEnv::new()) else {
            bail!("{config} does not parse");
        };
        parsed
    };
    let mut preload = Vec::new();
    for v in &parsed.virtuals {
        preload.push(Op::AddService(desired_service(v)));
        for r in &v.reals {
            preload.push(Op::AddDest(v.key, desired_dest(v, r)));
        }
    }
    let mut opts = DaemonOptions::new(ConfigLocation { path, name });
    if keepalived {
        opts.format = ConfigFormat::Keepalived;
    }
    opts.socket =
        Some(std::env::temp_dir().join(format!("health-native.{}.sock", std::process::id())));
    let factory = move || {
        let mut fake = FakeBackend::new();
        if let Some(Err(e)) = fake.apply(&preload).into_iter().find(Result::is_err) {
            return Err(e);
        }
        Ok(Box::new(Recorder(fake)) as Box<dyn Backend>)
    };
    run(&opts, Box::new(factory))?;
    Ok(())
}
