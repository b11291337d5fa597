//! The three commands end to end against the kernel-faithful FakeBackend: exit codes,
//! zero writes on a no-op apply, error injection with rollback, the lock.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::plan::{LIVE, WANT};
use crate::ipvs::fake::SharedFake;
use crate::ipvs::model::{Dest, ServiceEntry};
use crate::ipvs::{Backend, BackendFactory, Op};
use crate::names::NoNames;
use crate::rules::interrupt::{Interrupt, Interrupts, Never};
use crate::rules::run::{ApplyOptions, DiffOptions, Streams, apply, check, diff};

struct World {
    fake: SharedFake,
    dir: PathBuf,
}

impl World {
    fn new(name: &str, live: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lvsctl-rules-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = SharedFake::default();
        let world = Self { fake, dir };
        let seed = world.file("seed", live);
        let (code, _, err) = world.apply(ApplyOptions::new(seed));
        assert_eq!(code, 0, "{err}");
        world.fake.lock().reset_write_log();
        world
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn table(&self) -> Vec<ServiceEntry> {
        let mut t = self.fake.lock().entries().unwrap();
        t.sort_by_key(|e| e.service.key);
        for e in &mut t {
            e.dests.sort_by_key(Dest::key);
        }
        t
    }

    fn run(
        &self,
        f: impl FnOnce(&mut Streams<'_>, &mut BackendFactory) -> i32,
    ) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut open = self.fake.factory();
        let code = f(
            &mut Streams {
                out: &mut out,
                err: &mut err,
            },
            &mut open,
        );
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn apply(&self, opts: ApplyOptions) -> (i32, String, String) {
        self.apply_with(opts, &mut Never)
    }

    fn apply_with(
        &self,
        mut opts: ApplyOptions,
        interrupts: &mut dyn Interrupts,
    ) -> (i32, String, String) {
        opts.lock_file = self.dir.join("apply.lock");
        self.run(|io, open| apply(&opts, &NoNames, open, interrupts, io))
    }

    fn diff(&self, file: PathBuf, json: bool) -> (i32, String, String) {
        let opts = DiffOptions {
            file,
            json,
            prune: false,
        };
        self.run(|io, open| diff(&opts, &NoNames, open, io))
    }

    fn writes(&self) -> usize {
        self.fake.lock().writes_applied()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn check_exit_codes() {
    let w = World::new("check", "");
    let clean = w.file("clean", LIVE);
    let bad = w.file(
        "bad",
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.9:80 -r 1.2.3.4 -m\n",
    );
    let run = |files: Vec<PathBuf>| w.run(|io, _| check(&files, &NoNames, io));
    assert_eq!(run(vec![clean.clone()]).0, 0);
    let (code, out, _) = run(vec![clean.clone(), bad.clone()]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(&format!("{}:2:1: real server", bad.display())),
        "{out}"
    );
    let (code, _, err) = run(vec![bad, w.dir.join("missing")]);
    assert_eq!(code, 2);
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn diff_exit_codes_and_no_op_apply_writes_nothing() {
    let w = World::new("diff", LIVE);
    let same = w.file("same", LIVE);
    let (code, out, _) = w.diff(same.clone(), false);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            format!("No changes: the live table matches {}.\n", same.display()).as_str()
        )
    );
    let want = w.file("want", WANT);
    let (code, out, _) = w.diff(want.clone(), true);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["writes"], 6);
    assert_eq!(w.writes(), 0, "diff never writes");
    let (code, _, _) = w.apply(ApplyOptions {
        dry_run: true,
        ..ApplyOptions::new(&want)
    });
    assert_eq!((code, w.writes()), (0, 0), "dry run never writes");
    let (code, out, err) = w.apply(ApplyOptions::new(&want));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("Applied: 6 kernel writes.\n"), "{out}");
    assert_eq!(w.writes(), 6);
    w.fake.lock().reset_write_log();
    let (code, out, _) = w.apply(ApplyOptions::new(&want));
    assert_eq!((code, w.writes()), (0, 0), "{out}");
    assert_eq!(w.diff(want, false).0, 0);
}

#[test]
fn an_invalid_file_changes_nothing_and_says_where() {
    let w = World::new("invalid", LIVE);
    let before = w.table();
    let mut text = WANT.to_owned();
    text.push_str("-a -t 10.0.0.1:80 -r 192.168.1.9:80 -w -5\n");
    let bad = w.file("bad", &text);
    let (code, _, err) = w.apply(ApplyOptions::new(&bad));
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{}:8:", bad.display())), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!((w.writes(), w.table()), (0, before));
}

#[test]
fn kernel_error_midway_with_rollback_restores_the_table() {
    let w = World::new("rollback", LIVE);
    let before = w.table();
    let mut text = WANT.to_owned();
    for i in 0..20 {
        let _ = writeln!(text, "-A -t 10.9.0.{i}:80 -s rr");
        let _ = writeln!(text, "-a -t 10.9.0.{i}:80 -r 192.168.9.{i}:80 -m");
    }
    let want = w.file("want", &text);
    w.fake.lock().fail_next_op_matching(
        |op| matches!(op, Op::AddService(s) if s.key.to_string() == "TCP 10.9.0.10:80"),
        libc::ENOENT,
    );
    let (code, _, err) = w.apply(ApplyOptions {
        rollback: true,
        ..ApplyOptions::new(&want)
    });
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "{}:28:1: kernel refused to add service TCP 10.9.0.10:80",
            want.display()
        )),
        "{err}"
    );
    assert!(err.contains("not applied ("), "{err}");
    assert!(err.contains("rolled back:"), "{err}");
    assert_eq!(w.table(), before);
}

