//! Which keywords keepalived 2.2.7 (as Debian 12 builds it) knows in each block, and
//! which of them open a block of their own.
//!
//! A keyword missing here is an "unknown keyword" error, as in keepalived; a keyword that
//! belongs to VRRP or BFD, or to the other pass, is known but skipped whole, block
//! included.

/// keepalived reads the file once in each process; each pass knows its own keywords and
/// skips the others' blocks. Only the first two matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pass {
    /// The parent: `global_defs` and the top-level process settings.
    Parent,
    /// The checker: virtual servers, groups, `track_file`, `SSL`.
    Checker,
}

/// The block a line is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ctx {
    Root,
    GlobalDefs,
    Ssl,
    TrackFile,
    VirtualServer,
    RealServer,
    Checker(CheckKind),
    Url,
    SmtpHost,
}

/// The checker blocks of a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    Tcp,
    Http,
    Ssl,
    Misc,
    Smtp,
    Dns,
    Udp,
    Ping,
    File,
    Bfd,
}

impl CheckKind {
    pub fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "TCP_CHECK" => Self::Tcp,
            "HTTP_GET" => Self::Http,
            "SSL_GET" => Self::Ssl,
            "MISC_CHECK" => Self::Misc,
            "SMTP_CHECK" => Self::Smtp,
            "DNS_CHECK" => Self::Dns,
            "UDP_CHECK" => Self::Udp,
            "PING_CHECK" => Self::Ping,
            "FILE_CHECK" => Self::File,
            "BFD_CHECK" => Self::Bfd,
            _ => return None,
        })
    }

    /// Whether the checker takes connect_ip, connect_port, bindto, bind_port, bind_if,
    /// connect_timeout and fwmark.
    pub const fn connects(self) -> bool {
        !matches!(self, Self::Misc | Self::File | Self::Bfd)
    }
}

/// How a known keyword is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    /// False for keywords of keepalived's other parts (VRRP, BFD): skipped whole.
    pub active: bool,
    /// The block it opens.
    pub sub: Option<Ctx>,
}

const LEAF: Keyword = Keyword {
    active: true,
    sub: None,
};

const fn block(ctx: Ctx) -> Keyword {
    Keyword {
        active: true,
        sub: Some(ctx),
    }
}

const SKIPPED: Keyword = Keyword {
    active: false,
    sub: None,
};

/// Top-level keywords of the other parts, skipped with their block.
pub const SKIPPED_ROOTS: &[&str] = &[
    "vrrp_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "vrrp_track_process",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "track_group",
    "garp_group",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "bfd_instance",
];

/// Top-level keywords of the parent process that lvsctl has no use for.
const PARENT_ROOTS: &[&str] = &[
    "linkbeat_use_polling",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "use_pid_dir",
    "instance",
    "child_wait_time",
];

/// `global_defs` keywords lvsctl reads.
pub const GLOBAL_READ: &[&str] = &[
    "router_id",
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_connect_timeout",
    "smtp_helo_name",
    "smtp_alert",
    "smtp_alert_checker",
    "no_checker_emails",
    "checker_log_all_failures",
    "script_user",
    "enable_script_security",
    "lvs_flush",
    "lvs_flush_on_stop",
    "lvs_flush_onstop",
    "lvs_timeouts",
    "include_check",
];

/// `global_defs` keywords keepalived knows and lvsctl ignores (they tune VRRP, the
/// processes, SNMP, D-Bus, nftables or reloading).
const GLOBAL_IGNORED: &[&str] = &[
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "lvs_process_name",
    "bfd_process_name",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "max_auto_priority",
    "min_auto_priority_delay",
    "smtp_alert_vrrp",
    "dynamic_interfaces",
    "no_email_faults",
    "default_interface",
    "disable_local_igmp",
    "lvs_sync_daemon",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_down_timer_adverts",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_garp_extra_if",
    "vrrp_vmac_garp_intvl",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_version",
    "vrrp_iptables",
    "nftables",
    "nftables_priority",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "nftables_counters",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_strict",
    "vrrp_priority",
    "vrrp_no_swap",
    "vrrp_rt_priority",
    "vrrp_cpu_affinity",
    "vrrp_rlimit_rttime",
    "vrrp_rlimit_rtime",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "fifo_write_vrrp_states_on_reload",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "checker_priority",
    "checker_no_swap",
    "checker_rt_priority",
    "checker_cpu_affinity",
    "checker_rlimit_rttime",
    "checker_rlimit_rtime",
    "bfd_priority",
    "bfd_no_swap",
    "bfd_rt_priority",
    "bfd_cpu_affinity",
    "bfd_rlimit_rttime",
    "bfd_rlimit_rtime",
    "snmp_socket",
    "enable_traps",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_checker",
    "enable_dbus",
    "dbus_service_name",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "rs_init_notifies",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "vrrp_startup_delay",
    "log_unknown_vrids",
    "vmac_prefix",
    "vmac_addr_prefix",
    "umask",
    "random_seed",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "config_save_dir",
    "tmp_config_directory",
    "data_use_instance",
];

const VS_KEYWORDS: &[&str] = &[
    "ip_family",
    "retry",
    "delay_before_retry",
    "warmup",
    "connect_timeout",
    "delay_loop",
    "inhibit_on_failure",
    "lb_algo",
    "lvs_sched",
    "hashed",
    "ops",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
    "lb_kind",
    "lvs_method",
    "persistence_engine",
    "persistence_timeout",
    "persistence_granularity",
    "protocol",
    "ha_suspend",
    "smtp_alert",
    "virtualhost",
    "snmp_name",
    "alpha",
    "omega",
    "quorum_up",
    "quorum_down",
    "quorum",
    "hysteresis",
    "weight",
    "sorry_server",
    "sorry_server_inhibit",
    "sorry_server_lvs_method",
];

