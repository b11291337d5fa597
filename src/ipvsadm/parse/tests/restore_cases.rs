//! The restore tokenizer on inputs that were fed to real ipvsadm 1.31's `-R` (with the
//! outcomes it showed) and on synthetic corners.

use super::FakeResolver;
use crate::ipvsadm::parse::{parse_restore_line, restore_lines};

fn lines(input: &[u8]) -> Vec<Vec<String>> {
    restore_lines(input)
}

fn want(lines: &[&[&str]]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

#[test]
fn observed_inputs() {
    let cases: &[(&[u8], &[&[&str]])] = &[
        (
            b"-A -t 10.50.0.1:80 -s rr\n-a -t 10.50.0.1:80 -r 192.168.50.1:80 -m\n",
            &[
                &["-A", "-t", "10.50.0.1:80", "-s", "rr"],
                &["-a", "-t", "10.50.0.1:80", "-r", "192.168.50.1:80", "-m"],
            ],
        ),
        (
            b"# comment line\n-A -t 10.50.0.2:80\n",
            &[&["#", "comment", "line"], &["-A", "-t", "10.50.0.2:80"]],
        ),
        (
            b"-A -t 10.50.0.3:80 # trailing comment\n",
            &[&["-A", "-t", "10.50.0.3:80", "#", "trailing", "comment"]],
        ),
        (
            b"ipvsadm -A -t 10.50.0.4:80\n   \n\n\t-A\t-t\t10.50.0.5:80\t\n",
            &[&["-A", "-t", "10.50.0.4:80"], &["-A", "-t", "10.50.0.5:80"]],
        ),
        (b"-A -t 10.50.0.6:80", &[&["-A", "-t", "10.50.0.6:80"]]),
        (b"-A -t 10.50.0.7:80 ", &[&["-A", "-t", "10.50.0.7:80"]]),
        (b"-A -t 10.90.0.1:80  ", &[]),
        (b"-A -t 10.90.0.2:80\n   ", &[&["-A", "-t", "10.90.0.2:80"]]),
        (
            b"-A -t 10.90.0.3:80 -s rr#x\n-A -t 10.90.0.4:80 #\n",
            &[
                &["-A", "-t", "10.90.0.3:80", "-s", "rr#x"],
                &["-A", "-t", "10.90.0.4:80", "#"],
            ],
        ),
        (
            b"-A -t 10.50.0.23:80\r\n-A -t 10.50.0.24:80\r\n",
            &[
                &["-A", "-t", "10.50.0.23:80"],
                &["-A", "-t", "10.50.0.24:80"],
            ],
        ),
        (
            b"-A -t 10.50.0.18:80 -s rr ipvsadm\n-A ipvsadm -t 10.50.0.19:80\n",
            &[
                &["-A", "-t", "10.50.0.18:80", "-s", "rr"],
                &["-A", "-t", "10.50.0.19:80"],
            ],
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            lines(input),
            want(expected),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn synthetic_corners() {
    assert!(lines(b"").is_empty());
    assert!(lines(b"ipvsadm\n\n \t\r\n").is_empty());
    assert_eq!(lines(b"-A -t X\t\r"), want(&[]));
    assert_eq!(lines(b"-A -t X\r"), want(&[&["-A", "-t", "X"]]));
    assert_eq!(lines(b"  -L"), want(&[&["-L"]]));
    assert_eq!(
        lines(b"-s rr\x00junk ipvsadm\x00x\n"),
        want(&[&["-s", "rr"]])
    );
    assert_eq!(lines(b"-s \x00\n"), want(&[&["-s", ""]]));
    assert_eq!(lines(b"a\x0bb\x0cc\n"), want(&[&["a\x0bb\x0cc"]]));
    let long = vec![b'a'; 4096 * 2 + 10];
    let got = lines(&long);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].iter().map(String::len).collect::<Vec<_>>(),
        [4096, 4096, 10]
    );
}

/// What a restore loop sees for the inputs whose outcome with the real ipvsadm is known:
/// which lines abort (and with what), which are skipped.
#[test]
fn restore_outcomes_match_ipvsadm() {
    let status = |input: &[u8]| -> Vec<Result<(), (String, u8, bool)>> {
        restore_lines(input)
            .iter()
            .map(|l| {
                parse_restore_line("ipvsadm", l, &FakeResolver)
                    .map(|_| ())
                    .map_err(|e| (e.message, e.exit_code, e.kind.aborts_restore()))
            })
            .collect()
    };
    let try_help = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.".to_owned();
    assert_eq!(
        status(b"# comment line\n-A -t 10.50.0.2:80\n")[0],
        Err((try_help.clone(), 255, true))
    );
    assert_eq!(status(b"foo\n")[0], Err((try_help.clone(), 255, true)));
    assert_eq!(status(b"-R\n")[0], Err((try_help, 255, true)));
    assert_eq!(
        status(b"-A -t 10.50.0.3:80 # trailing comment\n")[0],
        Err(("unexpected argument #".into(), 2, true))
    );
    assert_eq!(
        status(b"-A -t bad\n")[0],
        Err((
            "illegal virtual server address[:port] specified".into(),
            2,
            true
        ))
    );
    assert_eq!(
        status(b"-A -t 10.50.0.16:80 -Q\n")[0],
        Err(("-Q: unknown option".into(), 255, false))
    );
    assert_eq!(
        status(b"-A -t 10.50.0.25:80 -p\n-A -t 10.50.0.26:80 -p 20\n"),
        vec![Ok(()), Ok(())]
    );
    assert_eq!(
        status(b"-A -t 10.50.0.1:80 -s wlc -b \n")[0],
        Err(("-b: missing argument".into(), 255, false))
    );
}

/// 80 generated restore inputs (odd separators, CRLF, NUL bytes, `ipvsadm` tokens,
/// comments, unknown options, every kind of end of input) fed to the real `ipvsadm -R` in
/// the IPVS VM (`vm_restore.json`: input, exit status, stderr, `ipvsadm -Sn` afterwards).
/// Replaying them through [`restore_lines`] + [`parse_restore_line`] with ipvsadm's restore
/// loop rules must give the same services, messages and status.
#[test]
fn restore_inputs_match_real_ipvsadm() {
    use base64_decode as decode;
    #[derive(serde::Deserialize)]
    struct Case {
        input: String,
        rc: u8,
        stderr: String,
        save: String,
    }
    let cases: Vec<Case> = serde_json::from_str(include_str!("vm_restore.json")).unwrap();
    for case in cases {
        let input = decode(&case.input);
        let mut stderr = String::new();
        let mut created = Vec::new();
        let mut rc = 0;
        for line in restore_lines(&input) {
            match parse_restore_line("ipvsadm", &line, &FakeResolver) {
                Ok(crate::ipvsadm::parse::IpvsadmCommand::AddService(s)) => {
                    created.push(s.key.to_string());
                    rc = 0;
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => {
                    stderr.push_str(&e.message);
                    stderr.push('\n');
                    rc = e.exit_code;
                    if e.kind.aborts_restore() {
                        break;
                    }
                }
            }
        }
        let mut saved: Vec<String> = case
            .save
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2).map(|a| format!("TCP {a}")))
            .collect();
        created.sort();
        saved.sort();
        let shown = String::from_utf8_lossy(&input).into_owned();
        assert_eq!(created, saved, "{shown:?}");
        assert_eq!((rc, stderr), (case.rc, case.stderr), "{shown:?}");
    }
}

/// Standard base64 (the test data's encoding of raw restore bytes).
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = s.bytes().filter(|c| *c != b'=').map(value).collect();
    digits
        .chunks(4)
        .flat_map(|q| {
            let n = q.iter().fold(0u32, |acc, d| (acc << 6) | u32::from(*d)) << (6 * (4 - q.len()));
            let bytes = n.to_be_bytes();
            bytes[1..q.len()].to_vec()
        })
        .collect()
}
