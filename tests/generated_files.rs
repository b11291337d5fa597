//! The committed completions/ and man/ must match what the clap definitions render.
//! Regenerate with `UPDATE_GENERATED=1 cargo test --test generated_files`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::path::Path;

#[test]
fn generated_files_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        lvsctl::cli::generate::write_all(root).expect("write generated files");
    }
    let mut stale = Vec::new();
    for (rel, want) in lvsctl::cli::generate::rendered_files().expect("render") {
        let have = std::fs::read(root.join(&rel)).unwrap_or_default();
        if have != want {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run UPDATE_GENERATED=1 cargo test --test generated_files"
    );
}
