//! `include` patterns, expanded the way keepalived's glob(3) call does (GLOB_BRACE,
//! GLOB_MARK), over [`KeepalivedEnv`] so tests need no real directories.
//!
//! keepalived also counts what glob could not find (directories it could not open, names
//! it could not `lstat`) to tell "a file is missing" from "a wildcard matched nothing";
//! [`Expansion`] carries those counts so the reader can report each case at the level the
//! include variant asks for.

use std::path::{Path, PathBuf};

use super::env::{FileKind, KeepalivedEnv};

/// What one pattern expanded to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    pub matches: Vec<Match>,
    /// Names that could not be looked up and directories that could not be opened.
    pub missing: usize,
    /// A directory had to be read (the pattern has a wildcard somewhere).
    pub wildcards: bool,
}

/// One matched path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// As glob returns it: relative to the including file's directory when the pattern is
    /// relative, with a `/` after directories.
    pub shown: String,
    /// Where to read it.
    pub path: PathBuf,
    pub is_dir: bool,
}

/// Patterns (and braces) beyond this many alternatives are not expanded further.
const MAX_ALTERNATIVES: usize = 1024;

/// Expands `pattern` relative to `base` (the including file's directory).
pub fn expand(env: &dyn KeepalivedEnv, base: &Path, pattern: &str) -> Expansion {
    let mut out = Expansion::default();
    for alternative in braces(pattern) {
        let mut one = expand_one(env, base, &alternative);
        // glob sorts the matches of each brace alternative on its own and appends them.
        one.matches.sort_by(|a, b| a.shown.cmp(&b.shown));
        out.matches.append(&mut one.matches);
        out.missing += one.missing;
        out.wildcards |= one.wildcards;
    }
    out
}

/// Whether the pattern has an unescaped `{` (keepalived then reports missing files at the
/// `includeb` level).
pub fn has_brace(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => return true,
            _ => {}
        }
    }
    false
}

fn expand_one(env: &dyn KeepalivedEnv, base: &Path, pattern: &str) -> Expansion {
    let mut out = Expansion::default();
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    // (shown, path) of what matched so far.
    let root = if absolute {
        (String::from("/"), PathBuf::from("/"))
    } else {
        (String::new(), base.to_path_buf())
    };
    let mut current = vec![root];
    let Some((last, dirs)) = parts.split_last() else {
        // "/" or "": the directory itself.
        if let Some(FileKind::Dir) = env.file_kind(&current[0].1) {
            out.matches.push(Match {
                shown: current[0].0.clone(),
                path: current[0].1.clone(),
                is_dir: true,
            });
        } else {
            out.missing += 1;
        }
        return out;
    };
    for part in dirs {
        current = step(env, &current, part, true, &mut out);
    }
    if is_pattern(last) {
        current = step(env, &current, last, false, &mut out);
        for (shown, path) in current {
            push_match(env, &mut out, shown, path);
        }
    } else {
        for (shown, path) in current {
            let (shown, path) = (join(&shown, &unescape(last)), path.join(unescape(last)));
            if env.file_kind(&path).is_some() {
                push_match(env, &mut out, shown, path);
            } else {
                out.missing += 1;
            }
        }
    }
    out
}

/// Extends every candidate by one path component; with `dirs_only`, keeps directories.
fn step(
    env: &dyn KeepalivedEnv,
    current: &[(String, PathBuf)],
    part: &str,
    dirs_only: bool,
    out: &mut Expansion,
) -> Vec<(String, PathBuf)> {
    if !is_pattern(part) {
        let name = unescape(part);
        return current
            .iter()
            .map(|(shown, path)| (join(shown, &name), path.join(&name)))
            .collect();
    }
    out.wildcards = true;
    let mut next = Vec::new();
    for (shown, path) in current {
        let Some(mut names) = env.read_dir(path) else {
            out.missing += 1;
            continue;
        };
        names.sort();
        for name in names {
            if name.starts_with('.') && !part.starts_with('.') {
                continue;
            }
            if !fnmatch(part.as_bytes(), name.as_bytes()) {
                continue;
            }
            let candidate = path.join(&name);
            if dirs_only && env.file_kind(&candidate) != Some(FileKind::Dir) {
                continue;
            }
            next.push((join(shown, &name), candidate));
            if next.len() >= MAX_ALTERNATIVES {
                return next;
            }
        }
    }
    next
}

fn push_match(env: &dyn KeepalivedEnv, out: &mut Expansion, shown: String, path: PathBuf) {
    let is_dir = env.file_kind(&path) == Some(FileKind::Dir);
    let shown = if is_dir && !shown.ends_with('/') {
        shown + "/"
    } else {
        shown
    };
    out.matches.push(Match {
        shown,
        path,
        is_dir,
    });
}

