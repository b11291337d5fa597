//! Parse failures with ipvsadm's exact wording, exit status and restore behaviour.
//!
//! The texts are an interface (scripts match them), so each variant's `Display` is the
//! byte-exact message ipvsadm prints, without the trailing newline it adds.

use thiserror::Error;

use super::table::Tracked;

/// How a failure behaves, which decides the exit status and what `-R` does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A validation error (ipvsadm's `fail(2, …)`): exit 2; aborts a restore at once.
    Invalid,
    /// No command option first: "Try … for more information.", exit 255; aborts a restore.
    TryHelp,
    /// A tokenizer error after a valid command (`-Q: unknown option`): exit 255; inside a
    /// restore the line is skipped and the restore continues (the line's status is 255).
    Tokenizer,
}

impl ErrorKind {
    /// Whether a restore must stop at this line (exiting with [`ParseError::exit_code`]).
    pub const fn aborts_restore(self) -> bool {
        !matches!(self, Self::Tokenizer)
    }
}

/// Why popt rejected an argv element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenReason {
    UnknownOption,
    MissingArgument,
    UnwantedArgument,
}

impl TokenReason {
    pub const fn text(self) -> &'static str {
        match self {
            Self::UnknownOption => "unknown option",
            Self::MissingArgument => "missing argument",
            Self::UnwantedArgument => "option does not take an argument",
        }
    }
}

/// Every locally detected failure, worded exactly as ipvsadm 1.31 words it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Failure {
    #[error("Try `{argv0} -h' or '{argv0} --help' for more information.")]
    TryHelp { argv0: String },
    #[error("{element}: {}", reason.text())]
    Token {
        element: String,
        reason: TokenReason,
    },
    #[error("invalid option `{0}'")]
    InvalidOption(String),
    #[error("multiple '{0}' options specified")]
    Duplicate(Tracked),
    #[error("illegal start-daemon parameter specified")]
    StartDaemonParam,
    #[error("illegal start_daemon specified")]
    StopDaemonParam,
    #[error("illegal virtual server address[:port] specified")]
    ServiceAddress,
    #[error("invalid fwmark value `{0}' specified")]
    Fwmark(String),
    #[error("invalid timeout value `{0}' specified")]
    TimeoutValue(String),
    #[error("illegal virtual server persistent mask specified")]
    Netmask4,
    #[error("illegal ipv6 netmask specified")]
    Netmask6,
    #[error("illegal real server address[:port] specified")]
    RealServer,
    #[error("illegal weight specified")]
    Weight,
    #[error("illegal u_threshold specified")]
    UThreshold,
    #[error("illegal l_threshold specified")]
    LThreshold,
    #[error("illegal syncid specified")]
    SyncId,
    #[error("invalid IPv6 mcast-group `{0}'")]
    McastGroup6(String),
    #[error("invalid IPv4 mcast-group `{0}'")]
    McastGroup4(String),
    #[error("illegal mcast-port specified")]
    McastPort,
    #[error("illegal mcast-ttl specified")]
    McastTtl,
    #[error("illegal sync-maxlen specified")]
    SyncMaxlen,
    #[error("illegal tunnel type specified")]
    TunnelType,
    #[error("illegal tunnel port specified")]
    TunnelPort,
    /// ipvsadm's format string carries its own `\n`, so the user sees an extra blank line.
    #[error("-6 used before -f\n")]
    Ipv6BeforeFwmark,
    #[error("--set option requires 3 timeout values")]
    SetNeedsThree,
    #[error("unexpected argument {0}")]
    UnexpectedArgument(String),
    #[error("incompatible scheduler flag `{0}'")]
    IncompatibleSchedFlag(String),
    #[error("invalid scheduler flag `{0}'")]
    InvalidSchedFlag(String),
    #[error("You need to supply the '{opt}' option for the '{cmd}' command")]
    MissingOption { opt: Tracked, cmd: &'static str },
    #[error("Illegal '{opt}' option with the '{cmd}' command")]
    IllegalOption { opt: Tracked, cmd: &'static str },
    #[error("The option '{opt}' conflicts with the '{earlier}' option in the '{cmd}' command")]
    ConflictingOptions {
        opt: Tracked,
        earlier: Tracked,
        cmd: &'static str,
    },
    #[error("options conflicts in the list command")]
    ListConflict,
    #[error("Zero port specified for non-persistent service")]
    ZeroPort,
    #[error("One-Packet Scheduling is only for UDP virtual services")]
    OpsNotUdp,
    #[error("Different address family is allowed only for tunneling servers")]
    FamilyMismatch,
    #[error("Tunnel options conflict with forward method")]
    TunnelOptionsWithoutTunnel,
    #[error("You need to supply the '{opt}' option for the '{tun}' tunnel type")]
    TunnelMissingOption { opt: Tracked, tun: &'static str },
    #[error("Illegal '{opt}' option with the '{tun}' tunnel type")]
    TunnelIllegalOption { opt: Tracked, tun: &'static str },
    #[error("The option '{opt}' conflicts with the '{earlier}' option in the '{tun}' tunnel type")]
    TunnelConflictingOptions {
        opt: Tracked,
        earlier: Tracked,
        tun: &'static str,
    },
}

impl Failure {
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::TryHelp { .. } => ErrorKind::TryHelp,
            Self::Token { .. } => ErrorKind::Tokenizer,
            _ => ErrorKind::Invalid,
        }
    }
}

/// A rejected command line: the exact text to print on stderr (a newline follows it),
/// the process exit status, and how a restore loop must treat it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub exit_code: u8,
    pub kind: ErrorKind,
    pub failure: Failure,
}

impl From<Failure> for ParseError {
    fn from(failure: Failure) -> Self {
        let kind = failure.kind();
        Self {
            message: failure.to_string(),
            exit_code: match kind {
                ErrorKind::Invalid => 2,
                ErrorKind::TryHelp | ErrorKind::Tokenizer => 255,
            },
            kind,
            failure,
        }
    }
}
