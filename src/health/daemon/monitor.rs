//! `monitorfile=` (per virtual): one line per check result, in ldirectord's format
//! (docs/ldirectord-compat.md, Monitor file), so scripts that tail the file keep working:
//!
//! `[<ctime>] [<pid>] <real id> [up|down] <message>`
//!
//! The real id is ldirectord's identity string of the check (check type and service or
//! command, protocol, address, port, virtualhost, checkport, weight, forwarding, request,
//! receive, joined by `:`) with every run of colons turned into one space and backslashes
//! removed, as ldirectord prints it. In the message `%`, `|`, CR and LF are percent-encoded
//! (lower-case hex). Lines are appended by a writer thread, so a slow disk never stalls the
//! event loop; the file is opened per batch, which keeps logrotate working, and never
//! through a symbolic link (`O_NOFOLLOW`), so a link planted in its place is not written
//! through.
//!
//! Differences from ldirectord, on purpose: a passing check's message is `-` for every
//! check type (ldirectord puts HTTP's status line there), and a failed ping is written too
//! (ldirectord forgets it). `checktype=on` and `off` write nothing, as in ldirectord.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::sync::mpsc;

use crate::health::check::Outcome;
use crate::health::config::{CheckType, RealServer, VirtualService};
use crate::ipvs::model::ServiceKey;

/// ldirectord's `get_real_id_str`: the identity of a check, colon-joined.
pub fn real_id(v: &VirtualService, r: &RealServer) -> String {
    let c = &v.check;
    let check = match c.check_type {
        CheckType::Negotiate => format!("negotiate:{}", c.service.keyword()),
        CheckType::Combined(_) => format!("combined:{}", c.service.keyword()),
        CheckType::External => format!("external:{}", c.check_command),
        CheckType::ExternalPerl => format!("external-perl:{}", c.check_command),
        CheckType::Connect => "connect".to_owned(),
        CheckType::Ping => "ping".to_owned(),
        CheckType::On => "on".to_owned(),
        CheckType::Off => "off".to_owned(),
    };
    let protocol = match v.key {
        ServiceKey::Addr { protocol, .. } => protocol.listing_name().to_lowercase(),
        ServiceKey::Fwmark { .. } => "fwm".to_owned(),
    };
    let server = match r.addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    let opt = |o: Option<String>| o.unwrap_or_default();
    format!(
        "{check}:{protocol}:{server}:{}:{}:{}:{}:{}:{}:{}",
        r.port,
        opt(c.virtual_host.clone()),
        opt(c.check_port.map(|p| p.to_string())),
        r.weight,
        r.forward.keyword(),
        quotemeta(r.request.as_deref().unwrap_or(&c.request)),
        quotemeta(r.receive.as_deref().unwrap_or(&c.receive)),
    )
}

