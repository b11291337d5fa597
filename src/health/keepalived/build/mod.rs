//! Keyword handlers: turn keyword lines into the raw model, reporting what keepalived
//! reports for each line (and at the `}` of each block, where keepalived checks a block as
//! a whole).

mod blocks;
mod checker_kinds;
mod checkers;
mod forwarding;
mod globals;
mod http;
pub mod raw;
mod reals;
mod servers;
pub mod values;

use std::time::Duration;

use super::diag::{Phase, Pos, Severity};
use super::env::KeepalivedEnv;
use super::keywords::{CheckKind, Ctx, Pass, SKIPPED_ROOTS};
use super::model::{Skipped, TrackFile, VirtualServerGroup};
use super::stream::{Handler, KwLine, Stream};
use raw::{RawChecker, RawGlobals, RawGroup, RawRs, RawSsl, RawTrackFile, RawVs};

/// The raw model being built.
pub struct Builder<'e> {
    pub env: &'e dyn KeepalivedEnv,
    pub globals: RawGlobals,
    pub vss: Vec<RawVs>,
    pub groups: Vec<RawGroup>,
    pub track_files: Vec<TrackFile>,
    pub ssl: Option<RawSsl>,
    pub skipped: Vec<Skipped>,
    track_file: Option<RawTrackFile>,
    /// The virtual server being read is unusable; its keywords are ignored.
    vs_dead: bool,
    /// Likewise the real server.
    rs_dead: bool,
    /// Counts keyword lines, to order scripts.
    seq: usize,
}

/// Groups as the model keeps them.
pub fn groups(raw: &[RawGroup]) -> Vec<VirtualServerGroup> {
    raw.iter()
        .map(|g| VirtualServerGroup {
            name: g.name.clone(),
            pos: g.pos.clone(),
            entries: g.entries.clone(),
        })
        .collect()
}

impl<'e> Builder<'e> {
    pub fn new(env: &'e dyn KeepalivedEnv) -> Self {
        Self {
            env,
            globals: RawGlobals::default(),
            vss: Vec::new(),
            groups: Vec::new(),
            track_files: Vec::new(),
            ssl: None,
            skipped: Vec::new(),
            track_file: None,
            vs_dead: false,
            rs_dead: false,
            seq: 0,
        }
    }

    fn next_seq(&mut self) -> usize {
        self.seq += 1;
        self.seq
    }

    fn vs(&mut self) -> Option<&mut RawVs> {
        if self.vs_dead {
            return None;
        }
        self.vss.last_mut()
    }

    fn rs(&mut self) -> Option<&mut RawRs> {
        if self.rs_dead {
            return None;
        }
        self.vs()?.reals.last_mut()
    }

    fn checker(&mut self) -> Option<&mut RawChecker> {
        self.rs()?.checkers.last_mut()
    }
}

/// Reporting helpers shared by the handlers.
pub struct Report<'s, 'a> {
    pub st: &'s mut Stream<'a>,
    pub phase: Phase,
}

impl Report<'_, '_> {
    pub fn error(&mut self, pos: &Pos, message: impl Into<String>) {
        self.st
            .report(pos, Severity::Error, self.phase, message.into());
    }

    pub fn warning(&mut self, pos: &Pos, message: impl Into<String>) {
        self.st
            .report(pos, Severity::Warning, self.phase, message.into());
    }

    pub fn note(&mut self, pos: &Pos, message: impl Into<String>) {
        self.st
            .report(pos, Severity::Note, self.phase, message.into());
    }

