//! The start modes, and the shipped systemd unit against what the daemon does.

use super::*;

fn parse(a: &[&str]) -> Args {
    parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn start_modes() {
    let mode = |a: &[&str], sup: bool| start_mode(&parse(a), sup);
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
        (start.command, start.config.as_deref()),
        (Command::Start, None)
    );
    let loc = locate_config(None, |p| p == Path::new("/etc/ha.d/ldirectord.cf")).unwrap();
    assert_eq!(
        loc.pid_file(),
        PathBuf::from("/var/run/ldirectord.ldirectord.pid")
    );
    let pre = parse_args(&health_args(key(&unit, "ExecStartPre"))).unwrap();
    assert_eq!(pre.command, Command::CheckConfig);
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
    // netlink (IPVS) and raw ICMP sockets (checktype=ping); nothing more.
    let caps: Vec<&str> = key(&unit, "CapabilityBoundingSet")
        .split_whitespace()
        .collect();
    assert_eq!(caps, ["CAP_NET_ADMIN", "CAP_NET_RAW"]);
    assert!(
        key(&unit, "RestrictAddressFamilies")
            .split_whitespace()
            .eq(["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"])
    );
    // The daemon raises its soft limit itself, up to the unit's hard limit.
    let (soft, hard) = key(&unit, "LimitNOFILE").split_once(':').unwrap();
    assert!(soft.parse::<u64>().unwrap() <= hard.parse::<u64>().unwrap());
    assert!(hard.parse::<u64>().unwrap() >= 65_536);
    // The daemon's own umask (see `process::detach_self`).
    assert_eq!(key(&unit, "UMask"), "0022");
}
