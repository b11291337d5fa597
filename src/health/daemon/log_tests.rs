use super::*;
use std::os::unix::net::UnixDatagram;

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsctl-log-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn file_lines_have_ldirectords_layout_and_append() {
    let dir = temp("file");
    let file = dir.join("ld.log");
    let target = LogTarget::File(file.clone());
    let log = Logger::new(
        "web.cf",
        &target,
        Console::None,
        "ldirectord",
        dir.join("x"),
    );
    log.log("one");
    log.log("two\n");
    assert!(log.flush());
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let pid = std::process::id();
    for (line, msg) in lines.iter().zip(["one", "two"]) {
        // `[Sat Nov 21 10:05:53 2026|web.cf|pid] msg`
        assert_eq!(&line[0..1], "[");
        assert_eq!(&line[25..], format!("|web.cf|{pid}] {msg}"), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_logfile_falls_back_to_syslog_and_a_facility_logs_there() {
    let dir = temp("fallback");
    let sock = dir.join("devlog");
    let rx = UnixDatagram::bind(&sock).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 256];

    let target = LogTarget::File(dir.join("no/such/dir/ld.log"));
    let log = Logger::new(
        "ldirectord",
        &target,
        Console::None,
        "ldirectord",
        sock.clone(),
    );
    log.log("lost?");
    let n = crate::health::daemon::testutil::recv(&rx, &mut buf);
    let got = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(got.starts_with("<30>"), "daemon.info: {got}");
    assert!(got.ends_with("]: lost?"), "{got}");

    let log = log.retarget(&LogTarget::Syslog("local0".into()));
    log.log("via syslog");
    let n = crate::health::daemon::testutil::recv(&rx, &mut buf);
    let got = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(got.starts_with("<134>"), "local0.info: {got}");
    assert!(
        got.ends_with(&format!(" ldirectord[{}]: via syslog", std::process::id())),
        "{got}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ld_log` with `$opt_d`: `ld_debug(2, $message)` prints `DEBUG2: $message`, then
/// `print STDERR "$message\n"`.
#[test]
fn debug_mode_prints_ldirectords_two_lines() {
    assert_eq!(
        debug_lines("Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)\n"),
        "DEBUG2: Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)\n\
         Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)\n"
    );
    let target = LogTarget::File(PathBuf::from("/nonexistent/ld.log"));
    let d = Logger::new("x", &target, Console::Debug, "lvsctl", PathBuf::new());
    assert!(matches!(d.sink, Sink::Debug));
    assert!(matches!(d.retarget(&target).sink, Sink::Debug));
}

#[test]
fn console_modes_ignore_the_logfile() {
    let target = LogTarget::Syslog("local0".into());
    let fg = Logger::new("x", &target, Console::Stderr, "lvsctl", PathBuf::new());
    assert!(matches!(fg.sink, Sink::Stderr));
    assert!(matches!(fg.retarget(&target).sink, Sink::Stderr));
    let sup = Logger::new("x", &target, Console::Supervised, "lvsctl", PathBuf::new());
    assert!(matches!(sup.sink, Sink::Stdout));
}

/// A log file nobody can write to right now (here a FIFO without a reader, whose open
/// blocks, as a hung NFS mount's would): logging does not wait for it. The old logger
/// wrote on the caller's thread and hung there, with the event loop.
#[test]
fn a_stuck_log_file_never_blocks_the_caller() {
    let dir = temp("fifo");
    let fifo = dir.join("ld.log");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let target = LogTarget::File(fifo.clone());
    let log = Logger::new("x", &target, Console::None, "lvsctl", dir.join("none"));
    let (done_tx, done_rx) = mpsc::channel();
    let caller = log.clone();
    std::thread::spawn(move || {
        for i in 0..QUEUE + 100 {
            caller.log(&format!("line {i}"));
        }
        let _ = done_tx.send(());
    });
    assert!(
        done_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "logging waited for the stuck file"
    );
    // A reader unblocks the writer: the lines arrive, and the overflow is reported.
    let mut reader = std::fs::File::open(&fifo).unwrap();
    let mut got = String::new();
    let mut buf = vec![0u8; 65536];
    let start = Instant::now();
    while !got.contains("log lines were dropped") && start.elapsed() < Duration::from_secs(20) {
        match std::io::Read::read(&mut reader, &mut buf) {
            Ok(0) => std::thread::sleep(Duration::from_millis(10)),
            Ok(n) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => break,
        }
    }
    assert!(got.contains("] line 0\n"), "{}", &got[..got.len().min(300)]);
    assert!(
        got.contains("log lines were dropped"),
        "the overflow is logged"
    );
    // The rest of the queue goes to a plain file from now on, not to a FIFO without
    // a reader.
    std::fs::remove_file(&fifo).unwrap();
    drop(reader);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A symbolic link planted where the log file goes is not followed.
#[test]
fn the_log_file_is_not_opened_through_a_symlink() {
    let dir = temp("symlink");
    let victim = dir.join("victim");
    std::fs::write(&victim, "root's file\n").unwrap();
    let link = dir.join("ld.log");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let log = Logger::new(
        "x",
        &LogTarget::File(link),
        Console::None,
        "lvsctl",
        dir.join("none"),
    );
    log.log("through the link?");
    assert!(log.flush());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root's file\n");
    let _ = std::fs::remove_dir_all(&dir);
}