const RS_KEYWORDS: &[&str] = &[
    "weight",
    "lvs_method",
    "uthreshold",
    "lthreshold",
    "inhibit_on_failure",
    "notify_up",
    "notify_down",
    "alpha",
    "retry",
    "delay_before_retry",
    "warmup",
    "connect_timeout",
    "delay_loop",
    "smtp_alert",
    "virtualhost",
    "snmp_name",
];

/// Every timed checker's keywords.
const CHECKER_COMMON: &[&str] = &[
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "log_all_failures",
];

/// The connection keywords of checkers that connect.
pub const CONNECTION: &[&str] = &[
    "connect_ip",
    "connect_port",
    "bindto",
    "bind_port",
    "bind_if",
    "connect_timeout",
    "fwmark",
];

const URL_KEYWORDS: &[&str] = &[
    "path",
    "digest",
    "status_code",
    "virtualhost",
    "regex",
    "regex_no_match",
    "regex_options",
    "regex_min_offset",
    "regex_max_offset",
    "regex_stack",
];

/// The keyword `word` in block `ctx` during `pass`, None when keepalived does not know
/// it there.
pub fn lookup(pass: Pass, ctx: Ctx, word: &str) -> Option<Keyword> {
    let known = |list: &[&str]| list.contains(&word);
    match ctx {
        Ctx::Root => {
            let parent = pass == Pass::Parent;
            let mine = |k: Keyword| if parent { k } else { SKIPPED };
            let checker = |k: Keyword| if parent { SKIPPED } else { k };
            match word {
                "global_defs" => Some(mine(block(Ctx::GlobalDefs))),
                "virtual_server" => Some(checker(block(Ctx::VirtualServer))),
                "SSL" => Some(checker(block(Ctx::Ssl))),
                "track_file" | "vrrp_track_file" => Some(checker(block(Ctx::TrackFile))),
                "virtual_server_group" => Some(checker(LEAF)),
                _ if known(SKIPPED_ROOTS) => Some(SKIPPED),
                _ if known(PARENT_ROOTS) => Some(mine(LEAF)),
                _ => None,
            }
        }
        Ctx::GlobalDefs => (known(GLOBAL_READ) || known(GLOBAL_IGNORED)).then_some(LEAF),
        Ctx::Ssl => known(&["password", "ca", "certificate", "key"]).then_some(LEAF),
        Ctx::TrackFile => known(&["file", "weight", "init_file"]).then_some(LEAF),
        Ctx::VirtualServer => match word {
            "real_server" => Some(block(Ctx::RealServer)),
            _ => known(VS_KEYWORDS).then_some(LEAF),
        },
        Ctx::RealServer => match CheckKind::from_keyword(word) {
            Some(kind) => Some(block(Ctx::Checker(kind))),
            None => known(RS_KEYWORDS).then_some(LEAF),
        },
        Ctx::Checker(kind) => checker_keyword(kind, word),
        Ctx::Url => known(URL_KEYWORDS).then_some(LEAF),
        Ctx::SmtpHost => (known(CHECKER_COMMON) || known(CONNECTION)).then_some(LEAF),
    }
}

fn checker_keyword(kind: CheckKind, word: &str) -> Option<Keyword> {
    let known = |list: &[&str]| list.contains(&word);
    let specific: &[&str] = match kind {
        CheckKind::Tcp | CheckKind::Ping => &[],
        CheckKind::Http | CheckKind::Ssl => {
            if word == "url" {
                return Some(block(Ctx::Url));
            }
            &[
                "nb_get_retry",
                "virtualhost",
                "http_protocol",
                "enable_sni",
                "fast_recovery",
            ]
        }
        CheckKind::Misc => &["misc_path", "misc_timeout", "misc_dynamic", "user"],
        CheckKind::Smtp => {
            if word == "host" {
                return Some(block(Ctx::SmtpHost));
            }
            &["helo_name"]
        }
        CheckKind::Dns => &["type", "name"],
        CheckKind::Udp => &[
            "payload",
            "require_reply",
            "min_reply_length",
            "max_reply_length",
        ],
        CheckKind::File => return known(&["track_file", "weight"]).then_some(LEAF),
        CheckKind::Bfd => return known(&["name", "alpha"]).then_some(LEAF),
    };
    let common = known(CHECKER_COMMON) || (kind.connects() && known(CONNECTION));
    (common || known(specific)).then_some(LEAF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_leaves_per_context() {
        let c = |ctx, w| lookup(Pass::Checker, ctx, w);
        assert_eq!(
            c(Ctx::Root, "virtual_server").and_then(|k| k.sub),
            Some(Ctx::VirtualServer)
        );
        assert_eq!(
            lookup(Pass::Parent, Ctx::Root, "virtual_server"),
            Some(SKIPPED)
        );
        assert_eq!(c(Ctx::Root, "global_defs"), Some(SKIPPED));
        assert_eq!(c(Ctx::Root, "vrrp_instance"), Some(SKIPPED));
        assert_eq!(c(Ctx::Root, "lb_algo"), None);
        assert_eq!(c(Ctx::GlobalDefs, "vrrp_ipsets"), None);
        assert_eq!(
            c(Ctx::RealServer, "HTTP_GET").and_then(|k| k.sub),
            Some(Ctx::Checker(CheckKind::Http))
        );
        assert_eq!(c(Ctx::Checker(CheckKind::Misc), "connect_port"), None);
        assert_eq!(c(Ctx::Checker(CheckKind::Tcp), "connect_port"), Some(LEAF));
        assert_eq!(c(Ctx::Checker(CheckKind::File), "retry"), None);
        assert_eq!(c(Ctx::RealServer, "lb_kind"), None);
    }
}
