use super::*;

use Verdict::{Down, Up};

fn checker(weight: i32, reverse: bool, start: i64) -> FileChecker {
    FileChecker::start(Settings { weight, reverse }, Some(start))
}

/// (verdict, added) after each value.
fn transcript(c: &mut FileChecker, values: &[i64]) -> Vec<(Option<Verdict>, i64)> {
    values
        .iter()
        .map(|&v| {
            let s = c.observe(Some(v));
            (s.verdict, s.added)
        })
        .collect()
}

#[test]
fn strtol_base_0_reads_the_file() {
    assert_eq!(parse_value(b"5\n"), Some(5));
    assert_eq!(parse_value(b"  \t-12 apples"), Some(-12));
    assert_eq!(parse_value(b"+7"), Some(7));
    assert_eq!(parse_value(b"0x1f"), Some(31));
    assert_eq!(parse_value(b"-0X10"), Some(-16));
    assert_eq!(parse_value(b"010"), Some(8), "a leading 0 is octal");
    assert_eq!(parse_value(b"09"), Some(0), "octal stops at 9");
    assert_eq!(
        parse_value(b"0x"),
        Some(0),
        "0x without a hex digit is the 0"
    );
    assert_eq!(parse_value(b"up"), Some(0), "no digits is 0");
    assert_eq!(parse_value(b""), Some(0));
    assert_eq!(
        parse_value(b"2147483648"),
        Some(2_147_483_648),
        "2^31 still taken"
    );
    assert_eq!(parse_value(b"-2147483648"), Some(-2_147_483_648));
    assert_eq!(parse_value(b"2147483649"), None, "out of range: ignored");
    assert_eq!(parse_value(b"-2147483649"), None);
    assert_eq!(
        parse_value(b"99999999999999999999"),
        None,
        "overflow: ignored"
    );
    let mut long = vec![b' '; 126];
    long.extend_from_slice(b"42");
    assert_eq!(
        parse_value(&long),
        Some(4),
        "only the first 127 bytes are read"
    );
}

/// weight 10: the value times the weight is added to the real's weight; a value change
/// that keeps the status changes only the weight, and no verdict is made.
#[test]
fn a_weighted_file_adds_value_times_weight() {
    let mut c = checker(10, false, 0);
    assert!(c.is_up());
    assert_eq!(c.added(), 0);
    assert_eq!(
        transcript(&mut c, &[2, 2, -1, 0]),
        [(None, 20), (None, 20), (None, -10), (None, 0)]
    );
    assert!(c.is_up(), "a negative weight only lowers the real's weight");
}

/// reverse: the value counts against the weight.
#[test]
fn reverse_subtracts() {
    let mut c = checker(3, true, 2);
    assert!(c.is_up());
    assert_eq!(c.added(), -6);
    assert_eq!(transcript(&mut c, &[-4, 0]), [(None, 12), (None, 0)]);
}

/// weight 0: the file is a switch, any value but 0 down (with reverse, 0 down).
#[test]
fn weight_zero_is_a_switch() {
    let mut c = checker(0, false, 0);
    assert!(c.is_up());
    assert_eq!(
        transcript(&mut c, &[1, 5, 0, 0, -3]),
        [
            (Some(Down), 0),
            (None, 0),
            (Some(Up), 0),
            (None, 0),
            (Some(Down), 0)
        ]
    );
    let mut r = checker(0, true, 7);
    // keepalived's start looks only at the value: 7 with weight 0 is down, reverse or not.
    assert!(!r.is_up());
    assert_eq!(
        transcript(&mut r, &[1, 0, 3]),
        [(None, 0), (Some(Down), 0), (Some(Up), 0)]
    );
}

/// A status of -2^31 or less is a fault: down, and its weight taken out; the next status
/// brings it up with its own weight.
#[test]
fn a_fault_takes_the_checker_down_and_its_weight_out() {
    let mut c = checker(254, false, 1);
    assert_eq!(c.added(), 254);
    assert_eq!(
        transcript(&mut c, &[-2_147_483_648, 3]),
        [(Some(Down), 0), (Some(Up), 762)]
    );
}

/// Down at start from a fault, the checker keeps the start's product in what it adds,
/// and keepalived adds the next status on top when it comes up.
#[test]
fn a_fault_at_start_keeps_its_product() {
    let mut c = checker(2, false, -2_000_000_000);
    assert!(!c.is_up());
    assert_eq!(c.added(), -4_000_000_000);
    assert_eq!(transcript(&mut c, &[1]), [(Some(Up), -3_999_999_998)]);
}

/// A number the file does not hold is ignored: the state and the last value stay.
#[test]
fn an_ignored_value_changes_nothing() {
    let mut c = checker(0, false, 0);
    assert_eq!(
        c.observe(None),
        Step {
            verdict: None,
            added: 0
        }
    );
    assert!(c.is_up());
    let unread = FileChecker::start(
        Settings {
            weight: 0,
            reverse: false,
        },
        None,
    );
    assert!(unread.is_up(), "an unread file is the value 0");
}
