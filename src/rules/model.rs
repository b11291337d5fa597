//! The desired table as a rules file describes it: model objects plus where each came from.

use crate::ipvs::model::{Dest, Service, ServiceEntry, ServiceKey};

use super::source::Pos;
use super::tokens::Token;

/// Where an object was written: a save/restore line (its tokens, so findings can point at
/// one option's value) or a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Line(Vec<Token>),
    Json,
}

impl Origin {
    /// Position of the value of an option (`-s rr`, `-srr`, `--scheduler=rr`), if the
    /// object came from a line that has it.
    pub fn value_pos(&self, short: Option<char>, long: &str) -> Option<Pos> {
        let Self::Line(tokens) = self else {
            return None;
        };
        value_index(tokens.iter().map(|t| t.text.as_str()), short, long)
            .and_then(|i| tokens.get(i))
            .map(|t| t.pos)
    }
}

/// Index of the token that carries an option's value (the option's own token when the
/// value is attached to it).
pub fn value_index<'a>(
    tokens: impl Iterator<Item = &'a str>,
    short: Option<char>,
    long: &str,
) -> Option<usize> {
    let long_flag = format!("--{long}");
    let long_eq = format!("--{long}=");
    let short_flag = short.map(|c| format!("-{c}"));
    for (i, text) in tokens.enumerate() {
        if text == long_flag || short_flag.as_deref() == Some(text) {
            return Some(i + 1);
        }
        if text.starts_with(&long_eq) {
            return Some(i);
        }
        if let Some(flag) = &short_flag
            && !text.starts_with("--")
            && text.starts_with(flag.as_str())
        {
            return Some(i);
        }
    }
    None
}

/// A real server of the desired table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDest {
    pub dest: Dest,
    pub pos: Pos,
    pub origin: Origin,
    /// The port as written in the file, when it says one (ipvsadm replaces it by the
    /// service port for direct routing and tunnelling; lint warns about that).
    pub written_port: Option<u16>,
}

/// A virtual service of the desired table with its real servers in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleService {
    pub service: Service,
    pub pos: Pos,
    pub origin: Origin,
    pub dests: Vec<RuleDest>,
}

impl RuleService {
    pub fn key(&self) -> ServiceKey {
        self.service.key
    }
}

/// A whole rules file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// The file name as given on the command line (used in every finding).
    pub file: String,
    pub services: Vec<RuleService>,
}

impl Rules {
    /// The desired table in the model's shape, for the planner.
    pub fn entries(&self) -> Vec<ServiceEntry> {
        self.services
            .iter()
            .map(|s| ServiceEntry {
                service: s.service.clone(),
                dests: s.dests.iter().map(|d| d.dest.clone()).collect(),
            })
            .collect()
    }

    pub fn dest_count(&self) -> usize {
        self.services.iter().map(|s| s.dests.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_index_knows_every_spelling() {
        let find = |line: &str| value_index(line.split(' '), Some('s'), "scheduler");
        assert_eq!(find("-A -t x -s rr"), Some(4));
        assert_eq!(find("-A -srr"), Some(1));
        assert_eq!(find("-A --scheduler=rr"), Some(1));
        assert_eq!(find("-A --scheduler rr"), Some(2));
        assert_eq!(find("-A --sctp-service x"), None);
    }
}
