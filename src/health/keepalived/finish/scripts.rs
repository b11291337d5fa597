//! Who scripts run as, and keepalived's script security check.
//!
//! keepalived settles the default script user at the first script that needs one: the
//! global `script_user`, else the user `keepalived_script` when it exists, else root -
//! except that with `enable_script_security` root is refused, and from then on every
//! script without a user of its own fails. After reading, any script that exists makes
//! `enable_script_security` mandatory (exit 6 otherwise); scripts that are missing or not
//! executable are disabled (a MISC_CHECK with one is removed).

use super::super::build::raw::{RawGlobals, RawKind, RawScript, RawVs};
use super::super::diag::{Diagnostics, Phase, Pos, Severity};
use super::super::env::KeepalivedEnv;
use super::super::model::{RunAs, Script};

/// The outcome of the default-user decision for scripts without a user of their own.
pub struct DefaultUser {
    user: Option<RunAs>,
}

/// The user keepalived prefers when `script_user` is not set.
pub const KEEPALIVED_SCRIPT_USER: &str = "keepalived_script";

/// Decides the default user; reports keepalived's error (once, at the first script that
/// needs it) when there is none.
pub fn default_user(
    env: &dyn KeepalivedEnv,
    g: &RawGlobals,
    vss: &[RawVs],
    diags: &mut Diagnostics,
) -> DefaultUser {
    if let Some(u) = &g.script_user {
        return DefaultUser {
            user: (!g.script_user_failed).then(|| u.clone()),
        };
    }
    if env.user_exists(KEEPALIVED_SCRIPT_USER) {
        return DefaultUser {
            user: Some(RunAs {
                user: KEEPALIVED_SCRIPT_USER.to_owned(),
                group: None,
            }),
        };
    }
    if !g.script_security {
        return DefaultUser {
            user: Some(RunAs {
                user: "root".to_owned(),
                group: None,
            }),
        };
    }
    if let Some(pos) = first_needing_default(vss) {
        diags.push(
            pos,
            Severity::Error,
            Phase::Checker,
            format!(
                "enable_script_security refuses to run scripts as root, and there is neither a `script_user` nor a user {KEEPALIVED_SCRIPT_USER}"
            ),
        );
    }
    DefaultUser { user: None }
}

/// Where keepalived first looks for the default user.
fn first_needing_default(vss: &[RawVs]) -> Option<Pos> {
    let mut first: Option<(usize, Pos)> = None;
    let mut consider = |seq: usize, pos: &Pos| {
        if first.as_ref().is_none_or(|(s, _)| seq < *s) {
            first = Some((seq, pos.clone()));
        }
    };
    for vs in vss {
        for s in [&vs.quorum_up, &vs.quorum_down].into_iter().flatten() {
            if s.user.is_none() {
                consider(s.seq, &s.pos);
            }
        }
        for rs in &vs.reals {
            for s in [&rs.notify_up, &rs.notify_down].into_iter().flatten() {
                if s.user.is_none() {
                    consider(s.seq, &s.pos);
                }
            }
            for c in &rs.checkers {
                if let RawKind::Misc(m) = &c.kind
                    && m.user.is_none()
                    && !c.dropped
                    && let (Some(_), Some((pos, seq))) = (&m.script, &m.close)
                {
                    consider(*seq, pos);
                }
            }
        }
    }
    first.map(|(_, p)| p)
}

impl DefaultUser {
    /// A notify or quorum script: None (reported) when keepalived would not keep it.
    pub fn notify(
        &self,
        env: &dyn KeepalivedEnv,
        raw: Option<&RawScript>,
        diags: &mut Diagnostics,
    ) -> Option<Script> {
        let raw = raw?;
        let (run_as, problem) = match &raw.user {
            Some(u) => {
                let exists = env.user_exists(&u.user)
                    && u.group.as_deref().is_none_or(|g| env.group_exists(g));
                let problem = format!(
                    "script user {} does not exist; keepalived ignores the script",
                    u.user
                );
                (exists.then(|| u.clone()), problem)
            }
            None => (
                self.user.clone(),
                "no user to run the script as; keepalived ignores it".to_owned(),
            ),
        };
        let Some(run_as) = run_as else {
            diags.push(raw.pos.clone(), Severity::Note, Phase::Checker, problem);
            return None;
        };
        Some(Script {
            argv: raw.argv.clone(),
            run_as,
        })
    }

    /// The user a MISC_CHECK runs as: its `user`, else the default; None (reported) when
    /// there is none and keepalived removes the checker.
    pub fn misc(&self, own: Option<&RunAs>, pos: &Pos, diags: &mut Diagnostics) -> Option<RunAs> {
        if let Some(u) = own {
            return Some(u.clone());
        }
        if self.user.is_none() {
            diags.push(
                pos.clone(),
                Severity::Error,
                Phase::Checker,
                "no user to run the MISC_CHECK script as; checker removed".to_owned(),
            );
        }
        self.user.clone()
    }
}

/// The script security check over the scripts kept; returns whether each script stays.
pub struct Security<'e> {
    env: &'e dyn KeepalivedEnv,
    /// The first existing script: enable_script_security is then required.
    first: Option<Pos>,
}

impl<'e> Security<'e> {
    pub fn new(env: &'e dyn KeepalivedEnv) -> Self {
        Self { env, first: None }
    }

    /// Checks one script; false (reported) when keepalived disables it.
    pub fn keep(&mut self, script: &Script, pos: &Pos, diags: &mut Diagnostics) -> bool {
        let program = &script.argv[0];
        // `</path` scripts only test that a file opens; nothing runs.
        if program.starts_with('<') {
            return true;
        }
        match self.env.script_status(program) {
            None => {
                diags.push(
                    pos.clone(),
                    Severity::Note,
                    Phase::Validate,
                    format!("script {program} not found; keepalived disables it"),
                );
                false
            }
            Some(executable) => {
                self.first.get_or_insert_with(|| pos.clone());
                if !executable {
                    diags.push(
                        pos.clone(),
                        Severity::Note,
                        Phase::Validate,
                        format!("script {program} is not executable; keepalived disables it"),
                    );
                }
                executable
            }
        }
    }

    /// keepalived's verdict once every script was seen.
    pub fn finish(self, script_security: bool, diags: &mut Diagnostics) {
        if let Some(pos) = self.first
            && !script_security
        {
            diags.push(
                pos,
                Severity::Security,
                Phase::Validate,
                "scripts would run but enable_script_security is not set in global_defs".to_owned(),
            );
        }
    }
}
