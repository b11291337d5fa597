//! Everything the keepalived.conf reader needs from the machine, behind one trait.
//!
//! keepalived reads included files (and globs directories for them), takes its default
//! `@` config-id and `router_id` from the host name, resolves `smtp_server` names and looks
//! up script users and scripts while reading. Behind [`KeepalivedEnv`] the reader stays a
//! pure function of (text, environment): [`MemEnv`] serves tests, [`SystemEnv`] the real
//! machine. Host names go through the crate's resolver; the node name is keepalived's own
//! (uname, not `$HOSTNAME`, which `crate::names::hostname` prefers).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::names::{FilesResolver, Resolver, SystemResolver};

/// What `lstat` says about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    /// A regular file; keepalived refuses to include an executable one.
    File {
        executable: bool,
    },
    Other,
}

pub trait KeepalivedEnv {
    /// The file's text (invalid UTF-8 replaced).
    fn read_file(&self, path: &Path) -> io::Result<String>;
    /// None when nothing is there.
    fn file_kind(&self, path: &Path) -> Option<FileKind>;
    /// The entry names of a directory, None when it cannot be opened.
    fn read_dir(&self, path: &Path) -> Option<Vec<String>>;
    /// `uname -n`: the default `@` config-id is its part before the first dot.
    fn node_name(&self) -> String;
    /// The host's canonical name, keepalived's default `router_id` (None when the host name
    /// does not resolve).
    fn canonical_name(&self) -> Option<String>;
    /// The login name keepalived runs as (the user part of the default
    /// `notification_email_from`).
    fn login_name(&self) -> Option<String>;
    /// Host names (`smtp_server` may be given by name).
    fn names(&self) -> &dyn Resolver;
    fn user_exists(&self, user: &str) -> bool;
    fn group_exists(&self, group: &str) -> bool;
    /// Whether a script's program exists (a bare name is looked up on `PATH`): None when
    /// it does not, else whether it is executable.
    fn script_status(&self, program: &str) -> Option<bool>;
    /// A number in `min..=max` for `${_RANDOM}`.
    fn random(&self, min: u64, max: u64) -> u64;
}

/// The real machine.
#[derive(Debug, Default)]
pub struct SystemEnv {
    names: SystemResolver,
}

impl KeepalivedEnv for SystemEnv {
    fn read_file(&self, path: &Path) -> io::Result<String> {
        std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn file_kind(&self, path: &Path) -> Option<FileKind> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        // keepalived follows a symbolic link it includes (it stats the match).
        let meta = if meta.file_type().is_symlink() {
            std::fs::metadata(path).ok()?
        } else {
            meta
        };
        Some(if meta.is_dir() {
            FileKind::Dir
        } else if meta.is_file() {
            FileKind::File {
                executable: meta.permissions().mode() & 0o111 != 0,
            }
        } else {
            FileKind::Other
        })
    }

    fn read_dir(&self, path: &Path) -> Option<Vec<String>> {
        let dir = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        let entries = std::fs::read_dir(dir).ok()?;
        Some(
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
        )
    }

    fn node_name(&self) -> String {
        // The UTS namespace's host name, which is what uname(2) reports as the node name.
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_or_else(|_| "localhost".to_owned(), |s| s.trim().to_owned())
    }

    fn canonical_name(&self) -> Option<String> {
        let node = self.node_name();
        let hints = dns_lookup::AddrInfoHints {
            flags: libc::AI_CANONNAME,
            ..dns_lookup::AddrInfoHints::default()
        };
        let mut infos = dns_lookup::getaddrinfo(Some(&node), None, Some(hints)).ok()?;
        infos.find_map(|i| i.ok().and_then(|i| i.canonname))
    }

    fn login_name(&self) -> Option<String> {
        let uid = rustix::process::getuid().as_raw();
        passwd_field(|fields| (fields.get(2)? == &uid.to_string()).then(|| fields[0].clone()))
    }

    fn names(&self) -> &dyn Resolver {
        &self.names
    }

    fn user_exists(&self, user: &str) -> bool {
        passwd_field(|fields| (fields.first()? == user).then_some(())).is_some()
    }

    fn group_exists(&self, group: &str) -> bool {
        std::fs::read_to_string("/etc/group").is_ok_and(|text| {
            text.lines()
                .any(|l| l.split(':').next().is_some_and(|g| g == group))
        })
    }

    fn script_status(&self, program: &str) -> Option<bool> {
        let executable = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        };
        if program.contains('/') {
            return executable(Path::new(program));
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).find_map(|dir| executable(&dir.join(program)))
    }

    fn random(&self, min: u64, max: u64) -> u64 {
        let span = max.saturating_sub(min).saturating_add(1);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()));
        min + nanos % span.max(1)
    }
}

