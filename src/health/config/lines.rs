//! Splits an ldirectord.cf into global lines, virtual headers and block lines
//! (docs/ldirectord-compat.md, File syntax).
//!
//! The rules are ldirectord's, not a tidier reading of them: a block line is one that, after
//! its comment is cut and each TAB is widened to four spaces, starts with at least four
//! spaces and has something after them; the first line that is not (a blank line included)
//! ends the block and is read as a top-level line. Comment lines never end a block. Only
//! block lines lose their trailing comments; top-level lines keep them (so `quiescent=yes # x`
//! stays an error, as in ldirectord).

use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::values::{is_space, split_directive};

/// One meaningful line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A column-0 line that is not a virtual header; the raw text.
    Global { line: usize, text: String },
    /// `virtual=` (`six` false) or `virtual6=`; the value after `=`, trailing text kept.
    Header {
        line: usize,
        six: bool,
        value: String,
    },
    /// A line of the current block: comment cut, indentation removed.
    Block { line: usize, text: String },
}

/// Classifies every line; problems with indentation are reported here.
pub fn classify(text: &str, d: &mut Diagnostics) -> Vec<Item> {
    let mut items = Vec::new();
    let mut in_block = false;
    // Line of the blank line that closed the last block, for the orphan-line hint.
    let mut ended_at: Option<usize> = None;
    let mut in_orphan_run = false;
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    for (idx, raw) in lines.into_iter().enumerate() {
        let line = idx + 1;
        if is_comment(raw) {
            continue;
        }
        if in_block {
            match block_line(raw, line, d) {
                BlockLine::Member(text) => {
                    items.push(Item::Block { line, text });
                    continue;
                }
                BlockLine::Rejected => continue,
                BlockLine::Ends => {
                    in_block = false;
                    if raw.trim_matches(is_space).is_empty() {
                        ended_at = Some(line);
                    }
                }
            }
        }
        if raw.trim_matches(is_space).is_empty() {
            continue;
        }
        if raw.starts_with(is_space) {
            if !in_orphan_run {
                let kind = if indent_width(raw) >= 4 {
                    ErrorKind::OrphanIndented { ended_at }
                } else {
                    ErrorKind::ShallowIndent
                };
                d.error(line, kind);
            }
            in_orphan_run = true;
            continue;
        }
        in_orphan_run = false;
        ended_at = None;
        match header(raw) {
            Some((six, value)) => {
                in_block = true;
                items.push(Item::Header {
                    line,
                    six,
                    value: value.to_owned(),
                });
            }
            None => items.push(Item::Global {
                line,
                text: raw.to_owned(),
            }),
        }
    }
    items
}

enum BlockLine {
    Member(String),
    /// Reported as an error; the block stays open so later lines are not misread.
    Rejected,
    Ends,
}

fn block_line(raw: &str, line: usize, d: &mut Diagnostics) -> BlockLine {
    let (code, hash_in_quotes) = cut_comment(raw);
    let expanded = code.replace('\t', "    ");
    let rest = expanded.trim_start_matches(' ');
    let indent = expanded.len() - rest.len();
    match (indent, rest.is_empty()) {
        (4.., false) => {
            if hash_in_quotes {
                d.warn(line, WarningKind::HashInQuotes);
            }
            BlockLine::Member(rest.to_owned())
        }
        // ldirectord's `^ {4,}(.+)` matches the spaces themselves here, and then finds no
        // directive in them.
        (5.., true) => {
            d.error(line, ErrorKind::WhitespaceOnly);
            BlockLine::Rejected
        }
        (1..=3, false) => {
            d.error(line, ErrorKind::ShallowIndent);
            BlockLine::Rejected
        }
        _ => BlockLine::Ends,
    }
}

/// `^\s*#`.
fn is_comment(raw: &str) -> bool {
    raw.trim_start_matches(is_space).starts_with('#')
}

/// Cuts a block line at its first `#` outside double quotes. ldirectord cuts at the first
/// `#` even inside quotes, which makes `receive="a#b"` unusable; we keep such a `#` and
/// report whether that happened so the caller can warn (T5 in docs/health-acceptance.md).
fn cut_comment(raw: &str) -> (&str, bool) {
    let mut in_quotes = false;
    let mut hash_in_quotes = false;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '#' if in_quotes => hash_in_quotes = true,
            '#' => return (&raw[..i], hash_in_quotes),
            _ => {}
        }
    }
    (raw, hash_in_quotes)
}

fn indent_width(raw: &str) -> usize {
    raw.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// `virtual=` / `virtual6=` (the key must be exactly that).
fn header(raw: &str) -> Option<(bool, &str)> {
    match split_directive(raw)? {
        ("virtual", value) => Some((false, value)),
        ("virtual6", value) => Some((true, value)),
        _ => None,
    }
}
