//! Source positions of the service and real-server objects of a JSON rules document.
//!
//! serde_json reports syntax errors with a line and column but forgets positions once a
//! document is valid; schema errors and lint findings still have to point at the object
//! they are about. This scanner walks the (already validated) text once and records where
//! each `services[i]` and `services[i].real_servers[j]` object starts. It is lenient: on
//! anything unexpected it stops and the missing positions fall back to 1:1.

use super::source::Pos;

/// Start positions of the objects a rules document describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPositions {
    pub services: Vec<Pos>,
    /// `dests[i][j]` is `services[i].real_servers[j]`.
    pub dests: Vec<Vec<Pos>>,
}

impl JsonPositions {
    pub fn service(&self, i: usize) -> Pos {
        self.services.get(i).copied().unwrap_or(Pos::new(1, 1))
    }

    pub fn dest(&self, i: usize, j: usize) -> Pos {
        self.dests
            .get(i)
            .and_then(|d| d.get(j))
            .copied()
            .unwrap_or_else(|| self.service(i))
    }

    /// The position of the object a schema error path (`services[3].real_servers[1].port`)
    /// is about.
    pub fn of_path(&self, path: &str) -> Pos {
        let mut indices = path
            .split('[')
            .skip(1)
            .filter_map(|part| part.split(']').next()?.parse::<usize>().ok());
        match (indices.next(), indices.next()) {
            (Some(i), Some(j)) => self.dest(i, j),
            (Some(i), None) => self.service(i),
            _ => Pos::new(1, 1),
        }
    }
}

/// What the value being scanned is, as far as positions are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Root,
    Services,
    Service(usize),
    RealServers(usize),
    Dest(usize, usize),
    Other,
}

struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
    line_starts: Vec<usize>,
    found: JsonPositions,
}

/// Scan a JSON text; see the module doc.
pub fn scan(text: &[u8]) -> JsonPositions {
    let mut line_starts = vec![0];
    line_starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let mut scanner = Scanner {
        text,
        at: 0,
        line_starts,
        found: JsonPositions::default(),
    };
    let _ = scanner.value(Ctx::Root, 0);
    scanner.found
}

/// serde_json's own nesting limit; deeper documents were rejected before we get here.
const MAX_DEPTH: usize = 128;

impl Scanner<'_> {
    fn pos(&self) -> Pos {
        let line = self.line_starts.partition_point(|s| *s <= self.at);
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        Pos::new(
            line,
            super::source::column_of(&self.text[start..], self.at - start),
        )
    }

    fn peek(&mut self) -> Option<u8> {
        while let Some(b) = self.text.get(self.at) {
            if b.is_ascii_whitespace() {
                self.at += 1;
            } else {
                return Some(*b);
            }
        }
        None
    }

    fn value(&mut self, ctx: Ctx, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(ctx, depth),
            b'[' => self.array(ctx, depth),
            b'"' => self.string().map(|_| ()),
            _ => {
                while let Some(b) = self.text.get(self.at) {
                    if matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace() {
                        break;
                    }
                    self.at += 1;
                }
                Some(())
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let start = self.at;
        loop {
            match self.text.get(self.at)? {
                b'\\' => self.at += 2,
                b'"' => break,
                _ => self.at += 1,
            }
        }
        let raw = self.text.get(start..self.at)?;
        self.at += 1;
        Some(String::from_utf8_lossy(raw).into_owned())
    }

    fn record(&mut self, ctx: Ctx) {
        let pos = self.pos();
        match ctx {
            Ctx::Service(i) if i == self.found.services.len() => {
                self.found.services.push(pos);
                self.found.dests.push(Vec::new());
            }
            Ctx::Dest(i, j) => {
                if let Some(dests) = self.found.dests.get_mut(i)
                    && j == dests.len()
                {
                    dests.push(pos);
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, ctx: Ctx, depth: usize) -> Option<()> {
        self.record(ctx);
        self.at += 1;
        loop {
            match self.peek()? {
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                b',' => self.at += 1,
                b'"' => {
                    let key = self.string()?;
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.at += 1;
                    let child = match (ctx, key.as_str()) {
                        (Ctx::Root, "services") => Ctx::Services,
                        (Ctx::Service(i), "real_servers") => Ctx::RealServers(i),
                        _ => Ctx::Other,
                    };
                    self.value(child, depth + 1)?;
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, ctx: Ctx, depth: usize) -> Option<()> {
        self.at += 1;
        let mut index = 0;
        loop {
            match self.peek()? {
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                b',' => self.at += 1,
                _ => {
                    let child = match ctx {
                        Ctx::Services => Ctx::Service(index),
                        Ctx::RealServers(i) => Ctx::Dest(i, index),
                        _ => Ctx::Other,
                    };
                    self.value(child, depth + 1)?;
                    index += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_service_and_real_server_objects() {
        let text = br#"{"schema": 1, "services": [
  {"protocol": "tcp", "x": {"real_servers": [{}]}, "real_servers": [
     {"address": "1.2.3.4"}, {"a": "b\"}"}]},
  {"protocol": "udp"}
]}"#;
        let p = scan(text);
        assert_eq!(p.services, vec![Pos::new(2, 3), Pos::new(4, 3)]);
        assert_eq!(p.dests[0], vec![Pos::new(3, 6), Pos::new(3, 30)]);
        assert_eq!(
            p.of_path("services[0].real_servers[1].port"),
            Pos::new(3, 30)
        );
        assert_eq!(p.of_path("services[1].scheduler"), Pos::new(4, 3));
        assert_eq!(p.of_path("schema"), Pos::new(1, 1));
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [&b"{\"services\": [{"[..], b"\"", b"[[[[", b"{\"a\"", b"\\"] {
            let _ = scan(text);
        }
    }
}
