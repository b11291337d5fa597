//! The `/etc/hosts` table: `address name [alias…]` per line, `#` starts a comment.

use std::collections::HashMap;
use std::net::IpAddr;

use super::Family;

/// The parsed table, answering as glibc's `files` module does: an address's name is the
/// official name of its first line, a name's address the first of the wanted family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    names: HashMap<IpAddr, String>,
    /// Names and aliases to their addresses, in file order.
    addrs: HashMap<String, Vec<IpAddr>>,
}

impl Hosts {
    /// Parses `/etc/hosts` syntax; lines without a valid address and a name are skipped.
    pub fn parse(text: &str) -> Self {
        let mut h = Self::default();
        for line in text.lines() {
            let mut fields = line
                .split('#')
                .next()
                .unwrap_or_default()
                .split_whitespace();
            let (Some(addr), Some(name)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Ok(addr) = addr.parse::<IpAddr>() else {
                continue;
            };
            h.add(addr, std::iter::once(name).chain(fields));
        }
        h
    }

    /// Reads a table file; a missing or unreadable one knows no hosts.
    pub fn load(path: &str) -> Self {
        std::fs::read_to_string(path)
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Adds one line's worth: `names` is the official name, then its aliases. Earlier
    /// lines keep precedence.
    pub fn add<'a>(&mut self, addr: IpAddr, names: impl IntoIterator<Item = &'a str>) {
        for (i, name) in names.into_iter().enumerate() {
            if i == 0 {
                self.names.entry(addr).or_insert_with(|| name.to_owned());
            }
            self.addrs.entry(name.to_owned()).or_default().push(addr);
        }
    }

    /// The first address of `family` listed for `name`.
    pub fn addr_of(&self, name: &str, family: Family) -> Option<IpAddr> {
        self.addrs
            .get(name)?
            .iter()
            .copied()
            .find(|a| Family::of(a) == family)
    }

    /// The official name of the first line listing `addr`.
    pub fn name_of(&self, addr: IpAddr) -> Option<&str> {
        self.names.get(&addr).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: &str = "127.0.0.1 localhost\n\
        # real servers\n\
        10.0.1.1   web1 web1.example   # rack 3\n\
        10.0.1.1   other\n\
        2001:db8::10 web6\n\
        10.0.1.6 web6\n\
        not-an-address foo\n";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn first_entries_win_and_comments_are_ignored() {
        let h = Hosts::parse(HOSTS);
        assert_eq!(h.name_of(ip("10.0.1.1")), Some("web1"));
        assert_eq!(h.name_of(ip("2001:db8::10")), Some("web6"));
        assert_eq!(h.name_of(ip("10.9.9.9")), None);
        assert_eq!(h.addr_of("web1.example", Family::V4), Some(ip("10.0.1.1")));
        assert_eq!(h.addr_of("other", Family::V4), Some(ip("10.0.1.1")));
        assert_eq!(h.addr_of("web1", Family::V6), None);
        assert_eq!(h.addr_of("web6", Family::V4), Some(ip("10.0.1.6")));
        assert_eq!(h.addr_of("web6", Family::V6), Some(ip("2001:db8::10")));
        assert_eq!(h.addr_of("foo", Family::V4), None);
    }
}
