//! Netlink message framing: the 16-byte `nlmsghdr`, many messages per buffer.
//!
//! Kept separate from neli on purpose: batching means concatenating many requests into one
//! `sendmsg` buffer and splitting one `recvmsg` buffer into many replies, each identified by
//! its sequence number, which neli's router does not offer.

use super::WireError;

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;

/// Netlink message alignment.
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Append one message (header + payload, padded to 4 bytes) to `out`.
pub fn push_message(out: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) {
    let len = (NLMSG_HDRLEN + payload.len()) as u32;
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&pid.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(align(out.len()), 0);
}

/// One message of a receive buffer, payload borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMessage<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    pub payload: &'a [u8],
}

/// What a reply message means for the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A data message (genl header + attributes).
    Data(&'a [u8]),
    /// NLMSG_DONE: end of a dump.
    Done,
    /// NLMSG_ERROR with error 0.
    Ack,
    /// NLMSG_ERROR with a (positive) errno.
    Error(i32),
    /// NOOP / OVERRUN and anything else without meaning here.
    Ignore,
}

impl<'a> RawMessage<'a> {
    pub fn reply(&self) -> Result<Reply<'a>, WireError> {
        Ok(match self.ty {
            NLMSG_ERROR => {
                let code = self
                    .payload
                    .get(..4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(i32::from_ne_bytes)
                    .ok_or(WireError::Truncated)?;
                if code == 0 {
                    Reply::Ack
                } else {
                    Reply::Error(code.saturating_neg())
                }
            }
            NLMSG_DONE => Reply::Done,
            NLMSG_NOOP | NLMSG_OVERRUN => Reply::Ignore,
            _ => Reply::Data(self.payload),
        })
    }

    /// True when this message is one part of a dump (more may follow).
    pub fn is_multi(&self) -> bool {
        self.flags & NLM_F_MULTI != 0
    }
}

/// Split a receive buffer into messages. A header announcing more bytes than the buffer
/// holds, or fewer than a header, is an error; a short tail after the last whole message
/// is ignored (the kernel never sends one).
pub fn split(buf: &[u8]) -> Result<Vec<RawMessage<'_>>, WireError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let word =
            |at: usize| u32::from_ne_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
        let len = word(0) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(WireError::Truncated);
        }
        out.push(RawMessage {
            ty: u16::from_ne_bytes([rest[4], rest[5]]),
            flags: u16::from_ne_bytes([rest[6], rest[7]]),
            seq: word(8),
            pid: word(12),
            payload: &rest[NLMSG_HDRLEN..len],
        });
        rest = rest.get(align(len)..).unwrap_or(&[]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_then_split_round_trips_and_pads() {
        let mut buf = Vec::new();
        push_message(&mut buf, 0x20, NLM_F_REQUEST | NLM_F_ACK, 7, 9, &[1, 2, 3]);
        push_message(&mut buf, NLMSG_DONE, NLM_F_MULTI, 8, 9, &[0, 0, 0, 0]);
        assert_eq!(buf.len(), 20 + 20);
        let msgs = split(&buf).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].payload, &[1, 2, 3]);
        assert_eq!((msgs[0].ty, msgs[0].seq, msgs[0].pid), (0x20, 7, 9));
        assert_eq!(msgs[1].reply().unwrap(), Reply::Done);
        assert!(msgs[1].is_multi());
    }

    #[test]
    fn error_messages_carry_positive_errno() {
        let mut buf = Vec::new();
        let mut payload = (-libc::EEXIST).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        push_message(&mut buf, NLMSG_ERROR, 0x100, 1, 0, &payload);
        push_message(&mut buf, NLMSG_ERROR, 0x100, 2, 0, &[0; 20]);
        let msgs = split(&buf).unwrap();
        assert_eq!(msgs[0].reply().unwrap(), Reply::Error(libc::EEXIST));
        assert_eq!(msgs[1].reply().unwrap(), Reply::Ack);
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        assert_eq!(split(&[0xff; 16]), Err(WireError::Truncated));
        assert_eq!(
            split(&[4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(WireError::Truncated)
        );
        assert!(split(&[1, 2, 3]).unwrap().is_empty());
        let short_err = RawMessage {
            ty: NLMSG_ERROR,
            flags: 0,
            seq: 0,
            pid: 0,
            payload: &[1],
        };
        assert_eq!(short_err.reply(), Err(WireError::Truncated));
    }
}
