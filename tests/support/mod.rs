//! Shared helpers for integration tests.
//!
//! Kernel tests need a real IPVS: they run inside the QEMU guest started by
//! `tests/vm/runner` (which sets `LVSCTL_IN_VM=1`). Each kernel test moves its thread into a
//! fresh network namespace first: IPVS tables are per netns, so tests run in parallel on
//! clean tables, and every netlink socket or child process created afterwards by that
//! thread lives there too.
//!
//! Outside the VM a kernel test reports that it was not run and returns, unless
//! `LVSCTL_REQUIRE_KERNEL=1` (set by the full test command) makes that a failure.
#![allow(dead_code, unsafe_code)]

use std::process::Command;

/// Proof that the current thread sits in a fresh network namespace of the IPVS guest.
#[derive(Debug)]
pub struct FreshNetns(());

pub fn in_vm() -> bool {
    std::env::var_os("LVSCTL_IN_VM").is_some()
}

/// Enter a fresh network namespace with `lo` up, or report "not run" outside the VM.
pub fn fresh_netns(test: &str) -> Option<FreshNetns> {
    if !in_vm() {
        assert!(
            std::env::var_os("LVSCTL_REQUIRE_KERNEL").is_none(),
            "{test}: kernel test ran outside the IPVS VM although LVSCTL_REQUIRE_KERNEL is set"
        );
        eprintln!("{test}: NOT RUN: needs the IPVS kernel (run tests/vm/test-all)");
        return None;
    }
    // SAFETY: unshare(2) with CLONE_NEWNET only affects the calling thread's namespaces.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(
        rc,
        0,
        "unshare(CLONE_NEWNET): {}",
        std::io::Error::last_os_error()
    );
    let status = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .expect("run ip");
    assert!(status.success(), "ip link set lo up failed");
    Some(FreshNetns(()))
}

/// Start a kernel test: `kernel_test!()` at the top of a `#[test]` fn returns early (not
/// run) outside the VM and otherwise binds the fresh netns to `_netns`.
#[macro_export]
macro_rules! kernel_test {
    () => {
        let Some(_netns) = $crate::support::fresh_netns(module_path!()) else {
            return;
        };
    };
}

/// Run a shell command in the current netns and return (stdout, stderr, exit code).
pub fn sh(cmd: &str) -> (String, String, i32) {
    let out = Command::new("sh")
        .args(["-c", cmd])
        .output()
        .expect("spawn sh");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(128),
    )
}

/// Path of the built lvsctl binary.
pub fn lvsctl_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lvsctl")
}
