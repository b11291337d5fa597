//! How the status socket and the metrics endpoint take clients: one task per connection,
//! deadlines on every read and write, at most [`MAX_CLIENTS`] at once, and an accept loop
//! that never ends.
//!
//! Both are local APIs of a root daemon, so the clients they must survive are local: an
//! idle `nc`, a client that stops reading halfway through a large document, a script that
//! opens connections in a loop. None of them may hold up another client or the daemon:
//! each connection is served by its own task within [`DEADLINE`] per read or write; past
//! [`MAX_CLIENTS`] the *oldest* connection is closed to make room, so clients that sit idle
//! or stopped reading can never lock a new one out (closing the new one instead would let
//! 64 idle connections refuse every scrape until their deadlines). A failed `accept`
//! (EMFILE when the daemon is out of descriptors, ENOBUFS, ...) is logged once per run of
//! failures and retried after a pause that doubles from 100 ms to 1 s.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

use super::counters::Counters;

/// Connections served at once per listener.
pub const MAX_CLIENTS: usize = 64;
/// Longest wait for one read or write of a client.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// The pause after the first failed accept of a run, doubled after each further one.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// The longest pause between two accepts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Where the servers log (the daemon's logger).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// A listening socket of either kind.
pub trait Listener: Send + 'static {
    type Stream: Send + 'static;
    fn accept(&self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

impl Listener for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&self) -> io::Result<Self::Stream> {
        Self::accept(self).await.map(|(s, _)| s)
    }
}

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept(&self) -> io::Result<Self::Stream> {
        Self::accept(self).await.map(|(s, _)| s)
    }
}

/// The connections being served, oldest first; each holds the sender whose drop closes it.
#[derive(Debug)]
struct Clients {
    max: usize,
    open: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
    next: AtomicU64,
}

impl Clients {
    /// Registers a new connection; returns its id, the receiver that fires when it must
    /// close, and whether an older one was closed to make room.
    fn admit(&self) -> (u64, oneshot::Receiver<()>, bool) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let evicted = open.len() >= self.max && open.pop_front().is_some();
        open.push_back((id, tx));
        (id, rx, evicted)
    }

    fn leave(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|(i, _)| *i != id);
    }
}

/// Serves `listener` until the task is aborted: every connection gets its own task running
/// `serve` (which bounds its own reads and writes by [`DEADLINE`]). `what` names the
/// listener in log lines.
pub fn spawn_accept_loop<L, F, Fut>(
    listener: L,
    what: String,
    log: Log,
    counters: Arc<Counters>,
    serve: F,
) -> tokio::task::JoinHandle<()>
where
    L: Listener,
    F: Fn(L::Stream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let clients = Arc::new(Clients {
        max: MAX_CLIENTS,
        open: Mutex::new(VecDeque::new()),
        next: AtomicU64::new(0),
    });
    tokio::spawn(async move {
        let mut failures: u64 = 0;
        let mut pause = BACKOFF_MIN;
        loop {
            match listener.accept().await {
                Ok(stream) => {
                    if failures > 0 {
                        log(&format!(
                            "{what}: accepting again after {failures} failed accepts"
                        ));
                        failures = 0;
                        pause = BACKOFF_MIN;
                    }
                    let (id, closed, evicted) = clients.admit();
                    if evicted {
                        counters.client_evicted();
                    }
                    let work = serve(stream);
                    let clients = Arc::clone(&clients);
                    tokio::spawn(async move {
                        // Ends when served, or when a newer connection needs the room.
                        tokio::select! {
                            () = work => {}
                            _ = closed => {}
                        }
                        clients.leave(id);
                    });
                }
                Err(e) => {
                    counters.accept_failed();
                    failures += 1;
                    if failures == 1 {
                        log(&format!("{what}: accept failed: {e}; retrying"));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(BACKOFF_MAX);
                }
            }
        }
    })
}

/// `fut` within [`DEADLINE`]; Err when it did not finish in time.
pub async fn within<T>(fut: impl Future<Output = T>) -> Result<T, tokio::time::error::Elapsed> {
    tokio::time::timeout(DEADLINE, fut).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicUsize;
    use tokio::io::AsyncReadExt;

    /// A listener that fails its first `n` accepts with EMFILE, then hands out the streams
    /// of a real one.
    struct Flaky {
        fail: AtomicUsize,
        inner: tokio::net::UnixListener,
    }

    impl Listener for Flaky {
        type Stream = tokio::net::UnixStream;
        async fn accept(&self) -> io::Result<Self::Stream> {
            if self
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(io::Error::from_raw_os_error(libc::EMFILE));
            }
            self.inner.accept().await.map(|(s, _)| s)
        }
    }

    fn temp(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lvsctl-accept-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn capture() -> (Log, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let log: Log = Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned()));
        (log, lines)
    }

    /// The old loop ended on the first failed accept; this one logs once per run of
    /// failures, pauses, and serves the next client.
    #[tokio::test]
    async fn failed_accepts_are_logged_once_and_the_loop_goes_on() {
        let dir = temp("flaky");
        let path = dir.join("s");
        let listener = Flaky {
            fail: AtomicUsize::new(3),
            inner: tokio::net::UnixListener::bind(&path).unwrap(),
        };
        let (log, lines) = capture();
        let counters = Arc::new(Counters::default());
        let task = spawn_accept_loop(
            listener,
            "test socket".into(),
            log,
            counters.clone(),
            |s| async move {
                let mut s: tokio::net::UnixStream = s;
                let _ = tokio::io::AsyncWriteExt::write_all(&mut s, b"hi").await;
            },
        );
        let mut client = tokio::net::UnixStream::connect(&path).await.unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut got))
            .await
            .expect("served after the failures")
            .unwrap();
        assert_eq!(got, b"hi");
        let lines = lines.lock().unwrap().clone();
        assert_eq!(
            lines,
            [
                "test socket: accept failed: Too many open files (os error 24); retrying",
                "test socket: accepting again after 3 failed accepts"
            ]
        );
        assert_eq!(counters.values().accept_errors, 3);
        task.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn beyond_the_cap_the_oldest_connection_is_closed() {
        let clients = Clients {
            max: 2,
            open: Mutex::new(VecDeque::new()),
            next: AtomicU64::new(0),
        };
        let (a, mut ra, e1) = clients.admit();
        let (_b, mut rb, e2) = clients.admit();
        assert!(!e1 && !e2);
        let (_c, _rc, e3) = clients.admit();
        assert!(e3, "a third connection closes the oldest");
        assert!(
            matches!(ra.try_recv(), Err(oneshot::error::TryRecvError::Closed)),
            "the oldest was told to close"
        );
        assert!(
            matches!(rb.try_recv(), Err(oneshot::error::TryRecvError::Empty)),
            "the second is still open"
        );
        clients.leave(a);
        assert_eq!(clients.open.lock().unwrap().len(), 2);
    }
}
