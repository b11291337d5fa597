//! The man page of `lvsctl health`. Its arguments are ldirectord's, parsed by hand rather
//! than by clap, so clap cannot describe them; the `--help` text stays a terminal screen
//! and this is where an operator replacing ldirectord looks up commands, exit codes, what
//! differs and how checks treat the real servers. The synopsis and the lists of commands
//! and options come from the command-line table (`health::cli::table`), the prose is here.

use crate::health::cli::table::{OPTIONS, Synopsis, command_entries};

/// One paragraph of a section, or a list made from the command-line table.
#[derive(Debug, Clone, Copy)]
pub enum Block {
    Text(&'static str),
    /// A term and its description (an indented list entry).
    Item(&'static str, &'static str),
    /// The forms of the command line, a paragraph each.
    Usage,
    /// Every command word with its description.
    Commands,
    /// Every option that is not internal: ldirectord's, then lvsctl's.
    Options,
}

use Block::{Commands, Item, Options, Text, Usage};

/// The sections after NAME, in order.
pub const SECTIONS: &[(&str, &[Block])] = &[
    (
        "SYNOPSIS",
        &[
            Usage,
            Text("ldirectord [-d] [CONFIG] COMMAND (the same binary under that name)"),
        ],
    ),
    (
        "DESCRIPTION",
        &[
            Text(
                "Checks the real servers named in an ldirectord.cf and keeps the kernel's \
                 IPVS table in line with the results, taking ldirectord's command line, \
                 configuration, log texts, pid file and exit codes. CONFIG is looked up as \
                 ldirectord does: /etc/ha.d/CONFIG, /etc/ha.d/conf/CONFIG, then CONFIG itself \
                 (default ldirectord.cf).",
            ),
            Text(
                "A new real server enters the kernel only after its first passing check, so \
                 a start or reload never gives an unchecked server full weight. A failed real \
                 is removed, or set to weight 0 with quiescent=yes. All kernel changes of one \
                 cycle go out as one batch, and only the virtual services the file declares \
                 are touched; drift on them (a real deleted by hand) is repaired on the next \
                 cycle.",
            ),
        ],
    ),
    (
        "COMMANDS",
        &[
            Commands,
            Text(
                "A command line ldirectord would not take (an unknown command or option, or \
                 none) prints the usage and exits 255, as ldirectord does.",
            ),
        ],
    ),
    ("OPTIONS", &[Options]),
    (
        "CHECKS",
        &[
            Text(
                "Every check runs on its own task under a hard deadline (checktimeout, or \
                 negotiatetimeout for negotiate checks), so a black-holed real delays no \
                 other check. checktype may be connect, ping (ICMP and ICMPv6; a connect \
                 check on a UDP virtual pings, as in ldirectord), external and external-perl \
                 (ldirectord's arguments; whatever way the check ends, the command's whole \
                 process group is killed), on, \
                 off, a number (combined) or negotiate. negotiate speaks http, https, \
                 http_proxy, smtp, pop, pops, imap, imaps, ftp, nntp, dns, ldap, ldaps, \
                 mysql, pgsql, radius, sip and simpletcp (over TCP or UDP) itself; oracle is \
                 refused with a check-config warning. TLS is never verified, as in \
                 ldirectord. pgsql uses TLS when the server offers it (libpq's \
                 sslmode=prefer); mysql logs in over plain TCP and opens a TLS connection \
                 only when MySQL 8's caching_sha2_password asks for full authentication \
                 (after a server restart).",
            ),
            Text(
                "A check this machine could not make (no file descriptors, buffers, memory \
                 or local ports; an external command that cannot be started for lack of \
                 them) is a local fault, not a failure: the real server keeps its state. \
                 Every read is bounded (a line 64 KiB, an HTTP head 64 KiB, a body 1 MiB), \
                 so a real server that never ends a line or streams headers is down, not a \
                 cost to the daemon. An http check reads the body only when receive= is set.",
            ),
            Text(
                "Redirects: by default an http check follows a redirect only when the next \
                 request goes to the same address and port as the first (redirects=same-real); \
                 otherwise the check is down, saying the redirect leaves the real server. \
                 redirects=any follows any host, as ldirectord does; redirects=none follows \
                 nothing. A URL or Location with a control character is never followed.",
            ),
            Text(
                "Cleartext passwords: when a mysql server asks for the password itself \
                 (caching_sha2_password full authentication, over TLS that is never verified, \
                 or mysql_clear_password) or a PostgreSQL server asks for a cleartext \
                 password, the check sends it only with cleartext_passwords=yes. Otherwise \
                 nothing is sent and the real server is down with the reason \
                 (\"server asked for a cleartext password; not sent (cleartext_passwords=no)\"): \
                 the server demands what the operator did not allow, so the check cannot pass.",
            ),
            Text(
                "A connect check, and an http or https check as soon as the response is \
                 complete by its framing, close the connection with a TCP reset instead of a \
                 FIN: the verdict needs nothing more from the server, the director keeps no \
                 TIME_WAIT socket per check, and a deadline leaves no orphaned socket \
                 retransmitting to a dead real. A real server may log these as connections \
                 reset by the peer.",
            ),
        ],
    ),
    (
        "EXTENSIONS",
        &[
            Text("check-config warns about these, since ldirectord rejects them:"),
            Item(
                "rise=N",
                "Global or per virtual: passing checks in a row before a failed real returns \
                 (default 1, ldirectord's only behaviour).",
            ),
            Item("protocol=sctp", "SCTP virtual services."),
            Item(
                "redirects=same-real|any|none",
                "Global or per virtual: which HTTP redirects checks follow (default \
                 same-real: only to the same address and port; any: ldirectord's behaviour).",
            ),
            Item(
                "cleartext_passwords=yes|no",
                "Global or per virtual: whether mysql and pgsql checks send the password in \
                 clear when the server asks for it (default no: the real is down instead).",
            ),
        ],
    ),
    (
        "STATUS AND METRICS",
        &[
            Text(
                "The status socket (mode 0600 in a 0700 directory) answers one JSON \
                 document per connection: per virtual and per real the state, kernel and \
                 configured weight, consecutive passes and failures, and the time, duration \
                 and reason of the last check. status prints it as a table; lvsctl top shows \
                 it beside the kernel's table. Reasons quote real servers, so they are \
                 escaped (control characters as \\n, \\r, \\t, \\xNN) and cut at 512 bytes \
                 everywhere they appear.",
            ),
            Text(
                "The metrics are lvsctl_health_real_up, lvsctl_health_real_kernel_weight, \
                 lvsctl_health_real_consecutive_failures, \
                 lvsctl_health_check_duration_seconds and \
                 lvsctl_health_virtual_fallback_active.",
            ),
            Text(
                "Trouble on this machine is counted and shown: a real whose last check could \
                 not be made (a local fault) has the reason \"not checked: ...\", and the \
                 log says \"Real server not checked\" at the first of a run of them and \
                 \"Real server checked again\" after it; lvsctl_health_checks_not_checked_total \
                 (label reason: descriptors, memory, local_ports, processes, panic, other), \
                 lvsctl_health_panics_total (label task: check or ipvs; a check task or the \
                 IPVS thread that panicked is started again), \
                 lvsctl_health_api_accept_errors_total and \
                 lvsctl_health_api_clients_closed_total. Each status or metrics client is \
                 served on its own with a 2 s deadline per read and write, at most 64 at \
                 once per listener (a new one closes the oldest). --socket PATH makes only \
                 missing directories 0700 and removes only a stale socket at PATH.",
            ),
        ],
    ),
    (
        "LOGGING",
        &[Text(
            "As ldirectord, with its message texts: logfile=\"/path\" (default \
             /var/log/ldirectord.log), or logfile=\"local0\" (any syslog facility) through \
             /dev/log with the ident ldirectord[pid] when run as ldirectord, lvsctl[pid] \
             otherwise; supervised=yes logs to stdout. Times are local time. monitorfile=, \
             emailalert= and callback= work as in ldirectord.",
        )],
    ),
    (
        "KEEPALIVED",
        &[
            Text(
                "--keepalived FILE runs the daemon of a keepalived.conf's LVS part instead: \
                 start, stop, restart, reload and status as above, check-config with \
                 keepalived's own diagnostics and --config-test status, then every setting \
                 lvsctl cannot yet run as keepalived 2.2.7 does, as FILE:LINE: ... is not \
                 supported by lvsctl health yet (exit 1 when keepalived itself would exit 0; \
                 start exits 2). Nothing is approximated: such a file does not run.",
            ),
            Text(
                "What runs: virtual_server by address and port or fwmark and \
                 virtual_server_group; lb_algo, lb_kind (NAT, DR, plain IPIP), persistence, \
                 ops and scheduler flags; real weights and thresholds; every checker but \
                 BFD_CHECK (TCP_CHECK, HTTP_GET and SSL_GET with path, digest, status_code, \
                 virtualhost and a literal regex, MISC_CHECK with misc_dynamic, SMTP_CHECK, \
                 DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK with track_file), several per \
                 real (in service only while all pass), with connect_ip, connect_port, \
                 bindto, bind_port, bind_if, fwmark, connect_timeout, retry, delay_before_retry, warmup and \
                 delay_loop; inhibit_on_failure, alpha, omega, quorum with hysteresis and \
                 the sorry server, notify_up/notify_down and the quorum scripts with \
                 keepalived's arguments; smtp_alert mails, sent as keepalived sends them; \
                 the SSL block's client certificate; lvs_flush, \
                 lvs_flush_onstop and lvs_timeouts. What is still refused (a regex that is \
                 not a literal, an encrypted SSL key, ha_suspend, notify fifos, \
                 GUE/GRE tunnels and a few combinations) is listed with its reason in \
                 docs/keepalived-compat.md.",
            ),
            Text(
                "NAME is FILE's last component (no /etc/ha.d search): the pid file, status \
                 socket and log lines use it as for an ldirectord.cf. The log lines are \
                 lvsctl's (ldirectord's texts), written to syslog with facility daemon as \
                 keepalived's are.",
            ),
        ],
    ),
    (
        "PIRANHA",
        &[
            Text(
                "--piranha FILE runs the daemon of Piranha's lvs.cf (its virtual and server \
                 blocks, checked as nanny checked them; pulse's failover settings are listed \
                 as ignored by check-config) with the same commands, NAME, pid file, status \
                 socket and exits as --keepalived. check-config prints the reader's errors \
                 and warnings, the ignored keys and a summary, then anything lvsctl cannot \
                 run (exit 2 on errors, 1 on refusals, else 0).",
            ),
            Text(
                "Every keepalive seconds (6 by default) each active real of each active \
                 virtual is checked: a connection to it at the virtual's port, send, and a \
                 reply that contains expect (or matches it with use_regex = 1), all within \
                 timeout; over UDP one datagram and a reply; or send_program run through \
                 /bin/sh -c with %h replaced by the real's address, its output checked \
                 against expect (else its exit status). One failed check removes the real; \
                 it comes back at the first passing check at least reentry seconds after the \
                 first pass that followed its last failure. quiesce_server = 1 zeroes the \
                 virtual service's counters (as ipvsadm -Z does) in the cycle that adds one \
                 of its reals. docs/piranha.md states every key.",
            ),
        ],
    ),
    (
        "FILES",
        &[
            Item(
                "/etc/ha.d/ldirectord.cf",
                "The default configuration (see CONFIG above).",
            ),
            Item("/var/run/ldirectord.NAME.pid", "The pid file."),
            Item("/run/lvsctl/health.NAME.sock", "The status socket."),
            Item(
                "contrib/lvsctl-health.service",
                "In the source tree: a systemd unit (Type=notify).",
            ),
        ],
    ),
];

/// The sections as roff, for the man page.
pub fn roff() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (title, blocks) in SECTIONS {
        let _ = writeln!(out, ".SH {title}");
        for block in *blocks {
            for (term, text) in paragraphs(*block) {
                let _ = match term {
                    None => writeln!(out, ".PP\n{}", escape(&text)),
                    Some(term) => {
                        writeln!(out, ".TP\n\\fB{}\\fR\n{}", escape(&term), escape(&text))
                    }
                };
            }
        }
    }
    out
}

