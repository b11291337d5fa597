//! No input may panic the parser or the restore tokenizer. A small deterministic
//! generator mixes real option spellings, values and junk (no extra dependency needed).

use super::FakeResolver;
use crate::ipvsadm::parse::{parse, parse_restore_line, restore_lines};

const PIECES: &[&str] = &[
    "-A",
    "-E",
    "-D",
    "-C",
    "-R",
    "-S",
    "-a",
    "-e",
    "-d",
    "-L",
    "-l",
    "-Z",
    "-h",
    "-v",
    "--set",
    "--start-daemon",
    "--stop-daemon",
    "-t",
    "-u",
    "--sctp-service",
    "-f",
    "-s",
    "-p",
    "-M",
    "-r",
    "-g",
    "-i",
    "-m",
    "-w",
    "-x",
    "-y",
    "-n",
    "-c",
    "-6",
    "-o",
    "-X",
    "-b",
    "--pe",
    "--sort",
    "--nosort",
    "--timeout",
    "--daemon",
    "--stats",
    "--rate",
    "--thresholds",
    "--persistent-conn",
    "--tun-info",
    "--tun-type",
    "--tun-port",
    "--tun-csum",
    "--tun-nocsum",
    "--tun-remcsum",
    "--mcast-group",
    "--mcast-port",
    "--mcast-ttl",
    "--sync-maxlen",
    "--syncid",
    "--mcast-interface",
    "master",
    "backup",
    "1.2.3.4:80",
    "[::1]:80",
    "[::1",
    "[",
    "]",
    ":",
    "",
    "-",
    "--",
    "-Lnc",
    "-At1.2.3.4:80",
    "-p=",
    "-n=",
    "--persistent=",
    "0",
    "-1",
    "4294967296",
    "ff02::1",
    "224.0.0.1",
    ",",
    ",,",
    "sh-port",
    "flag-1,mh-port",
    "gue",
    "gre",
    "ipip",
    "é",
    "-é",
    "--é",
    "\u{0}",
    "localhost:http",
    "10:80",
    "0x7f000001",
    "-Ap",
    "-pA",
    "===",
    "-=",
];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn arbitrary_argv_never_panics() {
    let mut rng = Lcg(0x5eed);
    for _ in 0..20_000 {
        let len = rng.next() % 8;
        let args: Vec<String> = (0..len)
            .map(|_| {
                let a = PIECES[rng.next() % PIECES.len()];
                if rng.next().is_multiple_of(5) {
                    let b = PIECES[rng.next() % PIECES.len()];
                    format!("{a}{b}")
                } else {
                    a.to_owned()
                }
            })
            .collect();
        let _ = parse("ipvsadm", &args, &FakeResolver);
        let _ = parse_restore_line("", &args, &FakeResolver);
    }
}

#[test]
fn arbitrary_restore_input_never_panics() {
    let mut rng = Lcg(42);
    for _ in 0..2_000 {
        let len = rng.next() % 200;
        let bytes: Vec<u8> = (0..len)
            .map(|_| match rng.next() % 6 {
                0 => b' ',
                1 => b'\n',
                2 => b'\t',
                3 => b'\r',
                4 => 0,
                _ => (rng.next() % 256) as u8,
            })
            .collect();
        for line in restore_lines(&bytes) {
            let _ = parse_restore_line("ipvsadm", &line, &FakeResolver);
        }
    }
}
