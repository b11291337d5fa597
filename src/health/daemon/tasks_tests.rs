use super::*;

#[test]
fn checks_share_ten_millisecond_slots_of_the_first_second() {
    let second = Duration::from_secs(1);
    let offsets: std::collections::BTreeSet<Duration> =
        (1..=1000).map(|g| first_offset(g, second)).collect();
    assert_eq!(offsets.len(), 100, "a thousand checks in a hundred slots");
    assert!(
        offsets
            .iter()
            .all(|o| o.as_millis() % 10 == 0 && *o < second)
    );
    // Short intervals use what they have; a long one still starts within a second.
    assert!(
        (1..=50).all(|g| first_offset(g, Duration::from_millis(30)) < Duration::from_millis(30))
    );
    assert_eq!(first_offset(7, Duration::from_millis(5)), Duration::ZERO);
    assert!((1..=50).all(|g| first_offset(g, Duration::from_secs(5)) < second));
}

/// Fails while `failing` is set.
#[derive(Debug)]
struct Switch(Arc<std::sync::atomic::AtomicBool>);

impl Check for Switch {
    fn run<'a>(&'a self, _: &'a Target) -> crate::health::check::BoxFuture<'a, Outcome> {
        let failing = self.0.load(std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            if failing {
                Outcome::Down("refused".into())
            } else {
                Outcome::Up
            }
        })
    }
}

