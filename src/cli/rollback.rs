//! `netorch rollback --run RUN_ID`: bring hosts back to the config they had before a run's
//! `config` tasks changed them. It is a run of one `config` task in `mode: replace` whose
//! intended config is the host's record, so it previews with `--check --diff`, reports per
//! host and is recorded in turn (a rollback can be rolled back).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::record::{recorded_hosts, recorded_runs, ROLLBACK_DIR};
use crate::error::{ExitCode, Result};
use crate::Error;

use super::common::{absolute, PlayOpts, RunOpts};
use super::run::{execute, playbook_in_memory};

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub opts: RunOpts,

    #[command(flatten)]
    pub play: PlayOpts,

    /// The run whose changes to undo: the id a run prints (and its JSON report holds as
    /// `rollback_run`), or `last` for the newest.
    #[arg(
        long,
        value_name = "RUN_ID",
        required_unless_present = "store",
        conflicts_with = "store"
    )]
    pub run: Option<String>,

    /// Go back to a backup instead: the store folder...
    #[arg(long, value_name = "DIR", requires = "to")]
    pub store: Option<PathBuf>,

    /// ...and the revision (a commit, `HEAD~2`, or N = the device's Nth earlier version).
    #[arg(long, value_name = "REV", requires = "store")]
    pub to: Option<String>,

    /// Show the unified diff of each config (predicted with --check).
    #[arg(long)]
    pub diff: bool,

    /// Where the records are (default: .netorch/rollback in the current folder).
    #[arg(long, value_name = "DIR")]
    pub records: Option<PathBuf>,
}

pub fn run(args: RollbackArgs, verbose: u8) -> Result<ExitCode> {
    if let (Some(store), Some(rev)) = (&args.store, &args.to) {
        return from_store(&args, store, rev, verbose);
    }
    let run_arg = args.run.clone().unwrap_or_default();
    let base = args
        .records
        .clone()
        .unwrap_or_else(|| PathBuf::from(ROLLBACK_DIR));
    let runs = recorded_runs(&base);
    let id = if run_arg == "last" {
        runs.first()
            .cloned()
            .ok_or_else(|| Error::Usage(format!("no recorded run in {}", base.display())))?
    } else {
        run_arg
    };
    if id.contains(['/', '\\']) || id.starts_with('.') {
        return Err(Error::Usage(format!("`{id}` is not a run id")));
    }
    let hosts = recorded_hosts(&base, &id).map_err(|e| {
        let known = if runs.is_empty() {
            "none".to_string()
        } else {
            runs.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        };
        Error::Usage(format!(
            "no records of run `{id}` in {} ({e}); recorded runs, newest first: {known}",
            base.display()
        ))
    })?;
    if hosts.is_empty() {
        return Err(Error::Usage(format!(
            "run `{id}` recorded no host in {}",
            base.join(&id).display()
        )));
    }
    let dir = absolute(&base.join(&id))?;
    let names: Vec<String> = hosts.into_iter().map(|(h, _)| h).collect();
    replay(&args, &dir, &names, &format!("run {id}"), verbose)
}

/// Each host back to `DIR/<host>.cfg` through a `config` task in `mode: replace`.
fn replay(
    args: &RollbackArgs,
    dir: &Path,
    hosts: &[String],
    what: &str,
    verbose: u8,
) -> Result<ExitCode> {
    let mut req = super::run::RunRequest::load(&args.opts, &[], verbose)?;
    req.diff = args.diff;
    let pattern: Vec<String> = hosts.iter().map(|h| format!("={h}")).collect();
    let mut play = serde_json::Map::new();
    play.insert("name".into(), Value::from(format!("rollback to {what}")));
    play.insert("hosts".into(), Value::from(pattern.join(",")));
    args.play.apply(&mut play);
    let src = format!(
        "{{% raw %}}{}{{% endraw %}}/{{{{ inventory_hostname }}}}.cfg",
        dir.display()
    );
    play.insert(
        "tasks".into(),
        json!([{
            "name": format!("back to {what}"),
            "config": { "mode": "replace", "src": src },
        }]),
    );
    req.playbooks = vec![playbook_in_memory(
        Path::new("<netorch rollback>"),
        Value::Object(play),
    )?];
    let report = execute(req)?;
    Ok(report.exit_code())
}

/// `--store DIR --to REV`: each inventory host (after `--limit`) that has a backup at REV
/// goes back to it. The configs are copied to a private temporary folder for the run.
fn from_store(args: &RollbackArgs, store: &Path, rev: &str, verbose: u8) -> Result<ExitCode> {
    let store = crate::backup::Store::open(store)
        .map_err(|e| Error::Usage(format!("--store {}: {e}", store.display())))?;
    let files = store.files().map_err(|e| Error::Usage(e.to_string()))?;
    let inventory = args.opts.inv.load(&[])?;
    let pattern = args.opts.limit.clone().unwrap_or_else(|| "all".into());
    let tmp = tempfile::Builder::new()
        .prefix("netorch-rollback-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut hosts = Vec::new();
    let mut missing = Vec::new();
    for host in inventory.select(&pattern)? {
        let cfg = format!("{}.cfg", host.name);
        let Some(file) = files
            .iter()
            .find(|f| f.rsplit('/').next() == Some(cfg.as_str()))
        else {
            missing.push(host.name.clone());
            continue;
        };
        // N = the device's Nth earlier version, as `backup show` reads it.
        let text = store
            .read_at(file, Some(rev))
            .map_err(|e| Error::Usage(format!("{}: {e}", host.name)))?;
        let path = tmp.path().join(&cfg);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        hosts.push(host.name.clone());
    }
    if hosts.is_empty() {
        return Err(Error::Usage(format!(
            "no host of `{pattern}` has a backup in {}",
            store.root().display()
        )));
    }
    if !missing.is_empty() {
        eprintln!(
            "warning: no backup of {} in {}; left alone",
            missing.join(", "),
            store.root().display()
        );
    }
    replay(args, tmp.path(), &hosts, &format!("backup {rev}"), verbose)
}
