//! Arbitrary text never panics the parser, and every diagnostic points at a real line.

use proptest::prelude::*;

use super::{env, parse_config};

/// Fragments that steer random text into the interesting parts of the grammar.
fn line() -> impl Strategy<Value = String> {
    let keyword = prop::sample::select(vec![
        "virtual=",
        "virtual6=",
        "    real=",
        "\treal6=",
        "    service=",
        "    checktype=",
        "quiescent=",
        "    fallback=",
        "fallback6=",
        "   ",
        "    ",
        "#",
        "    request=\"",
        "checktimeout=",
        "    protocol=",
        "    netmask=",
        "emailalertstatus=",
        "supervised",
        "    receive=",
        "    ",
        "",
    ]);
    let value = prop::sample::select(vec![
        "192.0.2.1:80",
        "[::1]:80",
        "42",
        "10.0.0.1->10.0.0.3:80 gate 5 l:1 u:2",
        "web1 masq",
        "yes",
        "no ",
        "\"a#b\"",
        "http",
        "5",
        "0",
        "::",
        "->",
        "[",
        "\"",
        ":",
        "udp",
        "fwm",
        "none,all",
        "255.255.255.0",
        "10.0.0.1:80 gate \"x\", \"y\"",
    ]);
    (keyword, value, "[ -~\t\r]{0,12}").prop_map(|(k, v, junk)| format!("{k}{v}{junk}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        check(&text);
    }

    #[test]
    fn grammar_shaped_text_never_panics(lines in prop::collection::vec(line(), 0..24)) {
        check(&lines.join("\n"));
    }
}

fn check(text: &str) {
    let count = text.split('\n').count();
    match parse_config("t.cf", text, &env()) {
        Ok((config, warnings)) => {
            assert!(warnings.iter().all(|w| w.line <= count));
            for v in &config.virtuals {
                assert!(v.line >= 1 && v.line <= count);
                assert!(v.reals.iter().all(|r| r.line > v.line && r.line <= count));
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(
                errors.iter().all(|e| e.line >= 1 && e.line <= count),
                "{errors:?}"
            );
        }
    }
}
