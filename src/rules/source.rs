//! Where things are in a rules file, and the findings reported against those places.
//!
//! Every message `check`, `diff` and `apply` print about a file carries `FILE:LINE:COL`, so
//! editors and CI annotations can jump to the culprit. Positions are 1-based; the column
//! counts characters, not bytes, so it matches what an editor shows.

use std::fmt;

use serde::Serialize;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub const fn new(line: usize, col: usize) -> Self {
        Self { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How bad a finding is. Errors stop `apply` and `diff` before the kernel is touched;
/// warnings are printed and do not (they describe things the kernel may still accept, like a
/// scheduler module we do not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem found in a rules file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub file: String,
    pub pos: Pos,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn error(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            pos,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            pos,
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `FILE:LINE:COL: message` (warnings say so, errors are the default).
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(f, "{}:{}: {label}{}", self.file, self.pos, self.message)
    }
}

/// The 1-based column of byte offset `byte` in `line`, counted in characters.
pub fn column_of(line: &[u8], byte: usize) -> usize {
    let prefix = line.get(..byte).unwrap_or(line);
    // Called once per token: ASCII (nearly every rules file) needs no decoding.
    if prefix.is_ascii() {
        return prefix.len() + 1;
    }
    String::from_utf8_lossy(prefix).chars().count() + 1
}

/// Line and column of byte offset `offset` in a whole text.
pub fn pos_of_offset(text: &[u8], offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.split(|b| *b == b'\n').count();
    Pos::new(line, column_of(&text[line_start..], offset - line_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        assert_eq!(column_of(b"abc", 0), 1);
        assert_eq!(column_of("é x".as_bytes(), 3), 3);
        assert_eq!(pos_of_offset(b"a\nbc\n", 3), Pos::new(2, 2));
        assert_eq!(pos_of_offset(b"a", 99), Pos::new(1, 2));
    }

    #[test]
    fn display_is_file_line_col() {
        let f = Finding::error("r.txt", Pos::new(3, 7), "bad");
        assert_eq!(f.to_string(), "r.txt:3:7: bad");
        let w = Finding::warning("r.txt", Pos::new(1, 1), "odd");
        assert_eq!(w.to_string(), "r.txt:1:1: warning: odd");
    }
}
