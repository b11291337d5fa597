//! Bounded reads: every line and every length-framed message a check (or the alert mail
//! client) takes from a server comes through here, with a cap on what it may hold.
//!
//! A real server is not trusted to end its lines or to announce honest lengths: a banner
//! without a newline, or a frame header announcing gigabytes, must end the check with a
//! reason, not grow a buffer until the deadline. So a line never grows past its cap, a
//! frame buffer is filled by reads sized never to pass it, and every byte is looked at
//! once: a server trickling bytes costs time linear in what it sends.

use std::fmt::Display;
use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt};

/// Longest line a line protocol may send, its line ending included. Far above what any
/// protocol a check speaks allows (SMTP: 512, FTP and POP: about the same; an IMAP greeting
/// with capabilities: a few KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// How much one read asks for at most.
const READ_CHUNK: usize = 16 * 1024;

/// Why a bounded read ended without a line or frame.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("connection closed")]
    Closed,
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("message longer than {0} bytes")]
    FrameTooLong(usize),
    /// The framing itself is broken (a length the protocol forbids, garbage).
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            ReadError::Closed => io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()),
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// One line (up to and without its `\n` or `\r\n`), read as lossy UTF-8. A last line the
/// server ends by closing counts as a line; end of stream before any byte is
/// [`ReadError::Closed`]. A line that has not ended within `cap` bytes is
/// [`ReadError::LineTooLong`], and what was read of it is dropped.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    cap: usize,
) -> Result<String, ReadError> {
    let mut line = Vec::new();
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            if line.is_empty() {
                return Err(ReadError::Closed);
            }
            break;
        }
        let (take, ended) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > cap {
            return Err(ReadError::LineTooLong(cap));
        }
        line.extend_from_slice(&available[..take]);
        r.consume(take);
        if ended {
            break;
        }
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads into `buf` until `frame_len` (the protocol's header parser: the whole frame's
/// length once the header is in, `None` before) finds a complete frame at its start, and
/// returns that length; the caller takes the frame out of `buf`. Bytes after the frame stay
/// in `buf` for the next call. `buf` never grows past `cap`: a frame announcing more, or a
/// header that does not end within `cap` bytes, is [`ReadError::FrameTooLong`].
pub async fn read_frame<R, E>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
    frame_len: impl Fn(&[u8]) -> Result<Option<usize>, E>,
) -> Result<usize, ReadError>
where
    R: AsyncRead + Unpin,
    E: Display,
{
    loop {
        let wanted = frame_len(buf).map_err(|e| ReadError::Malformed(e.to_string()))?;
        match wanted {
            Some(len) if len > cap => return Err(ReadError::FrameTooLong(cap)),
            Some(len) if buf.len() >= len => return Ok(len),
            _ if buf.len() >= cap => return Err(ReadError::FrameTooLong(cap)),
            _ => {}
        }
        let room = (cap - buf.len()).min(READ_CHUNK);
        buf.reserve(room);
        let n = (&mut *r).take(room as u64).read_buf(buf).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio::io::BufReader;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// A reader that hands out `data` `step` bytes per read, as a trickling server does.
    fn trickle(data: &[u8], step: usize) -> Chunks {
        let mut chunks: Vec<Vec<u8>> = data.chunks(step.max(1)).map(<[u8]>::to_vec).collect();
        chunks.reverse();
        Chunks(chunks)
    }

    /// Scripted reads, last chunk first; then end of stream.
    struct Chunks(Vec<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            out: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            if let Some(mut chunk) = self.0.pop() {
                let n = chunk.len().min(out.remaining());
                out.put_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.0.push(chunk.split_off(n));
                }
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn lines_end_at_newline_or_close_and_stop_at_the_cap() {
        block_on(async {
            let mut r = BufReader::new(trickle(b"220 hi\r\n250-a\nlast", 3));
            assert_eq!(read_line(&mut r, 100).await.unwrap(), "220 hi");
            assert_eq!(read_line(&mut r, 100).await.unwrap(), "250-a");
            assert_eq!(read_line(&mut r, 100).await.unwrap(), "last");
            assert!(matches!(
                read_line(&mut r, 100).await,
                Err(ReadError::Closed)
            ));
            // The cap counts the line ending: 9 bytes and a newline fit 10, not 9.
            let mut r = BufReader::new(trickle(b"123456789\n", 4));
            assert_eq!(read_line(&mut r, 10).await.unwrap(), "123456789");
            let mut r = BufReader::new(trickle(b"123456789\n", 4));
            let err = read_line(&mut r, 9).await.unwrap_err();
            assert_eq!(err.to_string(), "line longer than 9 bytes");
        });
    }

    #[test]
    fn frames_come_whole_and_never_past_the_cap() {
        // A toy framing: one length byte, then that many bytes.
        let len = |b: &[u8]| -> Result<Option<usize>, String> {
            Ok(b.first().map(|n| 1 + usize::from(*n)))
        };
        block_on(async {
            let mut r = trickle(b"\x03abc\x01z\x09", 2);
            let mut buf = Vec::new();
            assert_eq!(read_frame(&mut r, &mut buf, 10, len).await.unwrap(), 4);
            assert_eq!(buf.drain(..4).collect::<Vec<_>>(), b"\x03abc");
            assert_eq!(read_frame(&mut r, &mut buf, 10, len).await.unwrap(), 2);
            buf.drain(..2);
            // The next frame announces 10 bytes in all: more than a cap of 8.
            let err = read_frame(&mut r, &mut buf, 8, len).await.unwrap_err();
            assert_eq!(err.to_string(), "message longer than 8 bytes");
            // A header parser that never decides stops at the cap too.
            let never = |_: &[u8]| -> Result<Option<usize>, String> { Ok(None) };
            let mut r = trickle(&[0u8; 100], 7);
            let mut buf = Vec::new();
            assert!(matches!(
                read_frame(&mut r, &mut buf, 20, never).await,
                Err(ReadError::FrameTooLong(20))
            ));
            assert_eq!(buf.len(), 20);
            let broken = |_: &[u8]| -> Result<Option<usize>, String> { Err("bad header".into()) };
            let err = read_frame(&mut trickle(b"x", 1), &mut Vec::new(), 20, broken)
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "bad header");
        });
    }

    proptest! {
        /// Whatever the server sends and however it is cut into reads, a line never
        /// holds more than the cap.
        #[test]
        fn lines_stay_under_the_cap(data in proptest::collection::vec(any::<u8>(), 0..600),
                                    step in 1usize..50, cap in 1usize..200) {
            block_on(async {
                let mut r = BufReader::with_capacity(16, trickle(&data, step));
                while let Ok(line) = read_line(&mut r, cap).await {
                    // Lossy UTF-8 may turn each stray byte into a 3-byte U+FFFD.
                    prop_assert!(line.len() <= cap * 3, "{} > 3 * {cap}", line.len());
                }
                Ok(())
            })?;
        }

        #[test]
        fn frame_buffers_stay_under_the_cap(data in proptest::collection::vec(any::<u8>(), 0..600),
                                            step in 1usize..50, cap in 1usize..300) {
            let len = |b: &[u8]| -> Result<Option<usize>, String> {
                Ok(b.first().map(|n| 1 + usize::from(*n)))
            };
            block_on(async {
                let mut r = trickle(&data, step);
                let mut buf = Vec::new();
                while let Ok(n) = read_frame(&mut r, &mut buf, cap, len).await {
                    prop_assert!(n <= cap && buf.len() <= cap);
                    buf.drain(..n);
                }
                prop_assert!(buf.len() <= cap);
                Ok(())
            })?;
        }
    }
}
