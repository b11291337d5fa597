//! `lvsctl top` end to end against the real kernel, driven through tmux while real HTTP
//! traffic flows: the test's netns is the director, two real servers (busybox httpd) sit in
//! their own namespaces behind veth pairs with the director as default gateway, and a
//! client thread in the director's netns connects to a masquerading TCP VIP over and over.
//! The screen must show the service's rates and the connections, and the drain / restore
//! keys must change the kernel's weights (and must not in `--read-only`).
//!
//! Another test scrolls a table bigger than the screen: the rows coming into view show
//! their real servers, read when they came on screen.
//!
//! Every wait polls the screen or the kernel with a bound; nothing sleeps for an assertion.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;
#[path = "support/traffic.rs"]
mod traffic;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use support::{lvsctl_bin, sh};
use traffic::{Client, Lab, Tmux, cell, http_get, must, poll};

const WAIT: Duration = Duration::from_secs(40);
const WIDTH: u16 = 160;
const HEIGHT: u16 = 45;

fn top(args: &str) -> Tmux {
    Tmux::start(&format!("exec {} top {args}", lvsctl_bin()), WIDTH, HEIGHT)
}

/// A rate cell showing activity: a number that is not zero ("12", "3.4k", "1.2M").
fn nonzero(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit()) && text.chars().any(|c| ('1'..='9').contains(&c))
}

/// The Services view's header line and the line of the row containing `needle`.
fn row<'a>(screen: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let header = screen
        .lines()
        .find(|l| l.contains("Sched") && l.contains("CPS"))?;
    let line = screen.lines().find(|l| l.contains(needle))?;
    Some((header, line))
}

/// The weight of real server `rs` ("10.0.0.2:8080") as `ipvsadm -Ln` prints it.
fn kernel_weight(rs: &str) -> Option<u32> {
    let (out, _, _) = sh("ipvsadm -Ln");
    out.lines().find_map(|l| {
        let t: Vec<&str> = l.split_whitespace().collect();
        (t.len() >= 4 && t[0] == "->" && t[1] == rs).then(|| t[3].parse().ok())?
    })
}

fn wait_weight(rs: &str, weight: u32) {
    poll(
        WAIT,
        &format!("kernel weight of {rs} to become {weight}"),
        || (kernel_weight(rs) == Some(weight)).then_some(()),
        || sh("ipvsadm -Ln").0,
    );
}

/// The real server on the selected (`>`) line of the Services view, once the cursor is on
/// a real server row.
fn selected_real(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.starts_with('>'))?;
    let rest = line.split('→').nth(1)?;
    rest.split_whitespace().next().map(str::to_owned)
}

