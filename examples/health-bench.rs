//! Bench helper for `bench/health-vs-ldirectord.sh`: the real servers, and the stopwatch
//! that measures how long a health checker takes to take a failed real out of IPVS.
//!
//!   health-bench serve IP FIRST_PORT COUNT
//!       One process listening on COUNT ports (FIRST_PORT..), answering every connection
//!       with `HTTP/1.0 200 OK` and the body `ok`, so the same servers pass `connect` and
//!       `negotiate` (service=http, receive="ok") checks. Prints `ready` once listening,
//!       then every second `accepted N`: the connections so far (the checks that got in).
//!
//!   health-bench detect VIP:PORT SRV_NETNS SAMPLES SEED DEADLINE_S PORT...
//!       Run in the director's namespace. Fails SAMPLES of the given real-server ports one
//!       after another, at random gaps of 0.3-1.3 s (so at random phases of a 1 s check
//!       interval), alternating two failure modes: `refuse` (the server's host answers
//!       SYNs with a reset) and `drop` (SYNs vanish; only a timeout can tell). A failure is
//!       an `add element` into the set `refused` or `dropped` of table `inet hbench` in
//!       SRV_NETNS, sent to one long-running `nft -i`; it counts from the moment the
//!       command was written (nft commits it within milliseconds; how long it took to
//!       answer is printed, as the most by which a latency may be overstated). It is detected when a DEL_DEST request for that real reaches the kernel, as
//!       seen by `tcpdump` on the netlink monitor device `nlmon0` of the director's
//!       namespace (kernel timestamps; the kernel applies the request as it receives it).
//!       Prints one `sample` line per failure and, per mode and overall, n/p50/p99/max
//!       (nearest rank), then checks that the table agrees.
//!
//!       With HB_DELETIONS=FILE the deletions are read from FILE instead (the output of
//!       examples/health-native.rs, the daemon on the in-memory backend, for runs on a
//!       machine without IPVS: bench/health-native.sh).
//!
//!   health-bench wait-gone VIP:PORT PORT TIMEOUT_S
//!       Waits until the real with PORT is no longer in the service; prints the seconds.
//!
//!   health-bench floor connect|http IP FIRST_PORT COUNT
//!       The least a checker can do: every second, one blocking connect (and for `http` one
//!       `GET /health`, reading the answer) to each port in turn, closed with a reset as
//!       lvsctl's checks close theirs, nothing else. Runs until killed. What it costs is
//!       what the kernel charges any checker on this machine.
//!
//! Why a netlink monitor and not polling the table: one GET_DEST dump of 1,000 reals takes
//! ~50 ms under emulation, so polling fast enough for a 100 ms margin would take a core
//! from the daemons being measured (and `ipvsadm -Ln` in a shell loop is far worse).

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use lvsctl::ipvs::backend::Backend;
use lvsctl::ipvs::model::{Protocol, ServiceKey};
use lvsctl::ipvs::netlink::NetlinkBackend;
use lvsctl::ipvs::wire::IpvsCmd;

const POLL: Duration = Duration::from_millis(20);
/// The netlink monitor device the bench creates in the director's namespace.
const NLMON: &str = "nlmon0";
const RESPONSE: &[u8] =
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("detect") => detect(&args[1..]),
        Some("wait-gone") => wait_gone(&args[1..]),
        Some("floor") => floor(&args[1..]),
        Some("pcap-dels") => {
            // Debugging aid: the DEL_DEST ports in a pcap of nlmon0 on stdin.
            let family = NetlinkBackend::connect().context("netlink")?.family_id();
            let (tx, rx) = mpsc::channel();
            let _ = read_pcap(&mut std::io::stdin().lock(), family, &tx);
            drop(tx);
            for (port, at) in rx {
                println!(
                    "{port} {:?}",
                    at.duration_since(UNIX_EPOCH).unwrap_or_default()
                );
            }
            Ok(())
        }
        _ => bail!("usage: health-bench serve|detect|wait-gone|floor ... (see the source)"),
    }
}

