//! The layers of the crate, and a check that the code keeps to them.
//!
//! Every arrow below is a top-level module of `src/` that may use another one. The faces
//! (`cli` wiring, `tui`, `health`, `rules`) stand on shared layers and never on each other;
//! shared layers never use a face. docs/architecture.md shows the same table.
//!
//! The check reads every `src/**/*.rs` file (the library; `src/main.rs` only calls `cli`),
//! finds each path into another top-level module — `crate::x`, a grouped
//! `use crate::{x, y::…}`, and a `super::` path that climbs out to the crate root — and
//! fails with `file:line` for each one the table does not allow. Comments and string
//! literals are not code and are skipped. A `super::` path is measured against the module
//! its file declares; inside an inline module (`mod tests { … }`) it climbs one level less
//! than the check assumes, which can only make the check stricter.

#[path = "layering/scan.rs"]
mod scan;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scan::{code_only, foreign_paths, module_of};

/// (from, to, why): `from` may use `to`. Anything else is forbidden.
const ARROWS: &[(&str, &str, &str)] = &[
    // Shared layers.
    (
        "ipvsadm",
        "ipvs",
        "ipvsadm's grammar and formats are over the IPVS model",
    ),
    (
        "ipvsadm",
        "names",
        "ipvsadm resolves host and port names and prints them unless -n",
    ),
    (
        "schema",
        "ipvs",
        "the JSON document is the IPVS model written down",
    ),
    // Faces.
    (
        "rules",
        "ipvs",
        "plans are IPVS writes, applied through the backend",
    ),
    (
        "rules",
        "ipvsadm",
        "rules files in `ipvsadm -S` form are read with ipvsadm's grammar",
    ),
    ("rules", "schema", "JSON rules files are schema documents"),
    ("rules", "names", "rules files may name hosts and ports"),
    (
        "tui",
        "ipvs",
        "the dashboard shows and edits the IPVS table",
    ),
    ("tui", "names", "the dashboard's names mode"),
    ("tui", "units", "the dashboard's numbers"),
    (
        "health",
        "ipvs",
        "the checker adds, quiesces and removes real servers",
    ),
    (
        "health",
        "ipvsadm",
        "ldirectord.cf's schedflags are ipvsadm's -b list, read with ipvsadm's grammar; keepalived's HTTP checker reads numbers with the same C readers",
    ),
    (
        "health",
        "names",
        "ldirectord.cf names hosts and ports; maintenance files use reverse names; the host name",
    ),
    // The wiring: cli puts faces and layers together and may use all of them.
    (
        "cli",
        "ipvs",
        "opens the netlink backend and runs commands on it",
    ),
    (
        "cli",
        "ipvsadm",
        "the ipvsadm face parses and prints with it",
    ),
    ("cli", "names", "picks the resolver each face gets"),
    ("cli", "schema", "list --json"),
    ("cli", "units", "list's human table"),
    ("cli", "rules", "check, diff and apply"),
    ("cli", "tui", "top"),
    (
        "cli",
        "health",
        "health, ldirectord, and the status sockets top shows",
    ),
];

/// Top-level modules that use no other one.
const BASE: &[&str] = &["ipvs", "names", "units"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn allowed(from: &str, to: &str) -> bool {
    ARROWS.iter().any(|(f, t, _)| *f == from && *t == to)
}

/// The top-level modules `src/lib.rs` declares.
fn declared_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs");
    code_only(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').trim().to_owned())
        .collect()
}

#[test]
fn every_import_follows_an_arrow_of_the_table() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut offences = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).expect("under src/");
        if relative == Path::new("main.rs") {
            continue;
        }
        let module = module_of(relative);
        let Some(from) = module.first() else {
            continue; // lib.rs declares the modules and uses none
        };
        let text = std::fs::read_to_string(&path).expect("readable source");
        for (line, to) in foreign_paths(&module, &text) {
            if !allowed(from, &to) {
                offences.push(format!(
                    "src/{}:{line}: {from} -> {to} is not an arrow of tests/layering.rs",
                    relative.display()
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "forbidden imports:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_table_names_exactly_the_modules_of_the_crate() {
    let declared = declared_modules();
    let mut in_table: BTreeSet<String> = ARROWS
        .iter()
        .flat_map(|(f, t, _)| [(*f).to_owned(), (*t).to_owned()])
        .collect();
    in_table.extend(BASE.iter().map(|m| (*m).to_owned()));
    assert_eq!(
        declared, in_table,
        "src/lib.rs's modules and the layering table differ: a new module needs its arrows"
    );
    for base in BASE {
        assert!(
            !ARROWS.iter().any(|(f, _, _)| f == base),
            "{base} is a base layer and uses no other module"
        );
    }
}

#[test]
fn faces_never_use_each_other_except_through_the_wiring() {
    let faces = ["tui", "health", "rules"];
    for (from, to, why) in ARROWS {
        assert!(
            !(faces.contains(from) && (faces.contains(to) || *to == "cli")),
            "{from} -> {to} ({why}) joins two faces"
        );
    }
}

fn targets(path: &str, text: &str) -> Vec<(usize, String)> {
    foreign_paths(&module_of(Path::new(path)), text)
}

#[test]
fn a_forbidden_import_is_reported_with_its_line() {
    let text = "use crate::ipvs::Op;\nuse crate::tui::HealthMap;\n";
    let bad: Vec<_> = targets("health/status/client.rs", text)
        .into_iter()
        .filter(|(_, to)| !allowed("health", to))
        .collect();
    assert_eq!(bad, [(2, "tui".to_owned())]);
    assert!(!allowed("ipvs", "names"));
    assert!(!allowed("rules", "cli"));
    assert!(allowed("cli", "rules"));
}
