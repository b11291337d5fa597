//! The Debian packages and the static build, installed the way an operator would, on a
//! real kernel: into a minimal Debian bookworm root (tests/vm/deb-root) that holds Debian's
//! own ipvsadm and ldirectord, seen through an overlay on the guest's tmpfs so the cached
//! root is never written. Commands run there with chroot; the kernel answers their netlink
//! requests in the test's network namespace.
//!
//! tests/vm/runner builds what these tests install (packaging/build-deb,
//! packaging/build-static, tests/vm/deb-root) on the host before it boots the guest, and
//! passes the paths in LVSCTL_DEBS, LVSCTL_STATIC and LVSCTL_DEB_ROOT.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::sh;

fn env_path(name: &str) -> PathBuf {
    let value = std::env::var_os(name).unwrap_or_else(|| {
        panic!("{name} is not set: run this test through tests/vm/runner (tests/vm/test-all)")
    });
    PathBuf::from(value)
}

/// A writable copy of the Debian root: an overlay whose upper layer lives in the guest's
/// tmpfs, with /proc, /sys and /dev of the guest bound in. Unmounted on drop.
struct Root {
    dir: PathBuf,
    base: PathBuf,
}

impl Root {
    fn mount(name: &str) -> Root {
        let lower = env_path("LVSCTL_DEB_ROOT");
        let base = PathBuf::from(format!("/run/lvsctl-{name}"));
        let dir = base.join("root");
        let script = format!(
            "set -e; mkdir -p {b}/upper {b}/work {d}
             mount -t overlay overlay -o lowerdir={l},upperdir={b}/upper,workdir={b}/work {d}
             mount -t proc proc {d}/proc; mount --rbind /sys {d}/sys; mount --rbind /dev {d}/dev",
            b = base.display(),
            d = dir.display(),
            l = lower.display()
        );
        let (_, err, rc) = sh(&script);
        assert_eq!(rc, 0, "mounting the Debian root: {err}");
        let root = Root { dir, base };
        // No DNS in the guest: names the tests use come from /etc/hosts, any other lookup
        // fails at once on the closed port 53 of lo instead of waiting for a timeout.
        root.ok("printf 'nameserver 127.0.0.1\\n' > /etc/resolv.conf
             printf '10.0.0.1 vip.lvs.test\\n192.168.1.10 real.lvs.test\\n' >> /etc/hosts");
        root
    }

    /// Run a shell command inside the root: (stdout, stderr, exit code).
    fn run(&self, cmd: &str) -> (String, String, i32) {
        let out = Command::new("chroot")
            .arg(&self.dir)
            .args(["/bin/sh", "-c", cmd])
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("LC_ALL", "C")
            .output()
            .expect("spawn chroot");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(128),
        )
    }

    /// Run a command that must succeed; its stdout.
    fn ok(&self, cmd: &str) -> String {
        let (out, err, rc) = self.run(cmd);
        assert_eq!(rc, 0, "`{cmd}` failed with {rc}:\n{out}{err}");
        out
    }

    /// Copy a file of the host (the guest sees the host's "/") into the root.
    fn copy_in(&self, from: &Path, to: &str) {
        let target = self.dir.join(to.trim_start_matches('/'));
        std::fs::copy(from, &target)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), target.display()));
    }

    /// Every path of the root with its type and link target, minus what dpkg, man-db and
    /// the kernel rewrite by themselves (logs, dpkg's own state, man-db's index).
    fn tree(&self) -> BTreeSet<String> {
        let out = self.ok(
            "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /run \
             -o -path /tmp -o -path /var/log -o -path /var/lib/dpkg -o -path /var/cache/man \\) \
             -prune -o -printf '%y %p %l\\n'",
        );
        out.lines().map(str::to_owned).collect()
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = sh(&format!(
            "umount -R -l {d}; rm -rf {b}",
            d = self.dir.display(),
            b = self.base.display()
        ));
    }
}

/// The debs built by packaging/build-deb, by package name.
fn deb(name: &str) -> PathBuf {
    let dir = env_path("LVSCTL_DEBS");
    let prefix = format!("{name}_");
    std::fs::read_dir(&dir)
        .expect("read LVSCTL_DEBS")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "deb")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
        })
        .unwrap_or_else(|| panic!("no {name}_*.deb in {}", dir.display()))
}

