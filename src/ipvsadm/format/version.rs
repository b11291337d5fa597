//! `ipvsadm -v` and the warning about a kernel IPVS version older than ipvsadm's.

use std::io::{self, Write};

/// The version line. The IPVS version in it is ipvsadm's compile-time constant, not the
/// kernel's, so it never changes.
pub const VERSION_LINE: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";

/// Kernels reporting an IPVS version below this get a warning on stderr.
const MINIMUM_IPVS_VERSION: u32 = (1 << 16) | (1 << 8) | 4;

/// `-v` / `--version` output.
pub fn write_version(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{VERSION_LINE}")
}

/// The stderr warning ipvsadm prints when the kernel's IPVS is older than 1.1.4 (`None`
/// otherwise, i.e. on every kernel of the last twenty years). `kernel_version` is the
/// GET_INFO encoding `(major << 16) | (minor << 8) | patch`.
pub fn version_mismatch_warning(kernel_version: u32) -> Option<String> {
    if kernel_version >= MINIMUM_IPVS_VERSION {
        return None;
    }
    let (major, minor, patch) = (
        (kernel_version >> 16) & 0xff,
        (kernel_version >> 8) & 0xff,
        kernel_version & 0xff,
    );
    Some(format!(
        "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {major}.{minor}.{patch}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n"
    ))
}
