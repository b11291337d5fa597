//! Reading a rules file into the desired table: save/restore lines or the JSON document.
//!
//! Loading never stops at the first problem: every line is parsed (with the same grammar as
//! `ipvsadm -R`, through a [`LineParser`]) and every problem becomes a [`Finding`], so one
//! `lvsctl check` run shows them all. The structural checks live here because they decide
//! where an object goes: a real server for a service the file never defined, a service or
//! real server defined twice.

use crate::ipvs::model::{Dest, Rates, Service, ServiceKey, Stats};
use crate::schema::{self, Table};

use super::json_pos::{self, JsonPositions};
use super::model::{KeyMap, Origin, RuleDest, RuleService, Rules, value_index};
use super::source::{Finding, Pos};
use super::tokens::{self, Token, TokenLine};

/// What one save/restore line asks for, as far as a rules file is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleLine {
    /// `-A`.
    AddService(Service),
    /// `-a`.
    AddDest(ServiceKey, Dest),
    /// Any other valid command (`-C`, `-E`, `-L`, ...), named for the message.
    Other(String),
}

/// A line the grammar rejects: the message and, when known, which token is to blame
/// (index into the line's argv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub message: String,
    pub token: Option<usize>,
}

/// The grammar of one `-R` line. Implemented over the ipvsadm parser
/// ([`super::ipvsadm_lines::IpvsadmLines`]); a trait so loading is testable on its own.
pub trait LineParser {
    fn parse(&self, argv: &[String]) -> Result<RuleLine, LineError>;
}

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `ipvsadm -S` output / `ipvsadm -R` input.
    Restore,
    /// The document of `lvsctl list --json`.
    Json,
}

/// JSON when the first non-blank byte opens an object (no ipvsadm line can start so).
pub fn detect(input: &[u8]) -> Format {
    match input.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Format::Json,
        _ => Format::Restore,
    }
}

/// A loaded file: what could be understood, and every problem met on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub rules: Rules,
    pub findings: Vec<Finding>,
}

/// Load a rules file of either format.
pub fn load(file: &str, input: &[u8], parser: &dyn LineParser) -> Loaded {
    match detect(input) {
        Format::Restore => load_restore(file, input, parser),
        Format::Json => load_json(file, input),
    }
}

/// Builds [`Rules`] object by object, catching duplicates and orphans.
struct Assembler {
    rules: Rules,
    findings: Vec<Finding>,
    services: KeyMap<ServiceKey, usize>,
    dests: KeyMap<(ServiceKey, crate::ipvs::model::DestKey), Pos>,
}

impl Assembler {
    fn new(file: &str) -> Self {
        Self {
            rules: Rules {
                file: file.to_owned(),
                services: Vec::new(),
            },
            findings: Vec::new(),
            services: KeyMap::default(),
            dests: KeyMap::default(),
        }
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.findings
            .push(Finding::error(&self.rules.file, pos, message));
    }

    fn service(&mut self, service: Service, pos: Pos, origin: Origin) {
        let key = service.key;
        if let Some(&index) = self.services.get(&key) {
            let first = self.rules.services[index].pos;
            self.error(
                pos,
                format!(
                    "duplicate service {key} (first defined at line {})",
                    first.line
                ),
            );
            return;
        }
        self.services.insert(key, self.rules.services.len());
        self.rules.services.push(RuleService {
            service,
            pos,
            origin,
            dests: Vec::new(),
        });
    }

    fn dest(&mut self, key: ServiceKey, dest: RuleDest) {
        let Some(&index) = self.services.get(&key) else {
            self.error(
                dest.pos,
                format!(
                    "real server {} added to undefined service {key} (add its -A line first)",
                    dest.dest.key()
                ),
            );
            return;
        };
        if let Some(first) = self.dests.get(&(key, dest.dest.key())) {
            let message = format!(
                "duplicate real server {} of service {key} (first defined at line {})",
                dest.dest.key(),
                first.line
            );
            self.error(dest.pos, message);
            return;
        }
        self.dests.insert((key, dest.dest.key()), dest.pos);
        self.rules.services[index].dests.push(dest);
    }

    fn finish(self) -> Loaded {
        Loaded {
            rules: self.rules,
            findings: self.findings,
        }
    }
}

