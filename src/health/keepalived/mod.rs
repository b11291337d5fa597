//! keepalived.conf, read the way keepalived 2.2 reads it, for its LVS part.
//!
//! [`parse_keepalived`] is a pure function of the text and a [`KeepalivedEnv`] (included
//! files, host name, users, scripts). The result is the typed [`KeepalivedConfig`] the
//! health daemon runs, with keepalived's defaults and inheritance applied, or the
//! diagnostics that stop keepalived; [`check_keepalived_file`] renders diagnostics as
//! `FILE:LINE: ...` lines and returns the status `keepalived --config-test` exits with.
//! docs/keepalived-compat.md lists what is supported and how it compares with keepalived.
//!
//! Stages: `lexer` turns files into logical lines (comments, `@` lines, definitions,
//! `include`, braces); `stream` applies keepalived's block structure and keyword tables
//! (`keywords`); `build` reads keywords into a raw model; `finish` applies keepalived's
//! defaults, inheritance and after-reading checks and produces the `model`.

mod build;
mod diag;
mod env;
mod finish;
mod glob;
mod keywords;
mod lexer;
mod model;
mod stream;
mod to_daemon;

#[cfg(test)]
pub(crate) mod tests;

use std::fmt::Write as _;
use std::path::Path;

pub use diag::{Diagnostic, Phase, Pos, Severity, config_test_status};
pub use env::{FileKind, KeepalivedEnv, MemEnv, SystemEnv};
pub use model::*;
pub use to_daemon::{Refusal, load_ssl, render_refusals, to_daemon};

/// Options keepalived takes on its command line that change how a file reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-i`/`--config-id`: which `@ID` lines apply. Default: the host name up to its
    /// first dot.
    pub config_id: Option<String>,
}

/// Everything one reading found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// None when a diagnostic stops keepalived.
    pub config: Option<KeepalivedConfig>,
    /// In keepalived's order (see [`Phase`]).
    pub diagnostics: Vec<Diagnostic>,
    /// What `keepalived --config-test` exits with.
    pub status: u8,
}

/// Reads a keepalived.conf whose text is at hand; `file` names it in diagnostics and
/// locates its relative `include`s. Err carries every diagnostic when keepalived would
/// not run the file.
pub fn parse_keepalived(
    file: &str,
    text: &str,
    env: &dyn KeepalivedEnv,
    options: &Options,
) -> Result<KeepalivedConfig, Vec<Diagnostic>> {
    let outcome = read(file, text, env, options);
    outcome.config.ok_or(outcome.diagnostics)
}

/// Reads text with every diagnostic kept.
pub fn read(file: &str, text: &str, env: &dyn KeepalivedEnv, options: &Options) -> Outcome {
    let config_id = options.config_id.clone().unwrap_or_else(|| {
        let node = env.node_name();
        node.split('.').next().unwrap_or_default().to_owned()
    });
    let reader = lexer::Reader::new(env, file, Path::new(file), text, &config_id);
    let mut builder = build::Builder::new(env);
    // keepalived's parent reads the files and applies global_defs; its checker process then
    // reads the consolidated copy for the LVS part.
    let mut first = stream::Stream::first_pass(reader);
    first.run(&mut builder);
    let (lines, diags) = first.into_parts();
    let mut second = stream::Stream::checker_pass(lines, diags);
    second.run(&mut builder);
    let (_, mut diags) = second.into_parts();
    let mut config = finish::finish(builder, &mut diags);
    let diagnostics = diags.into_sorted();
    let status = config_test_status(&diagnostics);
    let fatal = diagnostics.iter().any(Diagnostic::is_fatal);
    config.warnings.clone_from(&diagnostics);
    Outcome {
        config: (!fatal).then_some(config),
        diagnostics,
        status,
    }
}

/// Reads `path` from `env` (which also serves its includes).
pub fn read_file(path: &Path, env: &dyn KeepalivedEnv, options: &Options) -> Outcome {
    let name = path.display().to_string();
    match env.file_kind(path).map(|_| env.read_file(path)) {
        Some(Ok(text)) if env.file_kind(path) != Some(FileKind::Dir) => {
            read(&name, &text, env, options)
        }
        found => {
            let why = match found {
                Some(Err(e)) => e.to_string(),
                Some(Ok(_)) => "it is a directory".to_owned(),
                None => "no such file".to_owned(),
            };
            let diagnostic = Diagnostic {
                pos: Pos::new(&name.as_str().into(), 0),
                severity: Severity::Fatal { status: 4 },
                phase: Phase::Global,
                message: format!("cannot read the configuration: {why}"),
            };
            Outcome {
                config: None,
                diagnostics: vec![diagnostic],
                status: 4,
            }
        }
    }
}

/// `check-config` for a keepalived.conf on this machine: the text to print (one
/// diagnostic per line, then a summary) and the exit status of `keepalived
/// --config-test` for the file. A missing file exits 4 (keepalived 2.2.7 exits 0).
pub fn check_keepalived_file(path: &Path, options: &Options) -> (String, u8) {
    let outcome = read_file(path, &SystemEnv::default(), options);
    (
        render(&path.display().to_string(), &outcome),
        outcome.status,
    )
}

/// Diagnostics one per line, then what was read.
pub fn render(file: &str, outcome: &Outcome) -> String {
    let mut out = String::new();
    for d in &outcome.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    if let Some(c) = &outcome.config {
        let reals: usize = c.virtual_servers.iter().map(|v| v.real_servers.len()).sum();
        let checkers: usize = c
            .virtual_servers
            .iter()
            .flat_map(|v| &v.real_servers)
            .map(|r| r.checkers.len())
            .sum();
        for s in &c.skipped {
            let _ = writeln!(out, "{}: skipped: {} {}", s.pos, s.keyword, s.name);
        }
        let _ = writeln!(
            out,
            "{file}: {}: {} virtual server(s), {reals} real server(s), {checkers} checker(s), {} skipped block(s)",
            if outcome.status == 0 {
                "OK"
            } else {
                "usable with errors"
            },
            c.virtual_servers.len(),
            c.skipped.len()
        );
    }
    out
}
