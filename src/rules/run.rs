//! `lvsctl check`, `lvsctl diff` and `lvsctl apply`: files and options in, exit status out.
//!
//! The outside world is injected: output streams, the name resolver and the backend
//! factory, so tests run these exact functions against the in-memory fake and the command
//! line (`cli::modern::rules`) against the system. `check` never calls the factory: it must
//! work on any CI runner, without root or IPVS.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ipvs::{Backend, BackendFactory, IpvsError};
use crate::names::Resolver;

use super::apply::{self, DrainOptions, Hooks};
use super::interrupt::{Interrupt, Interrupts};
use super::ipvsadm_lines::IpvsadmLines;
use super::lint::lint;
use super::load::load;
use super::lock;
use super::model::Rules;
use super::plan::{self, PlanOptions};
use super::render;
use super::report::{self, Positions};
use super::source::Finding;

/// Standard output and error, injectable for tests.
pub struct Streams<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

impl std::fmt::Debug for Streams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Streams")
    }
}

/// `lvsctl diff` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    pub file: PathBuf,
    pub json: bool,
    pub prune: bool,
}

/// `lvsctl apply` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    pub file: PathBuf,
    pub dry_run: bool,
    pub prune: bool,
    /// Drain real servers before deleting them, waiting at most this long.
    pub drain: Option<Duration>,
    pub rollback: bool,
    pub json: bool,
    /// Print every step, not only the summary (a dry run always prints every step).
    pub verbose: bool,
    pub lock_file: PathBuf,
    pub batch: usize,
}

impl ApplyOptions {
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            dry_run: false,
            prune: false,
            drain: None,
            rollback: false,
            json: false,
            verbose: false,
            lock_file: PathBuf::from(lock::DEFAULT_LOCK_FILE),
            batch: apply::DEFAULT_BATCH,
        }
    }
}

/// How often the drain wait re-reads connection counts.
const DRAIN_POLL: Duration = Duration::from_millis(500);

fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

/// Read, load and lint one file. `Err` is an unreadable file.
fn load_file(path: &Path, resolver: &dyn Resolver) -> io::Result<(Rules, Vec<Finding>)> {
    let input = read_input(path)?;
    let name = path.display().to_string();
    let loaded = load(&name, &input, &IpvsadmLines { resolver });
    let mut findings = loaded.findings;
    findings.extend(lint(&loaded.rules));
    findings.sort_by_key(|f| f.pos);
    Ok((loaded.rules, findings))
}

/// Load for diff/apply: findings go to stderr; `None` (after the message) when the file is
/// unreadable or has errors, so nothing touches the kernel.
fn load_valid(path: &Path, resolver: &dyn Resolver, io: &mut Streams<'_>) -> Option<Rules> {
    let (rules, findings) = match load_file(path, resolver) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(io.err, "lvsctl: {}: {e}", path.display());
            return None;
        }
    };
    for f in &findings {
        let _ = writeln!(io.err, "{f}");
    }
    let errors = findings.iter().filter(|f| f.is_error()).count();
    if errors > 0 {
        let _ = writeln!(
            io.err,
            "lvsctl: {}: {errors} error(s); nothing was changed",
            path.display()
        );
        return None;
    }
    Some(rules)
}

/// `lvsctl check FILE...`: 0 clean, 1 findings, 2 an unreadable file.
pub fn check(files: &[PathBuf], resolver: &dyn Resolver, io: &mut Streams<'_>) -> i32 {
    let mut code = 0;
    for path in files {
        match load_file(path, resolver) {
            Err(e) => {
                let _ = writeln!(io.err, "lvsctl: {}: {e}", path.display());
                code = 2;
            }
            Ok((_, findings)) => {
                for f in &findings {
                    let _ = writeln!(io.out, "{f}");
                }
                if !findings.is_empty() && code == 0 {
                    code = 1;
                }
            }
        }
    }
    code
}

/// Opens the backend: once, and only after the file proved valid.
fn open_and_list(
    open: &mut BackendFactory,
    io: &mut Streams<'_>,
) -> Option<(Box<dyn Backend>, Vec<crate::ipvs::model::ServiceEntry>)> {
    let mut backend = match open() {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(io.err, "lvsctl: {e}");
            return None;
        }
    };
    match backend.entries() {
        Ok(live) => Some((backend, live)),
        Err(e) => {
            let _ = writeln!(io.err, "lvsctl: cannot read the live table: {e}");
            None
        }
    }
}

fn print_notes(io: &mut Streams<'_>, plan: &plan::Plan, rules: &Rules) {
    let save_format = rules
        .services
        .first()
        .is_some_and(|s| matches!(s.origin, super::model::Origin::Line(_)));
    for note in render::notes(plan, save_format) {
        let _ = writeln!(io.err, "{note}");
    }
}

fn print_plan(io: &mut Streams<'_>, plan: &plan::Plan, file: &str, json: bool) {
    if json {
        let _ = writeln!(io.out, "{}", render::json_value(plan));
    } else {
        let _ = write!(io.out, "{}", render::human(plan, file));
    }
}

