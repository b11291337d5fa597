//! The stack of files being read: the main file, `include`d files and their globs.
//!
//! keepalived reads a file through `fgets` into a 1024-byte buffer, so a longer line
//! arrives in pieces and only the piece with the newline counts as a line; a last line
//! without a newline is not counted at all. Positions here count the same way, so a
//! FILE:LINE points where keepalived's message would.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::super::diag::Pos;
use super::super::glob::Match;

/// `include` variants as bits: which failures are errors rather than notes.
pub mod flags {
    /// A match that is a directory, executable or unreadable.
    pub const READ: u8 = 1;
    /// A name that does not exist.
    pub const MATCH: u8 = 2;
    /// A wildcard that matches nothing.
    pub const WILDCARD: u8 = 4;
    /// One alternative of a `{a,b}` pattern that does not exist.
    pub const BRACE: u8 = 8;
}

/// One file being read.
#[derive(Debug)]
pub struct OpenFile {
    pub name: Arc<str>,
    /// Where it was read from (to notice an include cycle).
    pub path: PathBuf,
    /// Where its relative `include`s are looked for.
    pub dir: PathBuf,
    /// How that directory is written in diagnostics and `$_PWD`.
    pub dir_shown: String,
    /// The file's pieces as `fgets` would return them: (text, ends a line).
    pieces: VecDeque<(String, bool)>,
    /// Lines completed so far.
    line: usize,
    /// Pieces read so far: the line number in keepalived's consolidated copy of the
    /// configuration, which its checker process reads.
    copy_line: usize,
}

impl OpenFile {
    pub fn new(name: &str, path: &Path, text: &str) -> Self {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir_shown = Path::new(name)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Self {
            name: Arc::from(name),
            path: path.to_path_buf(),
            dir,
            dir_shown,
            pieces: pieces(text),
            line: 0,
            copy_line: 0,
        }
    }

    /// The next piece with the positions keepalived reports for it: in its first pass,
    /// and in the checker's pass over the copy.
    pub fn next_piece(&mut self) -> Option<(Pos, Pos, String)> {
        let (text, ends_line) = self.pieces.pop_front()?;
        if ends_line {
            self.line += 1;
        }
        self.copy_line += 1;
        Some((
            Pos::new(&self.name, self.line),
            Pos::new(&self.name, self.copy_line),
            text,
        ))
    }

    /// The position of the last piece read.
    pub fn pos(&self) -> Pos {
        Pos::new(&self.name, self.line)
    }
}

/// Splits text into `fgets(buf, 1024)` pieces (at most 1023 bytes each).
fn pieces(text: &str) -> VecDeque<(String, bool)> {
    const PIECE: usize = 1023;
    let mut out = VecDeque::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let line_end = bytes[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| start + i + 1);
        let end = line_end.unwrap_or(bytes.len()).min(start + PIECE);
        let ends_line = bytes[end - 1] == b'\n';
        let piece = String::from_utf8_lossy(&bytes[start..end]).into_owned();
        out.push_back((piece, ends_line));
        start = end;
    }
    out
}

/// One `include` (or the main file): its matches, read one after the other.
#[derive(Debug)]
pub struct Frame {
    pub kind: u8,
    /// `include_check` when the include was read; restored at the end of each of its files.
    pub saved_check: u8,
    pub remaining: VecDeque<Match>,
    pub file: Option<OpenFile>,
    /// Where problems opening the next match are reported: the `include` line, later the
    /// end of the match read before.
    pub pos: Pos,
}

/// Whether a line is an `include` and of which kind: (variant bits, pattern).
pub fn include_line(line: &str) -> Option<(u8, &str)> {
    let rest = line.strip_prefix("include")?;
    let space = |b: u8| b.is_ascii_whitespace() || b == 0x0b;
    let bytes = rest.as_bytes();
    let (kind, skip) = match bytes {
        [b, ..] if space(*b) => (0, 1),
        [v, b, ..] if space(*b) => {
            use flags::{BRACE, MATCH, READ, WILDCARD};
            let kind = match v {
                b'r' => READ,
                b'a' => READ | MATCH | BRACE | WILDCARD,
                b'w' => READ | MATCH | WILDCARD,
                b'm' => READ | MATCH,
                b'b' => READ | BRACE,
                _ => return None,
            };
            (kind, 2)
        }
        _ => return None,
    };
    Some((kind, rest[skip..].trim_start_matches([' ', '\t'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_arrive_in_pieces_and_a_last_line_without_newline_is_not_counted() {
        let long = "x".repeat(1500);
        let mut f = OpenFile::new("k.conf", Path::new("k.conf"), &format!("a\n{long}\nlast"));
        let lines: Vec<(usize, usize, usize)> = std::iter::from_fn(|| f.next_piece())
            .map(|(p, c, t)| (p.line, c.line, t.len()))
            .collect();
        assert_eq!(lines, [(1, 1, 2), (1, 2, 1023), (2, 3, 478), (2, 4, 4)]);
    }

    #[test]
    fn include_variants() {
        assert_eq!(include_line("include a.conf"), Some((0, "a.conf")));
        assert_eq!(include_line("includer \t a b"), Some((flags::READ, "a b")));
        assert_eq!(include_line("includea x").map(|i| i.0), Some(15));
        assert_eq!(include_line("include_check read"), None);
        assert_eq!(include_line("includex y"), None);
        assert_eq!(include_line("include"), None);
    }
}
