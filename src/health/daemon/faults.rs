//! Local faults as the daemon reports them: the class a "not checked" reason falls in, for
//! the metric's `reason` label (a fixed set, whatever the reasons say), and the limit on
//! open files a configuration needs.
//!
//! A check that could not be made ([`Outcome::LocalFault`]) leaves its real alone (see
//! `registry`); the daemon logs the first of a run of them and the first normal result
//! after it, shows the reason in the status as `not checked: <reason>`, and counts every
//! one by class.

use crate::health::check::Outcome;
use crate::health::config::{CheckService, CheckType, Config, VirtualService};

/// Out of file descriptors (EMFILE for the process, ENFILE for the system).
pub const DESCRIPTORS: &str = "descriptors";
/// Out of memory or socket buffers (ENOMEM, ENOBUFS).
pub const MEMORY: &str = "memory";
/// No free local port, or the source address is gone (EADDRNOTAVAIL).
pub const LOCAL_PORTS: &str = "local_ports";
/// A process could not be started (EAGAIN from fork: the process limit).
pub const PROCESSES: &str = "processes";
/// The check task panicked (a bug; the task was restarted).
pub const PANIC: &str = "panic";
pub const OTHER: &str = "other";

/// Every class, in the order the metric lists them.
pub const CLASSES: &[&str] = &[DESCRIPTORS, MEMORY, LOCAL_PORTS, PROCESSES, PANIC, OTHER];

/// The prefix of a panicked check's reason.
pub const PANICKED: &str = "the check panicked";

/// The class of a local fault's reason. Reasons carry the OS error as Rust prints it
/// (`Too many open files (os error 24)`), which is read back here; text without an errno is
/// `other` unless it is a panic's or says it ran out of memory.
pub fn class(reason: &str) -> &'static str {
    if reason.starts_with(PANICKED) {
        return PANIC;
    }
    let errno = reason.rfind("(os error ").and_then(|at| {
        let digits = &reason[at + "(os error ".len()..];
        digits[..digits.find(')')?].parse::<i32>().ok()
    });
    match errno {
        Some(libc::EMFILE | libc::ENFILE) => DESCRIPTORS,
        Some(libc::ENOMEM | libc::ENOBUFS) => MEMORY,
        Some(libc::EADDRNOTAVAIL) => LOCAL_PORTS,
        Some(libc::EAGAIN) => PROCESSES,
        None if reason.contains("out of memory") => MEMORY,
        _ => OTHER,
    }
}

/// The class of `outcome` when it is a local fault.
pub fn of(outcome: &Outcome) -> Option<&'static str> {
    match outcome {
        Outcome::LocalFault(why) => Some(class(why)),
        _ => None,
    }
}

/// Descriptors kept for everything but the checks: stdio, the runtime's epoll and wakers,
/// the netlink socket, the status and metrics listeners with up to 64 clients each, log,
/// monitor and pid files, mail, `execute` children.
pub const MARGIN: u64 = 256;

/// How many descriptors `config` can have open at once: every check runs at most once at a
/// time (a run that overruns its interval delays the next), so each (virtual, real) holds
/// what one run of its check needs, plus [`MARGIN`].
pub fn descriptors_needed(config: &Config) -> u64 {
    // A real with checks of its own (keepalived's checkers) runs each of them instead.
    let checks: u64 = config
        .virtuals
        .iter()
        .flat_map(|v| v.reals.iter().map(move |r| (v, r)))
        .map(|(v, r)| {
            if r.checks.is_empty() {
                u64::from(per_run(v))
            } else {
                r.checks
                    .iter()
                    .map(|c| u64::from(per_check(c.check.check_type, c.check.service)))
                    .sum()
            }
        })
        .sum();
    checks + MARGIN
}

/// Descriptors one run of `v`'s check holds at most.
pub fn per_run(v: &VirtualService) -> u32 {
    per_check(v.check.check_type, v.check.service)
}

/// Descriptors one run of a check holds at most: a socket; a combined check runs its
/// protocol check and a connect check; an FTP check adds its data connection; an external
/// check the pipes and the process's own descriptors while it is being started; on and off
/// hold none.
fn per_check(kind: CheckType, service: CheckService) -> u32 {
    let negotiate = if service == CheckService::Ftp { 2 } else { 1 };
    match kind {
        CheckType::On | CheckType::Off => 0,
        CheckType::Connect | CheckType::Ping => 1,
        CheckType::Negotiate => negotiate,
        CheckType::Combined(_) => negotiate + 1,
        CheckType::External | CheckType::ExternalPerl => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::config::{StaticEnv, parse_config};
    use std::fmt::Write as _;

    #[test]
    fn reasons_fall_in_a_fixed_set_of_classes() {
        let io = |errno: i32| {
            format!(
                "connect to 10.1.0.1:80: {}",
                std::io::Error::from_raw_os_error(errno)
            )
        };
        assert_eq!(class(&io(libc::EMFILE)), DESCRIPTORS);
        assert_eq!(class(&io(libc::ENFILE)), DESCRIPTORS);
        assert_eq!(class(&io(libc::ENOBUFS)), MEMORY);
        assert_eq!(class(&io(libc::ENOMEM)), MEMORY);
        assert_eq!(class(&io(libc::EADDRNOTAVAIL)), LOCAL_PORTS);
        assert_eq!(class(&io(libc::EAGAIN)), PROCESSES);
        assert_eq!(class(&io(libc::ECONNREFUSED)), OTHER);
        assert_eq!(class("the check panicked: index out of bounds"), PANIC);
        assert_eq!(class("memory allocation failed: out of memory"), MEMORY);
        assert_eq!(class("(os error 24"), OTHER, "no closing parenthesis");
        assert_eq!(class("whatever a server says (os error 24)"), DESCRIPTORS);
        assert!(CLASSES.contains(&class("anything")));
        assert_eq!(of(&Outcome::Up), None);
        assert_eq!(
            of(&Outcome::LocalFault(io(libc::EMFILE))),
            Some(DESCRIPTORS)
        );
    }

    #[test]
    fn descriptors_needed_counts_every_check_once() {
        let mut text = String::from("virtual=10.0.0.1:80\n\tchecktype=connect\n");
        for i in 1..=200 {
            let _ = writeln!(text, "\treal=10.1.0.{}:80 masq", i % 250 + 1);
        }
        text.push_str(
            "virtual=10.0.0.2:80\n\treal=10.1.0.1:80 masq\n\treal=10.1.0.2:80 masq\n\
             \tchecktype=3\n\tservice=ftp\n\trequest=\"x\"\n\treceive=\"y\"\n\
             virtual=10.0.0.3:80\n\treal=10.1.0.1:80 masq\n\tchecktype=on\n",
        );
        let config = parse_config("t.cf", &text, &StaticEnv::with_common_services())
            .unwrap()
            .0;
        let reals: u64 = config.virtuals[0].reals.len() as u64;
        assert_eq!(descriptors_needed(&config), reals + 2 * 3 + MARGIN);
    }
}
