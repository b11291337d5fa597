//! Piranha's `/etc/sysconfig/ha/lvs.cf`, read for its checks (nanny's part); pulse's
//! failover settings are listed as ignored. No Piranha package exists to compare with, so
//! the semantics lvsctl gives each key are stated in docs/piranha.md and tested here.
//!
//! [`parse_piranha`] is a pure function of the text and a name resolver (host names and
//! service names are allowed where Piranha allows them).

mod keys;
mod lexer;
mod model;
mod parse;
mod to_daemon;

#[cfg(test)]
mod tests;
#[cfg(test)]
#[path = "to_daemon_tests.rs"]
mod to_daemon_tests;

use std::fmt::Write as _;
use std::path::Path;

pub use diag::{Diagnostic, Severity};
pub use model::*;
pub use to_daemon::{DEFAULT_KEEPALIVE, Refusal, render_refusals, to_daemon};

use crate::names::{Resolver, SystemResolver};

/// Diagnostics of the lvs.cf reader.
pub mod diag {
    use std::fmt;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Severity {
        /// The file cannot be used as it is.
        Error,
        /// Read, but not supported or not understood.
        Warning,
        Note,
    }

    /// A finding at a line of the file.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Diagnostic {
        pub line: usize,
        pub severity: Severity,
        pub message: String,
    }

    impl Diagnostic {
        /// `FILE:LINE: error: message`.
        pub fn render(&self, file: &str) -> String {
            format!("{file}:{}: {self}", self.line)
        }
    }

    impl fmt::Display for Diagnostic {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let label = match self.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            write!(f, "{label}: {}", self.message)
        }
    }
}

/// check-config's status for a usable file.
pub const EXIT_OK: u8 = 0;
/// check-config's status for a file with errors (as for ldirectord.cf).
pub const EXIT_CONFIG_ERROR: u8 = 2;

/// Reads an lvs.cf. Ok holds the configuration and the warnings and notes; Err every
/// diagnostic when there are errors.
pub fn parse_piranha(
    text: &str,
    names: &dyn Resolver,
) -> Result<(PiranhaConfig, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (config, diags) = parse::parse(text, names);
    if diags.iter().any(|d| d.severity == Severity::Error) {
        Err(diags)
    } else {
        Ok((config, diags))
    }
}

/// check-config's status for a file without errors that lvsctl health refuses to run
/// (as for a keepalived.conf).
pub const EXIT_REFUSED: u8 = 1;

/// `check-config` for an lvs.cf on this machine: what to print and the exit status. After
/// the reader's findings and summary come the refusals of the daemon's mapping.
pub fn check_piranha_file(path: &Path) -> (String, u8) {
    let name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            return (
                format!("{name}:0: error: cannot read the file: {e}\n"),
                EXIT_CONFIG_ERROR,
            );
        }
    };
    let (out, result) = match parse_piranha(&text, &SystemResolver::new()) {
        Ok((config, diags)) => (diags, Some(config)),
        Err(diags) => (diags, None),
    };
    let mut text = String::new();
    for d in &out {
        let _ = writeln!(text, "{}", d.render(&name));
    }
    match result {
        Some(c) => {
            for i in &c.ignored {
                let _ = writeln!(text, "{name}:{}: ignored: {} ({})", i.line, i.key, i.reason);
            }
            let servers: usize = c.virtuals.iter().map(|v| v.servers.len()).sum();
            let _ = writeln!(
                text,
                "{name}: OK: {} virtual(s), {servers} server(s)",
                c.virtuals.len()
            );
            match to_daemon(&name, &c) {
                Ok(_) => (text, EXIT_OK),
                Err(refusals) => {
                    text.push_str(&render_refusals(&refusals));
                    (text, EXIT_REFUSED)
                }
            }
        }
        None => (text, EXIT_CONFIG_ERROR),
    }
}
