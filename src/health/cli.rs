//! ldirectord's command line (spec §3.9): `[-d] [--foreground] [CONFIG] COMMAND`, the same
//! commands, pid file and exit codes, plus `check-config FILE [--strict]`.
//!
//! Deliberate differences: `stop`, `status` and `reload` do not need a parsable config
//! (ldirectord fails `stop` with exit 2 on a broken file while the daemon keeps running),
//! `stop` waits for the daemon to finish its cleanup, and `status` also prints the health
//! table from the status socket.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::health::config::{
    ConfigLocation, check_config_file, check_config_file_strict, locate_config,
};
use crate::health::daemon::{self, Console, DaemonOptions, Notifier};
use crate::health::status;
use crate::ipvs::BackendFactory;

const COMMANDS: [&str; 7] = [
    "start",
    "stop",
    "restart",
    "try-restart",
    "reload",
    "force-reload",
    "status",
];

const USAGE: &str = "usage: lvsctl health [-d|--debug] [--foreground] [--pid-file FILE] [--socket FILE] \
[--metrics 127.0.0.1:PORT] [--sendmail PATH] [--json] [CONFIG] {start|stop|restart|try-restart|reload|force-reload|status}\n       \
lvsctl health check-config [--strict] FILE";

/// `--help`: the usage plus what differs from ldirectord.
const HELP: &str = "\n\
Reads ldirectord.cf (CONFIG as ldirectord finds it: /etc/ha.d/CONFIG, /etc/ha.d/conf/CONFIG,\n\
CONFIG) with ldirectord's commands, exit codes and pid file.\n\
\n\
Options added by lvsctl:\n\
  --foreground         stay in the foreground for systemd (Type=notify): log to stderr,\n\
                       send READY=1, WATCHDOG=1 (WatchdogSec) and STOPPING=1\n\
  --pid-file FILE      instead of /var/run/ldirectord.<name>.pid\n\
  --socket FILE        status socket instead of /run/lvsctl/health.<name>.sock\n\
  --metrics ADDR:PORT  Prometheus text metrics on that (loopback) address\n\
  --sendmail PATH      program for alert mails, run as `PATH -t -oi` (/usr/sbin/sendmail)\n\
  --json               `status` as JSON\n\
\n\
ldirectord.cf extensions (check-config warns about them: ldirectord rejects them):\n\
  rise=N               global or per virtual: passing checks in a row before a failed real\n\
                       server is restored (default 1, ldirectord's only behaviour)\n\
  protocol=sctp        SCTP virtual services\n\
\n\
Logging follows ldirectord: logfile=\"/path\" (default /var/log/ldirectord.log) or\n\
logfile=\"facility\" for syslog (/dev/log, ident ldirectord[pid] when run as ldirectord,\n\
lvsctl[pid] otherwise); supervised=yes logs to stdout. Log times are local time.\n\
\n\
man lvsctl-health: commands and exit codes, checks, status socket and metrics.";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub debug: bool,
    pub foreground: bool,
    /// Internal: the detached child of `start` (logs to the configured logfile).
    pub detached: bool,
    pub json: bool,
    pub strict: bool,
    pub pid_file: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub metrics: Option<std::net::SocketAddr>,
    /// `sendmail -t` program for alert mails (lvsctl extension).
    pub sendmail: Option<PathBuf>,
    pub config: Option<String>,
    pub command: String,
}

/// Parses ldirectord-style arguments (argv[0] excluded).
pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-d" | "--debug" => out.debug = true,
            "--foreground" => out.foreground = true,
            "--detached" => out.detached = true,
            "--json" => out.json = true,
            "--strict" => out.strict = true,
            "--pid-file" => out.pid_file = Some(it.next().ok_or("--pid-file needs a path")?.into()),
            "--socket" => out.socket = Some(it.next().ok_or("--socket needs a path")?.into()),
            "--sendmail" => {
                out.sendmail = Some(it.next().ok_or("--sendmail needs a path")?.into());
            }
            "--metrics" => {
                let addr = it.next().ok_or("--metrics needs an address")?;
                out.metrics = Some(
                    addr.parse()
                        .map_err(|_| format!("--metrics {addr}: not an address:port"))?,
                );
            }
            "-h" | "--help" => out.command = "help".into(),
            "-v" | "--version" => out.command = "version".into(),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            s => positional.push(s.to_owned()),
        }
    }
    if !out.command.is_empty() {
        return Ok(out);
    }
    if positional.first().map(String::as_str) == Some("check-config") {
        out.command = "check-config".into();
        out.config = positional.get(1).cloned();
        return Ok(out);
    }
    match positional.as_slice() {
        [] if out.foreground || out.debug => out.command = "start".into(),
        [cmd] if COMMANDS.contains(&cmd.as_str()) => out.command.clone_from(cmd),
        [cfg] if out.foreground || out.debug => {
            out.config = Some(cfg.clone());
            out.command = "start".into();
        }
        [cfg, cmd] if COMMANDS.contains(&cmd.as_str()) => {
            out.config = Some(cfg.clone());
            out.command.clone_from(cmd);
        }
        _ => return Err(USAGE.to_owned()),
    }
    Ok(out)
}

