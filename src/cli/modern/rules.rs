//! `lvsctl check`, `diff` and `apply` on the real system: clap's arguments become the rules
//! commands' options, and they get the process's streams, the system resolver and the
//! kernel. The commands themselves are `rules::run`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::modern::args::{ApplyArgs, DiffArgs};
use crate::ipvs::BackendFactory;
use crate::names::SystemResolver;
use crate::rules::interrupt::Signals;
use crate::rules::run::{ApplyOptions, DiffOptions, Streams, apply, check, diff};

impl From<DiffArgs> for DiffOptions {
    fn from(a: DiffArgs) -> Self {
        Self {
            file: a.file,
            json: a.json,
            prune: a.prune,
        }
    }
}

impl From<ApplyArgs> for ApplyOptions {
    fn from(a: ApplyArgs) -> Self {
        Self {
            dry_run: a.dry_run,
            prune: a.prune,
            drain: a.drain.then_some(Duration::from_secs(a.drain_timeout)),
            rollback: a.rollback,
            json: a.json,
            verbose: a.verbose,
            lock_file: a.lock_file,
            ..Self::new(a.file)
        }
    }
}

fn with_stdio<T>(f: impl FnOnce(&mut Streams<'_>) -> T) -> T {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let result = f(&mut Streams {
        out: &mut out,
        err: &mut err,
    });
    let _ = out.flush();
    result
}

fn kernel() -> BackendFactory {
    Box::new(crate::cli::backend::open)
}

/// `lvsctl check` on the real system: system name lookups, stdout/stderr.
pub fn check_main(files: &[PathBuf]) -> i32 {
    let resolver = SystemResolver::new();
    with_stdio(|io| check(files, &resolver, io))
}

/// `lvsctl diff` against the kernel.
pub fn diff_main(opts: &DiffOptions) -> i32 {
    let resolver = SystemResolver::new();
    with_stdio(|io| diff(opts, &resolver, &mut kernel(), io))
}

/// `lvsctl apply` against the kernel; SIGINT and SIGTERM stop it between two batches.
pub fn apply_main(opts: &ApplyOptions) -> i32 {
    let resolver = SystemResolver::new();
    with_stdio(|io| apply(opts, &resolver, &mut kernel(), &mut Signals::new(), io))
}