#[test]
fn top_shows_live_traffic_and_drains_through_the_ui() {
    kernel_test!();
    let lab = Lab::new(77, 2, 8080);
    let reals: Vec<String> = lab
        .reals
        .iter()
        .map(|r| format!("{}:{}", r.addr, r.port))
        .collect();
    must("ip addr add 10.77.0.100/32 dev lo");
    must("ipvsadm -A -t 10.77.0.100:80 -s rr");
    for rs in &reals {
        must(&format!("ipvsadm -a -t 10.77.0.100:80 -r {rs} -m -w 1"));
    }
    let vip: SocketAddr = "10.77.0.100:80".parse().unwrap();
    poll(
        WAIT,
        "an HTTP response through the VIP",
        || http_get(vip).ok(),
        || sh("ipvsadm -Ln --stats; ipvsadm -Lnc; ip route").0,
    );
    let mut client = Client::start(vip, Duration::from_millis(40));
    client.hold(vip, 2);

    let top = top("-n --interval 1");
    let service = "TCP 10.77.0.100:80";

    // Services: the VIP with both masquerading reals, and non-zero rates once two samples
    // are in.
    let rates = top.wait(WAIT, "non-zero CPS, InB/s and OutB/s for the VIP", |s| {
        let (header, line) = row(s, service)?;
        let cells: Vec<String> = ["CPS", "InB/s", "OutB/s"]
            .iter()
            .map(|c| cell(header, line, c))
            .collect::<Option<_>>()?;
        cells.iter().all(|c| nonzero(c)).then_some(cells)
    });
    eprintln!(
        "service rates: CPS {} InB/s {} OutB/s {}",
        rates[0], rates[1], rates[2]
    );
    let screen = top.screen();
    for rs in &reals {
        let (header, line) = row(&screen, &format!("→ {rs}")).expect("real server row");
        assert_eq!(
            cell(header, line, "Sched").as_deref(),
            Some("Masq"),
            "{screen}"
        );
        assert_eq!(cell(header, line, "Wgt").as_deref(), Some("1"), "{screen}");
    }
    let totals = screen.lines().nth(1).unwrap_or_default();
    assert!(
        totals.contains("Σ") && totals.contains("1 svc 2 rs"),
        "{screen}"
    );

    // Connections: closed client connections linger in TIME_WAIT, the held ones are
    // ESTABLISHED; the rows name the VIP and the real servers.
    top.keys(&["2"]);
    top.wait(WAIT, "TIME_WAIT rows through both real servers", |s| {
        let states = s.lines().find(|l| l.trim_start().starts_with("states "))?;
        let per_rs = s.lines().find(|l| l.trim_start().starts_with("per RS "))?;
        let ok = states.contains("ESTABLISHED")
            && states.contains("TIME_WAIT")
            && reals.iter().all(|rs| per_rs.contains(rs.as_str()))
            && reals.iter().all(|rs| {
                s.lines().any(|l| {
                    l.trim_start_matches(['>', ' ']).starts_with("TCP ")
                        && l.contains("TIME_WAIT")
                        && l.contains("10.77.0.100:80")
                        && l.contains(rs.as_str())
                })
            });
        ok.then_some(())
    });
    // Many TIME_WAIT rows may push the ESTABLISHED ones off screen: filter by state.
    top.keys(&["/"]);
    top.keys(&["-l", "state:EST"]);
    top.keys(&["Enter"]);
    top.wait(WAIT, "ESTABLISHED rows naming a real server", |s| {
        let rows: Vec<&str> = s
            .lines()
            .filter(|l| l.trim_start_matches(['>', ' ']).starts_with("TCP "))
            .collect();
        let ok = !rows.is_empty()
            && rows
                .iter()
                .all(|l| l.contains("ESTABLISHED") && l.contains("10.77.0.100:80"))
            && rows
                .iter()
                .all(|l| reals.iter().any(|rs| l.contains(rs.as_str())));
        ok.then_some(())
    });

    // Drain the first real server through the UI and check the kernel.
    top.keys(&["1"]);
    top.wait_for(WAIT, "Sched");
    top.keys(&["j"]);
    let drained = top.wait(WAIT, "the cursor on a real server", selected_real);
    let other = reals.iter().find(|r| **r != drained).unwrap().clone();
    assert!(reals.contains(&drained), "selected {drained}");
    top.keys(&["d"]);
    let question = format!("Drain {drained} in {service}: weight 1 -> 0?");
    top.wait_for(WAIT, &question);
    assert_eq!(
        kernel_weight(&drained),
        Some(1),
        "nothing changes before the yes"
    );
    top.keys(&["y"]);
    wait_weight(&drained, 0);
    assert_eq!(
        kernel_weight(&other),
        Some(1),
        "only the selected real server drains"
    );
    top.wait(WAIT, "weight 0 on screen", |s| {
        let (header, line) = row(s, &format!("→ {drained}"))?;
        (cell(header, line, "Wgt")? == "0").then_some(())
    });
    // The drain is real: new connections only reach the other real server.
    top.wait(WAIT, "CPS 0 for the drained real server only", |s| {
        let (header, line) = row(s, &format!("→ {drained}"))?;
        let (_, other_line) = row(s, &format!("→ {other}"))?;
        (cell(header, line, "CPS")? == "0" && nonzero(&cell(header, other_line, "CPS")?))
            .then_some(())
    });

    // Restore the earlier weight.
    top.keys(&["u"]);
    top.wait_for(
        WAIT,
        &format!("Restore {drained} in {service}: weight 0 -> 1?"),
    );
    top.keys(&["y"]);
    wait_weight(&drained, 1);

    top.keys(&["q"]);
    let how = top.wait_exit(WAIT);
    assert_eq!(
        how,
        "status 0",
        "lvsctl top's exit; screen:\n{}",
        top.screen()
    );
    assert!(client.ok() > 0, "client requests succeeded");
    eprintln!(
        "client: {} requests answered, {} failed",
        client.ok(),
        client.failed()
    );
}

#[test]
fn read_only_top_refuses_to_drain() {
    kernel_test!();
    must("ipvsadm -A -t 10.78.0.1:80 -s wlc");
    must("ipvsadm -a -t 10.78.0.1:80 -r 10.78.1.1:80 -m -w 3");
    must("ipvsadm -a -t 10.78.0.1:80 -r 10.78.1.2:80 -m -w 2");
    let top = top("--read-only -n");
    top.wait_for(WAIT, "read-only");
    top.wait_for(WAIT, "TCP 10.78.0.1:80");
    top.keys(&["j"]);
    let rs = top.wait(WAIT, "the cursor on a real server", selected_real);
    for key in ["d", "x", "w", "Z"] {
        // A "y" right after: had a popup opened, it would confirm it. The help popup then
        // proves both keys were handled.
        top.keys(&[key, "y", "?"]);
        let screen = top.wait_for(WAIT, "this help");
        assert!(
            screen.contains("read-only mode: changes are disabled"),
            "{key}:\n{screen}"
        );
        assert!(
            !screen.contains("Confirm"),
            "{key} opened a popup:\n{screen}"
        );
        // Close the help, clear the message (Esc), so the next key must bring it back.
        top.keys(&["?", "Escape"]);
        top.wait(WAIT, "the help popup and the message to go", |s| {
            (!s.contains("this help") && !s.contains("changes are disabled")).then_some(())
        });
    }
    assert_eq!(
        kernel_weight(&rs),
        Some(if rs == "10.78.1.1:80" { 3 } else { 2 })
    );
    let (out, _, _) = sh("ipvsadm -Ln");
    assert_eq!(out.matches("Masq").count(), 2, "{out}");
    top.keys(&["q"]);
    let how = top.wait_exit(WAIT);
    assert_eq!(
        how,
        "status 0",
        "lvsctl top's exit; screen:\n{}",
        top.screen()
    );
}