fn retrying_job(failing: Arc<std::sync::atomic::AtomicBool>, retry: Retry) -> CheckJob {
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
        checker: 0,
        generation: 1,
        check: Box::new(Switch(failing)),
        target: Target {
            virtual_key: key,
            real_addr: real.addr,
            real_port: 80,
            check_port: Some(80),
            route: crate::health::check::Route::default(),
        },
        interval: Duration::from_secs(10),
        limit: Duration::from_secs(6),
        maintenance_dir: None,
        reverse: None,
        budget: Budget::new(None),
        descriptors: 1,
        retry: Some(retry),
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

/// keepalived's `retry 2` and `delay_before_retry 3` with `delay_loop 10`: a failure is
/// retried twice, 3 s apart, then the check waits 10 s again; a success waits 10 s.
#[tokio::test(start_paused = true)]
async fn failures_are_retried_after_delay_before_retry_then_the_delay_loop() {
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let retry = Retry {
        count: 2,
        delay: Duration::from_secs(3),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(run(retrying_job(failing.clone(), retry), tx));
    let mut at = Vec::new();
    for n in 0..9 {
        let report = rx.recv().await.unwrap();
        at.push((
            (tokio::time::Instant::now() - start).as_secs(),
            report.outcome == Outcome::Up,
        ));
        // Passes, then fails from the second run to the seventh, then passes again.
        failing.store(
            (1..7).contains(&(n + 1)),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
    task.abort();
    let first = at[0].0;
    let times: Vec<(u64, bool)> = at.iter().map(|&(t, up)| (t - first, up)).collect();
    assert_eq!(
        times,
        [
            (0, true),
            (10, false),
            (13, false),
            (16, false),
            (26, false),
            (29, false),
            (32, false),
            (42, true),
            (52, true)
        ]
    );
}

/// keepalived's HTTP_GET with `retry 1`, `delay_before_retry 3`, `delay_loop 10`: down
/// at the second failure in a row, then rechecked every 10 s; back only at the second
/// pass (the first forgets the failed url). Each report carries the verdict.
#[tokio::test(start_paused = true)]
async fn keepalived_http_reports_its_verdicts_on_its_own_waits() {
    use crate::health::state::keepalived_http::Verdict::{Down, Up};
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut job = retrying_job(
        failing.clone(),
        Retry {
            count: 0,
            delay: Duration::from_secs(1),
        },
    );
    job.retry = None;
    job.http = Some(HttpChecker::new(Settings {
        urls: 1,
        retry: 1,
        delay_loop: Duration::from_secs(10),
        delay_before_retry: Duration::from_secs(3),
        alpha: false,
        fast_recovery: false,
    }));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(run(job, tx));
    let mut seen = Vec::new();
    for n in 0..7 {
        let report = rx.recv().await.unwrap();
        seen.push((
            (tokio::time::Instant::now() - start).as_secs(),
            report.outcome == Outcome::Up,
            report.verdict,
        ));
        // Fails from the second run to the fourth.
        failing.store(
            (1..4).contains(&(n + 1)),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
    task.abort();
    let first = seen[0].0;
    let seen: Vec<_> = seen
        .into_iter()
        .map(|(t, p, v)| (t - first, p, v))
        .collect();
    assert_eq!(
        seen,
        [
            (0, true, Some(Up)),
            (10, false, None),
            (13, false, Some(Down)),
            (23, false, None),
            (33, true, None),
            (43, true, Some(Up)),
            (53, true, None),
        ]
    );
}

/// keepalived's TCP_CHECK with `retry 2`, `delay_before_retry 3`, `delay_loop 10`,
/// failing from the start: the first failure is the call down (keepalived starts the
/// retry counter full), the next check a delay_loop later; once the real has passed, a
/// failure is retried twice 3 s apart and the third calls it down. Each report carries
/// the verdict of tcp_epilog (check_tcp.c).
#[tokio::test(start_paused = true)]
async fn keepalived_tcp_takes_a_real_out_at_its_first_failure_then_retries_after_a_pass() {
    use crate::health::state::keepalived_epilog::{Rule, Settings};
    use crate::health::state::keepalived_http::Verdict::{Down, Up};
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let retry = Retry {
        count: 2,
        delay: Duration::from_secs(3),
    };
    let mut job = retrying_job(failing.clone(), retry);
    job.epilog = Some(EpilogChecker::new(Settings {
        rule: Rule::Tcp,
        retry: 2,
        delay_loop: Duration::from_secs(10),
        delay_before_retry: Duration::from_secs(3),
        alpha: false,
    }));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(run(job, tx));
    let mut seen = Vec::new();
    for n in 0..7 {
        let report = rx.recv().await.unwrap();
        seen.push((
            (tokio::time::Instant::now() - start).as_secs(),
            report.outcome == Outcome::Up,
            report.verdict,
        ));
        // Fails at runs 0, 1 and 3 to 5; passes at 2 and 6.
        failing.store(
            [0, 1, 3, 4, 5].contains(&(n + 1)),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
    task.abort();
    let first = seen[0].0;
    let seen: Vec<_> = seen
        .into_iter()
        .map(|(t, p, v)| (t - first, p, v))
        .collect();
    assert_eq!(
        seen,
        [
            (0, false, Some(Down)),
            // Down already: tcp_epilog retries whatever the state, without a verdict.
            (10, false, None),
            (13, true, Some(Up)),
            (23, false, None),
            (26, false, None),
            (29, false, Some(Down)),
            (39, true, Some(Up)),
        ]
    );
}

#[test]
fn without_retries_every_wait_is_the_interval() {
    let retry = Retry {
        count: 0,
        delay: Duration::from_secs(1),
    };
    let mut retried = 0;
    let every = Duration::from_secs(5);
    assert_eq!(retry.next_wait(&mut retried, true, every), every);
    assert_eq!(retry.next_wait(&mut retried, false, every), every);
    assert_eq!(retried, 0);
}

#[test]
fn a_late_task_joins_the_grid_at_its_next_point() {
    let base = std::time::Instant::now();
    let at = |ms: u64| base + Duration::from_millis(ms);
    let (off, every) = (Duration::from_millis(30), Duration::from_secs(1));
    assert_eq!(first_tick(base, base, off, every), at(30));
    assert_eq!(first_tick(base, at(30), off, every), at(30));
    assert_eq!(first_tick(base, at(31), off, every), at(1030));
    assert_eq!(first_tick(base, at(5_000), off, every), at(5_030));
}

/// keepalived's warmup draw: `warmup × random / RAND_MAX`, from 0 (the smallest draw) to
/// the whole warmup (the largest), evenly between.
#[test]
fn warmup_spreads_the_first_check_over_the_whole_warmup() {
    let w = Duration::from_secs(10);
    assert_eq!(warmup_delay(w, 0), Duration::ZERO);
    assert_eq!(warmup_delay(w, u32::MAX), w);
    assert_eq!(
        warmup_delay(w, u32::MAX / 2),
        Duration::from_nanos(4_999_999_998)
    );
    assert_eq!(warmup_delay(Duration::ZERO, u32::MAX), Duration::ZERO);
    assert_eq!(
        warmup_delay(Duration::MAX, u32::MAX),
        Duration::from_nanos(u64::MAX)
    );
}

/// A job with a drawn warmup runs its first check that much after its start slot (the
/// grid's next slot, where a job without warmup runs first), then keeps its own delays.
#[tokio::test(start_paused = true)]
async fn a_drawn_warmup_delays_only_the_first_check() {
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut job = retrying_job(
        failing,
        Retry {
            count: 0,
            delay: Duration::from_secs(1),
        },
    );
    job.warmup = Duration::from_millis(7_300);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = tokio::time::Instant::now();
    let slot = first_tick(
        grid_base(),
        start,
        first_offset(job.generation, job.interval),
        job.interval,
    ) - start;
    let task = tokio::spawn(run(job, tx));
    let mut at = Vec::new();
    for _ in 0..2 {
        rx.recv().await.unwrap();
        at.push(tokio::time::Instant::now() - start);
    }
    task.abort();
    // tokio's timers fire on whole milliseconds: the slot may be off the grid of those.
    let warm = slot + Duration::from_millis(7_300);
    assert!(
        at[0]
            .checked_sub(warm)
            .is_some_and(|late| late < Duration::from_millis(2)),
        "first check at {:?}, the slot at {slot:?}",
        at[0]
    );
    assert_eq!(at[1].checked_sub(at[0]), Some(Duration::from_secs(10)));
}
