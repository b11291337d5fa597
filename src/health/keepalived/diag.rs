//! Diagnostics of the keepalived.conf reader and the exit status they add up to.
//!
//! keepalived's `--config-test` reads the file once per process (the parent, which applies
//! `global_defs`; the checker, which applies the LVS part; then VRRP and BFD) and prints what
//! each pass finds, in that order. A single pass here tags every diagnostic with the
//! [`Phase`] that would have printed it, so sorting by phase gives keepalived's order and
//! the first error is the one keepalived prints first.
//!
//! The exit status follows keepalived 2.2.7 as measured (docs/keepalived-compat.md):
//! 0 when nothing was reported; 5 when anything was reported through its configuration
//! error channel, including the many "corrected, continuing" messages; 6 for a script
//! security violation, or for an `include` failure that `include_check` or the include
//! variant (`includem`, `includew`, `includeb`, `includea`) makes fatal, which stops after
//! the first pass; 2 when a keyword lacks a parameter, which stops keepalived on the spot.

use std::fmt;
use std::sync::Arc;

/// Where a diagnostic points: the file (the included file when the line came from one) and
/// its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub file: Arc<str>,
    pub line: usize,
}

impl Pos {
    pub fn new(file: &Arc<str>, line: usize) -> Self {
        Self {
            file: Arc::clone(file),
            line,
        }
    }
}

/// As `FILE:LINE`.
impl serde::Serialize for Pos {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// How much a diagnostic matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// keepalived stops reading here and `--config-test` exits with `status`.
    Fatal { status: u8 },
    /// keepalived reports it (exit 5) and runs anyway, having ignored or corrected the
    /// value as the message says; the model holds what keepalived would run.
    Error,
    /// A check or notify script would run without `enable_script_security` (exit 6).
    Security,
    /// lvsctl's own finding (something it does not support, a likely mistake); keepalived
    /// is silent about it or only logs it, so the exit status does not change.
    Warning,
    /// Information: what was skipped or ignored, and messages keepalived prints but does not
    /// count as configuration errors.
    Note,
}

/// Which keepalived pass would print a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// The parent's pass: reading and including files, top-level keywords, `global_defs`.
    Global,
    /// The checker's pass over virtual servers, groups, `track_file` and `SSL` blocks.
    Checker,
    /// The checker's checks after reading (defaults, ports, quorum, scripts).
    Validate,
}

/// One finding, tied to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub pos: Pos,
    pub severity: Severity,
    pub phase: Phase,
    pub message: String,
}

impl Diagnostic {
    pub fn is_fatal(&self) -> bool {
        matches!(self.severity, Severity::Fatal { .. })
    }

    /// Whether `keepalived --config-test` counts it (everything but lvsctl's own warnings
    /// and notes).
    pub fn is_reported_by_keepalived(&self) -> bool {
        !matches!(self.severity, Severity::Warning | Severity::Note)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Fatal { .. } | Severity::Error => "error",
            Severity::Security => "error (script security)",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        write!(f, "{}: {label}: {}", self.pos, self.message)
    }
}

/// The status `keepalived --config-test` exits with for these diagnostics.
pub fn config_test_status(diags: &[Diagnostic]) -> u8 {
    let fatal = |stops_at_once: bool| {
        diags.iter().find_map(|d| match d.severity {
            Severity::Fatal { status } if (status != INCLUDE_FAILED_STATUS) == stops_at_once => {
                Some(status)
            }
            _ => None,
        })
    };
    // A fatal diagnostic that stops keepalived on the spot ends it before the end of the
    // pass, where a failed include would.
    let first_pass_stop = diags
        .iter()
        .filter(|d| d.phase == Phase::Global)
        .find_map(|d| match d.severity {
            Severity::Fatal { status } if status != INCLUDE_FAILED_STATUS => Some(status),
            _ => None,
        });
    if let Some(status) = first_pass_stop
        .or_else(|| fatal(false))
        .or_else(|| fatal(true))
    {
        return status;
    }
    if diags.iter().any(|d| d.severity == Severity::Security) {
        return 6;
    }
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return 5;
    }
    0
}

/// The status of a failed `include` that was required to succeed: keepalived finishes the
/// first pass and then exits with it.
pub const INCLUDE_FAILED_STATUS: u8 = 6;