/// The real servers and weight of service `i` of [`big_table`].
fn big_reals(i: usize) -> [(String, u32); 2] {
    let (a, b) = (i / 256, i % 256);
    [
        (
            format!("10.80.{a}.{b}:8080"),
            u32::try_from(i % 5 + 1).unwrap(),
        ),
        (format!("10.80.{a}.{b}:8081"), 1),
    ]
}

/// `n` TCP services 10.79.x.y:80 with two masquerading real servers each, loaded with
/// one `lvsctl ipvsadm -R`.
fn big_table(n: usize) {
    let mut rules = String::new();
    for i in 0..n {
        let vip = format!("10.79.{}.{}:80", i / 256, i % 256);
        let _ = writeln!(rules, "-A -t {vip} -s wlc");
        for (rs, w) in big_reals(i) {
            let _ = writeln!(rules, "-a -t {vip} -r {rs} -m -w {w}");
        }
    }
    let path = std::env::temp_dir().join(format!("{}.rules", traffic::unique("lvst-top")));
    std::fs::write(&path, rules).unwrap();
    must(&format!("{} ipvsadm -R < {}", lvsctl_bin(), path.display()));
    let _ = std::fs::remove_file(&path);
}

/// Whether the screen shows service `i`'s real servers with their weights.
fn shows_reals(screen: &str, i: usize) -> bool {
    big_reals(i).iter().all(|(rs, w)| {
        row(screen, &format!("→ {rs}"))
            .and_then(|(header, line)| cell(header, line, "Wgt"))
            .is_some_and(|cell| cell == w.to_string())
    })
}

#[test]
fn scrolling_a_table_bigger_than_the_screen_reads_the_rows_coming_into_view() {
    kernel_test!();
    // 2,000 services: the listing is read in the background there, and the sweep reaches
    // the end of the table in minutes, so the last services' real servers on screen can
    // only come from the reads of the rows on screen.
    let n = 2000;
    big_table(n);
    let top = top("-n --interval 1");
    top.wait(WAIT, "the first service with its real servers", |s| {
        shows_reals(s, 0).then_some(())
    });
    // The header says how old (or how partial) the totals from the sweep are.
    let header = top.screen().lines().next().unwrap_or_default().to_owned();
    assert!(
        header.contains("totals ") && (header.contains("/2.0K read") || header.contains(" old")),
        "{header}"
    );
    // To the bottom: the last service (by name, 10.79.7.207:80) with its real servers.
    top.keys(&["G"]);
    top.wait(WAIT, "the last service's real servers", |s| {
        (s.contains("TCP 10.79.7.207:80") && shows_reals(s, n - 1)).then_some(())
    });
    // Page by page back up: every screen's real servers show.
    for _ in 0..3 {
        top.keys(&["PageUp"]);
        let screen = top.wait(
            WAIT,
            "the services on this page with their real servers",
            |s| {
                let services: Vec<usize> = s
                    .lines()
                    .filter_map(|l| {
                        // Service rows of the table (not the status line's summary).
                        let l = l.trim_start_matches(['>', ' ']).strip_prefix("▾ ")?;
                        let vip = l.strip_prefix("TCP 10.79.")?.split(':').next()?;
                        let (a, b) = vip.split_once('.')?;
                        Some(a.parse::<usize>().ok()? * 256 + b.parse::<usize>().ok()?)
                    })
                    .collect();
                // Every service whose rows are all on screen (not the last, which may be cut).
                let whole = services.len().saturating_sub(1);
                (whole > 3 && services[..whole].iter().all(|&i| shows_reals(s, i)))
                    .then_some(services)
            },
        );
        assert!(!screen.is_empty());
    }
    top.keys(&["q"]);
    let how = top.wait_exit(WAIT);
    assert_eq!(
        how,
        "status 0",
        "lvsctl top's exit; screen:\n{}",
        top.screen()
    );
}
