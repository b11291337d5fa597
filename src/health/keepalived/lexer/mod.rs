//! keepalived's line reader: turns files into the logical lines its keyword parser sees.
//!
//! For every physical line: cut the comment, then (repeating while a substitution brings
//! new work) drop it unless its `@ID`/`@^ID` prefix fits the config-id, take `$NAME=`
//! definitions and `~SEQ`/`~LST` generators, substitute `$NAME`s; then follow `include`
//! lines, and finally cut the line before and after every `{` and `}` outside double
//! quotes, so that each brace is a line of its own. Those are keepalived's rules in its
//! order, so the same text gives the same lines.

mod braces;
mod defs;
mod files;
mod generators;
mod include;
pub mod text;

use std::collections::VecDeque;
use std::path::Path;

use super::diag::{Diagnostics, Phase, Pos, Severity};
use super::env::KeepalivedEnv;

use defs::{Context, Defs, parse_definition};
use files::{Frame, OpenFile, flags, include_line};
use generators::{Generator, parse_lst, parse_seq};

pub use files::flags as include_flags;

/// One logical line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub pos: Pos,
    /// Where keepalived's checker process, which reads a copy of the configuration with
    /// one line per `fgets` piece, places it (differs only after a line longer than 1023
    /// bytes and on a last line without newline).
    pub copy_pos: Pos,
    pub text: String,
}

/// Files nested deeper than this are not opened (keepalived stops when it runs out of file
/// descriptors).
const MAX_INCLUDE_DEPTH: usize = 64;
/// Physical lines read in total before giving up (a bound on include fan-out). Smaller
/// under test, where the limits themselves are tested.
const MAX_PIECES: usize = if cfg!(test) { 40_000 } else { 2_000_000 };
/// Logical lines produced before giving up: generators and definitions can produce lines
/// without end (keepalived would run until it is killed).
const MAX_LINES: usize = if cfg!(test) { 20_000 } else { 500_000 };

/// Lines left from a multi-line definition being substituted.
#[derive(Debug)]
struct Pending {
    lines: VecDeque<String>,
    pos: (Pos, Pos),
    /// Generators that existed when the expansion started: a newer one runs first.
    generators: usize,
}

#[derive(Debug)]
struct Running {
    steps: std::iter::Peekable<generators::Steps>,
    text: String,
    pos: (Pos, Pos),
}

/// Reads logical lines; collects the diagnostics of reading.
pub struct Reader<'a> {
    env: &'a dyn KeepalivedEnv,
    frames: Vec<Frame>,
    defs: Defs,
    generators: Vec<Running>,
    pending: Vec<Pending>,
    residue: Option<((Pos, Pos), String)>,
    /// The multi-line definition whose continuation lines are being read.
    defining: Option<String>,
    open_braces: Vec<Pos>,
    config_id: String,
    include_check: u8,
    pieces_read: usize,
    last_pos: Pos,
    pub diags: Diagnostics,
    /// Every line returned, for the checker's pass.
    pub recorded: Vec<Line>,
}

impl<'a> Reader<'a> {
    /// Starts reading the main file `name` (found at `path`, with `text`).
    pub fn new(
        env: &'a dyn KeepalivedEnv,
        name: &str,
        path: &Path,
        text: &str,
        config_id: &str,
    ) -> Self {
        let file = OpenFile::new(name, path, text);
        let last_pos = file.pos();
        Self {
            env,
            frames: vec![Frame {
                kind: flags::READ | flags::MATCH | flags::WILDCARD,
                saved_check: 0,
                remaining: VecDeque::new(),
                file: Some(file),
                pos: last_pos.clone(),
            }],
            defs: Defs::default(),
            generators: Vec::new(),
            pending: Vec::new(),
            residue: None,
            defining: None,
            open_braces: Vec::new(),
            config_id: config_id.to_owned(),
            include_check: 0,
            pieces_read: 0,
            last_pos,
            diags: Diagnostics::default(),
            recorded: Vec::new(),
        }
    }

    /// The position of the last line returned (or of the end of the file).
    pub fn last_pos(&self) -> Pos {
        self.last_pos.clone()
    }

    /// `include_check` from `global_defs`: which include failures become errors.
    pub fn set_include_check(&mut self, bits: u8) {
        self.include_check = bits;
    }

