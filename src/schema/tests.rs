//! Round trips, the document's stable shape, and errors that name their field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{from_table, to_table};
use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Netmask, Protocol, Scheduler, Service, ServiceEntry,
    ServiceFlags, ServiceKey, Tunnel, TunnelCsum, TunnelType,
};

fn sample() -> Vec<ServiceEntry> {
    let key = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 19)),
        port: 80,
    };
    let mut svc = Service::new(key);
    svc.scheduler = Scheduler::new("sh");
    svc.flags = ServiceFlags(
        ServiceFlags::PERSISTENT | ServiceFlags::ONEPACKET | ServiceFlags::SCHED2 | 0x2,
    );
    svc.timeout = 10;
    svc.netmask = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
    svc.pe_name = Some("sip".to_owned());
    let mut tun = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 5)), 80);
    tun.fwd = ForwardMethod::Tunnel;
    tun.tunnel = Tunnel {
        kind: TunnelType::Gue,
        port: 6080,
        csum: TunnelCsum::RemCsum,
    };
    let mut masq = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)), 8080);
    masq.fwd = ForwardMethod::Masq;
    masq.weight = 0;
    let v6 = Service::new(ServiceKey::Fwmark {
        af: AddressFamily::Inet6,
        mark: 2,
    });
    vec![
        ServiceEntry {
            service: svc,
            dests: vec![tun, masq],
        },
        ServiceEntry {
            service: v6,
            dests: vec![Dest::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0)],
        },
    ]
}

#[test]
fn json_round_trip_keeps_configuration() {
    let entries = sample();
    let text = serde_json::to_string(&to_table(&entries)).unwrap();
    let back = from_table(&serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(back.len(), 2);
    for (a, b) in entries.iter().zip(&back) {
        assert!(a.service.same_config(&b.service), "{a:?} vs {b:?}");
        for (x, y) in a.dests.iter().zip(&b.dests) {
            assert!(x.same_config(y));
        }
    }
}

#[test]
fn json_shape_is_stable() {
    insta::assert_json_snapshot!(to_table(&sample()));
}

#[test]
fn bad_documents_name_the_field() {
    let mut table = to_table(&sample());
    table.services[0].real_servers[1].forward = "nat".to_owned();
    let err = from_table(&table).unwrap_err();
    assert_eq!(err.path, "services[0].real_servers[1].forward");
    let mut table = to_table(&sample());
    table.services[0].sched_flags = vec!["mh-port".to_owned()];
    assert_eq!(
        from_table(&table).unwrap_err().path,
        "services[0].sched_flags"
    );
    let mut table = to_table(&sample());
    table.schema = 7;
    assert_eq!(from_table(&table).unwrap_err().path, "schema");
}
