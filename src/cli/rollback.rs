//! `netorch rollback --run RUN_ID`: bring hosts back to the config they had before a run's
//! `config` tasks changed them. It is a run of one `config` task in `mode: replace` whose
//! intended config is the host's record, so it previews with `--check --diff`, reports per
//! host and is recorded in turn (a rollback can be rolled back).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::record::{recorded_hosts, recorded_runs, ROLLBACK_DIR};
use crate::error::{ExitCode, Result};
use crate::Error;

use super::common::{PlayOpts, RunOpts};
use super::run::{execute, playbook_in_memory};

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub opts: RunOpts,

    #[command(flatten)]
    pub play: PlayOpts,

    /// The run whose changes to undo: the id a run prints (and its JSON report holds as
    /// `rollback_run`), or `last` for the newest.
    #[arg(long, value_name = "RUN_ID")]
    pub run: String,

    /// Show the unified diff of each config (predicted with --check).
    #[arg(long)]
    pub diff: bool,

    /// Where the records are (default: .netorch/rollback in the current folder).
    #[arg(long, value_name = "DIR")]
    pub records: Option<PathBuf>,
}

pub fn run(args: RollbackArgs, verbose: u8) -> Result<ExitCode> {
    let base = args
        .records
        .clone()
        .unwrap_or_else(|| PathBuf::from(ROLLBACK_DIR));
    let runs = recorded_runs(&base);
    let id = if args.run == "last" {
        runs.first()
            .cloned()
            .ok_or_else(|| Error::Usage(format!("no recorded run in {}", base.display())))?
    } else {
        args.run.clone()
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
    let mut req = super::run::RunRequest::load(&args.opts, &[], verbose)?;
    req.diff = args.diff;
    let pattern: Vec<String> = hosts.iter().map(|(h, _)| format!("={h}")).collect();
    let mut play = serde_json::Map::new();
    play.insert("name".into(), Value::from(format!("rollback {id}")));
    play.insert("hosts".into(), Value::from(pattern.join(",")));
    args.play.apply(&mut play);
    let src = format!(
        "{{% raw %}}{}{{% endraw %}}/{{{{ inventory_hostname }}}}.cfg",
        dir.display()
    );
    play.insert(
        "tasks".into(),
        json!([{
            "name": format!("back to the config before run {id}"),
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

fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .map_err(|e| Error::io(p, e))
}
