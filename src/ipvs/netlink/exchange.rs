//! Matching replies to requests by sequence number.
//!
//! A batch is framed into one buffer, sent with one `sendmsg`, and then replies are read
//! until every request is settled. The kernel runs the messages of one `sendmsg` in order,
//! so when request `k` is answered, every earlier request that asked for no ACK and got no
//! error has succeeded: that is how writes can ask for an ACK on the last message only and
//! still get one result per message.

use std::io;

use super::sock::Sock;
use crate::ipvs::wire::Request;
use crate::ipvs::wire::frame::{NLM_F_ACK, Reply, push_message, split};

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acked, or a dump that reached DONE; with the data messages received for it.
    Ok(Vec<Vec<u8>>),
    /// The kernel's errno.
    Errno(i32),
    /// The socket failed before the kernel answered (errno of the socket error).
    Lost(i32),
}

struct Slot {
    seq: u32,
    dump: bool,
    ack: bool,
    data: Vec<Vec<u8>>,
    done: Option<Outcome>,
}

/// Where [`exchange_each`] hands data messages: (request index, payload).
pub type DataSink<'a> = &'a mut dyn FnMut(usize, &[u8]);

/// Send `reqs` in one `sendmsg` (the bool says whether the request asks for an ACK; dumps
/// always end with DONE or an error) and collect one outcome per request, in order.
pub fn exchange(sock: &mut Sock, family: u16, reqs: &[(&Request, bool)]) -> Vec<Outcome> {
    run(sock, family, reqs, None)
}

/// Like [`exchange`], but each data message goes to `on_data(request index, payload)`
/// straight out of the receive buffer, and the outcomes carry no data: a full listing
/// decodes tens of thousands of dest messages without copying each one first. Data of a
/// request that then fails has been passed on too; its outcome says to drop it.
pub fn exchange_each(
    sock: &mut Sock,
    family: u16,
    reqs: &[(&Request, bool)],
    on_data: DataSink<'_>,
) -> Vec<Outcome> {
    run(sock, family, reqs, Some(on_data))
}

fn run(
    sock: &mut Sock,
    family: u16,
    reqs: &[(&Request, bool)],
    on_data: Option<DataSink<'_>>,
) -> Vec<Outcome> {
    let (buf, mut slots) = frame_batch(sock, family, reqs);
    match sock.send(&buf, reqs.len()) {
        Ok(()) => collect(sock, &mut slots, on_data),
        Err(e) => abandon(&mut slots, errno_of(&e)),
    }
    slots
        .into_iter()
        .map(|s| s.done.unwrap_or(Outcome::Lost(libc::EIO)))
        .collect()
}

/// Frame every request with a fresh seq into one send buffer.
fn frame_batch(sock: &mut Sock, family: u16, reqs: &[(&Request, bool)]) -> (Vec<u8>, Vec<Slot>) {
    let mut buf = Vec::new();
    let mut slots = Vec::with_capacity(reqs.len());
    let pid = sock.pid();
    for (req, ack) in reqs {
        let seq = sock.next_seq();
        let ack = *ack || req.dump;
        let flags = if ack {
            req.flags()
        } else {
            req.flags() & !NLM_F_ACK
        };
        push_message(&mut buf, family, flags, seq, pid, &req.payload);
        slots.push(Slot {
            seq,
            dump: req.dump,
            ack,
            data: Vec::new(),
            done: None,
        });
    }
    (buf, slots)
}

/// The slot a reply's seq belongs to. Seqs are handed out consecutively, so the offset from
/// the first one finds it at once; a scan covers the wrap past 0, which `next_seq` skips.
fn slot_of(slots: &[Slot], seq: u32) -> Option<usize> {
    let first = slots.first()?.seq;
    let guess = usize::try_from(seq.wrapping_sub(first)).ok()?;
    match slots.get(guess) {
        Some(s) if s.seq == seq => Some(guess),
        _ => slots.iter().position(|s| s.seq == seq),
    }
}