/// Runs the health face; returns the exit code.
pub fn main(args: &[String], factory: impl Fn() -> BackendFactory) -> u8 {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match args.command.as_str() {
        "help" => {
            println!("{USAGE}\n{HELP}");
            return 0;
        }
        "version" => {
            println!(
                "lvsctl health {} (ldirectord-compatible)",
                env!("CARGO_PKG_VERSION")
            );
            return 0;
        }
        "check-config" => return check_config(&args),
        _ => {}
    }
    let location = match locate_config(args.config.as_deref(), Path::is_file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let pid_file = pid_file_for(&args, &location);
    let running = pid_file.as_deref().and_then(running_pid);
    match args.command.as_str() {
        "start" => start(&args, &location, pid_file.as_deref(), running, &factory),
        "stop" => {
            if let Some(pid) = running {
                stop(pid, pid_file.as_deref());
            }
            0
        }
        "restart" | "try-restart" => {
            if let Some(pid) = running {
                stop(pid, pid_file.as_deref());
            } else if args.command == "try-restart" {
                return 0;
            }
            start(&args, &location, pid_file.as_deref(), None, &factory)
        }
        "reload" | "force-reload" => match running {
            Some(pid) if signal(pid, rustix::process::Signal::HUP) => 0,
            _ => 1,
        },
        _ => status_cmd(&args, &location, pid_file.as_deref(), running),
    }
}

fn check_config(args: &Args) -> u8 {
    let Some(file) = &args.config else {
        eprintln!("{USAGE}");
        return 1;
    };
    let (text, code) = if args.strict {
        check_config_file_strict(Path::new(file))
    } else {
        check_config_file(Path::new(file))
    };
    print!("{text}");
    u8::try_from(code).unwrap_or(2)
}

/// `-d` runs without a pid file unless one is named (ldirectord's behaviour).
fn pid_file_for(args: &Args, location: &ConfigLocation) -> Option<PathBuf> {
    match (&args.pid_file, args.debug) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => Some(location.pid_file()),
    }
}

fn start(
    args: &Args,
    location: &ConfigLocation,
    pid_file: Option<&Path>,
    running: Option<i32>,
    factory: &impl Fn() -> BackendFactory,
) -> u8 {
    if running.is_some() {
        return 0;
    }
    let config = match daemon::run_config_check(&location.path) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{e}");
            return 2;
        }
    };
    let mode = start_mode(args, config.globals.supervised);
    let pid_file = pid_file.filter(|_| mode.pid_file);
    if mode.detach {
        return spawn_detached(args, location, pid_file);
    }
    if let Some(p) = pid_file
        && let Err(e) = std::fs::write(p, format!("{}\n", std::process::id()))
    {
        eprintln!("cannot write pid file {}: {e}", p.display());
        return 1;
    }
    let mut opts = DaemonOptions::new(location.clone());
    opts.socket.clone_from(&args.socket);
    opts.metrics = args.metrics;
    opts.console = mode.console;
    program_ident().clone_into(&mut opts.ident);
    opts.notifier = Notifier::from_env();
    if let Some(s) = &args.sendmail {
        opts.sendmail.clone_from(s);
    }
    let result = daemon::run(&opts, factory());
    if let Some(p) = pid_file {
        let _ = std::fs::remove_file(p);
    }
    match result {
        Ok(()) => 0,
        Err(daemon::DaemonError::Config(e)) => {
            eprint!("{e}");
            2
        }
        Err(e) => {
            eprintln!("lvsctl health: {e}");
            1
        }
    }
}

/// How `start` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StartMode {
    /// Start a detached copy and return (plain `start`).
    detach: bool,
    console: Console,
    /// Whether the pid file (if any) is written.
    pid_file: bool,
}

/// `-d` logs to stderr as ldirectord -d does, `--foreground` in the file format; `supervised=yes` (unless `-d`) stays in the
/// foreground, logs to stdout and writes no pid file unless one is named (spec §1.3); the
/// detached copy logs to the configured logfile.
fn start_mode(args: &Args, supervised: bool) -> StartMode {
    let supervised = supervised && !args.debug;
    let console = if supervised {
        Console::Supervised
    } else if args.detached {
        Console::None
    } else if args.debug {
        Console::Debug
    } else {
        Console::Stderr
    };
    StartMode {
        detach: !(args.debug || args.foreground || args.detached || supervised),
        console,
        pid_file: !supervised || args.pid_file.is_some(),
    }
}