/// Collects diagnostics in keepalived's order and stops collecting what keepalived would
/// never print: after a fatal diagnostic, only earlier phases go on.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// What the first pass reported: later passes repeat it, keepalived prints it again.
    first_pass: std::collections::HashSet<(Pos, String)>,
    /// The phase of the first fatal diagnostic: later phases are dropped.
    fatal_phase: Option<Phase>,
    /// Diagnostics not kept beyond [`MAX_KEPT`].
    dropped: usize,
    /// The severities among the kept diagnostics.
    kept_severities: std::collections::HashSet<Severity>,
}

/// How many diagnostics are kept in full.
const MAX_KEPT: usize = 1000;

impl Diagnostics {
    pub fn push(&mut self, pos: Pos, severity: Severity, phase: Phase, message: String) {
        if self.stopped(phase) {
            return;
        }
        // Past this many, only what changes the status is kept (one generated line can
        // repeat a problem a million times).
        if self.items.len() >= MAX_KEPT
            && !matches!(severity, Severity::Fatal { .. })
            && self.kept_severities.contains(&severity)
        {
            self.dropped += 1;
            return;
        }
        self.kept_severities.insert(severity);
        match phase {
            Phase::Global => {
                self.first_pass.insert((pos.clone(), message.clone()));
            }
            _ if self.first_pass.contains(&(pos.clone(), message.clone())) => return,
            _ => {}
        }
        if let Severity::Fatal { status } = severity {
            // A failed include ends keepalived after the first pass; anything else at once.
            let from = if status == INCLUDE_FAILED_STATUS && phase == Phase::Global {
                Phase::Checker
            } else {
                phase
            };
            self.fatal_phase = Some(self.fatal_phase.map_or(from, |p| p.min(from)));
        }
        self.items.push(Diagnostic {
            pos,
            severity,
            phase,
            message,
        });
    }

    /// Like [`Self::push`], but kept however many came before (for the one message that
    /// explains why reading stopped).
    pub fn push_kept(&mut self, pos: Pos, severity: Severity, phase: Phase, message: String) {
        if !self.stopped(phase) {
            self.items.push(Diagnostic {
                pos,
                severity,
                phase,
                message,
            });
        }
    }

    /// True once a fatal diagnostic of `phase` or an earlier one was recorded: nothing of
    /// `phase` is read any more.
    pub fn stopped(&self, phase: Phase) -> bool {
        self.fatal_phase.is_some_and(|p| phase >= p)
    }

    /// In keepalived's printing order (phase, then discovery order).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| d.phase);
        if self.dropped > 0
            && let Some(last) = self.items.last().map(|d| d.pos.clone())
        {
            self.items.push(Diagnostic {
                pos: last,
                severity: Severity::Note,
                phase: Phase::Validate,
                message: format!("{} more diagnostics not shown", self.dropped),
            });
        }
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize) -> Pos {
        Pos::new(&Arc::from("k.conf"), line)
    }

    #[test]
    fn status_is_the_first_fatal_else_security_else_error() {
        let mut d = Diagnostics::default();
        d.push(pos(1), Severity::Note, Phase::Global, "n".into());
        assert_eq!(config_test_status(&d.into_sorted()), 0);
        let mut d = Diagnostics::default();
        d.push(pos(1), Severity::Error, Phase::Checker, "e".into());
        d.push(pos(2), Severity::Security, Phase::Validate, "s".into());
        assert_eq!(config_test_status(&d.into_sorted()), 6);
        let mut d = Diagnostics::default();
        d.push(pos(3), Severity::Error, Phase::Global, "e".into());
        d.push(
            pos(4),
            Severity::Fatal { status: 2 },
            Phase::Checker,
            "f".into(),
        );
        d.push(pos(5), Severity::Error, Phase::Checker, "dropped".into());
        d.push(pos(6), Severity::Error, Phase::Global, "kept".into());
        let sorted = d.into_sorted();
        assert_eq!(config_test_status(&sorted), 2);
        let lines: Vec<usize> = sorted.iter().map(|d| d.pos.line).collect();
        assert_eq!(lines, [3, 6, 4]);
    }

    #[test]
    fn a_fatal_include_failure_keeps_the_rest_of_the_first_pass_only() {
        let mut d = Diagnostics::default();
        d.push(
            pos(1),
            Severity::Fatal { status: 6 },
            Phase::Global,
            "inc".into(),
        );
        d.push(
            pos(2),
            Severity::Error,
            Phase::Global,
            "later global".into(),
        );
        d.push(pos(3), Severity::Error, Phase::Checker, "checker".into());
        let sorted = d.into_sorted();
        assert_eq!(sorted.len(), 2);
        assert_eq!(config_test_status(&sorted), 6);
    }
}
