//! The limit on open files, raised at start and on reload to what the configuration needs.
//!
//! Many systems still start services with a soft limit of 1024 (and shells with 1024 or
//! less), while a director with a thousand reals, or a partition that black-holes many of
//! them so that every check holds its socket for the whole timeout, needs more. A check
//! that finds no descriptor is "not checked" rather than "down", but then it says nothing
//! about its real: so the soft limit is raised as far as the hard limit allows, and a
//! shortfall is logged once so the operator can raise the hard limit (`LimitNOFILE=`).

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use super::budget::{self, Budget};

/// What to do with the soft limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// It is already enough.
    Keep,
    /// Raise it to this (at most the hard limit).
    Raise(u64),
    /// Raise it to the hard limit, which is less than needed.
    Short { hard: u64 },
}

/// The plan for a soft and hard limit (None: unlimited) and the descriptors needed.
pub fn plan(soft: Option<u64>, hard: Option<u64>, need: u64) -> Plan {
    if soft.is_none_or(|s| s >= need) {
        return Plan::Keep;
    }
    match hard {
        Some(h) if h < need => Plan::Short { hard: h },
        _ => Plan::Raise(need),
    }
}

/// Raises the soft limit for `need` descriptors and sizes the checks' share of it (see
/// `budget`); returns the lines to log.
pub fn apply(need: u64, checks: &Budget) -> Vec<String> {
    let mut lines: Vec<String> = raise_nofile(need).into_iter().collect();
    let soft = getrlimit(Resource::Nofile).current;
    let cap = budget::cap(soft, need);
    if checks.set(cap) {
        lines.push(match (cap, soft) {
            (Some(n), Some(soft)) => format!(
                "Checks share {n} file descriptors at a time (the limit is {soft}, the \
                 configuration needs {need}); a check that waits longer than its time limit \
                 is not checked"
            ),
            _ => "Checks no longer share a budget of file descriptors: the limit is enough"
                .to_owned(),
        });
    }
    lines
}

/// Applies the plan for `need` descriptors to this process; returns the log line to write
/// (None when nothing changed).
pub fn raise_nofile(need: u64) -> Option<String> {
    let now = getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(u64::MAX);
    let (target, short) = match plan(now.current, now.maximum, need) {
        Plan::Keep => return None,
        Plan::Raise(to) => (to, false),
        Plan::Short { hard } => (hard, true),
    };
    let raised = target > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: now.maximum,
            },
        )
        .is_ok();
    let now_soft = if raised { target } else { soft };
    Some(if raised && !short {
        format!("Raised the limit on open files from {soft} to {target} ({need} needed)")
    } else {
        format!(
            "The configuration needs {need} file descriptors but only {now_soft} may be open \
             (hard limit {}): the checks share what is left; raise LimitNOFILE",
            now.maximum
                .map_or_else(|| "unlimited".to_owned(), |h| h.to_string())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_goes_up_to_the_need_within_the_hard_limit() {
        assert_eq!(plan(Some(1024), Some(4096), 500), Plan::Keep);
        assert_eq!(plan(None, None, 500), Plan::Keep);
        assert_eq!(plan(Some(64), Some(65536), 456), Plan::Raise(456));
        assert_eq!(plan(Some(64), None, 456), Plan::Raise(456));
        assert_eq!(plan(Some(64), Some(64), 456), Plan::Short { hard: 64 });
        assert_eq!(plan(Some(64), Some(200), 456), Plan::Short { hard: 200 });
    }

    /// The process's own limit: raising to what it already has changes nothing.
    #[test]
    fn enough_is_left_alone() {
        let now = getrlimit(Resource::Nofile);
        let soft = now.current.unwrap_or(u64::MAX);
        assert_eq!(raise_nofile(soft.min(16)), None);
        assert_eq!(getrlimit(Resource::Nofile).current, now.current);
    }
}
