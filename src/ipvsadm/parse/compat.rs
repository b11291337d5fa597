//! ipvsadm's command × option compatibility matrix and tunnel-type matrix, as data, plus
//! the one-pass check that walks them.
//!
//! The walk order is the option index order, and the first violation is the error
//! reported; scripts see exactly one message, so the order is part of the interface.

use super::error::Failure;
use super::table::{Command, Tracked, TrackedSet};
use crate::ipvs::model::TunnelType;

/// One cell of a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// `+`: must be given.
    Required,
    /// `x`: must not be given.
    Illegal,
    /// `1`: at most one of the `1` options of the row/column may be given.
    OneOf,
    /// `.`: may be given.
    Optional,
}

const fn rule(c: u8) -> Rule {
    match c {
        b'+' => Rule::Required,
        b'x' => Rule::Illegal,
        b'1' => Rule::OneOf,
        _ => Rule::Optional,
    }
}

/// Rows: tracked options in index order. Columns (14): add-service, edit-service,
/// delete-service, flush, list, add-server, delete-server, edit-server, set, start-daemon,
/// stop-daemon, restore, save, zero — the order of [`Command::ALL`].
const COMMAND_MATRIX: [(Tracked, &[u8; 14]); 34] = [
    (Tracked::Numeric, b"xxxx.xxxxxxx.x"),
    (Tracked::Connection, b"xxxx1xxxxxxxxx"),
    (Tracked::ServiceAddress, b"+++x1+++xxxxx."),
    (Tracked::Scheduler, b"..xxxxxxxxxxxx"),
    (Tracked::Persistent, b"..xxxxxxxxxxxx"),
    (Tracked::Netmask, b"..xxxxxxxxxxxx"),
    (Tracked::RealServer, b"xxxxx+++xxxxxx"),
    (Tracked::ForwardingMethod, b"xxxxx.x.xxxxxx"),
    (Tracked::Weight, b"xxxxx.x.xxxxxx"),
    (Tracked::UThreshold, b"xxxxx.x.xxxxxx"),
    (Tracked::LThreshold, b"xxxxx.x.xxxxxx"),
    (Tracked::McastInterface, b"xxxxxxxxx.xxxx"),
    (Tracked::Timeout, b"xxxx1xxxxxxxxx"),
    (Tracked::Daemon, b"xxxx1xxxxxxxxx"),
    (Tracked::Stats, b"xxxx.xxxxxxxxx"),
    (Tracked::Rate, b"xxxx.xxxxxxxxx"),
    (Tracked::Thresholds, b"xxxx.xxxxxxxxx"),
    (Tracked::PersistentConn, b"xxxx.xxxxxxxxx"),
    (Tracked::NoSort, b"xxxx.xxxxxxxxx"),
    (Tracked::SyncId, b"xxxx.xxxx..xxx"),
    (Tracked::Exact, b"xxxx.xxxxxxxxx"),
    (Tracked::Ops, b"..xxxxxxxxxxxx"),
    (Tracked::Pe, b"..xxxxxxxxxxxx"),
    (Tracked::SchedFlags, b"..xxxxxxxxxxxx"),
    (Tracked::McastGroup, b"xxxxxxxxx.xxxx"),
    (Tracked::McastPort, b"xxxxxxxxx.xxxx"),
    (Tracked::McastTtl, b"xxxxxxxxx.xxxx"),
    (Tracked::SyncMaxlen, b"xxxxxxxxx.xxxx"),
    (Tracked::TunInfo, b"xxxx.xxxxxxxxx"),
    (Tracked::TunType, b"xxxxx.x.xxxxxx"),
    (Tracked::TunPort, b"xxxxx.x.xxxxxx"),
    (Tracked::TunNoCsum, b"xxxxx.x.xxxxxx"),
    (Tracked::TunCsum, b"xxxxx.x.xxxxxx"),
    (Tracked::TunRemCsum, b"xxxxx.x.xxxxxx"),
];

