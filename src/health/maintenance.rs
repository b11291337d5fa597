//! ldirectord's maintenance directory (docs/ldirectord-compat.md, Maintenance directory): a
//! file named after a real server forces it down in every virtual that uses it, bypassing
//! failurecount, until the file is removed.
//!
//! The names, in the order ldirectord tries them: `<ip>:<port>`, `<ip>`, `<fqdn>:<port>`,
//! `<fqdn>`, `<short>:<port>`, `<short>`. IPv6 addresses are bracketed; `port` is the real's
//! configured port (0 when omitted); `fqdn` is the reverse-DNS name and `short` its first
//! label, used only when that label starts with a lower-case letter and the name has a dot.
//! The reverse lookup is the caller's: ldirectord repeats it before every check; the daemon
//! keeps a cache refreshed in the background (`daemon::reverse`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Candidate file names for one real server, in lookup order.
pub fn maintenance_names(addr: IpAddr, port: u16, reverse_name: Option<&str>) -> Vec<String> {
    let ip = match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    let mut hosts = vec![ip];
    if let Some(fqdn) = reverse_name.filter(|n| !n.is_empty()) {
        hosts.push(fqdn.to_owned());
        if let Some(short) = short_name(fqdn) {
            hosts.push(short.to_owned());
        }
    }
    hosts
        .into_iter()
        .flat_map(|h| [format!("{h}:{port}"), h])
        .collect()
}

/// `^([a-z][a-z0-9-]+)\.`
fn short_name(fqdn: &str) -> Option<&str> {
    let (label, _) = fqdn.split_once('.')?;
    let mut chars = label.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        label.len() >= 2 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (first_ok && rest_ok).then_some(label)
}

/// The first maintenance file that exists for this real, if any.
pub fn maintenance_file(
    dir: &Path,
    addr: IpAddr,
    port: u16,
    reverse_name: Option<&str>,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    maintenance_names(addr, port, reverse_name)
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| exists(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_ldirectord_order() {
        let names = maintenance_names("10.0.0.1".parse().unwrap(), 80, Some("web1.example.com"));
        assert_eq!(
            names,
            [
                "10.0.0.1:80",
                "10.0.0.1",
                "web1.example.com:80",
                "web1.example.com",
                "web1:80",
                "web1"
            ]
        );
    }

    #[test]
    fn ipv6_is_bracketed_and_odd_short_names_are_skipped() {
        let names = maintenance_names("2001:db8::1".parse().unwrap(), 0, Some("Web1.example.com"));
        assert_eq!(
            names,
            [
                "[2001:db8::1]:0",
                "[2001:db8::1]",
                "Web1.example.com:0",
                "Web1.example.com"
            ]
        );
        assert_eq!(
            maintenance_names("10.0.0.1".parse().unwrap(), 80, None).len(),
            2
        );
        assert_eq!(short_name("localhost"), None);
        assert_eq!(short_name("a.example"), None);
    }

    #[test]
    fn t30_a_host_file_without_port_matches_every_port() {
        let dir = Path::new("/var/lib/ldirectord/maint");
        let exists = |p: &Path| p == dir.join("10.0.0.1");
        let found = maintenance_file(dir, "10.0.0.1".parse().unwrap(), 8080, None, exists);
        assert_eq!(found, Some(dir.join("10.0.0.1")));
        assert_eq!(
            maintenance_file(dir, "10.0.0.2".parse().unwrap(), 80, None, exists),
            None
        );
    }
}
