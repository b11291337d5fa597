//! `/proc/sys/net/ipv4/vs/`: the IPVS sysctls as (name, value) pairs.

use std::fs;
use std::io;
use std::path::Path;

/// Every readable regular entry of `dir` as (file name, value with surrounding blanks
/// trimmed), sorted by name. Entries that cannot be read (write-only sysctls, races with a
/// module unload) are skipped rather than failing the whole listing, since callers show
/// them for information only. Inner blanks are kept: `sync_threshold` reads `3\t50`.
pub fn read_sysctl_dir(dir: &Path) -> io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(bytes) = fs::read(entry.path()) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let value = String::from_utf8_lossy(bytes.trim_ascii()).into_owned();
        out.push((name, value));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_trimmed_and_skips_directories() {
        let dir = std::env::temp_dir().join(format!("lvsctl-sysctl-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("subdir")).unwrap();
        fs::write(dir.join("sync_threshold"), "3\t50\n").unwrap();
        fs::write(dir.join("am_droprate"), "10\n").unwrap();
        fs::write(dir.join("conntrack"), " 0 ").unwrap();
        let got = read_sysctl_dir(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            got,
            vec![
                ("am_droprate".to_owned(), "10".to_owned()),
                ("conntrack".to_owned(), "0".to_owned()),
                ("sync_threshold".to_owned(), "3\t50".to_owned()),
            ]
        );
    }

    #[test]
    fn missing_directory_is_an_error() {
        assert!(read_sysctl_dir(Path::new("/nonexistent/lvsctl/vs")).is_err());
    }
}
