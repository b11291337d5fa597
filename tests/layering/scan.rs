//! Finding the paths a source file takes into other top-level modules.
//!
//! Only code counts: comments, string and char literals are blanked out first. A path
//! counts when it starts at the crate root: `crate::x`, each item of a grouped
//! `use crate::{x, y::…}`, or a run of `super::` as long as the file's module path.

use std::path::Path;

/// The module path a file under `src/` declares: `tui/view/mod.rs` is `["tui", "view"]`.
pub fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// `text` with comments, string literals and char literals blanked out (newlines kept, so
/// line numbers stay right).
pub fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // A raw string: r"…", r#"…"#, …
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let mut j = i + 2 + hashes;
            while j < chars.len() {
                let closes = chars
                    .get(j + 1..j + 1 + hashes)
                    .is_some_and(|h| h.iter().all(|&k| k == '#'));
                if chars[j] == '"' && closes {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &k in &chars[i..j.min(chars.len())] {
                out.push(blank(k));
            }
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}'), or else a lifetime ('a).
            let end = if next == Some('\\') {
                chars
                    .get(i + 3..)
                    .and_then(|rest| rest.iter().position(|&k| k == '\''))
                    .map(|p| i + 3 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                for _ in i..=end {
                    out.push(' ');
                }
                i = end + 1;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && is_ident(chars[i - 1])
}

/// The identifier starting at byte `at` of `code` (after any whitespace).
fn ident_at(code: &str, at: usize) -> &str {
    let rest = code[at..].trim_start();
    let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
    &rest[..len]
}

/// The first segment of each item of the group whose `{` is at byte `open` of `code`.
fn group_heads(code: &str, open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = open + 1;
    for (i, c) in code[open..].char_indices() {
        let at = open + i;
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 1 => {
                let head = ident_at(code, item_start);
                if !head.is_empty() {
                    heads.push(head.to_owned());
                }
                if c == '}' {
                    break;
                }
                item_start = at + 1;
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    heads
}

/// Every path in `text` (the source of the file declaring module `module`) that leads to a
/// top-level module other than the file's own: (line, that module).
pub fn foreign_paths(module: &[String], text: &str) -> Vec<(usize, String)> {
    let code = code_only(text);
    let own = module.first().map_or("", String::as_str);
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    let mut push = |at: usize, target: &str| {
        if !target.is_empty() && target != own && target != "self" && target != "super" {
            found.push((line_of(at), target.to_owned()));
        }
    };
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == '$' || c == ':') {
            continue;
        }
        let after = at + "crate::".len();
        let rest = code[after..].trim_start();
        if rest.starts_with('{') {
            let open = code.len() - rest.len();
            for head in group_heads(&code, open) {
                push(at, &head);
            }
        } else {
            push(at, ident_at(&code, after));
        }
    }
    for (at, _) in code.match_indices("super::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let mut end = at;
        let mut climbs = 0;
        while code[end..].starts_with("super::") {
            climbs += 1;
            end += "super::".len();
            end += code[end..].len() - code[end..].trim_start().len();
        }
        if climbs >= module.len() {
            push(at, ident_at(&code, end));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Vec<String> {
        module_of(Path::new(path))
    }

    fn targets(path: &str, text: &str) -> Vec<(usize, String)> {
        foreign_paths(&module(path), text)
    }

    #[test]
    fn scanner_finds_plain_grouped_and_climbing_paths() {
        let text = "use crate::ipvs::Op;\n\
                    use crate::cli::ipvsadm::names::Resolver;\n\
                    use crate::{\n    health::status,\n    tui::{App, update},\n};\n\
                    fn f() { crate::rules::run::check(); }\n\
                    use super::super::cli::top;\n\
                    use super::snapshot::Names;\n";
        assert_eq!(
            targets("tui/view/mod.rs", text),
            [
                (1, "ipvs".to_owned()),
                (2, "cli".to_owned()),
                (3, "health".to_owned()),
                (7, "rules".to_owned()),
                (8, "cli".to_owned()),
            ]
        );
        // Within the file's own top-level module, and paths that do not start at `crate`.
        assert!(targets("tui/app.rs", "use crate::tui::App;\nuse super::view;\n").is_empty());
        assert!(targets("cli/mod.rs", "use lvsctl::crate::x; my_crate::tui::f();").is_empty());
    }

    #[test]
    fn scanner_skips_comments_and_strings() {
        let text = "// use crate::cli::x;\n\
                    /// See [`crate::cli::top`].\n\
                    /* crate::health::x /* nested */ crate::rules */\n\
                    let s = \"crate::cli::x\";\n\
                    let r = r#\"crate::cli \"quoted\" \"#;\n\
                    let c = '\"'; let d = '\\''; fn f<'a>(x: &'a str) {}\n\
                    use crate::units::count;\n";
        assert_eq!(targets("tui/format.rs", text), [(7, "units".to_owned())]);
    }
}
