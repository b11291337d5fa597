//! Captures e3 (`golden/e3_*.txt`): connection listings (`-c`), sync daemons and timeouts.

use super::support::{FakeNames, assert_text, ip, render};
use crate::ipvs::model::{Connection, DaemonRole, SyncDaemon, Timeouts};
use crate::ipvsadm::format::{write_conn_header, write_conn_line, write_daemons, write_timeouts};
use crate::names::{NoNames, Resolver};

/// (proto, client, cport, virtual, vport, dest, dport, state, pe) in proc-file order.
type Row = (
    &'static str,
    &'static str,
    u16,
    &'static str,
    u16,
    &'static str,
    u16,
    &'static str,
    bool,
);

const ROWS: [Row; 10] = [
    (
        "TCP",
        "10.9.9.1",
        56144,
        "10.9.9.100",
        80,
        "10.9.9.2",
        8080,
        "SYN_RECV",
        false,
    ),
    (
        "UDP",
        "2001:db8:9::1",
        37832,
        "2001:db8:9::100",
        53,
        "2001:db8:9::2",
        53,
        "UDP",
        false,
    ),
    (
        "UDP",
        "10.9.9.1",
        0,
        "10.9.9.102",
        5060,
        "10.9.9.5",
        5060,
        "NONE",
        true,
    ),
    (
        "UDP",
        "10.9.9.1",
        48041,
        "10.9.9.100",
        53,
        "10.9.9.3",
        5353,
        "UDP",
        false,
    ),
    (
        "UDP",
        "10.9.9.1",
        58449,
        "10.9.9.100",
        53,
        "10.9.9.3",
        5353,
        "UDP",
        false,
    ),
    (
        "TCP",
        "10.9.9.1",
        0,
        "10.9.9.101",
        0,
        "10.9.9.4",
        0,
        "NONE",
        false,
    ),
    (
        "UDP",
        "10.9.9.1",
        43576,
        "10.9.9.100",
        53,
        "10.9.9.2",
        53,
        "UDP",
        false,
    ),
    (
        "TCP",
        "10.9.9.1",
        45440,
        "10.9.9.101",
        443,
        "10.9.9.4",
        443,
        "SYN_RECV",
        false,
    ),
    (
        "TCP",
        "10.9.9.1",
        56136,
        "10.9.9.100",
        80,
        "10.9.9.2",
        8080,
        "SYN_RECV",
        false,
    ),
    (
        "UDP",
        "10.9.9.1",
        56981,
        "10.9.9.102",
        5060,
        "10.9.9.5",
        5060,
        "UDP",
        false,
    ),
];

/// The expiry column of a captured line, back to seconds (the captures were taken a second
/// apart, so each block has its own timers).
fn expires_of(line: &str) -> u32 {
    let field = line.get(4..10).unwrap_or("").trim();
    let (m, s) = field.split_once(':').expect("mm:ss");
    m.parse::<u32>().expect("minutes") * 60 + s.parse::<u32>().expect("seconds")
}

fn listing(want: &str, persistent: bool, names: &dyn Resolver) -> String {
    render(|out| {
        write_conn_header(out, persistent)?;
        for (row, line) in ROWS.iter().zip(want.lines().skip(2)) {
            let conn = Connection {
                protocol: row.0.to_owned(),
                client_addr: ip(row.1),
                client_port: row.2,
                virtual_addr: ip(row.3),
                virtual_port: row.4,
                dest_addr: ip(row.5),
                dest_port: row.6,
                state: row.7.to_owned(),
                expires: expires_of(line),
                pe_name: row.8.then(|| "sip".to_owned()),
                pe_data: row.8.then(|| "abc123@host".to_owned()),
            };
            write_conn_line(out, &conn, persistent, names)?;
        }
        Ok(())
    })
}

#[test]
fn connection_listings_match_captures() {
    let cases: [(&str, bool, &dyn Resolver); 4] = [
        (include_str!("golden/e3_Lcn.txt"), false, &NoNames),
        (include_str!("golden/e3_Lcn_pc.txt"), true, &NoNames),
        (include_str!("golden/e3_Lc.txt"), false, &FakeNames::vm()),
        (include_str!("golden/e3_Lc_pc.txt"), true, &FakeNames::vm()),
    ];
    for (want, persistent, names) in cases {
        assert_text(&listing(want, persistent, names), want);
    }
}

#[test]
fn expire_minutes_are_unlimited_and_other_protocols_stay_numeric() {
    let conn = Connection {
        protocol: "IP".to_owned(),
        client_addr: ip("10.9.9.1"),
        client_port: 80,
        virtual_addr: ip("10.9.9.100"),
        virtual_port: 80,
        dest_addr: ip("10.9.9.2"),
        dest_port: 8080,
        state: "NONE".to_owned(),
        expires: 2_678_400,
        pe_name: Some("sip".to_owned()),
        pe_data: None,
    };
    let out = render(|out| write_conn_line(out, &conn, true, &FakeNames::vm()));
    assert_eq!(
        out,
        "IP  44640:00 NONE        10.9.9.1:80        10.9.9.100:80      10.9.9.2:8080\n"
    );
}

#[test]
fn daemon_lines() {
    let master = SyncDaemon {
        sync_maxlen: Some(1472),
        mcast_group: Some(ip("224.0.0.81")),
        mcast_port: Some(8848),
        mcast_ttl: Some(1),
        ..SyncDaemon::new(DaemonRole::Master, "eth0", 0)
    };
    let backup = SyncDaemon {
        sync_maxlen: Some(1024),
        mcast_group: Some(ip("239.1.2.3")),
        mcast_port: Some(9000),
        mcast_ttl: Some(5),
        ..SyncDaemon::new(DaemonRole::Backup, "eth0", 7)
    };
    let backup6 = SyncDaemon {
        sync_maxlen: Some(1452),
        mcast_group: Some(ip("ff02::1234")),
        mcast_port: Some(8848),
        mcast_ttl: Some(1),
        ..SyncDaemon::new(DaemonRole::Backup, "eth0", 0)
    };
    assert_eq!(
        render(|out| write_daemons(out, &[master, backup])),
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
         backup sync daemon (mcast=eth0, syncid=7, maxlen=1024, group=239.1.2.3, port=9000, ttl=5)\n"
    );
    assert_eq!(
        render(|out| write_daemons(out, &[backup6])),
        "backup sync daemon (mcast=eth0, syncid=0, maxlen=1452, group=ff02::1234, port=8848, ttl=1)\n"
    );
    // Attributes an old kernel does not report are left out; no role bit, no line.
    let bare = SyncDaemon::new(DaemonRole::Master, "lo", 3);
    let mut idle = SyncDaemon::new(DaemonRole::Master, "lo", 3);
    idle.state = 0;
    assert_eq!(
        render(|out| write_daemons(out, &[bare, idle])),
        "master sync daemon (mcast=lo, syncid=3)\n"
    );
    assert_eq!(render(|out| write_daemons(out, &[])), "");
}

#[test]
fn timeout_line() {
    let t = |tcp, tcp_fin, udp| Timeouts { tcp, tcp_fin, udp };
    assert_eq!(
        render(|out| write_timeouts(out, &t(900, 120, 300))),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    assert_eq!(
        render(|out| write_timeouts(out, &t(2_678_400, 2_678_400, 2_678_400))),
        "Timeout (tcp tcpfin udp): 2678400 2678400 2678400\n"
    );
}
