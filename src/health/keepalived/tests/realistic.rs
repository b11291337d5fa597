//! A whole keepalived.conf in the style of keepalived's LVS examples, read to the model
//! the daemon runs (snapshot in `snapshots/`). keepalived 2.2.7's `--config-test` accepts
//! the same file with status 0 (tests/keepalived_config_test.rs runs it).

use super::*;

const TEXT: &str = include_str!("../../../../tests/fixtures/keepalived/good/realistic.conf");

#[test]
fn a_realistic_keepalived_conf_reads_to_the_expected_model() {
    let env = MemEnv::default().script("/bin/true");
    let o = read(FILE, TEXT, &env, &Options::default());
    assert_eq!(o.status, 0, "{:#?}", lines(&o));
    assert_eq!(
        lines(&o),
        [
            "18: `lvs_sync_daemon` is ignored: the connection sync daemon follows VRRP state, which lvsctl leaves to keepalived"
        ]
    );
    let config = o.config.expect("a configuration");
    assert_eq!(config.virtual_servers.len(), 7);
    insta::assert_json_snapshot!(config);
}
