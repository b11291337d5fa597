//! keepalived's FILE_CHECK as a real's own check: the daemon follows the tracked file
//! (health::daemon::ka_file) under keepalived's FILE_CHECK rules
//! (health::state::keepalived_file).

use std::time::Duration;

use super::Refusals;
use super::checks::{UNCHECKED, settings};
use crate::health::config::{CheckType, KeepalivedFile, RealCheck};
use crate::health::keepalived::{
    Checker, FileCheck, RealServer as KaReal, VirtualServer as KaVirtual,
};

/// A FILE_CHECK as a check of its own: no connection, no timing, in service from the
/// start (keepalived clears `alpha` for it; the file read at start decides,
/// health::daemon::checker_slots). Its weight moves the real's weight, which the
/// daemon's quorum does not weigh: refused beside a sorry server or quorum scripts, as
/// `misc_dynamic` is.
pub(super) fn file_check(
    r: &mut Refusals,
    vs: &KaVirtual,
    k: &KaReal,
    c: &Checker,
    f: &FileCheck,
) -> Option<RealCheck> {
    let quorum_matters =
        vs.sorry_server.is_some() || vs.quorum_up.is_some() || vs.quorum_down.is_some();
    if quorum_matters {
        r.refuse(
            &c.pos,
            "FILE_CHECK beside a sorry_server or quorum_up/quorum_down",
        );
        return None;
    }
    Some(RealCheck {
        check: settings(CheckType::On, 5),
        check_port: Some(k.port),
        connect_ip: None,
        bind: None,
        bind_device: None,
        mark: None,
        // Only the slot's bookkeeping: the file's changes come as they happen.
        check_interval: UNCHECKED.delay_loop,
        warmup: Duration::ZERO,
        failure_count: 1,
        retry_delay: None,
        keepalived_http: None,
        keepalived_check: None,
        keepalived_misc: None,
        keepalived_file: Some(KeepalivedFile {
            path: f.file.clone(),
            weight: f.weight,
            reverse: f.reverse,
        }),
        start_up: Some(true),
    })
}
