//! lvs.cf lines as tokens, and the escapes of `send`/`expect` strings.
//!
//! A line is blank-separated tokens; a token starting with `"` or `'` runs to the same
//! quote (a backslash keeps the next character inside it). A line whose first non-blank
//! character is `#` is a comment; `#` later on a line is text. Lines may end in CR LF.

/// One token and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub quoted: bool,
}

/// The tokens of one line (empty for blank and comment lines), or the reason it cannot
/// be split.
pub fn tokens(line: &str) -> Result<Vec<Token>, &'static str> {
    let line = line.trim_end_matches(['\r', '\n']);
    let body = line.trim_start_matches([' ', '\t']);
    if body.starts_with('#') {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut chars = body.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c == ' ' || c == '\t' {
            chars.next();
            continue;
        }
        if c == '"' || c == '\'' {
            chars.next();
            let mut text = String::new();
            let mut closed = false;
            while let Some((_, d)) = chars.next() {
                if d == c {
                    closed = true;
                    break;
                }
                text.push(d);
                if d == '\\'
                    && let Some((_, e)) = chars.next()
                {
                    text.push(e);
                }
            }
            if !closed {
                return Err("a quoted value is not closed");
            }
            if chars.peek().is_some_and(|&(_, d)| d != ' ' && d != '\t') {
                return Err("text directly after a closing quote");
            }
            out.push(Token { text, quoted: true });
            continue;
        }
        let mut end = body.len();
        while let Some(&(i, d)) = chars.peek() {
            if d == ' ' || d == '\t' {
                end = i;
                break;
            }
            chars.next();
        }
        out.push(Token {
            text: body[start..end].to_owned(),
            quoted: false,
        });
    }
    Ok(out)
}

/// Decodes `\n`, `\r`, `\t` and `\\`; a backslash before any other character stands for
/// that character (`\"` is a quote). A lone backslash at the end is kept.
pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        tokens(line)
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn tokens_split_on_blanks_and_keep_quoted_text_whole() {
        assert_eq!(
            texts("address = 10.0.0.1 eth0:0\r\n"),
            ["address", "=", "10.0.0.1", "eth0:0"]
        );
        assert_eq!(
            texts(r#"send = "GET / HTTP/1.0\r\n\r\n""#),
            ["send", "=", r"GET / HTTP/1.0\r\n\r\n"]
        );
        assert_eq!(
            texts(r#"expect = 'say "hi"'"#),
            ["expect", "=", r#"say "hi""#]
        );
        assert_eq!(
            texts(r#"expect = "a \"b\" c""#),
            ["expect", "=", r#"a \"b\" c"#]
        );
        assert_eq!(texts("   # a comment"), Vec::<String>::new());
        assert_eq!(texts("key = a#b"), ["key", "=", "a#b"]);
        assert!(tokens("send = \"open").is_err());
        assert!(tokens("send = \"a\"b").is_err());
    }

    #[test]
    fn escapes_of_send_and_expect() {
        assert_eq!(
            unescape(r"GET / HTTP/1.0\r\n\r\n"),
            b"GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(unescape(r#"a\tb\\c\"d\q"#), b"a\tb\\c\"dq");
        assert_eq!(unescape("end\\"), b"end\\");
    }
}