/// Perl's `quotemeta` for ASCII: a backslash before every character that is not a word
/// character. It matters for the printed id: an escaped `:` is never squeezed with its
/// neighbours.
pub fn quotemeta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for ch in s.chars() {
        if ch.is_ascii() && !(ch.is_ascii_alphanumeric() || ch == '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The id as ldirectord prints it: runs of `:` squeezed to one space, `\` removed.
pub fn printable_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut in_colons = false;
    for ch in id.chars() {
        match ch {
            ':' if in_colons => {}
            ':' => {
                in_colons = true;
                out.push(' ');
            }
            '\\' => in_colons = false,
            c => {
                in_colons = false;
                out.push(c);
            }
        }
    }
    out
}

/// `%`, `|`, CR and LF as `%25`, `%7c`, `%0d`, `%0a`.
pub fn escape(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for ch in message.chars() {
        match ch {
            '%' | '|' | '\r' | '\n' => {
                let _ = write!(out, "%{:02x}", ch as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One monitorfile line (with its newline), or None when ldirectord writes nothing for this
/// result (`on`/`off` checks, a check that did not run).
pub fn line(
    ctime: &str,
    pid: u32,
    v: &VirtualService,
    r: &RealServer,
    outcome: &Outcome,
) -> Option<String> {
    if matches!(v.check.check_type, CheckType::On | CheckType::Off) {
        return None;
    }
    let (state, message) = match outcome {
        Outcome::Up => ("up", "-"),
        Outcome::Down(why) if why.is_empty() => ("down", "-"),
        Outcome::Down(why) => ("down", why.as_str()),
        Outcome::NotChecked | Outcome::LocalFault(_) => return None,
    };
    Some(format!(
        "[{ctime}] [{pid}] {} [{state}] {}\n",
        printable_id(&real_id(v, r)),
        escape(message)
    ))
}

/// Appends lines on its own thread; dropping it flushes what is queued and ends the thread.
#[derive(Debug)]
pub struct MonitorWriter {
    tx: Option<mpsc::Sender<(String, String)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MonitorWriter {
    /// `on_error` gets one message per failed write (ldirectord dies there; we log).
    pub fn start(on_error: impl Fn(String) + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel::<(String, String)>();
        let thread = std::thread::Builder::new()
            .name("monitorfile".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    // Everything queued meanwhile goes out with one open per file.
                    let mut batch: BTreeMap<String, String> = BTreeMap::new();
                    for (path, line) in std::iter::once(first).chain(rx.try_iter()) {
                        batch.entry(path).or_default().push_str(&line);
                    }
                    for (path, text) in batch {
                        let ok = super::log::append(std::path::Path::new(&path))
                            .and_then(|mut f| f.write_all(text.as_bytes()));
                        if let Err(e) = ok {
                            on_error(format!("Error writing to monitorfile '{path}': {e}"));
                        }
                    }
                }
            })
            .ok();
        Self {
            tx: Some(tx),
            thread,
        }
    }

    pub fn write(&self, path: &str, line: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((path.to_owned(), line));
        }
    }
}

impl Drop for MonitorWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::config::{StaticEnv, parse_config};

    fn first(text: &str) -> (VirtualService, RealServer) {
        let cfg = parse_config("t.cf", text, &StaticEnv::with_common_services())
            .unwrap()
            .0;
        let v = cfg.virtuals[0].clone();
        let r = v.reals[0].clone();
        (v, r)
    }

    const CTIME: &str = "Sat Nov 21 10:05:53 2026";

    #[test]
    fn http_check_line_is_byte_exact() {
        let (v, r) = first("virtual=10.0.0.1:80\n\treal=10.1.0.1:80 gate\n\tservice=http\n");
        assert_eq!(
            real_id(&v, &r),
            "negotiate:http:tcp:10.1.0.1:80:::1:gate:\\/:"
        );
        assert_eq!(
            line(CTIME, 77, &v, &r, &Outcome::Up).unwrap(),
            "[Sat Nov 21 10:05:53 2026] [77] negotiate http tcp 10.1.0.1 80 1 gate /  [up] -\n"
        );
        assert_eq!(
            line(
                CTIME,
                77,
                &v,
                &r,
                &Outcome::Down("HTTP 500|x\r\n100%".into())
            )
            .unwrap(),
            "[Sat Nov 21 10:05:53 2026] [77] negotiate http tcp 10.1.0.1 80 1 gate /  [down] HTTP 500%7cx%0d%0a100%25\n"
        );
    }

    #[test]
    fn every_field_of_the_id_is_in_ldirectords_order() {
        let (v, r) = first(
            "virtual=10.0.0.1:8080\n\treal=10.1.0.2:81 masq 7 \"a:b\\c\", \"ok::x\"\n\
             \tchecktype=external\n\tcheckcommand=\"/usr/lib/chk\"\n\tvirtualhost=www.example\n\
             \tcheckport=9000\n",
        );
        assert_eq!(
            real_id(&v, &r),
            r"external:/usr/lib/chk:tcp:10.1.0.2:81:www.example:9000:7:masq:\/a\:b\\c:ok\:\:x"
        );
        // Escaped colons are not squeezed: `ok::x` prints with two spaces.
        assert_eq!(
            printable_id(&real_id(&v, &r)),
            "external /usr/lib/chk tcp 10.1.0.2 81 www.example 9000 7 masq /a bc ok  x"
        );
    }

    #[test]
    fn ipv6_fwmark_connect_and_silent_check_types() {
        let (v, r) = first(
            "virtual6=[2001:db8::10]:80\n\treal6=[2001:db8::1]:80 masq\n\tchecktype=connect\n",
        );
        assert_eq!(
            printable_id(&real_id(&v, &r)),
            "connect tcp [2001 db8 1] 80 1 masq / "
        );
        let (v, r) = first("virtual=5\n\treal=10.1.0.1 gate\n\tchecktype=ping\n");
        assert_eq!(
            printable_id(&real_id(&v, &r)),
            "ping fwm 10.1.0.1 0 1 gate / "
        );
        assert!(line(CTIME, 1, &v, &r, &Outcome::NotChecked).is_none());
        let (v, r) = first("virtual=10.0.0.1:80\n\treal=10.1.0.1:80 gate\n\tchecktype=on\n");
        assert!(line(CTIME, 1, &v, &r, &Outcome::Up).is_none());
    }

    #[test]
    fn the_writer_appends_every_line_in_order() {
        let dir = std::env::temp_dir().join(format!("lvsctl-monitor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.log").display().to_string();
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, "old\n").unwrap();
        let w = MonitorWriter::start(|_| {});
        for i in 0..100 {
            w.write(&path, format!("{i}\n"));
        }
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        let want: String = std::iter::once("old\n".to_owned())
            .chain((0..100).map(|i| format!("{i}\n")))
            .collect();
        assert_eq!(text, want);
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = errors.clone();
        let w = MonitorWriter::start(move |e| sink.lock().unwrap().push(e));
        w.write("/nonexistent-dir/m.log", "x\n".into());
        // A symbolic link planted in place of the monitor file is not written through.
        let victim = dir.join("victim");
        std::fs::write(&victim, "mine\n").unwrap();
        let link = dir.join("link.log");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        w.write(&link.display().to_string(), "x\n".into());
        drop(w);
        assert_eq!(errors.lock().unwrap().len(), 2);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
