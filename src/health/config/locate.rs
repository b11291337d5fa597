//! Which file a configuration argument names, and the configuration name derived from it
//! (docs/ldirectord-compat.md, Configuration file and name). The name appears in the pid
//! file path and in every log line, so it has to be ldirectord's exactly.

use std::path::{Path, PathBuf};

/// Where ldirectord looks for a configuration given by name, in order.
pub const SEARCH_DIRS: [&str; 2] = ["/etc/ha.d", "/etc/ha.d/conf"];

/// A located configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLocation {
    pub path: PathBuf,
    /// `ldirectord` without an argument, otherwise the last path component as given.
    pub name: String,
}

impl ConfigLocation {
    /// `/var/run/ldirectord.<name>.pid`.
    pub fn pid_file(&self) -> PathBuf {
        PathBuf::from(format!("/var/run/ldirectord.{}.pid", self.name))
    }
}

/// Finds the file for `arg` (None = the default `ldirectord.cf`): `/etc/ha.d/<arg>`, then
/// `/etc/ha.d/conf/<arg>`, then `<arg>` itself. `is_file` is injected so the search is
/// testable; Err is the message for the exit-1 "not found" case.
pub fn locate_config(
    arg: Option<&str>,
    is_file: impl Fn(&Path) -> bool,
) -> Result<ConfigLocation, String> {
    let (given, name) = match arg {
        None => ("ldirectord.cf", "ldirectord".to_owned()),
        Some(a) => (a, a.rsplit('/').next().unwrap_or(a).to_owned()),
    };
    let candidates = SEARCH_DIRS
        .iter()
        .map(|dir| PathBuf::from(format!("{dir}/{given}")))
        .chain(std::iter::once(PathBuf::from(given)));
    for path in candidates {
        if is_file(&path) {
            return Ok(ConfigLocation { path, name });
        }
    }
    Err(format!(
        "config file {given} not found (looked in {}, {} and the path itself)",
        SEARCH_DIRS[0], SEARCH_DIRS[1]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(existing: &'static [&'static str]) -> impl Fn(&Path) -> bool {
        move |p| existing.iter().any(|e| Path::new(e) == p)
    }

    #[test]
    fn default_name_and_search_order() {
        let loc = locate_config(None, only(&["/etc/ha.d/ldirectord.cf"])).unwrap();
        assert_eq!(loc.path, PathBuf::from("/etc/ha.d/ldirectord.cf"));
        assert_eq!(loc.name, "ldirectord");
        assert_eq!(
            loc.pid_file(),
            PathBuf::from("/var/run/ldirectord.ldirectord.pid")
        );
        let conf =
            locate_config(Some("web.cf"), only(&["/etc/ha.d/conf/web.cf", "web.cf"])).unwrap();
        assert_eq!(conf.path, PathBuf::from("/etc/ha.d/conf/web.cf"));
        assert_eq!(conf.name, "web.cf");
    }

    #[test]
    fn explicit_paths_are_named_by_their_last_component() {
        let loc = locate_config(Some("/etc/ldirectord.cf"), only(&["/etc/ldirectord.cf"])).unwrap();
        assert_eq!(loc.name, "ldirectord.cf");
        assert_eq!(
            loc.pid_file(),
            PathBuf::from("/var/run/ldirectord.ldirectord.cf.pid")
        );
        let err = locate_config(Some("nope.cf"), only(&[])).unwrap_err();
        assert!(err.contains("nope.cf not found"), "{err}");
    }
}
