//! nlctrl: resolving the "IPVS" generic netlink family id (CTRL_CMD_GETFAMILY).
//!
//! Written by hand like `encode` and read with [`AttrIndex`] like `decode`: every ipvsadm
//! command resolves the family once, and parsing the whole reply (every op and multicast
//! group of the family, as neli's `Genlmsghdr` does) was a noticeable part of what a
//! short-lived `ipvsadm -Ln` executes, for one u16.

use super::WireError;
use super::attr::u16_of;
use super::frame::{NLM_F_ACK, NLM_F_REQUEST, align, push_message};
use super::index::AttrIndex;

/// `GENL_ID_CTRL`: the fixed family id of nlctrl itself.
pub const GENL_ID_CTRL: u16 = 0x10;
/// `CTRL_CMD_GETFAMILY`.
const CTRL_CMD_GETFAMILY: u8 = 3;
/// `CTRL_ATTR_FAMILY_ID` (u16) and `CTRL_ATTR_FAMILY_NAME` (NUL-terminated string).
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// `struct genlmsghdr`: cmd, version, two reserved bytes.
const GENL_HDRLEN: usize = 4;
/// Longest family name the kernel knows (`GENL_NAMSIZ`, NUL included).
const GENL_NAMSIZ: usize = 16;

/// Frame a CTRL_CMD_GETFAMILY request for `name` (version 1, REQUEST|ACK, as libnl sends).
pub fn push_get_family(out: &mut Vec<u8>, name: &str, seq: u32) -> Result<(), WireError> {
    if name.len() >= GENL_NAMSIZ {
        return Err(WireError::TooLong("family name"));
    }
    let attr_len = 4 + name.len() + 1;
    let mut body = Vec::with_capacity(GENL_HDRLEN + align(attr_len));
    body.extend_from_slice(&[CTRL_CMD_GETFAMILY, 1, 0, 0]);
    body.extend_from_slice(&(attr_len as u16).to_ne_bytes());
    body.extend_from_slice(&CTRL_ATTR_FAMILY_NAME.to_ne_bytes());
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.resize(GENL_HDRLEN + align(attr_len), 0);
    push_message(out, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq, 0, &body);
    Ok(())
}

/// The family id from a CTRL_CMD_NEWFAMILY reply body (genl header and attributes).
pub fn family_id(genl: &[u8]) -> Result<u16, WireError> {
    let attrs = genl.get(GENL_HDRLEN..).ok_or(WireError::Truncated)?;
    let id = AttrIndex::new(attrs)?.need(CTRL_ATTR_FAMILY_ID, "CTRL_ATTR_FAMILY_ID")?;
    u16_of(id, "CTRL_ATTR_FAMILY_ID")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ipvsadm (libnl) sends, as strace shows it: nlmsghdr, then cmd 3 version 1, then
    /// FAMILY_NAME "IPVS\0" padded to 12 bytes.
    #[test]
    fn get_family_request_is_libnls() {
        let mut out = Vec::new();
        push_get_family(&mut out, "IPVS", 7).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(&32u32.to_ne_bytes());
        want.extend_from_slice(&GENL_ID_CTRL.to_ne_bytes());
        want.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        want.extend_from_slice(&7u32.to_ne_bytes());
        want.extend_from_slice(&0u32.to_ne_bytes());
        want.extend_from_slice(&[3, 1, 0, 0, 9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0]);
        assert_eq!(out, want);
        assert!(push_get_family(&mut out, "a name far too long", 1).is_err());
    }

    /// A NEWFAMILY reply shaped like the kernel's: name, id, version, then nested op and
    /// multicast lists that are skipped.
    #[test]
    fn family_id_reads_the_id_among_nests() {
        let mut genl = vec![1, 2, 0, 0];
        genl.extend_from_slice(&[9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0]);
        genl.extend_from_slice(&[6, 0, 1, 0, 0x21, 0, 0, 0]);
        genl.extend_from_slice(&[8, 0, 3, 0, 1, 0, 0, 0]);
        genl.extend_from_slice(&[12, 0, 6, 0x80, 8, 0, 1, 0, 15, 0, 0, 0]); // CTRL_ATTR_OPS, nested
        assert_eq!(family_id(&genl).unwrap(), 0x21);
        assert!(family_id(&genl[..4]).is_err());
        assert!(family_id(&genl[..2]).is_err());
        assert!(family_id(&genl[..10]).is_err());
    }
}
