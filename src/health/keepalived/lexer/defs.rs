//! `$NAME=value` definitions, their substitution, and the `~SEQ`/`~LST` line generators.
//!
//! keepalived substitutes `$NAME` (followed by a space, tab, `,`, `)` or the end of the
//! line) and `${NAME}` anywhere in a line, and rescans the substituted text, so a value can
//! name another definition. A definition whose line ends with `\` continues on the next
//! lines; such a multi-line value is only substituted where it ends the line, its first
//! line replacing the reference and the others following as lines of their own.
//! Predefined names: `_PWD` (the directory of the file being read), `_INSTANCE` (the `@`
//! config-id), `_RANDOM` (`${_RANDOM MIN MAX}`), `_HASH` (`#`) and `_BANG` (`!`); a file
//! may redefine them.

/// keepalived's line buffer size: a substitution that would make a line this long or
/// longer is not made.
pub const MAX_LINE: usize = 1024;
/// Substitutions per line before giving up on a definition that names itself (keepalived
/// would loop for ever).
const MAX_SUBSTITUTIONS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    Pwd,
    Instance,
    Random,
}

#[derive(Debug, Clone)]
struct Def {
    name: String,
    value: Value,
    multiline: bool,
}

/// What the predefined names expand to while one line is read.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub pwd: &'a str,
    pub instance: &'a str,
    pub random: &'a dyn Fn(u64, u64) -> u64,
}

/// The result of substituting one line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Substituted {
    pub changed: bool,
    /// The rest of multi-line values, in the order they must be pushed on the reader's
    /// stack of pending lines (the last one is read first).
    pub pending: Vec<String>,
    /// Why substitution stopped early, if it did.
    pub problem: Option<&'static str>,
}

/// All definitions made so far.
#[derive(Debug, Clone)]
pub struct Defs {
    defs: Vec<Def>,
}

impl Default for Defs {
    fn default() -> Self {
        let text = |name: &str, value: &str| Def {
            name: name.to_owned(),
            value: Value::Text(value.to_owned()),
            multiline: false,
        };
        let special = |name: &str, value| Def {
            name: name.to_owned(),
            value,
            multiline: false,
        };
        Self {
            defs: vec![
                special("_PWD", Value::Pwd),
                special("_INSTANCE", Value::Instance),
                special("_RANDOM", Value::Random),
                text("_HASH", "#"),
                text("_BANG", "!"),
            ],
        }
    }
}

/// A `$NAME=value` line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    /// For a multi-line definition: its first line followed by `\n` (empty when the first
    /// line holds only the `\`).
    pub value: String,
    pub multiline: bool,
}

/// Reads `$NAME=value` (no blanks before the `=`); None when the line is not one.
pub fn parse_definition(line: &str) -> Option<Definition> {
    let rest = line.strip_prefix('$')?;
    let first = rest.bytes().next()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let eq = rest.find('=')?;
    let name = &rest[..eq];
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let value = rest[eq + 1..].trim_start_matches([' ', '\t']);
    match value.strip_suffix('\\') {
        Some(head) => {
            let head = head.trim_end_matches([' ', '\t']);
            Some(Definition {
                name: name.to_owned(),
                value: if head.is_empty() {
                    String::new()
                } else {
                    format!("{head}\n")
                },
                multiline: true,
            })
        }
        None => Some(Definition {
            name: name.to_owned(),
            value: value.to_owned(),
            multiline: false,
        }),
    }
}

impl Defs {
    /// Defines (or redefines, predefined names included) a name.
    pub fn define(&mut self, def: Definition) {
        let new = Def {
            name: def.name,
            value: Value::Text(def.value),
            multiline: def.multiline,
        };
        match self.defs.iter_mut().find(|d| d.name == new.name) {
            Some(d) => *d = new,
            None => self.defs.push(new),
        }
    }

    /// Appends a continuation line to the multi-line definition `name`.
    pub fn append(&mut self, name: &str, line: &str) {
        if let Some(Def {
            value: Value::Text(v),
            ..
        }) = self.defs.iter_mut().find(|d| d.name == name)
        {
            v.push_str(line);
        }
    }