    pub fn include_check(&self) -> u8 {
        self.include_check
    }

    fn error(&mut self, pos: &Pos, message: String) {
        self.diags
            .push(pos.clone(), Severity::Error, Phase::Global, message);
    }

    /// The next logical line, None at the end of the input.
    pub fn next_line(&mut self) -> Option<Line> {
        loop {
            if self.diags.stopped(Phase::Global) {
                return None;
            }
            let Some((both, mut buf)) = self.next_source() else {
                self.end_of_input();
                return None;
            };
            let pos = both.0.clone();
            if self.continue_definition(&buf) || buf.is_empty() {
                continue;
            }
            self.expand(&both, &mut buf);
            if buf.is_empty() {
                continue;
            }
            if let Some((kind, pattern)) = include_line(&buf) {
                let pattern = pattern.to_owned();
                self.include(&pos, kind, &pattern);
                continue;
            }
            if self.recorded.len() >= MAX_LINES {
                let message = format!(
                    "more than {MAX_LINES} lines (a generator or definition without end?); reading stops here"
                );
                self.diags
                    .push_kept(pos, Severity::Error, Phase::Global, message);
                self.stop();
                return None;
            }
            let text = self.split_braces(&both, buf);
            self.last_pos = pos.clone();
            let line = Line {
                pos,
                copy_pos: both.1,
                text,
            };
            self.recorded.push(line.clone());
            return Some(line);
        }
    }

    /// Residue of a split line, a generator step, a line of a multi-line value, or the
    /// next physical line, in that order of precedence.
    fn next_source(&mut self) -> Option<((Pos, Pos), String)> {
        if let Some(r) = self.residue.take() {
            return Some(r);
        }
        while self.pending.last().is_some_and(|p| p.lines.is_empty()) {
            self.pending.pop();
        }
        let depth = self.pending.last().map_or(0, |p| p.generators);
        if self.generators.len() > depth
            && let Some(run) = self.generators.last_mut()
        {
            if let Some(step) = run.steps.next() {
                let out = (run.pos.clone(), run.text.clone());
                if run.steps.peek().is_none() {
                    self.generators.pop();
                }
                for (name, value) in step {
                    self.defs.define(defs::Definition {
                        name,
                        value,
                        multiline: false,
                    });
                }
                return Some(out);
            }
            self.generators.pop();
        }
        while let Some(top) = self.pending.last_mut() {
            if let Some(line) = top.lines.pop_front() {
                let pos = top.pos.clone();
                // keepalived leaves an expansion as it reads its last line.
                if top.lines.is_empty() {
                    self.pending.pop();
                }
                return Some((pos, line));
            }
            self.pending.pop();
        }
        self.physical()
    }

    /// The next non-empty physical line with its comment cut.
    fn physical(&mut self) -> Option<((Pos, Pos), String)> {
        loop {
            let frame = self.frames.last_mut()?;
            let Some(file) = frame.file.as_mut() else {
                if !self.open_next_match() {
                    self.frames.pop();
                }
                continue;
            };
            let Some((pos, copy_pos, raw)) = file.next_piece() else {
                frame.pos = file.pos();
                frame.file = None;
                self.include_check = frame.saved_check;
                continue;
            };
            self.pieces_read += 1;
            if self.pieces_read > MAX_PIECES {
                let message = format!(
                    "more than {MAX_PIECES} lines to read (includes fanning out?); reading stops here"
                );
                self.diags
                    .push_kept(pos, Severity::Error, Phase::Global, message);
                self.stop();
                return None;
            }
            let raw = raw.trim_end_matches(['\n', '\r']);
            if raw.is_empty() {
                if let Some(name) = self.defining.take() {
                    self.defs.finish(&name);
                }
                continue;
            }
            let d = text::decomment(raw);
            if d.unterminated_quote {
                self.error(&pos, format!("unterminated quote in {:?}", d.text));
            }
            if !d.text.is_empty() {
                return Some(((pos, copy_pos), d.text));
            }
        }
    }

    /// Ends the input: nothing more is read or generated.
    fn stop(&mut self) {
        self.frames.clear();
        self.generators.clear();
        self.pending.clear();
        self.residue = None;
    }

