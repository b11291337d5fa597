//! FILE_CHECK's edge on a real directory: the value read as keepalived reads it, and the
//! task's reports as the file is written, replaced, deleted and put back.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::health::check::{AlwaysUp, Target};
use crate::health::daemon::budget::Budget;
use crate::health::state::keepalived_file::Verdict::{Down, Up};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lvsctl-ka-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_value_is_read_as_keepalived_reads_it() {
    let d = dir("read");
    let f = d.join("weight");
    assert_eq!(read_value(&f), Some(0), "a missing file is 0");
    std::fs::write(&f, "").unwrap();
    assert_eq!(read_value(&f), Some(0), "an empty file is 0");
    std::fs::write(&f, " 12\n").unwrap();
    assert_eq!(read_value(&f), Some(12));
    std::fs::write(&f, "99999999999").unwrap();
    assert_eq!(read_value(&f), None, "out of range: ignored");
    // A link resolves to its target, a missing name to its resolved directory.
    let link = d.join("link");
    std::os::unix::fs::symlink(&f, &link).unwrap();
    assert_eq!(resolve(&link), std::fs::canonicalize(&f).unwrap());
    assert_eq!(
        resolve(&d.join("later")),
        std::fs::canonicalize(&d).unwrap().join("later")
    );
    std::fs::remove_dir_all(&d).unwrap();
}

fn job() -> CheckJob {
    let key = crate::ipvs::model::ServiceKey::Addr {
        protocol: crate::ipvs::model::Protocol::Tcp,
        addr: "192.0.2.1".parse().unwrap(),
        port: 80,
    };
    let real = crate::ipvs::model::DestKey {
        addr: "192.0.2.11".parse().unwrap(),
        port: 80,
    };
    CheckJob {
        id: (key, real),
        checker: 1,
        generation: 3,
        check: Box::new(AlwaysUp),
        target: Target {
            virtual_key: key,
            real_addr: real.addr,
            real_port: 80,
            check_port: Some(80),
            route: crate::health::check::Route::default(),
        },
        interval: Duration::from_mins(1),
        limit: Duration::from_secs(6),
        maintenance_dir: None,
        reverse: None,
        budget: Budget::new(None),
        descriptors: 1,
        retry: None,
        http: None,
        epilog: None,
        urls: Vec::new(),
        reentry: None,
        misc: None,
        warmup: Duration::ZERO,
        file: None,
        hook: None,
    }
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Report>) -> (Option<Verdict>, i64) {
    let r = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a report within 5 s")
        .expect("the task runs");
    assert_eq!((r.checker, r.generation), (1, 3));
    (r.verdict, r.weight.unwrap())
}

/// weight 0: the file is a switch. The task reports the start, then each change that
/// moves the checker, as the kernel tells of it: a write, a deletion (the value 0), a
/// move onto the name; a write that changes nothing is not reported.
#[tokio::test]
async fn the_task_follows_the_file_as_it_changes() {
    let d = dir("task");
    let f = d.join("down");
    std::fs::write(&f, "1\n").unwrap();
    let file = KeepalivedFile {
        path: f.clone(),
        weight: 0,
        reverse: false,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(run(job(), tx, file));
    assert_eq!(next(&mut rx).await, (Some(Down), 0), "down from the start");
    std::fs::write(&f, "0\n").unwrap();
    assert_eq!(next(&mut rx).await, (Some(Up), 0));
    std::fs::write(&f, "0\n").unwrap();
    std::fs::write(&f, "7\n").unwrap();
    assert_eq!(
        next(&mut rx).await,
        (Some(Down), 0),
        "the same value: no report"
    );
    std::fs::remove_file(&f).unwrap();
    assert_eq!(next(&mut rx).await, (Some(Up), 0), "deleted: the value 0");
    let tmp = d.join("tmp");
    std::fs::write(&tmp, "3").unwrap();
    std::fs::rename(&tmp, &f).unwrap();
    assert_eq!(next(&mut rx).await, (Some(Down), 0), "moved onto the name");
    task.abort();
    std::fs::remove_dir_all(&d).unwrap();
}

/// A weight and reverse: each change of the value reports what the checker adds, with a
/// verdict only when the state changes.
#[tokio::test]
async fn the_task_reports_weight_changes() {
    let d = dir("weight");
    let f = d.join("w");
    std::fs::write(&f, "2").unwrap();
    let file = KeepalivedFile {
        path: f.clone(),
        weight: 5,
        reverse: true,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(run(job(), tx, file));
    assert_eq!(next(&mut rx).await, (Some(Up), -10));
    std::fs::write(&f, "-3").unwrap();
    assert_eq!(next(&mut rx).await, (None, 15));
    std::fs::write(&f, "not a number").unwrap();
    assert_eq!(next(&mut rx).await, (None, 0), "no digits: 0");
    task.abort();
    std::fs::remove_dir_all(&d).unwrap();
}

/// A directory that is not there yet cannot be watched: a local fault, reported once,
/// which keeps the real as it is; once the directory is there the watch is set up and the
/// file read.
#[tokio::test]
async fn a_file_that_cannot_be_watched_is_a_local_fault_until_it_can() {
    let d = dir("late");
    let sub = d.join("sub");
    let f = sub.join("down");
    let file = KeepalivedFile {
        path: f.clone(),
        weight: 0,
        reverse: false,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(run(job(), tx, file));
    assert_eq!(next(&mut rx).await, (Some(Up), 0), "no file: the value 0");
    let fault = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&fault.outcome, Outcome::LocalFault(why) if why.starts_with("cannot watch ")),
        "{:?}",
        fault.outcome
    );
    assert_eq!(fault.verdict, None);
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(&f, "1").unwrap();
    let back = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (back.outcome, back.verdict),
        (Outcome::Up, None),
        "watched again"
    );
    assert_eq!(next(&mut rx).await, (Some(Down), 0), "then read");
    std::fs::write(&f, "0").unwrap();
    assert_eq!(next(&mut rx).await, (Some(Up), 0), "and followed");
    task.abort();
    std::fs::remove_dir_all(&d).unwrap();
}