fn load_restore(file: &str, input: &[u8], parser: &dyn LineParser) -> Loaded {
    let tokenized = tokens::tokenize(input);
    let mut asm = Assembler::new(file);
    if let Some(line) = tokenized.lost_last_line {
        let message = "the last line ends in blanks without a newline: ipvsadm -R silently \
                       ignores it (lvsctl reads it)";
        asm.findings
            .push(Finding::warning(file, Pos::new(line, 1), message));
    }
    for line in tokenized.lines {
        load_line(&mut asm, line, parser);
    }
    asm.finish()
}

fn load_line(asm: &mut Assembler, line: TokenLine, parser: &dyn LineParser) {
    let start = line.start();
    // Move the texts out for the parser and back in for the origin: no copy per token
    // (50,000-line files are the common case this is tuned for).
    let (argv, positions): (Vec<String>, Vec<Pos>) =
        line.tokens.into_iter().map(|t| (t.text, t.pos)).unzip();
    let result = parser.parse(&argv);
    let origin = |argv: Vec<String>, positions: Vec<Pos>| {
        Origin::Line(
            argv.into_iter()
                .zip(positions)
                .map(|(text, pos)| Token { text, pos })
                .collect(),
        )
    };
    match result {
        Ok(RuleLine::AddService(service)) => {
            asm.service(service, start, origin(argv, positions));
        }
        Ok(RuleLine::AddDest(key, dest)) => {
            let written_port = written_port(&argv);
            let rule = RuleDest {
                dest,
                pos: start,
                origin: origin(argv, positions),
                written_port,
            };
            asm.dest(key, rule);
        }
        Ok(RuleLine::Other(command)) => asm.error(
            start,
            format!(
                "`{command}` does not belong in a rules file: only -A (service) and -a (real \
                 server) lines describe a table"
            ),
        ),
        Err(e) => {
            let pos = e
                .token
                .and_then(|i| positions.get(i))
                .copied()
                .unwrap_or(start);
            asm.error(pos, e.message);
        }
    }
}

/// The port written in a `-r` value, if it has one (`1.2.3.4:80`, `[::1]:80`, `h:http` has
/// none we can read without a resolver).
fn written_port(argv: &[String]) -> Option<u16> {
    let index = value_index(argv.iter().map(String::as_str), Some('r'), "real-server")?;
    let token = argv.get(index)?;
    let value = token
        .strip_prefix("--real-server=")
        .or_else(|| token.strip_prefix("-r").filter(|v| !v.is_empty()))
        .unwrap_or(token);
    if value.matches(':').count() > 1 && !value.starts_with('[') {
        return None;
    }
    value.rsplit_once(':')?.1.parse().ok()
}

fn load_json(file: &str, input: &[u8]) -> Loaded {
    let mut asm = Assembler::new(file);
    let table: Table = match serde_json::from_slice(input) {
        Ok(table) => table,
        Err(e) => {
            let pos = Pos::new(e.line().max(1), e.column().max(1));
            asm.error(pos, format!("invalid rules document: {e}"));
            return asm.finish();
        }
    };
    let positions = json_pos::scan(input);
    let entries = match schema::from_table(&table) {
        Ok(entries) => entries,
        Err(e) => {
            asm.error(positions.of_path(&e.path), e.to_string());
            return asm.finish();
        }
    };
    for (i, entry) in entries.into_iter().enumerate() {
        add_json_entry(&mut asm, &positions, i, entry);
    }
    asm.finish()
}

fn add_json_entry(
    asm: &mut Assembler,
    positions: &JsonPositions,
    i: usize,
    entry: crate::ipvs::model::ServiceEntry,
) {
    let key = entry.service.key;
    let mut service = entry.service;
    service.stats = Stats::default();
    service.rates = Rates::default();
    asm.service(service, positions.service(i), Origin::Json);
    for (j, dest) in entry.dests.into_iter().enumerate() {
        let clean = Dest {
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            stats: Stats::default(),
            rates: Rates::default(),
            ..dest
        };
        let rule = RuleDest {
            written_port: Some(clean.port),
            dest: clean,
            pos: positions.dest(i, j),
            origin: Origin::Json,
        };
        asm.dest(key, rule);
    }
}
