//! Options and loading steps shared by several subcommands.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::inventory::shard::{Shard, JOB_INDEX_ENV};
use crate::inventory::Inventory;
use crate::source::{parse_yaml, read_source};
use crate::value::Vars;
use crate::value::VarsFromYaml;
use crate::{Error, Result};

/// Where the inventory comes from, and extra vars.
#[derive(Debug, Clone, clap::Args)]
pub struct InventoryOpts {
    /// Inventory: a YAML or INI file, a folder of them, or an executable dynamic inventory.
    /// Repeat to merge several (later ones win).
    //
    // Global, so it may also follow a subcommand word (`netorch inventory list -i X`).
    // clap cannot require a global argument, so `load` says when it is missing.
    #[arg(
        short = 'i',
        long = "inventory",
        value_name = "INVENTORY",
        env = "NETORCH_INVENTORY",
        value_delimiter = ',',
        global = true
    )]
    pub inventory: Vec<PathBuf>,

    /// Extra variables (win over everything): `key=value ...`, YAML/JSON `{...}`, or `@file.yml`.
    /// (`NETORCH_EXTRA_VARS` when none is given: how the daemon passes a job's extra vars
    /// without putting them on a command line.)
    #[arg(
        short = 'e',
        long = "extra-vars",
        value_name = "VARS",
        global = true,
        env = "NETORCH_EXTRA_VARS",
        hide_env_values = true
    )]
    pub extra_vars: Vec<String>,

    /// How long a dynamic inventory script may take, reading its output included (`60`,
    /// `10s`, `2m`); it is stopped, with anything it started, when time is up.
    #[arg(long, value_name = "DURATION", env = "NETORCH_INVENTORY_TIMEOUT", global = true, value_parser = inventory_timeout)]
    pub inventory_timeout: Option<std::time::Duration>,

    #[command(flatten)]
    pub vault: VaultOpts,
}

/// Ansible Vault passwords, as `ansible-playbook` takes them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VaultOpts {
    /// A vault password: `[LABEL@]SOURCE`, SOURCE a file, an executable that prints the
    /// password, or `prompt`. Repeat for several vault ids.
    #[arg(
        long = "vault-id",
        value_name = "[LABEL@]SOURCE",
        env = "ANSIBLE_VAULT_IDENTITY_LIST",
        value_delimiter = ',',
        global = true
    )]
    pub vault_ids: Vec<String>,

    /// A file holding the vault password, or an executable that prints it (also
    /// ANSIBLE_VAULT_PASSWORD_FILE).
    #[arg(
        long = "vault-password-file",
        visible_alias = "vault-pass-file",
        value_name = "FILE",
        global = true
    )]
    pub password_files: Vec<String>,

    /// Ask for the vault password on the terminal.
    #[arg(
        long = "ask-vault-pass",
        visible_alias = "ask-vault-password",
        global = true
    )]
    pub ask: bool,
}

impl VaultOpts {
    /// Read the passwords the options (and ANSIBLE_VAULT_PASSWORD_FILE) name and make them
    /// the ones every later load uses. Once per process: a prompt is not asked twice.
    pub fn install(&self) -> Result<()> {
        static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
        if DONE.get().is_some() {
            return Ok(());
        }
        let mut password_files = self.password_files.clone();
        if let Some(f) = std::env::var_os("ANSIBLE_VAULT_PASSWORD_FILE") {
            if !f.is_empty() {
                password_files.push(f.to_string_lossy().into_owned());
            }
        }
        let sources = crate::vault::password::Sources {
            vault_ids: self
                .vault_ids
                .iter()
                .filter(|s| !s.trim().is_empty())
                .cloned()
                .collect(),
            password_files,
            ask: self.ask,
        };
        let keyring = crate::vault::password::keyring(&sources).map_err(Error::Usage)?;
        crate::vault::install(keyring);
        let _ = DONE.set(());
        Ok(())
    }
}

fn inventory_timeout(s: &str) -> std::result::Result<std::time::Duration, String> {
    match crate::value::parse_duration(s) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(format!(
            "expected {} (more than 0)",
            crate::value::duration::DURATION_EXPECTED
        )),
    }
}

impl InventoryOpts {
    /// Load the inventory; `playbook_dirs` add their host_vars/ and group_vars/.
    pub fn load(&self, playbook_dirs: &[PathBuf]) -> Result<Inventory> {
        self.vault.install()?;
        if self.inventory.is_empty() {
            return Err(crate::Error::Usage(
                "no inventory: give one with -i FILE|DIR (or set NETORCH_INVENTORY)".into(),
            ));
        }
        let mut opts = crate::inventory::LoadOptions {
            playbook_dirs: playbook_dirs.to_vec(),
            ..Default::default()
        };
        if let Some(t) = self.inventory_timeout {
            opts.script_timeout = t;
        }
        Inventory::load_opts(&self.inventory, &opts)
    }

