//! `ipvsadm -h`: the help text, in lvsctl's own words.
//!
//! The help is not an interface (scripts do not parse it), so it is not a copy of ipvsadm's
//! text: it carries the same information — every command, option and daemon option, the
//! scheduler and PE lists, the defaults — worded for lvsctl, with the defaults ipvsadm really
//! applies (`-p` alone is 360 s, `--syncid` is 0). The usage lines name `argv[0]` as invoked,
//! like ipvsadm's do.

use std::io::{self, Write};

use super::version::VERSION_LINE;
use crate::ipvs::model::Scheduler;

/// Writes the help text; `argv0` is the program name as invoked.
pub fn write_help(out: &mut dyn Write, argv0: &str) -> io::Result<()> {
    writeln!(out, "{VERSION_LINE}")?;
    writeln!(out, "Usage:")?;
    for usage in USAGE {
        writeln!(out, "  {argv0} {usage}")?;
    }
    let schedulers = Scheduler::KNOWN.join("|");
    let body = BODY.replace("{SCHEDULERS}", &schedulers);
    out.write_all(body.as_bytes())
}

/// Synopsis of every command, one per line.
const USAGE: [&str; 13] = [
    "-A|-E SERVICE [-s SCHED] [-p [SECONDS]] [-M MASK] [--pe ENGINE] [-b FLAGS]",
    "-D SERVICE",
    "-C",
    "-R",
    "-S [-n]",
    "-a|-e SERVICE -r SERVER [options]",
    "-d SERVICE -r SERVER",
    "-L|-l [SERVICE] [options]",
    "-Z [SERVICE]",
    "--set TCP TCPFIN UDP",
    "--start-daemon master|backup [daemon options]",
    "--stop-daemon master|backup",
    "-h",
];

/// Everything after the usage lines. `{SCHEDULERS}` is filled in from the model's list.
const BODY: &str = "
Commands (long or short form):
  -A, --add-service        create a virtual service
  -E, --edit-service       change a virtual service (unset options revert to defaults)
  -D, --delete-service     remove a virtual service
  -C, --clear              remove every virtual service
  -R, --restore            read commands, one per line, from standard input
  -S, --save               print the table as commands that -R accepts
  -a, --add-server         add a real server to a virtual service
  -e, --edit-server        change a real server (unset options revert to defaults)
  -d, --delete-server      remove a real server
  -L, -l, --list           show the table (all services, or one)
  -Z, --zero               reset the counters of one service or of all
  --set TCP TCPFIN UDP     set the connection timeouts in seconds (0 keeps a value)
  --start-daemon           start a connection synchronisation daemon
  --stop-daemon            stop a connection synchronisation daemon
  -h, --help               show this text

Virtual service (SERVICE):
  -t, --tcp-service HOST[:PORT]     a TCP service
  -u, --udp-service HOST[:PORT]     a UDP service
  --sctp-service HOST[:PORT]        an SCTP service
  -f, --fwmark-service MARK         packets carrying firewall mark MARK (> 0)

Options:
  -6, --ipv6                the firewall-mark service is IPv6
  -s, --scheduler SCHED     scheduler: {SCHEDULERS}
                            (default wlc)
  --pe ENGINE               persistence engine: sip (default none)
  -p, --persistent [SECS]   make the service persistent (default 360 seconds)
  -M, --netmask MASK        persistence granularity (IPv4 mask or IPv6 prefix length)
  -r, --real-server SERVER  real server address, HOST[:PORT]
  -g, --gatewaying          forward by direct routing (default)
  -i, --ipip                forward by tunnelling
  -m, --masquerading        forward by NAT
  --tun-type TYPE           tunnel type: ipip|gue|gre (default ipip)
  --tun-port PORT           destination port of the tunnel
  --tun-nocsum              tunnel without checksum
  --tun-csum                tunnel with checksum
  --tun-remcsum             tunnel with remote checksum offload
  -w, --weight N            real server capacity
  -x, --u-threshold N       stop sending new connections above N connections
  -y, --l-threshold N       resume sending new connections below N connections
  -c, --connection          list the connection table
  --timeout                 show the connection timeouts (tcp tcpfin udp)
  --daemon                  show the synchronisation daemons
  --stats                   show packet and byte counters
  --rate                    show packet and byte rates
  --exact                   print counters and rates unabbreviated
  --thresholds              show the real servers' thresholds
  --persistent-conn         show persistent connection counts
  --tun-info                show the real servers' tunnel settings
  --nosort                  list in kernel order instead of sorting
  --sort                    accepted for compatibility; has no effect
  -o, --ops                 one-packet scheduling (each UDP datagram scheduled alone)
  -n, --numeric             print addresses and ports as numbers
  -b, --sched-flags FLAGS   scheduler flags, separated by commas

Daemon options:
  --syncid ID               synchronisation id (default 0)
  --sync-maxlen BYTES       largest sync message (default 1472)
  --mcast-interface IFACE   interface the sync messages use (default eth0)
  --mcast-group ADDR        IPv4 or IPv6 multicast group (default 224.0.0.81)
  --mcast-port PORT         UDP port (default 8848)
  --mcast-ttl TTL           multicast TTL (default 1)
";
