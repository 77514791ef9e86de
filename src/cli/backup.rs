//! `netorch backup`: back up running configs into a git store, and read it back.
//!
//! - `netorch backup -i INV [--limit P] --store DIR`: a one-task playbook (`backup: {}`) built
//!   in memory and run through [`super::run::execute`], so it gets the same results, recap,
//!   JSON, JUnit and exit codes as `netorch run`; the backup writer's commit is listed after
//!   the recap.
//! - `netorch backup log NAME`, `diff NAME [REV [REV]]`, `show NAME [REV]` read the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::backup::{Author, BackupRun, BackupSettings, PushOptions, Store};
use crate::error::{ExitCode, Result};
use crate::playbook::Playbook;
use crate::Error;

use super::common::{print_out, RunOpts};
use super::run::{execute, RunRequest};

/// Environment variable naming the default store.
pub const STORE_ENV: &str = "NETORCH_BACKUP_STORE";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub read: Option<ReadCmd>,

    #[command(flatten)]
    pub run: Box<BackupRunArgs>,
}

#[derive(Debug, Args)]
#[command(mut_arg("check", |a| a.help("Fetch and compare, store nothing")))]
pub struct BackupRunArgs {
    #[command(flatten)]
    pub opts: RunOpts,

    /// The store: a git repository folder, created on first use (default: the hosts'
    /// `backup_store` variable).
    #[arg(long, value_name = "DIR", env = STORE_ENV)]
    pub store: Option<PathBuf>,

    /// File name template inside the store (default `{{ inventory_hostname }}.cfg`; e.g.
    /// `{{ site }}/{{ name }}.cfg`).
    #[arg(long, value_name = "TEMPLATE")]
    pub path: Option<String>,

    /// Mask passwords, secrets, SNMP communities and keys before storing (the default;
    /// the flag is accepted so scripts can say so).
    #[arg(long, conflicts_with = "keep_secrets")]
    pub mask_secrets: bool,

    /// Store passwords, secrets, SNMP communities and keys as the device shows them (for
    /// restores straight from the store; then the store itself must be kept secret).
    #[arg(long)]
    pub keep_secrets: bool,

    /// Refuse a config that shrank by more than this percentage of the stored one.
    #[arg(long, value_name = "PERCENT", default_value_t = 50.0, value_parser = parse_percent)]
    pub max_shrink: f64,

    /// Commit author, `Name <email>`.
    #[arg(long, value_name = "AUTHOR", env = "NETORCH_BACKUP_AUTHOR")]
    pub author: Option<String>,

    /// Push the store to this git remote (URL or path) after each commit, and at the next
    /// run after a push that failed. Credentials in the URL (`https://user:token@...`) go
    /// to git through its environment, never its command line, and are never shown.
    #[arg(
        long,
        value_name = "URL",
        env = "NETORCH_BACKUP_PUSH",
        hide_env_values = true
    )]
    pub push: Option<String>,

    /// SSH remotes: the private key to push with (default: the agent and ssh's defaults).
    #[arg(long, value_name = "FILE", env = "NETORCH_PUSH_SSH_KEY")]
    pub push_ssh_key: Option<PathBuf>,

    /// SSH remotes: the known_hosts file the server's key is checked against (default
    /// `~/.ssh/known_hosts`, as for devices).
    #[arg(long, value_name = "FILE", env = "NETORCH_PUSH_KNOWN_HOSTS")]
    pub push_known_hosts: Option<PathBuf>,

    /// SSH remotes: strict, accept-new or off (default: --host-key-checking, else strict).
    #[arg(long, value_name = "MODE", value_parser = super::common::parse_host_key_checking)]
    pub push_host_key_checking: Option<crate::transport::HostKeyChecking>,

    /// HTTPS remotes: read the token (the password git sends) from this file's first line;
    /// without it, from NETORCH_GIT_TOKEN. Never give it on the command line.
    #[arg(long, value_name = "FILE", env = "NETORCH_GIT_TOKEN_FILE")]
    pub push_token_file: Option<PathBuf>,

    /// Show each changed device's diff.
    #[arg(short = 'D', long)]
    pub diff: bool,

    #[command(flatten)]
    pub notify: super::run::NotifyOpts,
}

