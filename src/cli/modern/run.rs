//! Running the modern subcommands against a [`Backend`]. Output goes to the writers given,
//! so tests drive these functions with the fake backend and compare bytes.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result, anyhow, bail};

use crate::cli::modern::args::{ConnsArgs, DeleteArgs, ListArgs};
use crate::cli::modern::conns::{self, ConnFilter};
use crate::cli::modern::list::{self, Style};
use crate::cli::modern::spec::{parse_endpoint, parse_service};
use crate::ipvs::{Backend, Op, RateEstimation, ServiceEntry};

/// Whether a yes/no question may be asked, and how it is answered.
pub trait Confirm {
    /// `Ok(true)` to go ahead. Implementations refuse (Err) when nobody can answer.
    fn confirm(&mut self, question: &str) -> Result<bool>;
}

/// Asks on the terminal with dialoguer; refuses when stdin is not a terminal.
#[derive(Debug, Default)]
pub struct TerminalConfirm;

impl Confirm for TerminalConfirm {
    fn confirm(&mut self, question: &str) -> Result<bool> {
        if !std::io::stdin().is_terminal() {
            bail!("{question}: refusing without --yes because standard input is not a terminal");
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .context("reading the answer")
    }
}

fn entries_for(backend: &mut dyn Backend, service: Option<&str>) -> Result<Vec<ServiceEntry>> {
    match service {
        None => Ok(backend.entries()?),
        Some(spec) => {
            let key = parse_service(spec)?;
            let service = backend
                .service(&key)
                .with_context(|| format!("service {key}"))?;
            let dests = backend.dests(&key)?;
            Ok(vec![ServiceEntry { service, dests }])
        }
    }
}

/// `lvsctl list`.
pub fn list(
    backend: &mut dyn Backend,
    args: &ListArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<()> {
    let entries = entries_for(backend, args.service.as_deref())?;
    let text = if args.json {
        list::render_json(&entries)
    } else {
        list::render_table(&entries, style)
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

fn endpoint_arg(name: &str, text: Option<&str>) -> Result<Option<(std::net::IpAddr, Option<u16>)>> {
    text.map(|t| {
        parse_endpoint(t)
            .ok_or_else(|| anyhow!("invalid --{name} `{t}`: expected ADDR or ADDR:PORT"))
    })
    .transpose()
}

/// `lvsctl conns`: streamed, filtered, optionally capped.
pub fn conns(backend: &mut dyn Backend, args: &ConnsArgs, out: &mut dyn Write) -> Result<()> {
    let filter = ConnFilter {
        service: endpoint_arg("service", args.service.as_deref())?,
        real: endpoint_arg("real", args.real.as_deref())?,
        client: endpoint_arg("client", args.client.as_deref())?,
        state: args.state.as_ref().map(|s| s.to_ascii_uppercase()),
    };
    if !args.json {
        writeln!(out, "{}", conns::TABLE_HEADER)?;
    }
    let mut shown = 0usize;
    let mut write_error = None;
    backend.connections(&mut |c| {
        if !filter.matches(&c) {
            return true;
        }
        let line = if args.json {
            conns::render_json(&c)
        } else {
            conns::render_row(&c)
        };
        if let Err(e) = writeln!(out, "{line}") {
            write_error = Some(e);
            return false;
        }
        shown += 1;
        args.limit.is_none_or(|limit| shown < limit)
    })?;
    match write_error {
        // A closed pipe (`lvsctl conns | head`) is a normal way to stop reading.
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `lvsctl timeouts`.
pub fn timeouts(backend: &mut dyn Backend, json: bool, out: &mut dyn Write) -> Result<()> {
    let t = backend.timeouts()?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&t)?)?;
    } else {
        writeln!(out, "tcp {}s  tcpfin {}s  udp {}s", t.tcp, t.tcp_fin, t.udp)?;
    }
    Ok(())
}

/// `lvsctl daemon`.
pub fn daemon(backend: &mut dyn Backend, json: bool, out: &mut dyn Write) -> Result<()> {
    let daemons = backend.daemons()?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&daemons)?)?;
        return Ok(());
    }
    if daemons.is_empty() {
        writeln!(out, "no sync daemon running")?;
    }
    for d in daemons {
        let role = match d.role() {
            Some(crate::ipvs::DaemonRole::Master) => "master",
            Some(crate::ipvs::DaemonRole::Backup) => "backup",
            None => "unknown",
        };
        write!(out, "{role}: interface {} syncid {}", d.mcast_ifn, d.syncid)?;
        if let Some(g) = d.mcast_group {
            write!(out, " group {g}")?;
        }
        if let Some(p) = d.mcast_port {
            write!(out, " port {p}")?;
        }
        if let Some(t) = d.mcast_ttl {
            write!(out, " ttl {t}")?;
        }
        if let Some(m) = d.sync_maxlen {
            write!(out, " maxlen {m}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `lvsctl info`.
pub fn info(backend: &mut dyn Backend, json: bool, out: &mut dyn Write) -> Result<()> {
    let info = backend.info()?;
    let (a, b, c) = info.version_triple();
    // The sysctls differ between kernels (docs/ipvsadm-compat.md, Kernels): shown as found.
    let sysctls = backend.sysctls().unwrap_or_default();
    let estimation = RateEstimation::from_sysctls(&sysctls);
    if json {
        let sysctls: serde_json::Map<String, serde_json::Value> = sysctls
            .into_iter()
            .map(|(n, v)| (n, serde_json::Value::String(v)))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "version": format!("{a}.{b}.{c}"),
                "conn_tab_size": info.conn_tab_size,
                "rate_estimation": estimation,
                "sysctls": sysctls,
            })
        )?;
    } else {
        writeln!(
            out,
            "IPVS {a}.{b}.{c}, connection table size {}",
            info.conn_tab_size
        )?;
        match estimation {
            RateEstimation::On => writeln!(out, "rate estimation: on")?,
            RateEstimation::Off(why) => {
                writeln!(
                    out,
                    "rate estimation: off ({why}): rates read 0 and counters stand still"
                )?;
            }
        }
    }
    Ok(())
}

/// `lvsctl clear`: FLUSH, after confirmation.
pub fn clear(
    backend: &mut dyn Backend,
    yes: bool,
    confirm: &mut dyn Confirm,
    out: &mut dyn Write,
) -> Result<()> {
    let count = backend.services()?.len();
    if count == 0 {
        writeln!(out, "nothing to clear: no virtual services")?;
        return Ok(());
    }
    if !yes
        && !confirm.confirm(&format!(
            "Delete all {count} virtual services and their real servers?"
        ))?
    {
        bail!("not confirmed; nothing changed");
    }
    backend.apply_one(&Op::Flush)?;
    writeln!(out, "deleted {count} virtual services")?;
    Ok(())
}

/// `lvsctl delete SERVICE`: asks first when the service still carries active connections.
pub fn delete(
    backend: &mut dyn Backend,
    args: &DeleteArgs,
    confirm: &mut dyn Confirm,
    out: &mut dyn Write,
) -> Result<()> {
    let key = parse_service(&args.service)?;
    backend
        .service(&key)
        .with_context(|| format!("service {key}"))?;
    let active: u64 = backend
        .dests(&key)?
        .iter()
        .map(|d| u64::from(d.active_conns))
        .sum();
    if active > 0
        && !args.yes.yes
        && !confirm.confirm(&format!(
            "{key} still has {active} active connections. Delete it?"
        ))?
    {
        bail!("not confirmed; nothing changed");
    }
    backend
        .apply_one(&Op::DelService(key))
        .with_context(|| format!("deleting {key}"))?;
    writeln!(out, "deleted {key}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::modern::args::YesArg;
    use crate::ipvs::fake::FakeBackend;
    use crate::ipvs::{Dest, Protocol, Service, ServiceKey};
    use std::net::{IpAddr, Ipv4Addr};

    /// Answers from a script; records the questions.
    struct Scripted {
        answer: Result<bool, ()>,
        asked: Vec<String>,
    }

    impl Confirm for Scripted {
        fn confirm(&mut self, question: &str) -> Result<bool> {
            self.asked.push(question.to_owned());
            self.answer.map_err(|()| anyhow!("no terminal"))
        }
    }

    fn key() -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port: 80,
        }
    }

