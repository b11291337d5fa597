//! A plan as people read it (`diff`, `apply --dry-run`) and as scripts read it (`--json`).
//!
//! Pure: plan in, text or JSON value out. Values are printed the way `lvsctl list` and the
//! JSON schema name them (scheduler flags by name, forwarding as masq/route/tunnel), so a
//! diff reads like the file that caused it.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::ipvs::model::{Dest, DestField, Netmask, Service, ServiceField, TunnelCsum, TunnelType};
use crate::schema::{forward_name, sched_flag_names};

use super::plan::{Plan, Step};

fn flags_text(s: &Service) -> String {
    let mut words = Vec::new();
    if s.flags.persistent() {
        words.push("persistent".to_owned());
    }
    if s.flags.one_packet() {
        words.push("one-packet".to_owned());
    }
    words.extend(sched_flag_names(&s.scheduler.0, s.flags.sched_bits()));
    if words.is_empty() {
        "none".to_owned()
    } else {
        words.join(",")
    }
}

fn netmask_text(m: Netmask) -> String {
    match m {
        Netmask::V4(a) => a.to_string(),
        Netmask::V6(p) => p.to_string(),
    }
}

fn tunnel_text(d: &Dest) -> String {
    let t = d.tunnel;
    let kind = match t.kind {
        TunnelType::Ipip => "ipip".to_owned(),
        TunnelType::Gue => "gue".to_owned(),
        TunnelType::Gre => "gre".to_owned(),
        TunnelType::Other(n) => format!("type-{n}"),
    };
    let csum = match t.csum {
        TunnelCsum::NoCsum => "nocsum".to_owned(),
        TunnelCsum::Csum => "csum".to_owned(),
        TunnelCsum::RemCsum => "remcsum".to_owned(),
        TunnelCsum::Other(n) => format!("csum-{n}"),
    };
    format!("{kind} port {} {csum}", t.port)
}

fn service_value(s: &Service, field: ServiceField) -> Value {
    match field {
        ServiceField::Scheduler => json!(s.scheduler.0),
        ServiceField::Flags => json!(flags_text(s)),
        ServiceField::Timeout => json!(s.timeout),
        ServiceField::Netmask => json!(netmask_text(s.netmask)),
        ServiceField::Pe => json!(s.pe_name.as_deref().unwrap_or("none")),
    }
}

fn dest_value(d: &Dest, field: DestField) -> Value {
    match field {
        DestField::Forward => json!(forward_name(d.fwd)),
        DestField::Weight => json!(d.weight),
        DestField::UThreshold => json!(d.u_threshold),
        DestField::LThreshold => json!(d.l_threshold),
        DestField::Tunnel => json!(tunnel_text(d)),
    }
}