/// Read replies until every slot is settled (or the socket fails). Data goes to `on_data`
/// when given, else into the slot.
fn collect(sock: &mut Sock, slots: &mut [Slot], mut on_data: Option<DataSink<'_>>) {
    let pid = sock.pid();
    let mut open = slots.len();
    while open > 0 {
        let received = match sock.recv() {
            Ok(bytes) => bytes,
            Err(e) => return abandon(slots, errno_of(&e)),
        };
        // A datagram we cannot frame: nothing after it can be trusted either.
        let Ok(messages) = split(received) else {
            return abandon(slots, libc::EBADMSG);
        };
        for m in messages {
            // Replies to earlier, abandoned requests (after a socket error) carry old seqs.
            let Some(i) = slot_of(slots, m.seq).filter(|_| m.pid == pid || m.pid == 0) else {
                continue;
            };
            match m.reply() {
                Ok(Reply::Data(p)) => match on_data.as_mut() {
                    Some(f) if slots[i].done.is_none() => f(i, p),
                    Some(_) => {}
                    None => slots[i].data.push(p.to_vec()),
                },
                Ok(Reply::Done | Reply::Ack) => settle(slots, i, None),
                Ok(Reply::Error(errno)) => settle(slots, i, Some(errno)),
                Ok(Reply::Ignore) => {}
                Err(_) => settle(slots, i, Some(libc::EINVAL)),
            }
        }
        open = slots.iter().filter(|s| s.done.is_none()).count();
    }
}

/// Every unsettled request failed with a socket-level errno.
fn abandon(slots: &mut [Slot], errno: i32) {
    for s in slots.iter_mut().filter(|s| s.done.is_none()) {
        s.done = Some(Outcome::Lost(errno));
    }
}

fn settle(slots: &mut [Slot], i: usize, errno: Option<i32>) {
    if slots[i].done.is_some() {
        return;
    }
    let data = std::mem::take(&mut slots[i].data);
    slots[i].done = Some(match errno {
        None => Outcome::Ok(data),
        Some(e) => Outcome::Errno(e),
    });
    // Everything before i that expected no reply of its own has been processed by now.
    for s in &mut slots[..i] {
        if s.done.is_none() && !s.ack && !s.dump {
            s.done = Some(Outcome::Ok(Vec::new()));
        }
    }
}

pub fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => libc::ETIMEDOUT,
        _ => libc::EIO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(acks: &[bool]) -> Vec<Slot> {
        acks.iter()
            .enumerate()
            .map(|(i, &ack)| Slot {
                seq: i as u32 + 1,
                dump: false,
                ack,
                data: Vec::new(),
                done: None,
            })
            .collect()
    }

    #[test]
    fn an_answer_settles_earlier_silent_requests_as_successes() {
        let mut s = slots(&[false, false, false, true]);
        settle(&mut s, 1, Some(libc::EEXIST));
        assert_eq!(s[0].done, Some(Outcome::Ok(Vec::new())));
        assert_eq!(s[1].done, Some(Outcome::Errno(libc::EEXIST)));
        assert_eq!(s[2].done, None, "not processed yet as far as we know");
        settle(&mut s, 3, None);
        assert_eq!(s[2].done, Some(Outcome::Ok(Vec::new())));
        assert_eq!(s[3].done, Some(Outcome::Ok(Vec::new())));
        // A late duplicate answer changes nothing.
        settle(&mut s, 1, None);
        assert_eq!(s[1].done, Some(Outcome::Errno(libc::EEXIST)));
    }

    #[test]
    fn requests_expecting_their_own_answer_are_not_settled_by_others() {
        let mut s = slots(&[true, false, true]);
        s[0].data.push(vec![1]);
        settle(&mut s, 2, None);
        assert_eq!(s[0].done, None);
        assert_eq!(s[1].done, Some(Outcome::Ok(Vec::new())));
        settle(&mut s, 0, None);
        assert_eq!(s[0].done, Some(Outcome::Ok(vec![vec![1]])));
    }
}
