//! Which face a command line belongs to, decided from argv[0] and the first argument only,
//! before any parser sees it.
//!
//! A link named `ipvsadm` (or the Debian helper names) must behave exactly like ipvsadm, so
//! it never reaches clap. `lvsctl` followed by an ipvsadm-style flag (`lvsctl -Ln`) is
//! handed to the ipvsadm personality too, so muscle memory keeps working.

use std::ffi::OsString;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Face {
    /// Strict ipvsadm: `argv0` is kept verbatim for its messages (`Try `argv0 -h' ...`).
    Ipvsadm { argv0: String, args: Vec<String> },
    /// Debian's `ipvsadm-save [-n]` helper.
    IpvsadmSave { args: Vec<String> },
    /// Debian's `ipvsadm-restore` helper (drops `#` lines, flushes, restores).
    IpvsadmRestore { args: Vec<String> },
    /// `ldirectord`-compatible command line of the health checker.
    Ldirectord { args: Vec<String> },
    /// Everything else: clap's `lvsctl` command tree.
    Modern { args: Vec<OsString> },
}

fn lossy(args: &[OsString]) -> Vec<String> {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Modern flags that must not be mistaken for ipvsadm flags.
fn is_modern_flag(arg: &str) -> bool {
    matches!(arg, "--help" | "-h" | "--version" | "-V")
}

pub fn choose(args: Vec<OsString>) -> Face {
    let Some((argv0, rest)) = args.split_first() else {
        return Face::Modern { args };
    };
    let name = Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.as_str() {
        "ipvsadm" => Face::Ipvsadm {
            argv0: argv0.to_string_lossy().into_owned(),
            args: lossy(rest),
        },
        "ipvsadm-save" => Face::IpvsadmSave { args: lossy(rest) },
        "ipvsadm-restore" => Face::IpvsadmRestore { args: lossy(rest) },
        "ldirectord" => Face::Ldirectord { args: lossy(rest) },
        _ => match rest.first().and_then(|a| a.to_str()) {
            Some(first) if first.starts_with('-') && first.len() > 1 && !is_modern_flag(first) => {
                Face::Ipvsadm {
                    argv0: argv0.to_string_lossy().into_owned(),
                    args: lossy(rest),
                }
            }
            _ => Face::Modern { args },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn argv0_selects_the_personality() {
        assert_eq!(
            choose(os(&["/usr/sbin/ipvsadm", "-Ln"])),
            Face::Ipvsadm {
                argv0: "/usr/sbin/ipvsadm".into(),
                args: vec!["-Ln".into()]
            }
        );
        assert_eq!(
            choose(os(&["ipvsadm-save", "-n"])),
            Face::IpvsadmSave {
                args: vec!["-n".into()]
            }
        );
        assert!(matches!(
            choose(os(&["ipvsadm-restore"])),
            Face::IpvsadmRestore { .. }
        ));
        assert!(matches!(
            choose(os(&["ldirectord", "start"])),
            Face::Ldirectord { .. }
        ));
    }

    #[test]
    fn lvsctl_accepts_ipvsadm_flags() {
        assert!(matches!(
            choose(os(&["lvsctl", "-Ln"])),
            Face::Ipvsadm { .. }
        ));
        assert!(matches!(
            choose(os(&["lvsctl", "--add-service"])),
            Face::Ipvsadm { .. }
        ));
        assert!(matches!(
            choose(os(&["lvsctl", "list"])),
            Face::Modern { .. }
        ));
        assert!(matches!(
            choose(os(&["lvsctl", "--help"])),
            Face::Modern { .. }
        ));
        assert!(matches!(choose(os(&["lvsctl"])), Face::Modern { .. }));
        assert!(matches!(choose(os(&["lvsctl", "-"])), Face::Modern { .. }));
        // An ipvsadm binary with no arguments lists, like ipvsadm does.
        assert!(matches!(choose(os(&["ipvsadm"])), Face::Ipvsadm { .. }));
    }
}
