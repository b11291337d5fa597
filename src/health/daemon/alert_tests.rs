use super::*;
use crate::health::config::{StaticEnv, parse_config};

const CF: &str = "emailalert=ops@example.org\nemailalertfrom=lvs@example.org\n\
virtual=10.0.0.1:80\n\treal=10.1.0.1:80 masq\n\tservicename=web\n\tcomment=front page\n\
\temailalertfreq=60\n\
virtual=10.0.0.2:80\n\treal=10.1.0.2:80 masq\n\temailalert=\"a@x, b@y\"\n\temailalertstatus=running\n\
virtual=10.0.0.3:25\n\treal=10.1.0.3:25 masq\n\temailalertstatus=none\n\tsmtp=mail.example\n";

fn alerts() -> Alerts {
    let cfg = parse_config("t.cf", CF, &StaticEnv::with_common_services())
        .unwrap()
        .0;
    Alerts::new(&cfg, "director")
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn kernel_lines_map_to_ldirectords_subjects() {
    let c = classify("Deleted real server: 10.1.0.1:80 (10.0.0.1:80)").unwrap();
    assert_eq!(
        c,
        Change {
            subject: "Deleted real server: 10.1.0.1:80 (10.0.0.1:80)".into(),
            id: "10.1.0.1:80 (10.0.0.1:80)".into(),
            label: "10.0.0.1:80".into(),
            down: true,
        }
    );
    let q = classify(
        "Readd Quiescent real server: [2001:db8::1]:80 ([2001:db8::10]:80) (Weight set to 0)",
    )
    .unwrap();
    assert_eq!(
        q.subject,
        "Quiescent real server: [2001:db8::1]:80 ([2001:db8::10]:80) (Weight set to 0)"
    );
    assert_eq!(q.label, "[2001:db8::10]:80");
    assert!(q.down);
    let r = classify("Restored real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 3)").unwrap();
    assert!(!r.down);
    assert!(
        !classify("Deleted fallback server: 10.1.0.9:80 (10.0.0.1:80)")
            .unwrap()
            .down
    );
    let m = classify("Deleted real server: 10.1.0.1:80 mapped from 10.1.0.1:8080 (10.0.0.1:80)")
        .unwrap();
    assert_eq!(m.id, "10.1.0.1:8080 (10.0.0.1:80)");
    assert_eq!(
        m.subject,
        "Deleted real server: 10.1.0.1:80 mapped from 10.1.0.1:8080 (10.0.0.1:80)"
    );
    assert!(
        !classify("Restored fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)")
            .unwrap()
            .down
    );
    assert!(classify("Added virtual server: 10.0.0.1:80").is_none());
    assert!(classify("Purged virtual server (stop): 10.0.0.1:80").is_none());
    assert!(classify("Soft failure real server: 10.1.0.1:80 (10.0.0.1:80) failure 1/3").is_none());
}

#[test]
fn mail_has_ldirectords_subject_and_body() {
    let mut a = alerts();
    let c = classify("Deleted real server: 10.1.0.1:80 (10.0.0.1:80)").unwrap();
    let m = a.change(&c, DaemonStatus::Running, at(0)).unwrap();
    assert_eq!(
        m,
        Mail {
            log: "emailalert: Deleted real server: 10.1.0.1:80 (10.0.0.1:80)".into(),
            to: "ops@example.org".into(),
            from: Some("lvs@example.org".into()),
            subject: "[web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)".into(),
            body: "ldirectord host: director\n\
                   Log-Message: [web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\n\
                   Daemon-Status: running\n\
                   \nService name: web\nComment: front page\n\n"
                .into(),
            smtp: None,
        }
    );
    let other = classify("Added real server: 10.1.0.2:80 (10.0.0.2:80) (Weight set to 1)").unwrap();
    let m = a.change(&other, DaemonStatus::Running, at(0)).unwrap();
    assert_eq!(m.to, "a@x, b@y");
    assert_eq!(
        m.body,
        "ldirectord host: director\nLog-Message: Added real server: 10.1.0.2:80 (10.0.0.2:80) (Weight set to 1)\nDaemon-Status: running\n"
    );
}

#[test]
fn emailalertstatus_filters_by_daemon_state() {
    let mut a = alerts();
    let c = classify("Added real server: 10.1.0.2:80 (10.0.0.2:80) (Weight set to 1)").unwrap();
    assert!(a.change(&c, DaemonStatus::Starting, at(0)).is_none());
    assert!(a.change(&c, DaemonStatus::Reloading, at(0)).is_none());
    assert!(a.change(&c, DaemonStatus::Running, at(0)).is_some());
    let none = classify("Deleted real server: 10.1.0.3:25 (10.0.0.3:25)").unwrap();
    assert!(a.change(&none, DaemonStatus::Running, at(0)).is_none());
    // Unknown virtual (left the config at a reload): the global settings apply.
    let gone = classify("Deleted real server: 10.1.0.7:80 (10.0.0.7:80)").unwrap();
    let m = a.change(&gone, DaemonStatus::Stopping, at(0)).unwrap();
    assert_eq!(
        (m.to.as_str(), m.smtp.as_deref()),
        ("ops@example.org", None)
    );
}

#[test]
fn reminders_repeat_every_emailalertfreq_until_the_server_is_back() {
    let mut a = alerts();
    let down = classify("Deleted real server: 10.1.0.1:80 (10.0.0.1:80)").unwrap();
    a.change(&down, DaemonStatus::Running, at(100));
    assert!(a.reminders(DaemonStatus::Running, at(159)).is_empty());
    let due = a.reminders(DaemonStatus::Running, at(160));
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].subject,
        "[web] Inaccessible real server: 10.1.0.1:80 (10.0.0.1:80)"
    );
    assert_eq!(
        due[0].log,
        "emailalert: Inaccessible real server: 10.1.0.1:80 (10.0.0.1:80)"
    );
    assert!(a.reminders(DaemonStatus::Running, at(219)).is_empty());
    assert_eq!(a.reminders(DaemonStatus::Running, at(220)).len(), 1);
    let back = classify("Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)").unwrap();
    a.change(&back, DaemonStatus::Running, at(230));
    assert!(a.reminders(DaemonStatus::Running, at(1000)).is_empty());
    // emailalertfreq=0 (the default): no reminders at all.
    let other = classify("Deleted real server: 10.1.0.2:80 (10.0.0.2:80)").unwrap();
    a.change(&other, DaemonStatus::Running, at(0));
    assert!(a.reminders(DaemonStatus::Running, at(100_000)).is_empty());
}
