//! Splitting a save/restore file into lines of tokens, keeping where each token stands.
//!
//! The rules are ipvsadm -R's (docs/ipvsadm-compat.md, Restore), so a file means the same
//! to `lvsctl apply` as to `ipvsadm -R`: tokens are runs of anything but blank, TAB, CR and
//! LF, at most 4096 bytes; LF ends a line; a token `ipvsadm` is dropped wherever it stands;
//! `#` is an ordinary character; a token is cut at a NUL byte. The one difference is
//! deliberate: ipvsadm silently loses a last line that ends in two or more blanks without a
//! newline; we keep it and report [`Tokenized::lost_last_line`] so lint can warn that
//! ipvsadm would drop it.

use super::source::{Pos, column_of};

/// Longest token ipvsadm reads; a longer run becomes several tokens.
const MAX_TOKEN: usize = 4096;

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub pos: Pos,
}

/// The tokens of one non-empty line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLine {
    /// 1-based line number in the file.
    pub line: usize,
    pub tokens: Vec<Token>,
}

impl TokenLine {
    /// The tokens as argv (without argv[0]), the shape the ipvsadm parser takes.
    pub fn argv(&self) -> Vec<String> {
        self.tokens.iter().map(|t| t.text.clone()).collect()
    }

    /// Where the line starts (its first token), for findings about the whole line.
    pub fn start(&self) -> Pos {
        self.tokens
            .first()
            .map_or(Pos::new(self.line, 1), |t| t.pos)
    }
}

/// A tokenized file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokenized {
    pub lines: Vec<TokenLine>,
    /// Line number of a last line ipvsadm -R would silently ignore.
    pub lost_last_line: Option<usize>,
}

const fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Tokenize a whole file. Never fails: any bytes give some tokens.
pub fn tokenize(input: &[u8]) -> Tokenized {
    let mut out = Tokenized::default();
    let raw_lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
    let last = raw_lines.len().saturating_sub(1);
    for (index, raw) in raw_lines.iter().enumerate() {
        let tokens = line_tokens(raw, index + 1);
        if tokens.is_empty() {
            continue;
        }
        let unterminated = index == last;
        if unterminated && trailing_separators(raw) >= 2 {
            out.lost_last_line = Some(index + 1);
        }
        out.lines.push(TokenLine {
            line: index + 1,
            tokens,
        });
    }
    out
}

fn trailing_separators(raw: &[u8]) -> usize {
    raw.iter().rev().take_while(|b| is_separator(**b)).count()
}

/// A token's text: its bytes when they are UTF-8 (one allocation), else lossily decoded.
fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn line_tokens(raw: &[u8], line: usize) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(8);
    let mut pos = 0;
    while pos < raw.len() {
        if is_separator(raw[pos]) {
            pos += 1;
            continue;
        }
        let run = raw[pos..]
            .iter()
            .take(MAX_TOKEN)
            .take_while(|b| !is_separator(**b))
            .count();
        let bytes = &raw[pos..pos + run];
        let bytes = bytes.split(|b| *b == 0).next().unwrap_or_default();
        if bytes != b"ipvsadm" {
            tokens.push(Token {
                text: text_of(bytes),
                pos: Pos::new(line, column_of(raw, pos)),
            });
        }
        pos += run;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &Tokenized) -> Vec<(usize, Vec<String>)> {
        t.lines.iter().map(|l| (l.line, l.argv())).collect()
    }

    #[test]
    fn lines_keep_their_numbers_and_columns() {
        let t = tokenize(b"\n-A -t 1.2.3.4:80\r\n  \n\tipvsadm -a  -r x\n");
        assert_eq!(
            texts(&t),
            vec![
                (2, vec!["-A".into(), "-t".into(), "1.2.3.4:80".into()]),
                (4, vec!["-a".into(), "-r".into(), "x".into()]),
            ]
        );
        assert_eq!(t.lines[0].tokens[2].pos, Pos::new(2, 7));
        assert_eq!(t.lines[1].tokens[1].pos, Pos::new(4, 14));
        assert_eq!(t.lost_last_line, None);
    }

    #[test]
    fn quirks_of_ipvsadm_are_kept() {
        let t = tokenize(b"# c\n-s a\0b\n-A  ");
        assert_eq!(t.lines[0].argv(), vec!["#", "c"]);
        assert_eq!(t.lines[1].argv(), vec!["-s", "a"]);
        assert_eq!(t.lost_last_line, Some(3));
        let long = vec![b'x'; MAX_TOKEN + 1];
        assert_eq!(tokenize(&long).lines[0].tokens.len(), 2);
    }
}
