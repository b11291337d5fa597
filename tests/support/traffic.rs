//! A tiny NAT test bed for kernel tests that need real traffic: real servers in their own
//! network namespaces behind the test's netns (the director), a client loop towards a VIP,
//! and `lvsctl top` driven in tmux. Everything started here is stopped by PID, socket path
//! or namespace name when the owning guard is dropped.
//!
//! Include it next to `mod support;` with `#[path = "support/traffic.rs"] mod traffic;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::sh;

/// Run a shell command in the current netns and fail the test on a non-zero exit.
pub fn must(cmd: &str) -> String {
    let (out, err, rc) = sh(cmd);
    assert_eq!(rc, 0, "`{cmd}` failed ({rc}): {err}{out}");
    out
}

/// A prefix unique to this process and call, for netns names, sockets and directories
/// (PIDs are shared by all namespaces of the guest, and tests run in parallel).
pub fn unique(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{tag}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Poll `probe` until it returns `Some`, at most `timeout`; on timeout panic with `what`
/// and the last state `describe` reports.
pub fn poll<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}; last state:\n{}",
            describe()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One real server: a named netns linked to the director by a veth pair, with
/// `busybox httpd` listening on `port`.
#[derive(Debug)]
pub struct RealServer {
    pub netns: String,
    pub addr: String,
    pub port: u16,
    httpd: Option<Child>,
}

/// Real servers `10.<net>.<i>.2:<port>` (i = 1..=count), each with the director at
/// `10.<net>.<i>.1` as default gateway, so NAT replies come back through the director.
#[derive(Debug)]
pub struct Lab {
    pub reals: Vec<RealServer>,
    docroot: String,
}

impl Lab {
    pub fn new(net: u8, count: u8, port: u16) -> Lab {
        let tag = unique("lvst");
        let docroot = format!("/run/{tag}-www");
        std::fs::create_dir_all(&docroot).expect("create docroot");
        // A few kilobytes per response, so byte rates are clearly visible.
        let body = "lvsctl top end-to-end test page\n".repeat(128);
        std::fs::write(format!("{docroot}/index.html"), body).expect("write index.html");
        let mut lab = Lab {
            reals: Vec::new(),
            docroot,
        };
        for i in 1..=count {
            let netns = format!("{tag}-rs{i}");
            let dev = format!("v{tag}{i}");
            // Interface names are at most 15 bytes.
            let dev: String = dev
                .chars()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let addr = format!("10.{net}.{i}.2");
            let gw = format!("10.{net}.{i}.1");
            must(&format!("ip netns add {netns}"));
            // Registered before anything else can fail, so Drop deletes the netns.
            lab.reals.push(RealServer {
                netns: netns.clone(),
                addr: addr.clone(),
                port,
                httpd: None,
            });
            must(&format!(
                "ip link add {dev} type veth peer name eth0 netns {netns} && \
                 ip addr add {gw}/24 dev {dev} && ip link set {dev} up && \
                 ip -n {netns} link set lo up && ip -n {netns} link set eth0 up && \
                 ip -n {netns} addr add {addr}/24 dev eth0 && \
                 ip -n {netns} route add default via {gw}"
            ));
            let httpd = Command::new("ip")
                .args(["netns", "exec", &netns, "busybox", "httpd", "-f"])
                .args(["-p", &port.to_string(), "-h", &lab.docroot])
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn busybox httpd");
            lab.reals.last_mut().expect("just pushed").httpd = Some(httpd);
        }
        // Ready when each server answers directly (not through IPVS yet).
        for rs in &lab.reals {
            let target: SocketAddr = format!("{}:{}", rs.addr, rs.port).parse().expect("addr");
            poll(
                Duration::from_secs(20),
                &format!("httpd on {target}"),
                || http_get(target).ok(),
                || sh("ip addr; ip route").0,
            );
        }
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for rs in &mut self.reals {
            if let Some(mut child) = rs.httpd.take() {
                // `ip netns exec` execs httpd, so this PID is the server itself.
                let _ = child.kill();
                let _ = child.wait();
            }
            // Deleting the netns also removes its end of the veth pair, and so both ends.
            let _ = sh(&format!("ip netns del {}", rs.netns));
        }
        let _ = std::fs::remove_dir_all(&self.docroot);
    }
}

/// One HTTP/1.0 GET; the number of bytes received.
pub fn http_get(target: SocketAddr) -> std::io::Result<usize> {
    let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    if buf.starts_with(b"HTTP/1.") {
        Ok(buf.len())
    } else {
        Err(std::io::Error::other("not an HTTP response"))
    }
}

/// A client thread requesting `target` over and over (a new connection each time, so the
/// closed ones linger in TIME_WAIT), plus `hold` idle connections kept ESTABLISHED.
/// Created from the test thread, the client thread shares its netns.
#[derive(Debug)]
pub struct Client {
    stop: Arc<AtomicBool>,
    pub ok: Arc<AtomicU64>,
    pub failed: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    held: Vec<TcpStream>,
}