/// ldirectord double-forks; we start ourselves again in a new process group with stdio on
/// /dev/null and wait until the child has written its pid file.
fn spawn_detached(args: &Args, location: &ConfigLocation, pid_file: Option<&Path>) -> u8 {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find the lvsctl binary");
        return 1;
    };
    let mut cmd = Command::new(exe);
    // Run as `ldirectord` we stay `ldirectord` (ps, syslog ident); else `lvsctl health`.
    if program_ident() == "ldirectord" {
        std::os::unix::process::CommandExt::arg0(&mut cmd, "ldirectord");
    } else {
        cmd.arg("health");
    }
    cmd.arg("--detached");
    if let Some(p) = pid_file {
        cmd.arg("--pid-file").arg(p);
    }
    if let Some(s) = &args.socket {
        cmd.arg("--socket").arg(s);
    }
    if let Some(m) = &args.metrics {
        cmd.arg("--metrics").arg(m.to_string());
    }
    if let Some(s) = &args.sendmail {
        cmd.arg("--sendmail").arg(s);
    }
    cmd.arg(&location.path).arg("start");
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Err(e) = std::env::set_current_dir("/") {
        eprintln!("cannot chdir to /: {e}");
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot start the daemon: {e}");
            return 1;
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("the daemon exited at start ({status}); see the log file");
            return 1;
        }
        if pid_file.is_none_or(|p| running_pid(p).is_some()) {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    0
}

fn status_cmd(
    args: &Args,
    location: &ConfigLocation,
    pid_file: Option<&Path>,
    running: Option<i32>,
) -> u8 {
    let cfg = location.path.display();
    match running {
        Some(pid) => {
            eprintln!("ldirectord for {cfg} is running with pid: {pid}");
            let socket = args
                .socket
                .clone()
                .unwrap_or_else(|| status::socket_path(&location.name));
            match status::query(&socket) {
                Ok(r) if args.json => {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                }
                Ok(r) => print!("{}", status::render_table(&r)),
                Err(e) => eprintln!("status socket {}: {e}", socket.display()),
            }
            // ldirectord forwards `status` to its `execute` instances, and exits 0
            // whatever they say (see `daemon::execute`).
            let execute = daemon::run_config_check(&location.path)
                .map(|c| c.globals.execute)
                .unwrap_or_default();
            if let Some(launcher) = daemon::execute::Launcher::current(program_ident()) {
                let _ = std::io::Write::flush(&mut std::io::stdout());
                launcher.status(&execute, Duration::from_secs(70));
            }
            0
        }
        None if pid_file.is_some_and(Path::exists) => {
            eprintln!(
                "ldirectord stale pid file {}",
                pid_file
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
            1
        }
        None => {
            eprintln!("ldirectord for {cfg} is stopped");
            3
        }
    }
}

/// `ldirectord` when this process was started under that name (a link), else `lvsctl`:
/// the syslog ident and the name the detached daemon keeps.
fn program_ident() -> &'static str {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if Path::new(&argv0).file_name() == Some(std::ffi::OsStr::new("ldirectord")) {
        "ldirectord"
    } else {
        "lvsctl"
    }
}

/// The pid in `path` if that process is alive and is ldirectord or lvsctl.
pub fn running_pid(path: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    (cmdline.contains("ldirectord") || cmdline.contains("lvsctl")).then_some(pid)
}

fn signal(pid: i32, sig: rustix::process::Signal) -> bool {
    rustix::process::Pid::from_raw(pid)
        .is_some_and(|p| rustix::process::kill_process(p, sig).is_ok())
}

