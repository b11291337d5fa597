//! Opening the real kernel backend for the command-line faces.

use crate::ipvs::netlink::NetlinkBackend;
use crate::ipvs::{Backend, IpvsError};

/// Connect to the kernel's IPVS over netlink (one socket for the whole process). Loads
/// the ip_vs module with modprobe if needed, like ipvsadm.
pub fn open() -> Result<Box<dyn Backend>, IpvsError> {
    Ok(Box::new(NetlinkBackend::connect()?))
}
