//! The desired table as a rules file describes it: model objects plus where each came from.

use crate::ipvs::model::{Dest, Service, ServiceEntry, ServiceKey};

/// Maps keyed by service and real-server identity. A rules file has tens of thousands of
/// them and SipHash was a tenth of `lvsctl check`; the file is the operator's own, so
/// hash flooding is no concern and foldhash's fast hasher is used instead.
pub type KeyMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The set counterpart of [`KeyMap`].
pub type KeySet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

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
    // Called for every object lint looks at, so no allocation: the spellings are matched
    // by stripping prefixes instead of formatting `--{long}` and `-{c}`.
    for (i, text) in tokens.enumerate() {
        if let Some(body) = text.strip_prefix("--") {
            match body.strip_prefix(long) {
                Some("") => return Some(i + 1),
                Some(rest) if rest.starts_with('=') => return Some(i),
                _ => {}
            }
            continue;
        }
        if let Some(c) = short
            && let Some(rest) = text.strip_prefix('-')
            && let Some(value) = rest.strip_prefix(c)
        {
            return Some(if value.is_empty() { i + 1 } else { i });
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
