use super::*;
use crate::ipvs::error::{IpvsError, OpKind};
use crate::ipvs::model::{Connection, GlobalStats, Rates, Stats};

fn traffic() -> (Stats, Rates) {
    (
        Stats {
            conns: 1,
            inpkts: 2,
            outpkts: 3,
            inbytes: 4,
            outbytes: 5,
        },
        Rates {
            cps: 6,
            inpps: 7,
            outpps: 8,
            inbps: 9,
            outbps: 10,
        },
    )
}

#[test]
fn counters_show_in_listings_and_zero_clears_them() {
    let (mut fake, key) = with_service();
    let other = tcp("10.0.0.9", 80);
    assert_eq!(errno(&mut fake, Op::AddService(Service::new(other))), 0);
    let dk = Dest::new(ip("10.0.0.2"), 80).key();
    let (s, r) = traffic();
    assert!(fake.set_service_traffic(&key, s, r));
    assert!(fake.set_service_traffic(&other, s, r));
    assert!(fake.set_dest_traffic(&key, &dk, s, r));
    assert!(fake.set_dest_conns(&key, &dk, (1, 2, 3)));
    assert!(!fake.set_service_traffic(&tcp("10.9.9.9", 1), s, r));
    assert!(!fake.set_dest_traffic(&key, &Dest::new(ip("10.0.0.7"), 80).key(), s, r));
    fake.set_global_stats(GlobalStats { stats: s, rates: r });
    let entries = fake.entries().unwrap();
    assert_eq!(entries[0].service.stats, s);
    assert_eq!(entries[0].dests[0].rates, r);

    assert_eq!(errno(&mut fake, Op::Zero(Some(key))), 0);
    let svc = fake.service(&key).unwrap();
    assert_eq!((svc.stats, svc.rates), (Stats::default(), Rates::default()));
    let dest = fake.dests(&key).unwrap().remove(0);
    assert_eq!(dest.stats, Stats::default());
    assert_eq!(dest.active_conns, 1, "zero keeps connection counts");
    assert_eq!(
        fake.service(&other).unwrap().stats,
        s,
        "other services untouched"
    );
    assert_eq!(fake.global_stats().unwrap().stats, s);

    assert_eq!(errno(&mut fake, Op::Zero(None)), 0);
    assert_eq!(fake.service(&other).unwrap().stats, Stats::default());
    assert_eq!(fake.global_stats().unwrap(), GlobalStats::default());
}

#[test]
fn edits_keep_counters() {
    let (mut fake, key) = with_service();
    let (s, r) = traffic();
    assert!(fake.set_service_traffic(&key, s, r));
    assert_eq!(errno(&mut fake, Op::EditService(Service::new(key))), 0);
    assert_eq!(fake.service(&key).unwrap().rates, r);
}

#[test]
fn connections_stream_and_stop() {
    let mut fake = FakeBackend::new();
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/procfs/ip_vs_conn.linux-6.1"
    ));
    assert_eq!(fake.load_connections(path).unwrap().rows, 9);
    let mut seen: Vec<Connection> = Vec::new();
    fake.connections(&mut |c| {
        seen.push(c);
        seen.len() < 2
    })
    .unwrap();
    assert_eq!(seen.len(), 2);
    fake.set_connections(vec![]);
    fake.connections(&mut |_| panic!("no rows")).unwrap();
    fake.set_endless_connections(true);
    fake.connections(&mut |_| panic!("still no rows")).unwrap();
}

#[test]
fn endless_connections_go_round_until_the_sink_stops() {
    let mut fake = FakeBackend::new();
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/procfs/ip_vs_conn.linux-6.1"
    ));
    fake.load_connections(path).unwrap();
    fake.set_endless_connections(true);
    let mut seen = 0;
    fake.connections(&mut |_| {
        seen += 1;
        seen < 100
    })
    .unwrap();
    assert_eq!(seen, 100);
}

#[test]
fn a_connection_read_pauses_and_goes_on_where_it_stopped() {
    let mut fake = FakeBackend::new();
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/procfs/ip_vs_conn.linux-6.1"
    ));
    fake.load_connections(path).unwrap();
    let mut all: Vec<Connection> = Vec::new();
    fake.connections(&mut |c| {
        all.push(c);
        true
    })
    .unwrap();
    let mut stream = fake.open_connections().unwrap();
    let mut seen: Vec<Connection> = Vec::new();
    let mut take = |n: usize, seen: &mut Vec<Connection>| {
        let mut k = 0;
        stream
            .read(&mut |c| {
                seen.push(c);
                k += 1;
                k < n
            })
            .unwrap()
    };
    assert!(take(4, &mut seen), "rows left after 4");
    assert!(take(4, &mut seen), "rows left after 8");
    assert!(!take(4, &mut seen), "the ninth was the last");
    assert_eq!(seen, all);
    // Endless: the read goes round and never says it is done.
    fake.set_endless_connections(true);
    let mut stream = fake.open_connections().unwrap();
    let mut n = 0;
    assert!(
        stream
            .read(&mut |_| {
                n += 1;
                n < 25
            })
            .unwrap()
    );
    assert_eq!(n, 25);
}

