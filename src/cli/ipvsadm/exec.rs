//! Executing ipvsadm command lines against a [`Backend`]: the process life-cycle of
//! ipvsadm 1.31 (kernel first, then arguments), its exit statuses, and `-R` restore.
//!
//! Restore keeps ipvsadm's line-by-line semantics (a validation error aborts, a kernel
//! error is reported and the restore goes on, the status is the last line's) but sends
//! consecutive writes to the kernel as one batch over one socket instead of a socket per
//! line. A batch is flushed before anything else is printed, so the order of messages and
//! output is the same as ipvsadm's.

use std::io::{BufRead, Write};

use crate::ipvs::{Backend, IpvsError, Op, OpKind, ServiceEntry};
use crate::ipvsadm::format::{self, ListFormat};
use crate::ipvsadm::parse::{
    self, IpvsadmCommand, ListRequest, ListTarget, ParseError, parse_restore_line, restore_lines,
};
use crate::names::{NoNames, Resolver};

/// Exit statuses ipvsadm uses (docs/ipvsadm-compat.md, Exit status).
const OK: u8 = 0;
const LIST_FAILED: u8 = 1;
const INIT_FAILED: u8 = 2;
const KERNEL_FAILED: u8 = 255;

/// What one ipvsadm invocation reads and writes.
pub struct Io<'a> {
    pub argv0: &'a str,
    pub resolver: &'a dyn Resolver,
    pub stdin: &'a mut dyn BufRead,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// A whole ipvsadm process: initialise IPVS (before looking at the arguments, like
/// ipvsadm), parse, execute. Returns the exit status.
pub fn run(
    io: &mut Io<'_>,
    args: &[String],
    connect: &mut dyn FnMut() -> Result<Box<dyn Backend>, IpvsError>,
) -> u8 {
    let mut backend = match connect() {
        Ok(backend) => backend,
        Err(e) => {
            let _ = write!(io.err, "{}", format::init_failure_message(e.errno()));
            return INIT_FAILED;
        }
    };
    run_with(io, args, backend.as_mut())
}

/// Parse and execute one command line with an initialised backend.
pub fn run_with(io: &mut Io<'_>, args: &[String], backend: &mut dyn Backend) -> u8 {
    match parse::parse(io.argv0, args, io.resolver) {
        Ok(IpvsadmCommand::Restore) => restore(io, backend),
        Ok(cmd) => execute(io, backend, &cmd),
        Err(e) => report_parse_error(io, &e),
    }
}

fn report_parse_error(io: &mut Io<'_>, e: &ParseError) -> u8 {
    let _ = writeln!(io.err, "{}", e.message);
    e.exit_code
}

/// The kernel write an ipvsadm command stands for, if it is one.
fn write_op(cmd: &IpvsadmCommand) -> Option<Op> {
    Some(match cmd {
        IpvsadmCommand::AddService(s) => Op::AddService(s.clone()),
        IpvsadmCommand::EditService(s) => Op::EditService(s.clone()),
        IpvsadmCommand::DelService(k) => Op::DelService(*k),
        IpvsadmCommand::Flush => Op::Flush,
        IpvsadmCommand::AddDest(k, d) => Op::AddDest(*k, d.clone()),
        IpvsadmCommand::EditDest(k, d) => Op::EditDest(*k, d.clone()),
        IpvsadmCommand::DelDest(k, d) => Op::DelDest(*k, *d),
        IpvsadmCommand::Zero(k) => Op::Zero(*k),
        IpvsadmCommand::SetTimeouts(t) => Op::SetTimeouts(*t),
        IpvsadmCommand::StartDaemon(d) => Op::StartDaemon(d.clone()),
        IpvsadmCommand::StopDaemon(role, syncid) => Op::StopDaemon(*role, *syncid),
        IpvsadmCommand::List(_)
        | IpvsadmCommand::Save { .. }
        | IpvsadmCommand::Restore
        | IpvsadmCommand::Help
        | IpvsadmCommand::Version => return None,
    })
}

/// Print the kernel error of a failed write the way ipvsadm words it; status 255.
fn report_write(io: &mut Io<'_>, op: &Op, result: Result<(), IpvsError>) -> u8 {
    match result {
        Ok(()) => OK,
        Err(e) => {
            let _ = writeln!(
                io.err,
                "{}",
                format::kernel_error_message(op.kind(), e.errno())
            );
            KERNEL_FAILED
        }
    }
}