/// Runs `pick` over the colon-separated fields of each /etc/passwd line.
fn passwd_field<T>(pick: impl Fn(&Vec<String>) -> Option<T>) -> Option<T> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let fields: Vec<String> = line.split(':').map(str::to_owned).collect();
        pick(&fields)
    })
}

/// An in-memory machine for tests: files, a host name, users and scripts.
#[derive(Debug, Clone)]
pub struct MemEnv {
    files: BTreeMap<PathBuf, (String, bool)>,
    dirs: BTreeSet<PathBuf>,
    pub node_name: String,
    pub canonical_name: Option<String>,
    pub login_name: Option<String>,
    pub names: FilesResolver,
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// Existing scripts and whether they are executable.
    pub scripts: BTreeMap<String, bool>,
}

impl Default for MemEnv {
    fn default() -> Self {
        Self {
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            node_name: "director1.example.com".to_owned(),
            canonical_name: Some("director1.example.com".to_owned()),
            login_name: Some("root".to_owned()),
            names: FilesResolver::default(),
            users: ["root".to_owned()].into(),
            groups: ["root".to_owned()].into(),
            scripts: BTreeMap::new(),
        }
    }
}

impl MemEnv {
    /// Adds a regular, non-executable file (and its parent directories).
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.add(path, text, false);
        self
    }

    /// Adds an executable file, which keepalived refuses to include.
    pub fn executable(mut self, path: &str, text: &str) -> Self {
        self.add(path, text, true);
        self
    }

    pub fn dir(mut self, path: &str) -> Self {
        self.add_dirs(Path::new(path));
        self
    }

    /// An existing, executable script.
    pub fn script(mut self, program: &str) -> Self {
        self.scripts.insert(program.to_owned(), true);
        self
    }

    pub fn user(mut self, user: &str) -> Self {
        self.users.insert(user.to_owned());
        self
    }

    fn add(&mut self, path: &str, text: &str, executable: bool) {
        let path = PathBuf::from(path);
        if let Some(parent) = path.parent() {
            self.add_dirs(parent);
        }
        self.files.insert(path, (text.to_owned(), executable));
    }

    fn add_dirs(&mut self, dir: &Path) {
        for d in dir.ancestors() {
            self.dirs.insert(d.to_path_buf());
        }
    }
}

impl KeepalivedEnv for MemEnv {
    fn read_file(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .map(|(text, _)| text.clone())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn file_kind(&self, path: &Path) -> Option<FileKind> {
        if let Some((_, executable)) = self.files.get(path) {
            return Some(FileKind::File {
                executable: *executable,
            });
        }
        self.dirs.contains(path).then_some(FileKind::Dir)
    }

    fn read_dir(&self, path: &Path) -> Option<Vec<String>> {
        if !self.dirs.contains(path) {
            return None;
        }
        let children = self
            .files
            .keys()
            .chain(self.dirs.iter())
            .filter(|p| p.parent() == Some(path) && p.as_path() != path)
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        Some(children.collect())
    }

    fn node_name(&self) -> String {
        self.node_name.clone()
    }

    fn canonical_name(&self) -> Option<String> {
        self.canonical_name.clone()
    }

    fn login_name(&self) -> Option<String> {
        self.login_name.clone()
    }

    fn names(&self) -> &dyn Resolver {
        &self.names
    }

    fn user_exists(&self, user: &str) -> bool {
        self.users.contains(user)
    }

    fn group_exists(&self, group: &str) -> bool {
        self.groups.contains(group)
    }

    fn script_status(&self, program: &str) -> Option<bool> {
        self.scripts.get(program).copied()
    }

    fn random(&self, min: u64, _max: u64) -> u64 {
        min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_env_lists_files_and_directories_of_a_directory() {
        let env = MemEnv::default()
            .file("/etc/keepalived/conf.d/a.conf", "")
            .executable("/etc/keepalived/conf.d/b.sh", "")
            .dir("/etc/keepalived/conf.d/sub");
        let mut names = env
            .read_dir(Path::new("/etc/keepalived/conf.d"))
            .unwrap_or_default();
        names.sort();
        assert_eq!(names, ["a.conf", "b.sh", "sub"]);
        assert_eq!(
            env.file_kind(Path::new("/etc/keepalived/conf.d/b.sh")),
            Some(FileKind::File { executable: true })
        );
        assert_eq!(
            env.file_kind(Path::new("/etc/keepalived")),
            Some(FileKind::Dir)
        );
        assert_eq!(env.read_dir(Path::new("/nonexistent")), None);
    }
}
