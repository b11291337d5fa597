//! `smtp_alert` mapped as keepalived 2.2.7 mails (mail.rs).

use std::time::Duration;

use super::tests::refused;
use super::*;
use crate::health::config::{CheckerTexts, KeepalivedMail};
use crate::health::keepalived::tests::clean;

/// keepalived's sample: a relay, recipients and a sender in global_defs, and no
/// smtp_alert anywhere: each real's alerts are on by default, the virtual's off.
const SAMPLE: &str = "\
global_defs {
   notification_email {
     acassen@firewall.loc
     failover@firewall.loc
   }
   notification_email_from Alexandre.Cassen@firewall.loc
   smtp_server 192.168.200.1
   smtp_connect_timeout 30
   router_id LVS_DEVEL
}
virtual_server 192.168.200.100 443 {
    delay_loop 6
    lb_algo rr
    lb_kind NAT
    persistence_timeout 50
    protocol TCP
    real_server 192.168.201.100 443 {
        weight 1
        SSL_GET {
            url {
              path /
              digest ff20ad2481f97b1754ef3e12ecd3a9cc
            }
            connect_timeout 3
            retry 3
            delay_before_retry 3
        }
    }
}
virtual_server 10.10.10.2 1358 {
    delay_loop 6
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.168.200.2 1358 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
";

#[test]
fn keepalived_s_sample_with_mail_settings_runs_and_mails_every_real_s_checker() {
    let config = to_daemon(&clean(SAMPLE)).expect("runs");
    assert_eq!(
        config.globals.keepalived_mail,
        Some(KeepalivedMail {
            server: "192.168.200.1:25".parse().unwrap(),
            helo: "director1.example.com".into(),
            from: "Alexandre.Cassen@firewall.loc".into(),
            to: vec![
                "acassen@firewall.loc".into(),
                "failover@firewall.loc".into()
            ],
            timeout: Duration::from_secs(30),
            router_id: "LVS_DEVEL".into(),
        })
    );
    let ssl = config.virtuals[0].keepalived.as_ref().unwrap();
    let alerts = ssl.alerts.as_ref().expect("alerts");
    assert_eq!(alerts.name, "[192.168.200.100]:tcp:443");
    assert!(
        !alerts.quorum,
        "a virtual server's smtp_alert is off by default"
    );
    assert_eq!(alerts.reals.len(), 1);
    assert_eq!(alerts.reals[0].name, "[192.168.201.100]:tcp:443");
    assert_eq!(
        alerts.reals[0].texts,
        vec![Some(CheckerTexts {
            up: "=> CHECK succeed on service <=",
            down: "=> CHECK failed on service : HTTP request failed <=",
        })]
    );
    let tcp = config.virtuals[1].keepalived.as_ref().unwrap();
    assert_eq!(
        tcp.alerts.as_ref().unwrap().reals[0].texts,
        vec![Some(CheckerTexts {
            up: "=> TCP CHECK succeed on service <=",
            down: "=> TCP CHECK failed on service <=",
        })]
    );
}

#[test]
fn without_recipients_or_relay_nothing_mails_and_nothing_is_refused() {
    let no_relay = SAMPLE.replace("   smtp_server 192.168.200.1\n", "");
    let config = to_daemon(&clean(&no_relay)).expect("runs");
    assert_eq!(config.globals.keepalived_mail, None);
    assert!(
        config
            .virtuals
            .iter()
            .all(|v| v.keepalived.as_ref().unwrap().alerts.is_none())
    );
}

#[test]
fn smtp_alert_checker_wins_and_turns_the_virtual_s_mails_on_too() {
    let text = SAMPLE.replace(
        "   router_id LVS_DEVEL\n",
        "   router_id LVS_DEVEL\n   smtp_alert off\n   smtp_alert_checker on\n",
    );
    let config = to_daemon(&clean(&text)).expect("runs");
    let alerts = config.virtuals[1]
        .keepalived
        .as_ref()
        .unwrap()
        .alerts
        .clone();
    let alerts = alerts.expect("alerts");
    assert!(alerts.quorum);
    assert_eq!(alerts.reals.len(), 1);
}

#[test]
fn a_real_s_smtp_alert_off_sends_nothing_for_it() {
    let text = SAMPLE.replace(
        "        TCP_CHECK {\n",
        "        smtp_alert off\n        TCP_CHECK {\n",
    );
    let config = to_daemon(&clean(&text)).expect("runs");
    assert_eq!(config.virtuals[1].keepalived.as_ref().unwrap().alerts, None);
}

#[test]
fn misc_and_smtp_check_omega_fwmark_and_group_mails_stay_refused() {
    let text = "\
global_defs {
   notification_email {
     ops@example.org
   }
   smtp_server 192.0.2.25 2525
}
virtual_server fwmark 7 {
    lb_algo rr
    lb_kind DR
    real_server 10.0.0.1 80 {
        TCP_CHECK {
        }
    }
}
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    omega
    real_server 10.0.0.2 80 {
        SMTP_CHECK {
        }
    }
}
";
    assert_eq!(
        refused(text),
        vec![
            "7: smtp_alert on a virtual_server fwmark is not supported by lvsctl health yet",
            "15: smtp_alert with omega (keepalived's mails at stop) is not supported by lvsctl health yet",
            "20: smtp_alert on a real server with SMTP_CHECK (its mails name the script's exit or the failed step) is not supported by lvsctl health yet",
        ]
    );
}