/// Execute one parsed command (not `-R`).
pub fn execute(io: &mut Io<'_>, backend: &mut dyn Backend, cmd: &IpvsadmCommand) -> u8 {
    if let Some(op) = write_op(cmd) {
        let result = backend.apply_one(&op);
        return report_write(io, &op, result);
    }
    let written = match cmd {
        IpvsadmCommand::Help => format::write_help(io.out, io.argv0).map(|()| OK),
        IpvsadmCommand::Version => format::write_version(io.out).map(|()| OK),
        IpvsadmCommand::Save { numeric } => save(io, backend, *numeric),
        IpvsadmCommand::List(req) => list(io, backend, req),
        // Nested restore is refused by the parser; writes were handled above.
        _ => Ok(OK),
    };
    // ipvsadm ignores output errors (e.g. stdout is /dev/full): the status stays.
    written.unwrap_or(OK)
}

fn list_format(req: &ListRequest) -> ListFormat {
    ListFormat {
        mode: req.mode,
        exact: req.exact,
        nosort: req.nosort,
    }
}

fn names<'a>(io: &Io<'a>, numeric: bool) -> &'a dyn Resolver {
    if numeric { &NoNames } else { io.resolver }
}

fn list_error(io: &mut Io<'_>, op: OpKind, e: &IpvsError) -> u8 {
    let _ = writeln!(io.err, "{}", format::kernel_error_message(op, e.errno()));
    LIST_FAILED
}

fn list(io: &mut Io<'_>, backend: &mut dyn Backend, req: &ListRequest) -> std::io::Result<u8> {
    let fmt = list_format(req);
    let names = names(io, req.numeric);
    match req.target {
        ListTarget::Timeouts => match backend.timeouts() {
            Ok(t) => format::write_timeouts(io.out, &t).map(|()| OK),
            Err(_) => Ok(LIST_FAILED),
        },
        ListTarget::Daemons => match backend.daemons() {
            Ok(d) => format::write_daemons(io.out, &d).map(|()| OK),
            Err(_) => Ok(LIST_FAILED),
        },
        ListTarget::Connections => connections(io, backend, req.persistent_conn, names),
        ListTarget::Service(key) => {
            let service = match backend.service(&key) {
                Ok(s) => s,
                Err(e) => return Ok(list_error(io, OpKind::GetService, &e)),
            };
            let dests = match backend.dests(&key) {
                Ok(d) => d,
                Err(e) => return Ok(list_error(io, OpKind::GetDests, &e)),
            };
            let entry = ServiceEntry { service, dests };
            format::write_single_listing(io.out, &entry, &fmt, names).map(|()| OK)
        }
        ListTarget::All => {
            let info = match backend.opening_info() {
                Ok(i) => i,
                Err(e) => return Ok(list_error(io, OpKind::GetInfo, &e)),
            };
            // The header goes out before the dump, as ipvsadm prints it.
            format::write_list_header(io.out, &info)?;
            let mut entries = match backend.entries() {
                Ok(e) => e,
                Err(e) => return Ok(list_error(io, OpKind::GetServices, &e)),
            };
            if !fmt.nosort {
                format::sort_entries(&mut entries);
            }
            format::write_title(io.out, fmt.mode)?;
            let unsorted = ListFormat {
                nosort: true,
                ..fmt
            };
            for entry in &entries {
                let mut dests = entry.dests.clone();
                if !fmt.nosort {
                    format::sort_dests(&mut dests);
                }
                format::write_service_entry(io.out, &entry.service, &dests, &unsorted, names)?;
            }
            Ok(OK)
        }
    }
}

fn connections(
    io: &mut Io<'_>,
    backend: &mut dyn Backend,
    persistent_conn: bool,
    names: &dyn Resolver,
) -> std::io::Result<u8> {
    let mut header_written = false;
    let mut write_error = None;
    let out = &mut *io.out;
    let result = backend.connections(&mut |conn| {
        let step = (|| {
            if !header_written {
                format::write_conn_header(out, persistent_conn)?;
                header_written = true;
            }
            format::write_conn_line(out, &conn, persistent_conn, names)
        })();
        match step {
            Ok(()) => true,
            Err(e) => {
                write_error = Some(e);
                false
            }
        }
    });
    if result.is_err() {
        let _ = writeln!(io.err, "cannot open file /proc/net/ip_vs_conn");
        return Ok(LIST_FAILED);
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    if !header_written {
        format::write_conn_header(out, persistent_conn)?;
    }
    Ok(OK)
}

fn save(io: &mut Io<'_>, backend: &mut dyn Backend, numeric: bool) -> std::io::Result<u8> {
    let names = names(io, numeric);
    match backend.entries() {
        Ok(entries) => format::write_save(io.out, &entries, names).map(|()| OK),
        Err(e) => Ok(list_error(io, OpKind::GetServices, &e)),
    }
}

/// Pending writes of a restore, flushed as one batch.
struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// Send the pending writes; report each failure in order. Returns the status of the
    /// last write, or `None` when nothing was pending.
    fn flush(&mut self, io: &mut Io<'_>, backend: &mut dyn Backend) -> Option<u8> {
        if self.ops.is_empty() {
            return None;
        }
        let results = backend.apply(&self.ops);
        let mut status = OK;
        for (op, result) in self.ops.iter().zip(results) {
            status = report_write(io, op, result);
        }
        self.ops.clear();
        Some(status)
    }
}

