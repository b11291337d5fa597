//! keepalived's block structure over the reader's lines: which keyword a line is, which
//! block it opens, and what happens with stray, missing and surplus braces.
//!
//! The rules follow keepalived's reader: a keyword with a block expects `{` as the next
//! line (the reader cut it off the keyword line); `}` closes the innermost block; an
//! unknown keyword is reported and its line ignored, so the lines of its block are read
//! as if they belonged to the enclosing block; a skipped keyword (VRRP, BFD, or a block a
//! handler gave up on) is passed over up to its matching `}`.

use super::diag::{Diagnostics, Phase, Pos, Severity};
use super::keywords::{self, Ctx, Pass};
use super::lexer::{Line, Reader, text};

/// One keyword line.
#[derive(Debug, Clone)]
pub struct KwLine {
    pub pos: Pos,
    /// The words, quotes removed; never empty.
    pub words: Vec<String>,
    /// The line as read (for keywords that split it again with quotes and escapes).
    pub raw: String,
}

impl KwLine {
    pub fn keyword(&self) -> &str {
        &self.words[0]
    }
}

/// What the block structure reports to the model builder.
pub trait Handler {
    /// An active keyword of block `ctx`.
    fn keyword(&mut self, st: &mut Stream<'_>, ctx: Ctx, line: &KwLine);
    /// The end of block `ctx` at `pos` (its `}`, or the end of the input).
    fn close(&mut self, st: &mut Stream<'_>, ctx: Ctx, pos: &Pos);
    /// A keyword of another part of keepalived (or of the other pass), skipped with its
    /// block.
    fn skipped(&mut self, pass: Pass, line: &KwLine);
}

/// Where the lines come from: the reader (the first pass, which also writes keepalived's
/// consolidated copy), or that copy (the checker's pass).
enum Source<'a> {
    Read(Box<Reader<'a>>),
    Copy {
        lines: std::vec::IntoIter<Line>,
        diags: Diagnostics,
        last: Option<Pos>,
    },
}

/// Reads keyword lines and blocks.
pub struct Stream<'a> {
    src: Source<'a>,
    pub pass: Pass,
    /// 0: reading; -1: the next line must be the `{` of a block to skip; n > 0: skipping,
    /// n braces deep.
    skip: i32,
}

impl<'a> Stream<'a> {
    /// The parent's pass, reading the files.
    pub fn first_pass(reader: Reader<'a>) -> Self {
        Self {
            src: Source::Read(Box::new(reader)),
            pass: Pass::Parent,
            skip: 0,
        }
    }

    /// The checker's pass over the lines the first pass read.
    pub fn checker_pass(lines: Vec<Line>, diags: Diagnostics) -> Self {
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|l| Line {
                pos: l.copy_pos.clone(),
                ..l
            })
            .collect();
        Self {
            src: Source::Copy {
                lines: lines.into_iter(),
                diags,
                last: None,
            },
            pass: Pass::Checker,
            skip: 0,
        }
    }

    /// The lines read and the diagnostics so far.
    pub fn into_parts(self) -> (Vec<Line>, Diagnostics) {
        match self.src {
            Source::Read(r) => {
                let r = *r;
                (r.recorded, r.diags)
            }
            Source::Copy { diags, .. } => (Vec::new(), diags),
        }
    }

