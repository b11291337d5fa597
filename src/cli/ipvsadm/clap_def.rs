//! A clap description of the ipvsadm personality, built from the parser's option table.
//!
//! It is never used to parse (popt's grammar is reproduced by `parse`); it exists so that
//! shell completions and the man page come from the same single table as the parser.

use clap::{Arg, ArgAction, Command};

use crate::ipvsadm::parse::{OPTIONS, ValueKind};

const ABOUT: &str = "Linux Virtual Server administration, ipvsadm 1.31 compatible";

const LONG_ABOUT: &str = "\
lvsctl behaves exactly like ipvsadm 1.31 when it is started under the name `ipvsadm` \
(for example through a symbolic link), or when its first argument is an ipvsadm option \
(`lvsctl -Ln`). Command lines, output formats, error messages and exit statuses are \
those of ipvsadm, so scripts written for ipvsadm keep working.

Exactly one command comes first (-A, -E, -D, -C, -R, -S, -a, -e, -d, -L, -Z, --set, \
--start-daemon, --stop-daemon, -h, -v); options follow in any order. With no arguments \
the table is listed.

Differences: -R sends consecutive changes to the kernel in batches over one netlink \
socket (same results and messages, much faster on large tables); `-b` with an empty flag \
list is reported as an invalid flag instead of crashing.

Exit status: 0 success; 1 a listing failed; 2 invalid command line or IPVS unavailable; \
255 the kernel refused a change, or the command line could not be tokenized.";

/// The ipvsadm command line as a clap `Command`, for generators only.
pub fn command() -> Command {
    let mut cmd = Command::new("ipvsadm")
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .disable_help_flag(true)
        .disable_version_flag(true);
    for spec in OPTIONS {
        let mut arg = Arg::new(spec.long)
            .long(spec.long)
            .help(spec.help)
            .hide(spec.hidden);
        if let Some(short) = spec.short {
            arg = arg.short(short);
        }
        if let Some(alias) = spec.short_alias {
            arg = arg.short_alias(alias);
        }
        arg = match spec.value {
            ValueKind::None => arg.action(ArgAction::SetTrue),
            ValueKind::Required => arg
                .num_args(1)
                .value_name(spec.value_name.unwrap_or("VALUE")),
            ValueKind::Optional => arg
                .num_args(0..=1)
                .value_name(spec.value_name.unwrap_or("VALUE")),
        };
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new("timeouts")
            .num_args(0..=3)
            .value_names(["TCP", "TCPFIN", "UDP"])
            .help("with --set: the three timeouts in seconds"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }
}
