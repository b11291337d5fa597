//! Property tests: any bytes give findings or a table, never a panic; every finding has a
//! real position.

use proptest::prelude::*;

use super::{findings, load_text};

fn restore_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("-A".to_owned()),
        Just("-a".to_owned()),
        Just("-t".to_owned()),
        Just("-f".to_owned()),
        Just("-6".to_owned()),
        Just("-r".to_owned()),
        Just("-s".to_owned()),
        Just("-w".to_owned()),
        Just("-x".to_owned()),
        Just("-y".to_owned()),
        Just("-m".to_owned()),
        Just("-g".to_owned()),
        Just("-i".to_owned()),
        Just("-p".to_owned()),
        Just("--tun-type".to_owned()),
        Just("10.0.0.1:80".to_owned()),
        Just("[2001:db8::1]:80".to_owned()),
        Just("192.168.1.1".to_owned()),
        Just("rr".to_owned()),
        Just("7".to_owned()),
        Just("#".to_owned()),
        "[ -~]{0,12}",
    ];
    let line = prop::collection::vec(token, 0..10).prop_map(|t| t.join(" "));
    prop::collection::vec(line, 0..12).prop_map(|l| l.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let loaded = crate::rules::load::load(
            "f",
            &bytes,
            &crate::rules::ipvsadm_lines::IpvsadmLines { resolver: &crate::names::NoNames },
        );
        let _ = crate::rules::lint::lint(&loaded.rules);
    }

    #[test]
    fn restore_like_lines_give_positioned_findings(text in restore_like()) {
        let lines = text.split('\n').count();
        for f in findings(&text) {
            let rest = f.strip_prefix("rules.txt:").unwrap();
            let mut parts = rest.splitn(3, ':');
            let line: usize = parts.next().unwrap().parse().unwrap();
            let col: usize = parts.next().unwrap().parse().unwrap();
            prop_assert!(line >= 1 && line <= lines && col >= 1, "{f}");
        }
    }

    #[test]
    fn json_like_input_never_panics(text in "\\{[ -~\\n]{0,200}") {
        let _ = load_text(&text);
    }
}
