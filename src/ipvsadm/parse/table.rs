//! The ipvsadm 1.31 option table, defined once as data.
//!
//! Everything the tokenizer, the validator, help output, completions and the man page need
//! to know about a command-line switch lives in [`OPTIONS`]: its names, whether it takes a
//! value, which ipvsadm command it selects or which compatibility-matrix slot
//! ([`Tracked`]) it occupies, and a one-line description in our own words.
//!
//! This file is a data table and is longer than our usual module size on purpose.

use std::fmt;

/// What kind of value an option takes, as popt sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A flag; `--name=x` is an error ("option does not take an argument").
    None,
    /// A value is mandatory: rest of the short cluster, `=value`, or the next element
    /// whatever it looks like.
    Required,
    /// Only `-p/--persistent`: attached value, or the next element when it does not start
    /// with `-`.
    Optional,
}

/// The ipvsadm commands, in the column order of its command × option matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    AddService,
    EditService,
    DelService,
    Flush,
    List,
    AddServer,
    DelServer,
    EditServer,
    Set,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

impl Command {
    /// All commands in matrix column order.
    pub const ALL: [Self; 14] = [
        Self::AddService,
        Self::EditService,
        Self::DelService,
        Self::Flush,
        Self::List,
        Self::AddServer,
        Self::DelServer,
        Self::EditServer,
        Self::Set,
        Self::StartDaemon,
        Self::StopDaemon,
        Self::Restore,
        Self::Save,
        Self::Zero,
    ];

    /// Column of this command in the compatibility matrix.
    pub const fn column(self) -> usize {
        self as usize
    }

    /// The name ipvsadm uses for the command inside error messages.
    pub const fn message_name(self) -> &'static str {
        match self {
            Self::AddService => "add-service",
            Self::EditService => "edit-service",
            Self::DelService => "delete-service",
            Self::Flush => "flush",
            Self::List => "list",
            Self::AddServer => "add-server",
            Self::DelServer => "delete-server",
            Self::EditServer => "edit-server",
            Self::Set => "set",
            Self::StartDaemon => "start-daemon",
            Self::StopDaemon => "stop-daemon",
            Self::Restore => "restore",
            Self::Save => "save",
            Self::Zero => "zero",
        }
    }
}

/// The 34 options ipvsadm tracks for duplicate detection and the compatibility check,
/// numbered exactly as ipvsadm numbers them (the number decides which error wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tracked {
    Numeric = 0,
    Connection,
    ServiceAddress,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    ForwardingMethod,
    Weight,
    UThreshold,
    LThreshold,
    McastInterface,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
}

impl Tracked {
    /// All tracked options in index order (the order of the compatibility check).
    pub const ALL: [Self; 34] = [
        Self::Numeric,
        Self::Connection,
        Self::ServiceAddress,
        Self::Scheduler,
        Self::Persistent,
        Self::Netmask,
        Self::RealServer,
        Self::ForwardingMethod,
        Self::Weight,
        Self::UThreshold,
        Self::LThreshold,
        Self::McastInterface,
        Self::Timeout,
        Self::Daemon,
        Self::Stats,
        Self::Rate,
        Self::Thresholds,
        Self::PersistentConn,
        Self::NoSort,
        Self::SyncId,
        Self::Exact,
        Self::Ops,
        Self::Pe,
        Self::SchedFlags,
        Self::McastGroup,
        Self::McastPort,
        Self::McastTtl,
        Self::SyncMaxlen,
        Self::TunInfo,
        Self::TunType,
        Self::TunPort,
        Self::TunNoCsum,
        Self::TunCsum,
        Self::TunRemCsum,
    ];

    /// ipvsadm's compatibility index (0..=33).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The bit of this option in a [`TrackedSet`].
    pub const fn bit(self) -> u64 {
        1 << (self as u32)
    }