    fn table_with_active_conns(active: u32) -> FakeBackend {
        let mut k = FakeBackend::new();
        let dest = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)), 80);
        let results = k.apply(&[
            Op::AddService(Service::new(key())),
            Op::AddDest(key(), dest.clone()),
        ]);
        assert!(results.iter().all(Result::is_ok));
        assert!(k.set_dest_conns(&key(), &dest.key(), (active, 0, 0)));
        k
    }

    #[test]
    fn clear_asks_and_respects_the_answer() {
        let mut k = table_with_active_conns(0);
        let mut no = Scripted {
            answer: Ok(false),
            asked: vec![],
        };
        let mut out = Vec::new();
        assert!(clear(&mut k, false, &mut no, &mut out).is_err());
        assert_eq!(
            no.asked,
            ["Delete all 1 virtual services and their real servers?"]
        );
        assert_eq!(k.services().unwrap().len(), 1);
        let mut yes = Scripted {
            answer: Ok(true),
            asked: vec![],
        };
        clear(&mut k, false, &mut yes, &mut out).unwrap();
        assert!(k.services().unwrap().is_empty());
    }

    #[test]
    fn clear_with_yes_never_asks() {
        let mut k = table_with_active_conns(0);
        let mut refuse = Scripted {
            answer: Err(()),
            asked: vec![],
        };
        let mut out = Vec::new();
        clear(&mut k, true, &mut refuse, &mut out).unwrap();
        assert!(refuse.asked.is_empty());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "deleted 1 virtual services\n"
        );
    }

    #[test]
    fn delete_asks_only_when_connections_are_active() {
        let args = DeleteArgs {
            service: "tcp:10.0.0.1:80".into(),
            yes: YesArg { yes: false },
        };
        let mut out = Vec::new();
        let mut idle = table_with_active_conns(0);
        let mut refuse = Scripted {
            answer: Err(()),
            asked: vec![],
        };
        delete(&mut idle, &args, &mut refuse, &mut out).unwrap();
        assert!(refuse.asked.is_empty());

        let mut busy = table_with_active_conns(5);
        let err = delete(&mut busy, &args, &mut refuse, &mut out).unwrap_err();
        assert_eq!(err.to_string(), "no terminal");
        assert_eq!(
            refuse.asked,
            ["TCP 10.0.0.1:80 still has 5 active connections. Delete it?"]
        );
        assert_eq!(busy.services().unwrap().len(), 1, "nothing deleted");
    }
}