/// `block` as (term, text) paragraphs; a plain paragraph has no term.
fn paragraphs(block: Block) -> Vec<(Option<String>, String)> {
    match block {
        Text(text) => vec![(None, text.to_owned())],
        Item(term, text) => vec![(Some(term.to_owned()), text.to_owned())],
        Usage => crate::health::cli::synopsis()
            .into_iter()
            .map(|line| (None, line))
            .collect(),
        Commands => command_entries()
            .into_iter()
            .map(|(term, doc)| (Some(term), doc.description.to_owned()))
            .collect(),
        Options => {
            let visible = OPTIONS.iter().filter(|s| s.synopsis != Synopsis::Hidden);
            let (theirs, ours): (Vec<_>, Vec<_>) = visible.partition(|s| !s.extension);
            let item =
                |s: &&crate::health::cli::table::OptionSpec| (Some(s.term()), s.help.to_owned());
            let mut out: Vec<_> = theirs.iter().map(item).collect();
            out.push((
                None,
                "Added by lvsctl (ldirectord rejects them):".to_owned(),
            ));
            out.extend(ours.iter().map(item));
            out
        }
    }
}

/// Escapes text for roff: backslashes, hyphens that must stay ASCII (options, paths), and
/// a leading dot or quote that would start a request.
fn escape(text: &str) -> String {
    let body = text.replace('\\', "\\e").replace('-', "\\-");
    if body.starts_with(['.', '\'']) {
        format!("\\&{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_escapes_and_structures() {
        assert_eq!(escape(".hidden -d a\\b"), "\\&.hidden \\-d a\\eb");
        let page = roff();
        assert!(
            page.starts_with(
                ".SH SYNOPSIS\n.PP\nlvsctl health [\\-d|\\-\\-debug] [\\-\\-foreground]"
            )
        );
        assert!(page.contains(".TP\n\\fBstatus\\fR\nExits 0 when"));
        assert!(
            page.lines()
                .all(|l| !l.starts_with('.') || l.len() <= 3 || l.starts_with(".SH "))
        );
    }
}
