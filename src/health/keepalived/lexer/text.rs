//! Character-level rules of keepalived's reader: comments, words and quoted words.
//!
//! These are keepalived's rules exactly, including their odd corners (a trailing `\` is
//! glued to the word before it, a word ends at a `"`), because a file that means one thing
//! to keepalived must mean the same thing here.

/// The result of cutting a raw line's comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decommented {
    pub text: String,
    /// A `"` was opened and never closed.
    pub unterminated_quote: bool,
}

/// Strips leading blanks, the comment (from the first `#` or `!` outside double quotes)
/// and trailing blanks. `\#` and `\!` outside quotes stand for the character itself. A
/// `\` ending the line is kept, directly after the last non-blank character (keepalived
/// uses it to continue `$NAME=` definitions; anywhere else it stays part of the last word).
pub fn decomment(raw: &str) -> Decommented {
    let bytes = raw.trim_start_matches([' ', '\t']).as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut quote = false;
    let mut comment_at: Option<usize> = None;
    let mut continued = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' => {
                if comment_at.is_none() {
                    quote = !quote;
                }
                out.push(c);
                i += 1;
            }
            b'\\' => {
                let Some(&next) = bytes.get(i + 1) else {
                    continued = true;
                    break;
                };
                if !quote && (next == b'#' || next == b'!') {
                    out.push(next);
                } else {
                    out.push(c);
                    out.push(next);
                }
                i += 2;
            }
            b'!' | b'#' if !quote && comment_at.is_none() => {
                comment_at = Some(out.len());
                out.push(c);
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if let Some(at) = comment_at {
        out.truncate(at);
    }
    while out.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
        out.pop();
    }
    if continued {
        out.push(b'\\');
    }
    Decommented {
        text: String::from_utf8_lossy(&out).into_owned(),
        unterminated_quote: quote,
    }
}

/// keepalived's whitespace: space, tab, form feed, newline, carriage return, vertical tab.
pub fn is_white(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x0c' | b'\n' | b'\r' | b'\x0b')
}

/// Splits a line into words. A word starting with `"` runs to the next `"` (quotes
/// dropped, no escapes); any other word ends at whitespace or at a `"`. An unmatched `"`
/// ends the split: the second value is true and the words before it are returned.
pub fn split_words(line: &str) -> (Vec<String>, bool) {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_white(bytes[i]) {
            i += 1;
        }
        if i >= bytes.len() {
            return (words, false);
        }
        if bytes[i] == b'"' {
            let start = i + 1;
            let Some(len) = bytes[start..].iter().position(|b| *b == b'"') else {
                return (words, true);
            };
            words.push(line[start..start + len].to_owned());
            i = start + len + 1;
        } else {
            let start = i;
            while i < bytes.len() && !is_white(bytes[i]) && bytes[i] != b'"' {
                i += 1;
            }
            words.push(line[start..i].to_owned());
        }
    }
}

/// Why a line could not be split with quotes and escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteError {
    /// A `"` or `'` was opened and never closed.
    Unterminated(char),
    /// The line ends with a lone `\`.
    TrailingEscape,
}

