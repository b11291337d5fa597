//! A popt 1.19–compatible argv tokenizer driven by the option table.
//!
//! It only splits argv into options (with their values) and positionals; it never judges
//! values. Its rules are popt's as configured by ipvsadm (verified against the real
//! binary): clustered short options, the rest of a cluster or the next element as a value,
//! `=` after a short option, exact long names only, `-p`'s optional value, `--`, lone `-`
//! and positionals anywhere.

use super::error::{Failure, TokenReason};
use super::table::{self, OptionSpec, ValueKind};

/// One option as popt returns it.
#[derive(Debug, Clone, Copy)]
pub struct OptToken<'a> {
    pub spec: &'static OptionSpec,
    /// The option's value; `None` for flags and for `-p` without a value.
    pub value: Option<&'a str>,
    /// The argv element consumed last: what popt reports as "the bad option" when ipvsadm
    /// rejects a valid option (`invalid option `X'`), e.g. `master` in `-A --start-daemon
    /// master`.
    pub last_element: &'a str,
}

/// Walks argv left to right, one option per call, collecting positionals on the way.
#[derive(Debug)]
pub struct Tokenizer<'a> {
    args: &'a [String],
    /// Index of the next argv element to look at.
    next: usize,
    /// Short-option cluster being walked: (element index, byte offset of the next letter).
    cluster: Option<(usize, usize)>,
    /// Set by `--`: everything after is positional.
    only_positionals: bool,
    positionals: Vec<&'a str>,
}

impl<'a> Tokenizer<'a> {
    pub fn new(args: &'a [String]) -> Self {
        Self {
            args,
            next: 0,
            cluster: None,
            only_positionals: false,
            positionals: Vec::new(),
        }
    }

    /// The next option, `None` at the end of argv, or popt's error for the offending
    /// element. Positionals met on the way are collected for [`Self::positionals`].
    pub fn next_option(&mut self) -> Option<Result<OptToken<'a>, Failure>> {
        loop {
            if let Some((elem, offset)) = self.cluster.take() {
                return Some(self.short(elem, offset));
            }
            let args = self.args;
            let element = args.get(self.next)?.as_str();
            self.next += 1;
            if self.only_positionals || !element.starts_with('-') || element == "-" {
                self.positionals.push(element);
            } else if element == "--" {
                self.only_positionals = true;
            } else if let Some(body) = element.strip_prefix("--") {
                return Some(self.long(element, body));
            } else {
                self.cluster = Some((self.next - 1, 1));
            }
        }
    }

    /// Positionals in order. Complete only once [`Self::next_option`] returned `None`.
    pub fn positionals(&self) -> &[&'a str] {
        &self.positionals
    }

    fn long(&mut self, element: &'a str, body: &'a str) -> Result<OptToken<'a>, Failure> {
        let (name, attached) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let spec =
            table::by_long(name).ok_or_else(|| token_error(element, TokenReason::UnknownOption))?;
        match (spec.value, attached) {
            (ValueKind::None, Some(_)) => Err(token_error(element, TokenReason::UnwantedArgument)),
            (ValueKind::None, None) => Ok(Self::token(spec, None, element)),
            (_, Some(value)) => Ok(Self::token(spec, Some(value), element)),
            (kind, None) => self.value_from_next(spec, kind, element),
        }
    }

    fn short(&mut self, index: usize, offset: usize) -> Result<OptToken<'a>, Failure> {
        let args = self.args;
        let element = args.get(index).map_or("", String::as_str);
        let tail = element.get(offset..).unwrap_or("");
        let Some(letter) = tail.chars().next() else {
            return Err(token_error(element, TokenReason::UnknownOption));
        };
        let rest = &tail[letter.len_utf8()..];
        let spec = table::by_short(letter)
            .ok_or_else(|| token_error(element, TokenReason::UnknownOption))?;
        match (spec.value, rest.strip_prefix('=')) {
            (ValueKind::None, Some(_)) => Err(token_error(element, TokenReason::UnwantedArgument)),
            (ValueKind::None, None) => {
                if !rest.is_empty() {
                    self.cluster = Some((index, element.len() - rest.len()));
                }
                Ok(Self::token(spec, None, element))
            }
            (_, Some(value)) => Ok(Self::token(spec, Some(value), element)),
            (_, None) if !rest.is_empty() => Ok(Self::token(spec, Some(rest), element)),
            (kind, None) => self.value_from_next(spec, kind, element),
        }
    }

    /// A value that was not attached: required values take the next element whatever it
    /// is; the optional one only when it does not look like an option.
    fn value_from_next(
        &mut self,
        spec: &'static OptionSpec,
        kind: ValueKind,
        element: &'a str,
    ) -> Result<OptToken<'a>, Failure> {
        let args = self.args;
        let candidate = args.get(self.next).map(String::as_str);
        match (kind, candidate) {
            (ValueKind::Required, Some(value)) => {
                self.next += 1;
                Ok(Self::token(spec, Some(value), value))
            }
            (ValueKind::Required, None) => Err(token_error(element, TokenReason::MissingArgument)),
            (_, Some(value)) if !value.starts_with('-') => {
                self.next += 1;
                Ok(Self::token(spec, Some(value), value))
            }
            _ => Ok(Self::token(spec, None, element)),
        }
    }

    fn token(
        spec: &'static OptionSpec,
        value: Option<&'a str>,
        last_element: &'a str,
    ) -> OptToken<'a> {
        OptToken {
            spec,
            value,
            last_element,
        }
    }
}

