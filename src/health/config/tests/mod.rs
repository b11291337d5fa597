//! Parser tests: the acceptance items of docs/health-acceptance.md (T1–T12 and the parsing
//! side of T27), every error and warning of docs/ldirectord-compat.md (File syntax to
//! check-config), realistic whole files and a no-panic property test.

mod defaults;
mod errors;
mod full;
mod ldirectord_diff;
mod lexical;
mod prop;
mod reals;

use std::net::IpAddr;

use super::{Config, ConfigError, StaticEnv, VirtualService, Warning, parse_config, render};

pub const FILE: &str = "/etc/ha.d/ldirectord.cf";

/// A deterministic environment: common services, a few host names, one existing directory.
pub fn env() -> StaticEnv {
    let mut e = StaticEnv::with_common_services()
        .host("www.example.com", ip("192.0.2.10"))
        .host("www.example.com", ip("2001:db8::10"))
        .host("web1", ip("10.0.0.1"))
        .host("web3", ip("10.0.0.3"))
        .host("sorry", ip("10.0.0.254"));
    e.dirs.push("/var/lib/ldirectord/maint".to_owned());
    e.unwritable.insert(
        "/nonexistent/x.log".to_owned(),
        "No such file or directory".to_owned(),
    );
    e
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn parse(text: &str) -> Result<(Config, Vec<Warning>), Vec<ConfigError>> {
    parse_config(FILE, text, &env())
}

/// Parses text that must be valid; fails the test with the rendered errors otherwise.
#[track_caller]
pub fn ok(text: &str) -> (Config, Vec<Warning>) {
    match parse(text) {
        Ok(r) => r,
        Err(e) => panic!("unexpected errors:\n{}", render(&[], &e)),
    }
}

/// The only virtual of a valid file.
#[track_caller]
pub fn one(text: &str) -> VirtualService {
    let (c, _) = ok(text);
    assert_eq!(c.virtuals.len(), 1, "expected one virtual");
    c.virtuals.into_iter().next().unwrap()
}

/// Parses text that must be invalid.
#[track_caller]
pub fn errs(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Ok((c, w)) => panic!(
            "expected errors, got {c:#?}\nwarnings:\n{}",
            render(&w, &[])
        ),
        Err(e) => e,
    }
}

/// Asserts an error at `line` whose rendering contains `needle`.
#[track_caller]
pub fn assert_error(text: &str, line: usize, needle: &str) {
    let e = errs(text);
    let rendered = render(&[], &e);
    assert!(
        e.iter()
            .any(|e| e.line == line && e.to_string().contains(needle)),
        "no error at line {line} containing {needle:?} in:\n{rendered}"
    );
}

/// Asserts the text is valid and has a warning at `line` containing `needle`.
#[track_caller]
pub fn assert_warning(text: &str, line: usize, needle: &str) {
    let (_, w) = ok(text);
    let rendered = render(&w, &[]);
    assert!(
        w.iter()
            .any(|w| w.line == line && w.to_string().contains(needle)),
        "no warning at line {line} containing {needle:?} in:\n{rendered}"
    );
}

/// Asserts the text is valid without any warning.
#[track_caller]
pub fn assert_clean(text: &str) {
    let (_, w) = ok(text);
    assert!(w.is_empty(), "unexpected warnings:\n{}", render(&w, &[]));
}