#[test]
fn sysctls_default_to_a_fresh_namespace_and_can_be_replaced() {
    let mut fake = FakeBackend::new();
    let list = fake.sysctls().unwrap();
    assert_eq!(list.len(), 29);
    assert!(list.windows(2).all(|w| w[0].0 < w[1].0));
    fake.set_sysctls(vec![("b".into(), "2".into()), ("a".into(), "1".into())]);
    assert_eq!(fake.sysctls().unwrap()[0].0, "a");
}

#[test]
fn op_number_injection_fails_that_op_only_and_changes_nothing() {
    let mut fake = FakeBackend::new();
    let key = tcp("10.0.0.1", 80);
    fake.fail_op_number(fake.ops_submitted() + 1, libc::ENOMEM);
    let results = fake.apply(&[
        Op::AddService(Service::new(key)),
        Op::AddDest(key, Dest::new(ip("10.0.0.2"), 80)),
        Op::AddDest(key, Dest::new(ip("10.0.0.3"), 80)),
    ]);
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(IpvsError::Kernel {
            op: OpKind::AddDest,
            errno: libc::ENOMEM
        })
    ));
    assert!(results[2].is_ok(), "a failing op does not stop the batch");
    assert_eq!(fake.dests(&key).unwrap().len(), 1);
    assert_eq!(fake.ops_submitted(), 3);
    assert_eq!(fake.writes_applied(), 2);
}

#[test]
fn predicate_injection_fires_once() {
    let (mut fake, key) = with_service();
    fake.fail_next_op_matching(|op| matches!(op, Op::DelDest(..)), libc::EPERM);
    let dk = Dest::new(ip("10.0.0.2"), 80).key();
    assert_eq!(errno(&mut fake, Op::Zero(None)), 0);
    assert_eq!(errno(&mut fake, Op::DelDest(key, dk)), libc::EPERM);
    assert_eq!(fake.dests(&key).unwrap().len(), 1);
    assert_eq!(errno(&mut fake, Op::DelDest(key, dk)), 0);
}

#[test]
fn read_injection_and_clearing() {
    let mut fake = FakeBackend::new();
    fake.fail_next_read(OpKind::GetServices, libc::EPERM);
    assert_eq!(fake.services().unwrap_err().errno(), libc::EPERM);
    assert!(fake.services().is_ok());
    fake.fail_next_read(OpKind::GetInfo, libc::ENOPROTOOPT);
    fake.fail_op_number(fake.ops_submitted(), libc::EIO);
    fake.clear_failures();
    assert!(fake.info().is_ok());
    assert_eq!(errno(&mut fake, Op::Flush), 0);
}

#[test]
fn write_log_counts_only_accepted_writes() {
    let (mut fake, key) = with_service();
    assert_eq!(fake.writes_applied(), 2);
    fake.reset_write_log();
    assert!(fake.apply(&[]).is_empty());
    assert_eq!(fake.writes_applied(), 0, "a no-op apply writes nothing");
    assert_eq!(
        errno(&mut fake, Op::AddService(Service::new(key))),
        libc::EEXIST
    );
    assert_eq!(fake.writes_applied(), 0);
    assert_eq!(errno(&mut fake, Op::Zero(Some(key))), 0);
    assert_eq!(fake.applied_ops(), &[Op::Zero(Some(key))]);
}

#[test]
fn every_read_is_counted_by_method_and_dest_dumps_by_service() {
    use super::super::{ReadCounts, SharedFake};
    let (fake, key) = with_service();
    let other = tcp("10.0.0.9", 80);
    let shared = SharedFake::new(fake);
    let mut backend = shared.clone();
    backend.entries().unwrap();
    backend.service(&key).unwrap();
    backend.dests(&other).unwrap();
    backend.info().unwrap();
    shared.lock().fail_next_read(OpKind::GetTimeouts, libc::EIO);
    assert!(backend.timeouts().is_err(), "a refused read still counts");
    backend.daemons().unwrap();
    backend.connections(&mut |_| true).unwrap();
    backend.global_stats().unwrap();
    backend.sysctls().unwrap();
    let fake = shared.lock();
    assert_eq!(
        fake.reads(),
        ReadCounts {
            info: 1,
            services: 1,
            service: 1,
            dests: 2,
            entries: 1,
            timeouts: 1,
            daemons: 1,
            connections: 1,
            global_stats: 1,
            sysctls: 1,
        }
    );
    assert_eq!(
        (fake.dest_reads_of(&key), fake.dest_reads_of(&other)),
        (1, 1)
    );
    assert_eq!(fake.writes_applied(), 2, "reads are not writes");
}
