//! The other top-level blocks of the checker: `virtual_server_group`, `track_file` and
//! `SSL`.

use std::net::IpAddr;
use std::path::PathBuf;

use super::super::diag::{Phase, Pos};
use super::super::model::{GroupEntry, SslContext, TrackFile, TrackFileInit};
use super::super::stream::KwLine;
use super::raw::{RawGroup, RawTrackFile};
use super::{Builder, Report, values};
use crate::ipvs::model::AddressFamily;

impl Builder<'_> {
    /// `virtual_server_group NAME { entries }`.
    pub(super) fn group(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(name) = r.arg(line, 1) else {
            return;
        };
        let name = name.to_owned();
        let lines = r.st.value_block(line, 1, Phase::Checker);
        let mut entries = Vec::new();
        let (mut v4, mut v6, mut mark_without_family) = (false, false, false);
        for entry_line in &lines {
            let Some(entry) = group_entry(r, &name, entry_line) else {
                continue;
            };
            match &entry {
                GroupEntry::Range { first, .. } => {
                    v4 |= first.is_ipv4();
                    v6 |= first.is_ipv6();
                }
                GroupEntry::Fwmark { family, .. } => match family {
                    Some(AddressFamily::Inet) => v4 = true,
                    Some(AddressFamily::Inet6) => v6 = true,
                    None => mark_without_family = true,
                },
            }
            entries.push(entry);
        }
        if entries.is_empty() {
            r.error(
                &line.pos,
                format!("virtual server group {name} has no entries; removed"),
            );
            return;
        }
        if v4 && v6 && mark_without_family {
            r.error(
                &line.pos,
                format!("virtual server group {name} mixes IPv4, IPv6 and a fwmark without a family; removed"),
            );
            return;
        }
        self.groups.push(RawGroup {
            name,
            pos: line.pos.clone(),
            entries,
        });
    }

    pub(super) fn ssl_open(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        if self.ssl.is_some() {
            r.error(&line.pos, "second SSL block; it replaces the first");
        }
        self.ssl = Some(SslContext {
            password: None,
            ca: None,
            certificate: None,
            key: None,
        });
    }

    pub(super) fn ssl_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(ssl) = self.ssl.as_mut() else { return };
        let kw = line.keyword();
        let Some(value) = line.words.get(1).cloned() else {
            return r.error(&line.pos, format!("SSL `{kw}` without a value"));
        };
        let replaced = match kw {
            "password" => ssl.password.replace(value).is_some(),
            "ca" => ssl.ca.replace(PathBuf::from(value)).is_some(),
            "certificate" => ssl.certificate.replace(PathBuf::from(value)).is_some(),
            _ => ssl.key.replace(PathBuf::from(value)).is_some(),
        };
        if replaced {
            r.error(
                &line.pos,
                format!("SSL `{kw}` given twice; the second replaces the first"),
            );
        }
    }

    pub(super) fn track_file_open(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        self.track_file = None;
        let Some(name) = r.arg(line, 1) else {
            return;
        };
        if line.keyword() == "vrrp_track_file" {
            r.note(
                &line.pos,
                "`vrrp_track_file` is deprecated: use `track_file`",
            );
        }
        self.track_file = Some(RawTrackFile {
            name: name.to_owned(),
            pos: line.pos.clone(),
            file: None,
            weight: None,
            init: None,
        });
    }

    pub(super) fn track_file_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let Some(t) = self.track_file.as_mut() else {
            return;
        };
        match line.keyword() {
            "file" => match (line.words.get(1), &t.file) {
                (None, _) => r.error(&line.pos, "track_file `file` without a path"),
                (Some(p), Some(_)) => r.error(
                    &line.pos,
                    format!("track_file {}: second file {p:?} ignored", t.name),
                ),
                (Some(p), None) => t.file = Some(p.clone()),
            },
            "weight" => {
                let Some(word) = line.words.get(1) else {
                    return r.error(
                        &line.pos,
                        format!("track_file {}: `weight` without a value", t.name),
                    );
                };
                if t.weight.is_some_and(|(w, _)| w != 1) {
                    return r.error(
                        &line.pos,
                        format!("track_file {}: weight already set; ignored", t.name),
                    );
                }
                let weight = match values::signed(word, -254, 254) {
                    Ok(w) => w as i32,
                    Err(e) => {
                        r.error(
                            &line.pos,
                            format!("track_file {} weight: {e}; 1 is used", t.name),
                        );
                        1
                    }
                };
                let reverse = match line.words.get(2).map(String::as_str) {
                    Some("reverse") => true,
                    Some(other) => {
                        r.error(
                            &line.pos,
                            format!("track_file {}: unknown weight option {other:?}", t.name),
                        );
                        false
                    }
                    None => false,
                };
                t.weight = Some((weight, reverse));
            }
            "init_file" => {
                let (mut value, mut overwrite) = (0, false);
                for word in &line.words[1..] {
                    let w = word.trim_start();
                    if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                        match values::signed(w, i64::from(i32::MIN), i64::from(i32::MAX)) {
                            Ok(v) => {
                                if !(-254..=254).contains(&v) {
                                    r.error(
                                        &line.pos,
                                        format!(
                                            "track_file {}: init value {v} is outside [-254, 254]",
                                            t.name
                                        ),
                                    );
                                }
                                value = v as i32;
                            }
                            Err(e) => {
                                r.error(
                                    &line.pos,
                                    format!("track_file {} init value: {e}; 0 is used", t.name),
                                );
                                value = 0;
                            }
                        }
                    } else if w == "overwrite" {
                        overwrite = true;
                    } else {
                        r.error(
                            &line.pos,
                            format!("track_file {}: unknown init_file option {w:?}", t.name),
                        );
                    }
                }
                t.init = Some((value, overwrite));
            }
            _ => {}
        }
    }

    pub(super) fn track_file_close(&mut self, r: &mut Report<'_, '_>, pos: &Pos) {
        let Some(t) = self.track_file.take() else {
            return;
        };
        let Some(file) = t.file else {
            r.error(pos, format!("track_file {} has no `file`; ignored", t.name));
            return;
        };
        let (weight, reverse) = t.weight.unwrap_or((1, false));
        self.track_files.push(TrackFile {
            name: t.name,
            pos: t.pos,
            file: PathBuf::from(file),
            weight,
            reverse,
            init: t
                .init
                .map(|(value, overwrite)| TrackFileInit { value, overwrite }),
        });
    }
}