    /// Reads a continuation line of a multi-line definition; false when none is open.
    fn continue_definition(&mut self, buf: &str) -> bool {
        let Some(name) = self.defining.clone() else {
            return false;
        };
        if let Some(head) = buf.strip_suffix('\\') {
            let line = format!("{}\n", head.trim_end_matches([' ', '\t']));
            if line.len() >= 2 {
                self.defs.append(&name, &line);
            }
        } else {
            self.defs.append(&name, buf);
            self.defs.finish(&name);
            self.defining = None;
        }
        true
    }

    /// `@` prefixes, definitions, generators and substitution, repeated while substitution
    /// produces a line that needs another round.
    fn expand(&mut self, both: &(Pos, Pos), buf: &mut String) {
        let pos = &both.0;
        loop {
            if buf.starts_with('@') && !self.config_id_allows(buf) {
                buf.clear();
                return;
            }
            if buf.starts_with('$')
                && let Some(def) = parse_definition(buf)
            {
                if def.multiline {
                    self.defining = Some(def.name.clone());
                }
                self.defs.define(def);
                buf.clear();
                return;
            }
            if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                self.start_generator(both, buf);
                buf.clear();
                return;
            }
            if buf.starts_with('~') || self.defs.is_empty() || !buf.contains('$') {
                return;
            }
            let pwd = self.current_dir();
            let instance = self.config_id.clone();
            let env = self.env;
            let random = move |min: u64, max: u64| env.random(min, max);
            let ctx = Context {
                pwd: &pwd,
                instance: &instance,
                random: &random,
            };
            let sub = self.defs.substitute(buf, &ctx);
            if let Some(problem) = sub.problem {
                self.diags.push(
                    pos.clone(),
                    Severity::Warning,
                    Phase::Global,
                    format!("definitions not substituted further: {problem}"),
                );
            }
            for rest in sub.pending {
                self.pending.push(Pending {
                    lines: rest.split('\n').map(str::to_owned).collect(),
                    pos: both.clone(),
                    generators: self.generators.len(),
                });
            }
            if !sub.changed {
                return;
            }
            let d = text::decomment(buf);
            if d.unterminated_quote {
                self.error(pos, format!("unterminated quote in {:?}", d.text));
            }
            *buf = d.text;
            if !(buf.starts_with('@') || buf.contains('$')) || sub.problem.is_some() {
                return;
            }
        }
    }

    /// Strips a matching `@ID ` / `@^ID ` prefix; false when the line is for another
    /// config-id (or has nothing after the ID).
    fn config_id_allows(&self, buf: &mut String) -> bool {
        let (reverse, id_start) = if buf.starts_with("@^") {
            (true, 2)
        } else {
            (false, 1)
        };
        let Some(space) = buf[id_start..].find([' ', '\t']).map(|i| i + id_start) else {
            return false;
        };
        let matches = buf[id_start..space] == self.config_id;
        if matches == reverse {
            return false;
        }
        let rest = buf[space..].trim_start_matches([' ', '\t']).to_owned();
        *buf = rest;
        true
    }

    fn start_generator(&mut self, both: &(Pos, Pos), buf: &str) {
        let pos = &both.0;
        let parsed = if buf.starts_with("~SEQ") {
            let pwd = self.current_dir();
            let env = self.env;
            let random = move |min: u64, max: u64| env.random(min, max);
            let ctx = Context {
                pwd: &pwd,
                instance: &self.config_id,
                random: &random,
            };
            parse_seq(buf, &self.defs, &ctx)
        } else {
            parse_lst(buf)
        };
        match parsed {
            Ok(Generator { steps, text }) => {
                let mut steps = steps.peekable();
                if steps.peek().is_some() {
                    self.generators.push(Running {
                        steps,
                        text,
                        pos: both.clone(),
                    });
                }
            }
            Err(why) => self.error(pos, format!("invalid {}: {why}", &buf[..4])),
        }
    }

    /// The directory of the file being read, as `$_PWD` shows it.
    fn current_dir(&self) -> String {
        self.frames
            .iter()
            .rev()
            .find_map(|f| f.file.as_ref())
            .map_or_else(String::new, |f| f.dir_shown.clone())
    }
}
