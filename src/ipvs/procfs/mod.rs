//! Readers for `/proc/net/ip_vs_conn`, `/proc/net/ip_vs_conn_sync`, `/proc/net/ip_vs_stats`
//! and `/proc/sys/net/ipv4/vs/`: what IPVS does not offer over netlink.
//!
//! The connection table can hold millions of rows, so it is streamed: one reused line
//! buffer, one `Connection` built per row and handed to the caller's sink, nothing kept.
//!
//! **Malformed rows** (wrong column count, bad hex, unknown address form) are skipped and
//! counted, never fatal: the file is a live view of a changing table and one odd row must not
//! hide the others from `ipvsadm -Lc` or the dashboard. [`ScanSummary`] tells callers how
//! many were skipped and where the first one was, for diagnostics. I/O errors and an empty
//! file (no header line; ipvsadm's "unexpected input") are errors.

mod conn;
mod fields;
mod stats;
mod sysctl;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

pub use conn::{ConnOrigin, SyncConnection, parse_conn_row, parse_sync_row};
pub use stats::parse_global_stats;
pub use sysctl::read_sysctl_dir;

use crate::ipvs::error::{IpvsError, Result};
use crate::ipvs::model::{Connection, GlobalStats};

/// The paths ipvsadm opens and names in its messages.
pub const CONN_PATH: &str = "/proc/net/ip_vs_conn";
pub const CONN_SYNC_PATH: &str = "/proc/net/ip_vs_conn_sync";
pub const STATS_PATH: &str = "/proc/net/ip_vs_stats";
/// Net sysctls resolve against the reading thread's network namespace already.
pub const SYSCTL_DIR: &str = "/proc/sys/net/ipv4/vs";

/// The same files as seen from the calling thread's network namespace. `/proc/net` is
/// `/proc/self/net`, i.e. the namespace of the process's *main* thread; a thread that
/// entered its own namespace (every kernel test does, see `tests/support`) must read these
/// to see the IPVS tables its netlink socket talks to. Identical to the `/proc/net` paths
/// in a single-threaded process.
pub const THREAD_CONN_PATH: &str = "/proc/thread-self/net/ip_vs_conn";
pub const THREAD_CONN_SYNC_PATH: &str = "/proc/thread-self/net/ip_vs_conn_sync";
pub const THREAD_STATS_PATH: &str = "/proc/thread-self/net/ip_vs_stats";

/// Seq files hand out about a page per `read()`; a larger buffer still saves syscalls on
/// regular files (fixtures, captured tables).
const READ_BUFFER: usize = 64 * 1024;

/// What a streaming read saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Rows handed to the sink.
    pub rows: u64,
    /// Rows that did not parse and were skipped.
    pub skipped: u64,
    /// 1-based line number (the header is line 1) of the first skipped row.
    pub first_skipped_line: Option<u64>,
    /// True when the sink asked to stop before the end of the file.
    pub stopped: bool,
}