    /// The extra vars; their warnings go to stderr (for the commands without a report).
    pub fn extra_vars(&self) -> Result<Vars> {
        let (vars, warnings) = parse_extra_vars_warn(&self.extra_vars)?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        Ok(vars)
    }
}

/// The options every command that runs tasks on hosts shares (`run`, `backup`, `exec`,
/// `push`, `pull`), flattened into each, so a new one is added in one place.
#[derive(Debug, Clone, clap::Args)]
pub struct RunOpts {
    #[command(flatten)]
    pub inv: InventoryOpts,

    /// Only hosts matching this pattern (default: all; `@file` reads patterns from a file,
    /// `@failed` is the failed hosts of the last run in this folder).
    #[arg(short, long)]
    pub limit: Option<String>,

    /// How many hosts are worked on at once.
    #[arg(short, long, default_value_t = crate::executor::DEFAULT_FORKS, value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::executor::MAX_FORKS)))]
    pub forks: u32,

    /// Change nothing: show what would change.
    #[arg(short = 'C', long)]
    pub check: bool,

    /// Print one JSON document with every result instead of the live output.
    #[arg(long)]
    pub json: bool,

    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Also write the --json document to this file (written whole or not at all), whatever
    /// stdout shows: a shard's report for `netorch report merge`, a scheduler's record.
    #[arg(long, value_name = "FILE")]
    pub json_file: Option<PathBuf>,

    /// Host key checking for every host: strict, accept-new or off (overrides the inventory).
    #[arg(long, value_name = "MODE", value_parser = parse_host_key_checking)]
    pub host_key_checking: Option<crate::transport::HostKeyChecking>,

    /// Run only shard K of N (`2/4`): hosts are split by rendezvous hashing of their
    /// names, so every host is in exactly one shard and stays there as hosts come and go.
    /// `netorch report merge` joins the shards' --json reports.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "shards")]
    pub shard: Option<Shard>,

    /// N shards, this one named by Kubernetes' JOB_COMPLETION_INDEX (0-based; an Indexed
    /// Job sets it in each pod).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::inventory::shard::MAX_SHARDS)))]
    pub shards: Option<u32>,
}

impl RunOpts {
    /// The shard this process runs (`--shard`, or `--shards` with JOB_COMPLETION_INDEX).
    pub fn shard(&self) -> Result<Option<Shard>> {
        if let Some(s) = self.shard {
            return Ok(Some(s));
        }
        let Some(count) = self.shards else {
            return Ok(None);
        };
        match std::env::var(JOB_INDEX_ENV) {
            Ok(v) => Shard::from_job_index(&v, count).map(Some).map_err(Error::Usage),
            Err(_) => Err(Error::Usage(format!(
                "--shards {count} takes this process's shard from {JOB_INDEX_ENV}, which is not set (Kubernetes sets it in an Indexed Job's pods); elsewhere use --shard K/{count}"
            ))),
        }
    }
}

/// `--shard` values: `K/N`.
pub fn parse_shard(s: &str) -> std::result::Result<Shard, String> {
    Shard::parse(s)
}

/// Play keywords as options, for the commands that build their one-task playbook in memory
/// (`exec`, `push`, `pull`); a playbook for `run` says them in the play.
#[derive(Debug, Clone, clap::Args)]
pub struct PlayOpts {
    /// A hard deadline per host (`90`, `5m`): a hung host is abandoned and failed, it never
    /// stalls the run.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub host_timeout: Option<std::time::Duration>,

    /// At most this many new sessions per second (jittered), to spare the TACACS/RADIUS
    /// servers behind the devices.
    #[arg(long, value_name = "PER_SEC", value_parser = parse_rate)]
    pub connect_rate: Option<f64>,
}

impl PlayOpts {
    /// Write the options into a play (a JSON mapping that becomes the in-memory playbook).
    pub fn apply(&self, play: &mut serde_json::Map<String, serde_json::Value>) {
        if let Some(t) = self.host_timeout {
            play.insert(
                "host_timeout".into(),
                serde_json::Value::from(t.as_secs_f64()),
            );
        }
        if let Some(r) = self.connect_rate {
            play.insert("connect_rate".into(), serde_json::Value::from(r));
        }
    }
}

fn parse_duration_arg(s: &str) -> std::result::Result<std::time::Duration, String> {
    match crate::playbook::values::parse_duration(s) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(format!(
            "`{s}`: expected a duration above 0: seconds, or `500ms`, `30s`, `5m`, `1h`"
        )),
    }
}

fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "`{s}`: expected a number of sessions per second above 0"
        )),
    }
}

/// Parse `-e` arguments the way Ansible does: `@file` (YAML or JSON, relative to the current
/// folder), an inline YAML/JSON mapping, or space-separated `key=value` pairs (values are
/// strings).
pub fn parse_extra_vars(items: &[String]) -> Result<Vars> {
    parse_extra_vars_warn(items).map(|(vars, _)| vars)
}

