//! Shell completions and man pages, rendered from the clap definitions so they cannot
//! drift from the parser. `lvsctl generate --out-dir DIR` writes them; a test compares the
//! committed `completions/` and `man/` with a fresh rendering.

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::modern::args::Cli;

/// Every generated file as (path relative to the repository root, contents).
pub fn rendered_files() -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut cmd = Cli::command();
    cmd.build();
    for (shell, file) in [
        (Shell::Bash, "lvsctl.bash"),
        (Shell::Zsh, "_lvsctl"),
        (Shell::Fish, "lvsctl.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "lvsctl", &mut buf);
        files.push((Path::new("completions").join(file), buf));
    }
    let mut ipvsadm = crate::cli::ipvsadm::clap_def::command();
    ipvsadm.build();
    for (shell, file) in [
        (Shell::Bash, "ipvsadm.bash"),
        (Shell::Zsh, "_ipvsadm"),
        (Shell::Fish, "ipvsadm.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut ipvsadm.clone(), "ipvsadm", &mut buf);
        files.push((Path::new("completions").join(file), buf));
    }
    let mut buf = Vec::new();
    clap_mangen::Man::new(ipvsadm.name("lvsctl-ipvsadm").bin_name("ipvsadm"))
        .section("8")
        .render(&mut buf)?;
    files.push((PathBuf::from("man/lvsctl-ipvsadm.8"), buf));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    files.push((PathBuf::from("man/lvsctl.1"), buf));
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && !matches!(s.get_name(), "help" | "ipvsadm"))
    {
        let name = format!("lvsctl-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("lvsctl {}", sub.get_name()));
        let mut buf = Vec::new();
        if sub.get_name() == "health" {
            // Its arguments are ldirectord's, parsed by hand: clap cannot describe them.
            let man = clap_mangen::Man::new(page);
            man.render_title(&mut buf)?;
            man.render_name_section(&mut buf)?;
            buf.extend_from_slice(crate::health::manual::roff().as_bytes());
        } else {
            clap_mangen::Man::new(page).render(&mut buf)?;
        }
        files.push((PathBuf::from(format!("man/{name}.1")), buf));
    }
    Ok(files)
}

/// Write every generated file below `root`.
pub fn write_all(root: &Path) -> io::Result<()> {
    for (rel, contents) in rendered_files()? {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, contents)?;
    }
    Ok(())
}