fn join(shown: &str, name: &str) -> String {
    if shown.is_empty() {
        name.to_owned()
    } else if shown.ends_with('/') {
        format!("{shown}{name}")
    } else {
        format!("{shown}/{name}")
    }
}

fn is_pattern(part: &str) -> bool {
    let mut chars = part.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

fn unescape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut chars = part.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `{a,b}` alternatives, nested braces included; a `{` without its `}` is literal.
pub fn braces(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_braces(pattern, &mut out);
    out
}

fn expand_braces(pattern: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_ALTERNATIVES {
        return;
    }
    let bytes = pattern.as_bytes();
    let Some(open) = find_unescaped(bytes, 0, b'{') else {
        out.push(pattern.to_owned());
        return;
    };
    // Find the matching close and the top-level commas.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    let Some(close) = close else {
        out.push(pattern.to_owned());
        return;
    };
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        let alternative = format!("{prefix}{}{suffix}", &pattern[start..end]);
        expand_braces(&alternative, out);
        start = end + 1;
    }
}

fn find_unescaped(bytes: &[u8], from: usize, wanted: u8) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == wanted {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// fnmatch(3) without flags: `*`, `?`, `[...]` (with `!`/`^` and ranges) and `\` escapes.
pub fn fnmatch(pattern: &[u8], name: &[u8]) -> bool {
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let advanced = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => class(pattern, p, name[n]),
            Some(b'\\') if p + 1 < pattern.len() => (pattern[p + 1] == name[n]).then_some(p + 2),
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match (advanced, star) {
            (Some(next), _) => {
                p = next;
                n += 1;
            }
            (None, Some((sp, sn))) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the bracket expression at `pattern[p]`; the index after it on a
/// match. An unterminated `[` matches itself literally.
fn class(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    let mut i = p + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() && (pattern[i] != b']' || first) {
        first = false;
        let lo = pattern[i];
        if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            matched |= (lo..=pattern[i + 2]).contains(&c);
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
    if i >= pattern.len() {
        return (c == b'[').then_some(p + 1);
    }
    (matched != negate).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::super::env::MemEnv;
    use super::*;

    #[test]
    fn braces_expand_in_order_and_nest() {
        assert_eq!(braces("a{b,c{d,e}}f"), ["abf", "acdf", "acef"]);
        assert_eq!(braces("x{y"), ["x{y"]);
        assert_eq!(braces(r"a\{b,c}"), [r"a\{b,c}"]);
        assert!(has_brace("{a,b}") && !has_brace(r"\{a"));
    }

    #[test]
    fn fnmatch_handles_stars_classes_and_escapes() {
        assert!(fnmatch(b"*.conf", b"a.conf"));
        assert!(!fnmatch(b"*.conf", b"a.conf.bak"));
        assert!(fnmatch(b"a*b*c", b"axxbyyc"));
        assert!(fnmatch(b"[a-c]?", b"bz"));
        assert!(!fnmatch(b"[!a-c]?", b"bz"));
        assert!(fnmatch(br"\*", b"*"));
        assert!(fnmatch(b"[", b"["));
    }

    #[test]
    fn wildcards_read_directories_and_plain_names_are_looked_up() {
        let env = MemEnv::default()
            .file("/k/conf.d/b.conf", "")
            .file("/k/conf.d/a.conf", "")
            .file("/k/conf.d/.hidden.conf", "")
            .file("/k/vs.conf", "");
        let e = expand(&env, Path::new("/k"), "conf.d/*.conf");
        let shown: Vec<&str> = e.matches.iter().map(|m| m.shown.as_str()).collect();
        assert_eq!(shown, ["conf.d/a.conf", "conf.d/b.conf"]);
        assert!(e.wildcards && e.missing == 0);
        let e = expand(&env, Path::new("/k"), "nodir/*.conf");
        assert_eq!((e.matches.len(), e.missing, e.wildcards), (0, 1, true));
        let e = expand(&env, Path::new("/k"), "absent.conf");
        assert_eq!((e.matches.len(), e.missing, e.wildcards), (0, 1, false));
        let e = expand(&env, Path::new("/k"), "{vs.conf,absent.conf}");
        assert_eq!((e.matches.len(), e.missing), (1, 1));
        let e = expand(&env, Path::new("/"), "/k/conf.d");
        assert_eq!(e.matches[0].shown, "/k/conf.d/");
        assert!(e.matches[0].is_dir);
    }
}
