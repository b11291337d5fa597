//! The `/etc/services` database: `name port/proto [alias…]` per line, `#` starts a comment.

use std::collections::HashMap;

/// Names and ports of one protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Protocol {
    /// Names and aliases to ports.
    ports: HashMap<String, u16>,
    /// Ports to official names.
    names: HashMap<u16, String>,
}

/// The parsed database. Every lookup answers what glibc's `files` module answers: the
/// first matching line wins, and aliases match like names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Services {
    by_proto: HashMap<String, Protocol>,
    /// Names and aliases to the port of their first line, whatever its protocol.
    any_proto: HashMap<String, u16>,
}

impl Services {
    /// Parses `/etc/services` syntax; malformed lines are skipped, as glibc skips them.
    pub fn parse(text: &str) -> Self {
        let mut s = Self::default();
        for line in text.lines() {
            let mut words = line
                .split('#')
                .next()
                .unwrap_or_default()
                .split_whitespace();
            let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            s.add(proto, port, std::iter::once(name).chain(words));
        }
        s
    }

    /// Reads a database file; a missing or unreadable one knows no names.
    pub fn load(path: &str) -> Self {
        std::fs::read_to_string(path)
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Adds one line's worth: `names` is the official name, then its aliases. Earlier
    /// lines keep precedence.
    pub fn add<'a>(&mut self, proto: &str, port: u16, names: impl IntoIterator<Item = &'a str>) {
        let table = self.by_proto.entry(proto.to_owned()).or_default();
        for (i, name) in names.into_iter().enumerate() {
            if i == 0 {
                table.names.entry(port).or_insert_with(|| name.to_owned());
            }
            table.ports.entry(name.to_owned()).or_insert(port);
            self.any_proto.entry(name.to_owned()).or_insert(port);
        }
    }

    /// `getservbyname(name, proto)`; an empty `proto` matches any protocol.
    pub fn port_of(&self, name: &str, proto: &str) -> Option<u16> {
        if proto.is_empty() {
            return self.any_proto.get(name).copied();
        }
        self.by_proto.get(proto)?.ports.get(name).copied()
    }

    /// `getservbyport(port, proto)`: the official name of the first matching line.
    pub fn name_of(&self, port: u16, proto: &str) -> Option<&str> {
        self.by_proto
            .get(proto)?
            .names
            .get(&port)
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
domain\t\t53/tcp
domain\t\t53/udp
bogus line
bogus notaport/tcp
sip 5060/udp
sip 5060/tcp
alt 5060/tcp
http-alt 8080/tcp webcache
";

    #[test]
    fn first_lines_win_aliases_match_and_comments_are_ignored() {
        let s = Services::parse(SAMPLE);
        assert_eq!(s.port_of("http", "tcp"), Some(80));
        assert_eq!(s.port_of("www", "tcp"), Some(80));
        assert_eq!(s.port_of("http", "udp"), None);
        assert_eq!(s.port_of("domain", "udp"), Some(53));
        assert_eq!(s.port_of("webcache", "tcp"), Some(8080));
        assert_eq!(s.port_of("bogus", "tcp"), None);
        assert_eq!(s.name_of(5060, "tcp"), Some("sip"));
        assert_eq!(s.name_of(80, "tcp"), Some("http"));
        assert_eq!(s.name_of(80, "sctp"), None);
    }

    #[test]
    fn an_empty_protocol_matches_the_first_line_of_any() {
        let s = Services::parse("sip 5061/udp\nsip 5060/tcp\nwww 80/tcp\n");
        assert_eq!(s.port_of("sip", ""), Some(5061));
        assert_eq!(s.port_of("www", ""), Some(80));
        assert_eq!(s.port_of("nope", ""), None);
    }
}