/// Splits a line the way keepalived splits script command lines and regular expressions:
/// `"..."` and `'...'` group (and may start mid-word), and `\` escapes work everywhere:
/// `\a \b \E \f \n \r \t \v`, `\xHH...`, `\cX` (control character), up to three octal
/// digits, anything else stands for itself.
pub fn quoted_escaped(line: &str) -> Result<Vec<String>, QuoteError> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    loop {
        while quote.is_none() && i < bytes.len() && is_white(bytes[i]) {
            i += 1;
        }
        if i >= bytes.len() {
            return Ok(words);
        }
        let mut word: Vec<u8> = Vec::new();
        while i < bytes.len() {
            let c = bytes[i];
            match (quote, c) {
                (_, b'\\') => {
                    let (value, next) = escape(bytes, i + 1)?;
                    word.push(value);
                    i = next;
                }
                (Some(q), _) if c == q => {
                    quote = None;
                    i += 1;
                }
                (None, _) if is_white(c) => break,
                (None, b'"' | b'\'') => {
                    quote = Some(c);
                    i += 1;
                }
                (Some(_) | None, _) => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        if let Some(q) = quote {
            return Err(QuoteError::Unterminated(char::from(q)));
        }
        words.push(String::from_utf8_lossy(&word).into_owned());
    }
}

/// Reads the escape starting at `bytes[at]` (just after the `\`): its value and where the
/// text resumes.
fn escape(bytes: &[u8], at: usize) -> Result<(u8, usize), QuoteError> {
    let Some(&c) = bytes.get(at) else {
        return Err(QuoteError::TrailingEscape);
    };
    let hex = |b: u8| char::from(b).to_digit(16);
    if c == b'x' && bytes.get(at + 1).copied().and_then(hex).is_some() {
        let mut value: u8 = 0;
        let mut i = at + 1;
        while let Some(d) = bytes.get(i).copied().and_then(hex) {
            value = value.wrapping_shl(4) | d as u8;
            i += 1;
        }
        return Ok((value, i));
    }
    if c == b'c' && at + 1 < bytes.len() {
        return Ok((bytes[at + 1] & 0x1f, at + 2));
    }
    if (b'0'..=b'7').contains(&c) {
        let mut value = c - b'0';
        let mut i = at + 1;
        for _ in 0..2 {
            match bytes.get(i) {
                Some(&d) if (b'0'..=b'7').contains(&d) => {
                    value = value.wrapping_shl(3).wrapping_add(d - b'0');
                    i += 1;
                }
                _ => break,
            }
        }
        return Ok((value, i));
    }
    let value = match c {
        b'a' => 0x07,
        b'b' => 0x08,
        b'E' => 0x1b,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 0x0b,
        other => other,
    };
    Ok((value, at + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(s: &str) -> String {
        decomment(s).text
    }

    #[test]
    fn comments_start_at_hash_or_bang_outside_quotes() {
        assert_eq!(dc("  lb_algo rr # comment"), "lb_algo rr");
        assert_eq!(dc("lb_algo rr! comment"), "lb_algo rr");
        assert_eq!(dc(r#"path "/a#b" # c"#), r#"path "/a#b""#);
        assert_eq!(dc(r"name a\#b"), "name a#b");
        assert_eq!(dc(r#"name "a\#b""#), r#"name "a\#b""#);
        assert_eq!(dc("# only a comment"), "");
    }

    #[test]
    fn a_trailing_backslash_is_glued_to_the_last_word() {
        assert_eq!(dc("lb_algo rr \\"), "lb_algo rr\\");
        assert_eq!(dc("x # comment \\"), "x\\");
        assert!(decomment("a \"b").unterminated_quote);
    }

    #[test]
    fn words_split_on_whitespace_and_quotes() {
        assert_eq!(
            split_words(r#"a "b c"d  e"#),
            (
                vec!["a".into(), "b c".into(), "d".into(), "e".into()],
                false
            )
        );
        assert_eq!(
            split_words("a\"b\" c"),
            (vec!["a".into(), "b".into(), "c".into()], false)
        );
        assert_eq!(split_words("a \"b"), (vec!["a".into()], true));
    }

    #[test]
    fn quoted_escaped_words_group_quotes_and_read_escapes() {
        assert_eq!(
            quoted_escaped(r#"misc_path "/bin/check -h 'a b'" x\ty"#),
            Ok(vec![
                "misc_path".into(),
                "/bin/check -h 'a b'".into(),
                "x\ty".into()
            ])
        );
        assert_eq!(
            quoted_escaped(r"a\x41\101\cA\q"),
            Ok(vec!["aAA\u{1}q".into()])
        );
        assert_eq!(quoted_escaped("'a b"), Err(QuoteError::Unterminated('\'')));
        assert_eq!(quoted_escaped("a\\"), Err(QuoteError::TrailingEscape));
        assert_eq!(
            quoted_escaped("it's'x'"),
            Err(QuoteError::Unterminated('\''))
        );
        assert_eq!(
            quoted_escaped(r#"pre"mid"post"#),
            Ok(vec!["premidpost".into()])
        );
    }
}