/// One line of a virtual server group.
fn group_entry(r: &mut Report<'_, '_>, group: &str, line: &KwLine) -> Option<GroupEntry> {
    let first = line.words[0].as_str();
    if first == "fwmark" {
        let word = r.arg(line, 1)?;
        let mark = match values::unsigned(word, 0, u64::from(u32::MAX)) {
            Ok(m) => m as u32,
            Err(e) => {
                r.error(&line.pos, format!("group {group}: fwmark: {e}; ignored"));
                return None;
            }
        };
        let family = match line.words.get(2).map(String::as_str) {
            None => None,
            Some("inet") => Some(AddressFamily::Inet),
            Some("inet6") => Some(AddressFamily::Inet6),
            Some(other) => {
                r.error(
                    &line.pos,
                    format!("group {group}: fwmark {mark} family {other:?} unknown; ignored"),
                );
                return None;
            }
        };
        return Some(GroupEntry::Fwmark { mark, family });
    }
    let (start, port) = match values::address(first, line.words.get(1).map(String::as_str)) {
        Ok(a) => a,
        Err(e) => {
            r.error(&line.pos, format!("group {group}: {e}; skipped"));
            return None;
        }
    };
    match range_end(first, start) {
        Ok(last) => Some(GroupEntry::Range {
            first: start,
            last,
            port,
        }),
        Err(e) => {
            r.error(
                &line.pos,
                format!("group {group}: {e} in {first:?}; skipped"),
            );
            None
        }
    }
}

/// The last address of `IP`, `IP/PREFIX`, `IP-IP` or `IP-N`.
fn range_end(text: &str, start: IpAddr) -> Result<IpAddr, String> {
    if let Some((_, prefix)) = text.split_once('/') {
        let max = if start.is_ipv4() { 32 } else { 128 };
        let prefix: u32 = prefix
            .parse()
            .ok()
            .filter(|p| (1..=max).contains(p))
            .ok_or_else(|| "invalid prefix length".to_owned())?;
        return match start {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(prefix).unwrap_or(0);
                if u32::from(a) & host != 0 {
                    return Err("host bits set below the prefix".to_owned());
                }
                Ok(IpAddr::V4((u32::from(a) | host).into()))
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(prefix).unwrap_or(0);
                if u128::from(a) & host != 0 {
                    return Err("host bits set below the prefix".to_owned());
                }
                Ok(IpAddr::V6((u128::from(a) | host).into()))
            }
        };
    }
    let Some((_, end)) = text.split_once('-') else {
        return Ok(start);
    };
    let full = if start.is_ipv4() {
        end.contains('.')
    } else {
        end.contains(':')
    };
    if full {
        let last = values::address(end, None)
            .map_err(|_| "invalid range end".to_owned())?
            .0;
        if last.is_ipv4() != start.is_ipv4() {
            return Err("range ends of different families".to_owned());
        }
        if last < start {
            return Err("range end before its start".to_owned());
        }
        return Ok(last);
    }
    match start {
        IpAddr::V4(a) => {
            let n: u8 = end.parse().map_err(|_| "invalid range end".to_owned())?;
            let octets = a.octets();
            if octets[3] >= n {
                return Err("range end not above its start".to_owned());
            }
            Ok(IpAddr::V4([octets[0], octets[1], octets[2], n].into()))
        }
        IpAddr::V6(a) => {
            let n = u16::from_str_radix(end, 16).map_err(|_| "invalid range end".to_owned())?;
            let mut segments = a.segments();
            if segments[7] >= n {
                return Err("range end not above its start".to_owned());
            }
            segments[7] = n;
            Ok(IpAddr::V6(segments.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn group_ranges_in_every_form() {
        assert_eq!(range_end("10.0.0.1", ip("10.0.0.1")), Ok(ip("10.0.0.1")));
        assert_eq!(
            range_end("10.0.0.1-10", ip("10.0.0.1")),
            Ok(ip("10.0.0.10"))
        );
        assert_eq!(
            range_end("10.0.0.1-10.0.1.2", ip("10.0.0.1")),
            Ok(ip("10.0.1.2"))
        );
        assert_eq!(range_end("10.0.0.0/30", ip("10.0.0.0")), Ok(ip("10.0.0.3")));
        assert_eq!(
            range_end("2001:db8::1-ff", ip("2001:db8::1")),
            Ok(ip("2001:db8::ff"))
        );
        assert!(range_end("10.0.0.5-5", ip("10.0.0.5")).is_err());
        assert!(range_end("10.0.0.5-256", ip("10.0.0.5")).is_err());
        assert!(range_end("10.0.0.1/30", ip("10.0.0.1")).is_err());
        assert!(range_end("10.0.0.9-10.0.0.1", ip("10.0.0.9")).is_err());
    }
}
