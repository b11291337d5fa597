//! Following `include` lines: expanding the pattern, reporting what is missing at the
//! level the variant and `include_check` ask for, and opening the matches one by one.

use super::super::diag::{INCLUDE_FAILED_STATUS, Phase, Pos, Severity};
use super::super::env::FileKind;
use super::super::glob;
use super::files::{Frame, OpenFile, flags};
use super::{MAX_INCLUDE_DEPTH, Reader};

impl Reader<'_> {
    /// Records an `include` failure: fatal after this pass when `include_check` or the
    /// include variant asks for `class`, a note otherwise (keepalived prints it and goes on).
    fn include_problem(&mut self, pos: &Pos, kind: u8, class: u8, message: String) {
        let severity = if (self.include_check | kind) & class != 0 {
            Severity::Fatal {
                status: INCLUDE_FAILED_STATUS,
            }
        } else {
            Severity::Note
        };
        self.diags
            .push(pos.clone(), severity, Phase::Global, message);
    }

    pub(super) fn include(&mut self, pos: &Pos, kind: u8, pattern: &str) {
        let Some(including) = self.frames.iter().rev().find_map(|f| f.file.as_ref()) else {
            return;
        };
        let (base, base_shown) = (including.dir.clone(), including.dir_shown.clone());
        if self.frames.len() > MAX_INCLUDE_DEPTH {
            self.error(
                pos,
                format!("include {pattern:?}: files nested more than {MAX_INCLUDE_DEPTH} deep"),
            );
            return;
        }
        let mut found = glob::expand(self.env, &base, pattern);
        let checks = self.include_check | kind;
        if found.matches.is_empty() {
            if found.missing > 0 {
                let class = if glob::has_brace(pattern) {
                    flags::BRACE
                } else {
                    flags::MATCH
                };
                self.include_problem(
                    pos,
                    kind,
                    class,
                    format!("include {pattern:?}: no such file"),
                );
            } else if found.wildcards && checks & flags::WILDCARD != 0 {
                self.include_problem(
                    pos,
                    kind,
                    flags::WILDCARD,
                    format!("include {pattern:?}: no file matches"),
                );
            }
            return;
        }
        if found.missing > 0 {
            self.include_problem(
                pos,
                kind,
                flags::BRACE,
                format!("include {pattern:?}: some of the files do not exist"),
            );
            if checks & flags::BRACE != 0 {
                return;
            }
        }
        for m in &mut found.matches {
            if !m.shown.starts_with('/') && !base_shown.is_empty() {
                m.shown = format!("{base_shown}/{}", m.shown);
            }
        }
        self.frames.push(Frame {
            kind,
            saved_check: self.include_check,
            remaining: found.matches.into(),
            file: None,
            pos: pos.clone(),
        });
        if !self.open_next_match() {
            self.frames.pop();
        }
    }

    /// Opens the next usable match of the innermost include; false when none is left.
    pub(super) fn open_next_match(&mut self) -> bool {
        loop {
            let Some(frame) = self.frames.last_mut() else {
                return false;
            };
            let Some(m) = frame.remaining.pop_front() else {
                return false;
            };
            let (kind, pos) = (frame.kind, frame.pos.clone());
            let problem = match self.env.file_kind(&m.path) {
                Some(FileKind::Dir) => Some("is a directory"),
                Some(FileKind::File { executable: true }) => {
                    Some("is executable (keepalived only includes non-executable regular files)")
                }
                Some(FileKind::Other) => Some("is not a regular file"),
                None => Some("does not exist"),
                Some(FileKind::File { executable: false }) => None,
            };
            if let Some(problem) = problem {
                let message = format!("included file {:?} {problem}; skipped", m.shown);
                self.include_problem(&pos, kind, flags::READ, message);
                continue;
            }
            let reading = self.frames.iter().filter_map(|f| f.file.as_ref());
            if reading.clone().any(|f| f.path == m.path) {
                let message = format!(
                    "include cycle: {:?} is already being read; not read again",
                    m.shown
                );
                self.error(&pos, message);
                continue;
            }
            let text = match self.env.read_file(&m.path) {
                Ok(t) => t,
                Err(e) => {
                    let message = format!("cannot read included file {:?}: {e}; skipped", m.shown);
                    self.include_problem(&pos, kind, flags::READ, message);
                    continue;
                }
            };
            let file = OpenFile::new(&m.shown, &m.path, &text);
            if let Some(frame) = self.frames.last_mut() {
                frame.file = Some(file);
                return true;
            }
            return false;
        }
    }
}
