//! `~SEQ` and `~LST`: lines that keepalived repeats once per value, with variables
//! defined for each repetition.

use super::defs::{Context, Defs};

/// A `~SEQ` or `~LST` line generator: each step sets its variables, then `text` is read
/// as a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    pub steps: Steps,
    pub text: String,
}

/// The values a generator steps through, produced one at a time (a `~SEQ` may count far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Steps {
    Seq {
        var: String,
        hex: bool,
        next: i64,
        step: i64,
        end: i64,
        done: bool,
    },
    Lst(std::collections::VecDeque<Vec<(String, String)>>),
}

impl Iterator for Steps {
    type Item = Vec<(String, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Lst(steps) => steps.pop_front(),
            Self::Seq {
                var,
                hex,
                next,
                step,
                end,
                done,
            } => {
                let in_range = (*step > 0 && *next <= *end) || (*step < 0 && *next >= *end);
                if *done || !in_range {
                    return None;
                }
                let value = *next;
                match value.checked_add(*step) {
                    Some(n) => *next = n,
                    None => *done = true,
                }
                let shown = if *hex {
                    format!("{value:x}")
                } else {
                    value.to_string()
                };
                Some(vec![(var.clone(), shown)])
            }
        }
    }
}

/// Parses `~SEQ(var, [start,] [step,] end) text` (`~SEQx` for hexadecimal values).
/// Parameters are substituted first.
pub fn parse_seq(line: &str, defs: &Defs, ctx: &Context<'_>) -> Result<Generator, &'static str> {
    let rest = line.strip_prefix("~SEQ").ok_or("not a ~SEQ line")?;
    let (hex, rest) = match rest.strip_prefix('x') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix('(').ok_or("expected `(`")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let var_len = rest.find([' ', '\t', ',', ')']).unwrap_or(rest.len());
    let (var, rest) = rest.split_at(var_len);
    let rest = rest.trim_start_matches([' ', '\t']);
    if var.is_empty() || !rest.starts_with(',') {
        return Err("expected a variable name and a `,`");
    }
    let close = rest.find(')').ok_or("missing `)`")?;
    let mut params = rest[1..close].to_owned();
    let sub = defs.substitute(&mut params, ctx);
    if !sub.pending.is_empty() {
        return Err("a parameter is a multi-line definition");
    }
    let nums: Vec<i64> = params
        .split(',')
        .map(|n| parse_c_long(n.trim()))
        .collect::<Option<_>>()
        .ok_or("the parameters must be numbers")?;
    let (start, step, end) = match nums[..] {
        [end] => (
            if end < 0 { -1 } else { 1 },
            if end < 1 { -1 } else { 1 },
            end,
        ),
        [start, end] => (start, if start <= end { 1 } else { -1 }, end),
        [start, step, end] => {
            if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
                return Err("the step does not lead from the start to the end");
            }
            (start, step, end)
        }
        _ => return Err("expected one to three numbers"),
    };
    if hex && (start < 0 || end < 0) {
        return Err("~SEQx takes positive numbers only");
    }
    Ok(Generator {
        steps: Steps::Seq {
            var: var.to_owned(),
            hex,
            next: start,
            step,
            end,
            done: false,
        },
        text: rest[close + 1..].trim_start_matches([' ', '\t']).to_owned(),
    })
}

/// strtol with base 0: decimal, `0x` hexadecimal or leading-`0` octal, optional sign.
fn parse_c_long(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let value = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(if neg { -value } else { value })
}

