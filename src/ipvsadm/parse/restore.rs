//! Splitting `-R` input into command lines the way ipvsadm 1.31 does.
//!
//! ipvsadm reads stdin with a `fscanf` token/separator loop; its observable rules are
//! reproduced here, quirks included: tokens are runs of anything but blank, TAB, CR and
//! LF, at most 4096 bytes (longer runs split); LF ends a line; a token `ipvsadm` is
//! dropped wherever it stands; `#` is an ordinary character; a token is cut at a NUL byte;
//! a last line without LF still counts, unless its final token is followed by two or more
//! separators (then it is silently lost).

/// Longest token; a longer run of non-separators becomes several tokens.
const MAX_TOKEN: usize = 4096;

const fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The command lines of a restore input, each as argv without `argv[0]`. Lines without
/// tokens are left out (ipvsadm skips them).
pub fn restore_lines(input: &[u8]) -> Vec<Vec<String>> {
    let mut reader = LineReader { input, pos: 0 };
    let mut lines = Vec::new();
    while let Some(line) = reader.next_line() {
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

struct LineReader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl LineReader<'_> {
    /// One line's tokens, or `None` when reading stops (end of input, including the
    /// "dropped last line" case).
    fn next_line(&mut self) -> Option<Vec<String>> {
        let mut tokens = Vec::new();
        loop {
            let Some(&c) = self.input.get(self.pos) else {
                // Nothing left before a token could start.
                return (!tokens.is_empty()).then_some(tokens);
            };
            if is_separator(c) {
                // A line's separators are skipped one by one; running into the end of
                // input here loses the whole line (ipvsadm's quirk).
                loop {
                    let c = *self.input.get(self.pos)?;
                    self.pos += 1;
                    match c {
                        b'\n' => return Some(tokens),
                        b' ' | b'\t' | b'\r' => {}
                        _ => {
                            self.pos -= 1;
                            break;
                        }
                    }
                }
                continue;
            }
            let start = self.pos;
            let run = self.input[start..]
                .iter()
                .take(MAX_TOKEN)
                .take_while(|b| !is_separator(**b))
                .count();
            self.pos += run;
            push_token(&mut tokens, &self.input[start..start + run]);
            if let Some(&sep) = self.input.get(self.pos).filter(|b| is_separator(**b)) {
                self.pos += 1;
                if sep == b'\n' {
                    return Some(tokens);
                }
            }
        }
    }
}

/// Adds a token as ipvsadm would see it: cut at the first NUL, dropped if `ipvsadm`.
fn push_token(tokens: &mut Vec<String>, raw: &[u8]) {
    let raw = raw.split(|b| *b == 0).next().unwrap_or_default();
    if raw != b"ipvsadm" {
        tokens.push(String::from_utf8_lossy(raw).into_owned());
    }
}