/// A small table, made with Debian's ipvsadm; its `ipvsadm -Ln` output.
fn make_table(root: &Root) -> String {
    root.ok(
        "ipvsadm -A -t 10.0.0.1:80 -s rr && ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 2",
    );
    let listing = root.ok("ipvsadm -Ln");
    assert!(listing.contains("TCP  10.0.0.1:80 rr"), "{listing}");
    listing
}

/// Section headers and program headers of an ELF file, as readelf prints them.
fn readelf(path: &Path) -> String {
    let (out, err, rc) = sh(&format!("readelf -SlW {}", path.display()));
    assert_eq!(rc, 0, "readelf {}: {err}", path.display());
    out
}

#[test]
fn debian_packages_install_use_and_remove_cleanly() {
    kernel_test!();
    let root = Root::mount("package-test");
    for name in ["lvsctl", "lvsctl-ipvsadm", "lvsctl-ldirectord"] {
        root.copy_in(&deb(name), &format!("/tmp/{name}.deb"));
    }
    let original = make_table(&root);
    let before = root.tree();
    assert_eq!(root.ok("head -c 4 /sbin/ipvsadm"), "\x7fELF");
    assert!(
        root.ok("/usr/sbin/ldirectord -v")
            .contains("Linux Director")
    );

    // lvsctl alone takes no name of another package.
    root.ok("dpkg -i /tmp/lvsctl.deb");
    assert_eq!(root.ok("head -c 4 /sbin/ipvsadm"), "\x7fELF");
    assert_eq!(root.ok("ipvsadm -Ln"), original);
    assert!(
        root.ok("/usr/sbin/ldirectord -v")
            .contains("Linux Director")
    );
    let sbin = root.dir.join("usr/sbin/lvsctl");
    let elf = readelf(&sbin);
    assert!(
        !elf.contains(".symtab") && !elf.contains(".debug_"),
        "not stripped:\n{elf}"
    );
    assert_eq!(
        root.ok("lvsctl -Ln"),
        original,
        "the ipvsadm face of /usr/sbin/lvsctl"
    );
    let list = root.ok("lvsctl list");
    assert!(
        list.contains("10.0.0.1:80") && list.contains("192.168.1.10:8080"),
        "{list}"
    );
    let json = root.ok("lvsctl list --json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("list --json");
    assert_eq!(v["services"][0]["real_servers"][0]["weight"], 2, "{json}");

    // Manual pages, completions and the unit, where man, the shells and systemd look.
    for (section, page) in [
        ("1", "lvsctl"),
        ("1", "lvsctl-health"),
        ("8", "lvsctl-ipvsadm"),
    ] {
        let path = root.ok(&format!("man -w {section} {page}"));
        assert_eq!(
            path.trim(),
            format!("/usr/share/man/man{section}/{page}.{section}.gz")
        );
    }
    let completion =
        root.ok("bash -c '. /usr/share/bash-completion/completions/lvsctl && complete -p lvsctl'");
    assert!(completion.starts_with("complete "), "{completion}");
    root.ok("test -s /usr/share/zsh/vendor-completions/_lvsctl");
    root.ok("test -s /usr/share/fish/vendor_completions.d/lvsctl.fish");
    root.ok("systemctl cat lvsctl-health.service > /dev/null");
    root.ok("systemd-analyze verify lvsctl-health.service");
    assert_eq!(
        root.ok("systemctl is-enabled lvsctl-health.service || true")
            .trim(),
        "disabled"
    );
    for doc in ["README.md", "changelog.Debian.gz", "copyright"] {
        root.ok(&format!("test -s /usr/share/doc/lvsctl/{doc}"));
    }

    // The drop-ins: Debian's files move aside, the names run lvsctl.
    root.ok("dpkg -i /tmp/lvsctl-ipvsadm.deb /tmp/lvsctl-ldirectord.deb");
    root.ok("dpkg --verify lvsctl lvsctl-ipvsadm lvsctl-ldirectord");
    for name in ["ipvsadm", "ipvsadm-save", "ipvsadm-restore"] {
        assert_eq!(
            root.ok(&format!("readlink /sbin/{name}")).trim(),
            "/usr/sbin/lvsctl"
        );
        let owner = root.ok(&format!("dpkg-divert --listpackage /sbin/{name}"));
        assert_eq!(owner.trim(), "lvsctl-ipvsadm");
    }
    assert_eq!(root.ok("ipvsadm -Ln"), original);
    assert_eq!(
        root.ok("/sbin/ipvsadm.distrib -Ln"),
        original,
        "Debian's ipvsadm, set aside"
    );
    assert!(
        root.ok("ipvsadm-save -n")
            .contains("-A -t 10.0.0.1:80 -s rr")
    );
    assert_eq!(
        root.ok("readlink -f /usr/sbin/ldirectord").trim(),
        "/usr/sbin/lvsctl"
    );
    assert!(root.ok("ldirectord -v").contains("lvsctl health"));
    assert!(
        root.ok("/usr/sbin/ldirectord.distrib -v")
            .contains("Linux Director")
    );
    assert_eq!(
        root.ok("readlink -f \"$(man -w 8 ipvsadm)\"").trim(),
        "/usr/share/man/man8/lvsctl-ipvsadm.8.gz"
    );
    assert_eq!(
        root.ok("readlink -f \"$(man -w 8 ldirectord)\"").trim(),
        "/usr/share/man/man1/lvsctl-health.1.gz"
    );
    root.ok("bash -c '. /usr/share/bash-completion/completions/ipvsadm && complete -p ipvsadm'");

    // Removal gives the names back; purge leaves nothing behind.
    root.ok("dpkg -r lvsctl-ipvsadm lvsctl-ldirectord");
    assert_eq!(root.ok("head -c 4 /sbin/ipvsadm"), "\x7fELF");
    assert_eq!(root.ok("ipvsadm -Ln"), original, "Debian's ipvsadm again");
    assert!(root.ok("ldirectord -v").contains("Linux Director"));
    root.ok("dpkg -r lvsctl");
    root.ok("dpkg -P lvsctl-ipvsadm lvsctl-ldirectord lvsctl");
    root.ok("rm /tmp/lvsctl.deb /tmp/lvsctl-ipvsadm.deb /tmp/lvsctl-ldirectord.deb");
    let after = root.tree();
    let gone: Vec<_> = before.difference(&after).collect();
    let left: Vec<_> = after.difference(&before).collect();
    assert!(
        gone.is_empty() && left.is_empty(),
        "missing: {gone:#?}\nleft over: {left:#?}"
    );
    assert_eq!(root.ok("dpkg-divert --list | grep lvsctl || true"), "");
    assert_eq!(root.ok("ipvsadm -Ln"), original);
}

#[test]
fn static_build_runs_in_a_bare_debian_root() {
    kernel_test!();
    let bin = env_path("LVSCTL_STATIC");
    let elf = readelf(&bin);
    assert!(!elf.contains("INTERP"), "asks for a dynamic loader:\n{elf}");
    assert!(!elf.contains(".symtab"), "not stripped:\n{elf}");

    let root = Root::mount("static-test");
    root.copy_in(&bin, "/tmp/lvsctl");
    root.ok("! command -v lvsctl && ! command -v cargo");
    let original = make_table(&root);
    assert_eq!(root.ok("/tmp/lvsctl -Ln"), original);
    let list = root.ok("/tmp/lvsctl list");
    assert!(list.contains("10.0.0.1:80"), "{list}");
    // Names through musl's resolver: /etc/hosts, both ways, as glibc's ipvsadm sees them.
    root.ok("/tmp/lvsctl -a -t vip.lvs.test:80 -r real.lvs.test:8081 -m");
    assert!(root.ok("ipvsadm -Ln").contains("192.168.1.10:8081"));
    let named = root.ok("ipvsadm -L");
    assert!(named.contains("vip.lvs.test"), "{named}");
    assert_eq!(root.ok("/tmp/lvsctl -L"), named);
}