/// Tunnel options in the column order of ipvsadm's tunnel table.
const TUNNEL_OPTIONS: [Tracked; 4] = [
    Tracked::TunPort,
    Tracked::TunNoCsum,
    Tracked::TunCsum,
    Tracked::TunRemCsum,
];

/// Rows: tunnel type (ipip, gue, gre); columns: [`TUNNEL_OPTIONS`].
const TUNNEL_MATRIX: [(TunnelType, &str, &[u8; 4]); 3] = [
    (TunnelType::Ipip, "ipip", b"xxxx"),
    (TunnelType::Gue, "gue", b"+111"),
    (TunnelType::Gre, "gre", b"x11x"),
];

/// The generic walk shared by both matrices: `cells` pairs each option (in check order)
/// with its rule; `subject` names the command or tunnel type in messages.
fn walk(
    given: TrackedSet,
    cells: impl Iterator<Item = (Tracked, Rule)>,
    subject: &'static str,
    kind: Subject,
) -> Result<(), Failure> {
    let mut first_of_group: Option<Tracked> = None;
    for (opt, rule) in cells {
        let present = given.contains(opt);
        match (present, rule) {
            (false, Rule::Required) => {
                return Err(kind.missing(opt, subject));
            }
            (true, Rule::Illegal) => return Err(kind.illegal(opt, subject)),
            (true, Rule::OneOf) => match first_of_group {
                None => first_of_group = Some(opt),
                Some(earlier) => return Err(kind.conflict(opt, earlier, subject)),
            },
            _ => {}
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Subject {
    Command,
    Tunnel,
}

impl Subject {
    fn missing(self, opt: Tracked, subject: &'static str) -> Failure {
        match self {
            Self::Command => Failure::MissingOption { opt, cmd: subject },
            Self::Tunnel => Failure::TunnelMissingOption { opt, tun: subject },
        }
    }
    fn illegal(self, opt: Tracked, subject: &'static str) -> Failure {
        match self {
            Self::Command => Failure::IllegalOption { opt, cmd: subject },
            Self::Tunnel => Failure::TunnelIllegalOption { opt, tun: subject },
        }
    }
    fn conflict(self, opt: Tracked, earlier: Tracked, subject: &'static str) -> Failure {
        match self {
            Self::Command => Failure::ConflictingOptions {
                opt,
                earlier,
                cmd: subject,
            },
            Self::Tunnel => Failure::TunnelConflictingOptions {
                opt,
                earlier,
                tun: subject,
            },
        }
    }
}

/// ipvsadm's generic option check for `cmd`.
pub fn check_command(cmd: Command, given: TrackedSet) -> Result<(), Failure> {
    let col = cmd.column();
    let cells = COMMAND_MATRIX
        .iter()
        .map(move |(opt, row)| (*opt, rule(row[col])));
    walk(given, cells, cmd.message_name(), Subject::Command)
}

/// ipvsadm's tunnel option check for a tunnelling real server of type `tun`.
pub fn check_tunnel(tun: TunnelType, given: TrackedSet) -> Result<(), Failure> {
    let Some((_, name, row)) = TUNNEL_MATRIX.iter().find(|(t, _, _)| *t == tun) else {
        return Ok(());
    };
    let cells = TUNNEL_OPTIONS
        .iter()
        .zip(row.iter())
        .map(|(opt, c)| (*opt, rule(*c)));
    walk(given, cells, name, Subject::Tunnel)
}

/// The list command's extra rule, applied after the matrix.
pub fn check_list_extra(given: TrackedSet) -> Result<(), Failure> {
    let selection = given.any(&[Tracked::Connection, Tracked::Timeout, Tracked::Daemon]);
    let columns = given.any(&[Tracked::Stats, Tracked::Rate, Tracked::Thresholds]);
    let tables = given.any(&[Tracked::Timeout, Tracked::Daemon]);
    if (selection && columns) || (tables && given.contains(Tracked::PersistentConn)) {
        return Err(Failure::ListConflict);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_are_in_index_order() {
        for (i, (opt, _)) in COMMAND_MATRIX.iter().enumerate() {
            assert_eq!(opt.index(), i);
        }
    }
}
