//! The status socket against local clients that do not play along, and `--socket` paths
//! that are not the daemon's to change.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::time::Instant;

use tokio::io::AsyncReadExt;

use super::*;
use crate::health::status::MAX_CLIENTS;
use crate::health::status::test_support::{fake_loop, quiet, report};

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsctl-status-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

async fn read_all(path: &Path) -> Vec<u8> {
    let mut s = UnixStream::connect(path).await.unwrap();
    let mut body = Vec::new();
    s.read_to_end(&mut body).await.unwrap();
    body
}

#[tokio::test]
async fn an_existing_directory_keeps_its_mode_and_new_ones_are_private() {
    let dir = temp("dirs");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let task = serve(
        &dir.join("s.sock"),
        fake_loop(report(1)),
        quiet(),
        Arc::default(),
    )
    .unwrap();
    assert_eq!(
        mode(&dir),
        0o755,
        "--socket never changes a directory it did not make"
    );
    assert_eq!(mode(&dir.join("s.sock")), 0o600);
    task.abort();

    let nested = dir.join("a/b");
    let task = serve(
        &nested.join("s.sock"),
        fake_loop(report(1)),
        quiet(),
        Arc::default(),
    )
    .unwrap();
    assert_eq!((mode(&dir.join("a")), mode(&nested)), (0o700, 0o700));
    assert_eq!(mode(&dir), 0o755);
    assert!(!read_all(&nested.join("s.sock")).await.is_empty());
    task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn only_a_stale_socket_is_removed() {
    let dir = temp("unlink");
    let file = dir.join("file.sock");
    std::fs::write(&file, "precious").unwrap();
    let err = serve(&file, fake_loop(report(1)), quiet(), Arc::default()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");

    let target = dir.join("target");
    std::fs::write(&target, "also precious").unwrap();
    let link = dir.join("link.sock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(serve(&link, fake_loop(report(1)), quiet(), Arc::default()).is_err());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "also precious");

    // A socket whose daemon is gone is replaced; one somebody listens on is not.
    let stale = dir.join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let task = serve(&stale, fake_loop(report(1)), quiet(), Arc::default()).unwrap();
    assert!(!read_all(&stale).await.is_empty());
    let err = serve(&stale, fake_loop(report(1)), quiet(), Arc::default()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert!(
        !read_all(&stale).await.is_empty(),
        "the first daemon still serves"
    );
    task.abort();
    remove_socket(&file);
    assert!(file.exists(), "remove_socket leaves other files alone");
    let _ = std::fs::remove_dir_all(&dir);
}

/// 100 clients connect and never read a document too large for a socket buffer; the old
/// server wrote to one client at a time without a deadline and served nobody after the
/// first. Now a client that reads gets its document at once, and the idle ones are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_do_not_read_stall_nobody() {
    let dir = temp("idle");
    let path = dir.join("s.sock");
    let doc = report(2000);
    assert!(serde_json::to_vec(&doc).unwrap().len() > 300_000);
    let counters = Arc::new(Counters::default());
    let task = serve(&path, fake_loop(doc), quiet(), counters.clone()).unwrap();
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(UnixStream::connect(&path).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let body = tokio::time::timeout(Duration::from_secs(10), read_all(&path))
        .await
        .expect("a reading client is served");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(serde_json::from_slice::<StatusReport>(&body).is_ok());
    assert!(
        counters.values().clients_evicted >= 100 - MAX_CLIENTS as u64,
        "{:?}",
        counters.values()
    );
    // Every idle client ends: closed to make room, or at its write deadline.
    for mut s in idle {
        let mut sink = Vec::new();
        let r = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut sink)).await;
        assert!(r.is_ok(), "an idle client was left open");
    }
    task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn private_dirs_refuse_a_file_in_the_way() {
    let dir = temp("notdir");
    std::fs::write(dir.join("f"), "").unwrap();
    let err = create_private_dirs(&dir.join("f/sub")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert!(dir.join("f").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