/// [`parse_extra_vars`], with warnings about values that are probably not what the user
/// meant (`key=[a, b]` is a string, as in Ansible, not a list).
pub fn parse_extra_vars_warn(items: &[String]) -> Result<(Vars, Vec<String>)> {
    let mut out = Vars::new();
    let mut warnings = Vec::new();
    for item in items {
        let item = item.trim();
        if let Some(file) = item.strip_prefix('@') {
            let path = Path::new(file);
            let text = read_source(path)?;
            if crate::vault::is_vaulted(&text) {
                out.extend(crate::inventory::load_vars_file(path)?);
                continue;
            }
            let VarsFromYaml(vars) = parse_yaml(path, &text, "a mapping of variables")?;
            out.extend(vars);
        } else if item.starts_with('{') {
            crate::source::check_nesting(Path::new("--extra-vars"), item)
                .map_err(|e| Error::Usage(format!("--extra-vars: {}", e.message)))?;
            let VarsFromYaml(vars) = serde_yaml::from_str(item).map_err(|e| {
                Error::Usage(format!(
                    "--extra-vars `{item}`: not a valid YAML/JSON mapping: {e}"
                ))
            })?;
            out.extend(vars);
        } else {
            let words = shlex::split(item)
                .ok_or_else(|| Error::Usage(format!("--extra-vars `{item}`: unbalanced quotes")))?;
            for word in words {
                let (k, v) = word.split_once('=').ok_or_else(|| {
                    Error::Usage(format!(
                        "--extra-vars: `{word}` is not key=value (use `{word}=VALUE`, a YAML \
                         mapping, or @file.yml)"
                    ))
                })?;
                if k.is_empty() {
                    return Err(Error::Usage(format!("--extra-vars: `{word}` has no key")));
                }
                let t = v.trim();
                if (t.starts_with('[') && t.ends_with(']'))
                    || (t.starts_with('{') && t.ends_with('}'))
                {
                    warnings.push(format!(
                        "--extra-vars `{word}`: `{k}` is the string `{v}`, not a list or \
                         mapping (key=value values are strings); give YAML/JSON for that: \
                         -e '{{\"{k}\": {v}}}'"
                    ));
                }
                out.insert(k.to_string(), serde_json::Value::from(v));
            }
        }
    }
    Ok((out, warnings))
}

/// The exit status of a command whose reader closed the pipe (`netorch ... | head -1`):
/// what a shell reports for a process ended by SIGPIPE (128 + 13), so scripts with
/// `pipefail` see the same status as for any other tool.
pub const CLOSED_PIPE_STATUS: i32 = 141;

/// The path an error writing to stdout carries, so `main_entry` can tell a closed pipe
/// apart from a failing file.
pub const STDOUT_PATH: &str = "<stdout>";

/// Write `text` to stdout. Rust ignores SIGPIPE and `print!` panics on a closed pipe; this
/// returns the error instead, and `main_entry` ends quietly on it.
pub fn print_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(STDOUT_PATH, e))
}

/// Whether `e` is a write to stdout whose reader has gone.
pub fn is_closed_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { path, source }
        if path.as_os_str() == STDOUT_PATH && source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The folders holding the given playbook files (for their host_vars/, group_vars/ and
/// templates/).
pub fn playbook_dirs(playbooks: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for p in playbooks {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// `--host-key-checking` values: strict, accept-new or off.
pub fn parse_host_key_checking(
    s: &str,
) -> std::result::Result<crate::transport::HostKeyChecking, String> {
    crate::transport::HostKeyChecking::parse(s)
        .ok_or_else(|| format!("`{s}`: expected strict, accept-new or off"))
}

/// `p` made absolute against the current folder (for paths handed to an in-memory
/// playbook, which resolves relative ones against its own folder).
pub fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .map_err(|e| Error::io(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extra_vars_forms() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.yml");
        std::fs::write(&f, "from_file: 1\n").unwrap();
        let v = parse_extra_vars(&[
            "a=1 b='two words'".into(),
            "{c: [1, 2]}".into(),
            format!("@{}", f.display()),
        ])
        .unwrap();
        assert_eq!(v["a"], "1");
        assert_eq!(v["b"], "two words");
        assert_eq!(v["c"], json!([1, 2]));
        assert_eq!(v["from_file"], 1);
        let (v, warnings) = parse_extra_vars_warn(&["servers=[10.0.0.1] site=ams".into()]).unwrap();
        assert_eq!(v["servers"], "[10.0.0.1]");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("not a list"), "{warnings:?}");
        let e = parse_extra_vars(&["novalue".into()]).unwrap_err();
        assert!(e.to_string().contains("`novalue` is not key=value"), "{e}");
        assert_eq!(e.exit_code(), crate::ExitCode::BadOptions);
    }
}