fn serve(args: &[String]) -> anyhow::Result<()> {
    let [ip, first, count] = args else {
        bail!("usage: health-bench serve IP FIRST_PORT COUNT");
    };
    let ip: IpAddr = ip.parse().context("IP")?;
    let first: u16 = first.parse().context("FIRST_PORT")?;
    let count: u16 = count.parse().context("COUNT")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    rt.block_on(local.run_until(async move {
        let accepted = Rc::new(Cell::new(0_u64));
        for i in 0..count {
            let addr = SocketAddr::new(ip, first + i);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listen on {addr}"))?;
            tokio::task::spawn_local(accept_loop(listener, accepted.clone()));
        }
        println!("ready");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            println!("accepted {}", accepted.get());
        }
    }))
}

async fn accept_loop(listener: tokio::net::TcpListener, accepted: Rc<Cell<u64>>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                accepted.set(accepted.get() + 1);
                tokio::spawn(answer(stream));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Answers a request; a bare connect check (EOF first) is just closed, as a web server
/// would, so no answer bounces off a closed socket.
async fn answer(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0_u8; 2048];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
    if matches!(read, Ok(Ok(n)) if n > 0) {
        let _ = stream.write_all(RESPONSE).await;
        let _ = stream.shutdown().await;
    }
}

fn service_key(s: &str) -> anyhow::Result<ServiceKey> {
    let addr: SocketAddr = s.parse().context("VIP:PORT")?;
    Ok(ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: addr.ip(),
        port: addr.port(),
    })
}

fn live_ports(backend: &mut NetlinkBackend, key: &ServiceKey) -> anyhow::Result<Vec<u16>> {
    Ok(backend
        .dests(key)
        .context("GET_DEST")?
        .iter()
        .map(|d| d.key().port)
        .collect())
}

fn wait_gone(args: &[String]) -> anyhow::Result<()> {
    let [vip, port, timeout] = args else {
        bail!("usage: health-bench wait-gone VIP:PORT PORT TIMEOUT_S");
    };
    let key = service_key(vip)?;
    let port: u16 = port.parse().context("PORT")?;
    let timeout = Duration::from_secs_f64(timeout.parse().context("TIMEOUT_S")?);
    let mut backend = NetlinkBackend::connect().context("netlink")?;
    let t0 = Instant::now();
    while live_ports(&mut backend, &key)?.contains(&port) {
        if t0.elapsed() > timeout {
            bail!("port {port} still in the table after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("{:.2}", t0.elapsed().as_secs_f64());
    Ok(())
}

/// SO_LINGER with a zero timeout: close() sends a reset (std has no stable setter).
fn reset_on_close(stream: &std::net::TcpStream) {
    let _ = rustix::net::sockopt::set_socket_linger(stream, Some(Duration::ZERO));
}

fn floor(args: &[String]) -> anyhow::Result<()> {
    use std::io::Write;
    let [kind, ip, first, count] = args else {
        bail!("usage: health-bench floor connect|http IP FIRST_PORT COUNT");
    };
    let http = match kind.as_str() {
        "connect" => false,
        "http" => true,
        _ => bail!("floor: connect or http"),
    };
    let ip: IpAddr = ip.parse().context("IP")?;
    let first: u16 = first.parse().context("FIRST_PORT")?;
    let count: u16 = count.parse().context("COUNT")?;
    let request = format!("GET /health HTTP/1.0\r\nHost: {ip}\r\n\r\n");
    let mut answer = Vec::with_capacity(256);
    loop {
        let round = Instant::now() + Duration::from_secs(1);
        for i in 0..count {
            let addr = SocketAddr::new(ip, first + i);
            let Ok(mut stream) =
                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))
            else {
                continue;
            };
            reset_on_close(&stream);
            if http {
                answer.clear();
                let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
                let _ = stream.write_all(request.as_bytes());
                let _ = stream.read_to_end(&mut answer);
            }
        }
        std::thread::sleep(round.saturating_duration_since(Instant::now()));
    }
}

/// xorshift64*: enough randomness for gaps and port order, and repeatable by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        f64::from((self.next() >> 32) as u32) / f64::from(u32::MAX)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Refuse,
    Drop,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Refuse => "refuse",
            Mode::Drop => "drop",
        }
    }

    /// The nft set whose ports fail this way (`drop` is an nft keyword).
    fn set(self) -> &'static str {
        match self {
            Mode::Refuse => "refused",
            Mode::Drop => "dropped",
        }
    }
}

/// One `nft -i` in the servers' namespace, fed a command per failure: no process start
/// (~0.3 s of CPU under emulation) per failure, and an answer once the rule is in force.
struct Nft {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
}

