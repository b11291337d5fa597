//! The usage lines and `--help`, written from the option and command tables. `--help`
//! stays a terminal screen; `man lvsctl-health` (health/manual.rs) has the rest.

use std::fmt::Write as _;

use super::table::{Command, OPTIONS, Synopsis, command_entries};

/// The forms of the command line, one per line, without the leading `usage:`.
pub fn synopsis() -> [String; 5] {
    let options = |which: Synopsis| -> Vec<String> {
        OPTIONS
            .iter()
            .filter(|s| s.synopsis == which)
            .map(|s| {
                let names = s.names.join("|");
                s.value.map_or(names.clone(), |v| format!("{names} {v}"))
            })
            .collect()
    };
    let bracket = |v: Vec<String>| {
        v.into_iter().fold(String::new(), |mut out, o| {
            let _ = write!(out, "[{o}] ");
            out
        })
    };
    let words: Vec<&str> = Command::LDIRECTORD.iter().map(|c| c.spelling()).collect();
    [
        format!(
            "lvsctl health {}[CONFIG] {{{}}}",
            bracket(options(Synopsis::Daemon)),
            words.join("|")
        ),
        format!(
            "lvsctl health {} {}FILE",
            Command::CheckConfig.spelling(),
            bracket(options(Synopsis::CheckConfig))
        ),
        format!(
            "lvsctl health {} keepalived|ldirectord FILE",
            Command::Convert.spelling()
        ),
        format!(
            "lvsctl health {} {}{{{}|{}}}",
            options(Synopsis::OtherFormat).join("|"),
            bracket(options(Synopsis::Daemon)),
            words.join("|"),
            Command::CheckConfig.spelling()
        ),
        format!("lvsctl health {}", options(Synopsis::Alone).join("|")),
    ]
}

/// `usage: ...`, what a command-line error prints.
pub fn usage() -> String {
    let [first, rest @ ..] = synopsis();
    let mut out = format!("usage: {first}");
    for line in rest {
        let _ = write!(out, "\n       {line}");
    }
    out
}

const WIDTH: usize = 90;
const TERM_COLUMN: usize = 24;

const ABOUT: &str = "Reads ldirectord.cf (CONFIG as ldirectord finds it: /etc/ha.d/CONFIG, \
/etc/ha.d/conf/CONFIG, CONFIG) with ldirectord's commands, exit codes and pid file.";

/// The ldirectord.cf keys lvsctl adds (check-config warns about them: ldirectord
/// rejects them).
const EXTENSIONS: [(&str, &str); 2] = [
    (
        "rise=N",
        "global or per virtual: passing checks in a row before a failed real server is \
         restored (default 1, ldirectord's only behaviour)",
    ),
    ("protocol=sctp", "SCTP virtual services"),
];

const LOGGING: &str = "Logging follows ldirectord: logfile=\"/path\" (default /var/log/ldirectord.log) or \
logfile=\"facility\" for syslog (/dev/log, ident ldirectord[pid] when run as ldirectord, \
lvsctl[pid] otherwise); supervised=yes logs to stdout. Log times are local time.";

/// `--help`: the usage, the commands and options, and what differs from ldirectord.
pub fn help() -> String {
    let mut out = usage();
    out.push_str("\n\n");
    out.push_str(&wrap(ABOUT, 0));
    out.push_str("\n\nCommands:\n");
    for (term, doc) in command_entries() {
        out.push_str(&entry(&term, doc.summary));
    }
    for (title, extension) in [
        ("Options of ldirectord", false),
        ("Options added by lvsctl", true),
    ] {
        let _ = writeln!(out, "\n{title}:");
        for spec in OPTIONS
            .iter()
            .filter(|s| s.extension == extension && s.synopsis != Synopsis::Hidden)
        {
            out.push_str(&entry(&spec.term(), spec.help));
        }
    }
    out.push_str(
        "\nldirectord.cf extensions (check-config warns about them: ldirectord rejects them):\n",
    );
    for (term, text) in EXTENSIONS {
        out.push_str(&entry(term, text));
    }
    out.push('\n');
    out.push_str(&wrap(LOGGING, 0));
    out.push_str(
        "\n\nman lvsctl-health: commands and exit codes, checks, status socket and metrics.",
    );
    out
}

/// `  term   text...` with the text wrapped into its column; a long term gets a line of
/// its own.
fn entry(term: &str, text: &str) -> String {
    let head = format!("  {term}");
    let body = wrap(text, TERM_COLUMN);
    if head.len() < TERM_COLUMN {
        format!("{head:<TERM_COLUMN$}{}\n", body.trim_start())
    } else {
        format!("{head}\n{body}\n")
    }
}

/// `text` in lines of at most [`WIDTH`] columns, each indented by `indent`.
fn wrap(text: &str, indent: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    let pad = " ".repeat(indent);
    lines
        .iter()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::cli::table::Opt;

    #[test]
    fn usage_lists_the_table() {
        assert_eq!(
            usage(),
            "usage: lvsctl health [-d|--debug] [--foreground] [--pid-file FILE] [--socket FILE] \
             [--metrics ADDR:PORT] [--sendmail PATH] [--json] [CONFIG] \
             {start|stop|restart|try-restart|reload|force-reload|status}\n       \
             lvsctl health check-config [--strict] FILE\n       \
             lvsctl health convert keepalived|ldirectord FILE\n       \
             lvsctl health --keepalived FILE|--piranha FILE [-d|--debug] [--foreground] [--pid-file FILE] \
             [--socket FILE] [--metrics ADDR:PORT] [--sendmail PATH] [--json] \
             {start|stop|restart|try-restart|reload|force-reload|status|check-config}\n       \
             lvsctl health -h|-?|--help|-v|--version"
        );
    }

    #[test]
    fn help_names_every_visible_option_and_command_within_the_width() {
        let text = help();
        for spec in OPTIONS {
            let shown = text.contains(&format!("  {}", spec.term()));
            assert_eq!(shown, spec.opt != Opt::Detached, "{:?}", spec.opt);
        }
        for cmd in Command::WORDS {
            assert!(text.contains(cmd.spelling()), "{cmd:?}");
        }
        let after_usage = text
            .split_once("\n\n")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        for line in after_usage.lines() {
            assert!(line.len() <= WIDTH, "{line}");
        }
        assert_eq!(
            entry("stop", "a b"),
            format!("  stop{}a b\n", " ".repeat(TERM_COLUMN - 6))
        );
        assert_eq!(wrap("aa bb", 2), "  aa bb");
    }
}
