//! `lvsctl health check-config FILE`: offline validation with rendered diagnostics.
//!
//! Exit policy: 0 when the file is usable (warnings are printed but do not fail), 2 when it
//! has errors (the code ldirectord exits with on a configuration error).

use std::fmt::Write as _;
use std::path::Path;

use super::diag::{ConfigError, ErrorKind, Warning};
use super::env::{ParseEnv, SystemEnv};
use super::parse_with_diagnostics;

/// Exit code for a usable file.
pub const EXIT_OK: i32 = 0;
/// Exit code for a file with errors (ldirectord's).
pub const EXIT_CONFIG_ERROR: i32 = 2;

/// Reads and validates `path` against the real system; returns the text to print (one
/// diagnostic per line, warnings first in line order) and the exit code.
pub fn check_config_file(path: &Path) -> (String, i32) {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            check_config_text(&name, &text, &SystemEnv::new())
        }
        Err(e) => {
            let err = ConfigError {
                file: name,
                line: 0,
                kind: ErrorKind::Io(e.to_string()),
            };
            (render(&[], &[err]), EXIT_CONFIG_ERROR)
        }
    }
}

/// [`check_config_file`] with `--strict`: every warning counts as an error (exit 2) and is
/// printed as one.
pub fn check_config_file_strict(path: &Path) -> (String, i32) {
    let (out, code) = check_config_file(path);
    strictify(out, code)
}

/// [`check_config_file`] for text already in memory, with an injected environment.
pub fn check_config_text(file: &str, text: &str, env: &dyn ParseEnv) -> (String, i32) {
    let parsed = parse_with_diagnostics(file, text, env);
    match parsed.config {
        Some(config) => {
            let warnings = parsed.warnings;
            let mut out = render(&warnings, &[]);
            let reals: usize = config.virtuals.iter().map(|v| v.reals.len()).sum();
            let _ = writeln!(
                out,
                "{file}: OK: {} virtual service(s), {reals} real server(s), {} warning(s)",
                config.virtuals.len(),
                warnings.len()
            );
            (out, EXIT_OK)
        }
        None => (render(&parsed.warnings, &parsed.errors), EXIT_CONFIG_ERROR),
    }
}

/// Turns a non-strict report into a strict one.
pub fn strictify(out: String, code: i32) -> (String, i32) {
    let has_warnings = out.contains(": warning: ");
    if !has_warnings {
        return (out, code);
    }
    let strict = out
        .lines()
        .filter(|l| !l.contains(": OK: "))
        .map(|l| l.replacen(": warning: ", ": error: ", 1) + "\n")
        .collect();
    (strict, EXIT_CONFIG_ERROR)
}

/// `FILE:LINE: error: ...` / `FILE:LINE: warning: ...`, sorted by line.
pub fn render(warnings: &[Warning], errors: &[ConfigError]) -> String {
    let mut lines: Vec<(usize, String)> = warnings
        .iter()
        .map(|w| (w.line, w.to_string()))
        .chain(errors.iter().map(|e| (e.line, e.to_string())))
        .collect();
    lines.sort_by_key(|(line, _)| *line);
    lines.into_iter().fold(String::new(), |mut out, (_, text)| {
        out.push_str(&text);
        out.push('\n');
        out
    })
}