    /// The name ipvsadm uses for the option inside error messages.
    pub const fn message_name(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Connection => "connection",
            Self::ServiceAddress => "service-address",
            Self::Scheduler => "scheduler",
            Self::Persistent => "persistent",
            Self::Netmask => "netmask",
            Self::RealServer => "real-server",
            Self::ForwardingMethod => "forwarding-method",
            Self::Weight => "weight",
            Self::UThreshold => "u-threshold",
            Self::LThreshold => "l-threshold",
            Self::McastInterface => "mcast-interface",
            Self::Timeout => "timeout",
            Self::Daemon => "daemon",
            Self::Stats => "stats",
            Self::Rate => "rate",
            Self::Thresholds => "thresholds",
            Self::PersistentConn => "persistent-conn",
            Self::NoSort => "nosort",
            Self::SyncId => "syncid",
            Self::Exact => "exact",
            Self::Ops => "ops",
            Self::Pe => "pe",
            Self::SchedFlags => "sched-flags",
            Self::McastGroup => "mcast-group",
            Self::McastPort => "mcast-port",
            Self::McastTtl => "mcast-ttl",
            Self::SyncMaxlen => "sync-maxlen",
            Self::TunInfo => "tun-info",
            Self::TunType => "tun-type",
            Self::TunPort => "tun-port",
            Self::TunNoCsum => "tun-nocsum",
            Self::TunCsum => "tun-csum",
            Self::TunRemCsum => "tun-remcsum",
        }
    }
}

impl fmt::Display for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message_name())
    }
}

/// Which tracked options were given, as ipvsadm's 64-bit option mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackedSet(pub u64);

impl TrackedSet {
    pub const fn contains(self, opt: Tracked) -> bool {
        self.0 & opt.bit() != 0
    }
    pub const fn any(self, opts: &[Tracked]) -> bool {
        let mut i = 0;
        while i < opts.len() {
            if self.contains(opts[i]) {
                return true;
            }
            i += 1;
        }
        false
    }
    pub fn insert(&mut self, opt: Tracked) {
        self.0 |= opt.bit();
    }
}

/// Identity of every switch ipvsadm understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptId {
    // Commands.
    AddService,
    EditService,
    DelService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DelServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    // Options.
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
}

/// What an option does to the parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Selects the command; only valid as the first option on the line.
    Command(Command),
    /// `-h`: print usage and stop.
    Help,
    /// `-v`: print the version and stop.
    Version,
    /// A tracked option (duplicates and the compatibility matrix apply).
    Tracked(Tracked),
    /// `-6` and `--sort`: not tracked, may repeat.
    Untracked,
}

/// One row of the option table.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub id: OptId,
    /// Long name without the leading `--`.
    pub long: &'static str,
    /// Short letter, if any.
    pub short: Option<char>,
    /// A second short letter meaning the same (`-l` for `-L`).
    pub short_alias: Option<char>,
    pub value: ValueKind,
    /// Placeholder for the value in help/usage (`ADDR:PORT`, `SECONDS`, ...).
    pub value_name: Option<&'static str>,
    pub role: Role,
    /// Undocumented in ipvsadm's own help (`-X`, `--sort`): generators may hide it.
    pub hidden: bool,
    /// One-line description, our own words.
    pub help: &'static str,
}

impl OptionSpec {
    pub const fn is_command(&self) -> bool {
        matches!(self.role, Role::Command(_) | Role::Help | Role::Version)
    }
}

const fn cmd(
    id: OptId,
    long: &'static str,
    short: Option<char>,
    command: Command,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        id,
        long,
        short,
        short_alias: None,
        value: ValueKind::None,
        value_name: None,
        role: Role::Command(command),
        hidden: false,
        help,
    }
}

const fn flag(
    id: OptId,
    long: &'static str,
    short: Option<char>,
    tracked: Tracked,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        id,
        long,
        short,
        short_alias: None,
        value: ValueKind::None,
        value_name: None,
        role: Role::Tracked(tracked),
        hidden: false,
        help,
    }
}

const fn valued(
    id: OptId,
    long: &'static str,
    short: Option<char>,
    tracked: Tracked,
    value_name: &'static str,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        id,
        long,
        short,
        short_alias: None,
        value: ValueKind::Required,
        value_name: Some(value_name),
        role: Role::Tracked(tracked),
        hidden: false,
        help,
    }
}

const fn untracked(
    id: OptId,
    long: &'static str,
    short: Option<char>,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        id,
        long,
        short,
        short_alias: None,
        value: ValueKind::None,
        value_name: None,
        role: Role::Untracked,
        hidden: false,
        help,
    }
}