    /// The pass reading the files (for `include_check`).
    pub fn reader(&mut self) -> Option<&mut Reader<'a>> {
        match &mut self.src {
            Source::Read(r) => Some(r),
            Source::Copy { .. } => None,
        }
    }

    /// The phase this pass reports in.
    pub fn phase(&self) -> Phase {
        match self.pass {
            Pass::Parent => Phase::Global,
            Pass::Checker => Phase::Checker,
        }
    }

    fn diags(&mut self) -> &mut Diagnostics {
        match &mut self.src {
            Source::Read(r) => &mut r.diags,
            Source::Copy { diags, .. } => diags,
        }
    }

    fn next_line(&mut self) -> Option<Line> {
        match &mut self.src {
            Source::Read(r) => r.next_line(),
            Source::Copy { lines, diags, last } => {
                if diags.stopped(Phase::Checker) {
                    return None;
                }
                let line = lines.next()?;
                *last = Some(line.pos.clone());
                Some(line)
            }
        }
    }

    fn last_pos(&self) -> Option<Pos> {
        match &self.src {
            Source::Read(r) => Some(r.last_pos()),
            Source::Copy { last, .. } => last.clone(),
        }
    }

    /// Reads everything.
    pub fn run(&mut self, h: &mut dyn Handler) {
        self.process(Ctx::Root, false, 0, h);
    }

    pub fn report(&mut self, pos: &Pos, severity: Severity, phase: Phase, message: String) {
        self.diags().push(pos.clone(), severity, phase, message);
    }

    /// Skips the block that follows the current keyword (a handler found its header
    /// unusable).
    pub fn skip_block(&mut self) {
        self.skip = -1;
    }

    /// The next line split into words; an unmatched quote is reported and ends the words.
    fn words(&mut self) -> Option<KwLine> {
        loop {
            let line = self.next_line()?;
            let (words, unmatched) = text::split_words(&line.text);
            if unmatched {
                let phase = self.phase();
                self.report(
                    &line.pos,
                    Severity::Error,
                    phase,
                    format!("unmatched quote in {:?}", line.text),
                );
            }
            if !words.is_empty() {
                return Some(KwLine {
                    pos: line.pos,
                    words,
                    raw: line.text,
                });
            }
        }
    }

    /// Reads the lines of block `ctx` up to its `}`; true when it was skipped to its end
    /// (its close handler must not run), and where it ended.
    fn process(
        &mut self,
        ctx: Ctx,
        mut need_open: bool,
        level: usize,
        h: &mut dyn Handler,
    ) -> (bool, Pos) {
        let phase = self.phase();
        while let Some(line) = self.words() {
            let first = line.keyword().to_owned();
            if self.skip == -1 {
                if first == "{" {
                    self.skip = 1;
                    need_open = false;
                    continue;
                }
                // The skipped keyword had no block after all.
                self.skip = 0;
            }
            if self.skip > 0 {
                let mut last = "";
                for w in &line.words {
                    last = w;
                    if w == "{" {
                        self.skip += 1;
                    } else if w == "}" {
                        self.skip -= 1;
                        if self.skip == 0 {
                            break;
                        }
                    }
                }
                if last == "}" && self.skip == 0 && level > 0 {
                    return (true, line.pos);
                }
                continue;
            }
            if need_open {
                need_open = false;
                if first == "{" && level > 0 {
                    continue;
                }
                self.report(
                    &line.pos,
                    Severity::Error,
                    phase,
                    "missing `{` at the start of the block".to_owned(),
                );
            } else if first == "{" {
                self.report(
                    &line.pos,
                    Severity::Error,
                    phase,
                    "unexpected `{`; ignored".to_owned(),
                );
                continue;
            }
            if first == "}" && level > 0 {
                return (false, line.pos);
            }
            self.keyword_line(ctx, level, line, h);
        }
        let end = self.last_pos().unwrap_or_else(|| Pos::new(&"".into(), 0));
        (false, end)
    }

    fn keyword_line(&mut self, ctx: Ctx, level: usize, mut line: KwLine, h: &mut dyn Handler) {
        let Some(kw) = keywords::lookup(self.pass, ctx, line.keyword()) else {
            let message = format!("unknown keyword `{}`", line.keyword());
            let phase = self.phase();
            self.report(&line.pos, Severity::Error, phase, message);
            return;
        };
        if !kw.active {
            self.skip = if line.words.last().is_some_and(|w| w == "{") {
                1
            } else {
                -1
            };
            h.skipped(self.pass, &line);
        }
        let mut need_open = true;
        if kw.sub.is_some() && line.words.len() > 1 && line.words.last().is_some_and(|w| w == "{") {
            line.words.pop();
            need_open = false;
        }
        if kw.active {
            h.keyword(self, ctx, &line);
        }
        if let Some(sub) = kw.sub {
            let (skipped, end) = self.process(sub, need_open, level + 1, h);
            if !skipped && kw.active {
                h.close(self, sub, &end);
            }
        }
    }

    /// The lines of a value block (`notification_email`, `virtual_server_group`) as
    /// words: from the `{` on the next line to the `}`. `header` is the keyword line; words
    /// after its name (and `skip` more) are extra parameters.
    pub fn value_block(&mut self, header: &KwLine, skip: usize, phase: Phase) -> Vec<KwLine> {
        if header.words.len() > 1 + skip {
            let extra = header.words[1 + skip..].join(" ");
            self.report(
                &header.pos,
                Severity::Error,
                phase,
                format!("`{}` has extra parameters: {extra}", header.keyword()),
            );
        }
        let mut need_open = true;
        let mut out = Vec::new();
        while let Some(mut line) = self.words() {
            if need_open {
                need_open = false;
                if line.words[0] == "{" {
                    if line.words.len() == 1 {
                        continue;
                    }
                    line.words.remove(0);
                } else {
                    self.report(
                        &line.pos,
                        Severity::Note,
                        phase,
                        format!("missing `{{` at the start of `{}`", header.keyword()),
                    );
                }
            }
            let mut ends = false;
            if line.words.last().is_some_and(|w| w == "}") {
                if line.words.len() == 1 {
                    break;
                }
                line.words.pop();
                ends = true;
            }
            out.push(line);
            if ends {
                break;
            }
        }
        out
    }
}