impl Nft {
    fn start(netns: &str) -> anyhow::Result<Self> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", netns, "nft", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("nft -i")?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("nft without pipes");
        };
        Ok(Self {
            child,
            input,
            output: BufReader::new(output),
        })
    }

    /// Adds `port` to `set` and returns once nft has committed it (the `get element` that
    /// follows prints the table, ending with a lone `}`).
    fn add(&mut self, set: &str, port: u16) -> anyhow::Result<()> {
        use std::io::Write;
        writeln!(self.input, "add element inet hbench {set} {{ {port} }}")?;
        writeln!(self.input, "get element inet hbench {set} {{ {port} }}")?;
        self.input.flush()?;
        let mut line = String::new();
        loop {
            line.clear();
            if self.output.read_line(&mut line)? == 0 {
                bail!("nft ended while adding {port} to {set}");
            }
            if line.trim_end() == "}" {
                return Ok(());
            }
        }
    }
}

impl Drop for Nft {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Failed {
    port: u16,
    mode: Mode,
    /// When the command went to nft: a check may fail as soon as nft commits, before its
    /// answer is read, so counting from the answer could miss (or flatter) a detection.
    at: SystemTime,
    /// How long nft took to answer: the most the latencies may overstate.
    ack: Duration,
}

/// IPVS requests seen on the netlink monitor: (real-server port, when) per DEL_DEST.
/// The running capture: stopping it makes tcpdump report what the kernel dropped.
struct Capture {
    pid: u32,
    stderr: BufReader<std::process::ChildStderr>,
}

impl Capture {
    /// Stops tcpdump and returns its "dropped by kernel" line (a dropped request would be
    /// a detection missed).
    fn stop(mut self) -> String {
        if let Some(pid) = rustix::process::Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let mut all = String::new();
        let _ = self.stderr.read_to_string(&mut all);
        all.lines()
            .find(|l| l.contains("dropped by kernel"))
            .unwrap_or("tcpdump: no statistics")
            .to_owned()
    }
}

/// IPVS requests seen on the netlink monitor: (real-server port, when) per DEL_DEST.
fn capture(
    iface: &str,
    family: u16,
    tx: mpsc::Sender<(u16, SystemTime)>,
) -> anyhow::Result<Capture> {
    let mut child = Command::new("tcpdump")
        // Small frames and a big buffer: at the default snapshot length the ring holds
        // only a few frames and a burst of dump replies makes the kernel drop requests.
        // (A batch longer than 4 KiB is cut: more than ~40 deletions in one cycle.)
        .args([
            "-i",
            iface,
            "-U",
            "--immediate-mode",
            "-s",
            "4096",
            "-B",
            "32768",
        ])
        .args(["-w", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("tcpdump")?;
    let (Some(mut out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        bail!("tcpdump without pipes");
    };
    // tcpdump says "listening on ..." once the capture is open.
    let mut stderr = BufReader::new(err);
    let mut line = String::new();
    stderr.read_line(&mut line)?;
    if !line.contains("listening") {
        bail!("tcpdump: {line}");
    }
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = read_pcap(&mut out, family, &tx);
        let _ = child.wait();
    });
    Ok(Capture { pid, stderr })
}

/// `deleted PORT UNIX_SECONDS` lines appended to `path` (health-native's output).
fn follow_deletions(path: std::path::PathBuf, tx: mpsc::Sender<(u16, SystemTime)>) {
    std::thread::spawn(move || -> anyhow::Result<()> {
        let mut input = BufReader::new(std::fs::File::open(&path)?);
        let mut line = String::new();
        loop {
            // read_line appends: a line cut short by EOF is completed by the next reads.
            if input.read_line(&mut line)? == 0 || !line.ends_with('\n') {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let mut words = line.split_whitespace();
            if let (Some("deleted"), Some(port), Some(at)) =
                (words.next(), words.next(), words.next())
                && let (Ok(port), Ok(at)) = (port.parse::<u16>(), at.parse::<f64>())
                && tx
                    .send((port, UNIX_EPOCH + Duration::from_secs_f64(at)))
                    .is_err()
            {
                return Ok(());
            }
            line.clear();
        }
    });
}

fn read_pcap(
    input: &mut impl Read,
    family: u16,
    tx: &mpsc::Sender<(u16, SystemTime)>,
) -> anyhow::Result<()> {
    let mut header = [0_u8; 24];
    input.read_exact(&mut header)?;
    let linktype = u32::from_le_bytes([header[20], header[21], header[22], header[23]]);
    // LINKTYPE_NETLINK (253) carries a 16-byte cooked header before the netlink messages.
    let skip = if linktype == 253 { 16 } else { 0 };
    let mut record = [0_u8; 16];
    let mut data = Vec::new();
    loop {
        input.read_exact(&mut record)?;
        let word =
            |i: usize| u32::from_le_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]]);
        let at = UNIX_EPOCH
            + Duration::from_secs(u64::from(word(0)))
            + Duration::from_micros(u64::from(word(4)));
        data.resize(word(8) as usize, 0);
        input.read_exact(&mut data)?;
        for port in del_dest_ports(data.get(skip..).unwrap_or_default(), family) {
            if tx.send((port, at)).is_err() {
                return Ok(());
            }
        }
    }
}

