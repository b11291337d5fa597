//! The ipvsadm -R grammar as a [`LineParser`]: the real parser, plus the work of finding
//! which token an error is about (ipvsadm's messages name an option, not a column).

use crate::ipvsadm::parse::table::{Role, Tracked};
use crate::ipvsadm::parse::{Failure, IpvsadmCommand, OPTIONS, parse_restore_line};
use crate::names::Resolver;

use super::load::{LineError, LineParser, RuleLine};
use super::model::value_index;

/// Parses lines exactly as `ipvsadm -R` would, resolving names with `resolver`.
pub struct IpvsadmLines<'r> {
    pub resolver: &'r dyn Resolver,
}

impl std::fmt::Debug for IpvsadmLines<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IpvsadmLines")
    }
}

impl LineParser for IpvsadmLines<'_> {
    fn parse(&self, argv: &[String]) -> Result<RuleLine, LineError> {
        match parse_restore_line("ipvsadm", argv, self.resolver) {
            Ok(IpvsadmCommand::AddService(s)) => Ok(RuleLine::AddService(s)),
            Ok(IpvsadmCommand::AddDest(key, d)) => Ok(RuleLine::AddDest(key, d)),
            Ok(other) => Ok(RuleLine::Other(command_name(&other).to_owned())),
            Err(e) => Err(LineError {
                message: message(&e.failure),
                token: blame(&e.failure, argv),
            }),
        }
    }
}

fn command_name(cmd: &IpvsadmCommand) -> &'static str {
    match cmd {
        IpvsadmCommand::AddService(_) => "-A",
        IpvsadmCommand::EditService(_) => "-E",
        IpvsadmCommand::DelService(_) => "-D",
        IpvsadmCommand::Flush => "-C",
        IpvsadmCommand::Restore => "-R",
        IpvsadmCommand::Save { .. } => "-S",
        IpvsadmCommand::AddDest(..) => "-a",
        IpvsadmCommand::EditDest(..) => "-e",
        IpvsadmCommand::DelDest(..) => "-d",
        IpvsadmCommand::List(_) => "-L",
        IpvsadmCommand::Zero(_) => "-Z",
        IpvsadmCommand::SetTimeouts(_) => "--set",
        IpvsadmCommand::StartDaemon(_) => "--start-daemon",
        IpvsadmCommand::StopDaemon(..) => "--stop-daemon",
        IpvsadmCommand::Help => "-h",
        IpvsadmCommand::Version => "-v",
    }
}

/// ipvsadm's text, except for the one message that makes no sense in a file.
fn message(failure: &Failure) -> String {
    match failure {
        Failure::TryHelp { .. } => "not an ipvsadm command line: a line must start with a \
            command such as -A or -a (`#` does not start a comment for ipvsadm -R)"
            .to_owned(),
        other => other.to_string().trim_end().to_owned(),
    }
}

/// The token carrying a tracked option's value (or the option itself for flags).
fn tracked_token(argv: &[String], tracked: Tracked, value: bool) -> Option<usize> {
    OPTIONS
        .iter()
        .filter(|o| o.role == Role::Tracked(tracked))
        .filter_map(|o| value_index(argv.iter().map(String::as_str), o.short, o.long))
        .min()
        .map(|i| if value { i } else { i.saturating_sub(1) })
        .map(|i| i.min(argv.len().saturating_sub(1)))
}

/// The first token equal to (or ending in) `text`.
fn token_of(argv: &[String], text: &str) -> Option<usize> {
    argv.iter().position(|t| t == text).or_else(|| {
        argv.iter()
            .position(|t| !text.is_empty() && t.ends_with(text))
    })
}

/// Which token a failure is about; `None` means the whole line.
fn blame(failure: &Failure, argv: &[String]) -> Option<usize> {
    match failure {
        Failure::TryHelp { .. } => Some(0),
        Failure::Token { element, .. } | Failure::InvalidOption(element) => token_of(argv, element),
        Failure::Fwmark(v)
        | Failure::TimeoutValue(v)
        | Failure::UnexpectedArgument(v)
        | Failure::IncompatibleSchedFlag(v)
        | Failure::InvalidSchedFlag(v)
        | Failure::McastGroup6(v)
        | Failure::McastGroup4(v) => token_of(argv, v),
        Failure::Duplicate(t) => {
            // The second occurrence is the one to blame.
            let first = tracked_token(argv, *t, false)?;
            let rest = argv.get(first + 1..)?;
            Some(tracked_token(rest, *t, false).map_or(first, |i| first + 1 + i))
        }
        Failure::ServiceAddress | Failure::ZeroPort => {
            tracked_token(argv, Tracked::ServiceAddress, true)
        }
        Failure::Netmask4 | Failure::Netmask6 => tracked_token(argv, Tracked::Netmask, true),
        Failure::RealServer | Failure::FamilyMismatch => {
            tracked_token(argv, Tracked::RealServer, true)
        }
        Failure::Weight => tracked_token(argv, Tracked::Weight, true),
        Failure::UThreshold => tracked_token(argv, Tracked::UThreshold, true),
        Failure::LThreshold => tracked_token(argv, Tracked::LThreshold, true),
        Failure::TunnelType => tracked_token(argv, Tracked::TunType, true),
        Failure::TunnelPort => tracked_token(argv, Tracked::TunPort, true),
        Failure::OpsNotUdp => tracked_token(argv, Tracked::Ops, false),
        Failure::IllegalOption { opt, .. }
        | Failure::ConflictingOptions { opt, .. }
        | Failure::TunnelIllegalOption { opt, .. }
        | Failure::TunnelConflictingOptions { opt, .. } => tracked_token(argv, *opt, false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NoNames;

    fn err(line: &str) -> LineError {
        let argv: Vec<String> = line.split(' ').map(str::to_owned).collect();
        IpvsadmLines { resolver: &NoNames }
            .parse(&argv)
            .unwrap_err()
    }

    #[test]
    fn errors_point_at_the_token_to_blame() {
        assert_eq!(err("-a -t 1.2.3.4:80 -r 5.6.7.8 -w x").token, Some(6));
        assert_eq!(err("-A -t nohost:80").token, Some(2));
        assert_eq!(err("-A -t 1.2.3.4:80 -s rr #").token, Some(5));
        assert_eq!(err("-A -t 1.2.3.4:80 -Q").token, Some(3));
        assert_eq!(err("-A -t 1.2.3.4:80 -s rr -s wlc").token, Some(5));
        assert_eq!(err("# comment").token, Some(0));
        assert!(err("# comment").message.contains("comment"));
    }
}
