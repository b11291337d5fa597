//! Diagnostics of the ldirectord.cf parser: typed errors and warnings, each tied to a line.
//!
//! ldirectord stops at the first error; we keep going so one `check-config` run shows every
//! problem. Errors are things ldirectord itself rejects (exit 2). Warnings are things it
//! accepts silently but that almost certainly do not do what the author meant.

use std::fmt;

/// What is wrong with a line that makes the file unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("unknown directive `{0}`")]
    UnknownDirective(String),
    #[error("`{0}` is only valid inside a virtual block")]
    BlockOnly(String),
    #[error("`{0}` is a global directive: it must start in column 0, outside virtual blocks")]
    GlobalOnly(String),
    #[error(
        "indented line outside any virtual block{}",
        .ended_at.map(|l| format!(" (the block ended at line {l}: a blank line ends a virtual block; use a `#` line instead)")).unwrap_or_default()
    )]
    OrphanIndented { ended_at: Option<usize> },
    #[error(
        "top-level line starts with whitespace: globals start in column 0, block lines need at least 4 spaces or a tab"
    )]
    ShallowIndent,
    #[error(
        "whitespace-only line inside a virtual block (ldirectord rejects it; make it empty or a `#` line)"
    )]
    WhitespaceOnly,
    #[error("`{directive}` must be 'yes' or 'no', found {found:?}{}", yes_no_hint(.found))]
    YesNo { directive: String, found: String },
    #[error("`{directive}`: {problem}, found {found:?}")]
    Invalid {
        directive: String,
        found: String,
        problem: String,
    },
    #[error("`{0}` needs a non-empty value in double quotes, e.g. {0}=\"...\"")]
    NeedsQuotes(String),
    #[error("`{directive}` is no longer supported; use {replacement} instead")]
    Removed {
        directive: String,
        replacement: &'static str,
    },
    #[error("`{found}` is not allowed here; use `{instead}` in this block")]
    WrongFamily { found: String, instead: String },
    #[error("IPv6 virtual services need `virtual6=` instead of `virtual=`")]
    Ipv6NeedsVirtual6,
    #[error("invalid address for virtual service: {0:?}")]
    BadVirtual(String),
    #[error("cannot resolve {what} {name:?}")]
    Resolve { what: &'static str, name: String },
    #[error("duplicate virtual service {key} (first defined at line {first_line})")]
    DuplicateVirtual { key: String, first_line: usize },
    #[error("invalid real server: {0}")]
    Real(String),
    #[error("invalid fallback server: {0}")]
    Fallback(String),
    #[error("cannot open {what} {path:?}: {reason}")]
    File {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("cannot read the file: {0}")]
    Io(String),
}

fn yes_no_hint(found: &str) -> &'static str {
    let trimmed = found.trim_end();
    if found.ends_with('\r') {
        " (the line ends in a carriage return: convert the file to Unix line endings)"
    } else if trimmed.contains('#') {
        " (comments are not allowed after a value)"
    } else if trimmed.len() != found.len() {
        " (remove the trailing whitespace)"
    } else {
        ""
    }
}

/// What is odd about a line that ldirectord would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarningKind {
    #[error("`checkcount` is deprecated (it only repeats ping checks); use failurecount")]
    CheckCountDeprecated,
    #[error("`checkinterval` inside a virtual block is ignored unless fork=yes")]
    CheckIntervalIgnored,
    #[error("bare `supervised` is read as supervised=yes; write it out")]
    BareSupervised,
    #[error("maintenance directory {0:?} does not exist")]
    MaintenanceDirMissing(String),
    #[error("`{directive}`: only {used:?} of {found:?} is used; the rest is ignored")]
    TrailingJunk {
        directive: String,
        found: String,
        used: String,
    },
    #[error(
        "`#` inside double quotes: ldirectord cuts the line there and rejects it; lvsctl keeps the `#`"
    )]
    HashInQuotes,
    #[error(
        "quoted thresholds are read as the request/receive strings {request:?}/{receive:?}; write them unquoted: l:N u:N"
    )]
    QuotedThresholds { request: String, receive: String },
    #[error("text {0:?} is ignored")]
    IgnoredText(String),
    #[error("text {0:?} is ignored: thresholds must be written as l:N before u:N")]
    ThresholdOrder(String),
    #[error("virtual service {label} is never checked: {reason}")]
    Unchecked { label: String, reason: String },
    #[error("`{0}` has no port and is read as firewall mark {1}")]
    AddressReadAsFwmark(String, u32),
    #[error("{0}")]
    Note(String),
}

/// A fatal problem at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: error: {kind}")]
pub struct ConfigError {
    pub file: String,
    /// 1-based; 0 when the problem is about the whole file.
    pub line: usize,
    pub kind: ErrorKind,
}

/// A compatibility warning at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    pub line: usize,
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: warning: {}", self.file, self.line, self.kind)
    }
}

/// Collects diagnostics while parsing one file.
#[derive(Debug, Default)]
pub struct Diagnostics {
    file: String,
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<Warning>,
}

impl Diagnostics {
    pub fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn error(&mut self, line: usize, kind: ErrorKind) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line,
            kind,
        });
    }

    pub fn warn(&mut self, line: usize, kind: WarningKind) {
        self.warnings.push(Warning {
            file: self.file.clone(),
            line,
            kind,
        });
    }

    /// Shorthand for the most common error shape.
    pub fn invalid(&mut self, line: usize, directive: &str, found: &str, problem: &str) {
        self.error(
            line,
            ErrorKind::Invalid {
                directive: directive.to_owned(),
                found: found.to_owned(),
                problem: problem.to_owned(),
            },
        );
    }

    pub fn note(&mut self, line: usize, text: impl Into<String>) {
        self.warn(line, WarningKind::Note(text.into()));
    }
}