/// Real-server ports of the IPVS DEL_DEST requests in one captured netlink buffer (a batch
/// may hold several messages).
fn del_dest_ports(mut buf: &[u8], family: u16) -> Vec<u16> {
    const NLM_F_REQUEST: u16 = 1;
    const ATTR_DEST: u16 = 2; // IPVS_CMD_ATTR_DEST
    const DEST_PORT: u16 = 2; // IPVS_DEST_ATTR_PORT
    let del_dest = u8::from(IpvsCmd::DelDest);
    let mut ports = Vec::new();
    while buf.len() >= 20 {
        let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let kind = u16::from_le_bytes([buf[4], buf[5]]);
        let flags = u16::from_le_bytes([buf[6], buf[7]]);
        if len < 20 || len > buf.len() {
            break;
        }
        if kind == family && flags & NLM_F_REQUEST != 0 && buf[16] == del_dest {
            let port = attrs(&buf[20..len])
                .find(|(t, _)| *t == ATTR_DEST)
                .and_then(|(_, nest)| attrs(nest).find(|(t, _)| *t == DEST_PORT))
                .and_then(|(_, v)| v.get(..2))
                .map(|v| u16::from_be_bytes([v[0], v[1]]));
            ports.extend(port);
        }
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    ports
}

/// (type, payload) of the netlink attributes in `buf`.
fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_le_bytes([buf[0], buf[1]]));
        let kind = u16::from_le_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let payload = &buf[4..len];
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some((kind, payload))
    })
}