    /// Ends a multi-line definition: one that collected nothing is an ordinary empty one.
    pub fn finish(&mut self, name: &str) {
        if let Some(d) = self.defs.iter_mut().find(|d| d.name == name)
            && d.value == Value::Text(String::new())
        {
            d.multiline = false;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Substitutes every reference in `line`, rescanning substituted text.
    pub fn substitute(&self, line: &mut String, ctx: &Context<'_>) -> Substituted {
        let mut out = Substituted::default();
        let mut at = 0;
        let mut count = 0;
        while let Some(offset) = line.get(at..).and_then(|s| s.find('$')) {
            let dollar = at + offset;
            if dollar + 1 >= line.len() {
                break;
            }
            let Some(found) = self.find(line, dollar) else {
                at = dollar + 1;
                continue;
            };
            count += 1;
            if count > MAX_SUBSTITUTIONS {
                out.problem = Some("a definition keeps expanding into itself");
                break;
            }
            let def = &self.defs[found.index];
            let value = match &def.value {
                Value::Text(t) => t.clone(),
                Value::Pwd => ctx.pwd.to_owned(),
                Value::Instance => ctx.instance.to_owned(),
                Value::Random => random_value(found.params.as_deref(), ctx),
            };
            let replacement = match value.split_once('\n') {
                Some((first, rest)) if def.multiline => {
                    out.pending.push(rest.to_owned());
                    first.to_owned()
                }
                _ => value,
            };
            if line.len() - (found.end - dollar) + replacement.len() >= MAX_LINE {
                out.problem =
                    Some("substituting it would make the line longer than 1023 characters");
                break;
            }
            line.replace_range(dollar..found.end, &replacement);
            out.changed = true;
            // A value that starts a generator line is not substituted further here.
            if replacement.trim_start_matches([' ', '\t']).starts_with('~') {
                break;
            }
            at = dollar;
        }
        out
    }

    /// The definition referenced at `line[dollar]`, if any.
    fn find(&self, line: &str, dollar: usize) -> Option<Found> {
        let bytes = line.as_bytes();
        let braces = bytes.get(dollar + 1) == Some(&b'{');
        let start = dollar + 1 + usize::from(braces);
        let first = *bytes.get(start)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let mut end = start + 1;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        let name = &line[start..end];
        let mut params = None;
        let after;
        if braces {
            let mut p = end;
            while p < bytes.len() && (bytes[p] == b' ' || bytes[p].is_ascii_digit()) {
                p += 1;
            }
            let inner = &line[end..p];
            if !inner.trim().is_empty() {
                // Parameters may not end with a space.
                if inner.ends_with(' ') {
                    return None;
                }
                params = Some(inner.trim().to_owned());
            }
            if bytes.get(p) != Some(&b'}') {
                return None;
            }
            after = p + 1;
        } else {
            if !matches!(bytes.get(end), None | Some(b' ' | b'\t' | b',' | b')')) {
                return None;
            }
            after = end;
        }
        let at_end = after == line.len();
        let index = self
            .defs
            .iter()
            .position(|d| d.name == name && (at_end || !d.multiline))?;
        if params.is_some() && self.defs[index].value != Value::Random {
            return None;
        }
        Some(Found {
            index,
            end: after,
            params,
        })
    }
}

struct Found {
    index: usize,
    /// Byte index just after the reference.
    end: usize,
    params: Option<String>,
}

/// `${_RANDOM}`, `${_RANDOM MIN}` or `${_RANDOM MIN MAX}` (keepalived reads the first
/// parameter as the minimum; the maximum defaults to 32767).
fn random_value(params: Option<&str>, ctx: &Context<'_>) -> String {
    let mut nums = params
        .unwrap_or_default()
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap_or(0));
    let min = nums.next().unwrap_or(0);
    let max = nums.next().unwrap_or(32767).max(min);
    (ctx.random)(min, max).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            pwd: "/etc/keepalived",
            instance: "lb1",
            random: &|min, _| min,
        }
    }

    fn sub(defs: &Defs, line: &str) -> (String, Substituted) {
        let mut l = line.to_owned();
        let s = defs.substitute(&mut l, &ctx());
        (l, s)
    }

    fn define(defs: &mut Defs, line: &str) {
        defs.define(parse_definition(line).expect("a definition"));
    }

    #[test]
    fn definitions_need_a_name_directly_followed_by_equals() {
        assert_eq!(
            parse_definition("$VIP=10.0.0.1"),
            Some(Definition {
                name: "VIP".into(),
                value: "10.0.0.1".into(),
                multiline: false
            })
        );
        assert_eq!(parse_definition("$VIP = 10.0.0.1"), None);
        assert_eq!(parse_definition("$1=x"), None);
        let multi = parse_definition("$RS=real_server 10.0.0.2 80 {  \\").expect("multi");
        assert_eq!(multi.value, "real_server 10.0.0.2 80 {\n");
        assert!(multi.multiline);
        assert_eq!(
            parse_definition("$E=\\").map(|d| d.value),
            Some(String::new())
        );
    }

    #[test]
    fn references_are_substituted_and_rescanned() {
        let mut defs = Defs::default();
        define(&mut defs, "$PORT=80");
        define(&mut defs, "$VS=10.0.0.1 $PORT");
        assert_eq!(
            sub(&defs, "virtual_server $VS {").0,
            "virtual_server 10.0.0.1 80 {"
        );
        assert_eq!(sub(&defs, "a ${PORT}x $PORTx").0, "a 80x $PORTx");
        assert_eq!(
            sub(&defs, "id $_INSTANCE $_PWD").0,
            "id lb1 /etc/keepalived"
        );
        assert_eq!(sub(&defs, "r ${_RANDOM 5 9}").0, "r 5");
        assert!(!sub(&defs, "no $UNDEFINED here").1.changed);
    }

    #[test]
    fn multiline_values_expand_only_at_the_end_of_a_line() {
        let mut defs = Defs::default();
        define(&mut defs, "$RS=real_server 10.0.0.2 80 { \\");
        defs.append("RS", "weight 2\n");
        defs.append("RS", "}");
        let (line, s) = sub(&defs, "   $RS");
        assert_eq!(line, "   real_server 10.0.0.2 80 {");
        assert_eq!(s.pending, ["weight 2\n}"]);
        assert!(!sub(&defs, "$RS more").1.changed);
    }

    #[test]
    fn self_reference_stops_instead_of_looping() {
        let mut defs = Defs::default();
        define(&mut defs, "$A=$A");
        assert!(sub(&defs, "x $A").1.problem.is_some());
        define(&mut defs, "$B=$B $B");
        assert!(sub(&defs, "x $B").1.problem.is_some());
    }
}
