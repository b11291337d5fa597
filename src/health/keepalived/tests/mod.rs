//! Tests of the keepalived.conf reader: one module per part of the grammar, a realistic
//! whole file, and a no-panic property test.

mod checkers;
mod includes;
mod lexical;
mod properties;
mod realistic;
mod servers;

use super::{
    Diagnostic, KeepalivedConfig, MemEnv, Options, Outcome, RealServer, Severity, VirtualServer,
    read,
};

pub const FILE: &str = "/etc/keepalived/keepalived.conf";

/// A machine with a user for scripts and a few scripts.
pub fn env() -> MemEnv {
    MemEnv::default()
        .user("keepalived_script")
        .script("/usr/local/bin/check.sh")
        .script("/usr/local/bin/notify.sh")
}

pub fn outcome(text: &str) -> Outcome {
    read(FILE, text, &env(), &Options::default())
}

/// Diagnostics as `LINE: message` (file names shown only when not the main file).
pub fn lines(o: &Outcome) -> Vec<String> {
    o.diagnostics.iter().map(short).collect()
}

pub fn short(d: &Diagnostic) -> String {
    if &*d.pos.file == FILE {
        format!("{}: {}", d.pos.line, d.message)
    } else {
        format!("{}: {}", d.pos, d.message)
    }
}

/// A file that keepalived accepts without a word (status 0, no diagnostics but notes).
#[track_caller]
pub fn clean(text: &str) -> KeepalivedConfig {
    let o = outcome(text);
    let loud: Vec<String> = o
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(short)
        .collect();
    assert!(loud.is_empty(), "unexpected diagnostics: {loud:#?}");
    assert_eq!(o.status, 0);
    o.config.expect("a configuration")
}

/// The errors keepalived reports (status 5), as `LINE: message`.
#[track_caller]
pub fn errors(text: &str) -> Vec<String> {
    let o = outcome(text);
    assert_eq!(o.status, 5, "expected status 5: {:#?}", lines(&o));
    o.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(short)
        .collect()
}

/// A virtual server block around `body`, with the usual settings.
pub fn vs(body: &str) -> String {
    format!(
        "virtual_server 10.0.0.1 80 {{\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n{body}}}\n"
    )
}

/// The only virtual server of a clean file.
#[track_caller]
pub fn one_vs(text: &str) -> VirtualServer {
    let mut c = clean(text);
    assert_eq!(c.virtual_servers.len(), 1);
    c.virtual_servers.remove(0)
}

/// The only real server of a clean file.
#[track_caller]
pub fn one_rs(text: &str) -> RealServer {
    let mut v = one_vs(text);
    assert_eq!(v.real_servers.len(), 1);
    v.real_servers.remove(0)
}
