//! The demo's simulated director: traffic follows the weights, the failing real server is
//! quiesced and comes back, and actions change the demo's table.

use std::time::Duration;

use super::*;
use crate::tui::health::{HealthSource, HealthState};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn dest_of(sim: &mut Sim, key: ServiceKey, addr: &str) -> Dest {
    sim.fake
        .dests(&key)
        .unwrap()
        .into_iter()
        .find(|d| d.addr == ip(addr))
        .unwrap()
}

#[test]
fn the_demo_table_loads_whole_and_starts_with_a_minute_of_traffic() {
    let mut sim = Sim::new(table());
    let listed = sim.fake.entries().unwrap();
    assert_eq!(listed.len(), entries().len());
    assert!(listed.iter().all(|e| !e.dests.is_empty()));
    assert!(
        listed.iter().all(|e| e.service.stats.conns > 0),
        "{listed:?}"
    );
    let mut rows = 0;
    sim.fake
        .connections(&mut |_| {
            rows += 1;
            true
        })
        .unwrap();
    assert!(rows > 100, "{rows} live connections");
    assert!(sim.fake.global_stats().unwrap().stats.conns > 0);
}

#[test]
fn new_connections_follow_the_weights_a_weight_change_included() {
    let mut sim = Sim::new(table());
    let web = tcp("192.0.2.10", 80);
    sim.advance(secs(61));
    let conns = |sim: &mut Sim, addr| dest_of(sim, web, addr).stats.conns;
    let (a0, c0) = (conns(&mut sim, "10.0.1.1"), conns(&mut sim, "10.0.1.2"));
    // Drain 10.0.1.2 as a user would with `d`: it gets nothing new.
    let mut d = dest_of(&mut sim, web, "10.0.1.2");
    d.weight = 0;
    assert!(sim.apply(&[Op::EditDest(web, d)])[0].is_ok());
    sim.advance(secs(81));
    assert_eq!(conns(&mut sim, "10.0.1.2"), c0);
    assert!(conns(&mut sim, "10.0.1.1") > a0 + 100);
}

#[test]
fn the_failing_real_server_is_quiesced_and_gets_its_weight_back() {
    let shared = Shared::new(Sim::new(table()));
    let (key, dest) = failing();
    let weight = |shared: &Shared| {
        let mut sim = shared.0.lock().unwrap();
        dest_of(&mut sim, key, &dest.addr.to_string()).weight
    };
    // Simulated time starts at 60 s: up.
    assert_eq!(weight(&shared), 3);
    shared.0.lock().unwrap().advance(secs(60 + 25));
    assert_eq!(weight(&shared), 0);
    let mut health = DemoHealth(shared.clone());
    let status = health.statuses().remove(&(key, dest)).unwrap();
    assert_eq!(status.state, HealthState::Quiesced);
    shared.0.lock().unwrap().advance(secs(60 + 40));
    assert_eq!(weight(&shared), 3);
    let status = health.statuses().remove(&(key, dest)).unwrap();
    assert_eq!(status.state, HealthState::Up);
}

#[test]
fn zeroing_zeroes_the_simulators_counters_too() {
    let mut sim = Sim::new(table());
    assert!(sim.apply(&[Op::Zero(None)])[0].is_ok());
    sim.advance(secs(61));
    let web = sim.fake.service(&tcp("192.0.2.10", 80)).unwrap();
    assert!(web.stats.conns < 100, "{:?}", web.stats);
}
