//! ldirectord.cf, read the way ldirectord reads it (the grammar, and where lvsctl differs:
//! docs/ldirectord-compat.md).
//!
//! [`parse_config`] is a pure function of the file text and a [`ParseEnv`] (name lookups,
//! host name, path checks). It returns a fully resolved [`Config`] plus compatibility
//! warnings, or every error it found, each with file and line. Nothing here touches the
//! kernel or runs a check.
//!
//! Stages: `lines` classifies lines (column-0 globals, indented block lines, comments),
//! `globals`/`block`/`shared` read directives as written, `real`/`fallback`/`header` read the
//! structured values, `finish` resolves names and defaults, `lint` adds warnings.

mod block;
mod check;
mod diag;
mod env;
mod fallback;
mod finish;
mod globals;
mod header;
mod keepalived_mail;
mod lines;
mod lint;
mod locate;
mod model;
mod other_formats;
mod real;
mod shared;
mod values;

#[cfg(test)]
mod tests;

pub use check::{
    EXIT_CONFIG_ERROR, EXIT_OK, check_config_file, check_config_file_strict, check_config_text,
    render, strictify,
};
pub use diag::{ConfigError, ErrorKind, Warning, WarningKind};
pub use env::{ParseEnv, StaticEnv, SystemEnv};
pub use keepalived_mail::*;
pub use locate::{ConfigLocation, SEARCH_DIRS, locate_config};
pub use model::*;
pub use other_formats::*;
pub use real::MAX_RANGE;
pub use shared::smtp_server;

use block::RawVirtual;
use diag::Diagnostics;
use globals::{RawGlobals, apply_global};
use lines::Item;

/// Parses an ldirectord.cf. `file` is only used in diagnostics.
pub fn parse_config(
    file: &str,
    text: &str,
    env: &dyn ParseEnv,
) -> Result<(Config, Vec<Warning>), Vec<ConfigError>> {
    let parsed = parse_with_diagnostics(file, text, env);
    match parsed.config {
        Some(config) => Ok((config, parsed.warnings)),
        None => Err(parsed.errors),
    }
}

/// Everything one parse found: the configuration when there were no errors, and all
/// warnings and errors (check-config prints warnings even for a file with errors).
#[derive(Debug)]
pub struct Parsed {
    pub config: Option<Config>,
    pub warnings: Vec<Warning>,
    pub errors: Vec<ConfigError>,
}

/// [`parse_config`] keeping the warnings of a file that also has errors.
pub fn parse_with_diagnostics(file: &str, text: &str, env: &dyn ParseEnv) -> Parsed {
    let mut d = Diagnostics::new(file);
    if text.contains("\r\n") {
        d.note(
            0,
            "the file has Windows (CRLF) line endings; ldirectord reads the carriage returns as part of every value",
        );
    }
    let mut raw = RawGlobals::default();
    let mut blocks: Vec<RawVirtual> = Vec::new();
    for item in lines::classify(text, &mut d) {
        match item {
            Item::Global { line, text } => apply_global(&mut raw, &mut d, env, line, &text),
            Item::Header { line, six, value } => {
                let target = header::parse_header(&mut d, line, six, &value);
                blocks.push(RawVirtual::new(line, six, target));
            }
            Item::Block { line, text } => {
                if let Some(block) = blocks.last_mut() {
                    block.apply(&mut d, env, line, &text);
                }
            }
        }
    }
    let virtuals = finish::finish(&raw, &blocks, env, &mut d);
    let config = d.errors.is_empty().then_some(Config {
        globals: raw.globals,
        virtuals,
    });
    Parsed {
        config,
        warnings: d.warnings,
        errors: d.errors,
    }
}
