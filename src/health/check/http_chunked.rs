//! The chunked transfer coding (RFC 9112 §7.1), decoded as the bytes arrive.
//!
//! Each byte is looked at once, whatever sizes the reads come in, so a server trickling a
//! chunked body a byte at a time costs time linear in what it sends; and what the decoder
//! holds besides the body is one size or trailer line of at most [`MAX_CHUNK_LINE`] bytes.
//! It is as lenient as the check always was: the two bytes after a chunk's data are
//! skipped unread, and a size line it cannot read leaves the body as decoded so far.

/// Longest chunk-size line (extensions included) or trailer line.
pub const MAX_CHUNK_LINE: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line.
    Size,
    /// This many data bytes of the current chunk to go.
    Data(usize),
    /// This many bytes of the line end after a chunk's data to skip.
    DataEnd(usize),
    /// Reading trailer lines after the last chunk, until an empty one.
    Trailers,
    Done,
    /// A size or trailer line that cannot be read: the rest is not chunked body.
    Broken,
}

/// What the decoder knows after a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    More,
    /// The last chunk and the trailers are in: the body is complete.
    Done,
    /// The framing broke; the body is what was decoded before.
    Broken,
}

#[derive(Debug, Clone)]
pub struct Dechunker {
    state: State,
    /// The size or trailer line being read.
    line: Vec<u8>,
}

impl Default for Dechunker {
    fn default() -> Self {
        Self {
            state: State::Size,
            line: Vec::new(),
        }
    }
}

impl Dechunker {
    /// Decodes `input`, appending chunk data to `body` while it is shorter than `cap`
    /// (data past the cap is framing only). Returns how many bytes of `input` belong to the
    /// chunked body (all of them until it is done) and where decoding stands.
    pub fn feed(&mut self, input: &[u8], body: &mut Vec<u8>, cap: usize) -> (usize, Step) {
        let mut at = 0;
        while at < input.len() {
            match self.state {
                State::Done => return (at, Step::Done),
                State::Broken => return (input.len(), Step::Broken),
                State::Data(left) => {
                    let take = left.min(input.len() - at);
                    let keep = take.min(cap.saturating_sub(body.len()));
                    body.extend_from_slice(&input[at..at + keep]);
                    at += take;
                    self.state = if take == left {
                        State::DataEnd(2)
                    } else {
                        State::Data(left - take)
                    };
                }
                State::DataEnd(left) => {
                    let skip = left.min(input.len() - at);
                    at += skip;
                    self.state = if skip == left {
                        State::Size
                    } else {
                        State::DataEnd(left - skip)
                    };
                }
                State::Size | State::Trailers => {
                    self.line.push(input[at]);
                    at += 1;
                    if self.line.ends_with(b"\r\n") {
                        self.state = self.line_done();
                        self.line.clear();
                    } else if self.line.len() > MAX_CHUNK_LINE {
                        self.state = State::Broken;
                        self.line = Vec::new();
                    }
                }
            }
        }
        let step = match self.state {
            State::Done => Step::Done,
            State::Broken => Step::Broken,
            _ => Step::More,
        };
        (at, step)
    }

    /// The state after a complete size or trailer line (in `self.line`, CRLF included).
    fn line_done(&self) -> State {
        let text = &self.line[..self.line.len() - 2];
        match self.state {
            State::Trailers if text.is_empty() => State::Done,
            State::Trailers => State::Trailers,
            _ => {
                let text = String::from_utf8_lossy(text);
                let hex = text.split(';').next().unwrap_or("").trim();
                match usize::from_str_radix(hex, 16) {
                    Ok(0) => State::Trailers,
                    Ok(size) => State::Data(size),
                    Err(_) => State::Broken,
                }
            }
        }
    }

    /// Bytes held besides the body (a partial line).
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(input: &[u8], step: usize, cap: usize) -> (Vec<u8>, usize, Step) {
        let mut d = Dechunker::default();
        let mut body = Vec::new();
        let (mut used, mut last) = (0, Step::More);
        for chunk in input.chunks(step.max(1)) {
            let (n, s) = d.feed(chunk, &mut body, cap);
            used += n;
            last = s;
            if s == Step::Done {
                break;
            }
        }
        (body, used, last)
    }

    #[test]
    fn decodes_in_any_read_sizes() {
        let wire = b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let (body, used, last) = decode(wire, step, usize::MAX);
            assert_eq!(
                (body.as_slice(), used, last),
                (&b"abcde"[..], wire.len() - 4, Step::Done)
            );
        }
        // The cap keeps the body short; the framing is still followed to its end.
        let (body, used, last) = decode(wire, 3, 2);
        assert_eq!(
            (body.as_slice(), used, last),
            (&b"ab"[..], wire.len() - 4, Step::Done)
        );
    }

    #[test]
    fn unreadable_framing_keeps_what_was_decoded() {
        let (body, _, last) = decode(b"3\r\nabc\r\nzz\r\nmore", 2, usize::MAX);
        assert_eq!((body.as_slice(), last), (&b"abc"[..], Step::Broken));
        let long = [b"1;".as_slice(), &[b'x'; MAX_CHUNK_LINE]].concat();
        let (body, _, last) = decode(&long, 100, usize::MAX);
        assert_eq!((body.len(), last), (0, Step::Broken));
    }

    proptest! {
        /// On any input, in any read sizes: no panic, the body within its cap, the
        /// partial line within its own.
        #[test]
        fn anything_decodes_within_the_caps(input in proptest::collection::vec(any::<u8>(), 0..2000),
                                            step in 1usize..64, cap in 0usize..512) {
            let mut d = Dechunker::default();
            let mut body = Vec::new();
            for chunk in input.chunks(step) {
                let (n, _) = d.feed(chunk, &mut body, cap);
                prop_assert!(n <= chunk.len());
                prop_assert!(body.len() <= cap);
                prop_assert!(d.held() <= MAX_CHUNK_LINE + 1);
            }
        }
    }
}
