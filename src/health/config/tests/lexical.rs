//! The lexical rules (docs/ldirectord-compat.md, File syntax) and acceptance items T1–T5
//! (docs/health-acceptance.md).

use super::{assert_clean, assert_error, assert_warning, errs, ok, one};

const BLOCK: &str = "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n";

/// T1: a blank line ends the block; the next indented key is an error at its own line.
#[test]
fn t1_blank_line_ends_the_block_and_the_next_indented_line_is_an_error() {
    let text = "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n\n    service=http\n";
    assert_error(text, 4, "outside any virtual block");
    assert_error(text, 4, "ended at line 3");
}

/// T1: through `check-config`, the same file exits 2 and the error names file and line.
#[test]
fn t1_check_config_exits_2_naming_the_line() {
    let text = "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n\n    service=http\n";
    let (out, code) = crate::health::config::check_config_text(super::FILE, text, &super::env());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.starts_with(&format!("{}:4: error: ", super::FILE)),
        "{out}"
    );
}

/// T1: several orphan lines after a blank line give one error, not one each.
#[test]
fn t1_a_run_of_orphan_lines_is_reported_once() {
    let text =
        "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n\n    service=http\n    scheduler=rr\n";
    assert_eq!(errs(text).len(), 1);
}

/// T2: comment lines (indented or not) inside a block do not end it.
#[test]
fn t2_comment_lines_inside_a_block_do_not_end_it() {
    let v = one(
        "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n# note\n  # indented note\n    real=10.0.0.2:80 gate\n",
    );
    assert_eq!(v.reals.len(), 2);
}

/// T3: `quiescent=yes # x` at top level is an error; `virtual=… # x` is accepted.
#[test]
fn t3_trailing_comment_is_an_error_at_top_level_but_fine_after_a_virtual_header() {
    assert_error(
        "quiescent=yes # x\n",
        1,
        "comments are not allowed after a value",
    );
    assert_clean("virtual=1.2.3.4:80 # x\n    real=10.0.0.1:80 gate\n    service=http\n");
}

/// T3: inside a block a trailing comment is cut off.
#[test]
fn t3_trailing_comment_in_a_block_is_cut() {
    let v = one("virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate 3 # three\n    quiescent=yes#c\n");
    assert_eq!(v.reals[0].weight, 3);
    assert!(v.quiescent);
}

/// T4: a tab counts as four spaces; three spaces are an error.
#[test]
fn t4_a_tab_counts_as_four_spaces_and_three_spaces_are_not_enough() {
    let v = one("virtual=192.0.2.1:80\n\treal=10.0.0.1:80 gate\n  \t real=10.0.0.2:80 gate\n");
    assert_eq!(v.reals.len(), 2);
    assert_error(
        "virtual=192.0.2.1:80\n   real=10.0.0.1:80 gate\n",
        2,
        "4 spaces or a tab",
    );
}

/// T5: `receive="a#b"` is accepted with a compatibility warning (the recommended choice).
#[test]
fn t5_hash_inside_quotes_is_kept_with_a_warning() {
    let text = "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n    receive=\"a#b\"\n";
    assert_warning(text, 3, "ldirectord cuts the line");
    assert_eq!(one(text).check.receive, "a#b");
}

#[test]
fn keywords_are_case_sensitive() {
    assert_error("Quiescent=yes\n", 1, "unknown directive `Quiescent`");
}

#[test]
fn spaces_around_equals_are_allowed() {
    let (c, _) = ok(
        "quiescent = yes\nvirtual = 192.0.2.1:80\n    real = 10.0.0.1:80 gate\n    service = http\n",
    );
    assert!(c.globals.quiescent);
    assert_eq!(c.virtuals.len(), 1);
}

#[test]
fn trailing_whitespace_breaks_yes_no_values_in_both_places() {
    assert_error("quiescent=yes \n", 1, "remove the trailing whitespace");
    assert_error(
        &format!("{BLOCK}    quiescent=yes \n"),
        3,
        "must be 'yes' or 'no'",
    );
}

#[test]
fn carriage_returns_are_explained() {
    let e = errs("quiescent=yes\r\n");
    assert!(e[0].to_string().contains("carriage return"), "{}", e[0]);
}

#[test]
fn a_global_line_after_a_block_ends_it_without_a_blank_line() {
    let (c, _) = ok(
        "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\nquiescent=yes\nvirtual=192.0.2.2:80\n    real=10.0.0.2:80 gate\n",
    );
    assert!(c.globals.quiescent);
    assert_eq!(c.virtuals.len(), 2);
}

#[test]
fn whitespace_only_line_of_five_columns_in_a_block_is_rejected() {
    // Verified against ldirectord 4.12: "Unknown command" for a 5-space line.
    assert_error(
        &format!("{BLOCK}     \n    real=10.0.0.2:80 gate\n"),
        3,
        "whitespace-only",
    );
    // Four columns or fewer just end the block, like an empty line.
    assert_error(
        &format!("{BLOCK}    \n    real=10.0.0.2:80 gate\n"),
        4,
        "outside any virtual block",
    );
}

#[test]
fn indented_top_level_lines_are_errors() {
    assert_error("  quiescent=yes\n", 1, "column 0");
    assert_error("    quiescent=yes\n", 1, "outside any virtual block");
}

#[test]
fn globals_inside_a_block_are_named_as_such() {
    assert_error(&format!("{BLOCK}    fork=yes\n"), 3, "global directive");
    assert_error(
        "real=10.0.0.1:80 gate\n",
        1,
        "only valid inside a virtual block",
    );
}

#[test]
fn empty_and_comment_only_files_are_accepted() {
    assert!(ok("").0.virtuals.is_empty());
    assert!(ok("# nothing\n\n   \n").0.virtuals.is_empty());
}

#[test]
fn last_line_without_newline_is_read() {
    let v = one("virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate");
    assert_eq!(v.reals.len(), 1);
}

#[test]
fn lines_without_equals_are_unknown() {
    assert_error("bogus\n", 1, "unknown directive");
    assert_error(&format!("{BLOCK}    bogus\n"), 3, "unknown directive");
}
