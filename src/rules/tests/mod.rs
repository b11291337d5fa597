//! Tests of the rules core: loading and linting files, planning, rendering, executing
//! plans against an in-memory kernel (error injection, rollback, write counts).

mod apply;
mod load;
mod plan;
mod prop;
mod run;

use crate::names::NoNames;
use crate::rules::ipvsadm_lines::IpvsadmLines;
use crate::rules::lint::lint;
use crate::rules::load::{Loaded, load};
use crate::rules::source::Finding;

/// Load a restore-format or JSON text as `rules.txt`, numeric names only.
pub fn load_text(text: &str) -> Loaded {
    load(
        "rules.txt",
        text.as_bytes(),
        &IpvsadmLines { resolver: &NoNames },
    )
}

/// Every finding (loader and lint) as `FILE:LINE:COL: message` lines.
pub fn findings(text: &str) -> Vec<String> {
    let loaded = load_text(text);
    let mut all: Vec<Finding> = loaded.findings;
    all.extend(lint(&loaded.rules));
    all.sort_by_key(|f| f.pos);
    all.iter().map(ToString::to_string).collect()
}
