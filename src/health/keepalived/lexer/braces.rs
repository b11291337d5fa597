//! Cutting lines at braces, and counting them.

use super::super::diag::{Phase, Pos, Severity};
use super::Reader;

impl Reader<'_> {
    /// Returns the part of `buf` before its first `{` or `}` outside double quotes (or the
    /// brace itself when the line starts with one) and keeps the rest for the next line.
    /// Counts the braces of lines that are a lone brace.
    pub(super) fn split_braces(&mut self, both: &(Pos, Pos), mut buf: String) -> String {
        let pos = &both.0;
        if let Some(at) = first_brace(&buf) {
            let cut = if at == 0 {
                1 + buf[1..].len() - buf[1..].trim_start_matches([' ', '\t']).len()
            } else {
                at
            };
            let rest = buf[cut..].trim_end_matches([' ', '\t']);
            if !rest.is_empty() {
                self.residue = Some((both.clone(), rest.to_owned()));
            }
            buf.truncate(cut);
        }
        let trimmed = buf.trim_end_matches([' ', '\t']).len();
        buf.truncate(trimmed);
        match buf.as_str() {
            "{" => self.open_braces.push(pos.clone()),
            "}" if self.open_braces.pop().is_none() => {
                self.diags.push(
                    pos.clone(),
                    Severity::Error,
                    Phase::Global,
                    "`}` without a matching `{`".to_owned(),
                );
            }
            _ => {}
        }
        buf
    }

    /// At the end of the input: braces never closed.
    pub(super) fn end_of_input(&mut self) {
        if let Some(first) = self.open_braces.first().cloned() {
            let n = self.open_braces.len();
            self.open_braces.clear();
            self.diags.push(
                first,
                Severity::Error,
                Phase::Global,
                format!("{n} `{{` never closed (the first one is here)"),
            );
        }
    }
}

/// Index of the first `{` or `}` outside double quotes (a line starting with a brace
/// counts it even if a quote follows).
fn first_brace(buf: &str) -> Option<usize> {
    let bytes = buf.as_bytes();
    match bytes.first() {
        Some(b'{' | b'}') => return Some(0),
        None => return None,
        _ => {}
    }
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' => return Some(i),
            b'"' => match bytes[i + 1..].iter().position(|b| *b == b'"') {
                Some(close) => i += close + 2,
                None => return None,
            },
            _ => i += 1,
        }
    }
    None
}