/// Parses `~LST(var, v1, v2, ...) text` or `~LST({a, b}, {1, 2}, {3, 4}) text`.
pub fn parse_lst(line: &str) -> Result<Generator, &'static str> {
    const BAD: &str = "expected (NAME, VALUE, ...) or ({NAME, ...}, {VALUE, ...}, ...)";
    let rest = line.strip_prefix("~LST").ok_or(BAD)?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let mut p = Cursor::new(rest.strip_prefix('(').ok_or(BAD)?);
    p.blanks();
    let names = p.group(&[' ', '\t', ',', '}']).ok_or(BAD)?;
    if !p.eat(',') {
        return Err(BAD);
    }
    p.blanks();
    let mut steps = std::collections::VecDeque::new();
    loop {
        let values = p.group(&[' ', '\t', ',', '}', ')']).ok_or(BAD)?;
        if values.len() > names.len() {
            return Err("a value list is longer than the name list");
        }
        let step = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), values.get(i).cloned().unwrap_or_default()))
            .collect();
        steps.push_back(step);
        if p.eat(')') {
            break;
        }
        if !p.eat(',') {
            return Err(BAD);
        }
        p.blanks();
    }
    if names.is_empty() || steps.is_empty() {
        return Err(BAD);
    }
    Ok(Generator {
        steps: Steps::Lst(steps),
        text: p.rest().trim_start_matches([' ', '\t']).to_owned(),
    })
}

/// A tiny scanner for `~LST` parameters.
struct Cursor<'a> {
    s: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self { s }
    }

    fn rest(&self) -> &'a str {
        self.s
    }

    fn blanks(&mut self) {
        self.s = self.s.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.s.strip_prefix(c) {
            Some(r) => {
                self.s = r;
                true
            }
            None => false,
        }
    }

    fn word(&mut self, ends: &[char]) -> String {
        let len = self.s.find(ends).unwrap_or(self.s.len());
        let (w, r) = self.s.split_at(len);
        self.s = r;
        self.blanks();
        w.to_owned()
    }

    /// One item or a `{a, b, ...}` group; the cursor is left on the separator after it.
    fn group(&mut self, ends: &[char]) -> Option<Vec<String>> {
        if !self.eat('{') {
            return Some(vec![self.word(ends)]);
        }
        self.blanks();
        let mut items = vec![self.word(ends)];
        while self.eat(',') {
            self.blanks();
            items.push(self.word(ends));
        }
        if !self.eat('}') {
            return None;
        }
        self.blanks();
        Some(items)
    }
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

    #[test]
    fn seq_counts_in_every_form() {
        let defs = Defs::default();
        let values = |line: &str| -> Vec<String> {
            parse_seq(line, &defs, &ctx())
                .expect("valid")
                .steps
                .map(|s| s[0].1.clone())
                .collect()
        };
        assert_eq!(values("~SEQ(i, 3) x"), ["1", "2", "3"]);
        assert_eq!(values("~SEQ(i, 0) x"), ["1", "0"]);
        assert_eq!(values("~SEQ(i, 5, 3) x"), ["5", "4", "3"]);
        assert_eq!(values("~SEQ(i, 0, 5, 12) x"), ["0", "5", "10"]);
        assert_eq!(values("~SEQx(i, 9, 11) x"), ["9", "a", "b"]);
        let g = parse_seq("~SEQ(n, 1, 2)   real_server 10.0.0.$n 80", &defs, &ctx());
        assert_eq!(g.map(|g| g.text), Ok("real_server 10.0.0.$n 80".into()));
        assert!(parse_seq("~SEQ(i, 1, -1, 5) x", &defs, &ctx()).is_err());
        let far = parse_seq("~SEQ(i, 1, 4000000000000) x", &defs, &ctx()).expect("lazy");
        assert_eq!(far.steps.take(2).count(), 2);
        assert!(parse_seq("~SEQ(i, 1", &defs, &ctx()).is_err());
    }

    #[test]
    fn lst_sets_one_or_several_names_per_line() {
        let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        let g = parse_lst("~LST(h, a, b) host $h").expect("valid");
        assert_eq!(g.text, "host $h");
        let steps: Vec<Vec<(String, String)>> = g.steps.collect();
        assert_eq!(steps, [vec![pair("h", "a")], vec![pair("h", "b")]]);
        let g = parse_lst("~LST({ip, w}, {10.0.0.1, 2}, {10.0.0.2}) rs $ip $w").expect("valid");
        let steps: Vec<Vec<(String, String)>> = g.steps.collect();
        assert_eq!(steps[1], [pair("ip", "10.0.0.2"), pair("w", "")]);
        assert!(parse_lst("~LST({a}, {1, 2}) x").is_err());
        assert!(parse_lst("~LST(a b) x").is_err());
    }
}
