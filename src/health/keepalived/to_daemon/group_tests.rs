//! `virtual_server group`: one virtual service of the daemon for the group, its member
//! services in keepalived's order, and what stays refused.

use super::*;
use crate::health::desired::{dest_in, fallback_in, service_keys};
use crate::health::keepalived::tests::{FILE, outcome};
use crate::ipvs::model::{AddressFamily, Protocol};

/// The mapping of a file keepalived runs (its warnings, e.g. a DR port ignored for a
/// firewall mark, are allowed).
fn mapping(text: &str) -> Result<Config, Vec<String>> {
    let config = outcome(text).config.expect("a configuration");
    to_daemon(&config).map_err(|rs| {
        rs.iter()
            .map(|r| r.to_string().replacen(&format!("{FILE}:"), "", 1))
            .collect()
    })
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: addr.parse().unwrap(),
        port,
    }
}

const FWM7: ServiceKey = ServiceKey::Fwmark {
    af: AddressFamily::Inet,
    mark: 7,
};

const GROUP: &str = "\
virtual_server_group WEB {
    fwmark 7
    192.0.2.20-21 80
    192.0.2.30 8080
}
virtual_server group WEB {
    delay_loop 3
    lb_algo wrr
    lb_kind DR
    protocol TCP
    quorum 2
    sorry_server 10.0.0.9 80
    real_server 10.0.0.1 80 {
        weight 2
        inhibit_on_failure
        TCP_CHECK {
        }
    }
    real_server 10.0.0.2 8080 {
        lvs_method NAT
        inhibit_on_failure
        TCP_CHECK {
        }
    }
}
";

#[test]
fn a_group_is_one_virtual_whose_services_are_its_entries_in_keepalived_s_order() {
    let c = mapping(GROUP).expect("runs");
    assert_eq!(c.virtuals.len(), 1, "one checked unit for the group");
    let v = &c.virtuals[0];
    // Address entries (each address of a range) first, then the firewall marks.
    let members = [
        tcp("192.0.2.20", 80),
        tcp("192.0.2.21", 80),
        tcp("192.0.2.30", 8080),
        FWM7,
    ];
    assert_eq!(service_keys(v), members);
    assert_eq!(v.key, members[0]);
    assert_eq!(v.reals.len(), 2, "one check per real for the whole group");
    let k = v.keepalived.as_ref().unwrap();
    assert_eq!(k.quorum, 2);
    // keepalived's ipvs_group_cmd ports: DR takes the member's port (0 for a mark), NAT
    // keeps the real's.
    let ports = |r: usize| -> Vec<u16> {
        members
            .iter()
            .map(|&m| dest_in(v, m, &v.reals[r]).port)
            .collect()
    };
    assert_eq!(ports(0), [80, 80, 8080, 0]);
    assert_eq!(ports(1), [8080, 8080, 8080, 8080]);
    let f = v.fallback.as_ref().expect("the sorry server");
    let sorry: Vec<u16> = members.iter().map(|&m| fallback_in(v, m, f).port).collect();
    assert_eq!(sorry, [80, 80, 8080, 0]);
}

#[test]
fn a_plain_virtual_server_keeps_its_one_service() {
    let c = mapping(
        "virtual_server 192.0.2.10 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.1 80 {\n    }\n}\n",
    )
    .expect("runs");
    assert_eq!(service_keys(&c.virtuals[0]), [tcp("192.0.2.10", 80)]);
}

#[test]
fn what_a_group_cannot_do_as_keepalived_does_is_refused_with_its_line() {
    // Two virtual servers of one protocol on one group share its services (keepalived
    // counts their live reals together); so does a group entry that is a virtual server
    // of its own. Under another protocol the services differ, and that runs.
    let shared = "\
virtual_server_group G {
    192.0.2.20-21 80
}
virtual_server 192.0.2.21 80 {
    lb_kind DR
    protocol TCP
    real_server 10.0.0.1 80 {
    }
}
virtual_server group G {
    lb_kind DR
    protocol TCP
    real_server 10.0.0.1 80 {
    }
}
virtual_server group G {
    lb_kind DR
    protocol UDP
    real_server 10.0.0.1 80 {
    }
}
";
    assert_eq!(
        mapping(shared).unwrap_err(),
        [
            "10: a virtual_server group sharing the service TCP 192.0.2.21:80 with another virtual_server is not supported by lvsctl health yet"
        ]
    );
    let huge = "\
virtual_server_group G {
    10.0.0.0/15 80
}
virtual_server group G {
    lb_kind DR
    protocol TCP
    persistence_timeout 60
    real_server 10.1.0.1 80 {
    }
}
";
    assert_eq!(
        mapping(huge).unwrap_err(),
        [
            "4: virtual_server group G with a range of more than 65536 addresses is not supported by lvsctl health yet"
        ]
    );
}

#[test]
fn nftables_ipvs_is_refused_beside_a_group_without_a_mark_only() {
    let nft = "global_defs {\n    nftables_ipvs\n}\n";
    let plain = "virtual_server 192.0.2.10 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.1 80 {\n    }\n}\n";
    assert!(mapping(&format!("{nft}{plain}")).is_ok());
    let group = "virtual_server_group G {\n    192.0.2.20 80\n}\nvirtual_server group G {\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.1 80 {\n    }\n}\n";
    assert_eq!(
        mapping(&format!("{nft}{group}")).unwrap_err(),
        [
            "2: nftables_ipvs with a virtual_server group without fwmark is not supported by lvsctl health yet"
        ]
    );
    // keepalived makes no nftables mark of its own for a group with a mark.
    let marked = group.replace("192.0.2.20 80\n", "192.0.2.20 80\n    fwmark 3\n");
    assert_ne!(marked, group);
    assert!(mapping(&format!("{nft}{marked}")).is_ok());
}
