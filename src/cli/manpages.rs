//! `netorch manpages DIR`: the man pages, for packagers. Section 1 comes from the clap model
//! (the same text as `--help`, so they cannot drift apart); the file formats of section 5 are
//! written by hand in contrib/man/ and embedded here so the binary alone can install them.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::error::{Error, ExitCode, Result};

#[derive(Debug, clap::Args)]
pub struct ManpagesArgs {
    /// Folder to write netorch.1, netorch-<command>.1 and the section 5 pages into.
    pub dir: PathBuf,
}

/// The file-format pages: (file name, roff text).
const SECTION5: &[(&str, &str)] = &[
    (
        "netorch-playbook.5",
        include_str!("../../contrib/man/netorch-playbook.5"),
    ),
    (
        "netorch-inventory.5",
        include_str!("../../contrib/man/netorch-inventory.5"),
    ),
];

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    crate::fs::write_atomic(&path, bytes).map_err(|e| Error::io(&path, e))
}

fn render(cmd: clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .date(crate::version::BUILD_DATE)
        .source(format!("netorch {}", crate::version::VERSION))
        .manual("netorch manual")
        .render(&mut out)
        .map_err(|e| Error::Usage(format!("cannot render a man page: {e}")))?;
    Ok(out)
}

pub fn run(args: ManpagesArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.dir).map_err(|e| Error::io(&args.dir, e))?;
    let mut cmd = super::Cli::command();
    cmd.build();
    let mut written = vec![];
    write(&args.dir, "netorch.1", &render(cmd.clone())?)?;
    written.push("netorch.1".to_string());
    // clap's own `help` command needs no page: `netorch help X` is `man netorch-X`.
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("netorch-{}", sub.get_name());
        // The page's NAME and SYNOPSIS say `netorch-run`, as git's pages do.
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("netorch {}", sub.get_name()));
        write(&args.dir, &format!("{name}.1"), &render(page)?)?;
        written.push(format!("{name}.1"));
    }
    for (name, text) in SECTION5 {
        write(&args.dir, name, text.as_bytes())?;
        written.push((*name).to_string());
    }
    super::common::print_out(&format!(
        "wrote {} man pages to {}: {}\n",
        written.len(),
        args.dir.display(),
        written.join(" ")
    ))?;
    Ok(ExitCode::Ok)
}