#[derive(Debug, Subcommand)]
pub enum ReadCmd {
    /// The commits that changed a device's backup, newest first.
    Log(ReadArgs),
    /// A device's backup diff: previous vs latest, REV vs latest, or REV vs REV.
    Diff(DiffArgs),
    /// A device's backup at the latest or a given revision.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The device (inventory name) or its file in the store.
    pub name: String,
    /// The store folder.
    #[arg(long, value_name = "DIR", env = STORE_ENV, required = true)]
    pub store: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The device (inventory name) or its file in the store.
    pub name: String,
    /// Revisions: a commit, `HEAD~2`, or N = the device's Nth earlier version.
    #[arg(num_args = 0..=2, value_name = "REV")]
    pub revs: Vec<String>,
    /// The store folder.
    #[arg(long, value_name = "DIR", env = STORE_ENV, required = true)]
    pub store: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The device (inventory name) or its file in the store.
    pub name: String,
    /// A commit, `HEAD~2`, or N = the device's Nth earlier version (default: the latest).
    pub rev: Option<String>,
    /// The store folder.
    #[arg(long, value_name = "DIR", env = STORE_ENV, required = true)]
    pub store: PathBuf,
}

fn parse_percent(s: &str) -> std::result::Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}`: expected a percentage from 0 to 100")),
    }
}

/// The in-memory playbook `netorch backup` runs.
const BACKUP_PLAYBOOK: &str = "- name: Config backup\n  hosts: all\n  tasks:\n    - name: Back up the running config\n      backup: {}\n";

pub fn run(args: BackupArgs, verbose: u8) -> Result<ExitCode> {
    match args.read {
        Some(ReadCmd::Log(a)) => log(&a),
        Some(ReadCmd::Diff(a)) => diff(&a),
        Some(ReadCmd::Show(a)) => show(&a),
        None => backup(*args.run, verbose),
    }
}

fn backup(args: BackupRunArgs, verbose: u8) -> Result<ExitCode> {
    if let Some(url) = &args.push {
        crate::backup::remote::check_url(url)
            .map_err(|e| Error::Usage(format!("--push {}: {e}", crate::secret::redact_url(url))))?;
    }
    let notify = args.notify.load()?;
    let mut req = RunRequest::load(&args.opts, &[], verbose)?;
    req.notify = notify;
    req.playbooks = vec![Playbook::load_str(
        Path::new("<netorch backup>"),
        BACKUP_PLAYBOOK,
        &[],
    )?];
    let settings = BackupSettings {
        default_store: args.store.clone(),
        author: args
            .author
            .as_deref()
            .map(Author::parse)
            .unwrap_or_default(),
        max_shrink: args.max_shrink / 100.0,
        mask_secrets: !args.keep_secrets,
        path_template: args.path.clone(),
        push: args.push.clone(),
        push_options: PushOptions {
            host_key_checking: args
                .push_host_key_checking
                .or(args.opts.host_key_checking)
                .unwrap_or(crate::transport::HostKeyChecking::Strict),
            known_hosts_file: args.push_known_hosts.clone(),
            ssh_key_file: args.push_ssh_key.clone(),
            token: match &args.push {
                Some(_) => PushOptions::token_from(args.push_token_file.as_deref())
                    .map_err(Error::Usage)?,
                None => None,
            },
            ..PushOptions::default()
        },
        // `--shard K/N` (or `--shards N` in an Indexed Job) labels the commit; without it,
        // NETORCH_SHARD may (a shard split some other way).
        shard: crate::backup::shard_label(req.shard.map(|s| s.to_string()).as_deref())
            .map_err(Error::Usage)?,
    };
    req.diff = args.diff;
    req.backups = Some(Arc::new(BackupRun::new(settings)));
    let report = execute(req)?;
    Ok(report.exit_code())
}

fn open(store: &Path) -> Result<Store> {
    Store::open(store).map_err(|e| Error::Usage(e.to_string()))
}

/// A device name or a file in the store -> the file's path in the store.
fn resolve_name(store: &Store, name: &str) -> Result<String> {
    let files = store.files().map_err(|e| Error::Usage(e.to_string()))?;
    let cfg = format!("{name}.cfg");
    if let Some(f) = files.iter().find(|f| **f == name || **f == cfg) {
        return Ok(f.clone());
    }
    // Path templates put files in folders: match on the file's own name.
    let hits: Vec<&String> = files
        .iter()
        .filter(|f| {
            let base = f.rsplit('/').next().unwrap_or(f);
            base == name || base == cfg
        })
        .collect();
    match hits.as_slice() {
        [one] => return Ok((*one).clone()),
        [] => {}
        many => {
            return Err(Error::Usage(format!(
                "`{name}` matches several backups: {}; give the file's path",
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
    // Deleted devices still have history: accept any path with a log.
    if !store
        .log(name)
        .map_err(|e| Error::Usage(e.to_string()))?
        .is_empty()
    {
        return Ok(name.to_string());
    }
    let stems: Vec<&str> = files.iter().map(|f| f.trim_end_matches(".cfg")).collect();
    let hint = crate::source::suggest(name, stems.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "{}: no backup of `{name}`{hint}",
        store.root().display()
    )))
}

fn log(a: &ReadArgs) -> Result<ExitCode> {
    let store = open(&a.store)?;
    let path = resolve_name(&store, &a.name)?;
    let entries = store.log(&path).map_err(|e| Error::Usage(e.to_string()))?;
    if a.json {
        let doc = serde_json::json!({ "path": path, "commits": entries });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
        print_out(&format!("{text}\n"))?;
        return Ok(ExitCode::Ok);
    }
    let mut text = String::new();
    for e in &entries {
        let when = chrono::DateTime::from_timestamp(e.time, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let short: String = e.commit.chars().take(10).collect();
        let shard = e
            .shard
            .as_deref()
            .map(|k| format!("  [shard {k}]"))
            .unwrap_or_default();
        text.push_str(&format!(
            "{short}  {when}  +{:<4} -{:<4} {}{shard}\n",
            e.added, e.removed, e.summary
        ));
    }
    print_out(&text)?;
    Ok(ExitCode::Ok)
}

fn diff(a: &DiffArgs) -> Result<ExitCode> {
    let store = open(&a.store)?;
    let path = resolve_name(&store, &a.name)?;
    let (old_rev, new_rev) = match a.revs.as_slice() {
        [] => ("1".to_string(), "0".to_string()),
        [one] => (one.clone(), "0".to_string()),
        [x, y, ..] => (x.clone(), y.clone()),
    };
    let read = |rev: &str| {
        store
            .read_at(&path, Some(rev))
            .map_err(|e| Error::Usage(e.to_string()))
    };
    let old = read(&old_rev)?;
    let new = read(&new_rev)?;
    print_out(&crate::backup::sanity::unified_diff(
        &old,
        &new,
        &format!("{path}@{old_rev}"),
        &format!("{path}@{new_rev}"),
    ))?;
    Ok(ExitCode::Ok)
}

fn show(a: &ShowArgs) -> Result<ExitCode> {
    let store = open(&a.store)?;
    let path = resolve_name(&store, &a.name)?;
    let text = store
        .read_at(&path, a.rev.as_deref())
        .map_err(|e| Error::Usage(e.to_string()))?;
    print_out(&text)?;
    Ok(ExitCode::Ok)
}