fn proc_error(path: &Path, message: impl std::fmt::Display) -> IpvsError {
    IpvsError::Proc {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Skip the header, then parse each line with `parse` and feed the results to `sink`.
/// Blank lines are ignored; rows `parse` rejects are counted in the summary.
fn scan<R: BufRead, T>(
    reader: R,
    path: &Path,
    parse: fn(&[u8]) -> Option<T>,
    sink: &mut dyn FnMut(T) -> bool,
) -> Result<ScanSummary> {
    let mut scanner = Scanner::new(reader);
    scanner.summary.stopped = scanner.run(path, parse, sink)?;
    Ok(scanner.summary)
}

/// A read in progress: where it is in the file and what it has seen.
struct Scanner<R> {
    reader: R,
    line: Vec<u8>,
    /// Lines read so far, the header included.
    number: u64,
    summary: ScanSummary,
}

impl<R: BufRead> Scanner<R> {
    fn new(reader: R) -> Self {
        Self {
            reader,
            line: Vec::with_capacity(256),
            number: 0,
            summary: ScanSummary::default(),
        }
    }

    /// Feed rows to `sink` until it returns false (true: stopped after that row, the next
    /// call goes on with the row after it) or the file ends (false).
    fn run<T>(
        &mut self,
        path: &Path,
        parse: fn(&[u8]) -> Option<T>,
        sink: &mut dyn FnMut(T) -> bool,
    ) -> Result<bool> {
        if self.number == 0 {
            self.line.clear();
            let header = self
                .reader
                .read_until(b'\n', &mut self.line)
                .map_err(|e| proc_error(path, e))?;
            if header == 0 {
                return Err(proc_error(path, "unexpected input: no header line"));
            }
            self.number = 1;
        }
        loop {
            self.line.clear();
            if self
                .reader
                .read_until(b'\n', &mut self.line)
                .map_err(|e| proc_error(path, e))?
                == 0
            {
                return Ok(false);
            }
            self.number += 1;
            if self.line.trim_ascii().is_empty() {
                continue;
            }
            let Some(row) = parse(&self.line) else {
                self.summary.skipped += 1;
                self.summary.first_skipped_line.get_or_insert(self.number);
                continue;
            };
            self.summary.rows += 1;
            if !sink(row) {
                return Ok(true);
            }
        }
    }
}

/// A read of an `ip_vs_conn`-format file that can pause between rows and go on later,
/// for a reader that takes a million-row table in slices. The file stays open in between,
/// so a pause costs nothing: on kernels whose seq file walks the connection hash from its
/// start for every `read()` (Linux 6.1 does), a read costs the same whether it pauses or
/// not. Rows that come or go during the read may be missed or seen twice, as in any read
/// of a live table that takes more than one `read()`.
pub struct ConnFile {
    scanner: Scanner<BufReader<File>>,
    path: std::path::PathBuf,
    done: bool,
}

impl std::fmt::Debug for ConnFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnFile")
            .field("path", &self.path)
            .field("summary", &self.scanner.summary)
            .finish_non_exhaustive()
    }
}

impl ConnFile {
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            scanner: Scanner::new(open(path)?),
            path: path.to_owned(),
            done: false,
        })
    }

    /// Rows to `sink` until it returns false (the read pauses after that row) or the file
    /// ends. True while rows may be left.
    pub fn read(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let more = self.scanner.run(&self.path, parse_conn_row, sink)?;
        self.done = !more;
        Ok(more)
    }

    /// What the read has seen so far.
    pub fn summary(&self) -> ScanSummary {
        self.scanner.summary
    }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    let file = File::open(path).map_err(|e| proc_error(path, e))?;
    Ok(BufReader::with_capacity(READ_BUFFER, file))
}

/// Stream the rows of an `ip_vs_conn`-format reader into `sink` (which returns false to
/// stop). `name` is used in error messages only.
pub fn scan_connections<R: BufRead>(
    reader: R,
    name: &Path,
    sink: &mut dyn FnMut(Connection) -> bool,
) -> Result<ScanSummary> {
    scan(reader, name, parse_conn_row, sink)
}

/// Stream the rows of an `ip_vs_conn`-format file into `sink` (which returns false to stop),
/// and report how many rows were read and skipped.
pub fn for_each_connection_counted(
    path: &Path,
    sink: &mut dyn FnMut(Connection) -> bool,
) -> Result<ScanSummary> {
    scan_connections(open(path)?, path, sink)
}

/// Stream the rows of an `ip_vs_conn`-format file into `sink` (which returns false to stop).
/// Malformed rows are skipped (see the module doc); use [`for_each_connection_counted`] to
/// learn about them.
pub fn for_each_connection(path: &Path, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
    for_each_connection_counted(path, sink).map(|_| ())
}

/// Stream the rows of an `ip_vs_conn_sync`-format file into `sink` (false stops).
pub fn for_each_sync_connection(
    path: &Path,
    sink: &mut dyn FnMut(SyncConnection) -> bool,
) -> Result<ScanSummary> {
    scan(open(path)?, path, parse_sync_row, sink)
}

/// Parse an `ip_vs_stats`-format file.
pub fn read_global_stats(path: &Path) -> Result<GlobalStats> {
    let text = std::fs::read(path).map_err(|e| proc_error(path, e))?;
    parse_global_stats(&String::from_utf8_lossy(&text)).map_err(|e| proc_error(path, e))
}

/// Read every file of a sysctl directory as (name, trimmed value), sorted by name;
/// unreadable entries are skipped, a missing directory is an error.
pub fn read_sysctls(dir: &Path) -> Result<Vec<(String, String)>> {
    read_sysctl_dir(dir).map_err(|e| proc_error(dir, e))
}

#[cfg(test)]
mod tests;