    /// Word `i` of the line; keepalived stops (exit 2) when a keyword lacks it.
    pub fn arg<'l>(&mut self, line: &'l KwLine, i: usize) -> Option<&'l str> {
        if let Some(w) = line.words.get(i) {
            return Some(w);
        }
        let message = format!(
            "`{}` is missing a parameter (word {}); keepalived stops here",
            line.keyword(),
            i + 1
        );
        self.st.report(
            &line.pos,
            Severity::Fatal { status: 2 },
            self.phase,
            message,
        );
        None
    }

    /// A time parameter (`min_us` microseconds at least); reports and returns None when
    /// invalid, `what` naming it in the message.
    pub fn timer(
        &mut self,
        line: &KwLine,
        i: usize,
        min_us: u64,
        max_us: Option<u64>,
    ) -> Option<Duration> {
        let s = self.arg(line, i)?;
        match values::timer(s, min_us, max_us) {
            Ok((d, note)) => {
                if let Some(n) = note {
                    self.error(&line.pos, format!("`{}`: {n}", line.keyword()));
                }
                Some(d)
            }
            Err(e) => {
                self.error(&line.pos, format!("`{}`: {e}; ignored", line.keyword()));
                None
            }
        }
    }

    /// An unsigned parameter in `min..=max`; reports and returns None when invalid.
    pub fn unsigned(&mut self, line: &KwLine, i: usize, min: u64, max: u64) -> Option<u64> {
        let s = self.arg(line, i)?;
        match values::unsigned(s, min, max) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(&line.pos, format!("`{}`: {e}; ignored", line.keyword()));
                None
            }
        }
    }

    /// An optional yes/no parameter (absent means yes); None when it is neither.
    pub fn flag(&mut self, line: &KwLine) -> Option<bool> {
        let Some(word) = line.words.get(1) else {
            return Some(true);
        };
        let value = values::boolean(word);
        if value.is_none() {
            self.error(
                &line.pos,
                format!(
                    "`{}`: {word:?} is not yes/no/on/off/true/false; ignored",
                    line.keyword()
                ),
            );
        }
        value
    }
}

impl Handler for Builder<'_> {
    fn keyword(&mut self, st: &mut Stream<'_>, ctx: Ctx, line: &KwLine) {
        let phase = st.phase();
        let mut r = Report { st, phase };
        match ctx {
            Ctx::Root => self.root(&mut r, line),
            Ctx::GlobalDefs => self.global(&mut r, line),
            Ctx::Ssl => self.ssl_keyword(&mut r, line),
            Ctx::TrackFile => self.track_file_keyword(&mut r, line),
            Ctx::VirtualServer => self.vs_keyword(&mut r, line),
            Ctx::RealServer => self.rs_keyword(&mut r, line),
            Ctx::Checker(kind) => self.checker_keyword(&mut r, kind, line),
            Ctx::Url => self.url_keyword(&mut r, line),
            Ctx::SmtpHost => self.smtp_host_keyword(&mut r, line),
        }
    }

    fn close(&mut self, st: &mut Stream<'_>, ctx: Ctx, pos: &Pos) {
        let phase = st.phase();
        let mut r = Report { st, phase };
        match ctx {
            Ctx::VirtualServer => self.vs_close(&mut r),
            Ctx::RealServer => self.rs_close(&mut r),
            Ctx::Checker(_) => self.checker_close(&mut r, pos),
            Ctx::Url => self.url_close(&mut r, pos),
            Ctx::SmtpHost => self.smtp_host_close(),
            Ctx::TrackFile => self.track_file_close(&mut r, pos),
            Ctx::Root | Ctx::GlobalDefs | Ctx::Ssl => {}
        }
    }

    fn skipped(&mut self, pass: Pass, line: &KwLine) {
        if pass != Pass::Checker || !SKIPPED_ROOTS.contains(&line.keyword()) {
            return;
        }
        self.skipped.push(Skipped {
            keyword: line.keyword().to_owned(),
            name: line.words[1..].join(" "),
            pos: line.pos.clone(),
        });
    }
}

impl Builder<'_> {
    fn root(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        match line.keyword() {
            "virtual_server" => self.vs_open(r, line),
            "virtual_server_group" => self.group(r, line),
            "SSL" => self.ssl_open(r, line),
            "track_file" | "vrrp_track_file" => self.track_file_open(r, line),
            // global_defs opens its block; the parent-only keywords are not used.
            _ => {}
        }
    }

    /// The checker kind's own keywords, after the common ones.
    fn checker_keyword(&mut self, r: &mut Report<'_, '_>, kind: CheckKind, line: &KwLine) {
        if self.common_checker_keyword(r, kind, line) {
            return;
        }
        match kind {
            CheckKind::Http | CheckKind::Ssl => self.http_keyword(r, line),
            CheckKind::Misc => self.misc_keyword(r, line),
            CheckKind::Smtp => self.smtp_keyword(r, line),
            CheckKind::Dns => self.dns_keyword(r, line),
            CheckKind::Udp => self.udp_keyword(r, line),
            CheckKind::File => self.file_keyword(r, line),
            CheckKind::Bfd | CheckKind::Tcp | CheckKind::Ping => {}
        }
    }
}
