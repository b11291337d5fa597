//! Arbitrary text never panics the reader (nor hangs it), and every diagnostic points at a
//! line of a file that was read.

use proptest::prelude::*;

use super::*;
use crate::health::keepalived::lexer::text::{decomment, quoted_escaped, split_words};

/// Fragments that steer random text into the interesting parts of the grammar.
fn line() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "virtual_server",
        "real_server",
        "virtual_server_group",
        "global_defs",
        "vrrp_instance",
        "track_file",
        "TCP_CHECK",
        "HTTP_GET",
        "MISC_CHECK",
        "SMTP_CHECK",
        "UDP_CHECK",
        "FILE_CHECK",
        "url",
        "host",
        "lb_kind",
        "lb_algo",
        "delay_loop",
        "include",
        "includem",
        "@director1",
        "@^x",
        "$A=",
        "$A",
        "${A}",
        "~SEQ(i,",
        "~LST(",
        "{",
        "}",
        "\"",
        "'",
        "\\",
        "#",
        "!",
        "fwmark",
        "group",
        "10.0.0.1",
        "10.0.0.1-5",
        "2001:db8::1",
        "80",
        "0",
        "-1",
        "1.5",
        "TUN",
        "type",
        "gue",
        "misc_path",
        "status_code",
        "payload",
        "XX",
    ]);
    prop::collection::vec((word, "[ \t]{0,2}"), 0..6).prop_map(|parts| {
        parts.into_iter().fold(String::new(), |mut out, (w, sep)| {
            out.push_str(w);
            out.push_str(&sep);
            out.push(' ');
            out
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text);
    }

    #[test]
    fn grammar_shaped_text_never_panics(lines in prop::collection::vec(line(), 0..30)) {
        check(&lines.join("\n"));
    }

    #[test]
    fn the_lexers_pieces_never_panic(text in "\\PC{0,200}") {
        let d = decomment(&text);
        let _ = split_words(&d.text);
        let _ = quoted_escaped(&text);
    }
}

fn check(text: &str) {
    let env = env().file(
        "/etc/keepalived/inc.conf",
        "virtual_server 10.0.0.9 80 {\n}\n",
    );
    let o = read(FILE, text, &env, &Options::default());
    let count = text.split('\n').count() + 1;
    for d in &o.diagnostics {
        assert!(d.pos.line <= count.max(3), "{d} beyond {count} lines");
    }
    assert!(matches!(o.status, 0 | 2 | 4 | 5 | 6));
    assert_eq!(
        o.config.is_none(),
        o.diagnostics.iter().any(Diagnostic::is_fatal)
    );
}