/// `-R`: read command lines from stdin and execute them like ipvsadm does.
pub fn restore(io: &mut Io<'_>, backend: &mut dyn Backend) -> u8 {
    let mut input = Vec::new();
    if io.stdin.read_to_end(&mut input).is_err() {
        return OK;
    }
    restore_input(io, backend, &input)
}

/// Restore from an in-memory input (also used by `ipvsadm-restore`).
pub fn restore_input(io: &mut Io<'_>, backend: &mut dyn Backend, input: &[u8]) -> u8 {
    let mut batch = Batch { ops: Vec::new() };
    let mut status = OK;
    for tokens in restore_lines(input) {
        match parse_restore_line(io.argv0, &tokens, io.resolver) {
            Ok(cmd) => {
                if let Some(op) = write_op(&cmd) {
                    batch.ops.push(op);
                    continue;
                }
                batch.flush(io, backend);
                let stops = matches!(cmd, IpvsadmCommand::Help | IpvsadmCommand::Version);
                let lists = matches!(cmd, IpvsadmCommand::List(_) | IpvsadmCommand::Save { .. });
                status = execute(io, backend, &cmd);
                let _ = io.out.flush();
                // ipvsadm's listing code exits the process when a read fails, so a failed
                // listing line ends the whole restore with its status (1); later lines are
                // never run (docs/ipvsadm-compat.md, Restore).
                if stops || (lists && status == LIST_FAILED) {
                    return status;
                }
            }
            Err(e) => {
                batch.flush(io, backend);
                status = report_parse_error(io, &e);
                if e.kind.aborts_restore() {
                    return status;
                }
            }
        }
    }
    batch.flush(io, backend).unwrap_or(status)
}

/// Debian's `ipvsadm-save [-n]`: `-n` means numeric, any other dash argument prints the
/// helper's usage (exit 1), other arguments are ignored.
pub fn save_helper(
    io: &mut Io<'_>,
    args: &[String],
    connect: &mut dyn FnMut() -> Result<Box<dyn Backend>, IpvsError>,
) -> u8 {
    let mut numeric = false;
    for arg in args {
        match arg.as_str() {
            "-n" => numeric = true,
            a if a.starts_with('-') => {
                let _ = writeln!(
                    io.err,
                    "ipvsadm-save: Script to save the IPVS table to stdout.\n   With the -n option, prints out the table in numeric format."
                );
                return 1;
            }
            _ => {}
        }
    }
    let args: Vec<String> = if numeric {
        vec!["-S".into(), "-n".into()]
    } else {
        vec!["-S".into()]
    };
    run(io, &args, connect)
}

/// Debian's `ipvsadm-restore`: drop lines starting with `#`, flush the table, restore the
/// rest (as the shell helper does: `ipvsadm -C`, then `ipvsadm -R`).
pub fn restore_helper(
    io: &mut Io<'_>,
    connect: &mut dyn FnMut() -> Result<Box<dyn Backend>, IpvsError>,
) -> u8 {
    let mut input = Vec::new();
    let _ = io.stdin.read_to_end(&mut input);
    // `INPUT="$(grep -v '^#')"; echo "$INPUT"`: comment lines go, trailing newlines are
    // trimmed, and echo adds exactly one.
    let mut kept: Vec<u8> = input
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b"#"))
        .flatten()
        .copied()
        .collect();
    while kept.last() == Some(&b'\n') {
        kept.pop();
    }
    kept.push(b'\n');
    let mut backend = match connect() {
        Ok(b) => b,
        Err(e) => {
            // Both helper steps are separate ipvsadm processes; each reports the failure.
            let msg = format::init_failure_message(e.errno());
            let _ = write!(io.err, "{msg}{msg}");
            return INIT_FAILED;
        }
    };
    let flush = Op::Flush;
    let result = backend.apply_one(&flush);
    report_write(io, &flush, result);
    restore_input(io, backend.as_mut(), &kept)
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
