//! A zero-copy view of a netlink attribute list, for decoding replies.
//!
//! Why not neli's parser here: a full listing decodes tens of thousands of dest messages,
//! each with ~35 attributes in three levels, and neli's `GenlBuffer` copies every payload
//! into its own `Vec` and re-parses nests on access. Walking the TLVs once and keeping
//! slices into the receive buffer makes decoding a small fraction of a listing's cost.
//! (Requests do not go through neli either: `encode` and `ctrl` write them by hand.)

use super::WireError;

/// Attribute types at or above this are ignored (every IPVS level stops below 16).
const SLOTS: usize = 32;
const TYPE_MASK: u16 = 0x3fff;

/// Where each attribute type first occurs in `bytes`: the offset of its header plus one (0:
/// absent). Offsets rather than slices keep the index at 144 bytes instead of 528: a
/// listing builds three per real server, and under emulation clearing and copying that
/// memory cost more than the decoding itself.
#[derive(Debug, Clone, Copy)]
pub struct AttrIndex<'a> {
    bytes: &'a [u8],
    slots: [u32; SLOTS],
}

impl<'a> AttrIndex<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, WireError> {
        let mut slots = [0u32; SLOTS];
        let mut at = 0usize;
        while let Some(rest) = bytes.get(at..).filter(|r| r.len() >= 4) {
            let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
            let kind = usize::from(u16::from_ne_bytes([rest[2], rest[3]]) & TYPE_MASK);
            if len < 4 || len > rest.len() {
                return Err(WireError::Truncated);
            }
            if let Some(slot @ 0) = slots.get_mut(kind) {
                *slot = u32::try_from(at + 1).map_err(|_| WireError::Truncated)?;
            }
            at += (len + 3) & !3;
        }
        Ok(Self { bytes, slots })
    }

    pub fn get(&self, kind: impl Into<u16>) -> Option<&'a [u8]> {
        let at = usize::try_from(*self.slots.get(usize::from(kind.into()))?)
            .ok()?
            .checked_sub(1)?;
        let header = self.bytes.get(at..at + 4)?;
        let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        self.bytes.get(at + 4..at + len)
    }

    pub fn need(&self, kind: impl Into<u16>, name: &'static str) -> Result<&'a [u8], WireError> {
        self.get(kind).ok_or(WireError::Missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(4 + payload.len()).unwrap();
        let mut v = [len.to_ne_bytes(), kind.to_ne_bytes()].concat();
        v.extend_from_slice(payload);
        v.resize((v.len() + 3) & !3, 0);
        v
    }

    #[test]
    fn indexes_by_type_and_masks_the_nested_bit() {
        let bytes = [tlv(1, &[2, 0]), tlv(0x8003, &[9; 5]), tlv(40, &[1])].concat();
        let idx = AttrIndex::new(&bytes).unwrap();
        assert_eq!(idx.get(1u16), Some(&[2u8, 0][..]));
        assert_eq!(idx.get(3u16), Some(&[9u8; 5][..]));
        assert_eq!(idx.get(2u16), None);
        assert!(matches!(idx.need(2u16, "X"), Err(WireError::Missing("X"))));
    }

    #[test]
    fn overrunning_header_is_malformed_and_trailing_bytes_are_ignored() {
        let mut bytes = tlv(1, &[1, 2, 3, 4]);
        bytes[0] = 200;
        assert!(AttrIndex::new(&bytes).is_err());
        let bytes = [tlv(1, &[1]), vec![0, 0]].concat();
        assert!(AttrIndex::new(&bytes).is_ok());
    }
}
