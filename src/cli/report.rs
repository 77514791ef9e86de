//! `netorch report merge`: join the `--json` reports of a sharded run (`--shard K/N`) into
//! the one report an unsharded run would have written, with its exit code.

use std::path::PathBuf;

use crate::error::{ExitCode, Result};
use crate::report::merge;
use crate::Error;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Join the shards' --json reports into one: every host's results, the recap and the
    /// exit code of the whole run (exit 2 when a host failed in any shard, 3 unreachable).
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' reports (`netorch run --shard K/N --json-file shard-K.json`), any
    /// order; a folder stands for the `*.json` files in it.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,

    /// Write the merged report here instead of stdout (and print a one-line summary).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a JUnit XML report of the merged run.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Merge even when shards are missing (a warning in the report says which); the
    /// default refuses, so a lost shard cannot pass for a complete run.
    #[arg(long)]
    pub partial: bool,
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    match args.command {
        ReportCommand::Merge(m) => merge_cmd(m),
    }
}

fn merge_cmd(args: MergeArgs) -> Result<ExitCode> {
    let mut files = Vec::new();
    for p in &args.reports {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| Error::io(p, e))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json") && f.is_file())
                // A merged report written into the same folder is not a shard.
                .filter(|f| args.output.as_ref().is_none_or(|o| !same_file(f, o)))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: no *.json report in this folder",
                    p.display()
                )));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut reports = Vec::with_capacity(files.len());
    for p in &files {
        reports.push((p.clone(), merge::read(p)?));
    }
    let shards = reports.len();
    let merged = merge::merge(reports, args.partial)?;
    // The shards masked their secrets; the merged report is written as it is serialised.
    let none = crate::secret::Redactor::new();
    match &args.output {
        Some(path) => {
            crate::fs::write_atomic_with(path, |w| {
                crate::report::write_json(&merged, &none, w).map(|_| ())
            })
            .map_err(|e| Error::io(path, e))?;
            super::common::print_out(&format!(
                "merged {shards} shard reports into {}: {} hosts, {} with failures\n",
                path.display(),
                merged.stats.len(),
                merged.failed_hosts().len()
            ))?;
        }
        None => {
            let out = std::io::stdout().lock();
            crate::report::write_json(&merged, &none, out)
                .map(drop)
                .map_err(|e| Error::io(super::common::STDOUT_PATH, e))?;
        }
    }
    for w in &merged.warnings {
        if w.starts_with("partial merge") {
            eprintln!("warning: {w}");
        }
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, crate::report::junit::to_junit(&merged))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(merged.exit_code())
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