/// Every switch of ipvsadm 1.31. Lookup is by exact name (popt does not abbreviate).
#[rustfmt::skip]
pub const OPTIONS: &[OptionSpec] = &[
    // --- commands ---------------------------------------------------------------------------
    cmd(OptId::AddService, "add-service", Some('A'), Command::AddService, "create a virtual service"),
    cmd(OptId::EditService, "edit-service", Some('E'), Command::EditService, "replace all settings of a virtual service (unset ones revert to defaults)"),
    cmd(OptId::DelService, "delete-service", Some('D'), Command::DelService, "remove a virtual service together with its real servers"),
    cmd(OptId::Clear, "clear", Some('C'), Command::Flush, "remove every virtual service"),
    OptionSpec { short_alias: Some('l'), ..cmd(OptId::List, "list", Some('L'), Command::List, "show the virtual server table (the default with no arguments)") },
    cmd(OptId::Zero, "zero", Some('Z'), Command::Zero, "reset the counters of one service, or of all"),
    cmd(OptId::AddServer, "add-server", Some('a'), Command::AddServer, "add a real server to a virtual service"),
    cmd(OptId::EditServer, "edit-server", Some('e'), Command::EditServer, "replace all settings of a real server (unset ones revert to defaults)"),
    cmd(OptId::DelServer, "delete-server", Some('d'), Command::DelServer, "remove a real server from a virtual service"),
    cmd(OptId::Set, "set", None, Command::Set, "set the TCP, TCP-FIN and UDP connection timeouts (three values follow, 0 keeps one)"),
    OptionSpec { role: Role::Help, ..cmd(OptId::Help, "help", Some('h'), Command::List, "print a usage summary") },
    OptionSpec { role: Role::Version, ..cmd(OptId::Version, "version", Some('v'), Command::List, "print the program version") },
    cmd(OptId::Restore, "restore", Some('R'), Command::Restore, "read commands, one per line, from standard input"),
    cmd(OptId::Save, "save", Some('S'), Command::Save, "print the table as commands that --restore understands"),
    OptionSpec { value: ValueKind::Required, value_name: Some("master|backup"), ..cmd(OptId::StartDaemon, "start-daemon", None, Command::StartDaemon, "start a connection synchronisation daemon") },
    OptionSpec { value: ValueKind::Required, value_name: Some("master|backup"), ..cmd(OptId::StopDaemon, "stop-daemon", None, Command::StopDaemon, "stop a connection synchronisation daemon") },
    // --- virtual service ----------------------------------------------------------------------
    valued(OptId::TcpService, "tcp-service", Some('t'), Tracked::ServiceAddress, "HOST[:PORT]", "the TCP virtual service at this address"),
    valued(OptId::UdpService, "udp-service", Some('u'), Tracked::ServiceAddress, "HOST[:PORT]", "the UDP virtual service at this address"),
    valued(OptId::SctpService, "sctp-service", None, Tracked::ServiceAddress, "HOST[:PORT]", "the SCTP virtual service at this address"),
    valued(OptId::FwmarkService, "fwmark-service", Some('f'), Tracked::ServiceAddress, "MARK", "the virtual service matching this firewall mark"),
    valued(OptId::Scheduler, "scheduler", Some('s'), Tracked::Scheduler, "NAME", "scheduling algorithm (kernel module name; wlc when omitted)"),
    OptionSpec { value: ValueKind::Optional, ..valued(OptId::Persistent, "persistent", Some('p'), Tracked::Persistent, "SECONDS", "keep a client on the same real server (360 s when no value follows)") },
    valued(OptId::Netmask, "netmask", Some('M'), Tracked::Netmask, "MASK", "group clients for persistence by this mask (IPv4) or prefix length (IPv6)"),
    // --- real server ----------------------------------------------------------------------------
    valued(OptId::RealServer, "real-server", Some('r'), Tracked::RealServer, "HOST[:PORT]", "the real server at this address"),
    flag(OptId::Masquerading, "masquerading", Some('m'), Tracked::ForwardingMethod, "forward by NAT"),
    flag(OptId::Ipip, "ipip", Some('i'), Tracked::ForwardingMethod, "forward by tunnelling"),
    flag(OptId::Gatewaying, "gatewaying", Some('g'), Tracked::ForwardingMethod, "forward by direct routing (the default)"),
    valued(OptId::Weight, "weight", Some('w'), Tracked::Weight, "WEIGHT", "relative capacity of the real server (0 takes it out of rotation)"),
    valued(OptId::UThreshold, "u-threshold", Some('x'), Tracked::UThreshold, "CONNS", "stop sending new connections above this many (0 = no limit)"),
    valued(OptId::LThreshold, "l-threshold", Some('y'), Tracked::LThreshold, "CONNS", "resume sending new connections below this many"),
    // --- listing and daemons --------------------------------------------------------------------
    flag(OptId::Numeric, "numeric", Some('n'), Tracked::Numeric, "print addresses and ports as numbers, no name lookups"),
    flag(OptId::Connection, "connection", Some('c'), Tracked::Connection, "list the connection table instead of the services"),
    valued(OptId::McastInterface, "mcast-interface", None, Tracked::McastInterface, "IFNAME", "interface the sync daemon sends or listens on (eth0 when omitted)"),
    valued(OptId::SyncId, "syncid", None, Tracked::SyncId, "ID", "sync daemon instance id, 0-255 (0 when omitted)"),
    flag(OptId::Timeout, "timeout", None, Tracked::Timeout, "list the TCP, TCP-FIN and UDP connection timeouts"),
    flag(OptId::Daemon, "daemon", None, Tracked::Daemon, "list the running sync daemons"),
    flag(OptId::Stats, "stats", None, Tracked::Stats, "list with packet and byte counters"),
    flag(OptId::Rate, "rate", None, Tracked::Rate, "list with per-second rates"),
    flag(OptId::Thresholds, "thresholds", None, Tracked::Thresholds, "list with the real servers' connection thresholds"),
    flag(OptId::PersistentConn, "persistent-conn", None, Tracked::PersistentConn, "list persistent connection counts (with -c: persistence engine data)"),
    flag(OptId::NoSort, "nosort", None, Tracked::NoSort, "list in kernel order instead of sorting"),
    OptionSpec { hidden: true, ..untracked(OptId::Sort, "sort", None, "sort the listing (already the default; accepted for compatibility)") },
    OptionSpec { hidden: true, ..flag(OptId::Exact, "exact", Some('X'), Tracked::Exact, "print exact counter values instead of K/M/G units") },
    untracked(OptId::Ipv6, "ipv6", Some('6'), "make the preceding -f service an IPv6 one"),
    flag(OptId::Ops, "ops", Some('o'), Tracked::Ops, "one-packet scheduling: schedule every UDP datagram on its own"),
    valued(OptId::Pe, "pe", None, Tracked::Pe, "ENGINE", "persistence engine (e.g. sip)"),
    valued(OptId::SchedFlags, "sched-flags", Some('b'), Tracked::SchedFlags, "FLAGS", "comma-separated scheduler flags (flag-1..3, sh-fallback, sh-port, mh-fallback, mh-port)"),
    valued(OptId::McastGroup, "mcast-group", None, Tracked::McastGroup, "ADDR", "multicast group for sync messages"),
    valued(OptId::McastPort, "mcast-port", None, Tracked::McastPort, "PORT", "UDP port for sync messages"),
    valued(OptId::McastTtl, "mcast-ttl", None, Tracked::McastTtl, "TTL", "multicast TTL for sync messages"),
    valued(OptId::SyncMaxlen, "sync-maxlen", None, Tracked::SyncMaxlen, "BYTES", "largest sync message payload"),
    flag(OptId::TunInfo, "tun-info", None, Tracked::TunInfo, "list the real servers' tunnel settings"),
    valued(OptId::TunType, "tun-type", None, Tracked::TunType, "ipip|gue|gre", "encapsulation of a tunnelling real server (ipip when omitted)"),
    valued(OptId::TunPort, "tun-port", None, Tracked::TunPort, "PORT", "destination UDP port of GUE encapsulation"),
    flag(OptId::TunNoCsum, "tun-nocsum", None, Tracked::TunNoCsum, "send tunnel packets without checksum (the default)"),
    flag(OptId::TunCsum, "tun-csum", None, Tracked::TunCsum, "checksum tunnel packets"),
    flag(OptId::TunRemCsum, "tun-remcsum", None, Tracked::TunRemCsum, "use remote checksum offload in GUE packets"),
];

/// Finds an option by its exact long name.
pub fn by_long(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.long == name)
}

/// Finds an option by a short letter (or its alias).
pub fn by_short(c: char) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|o| o.short == Some(c) || o.short_alias == Some(c))
}
