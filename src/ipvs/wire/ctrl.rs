//! nlctrl: resolving the "IPVS" generic netlink family id (CTRL_CMD_GETFAMILY).

use std::io::Cursor;

use neli::consts::genl::{CtrlAttr, CtrlCmd};
use neli::genl::{Genlmsghdr, GenlmsghdrBuilder};
use neli::types::GenlBuffer;
use neli::{FromBytesWithInput, ToBytes};

use super::WireError;
use super::attr::{attr, u16_of};
use super::frame::{NLM_F_ACK, NLM_F_REQUEST, push_message};

/// `GENL_ID_CTRL`: the fixed family id of nlctrl itself.
pub const GENL_ID_CTRL: u16 = 0x10;

/// Frame a CTRL_CMD_GETFAMILY request for `name` (version 1, REQUEST|ACK, as libnl sends).
pub fn push_get_family(out: &mut Vec<u8>, name: &str, seq: u32) -> Result<(), WireError> {
    let genl: Genlmsghdr<CtrlCmd, CtrlAttr> = GenlmsghdrBuilder::default()
        .cmd(CtrlCmd::Getfamily)
        .version(1)
        .attrs(std::iter::once(attr(CtrlAttr::FamilyName, name)?).collect::<GenlBuffer<_, _>>())
        .build()
        .map_err(|e| WireError::Neli(e.to_string()))?;
    let mut body = Cursor::new(Vec::new());
    genl.to_bytes(&mut body)
        .map_err(|e| WireError::Neli(e.to_string()))?;
    push_message(
        out,
        GENL_ID_CTRL,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        0,
        body.get_ref(),
    );
    Ok(())
}

/// The family id from a CTRL_CMD_NEWFAMILY reply body.
pub fn family_id(genl: &[u8]) -> Result<u16, WireError> {
    let msg: Genlmsghdr<CtrlCmd, CtrlAttr> =
        Genlmsghdr::from_bytes_with_input(&mut Cursor::new(genl), genl.len())
            .map_err(|e| WireError::Neli(e.to_string()))?;
    let h = msg.attrs().get_attr_handle();
    let id = h
        .get_attribute(CtrlAttr::FamilyId)
        .ok_or(WireError::Missing("CTRL_ATTR_FAMILY_ID"))?;
    u16_of(id.nla_payload().as_ref(), "CTRL_ATTR_FAMILY_ID")
}
