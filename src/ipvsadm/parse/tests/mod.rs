//! Parser tests: every locally detected error observed from real ipvsadm 1.31 (in
//! `local_errors` and `observed`), exact model values of successful parses, tokenizer
//! corners, the restore tokenizer, and a no-panic fuzz run.

mod fuzz;
mod local_errors;
mod observed;
mod restore_cases;
mod success;
mod vm_values;

use std::net::{IpAddr, Ipv4Addr};

use super::{IpvsadmCommand, ParseError, parse};
use crate::names::{Family, Resolver};

/// Knows the few names the cases use, nothing else (deterministic, no I/O).
#[derive(Debug)]
pub struct FakeResolver;

impl Resolver for FakeResolver {
    fn host_addr(&self, name: &str, family: Family) -> Option<IpAddr> {
        match (name, family) {
            ("localhost", Family::V4) => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ("short", Family::V4) => Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 99))),
            _ => None,
        }
    }
    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        match (name, proto) {
            ("http", "tcp") => Some(80),
            ("https", "tcp" | "udp") => Some(443),
            ("domain", "tcp" | "udp") => Some(53),
            ("sip", "tcp" | "udp") => Some(5060),
            _ => None,
        }
    }
    fn host_name(&self, _addr: IpAddr) -> Option<String> {
        None
    }
    fn service_name(&self, _port: u16, _proto: &str) -> Option<String> {
        None
    }
}

pub fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Parses `args` (without argv[0]) as `ipvsadm` would be called.
pub fn run(args: &[&str]) -> Result<IpvsadmCommand, ParseError> {
    parse("ipvsadm", &argv(args), &FakeResolver)
}

#[track_caller]
pub fn ok(args: &[&str]) -> IpvsadmCommand {
    match run(args) {
        Ok(cmd) => cmd,
        Err(e) => panic!("{args:?} failed: {} (exit {})", e.message, e.exit_code),
    }
}

#[track_caller]
pub fn err(args: &[&str]) -> (String, u8) {
    match run(args) {
        Ok(cmd) => panic!("{args:?} parsed: {cmd:?}"),
        Err(e) => (e.message, e.exit_code),
    }
}

#[test]
fn every_local_error_ipvsadm_reports() {
    let mut failures = Vec::new();
    for (argv0_and_args, message, code) in local_errors::CASES {
        let (argv0, args) = argv0_and_args.split_first().unwrap();
        match parse(argv0, &argv(args), &FakeResolver) {
            Err(e) if e.message == *message && e.exit_code == *code => {}
            other => failures.push(format!(
                "{argv0_and_args:?}: want {message:?}/{code}, got {:?}",
                other.map_err(|e| (e.message, e.exit_code))
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn observed_errors_in_vm() {
    let mut failures = Vec::new();
    for (args, message, code) in observed::ERRORS {
        match run(args) {
            Err(e) if e.message == *message && e.exit_code == *code => {}
            other => failures.push(format!(
                "{args:?}: want {message:?}/{code}, got {:?}",
                other.map_err(|e| (e.message, e.exit_code))
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn observed_accepted_in_vm() {
    let failures: Vec<_> = observed::ACCEPTED
        .iter()
        .filter_map(|args| run(args).err().map(|e| format!("{args:?}: {}", e.message)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Compares our verdict on `args` with real ipvsadm's outcome (exit status, stderr):
/// local errors must match byte for byte; lines ipvsadm accepted (success, or a kernel
/// error after parsing) must parse. `None` when they agree.
pub fn ipvsadm_verdict(args: &[String], rc: u8, stderr: &str) -> Option<String> {
    if rc >= 128 {
        return None; // killed by a signal (`-b ,`): deliberately not reproduced
    }
    let message = stderr.strip_suffix('\n').unwrap_or(stderr);
    let local = rc == 2
        || (rc == 255
            && (message.starts_with("Try `")
                || [
                    ": unknown option",
                    ": missing argument",
                    ": option does not take an argument",
                ]
                .iter()
                .any(|r| message.ends_with(r))));
    let got = parse("ipvsadm", args, &FakeResolver);
    let agree = match (&got, local) {
        (Err(e), true) => e.message == message && e.exit_code == rc,
        (Ok(_), false) => true,
        _ => false,
    };
    (!agree).then(|| {
        format!(
            "{args:?}: ipvsadm {rc}/{message:?}, we {:?}",
            got.map_err(|e| (e.message, e.exit_code))
        )
    })
}

/// 1200 generated command lines run through the real ipvsadm 1.31 in the IPVS VM
/// (`vm_random.jsonl`: args, exit status, stderr).
#[test]
fn random_lines_match_real_ipvsadm() {
    #[derive(serde::Deserialize)]
    struct Case {
        args: Vec<String>,
        rc: u8,
        stderr: String,
    }
    let failures: Vec<String> = include_str!("vm_random.jsonl")
        .lines()
        .filter_map(|line| {
            let case: Case = serde_json::from_str(line).unwrap();
            ipvsadm_verdict(&case.args, case.rc, &case.stderr)
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