fn field_name<T: serde::Serialize>(field: T) -> String {
    serde_json::to_value(field)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn service_summary(s: &Service) -> String {
    let mut text = format!("scheduler {}", s.scheduler);
    if s.flags.persistent() {
        let _ = write!(text, ", persistent {}s", s.timeout);
        if !s.netmask.is_default() {
            let _ = write!(text, " mask {}", netmask_text(s.netmask));
        }
    }
    let flags = flags_text(s);
    let extra: Vec<&str> = flags
        .split(',')
        .filter(|w| *w != "persistent" && *w != "none")
        .collect();
    if !extra.is_empty() {
        let _ = write!(text, ", {}", extra.join(","));
    }
    if let Some(pe) = &s.pe_name {
        let _ = write!(text, ", pe {pe}");
    }
    text
}

fn dest_summary(d: &Dest) -> String {
    let mut text = format!("{}, weight {}", forward_name(d.fwd), d.weight);
    if d.u_threshold != 0 || d.l_threshold != 0 {
        let _ = write!(text, ", thresholds {}/{}", d.u_threshold, d.l_threshold);
    }
    if d.fwd == crate::ipvs::model::ForwardMethod::Tunnel {
        let _ = write!(text, ", tunnel {}", tunnel_text(d));
    }
    text
}

fn changes_text<F: Copy>(fields: &[F], value: impl Fn(F) -> (String, Value, Value)) -> String {
    fields
        .iter()
        .map(|f| {
            let (name, from, to) = value(*f);
            format!("{name} {} -> {}", plain(&from), plain(&to))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per step (`+` add, `~` change, `=` drain, `-` delete) and a summary line.
pub fn human(plan: &Plan, file: &str) -> String {
    if plan.is_empty() {
        return format!("No changes: the live table matches {file}.\n");
    }
    let mut out = String::new();
    for step in &plan.steps {
        let line = match step {
            Step::AddService(s) => format!("+ service {}  {}", s.key, service_summary(s)),
            Step::EditService { from, to, changed } => format!(
                "~ service {}  {}",
                to.key,
                changes_text(changed, |f| (
                    field_name(f),
                    service_value(from, f),
                    service_value(to, f)
                ))
            ),
            Step::DelService(s) => format!("- service {}", s.key),
            Step::AddDest { service, dest } => format!(
                "+ real server {} of {service}  {}",
                dest.key(),
                dest_summary(dest)
            ),
            Step::EditDest {
                service,
                from,
                to,
                changed,
            } => format!(
                "~ real server {} of {service}  {}",
                to.key(),
                changes_text(changed, |f| (
                    field_name(f),
                    dest_value(from, f),
                    dest_value(to, f)
                ))
            ),
            Step::DrainDest { service, dest } => format!(
                "= real server {} of {service}  drain: weight {} -> 0, wait for its active \
                 connections",
                dest.key(),
                dest.weight
            ),
            Step::DelDest { service, dest } => {
                format!("- real server {} of {service}", dest.key())
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

/// `Plan: A to add, C to change, D to delete (W kernel writes).`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    format!(
        "Plan: {} to add, {} to change, {} to delete ({} kernel writes).",
        s.add, s.change, s.delete, s.writes
    )
}

fn step_json(step: &Step) -> Value {
    let (action, object) = match step {
        Step::AddService(_) => ("add", "service"),
        Step::EditService { .. } => ("change", "service"),
        Step::DelService(_) => ("delete", "service"),
        Step::AddDest { .. } => ("add", "real_server"),
        Step::EditDest { .. } => ("change", "real_server"),
        Step::DrainDest { .. } => ("drain", "real_server"),
        Step::DelDest { .. } => ("delete", "real_server"),
    };
    let mut v = json!({
        "action": action,
        "object": object,
        "service": step.service_key().to_string(),
    });
    let detail = match step {
        Step::AddService(s) => json!({ "config": service_summary(s) }),
        Step::EditService { from, to, changed } => json!({ "changes": changed
            .iter()
            .map(|f| (field_name(*f), json!({"from": service_value(from, *f), "to": service_value(to, *f)})))
            .collect::<serde_json::Map<_, _>>() }),
        Step::AddDest { dest, .. } => json!({
            "real_server": dest.key().to_string(), "config": dest_summary(dest) }),
        Step::EditDest {
            from, to, changed, ..
        } => json!({
            "real_server": to.key().to_string(),
            "changes": changed
                .iter()
                .map(|f| (field_name(*f), json!({"from": dest_value(from, *f), "to": dest_value(to, *f)})))
                .collect::<serde_json::Map<_, _>>() }),
        Step::DrainDest { dest, .. } | Step::DelDest { dest, .. } => {
            json!({ "real_server": dest.key().to_string() })
        }
        Step::DelService(_) => json!({}),
    };
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), detail) {
        obj.extend(extra);
    }
    v
}

/// `{"drift": bool, "summary": {...}, "steps": [...]}`.
pub fn json_value(plan: &Plan) -> Value {
    json!({
        "drift": !plan.is_empty(),
        "summary": plan.summary(),
        "steps": plan.steps.iter().map(step_json).collect::<Vec<_>>(),
    })
}

/// Hints for surprises that are not errors. `ipvsadm -S` never saves thresholds, so a
/// table dumped with it and applied back would clear the thresholds set live; say so
/// instead of letting it look like drift out of nowhere.
pub fn notes(plan: &Plan, save_format: bool) -> Vec<String> {
    let cleared = plan
        .steps
        .iter()
        .filter(|s| {
            matches!(s, Step::EditDest { to, changed, .. }
                if to.u_threshold == 0 && to.l_threshold == 0
                    && changed.iter().all(|f| matches!(f, DestField::UThreshold | DestField::LThreshold)))
        })
        .count();
    if save_format && cleared > 0 {
        vec![format!(
            "note: {cleared} real server(s) would lose their thresholds: `ipvsadm -S` does not \
             save -x/-y; add them to the file to keep them"
        )]
    } else {
        Vec::new()
    }
}