/// `lvsctl diff FILE`: 0 no drift, 2 drift, 1 error.
pub fn diff(
    opts: &DiffOptions,
    resolver: &dyn Resolver,
    open: &mut BackendFactory,
    io: &mut Streams<'_>,
) -> i32 {
    let Some(rules) = load_valid(&opts.file, resolver, io) else {
        return 1;
    };
    let Some((_, live)) = open_and_list(open, io) else {
        return 1;
    };
    let plan = plan::plan(
        &rules.entries(),
        &live,
        PlanOptions {
            prune: opts.prune,
            drain: false,
        },
    );
    print_plan(io, &plan, &rules.file, opts.json);
    print_notes(io, &plan, &rules);
    if plan.is_empty() { 0 } else { 2 }
}

/// `lvsctl apply FILE`: 0 applied (or nothing to do), 1 error (nothing or only part
/// applied; the report says which), 130/143 stopped by SIGINT/SIGTERM between two
/// batches (the report says what was applied, and what the rollback did).
pub fn apply(
    opts: &ApplyOptions,
    resolver: &dyn Resolver,
    open: &mut BackendFactory,
    interrupts: &mut dyn Interrupts,
    io: &mut Streams<'_>,
) -> i32 {
    let Some(rules) = load_valid(&opts.file, resolver, io) else {
        return 1;
    };
    let _lock = if opts.dry_run {
        None
    } else {
        match lock::acquire(&opts.lock_file) {
            Ok(l) => Some(l),
            Err(e) => {
                let _ = writeln!(io.err, "lvsctl: {e}");
                return 1;
            }
        }
    };
    let Some((mut backend, snapshot)) = open_and_list(open, io) else {
        return 1;
    };
    let plan_opts = PlanOptions {
        prune: opts.prune,
        drain: opts.drain.is_some(),
    };
    let plan = plan::plan(&rules.entries(), &snapshot, plan_opts);
    print_notes(io, &plan, &rules);
    if opts.dry_run || plan.is_empty() {
        print_plan(io, &plan, &rules.file, opts.json);
        return 0;
    }
    let drain = opts.drain.map(|timeout| DrainOptions {
        timeout,
        poll: DRAIN_POLL,
    });
    if let Err(e) = interrupts.arm() {
        let _ = writeln!(
            io.err,
            "lvsctl: cannot catch SIGINT and SIGTERM ({e}); nothing was changed"
        );
        return 1;
    }
    let mut hooks = Hooks {
        sleep: Box::new(std::thread::sleep),
        stop: Box::new(|| interrupts.requested()),
    };
    let exec = apply::execute(backend.as_mut(), &plan, opts.batch, drain, &mut hooks);
    let at = Positions::of(&rules);
    let rollback = if !exec.succeeded() && opts.rollback {
        Some(apply::rollback(
            backend.as_mut(),
            &plan,
            &snapshot,
            opts.batch,
        ))
    } else {
        None
    };
    if opts.json {
        let rb = rollback.as_ref().map(|r| match r {
            Ok((_, e)) => report::execution_json(e, &at),
            Err(e) => serde_json::json!({ "ok": false, "error": e.to_string() }),
        });
        let mut v = serde_json::json!({
            "plan": render::json_value(&plan),
            "result": report::execution_json(&exec, &at),
        });
        if let (Some(obj), Some(rb)) = (v.as_object_mut(), rb) {
            obj.insert("rollback".to_owned(), rb);
        }
        let _ = writeln!(io.out, "{v}");
    } else if opts.verbose {
        let _ = write!(io.out, "{}", render::human(&plan, &rules.file));
    } else {
        let _ = writeln!(io.out, "{}", render::summary_line(&plan));
    }
    report_outcome(io, &exec, rollback.as_ref(), &at, opts.json)
}

fn report_outcome(
    io: &mut Streams<'_>,
    exec: &apply::Execution,
    rollback: Option<&Result<(plan::Plan, apply::Execution), IpvsError>>,
    at: &Positions,
    json: bool,
) -> i32 {
    if let Some(wait) = exec
        .drain
        .filter(|w| !w.emptied && exec.interrupted.is_none())
    {
        let _ = writeln!(
            io.err,
            "lvsctl: drained real servers still had active connections after {:?}; deleted \
             them anyway",
            wait.waited
        );
    }
    if exec.succeeded() {
        if !json {
            let _ = writeln!(io.out, "Applied: {} kernel writes.", exec.writes());
        }
        return 0;
    }
    let _ = write!(io.err, "{}", report::failure_human(exec, at));
    match rollback {
        None => {}
        Some(Ok((_, rb))) if rb.succeeded() => {
            let _ = writeln!(
                io.err,
                "rolled back: {} kernel writes restored the table as it was before.",
                rb.writes()
            );
        }
        Some(Ok((_, rb))) => {
            let _ = writeln!(io.err, "ROLLBACK FAILED:");
            let _ = write!(io.err, "{}", report::failure_human(rb, at));
        }
        Some(Err(e)) => {
            let _ = writeln!(io.err, "ROLLBACK FAILED: cannot read the live table: {e}");
        }
    }
    exec.interrupted.map_or(1, Interrupt::exit_code)
}
