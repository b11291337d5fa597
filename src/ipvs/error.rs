//! Typed errors of the kernel interface.
//!
//! They keep what a caller needs to act on or to print ipvsadm's exact message: which
//! operation failed and the kernel's errno. Turning them into text is the caller's job
//! (the ipvsadm personality maps (operation, errno) to ipvsadm's table; modern commands
//! print `Display`).

use std::io;

use thiserror::Error;

/// The operations whose kernel errors ipvsadm words differently (docs/ipvsadm-compat.md,
/// Kernel errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    AddService,
    EditService,
    DelService,
    Zero,
    AddDest,
    EditDest,
    DelDest,
    StartDaemon,
    StopDaemon,
    Flush,
    SetTimeouts,
    GetServices,
    GetService,
    GetDests,
    GetInfo,
    GetTimeouts,
    GetDaemons,
}

#[derive(Debug, Error)]
pub enum IpvsError {
    /// The kernel answered a request with a negative errno.
    #[error("{op:?} failed: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { op: OpKind, errno: i32 },

    /// IPVS could not be reached at all: the generic netlink family "IPVS" is missing
    /// (module not loaded and not loadable) or we lack CAP_NET_ADMIN. `errno` is what
    /// ipvsadm would report (ENOPROTOOPT for a missing module, EPERM for non-root).
    #[error("{}", unavailable_advice(*errno))]
    Unavailable { errno: i32 },

    /// A reply did not have the shape the protocol promises (missing required attribute,
    /// truncated message). ipvsadm reports these as EINVAL.
    #[error("malformed reply from the kernel: {0}")]
    Malformed(String),

    /// Socket-level failure (send/recv), not tied to one request.
    #[error("netlink socket error: {0}")]
    Socket(#[from] io::Error),

    /// A procfs file could not be read or parsed.
    #[error("{path}: {message}")]
    Proc { path: String, message: String },
}

/// What to tell an operator when IPVS cannot be reached, by cause.
fn unavailable_advice(errno: i32) -> String {
    match errno {
        libc::EPERM | libc::EACCES => "cannot use IPVS: permission denied; run as root \
            (IPVS needs CAP_NET_ADMIN in the initial user namespace)"
            .to_owned(),
        libc::ENOPROTOOPT | libc::ENOENT => "cannot use IPVS: this kernel has no IPVS \
            (the ip_vs module is not loaded and `modprobe ip_vs` did not load it; load it \
            as root, or use a kernel built with CONFIG_IP_VS)"
            .to_owned(),
        _ => format!("cannot use IPVS: {}", io::Error::from_raw_os_error(errno)),
    }
}

impl IpvsError {
    /// The errno ipvsadm would base its message on.
    pub fn errno(&self) -> i32 {
        match self {
            Self::Kernel { errno, .. } | Self::Unavailable { errno } => *errno,
            Self::Malformed(_) => libc::EINVAL,
            Self::Socket(e) => e.raw_os_error().unwrap_or(libc::EINVAL),
            Self::Proc { .. } => libc::ENOENT,
        }
    }
}

pub type Result<T, E = IpvsError> = std::result::Result<T, E>;