fn detect(args: &[String]) -> anyhow::Result<()> {
    let [vip, netns, samples, seed, deadline, ports @ ..] = args else {
        bail!("usage: health-bench detect VIP:PORT SRV_NETNS SAMPLES SEED DEADLINE_S PORT...");
    };
    let key = service_key(vip)?;
    let samples: usize = samples.parse().context("SAMPLES")?;
    let mut rng = Rng(seed.parse::<u64>().context("SEED")? | 1);
    let deadline = Duration::from_secs_f64(deadline.parse().context("DEADLINE_S")?);
    let mut ports: Vec<u16> = ports
        .iter()
        .map(|p| p.parse().context("PORT"))
        .collect::<anyhow::Result<_>>()?;
    // Fisher-Yates: the same order for every daemon measured with the same seed.
    for i in (1..ports.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        ports.swap(i, j);
    }
    let gaps: Vec<Duration> = (0..samples)
        .map(|_| Duration::from_secs_f64(0.3 + rng.unit()))
        .collect();
    // HB_DELETIONS: the daemon runs on the in-memory backend (examples/health-native.rs)
    // and its deletions are read from that file; there is no kernel table to look at.
    let native = std::env::var_os("HB_DELETIONS").map(std::path::PathBuf::from);
    let mut backend = match native {
        Some(_) => None,
        None => Some(NetlinkBackend::connect().context("netlink")?),
    };
    if let Some(backend) = backend.as_mut() {
        // Only reals in the table can be taken out (an overloaded checker may have taken
        // some out already).
        let live = live_ports(backend, &key)?;
        let before = ports.len();
        ports.retain(|p| live.contains(p));
        if ports.len() < before {
            println!("skipped {} ports not in the table", before - ports.len());
        }
    }
    if ports.len() < samples {
        bail!("{samples} samples need at least as many reals in the table");
    }
    ports.truncate(samples);
    let (del_tx, del_rx) = mpsc::channel::<(u16, SystemTime)>();
    let mut tcpdump = None;
    if let Some(backend) = backend.as_mut() {
        tcpdump = Some(capture(NLMON, backend.family_id(), del_tx)?);
    } else if let Some(path) = native {
        follow_deletions(path, del_tx);
    }
    let (tx, rx) = mpsc::channel::<Failed>();
    let mut nft = Nft::start(netns)?;
    let injector = std::thread::spawn(move || -> anyhow::Result<()> {
        for (i, (port, gap)) in ports.into_iter().zip(gaps).enumerate() {
            std::thread::sleep(gap);
            let mode = if i % 2 == 0 { Mode::Refuse } else { Mode::Drop };
            let at = SystemTime::now();
            nft.add(mode.set(), port)?;
            let ack = at.elapsed().unwrap_or_default();
            if tx
                .send(Failed {
                    port,
                    mode,
                    at,
                    ack,
                })
                .is_err()
            {
                break;
            }
        }
        Ok(())
    });

    let mut pending: HashMap<u16, Failed> = HashMap::new();
    let mut deleted: HashMap<u16, Vec<SystemTime>> = HashMap::new();
    let mut results: Vec<(Mode, Option<f64>)> = Vec::new();
    let mut injector_done = false;
    let mut acks: Vec<Duration> = Vec::new();
    while !(injector_done && pending.is_empty()) {
        match rx.recv_timeout(POLL) {
            Ok(f) => {
                pending.insert(f.port, f);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => injector_done = true,
        }
        while let Ok((port, at)) = del_rx.try_recv() {
            deleted.entry(port).or_default().push(at);
        }
        let now = SystemTime::now();
        pending.retain(|port, f| {
            let gone = deleted
                .get(port)
                .and_then(|all| all.iter().filter(|at| **at >= f.at).min());
            let late = now.duration_since(f.at).unwrap_or_default() > deadline;
            if gone.is_none() && !late {
                return true;
            }
            let latency = gone.map(|at| at.duration_since(f.at).unwrap_or_default().as_secs_f64());
            match latency {
                Some(s) => println!("sample {port} {} {s:.3}", f.mode.name()),
                None => println!("sample {port} {} missed", f.mode.name()),
            }
            results.push((f.mode, latency));
            acks.push(f.ack);
            false
        });
    }
    injector
        .join()
        .map_err(|_| anyhow::anyhow!("injector panicked"))??;
    if let Some(t) = tcpdump {
        println!("{}", t.stop());
    }
    // The capture saw the requests; the table must agree.
    if let Some(backend) = backend.as_mut() {
        let live = live_ports(backend, &key)?;
        let still: Vec<u16> = deleted
            .keys()
            .filter(|p| live.contains(p))
            .copied()
            .collect();
        if !still.is_empty() {
            println!("warning: DEL_DEST seen but still in the table: {still:?}");
        }
    }
    acks.sort();
    println!(
        "nft answered within {:.1} ms (median), {:.1} ms (max): the latencies include that",
        acks.get(acks.len() / 2)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3),
        acks.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    for (name, filter) in [
        ("refuse", Some(Mode::Refuse)),
        ("drop", Some(Mode::Drop)),
        ("all", None),
    ] {
        let mut got: Vec<f64> = results
            .iter()
            .filter(|(m, _)| filter.is_none_or(|f| f == *m))
            .filter_map(|(_, l)| *l)
            .collect();
        let missed = results
            .iter()
            .filter(|(m, l)| filter.is_none_or(|f| f == *m) && l.is_none())
            .count();
        got.sort_by(f64::total_cmp);
        println!(
            "detect {name} n={} missed={missed} p50={:.3} p99={:.3} max={:.3}",
            got.len(),
            rank(&got, 50),
            rank(&got, 99),
            got.last().copied().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}

/// Nearest-rank percentile (for n < 100, p99 is the maximum).
fn rank(sorted: &[f64], percent: usize) -> f64 {
    let idx = (sorted.len() * percent)
        .div_ceil(100)
        .clamp(1, sorted.len().max(1));
    sorted.get(idx - 1).copied().unwrap_or(f64::NAN)
}