fn token_error(element: &str, reason: TokenReason) -> Failure {
    Failure::Token {
        element: element.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (long name, value) of every option, then the positionals.
    fn split(args: &[&str]) -> (Vec<(&'static str, Option<String>)>, Vec<String>) {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let mut t = Tokenizer::new(&args);
        let mut opts = Vec::new();
        while let Some(tok) = t.next_option() {
            let tok = tok.unwrap();
            opts.push((tok.spec.long, tok.value.map(str::to_owned)));
        }
        let pos = t.positionals().iter().map(|s| (*s).to_owned()).collect();
        (opts, pos)
    }

    fn o(long: &'static str, value: Option<&str>) -> (&'static str, Option<String>) {
        (long, value.map(str::to_owned))
    }

    #[test]
    fn clusters_and_values() {
        let (opts, _) = split(&["-lcn"]);
        assert_eq!(
            opts,
            [o("list", None), o("connection", None), o("numeric", None)]
        );
        let (opts, _) = split(&["-At1.2.3.4:80"]);
        assert_eq!(
            opts,
            [o("add-service", None), o("tcp-service", Some("1.2.3.4:80"))]
        );
        let (opts, _) = split(&["-tA"]);
        assert_eq!(opts, [o("tcp-service", Some("A"))]);
        let (opts, _) = split(&["-w", "-1", "-t", "--"]);
        assert_eq!(
            opts,
            [o("weight", Some("-1")), o("tcp-service", Some("--"))]
        );
        let (opts, _) = split(&["-p=5", "-s=", "--pe=", "--scheduler==rr"]);
        assert_eq!(
            opts,
            [
                o("persistent", Some("5")),
                o("scheduler", Some("")),
                o("pe", Some("")),
                o("scheduler", Some("=rr"))
            ]
        );
    }

    #[test]
    fn optional_value_of_persistent() {
        let (opts, pos) = split(&["-p", "-s", "rr", "-p", "100", "-Ap", "''", "-p", "-"]);
        assert_eq!(
            opts,
            [
                o("persistent", None),
                o("scheduler", Some("rr")),
                o("persistent", Some("100")),
                o("add-service", None),
                o("persistent", Some("''")),
                o("persistent", None),
            ]
        );
        assert_eq!(pos, ["-"]);
    }

    #[test]
    fn positionals_anywhere_and_after_double_dash() {
        let (opts, pos) = split(&["foo", "-L", "-", "bar", "--", "-n", "--"]);
        assert_eq!(opts, [o("list", None)]);
        assert_eq!(pos, ["foo", "-", "bar", "-n", "--"]);
    }

    #[test]
    fn errors_name_the_whole_element() {
        let args: Vec<String> = ["-L", "-nQ"].iter().map(|s| (*s).to_owned()).collect();
        let mut t = Tokenizer::new(&args);
        assert!(t.next_option().unwrap().is_ok());
        assert!(t.next_option().unwrap().is_ok());
        assert_eq!(
            t.next_option().unwrap().unwrap_err().to_string(),
            "-nQ: unknown option"
        );
        for (elem, msg) in [
            ("-lnx", "-lnx: missing argument"),
            ("--nosort=x", "--nosort=x: option does not take an argument"),
            ("-n=", "-n=: option does not take an argument"),
            ("--lis", "--lis: unknown option"),
            ("---", "---: unknown option"),
        ] {
            let args = vec![elem.to_owned()];
            let mut t = Tokenizer::new(&args);
            let err = std::iter::from_fn(|| t.next_option())
                .find_map(Result::err)
                .unwrap();
            assert_eq!(err.to_string(), msg);
        }
    }
}