/// SIGTERM, then wait (up to 60 s) for the daemon to finish its cleanup.
fn stop(pid: i32, pid_file: Option<&Path>) {
    if !signal(pid, rustix::process::Signal::TERM) {
        return;
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while Instant::now() < deadline {
        let gone = !Path::new(&format!("/proc/{pid}")).exists()
            || pid_file.is_some_and(|p| running_pid(p).is_none());
        if gone {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<Args, String> {
        parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn ldirectord_forms() {
        let a = parse(&["start"]).unwrap();
        assert_eq!((a.config, a.command.as_str()), (None, "start"));
        let a = parse(&["-d", "web.cf", "reload"]).unwrap();
        assert!(a.debug);
        assert_eq!(a.config.as_deref(), Some("web.cf"));
        assert_eq!(a.command, "reload");
        let a = parse(&["--foreground", "/etc/x.cf"]).unwrap();
        assert_eq!(
            (a.config.as_deref(), a.command.as_str()),
            (Some("/etc/x.cf"), "start")
        );
        let a = parse(&["check-config", "--strict", "x.cf"]).unwrap();
        assert!(a.strict);
        assert_eq!(a.config.as_deref(), Some("x.cf"));
        assert!(parse(&["x.cf", "bogus"]).is_err());
        assert!(parse(&[]).is_err());
        let a = parse(&["--sendmail", "/tmp/fake", "start"]).unwrap();
        assert_eq!(a.sendmail, Some(PathBuf::from("/tmp/fake")));
    }

    #[test]
    fn start_modes() {
        let mode = |a: &[&str], sup: bool| start_mode(&parse(a).unwrap(), sup);
        let m = mode(&["start"], false);
        assert!(m.detach && m.pid_file);
        assert_eq!(
            mode(&["--detached", "start"], false),
            StartMode {
                detach: false,
                console: Console::None,
                pid_file: true
            }
        );
        assert_eq!(
            mode(&["--foreground", "start"], false).console,
            Console::Stderr
        );
        assert_eq!(
            mode(&["start"], true),
            StartMode {
                detach: false,
                console: Console::Supervised,
                pid_file: false
            }
        );
        assert!(mode(&["--pid-file", "/run/x.pid", "start"], true).pid_file);
        assert_eq!(
            mode(&["-d", "start"], true).console,
            Console::Debug,
            "-d wins"
        );
        assert_eq!(
            mode(&["-d", "--foreground", "start"], false).console,
            Console::Debug,
            "-d prints what ldirectord -d prints"
        );
    }

    /// `Key=value` lines of the `[Service]` section of the shipped unit.
    fn unit_service() -> Vec<(String, String)> {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contrib/lvsctl-health.service"
        ));
        let mut in_service = false;
        let mut out = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_service = line == "[Service]";
            } else if in_service && !line.starts_with('#') && !line.is_empty() {
                let (k, v) = line.split_once('=').expect("Key=value");
                out.push((k.to_owned(), v.to_owned()));
            }
        }
        out
    }

    fn key<'a>(unit: &'a [(String, String)], k: &str) -> &'a str {
        unit.iter()
            .find(|(key, _)| key == k)
            .map_or_else(|| panic!("{k}= missing from the unit"), |(_, v)| v.as_str())
    }

    /// Splits an Exec line and drops the program, checking that it is lvsctl's `health` face.
    fn health_args(exec: &str) -> Vec<String> {
        let words: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
        assert!(
            words[0].ends_with("/lvsctl") && words[1] == "health",
            "{exec}"
        );
        words[2..].to_vec()
    }

    #[test]
    fn the_systemd_unit_matches_what_the_daemon_does() {
        let unit = unit_service();
        // READY=1/WATCHDOG=1/STOPPING=1 come from the main process only.
        assert_eq!(key(&unit, "Type"), "notify");
        assert_eq!(key(&unit, "NotifyAccess"), "main");
        let wd: u64 = key(&unit, "WatchdogSec").parse().unwrap();
        assert!(
            wd >= 10,
            "the loop ticks every second; pings every WatchdogSec/2"
        );
        // Started in the foreground, under ldirectord's default configuration name.
        let start = parse_args(&health_args(key(&unit, "ExecStart"))).unwrap();
        assert!(start.foreground && !start.debug);
        assert_eq!(
            (start.command.as_str(), start.config.as_deref()),
            ("start", None)
        );
        let loc = locate_config(None, |p| p == Path::new("/etc/ha.d/ldirectord.cf")).unwrap();
        assert_eq!(
            loc.pid_file(),
            PathBuf::from("/var/run/ldirectord.ldirectord.pid")
        );
        let pre = parse_args(&health_args(key(&unit, "ExecStartPre"))).unwrap();
        assert_eq!(pre.command, "check-config");
        assert_eq!(pre.config.map(PathBuf::from), Some(loc.path));
        // Reload is SIGHUP to the daemon; stop is SIGTERM to the daemon alone.
        assert_eq!(key(&unit, "ExecReload"), "/bin/kill -HUP $MAINPID");
        assert_eq!(key(&unit, "KillMode"), "mixed");
        let stop: u64 = key(&unit, "TimeoutStopSec").parse().unwrap();
        assert!(stop > 10, "cleanup plus up to 10 s of queued mail must fit");
        // The status socket directory exists and is root-only.
        assert_eq!(
            format!("/run/{}", key(&unit, "RuntimeDirectory")),
            status::SOCKET_DIR
        );
        assert_eq!(key(&unit, "RuntimeDirectoryMode"), "0700");
        assert!(key(&unit, "CapabilityBoundingSet").contains("CAP_NET_ADMIN"));
    }
}