impl Client {
    pub fn start(target: SocketAddr, pause: Duration) -> Client {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, ok, failed) = (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&failed));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match http_get(target) {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                    std::thread::sleep(pause);
                }
            })
        };
        Client {
            stop,
            ok,
            failed,
            thread: Some(thread),
            held: Vec::new(),
        }
    }

    /// Open `n` more connections to `target` and keep them open, idle, until dropped.
    pub fn hold(&mut self, target: SocketAddr, n: usize) {
        for _ in 0..n {
            let s = TcpStream::connect_timeout(&target, Duration::from_secs(5))
                .expect("connect a held connection");
            self.held.push(s);
        }
    }

    pub fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.held.clear();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A program running in a detached tmux session on a private socket under /run (the guest's
/// /tmp is 9p and cannot hold sockets). Dropping it kills the program by PID and the tmux
/// server through its socket.
#[derive(Debug)]
pub struct Tmux {
    sock: String,
    pub pane_pid: u32,
    /// Set once the program was seen to exit: its PID may be reused, never kill it then.
    exited: std::cell::Cell<bool>,
}

impl Tmux {
    /// Start `cmd` (a shell command line) in a `width`×`height` pane.
    pub fn start(cmd: &str, width: u16, height: u16) -> Tmux {
        let sock = format!("/run/{}.sock", unique("lvst-tmux"));
        let status = Command::new("tmux")
            .args(["-S", &sock, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(cmd)
            .env("TERM", "xterm-256color")
            .status()
            .expect("spawn tmux");
        assert!(status.success(), "tmux new-session failed");
        let mut t = Tmux {
            sock,
            pane_pid: 0,
            exited: std::cell::Cell::new(false),
        };
        // Keep the pane after the program exits, so a crash stays readable on screen.
        t.tmux(&["set-option", "-g", "remain-on-exit", "on"]);
        let pid = t.tmux(&["display-message", "-p", "#{pane_pid}"]);
        t.pane_pid = pid.trim().parse().expect("pane pid");
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-S", &self.sock])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Send keys (tmux key names: "j", "Enter", "Escape").
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The visible screen, one line per row.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// Poll the screen until `probe` accepts it (at most `timeout`); the accepted result.
    pub fn wait<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut probe: impl FnMut(&str) -> Option<T>,
    ) -> T {
        poll(timeout, what, || probe(&self.screen()), || self.screen())
    }

    /// Poll until the program has exited; how it ended: "status N" or "signal N".
    ///
    /// Read from the zombie's `/proc/PID/stat` (`exit_code`, field 52) when tmux has not
    /// reaped it: in the guest the tmux server may never see SIGCHLD, and then its
    /// `#{pane_dead_status}` stays empty for good.
    pub fn wait_exit(&self, timeout: Duration) -> String {
        let how = poll(
            timeout,
            "the program in tmux to exit",
            || {
                let out = self.tmux(&[
                    "display-message",
                    "-p",
                    "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}",
                ]);
                match out.trim().split('|').collect::<Vec<_>>()[..] {
                    ["1", "", ""] => {}
                    ["1", "", signal] => return Some(format!("signal {signal}")),
                    ["1", status, _] => return Some(format!("status {status}")),
                    _ => {}
                }
                let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pane_pid)).ok()?;
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                // fields[0] is field 3 (state), so field 52 is fields[49].
                if fields.first() != Some(&"Z") {
                    return None;
                }
                let code: i32 = fields.get(49)?.parse().ok()?;
                // The wait(2) encoding: low 7 bits the signal, next 8 bits the status.
                let signal = code & 0x7f;
                Some(if signal == 0 {
                    format!("status {}", code >> 8)
                } else {
                    format!("signal {signal}")
                })
            },
            || self.screen(),
        );
        self.exited.set(true);
        how
    }

    /// Poll until the screen contains `text`; the screen.
    pub fn wait_for(&self, timeout: Duration, text: &str) -> String {
        self.wait(timeout, &format!("{text:?} on screen"), |s| {
            s.contains(text).then(|| s.to_owned())
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if self.pane_pid != 0 && !self.exited.get() {
            // By PID, never by name: other tests' dashboards run in the same guest.
            let _ = Command::new("kill")
                .args(["-KILL", &self.pane_pid.to_string()])
                .status();
        }
        let _ = Command::new("tmux")
            .args(["-S", &self.sock, "kill-server"])
            .status();
        let _ = std::fs::remove_file(&self.sock);
    }
}

/// The text of a table cell: the characters of `line` under the header column that starts
/// with `column` in `header`, up to where the next header column starts.
pub fn cell(header: &str, line: &str, column: &str) -> Option<String> {
    let h: Vec<char> = header.chars().collect();
    let col: Vec<char> = column.chars().collect();
    let start = (0..h.len()).find(|&i| h[i..].starts_with(&col) && (i == 0 || h[i - 1] == ' '))?;
    let mut end = start + col.len();
    while end < h.len() && h[end] != ' ' {
        end += 1;
    }
    while end < h.len() && h[end] == ' ' {
        end += 1;
    }
    let text: String = line.chars().skip(start).take(end - start).collect();
    Some(text.trim().to_owned())
}
