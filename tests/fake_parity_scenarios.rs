//! The fake against the errnos Linux 6.1 answered for the parity scenarios (see
//! `parity/mod.rs`); the same scenarios run against the real kernel in
//! `kernel_fake_parity.rs`.

mod parity;

#[test]
fn fake_answers_every_scenario_like_linux_6_1() {
    let mut fake = parity::fresh_fake();
    for scenario in parity::scenarios() {
        parity::reset(&mut fake);
        let (got, _) = parity::run(&mut fake, &scenario);
        let want: Vec<i32> = scenario.steps.iter().map(|(_, e)| *e).collect();
        for (i, ((op, _), (g, w))) in scenario.steps.iter().zip(got.iter().zip(&want)).enumerate() {
            assert_eq!(g, w, "{}: step {i} {op:?}", scenario.name);
        }
    }
}

#[test]
fn daemon_defaults_on_lo_match_the_kernel_formula() {
    let mut fake = parity::fresh_fake();
    let scenario = parity::scenarios()
        .into_iter()
        .find(|s| s.name == "daemons")
        .expect("daemons scenario");
    let (_, snap) = parity::run(&mut fake, &scenario);
    let maxlens: Vec<_> = snap.daemons.iter().map(|d| d.sync_maxlen).collect();
    // Master: 1000 kept (1..=1472). Backup on lo (MTU 65536 → 65535) with an IPv6 group.
    assert_eq!(maxlens, vec![Some(1000), Some(65535 - 48)]);
}