#[test]
fn without_rollback_the_report_says_what_stayed() {
    let w = World::new("norollback", LIVE);
    let want = w.file("want", WANT);
    w.fake
        .lock()
        .fail_next_op_matching(|op| matches!(op, Op::AddDest(..)), libc::EINVAL);
    let (code, out, err) = w.apply(ApplyOptions {
        json: true,
        ..ApplyOptions::new(&want)
    });
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"]["ok"], false);
    // The real-server batch ran past the refused op; the deletes were never sent.
    assert_eq!(v["result"]["applied"].as_array().unwrap().len(), 4);
    assert_eq!(v["result"]["not_applied"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["result"]["failed"][0]["op"],
        "add real server 192.168.1.3:80 to TCP 10.0.0.1:80"
    );
    assert_eq!(
        v["result"]["failed"][0]["at"],
        format!("{}:3:1", want.display())
    );
}

#[test]
fn a_second_apply_is_refused_while_the_lock_is_held() {
    let w = World::new("lock", LIVE);
    let want = w.file("want", WANT);
    let _held = crate::rules::lock::acquire(&w.dir.join("apply.lock")).unwrap();
    let (code, _, err) = w.apply(ApplyOptions::new(&want));
    assert_eq!(code, 1);
    assert!(err.contains("another lvsctl apply is running"), "{err}");
    assert_eq!(w.writes(), 0);
}

/// A signal that arrives after `after` questions, and a record of whether it was armed.
struct SignalAfter {
    after: usize,
    signal: Interrupt,
    armed: bool,
    asked: std::cell::Cell<usize>,
}

impl SignalAfter {
    fn new(after: usize, signal: Interrupt) -> Self {
        Self {
            after,
            signal,
            armed: false,
            asked: std::cell::Cell::new(0),
        }
    }
}

impl Interrupts for SignalAfter {
    fn arm(&mut self) -> std::io::Result<()> {
        self.armed = true;
        Ok(())
    }

    fn requested(&self) -> Option<Interrupt> {
        assert!(self.armed, "asked before it was armed");
        self.asked.set(self.asked.get() + 1);
        (self.asked.get() > self.after).then_some(self.signal)
    }
}

#[test]
fn sigterm_between_batches_reports_and_exits_143() {
    let w = World::new("sigterm", LIVE);
    let want = w.file("want", WANT);
    // Phases of WANT against LIVE: services, then real servers, then deletes. The signal
    // is seen after the services went out.
    let mut term = SignalAfter::new(1, Interrupt::Term);
    let (code, out, err) = w.apply_with(
        ApplyOptions {
            json: true,
            ..ApplyOptions::new(&want)
        },
        &mut term,
    );
    assert_eq!(code, 143, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"]["ok"], false);
    assert_eq!(v["result"]["interrupted"], "SIGTERM");
    let applied = v["result"]["applied"].as_array().unwrap().len();
    let not_applied = v["result"]["not_applied"].as_array().unwrap().len();
    assert_eq!(
        (applied, not_applied),
        (2, 4),
        "the services phase only: {v}"
    );
    assert_eq!(w.writes(), 2);
    assert!(
        err.contains("apply interrupted by SIGTERM: 2 writes applied, 4 not sent."),
        "{err}"
    );
    assert!(err.contains("not applied (4):"), "{err}");
}

#[test]
fn sigint_with_rollback_restores_the_table_and_exits_130() {
    let w = World::new("sigint", LIVE);
    let before = w.table();
    let want = w.file("want", WANT);
    let mut int = SignalAfter::new(2, Interrupt::Int);
    let (code, out, err) = w.apply_with(
        ApplyOptions {
            rollback: true,
            ..ApplyOptions::new(&want)
        },
        &mut int,
    );
    assert_eq!(code, 130, "{out}{err}");
    assert!(err.contains("apply interrupted by SIGINT"), "{err}");
    assert!(err.contains("rolled back:"), "{err}");
    assert!(!out.contains("Applied:"), "{out}");
    assert_eq!(w.table(), before, "the rollback is not itself interrupted");
}

#[test]
fn signals_are_only_caught_around_kernel_writes() {
    let w = World::new("unarmed", LIVE);
    let want = w.file("want", WANT);
    let mut dry = SignalAfter::new(0, Interrupt::Int);
    let (code, _, _) = w.apply_with(
        ApplyOptions {
            dry_run: true,
            ..ApplyOptions::new(&want)
        },
        &mut dry,
    );
    assert_eq!(code, 0);
    assert!(!dry.armed, "a dry run leaves Ctrl-C alone");
    let same = w.file("same", LIVE);
    let mut noop = SignalAfter::new(0, Interrupt::Int);
    assert_eq!(w.apply_with(ApplyOptions::new(&same), &mut noop).0, 0);
    assert!(!noop.armed, "nothing to write, nothing to protect");
    // A signal that came after the last batch was sent stops nothing: all was applied.
    let mut late = SignalAfter::new(3, Interrupt::Term);
    let (code, out, err) = w.apply_with(ApplyOptions::new(&want), &mut late);
    assert_eq!(code, 0, "{err}");
    assert!(late.armed);
    assert!(out.ends_with("Applied: 6 kernel writes.\n"), "{out}");
}
