//! ipvsadm's wording of kernel errors and of the failure to reach IPVS at all.
//!
//! libipvs words an errno by the operation that failed first (`EEXIST` on add-service is
//! "Service already exists"), then by a handful of generic rows, then falls back to glibc's
//! `strerror`. Which operation counts is the executor's choice through [`OpKind`]; operations
//! ipvsadm does not register (`-C`, `--set`, the info/timeout/daemon getters) only ever get
//! the generic rows.

use super::strerror::strerror;
use crate::ipvs::error::OpKind;

/// The one-line message ipvsadm prints when `op` failed with `errno`.
///
/// `errno` may be given with either sign (netlink reports `-errno`); it is normalised.
pub fn kernel_error_message(op: OpKind, errno: i32) -> String {
    let errno = normalise(errno);
    match specific_message(op, errno) {
        Some(message) => message.to_owned(),
        None => generic_error_message(errno),
    }
}

/// The message for failures not tied to a registered operation (flush, `--set`, init).
pub fn generic_error_message(errno: i32) -> String {
    let errno = normalise(errno);
    let message = match errno {
        libc::EPERM => "Permission denied (you must be root)",
        libc::EINVAL => {
            "Invalid operation.  Possibly wrong module version, address not unicast, ..."
        }
        libc::ENOPROTOOPT => "Protocol not available",
        libc::ENOMEM => "Memory allocation problem",
        libc::EOPNOTSUPP => "Operation not supported with IPv6",
        libc::EAFNOSUPPORT => "Operation not supported with specified address family",
        libc::EMSGSIZE => "Module is wrong version",
        _ => return strerror(errno),
    };
    message.to_owned()
}

/// The two stderr lines (with their newlines) ipvsadm prints, before exiting 2, when IPVS
/// cannot be initialised.
pub fn init_failure_message(errno: i32) -> String {
    format!(
        "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
        generic_error_message(errno)
    )
}

/// Operation-specific rows of libipvs' table.
fn specific_message(op: OpKind, errno: i32) -> Option<&'static str> {
    const NO_SERVICE: &str = "No such service";
    const NOT_DEFINED: &str = "Service not defined";
    const NO_SCHED: &str = "Scheduler or persistence engine not found";
    const NO_DEST: &str = "No such destination";
    let message = match (op, errno) {
        (OpKind::AddService, libc::EEXIST) => "Service already exists",
        (OpKind::AddService | OpKind::EditService, libc::ENOENT) => NO_SCHED,
        (
            OpKind::EditService
            | OpKind::DelService
            | OpKind::Zero
            | OpKind::GetServices
            | OpKind::GetService
            | OpKind::GetDests,
            libc::ESRCH,
        ) => NO_SERVICE,
        (OpKind::AddDest | OpKind::EditDest | OpKind::DelDest, libc::ESRCH) => NOT_DEFINED,
        (OpKind::AddDest, libc::EEXIST) => "Destination already exists",
        (OpKind::EditDest | OpKind::DelDest, libc::ENOENT) => NO_DEST,
        (OpKind::StartDaemon, libc::EEXIST) => "Daemon has already run",
        (OpKind::StopDaemon, libc::ESRCH) => "No daemon is running",
        _ => return None,
    };
    Some(message)
}

/// Netlink carries `-errno`; libipvs works with the positive value.
fn normalise(errno: i32) -> i32 {
    if errno < 0 {
        errno.checked_neg().unwrap_or(errno)
    } else {
        errno
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_rows_come_first() {
        assert_eq!(
            kernel_error_message(OpKind::AddService, libc::EEXIST),
            "Service already exists"
        );
        assert_eq!(
            kernel_error_message(OpKind::AddDest, libc::EEXIST),
            "Destination already exists"
        );
        assert_eq!(
            kernel_error_message(OpKind::Flush, libc::EEXIST),
            "File exists"
        );
        assert_eq!(
            kernel_error_message(OpKind::AddService, libc::ESRCH),
            "No such process"
        );
        assert_eq!(
            kernel_error_message(OpKind::EditDest, libc::ENOENT),
            "No such destination"
        );
        assert_eq!(
            kernel_error_message(OpKind::DelDest, libc::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            kernel_error_message(OpKind::GetDests, -libc::ESRCH),
            "No such service"
        );
        assert_eq!(
            kernel_error_message(OpKind::StopDaemon, libc::ESRCH),
            "No daemon is running"
        );
        assert_eq!(
            kernel_error_message(OpKind::StartDaemon, libc::EEXIST),
            "Daemon has already run"
        );
        assert_eq!(
            kernel_error_message(OpKind::GetInfo, libc::ENOENT),
            "No such file or directory"
        );
    }

    #[test]
    fn generic_rows_and_strerror_fallback() {
        assert_eq!(
            kernel_error_message(OpKind::AddDest, libc::EINVAL),
            "Invalid operation.  Possibly wrong module version, address not unicast, ..."
        );
        assert_eq!(
            kernel_error_message(OpKind::EditDest, libc::ERANGE),
            "Numerical result out of range"
        );
        assert_eq!(
            kernel_error_message(OpKind::StartDaemon, libc::ENODEV),
            "No such device"
        );
        assert_eq!(
            kernel_error_message(OpKind::SetTimeouts, libc::EPERM),
            "Permission denied (you must be root)"
        );
        assert_eq!(
            generic_error_message(libc::EMSGSIZE),
            "Module is wrong version"
        );
        assert_eq!(
            generic_error_message(libc::EAFNOSUPPORT),
            "Operation not supported with specified address family"
        );
        assert_eq!(
            generic_error_message(libc::EOPNOTSUPP),
            "Operation not supported with IPv6"
        );
        assert_eq!(
            generic_error_message(libc::ENOMEM),
            "Memory allocation problem"
        );
    }

    #[test]
    fn init_failure_texts() {
        assert_eq!(
            init_failure_message(libc::ENOPROTOOPT),
            "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"
        );
        assert_eq!(
            init_failure_message(libc::EPERM),
            "Can't initialize ipvs: Permission denied (you must be root)\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"
        );
    }
}
