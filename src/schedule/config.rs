//! The daemon's schedule file (`schedule.yml`): jobs with a cron expression or an interval,
//! each running a playbook or a backup against an inventory. Loaded through
//! [`crate::source`], so mistakes come back with file:line:col and "did you mean".
//!
//! ```yaml
//! status_file: /var/lib/netorch/status.json
//! grace_period: 5m
//! jobs:
//!   - name: nightly-backup
//!     cron: "0 30 2 * * *"        # seconds allowed (6 fields), or 5 fields
//!     jitter: 2m
//!     backup: { store: /srv/netorch/configs }   # secrets masked unless mask_secrets: false
//!     inventory: inventory/
//!     limit: "!lab"
//!   - name: ntp-audit
//!     every: 1h
//!     playbook: playbooks/ntp.yml
//!     inventory: inventory/
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::playbook::values;
use crate::source::{parse_yaml, read_source, LoadError};

/// Default time in-flight jobs get to finish after SIGTERM.
pub const DEFAULT_GRACE_SECS: u64 = 60;

/// The longest default run time limit (a job's `timeout:` may say more).
pub const MAX_DEFAULT_TIMEOUT_SECS: u64 = 3600;
/// The shortest default run time limit: a job every few seconds still gets time to
/// connect.
pub const MIN_DEFAULT_TIMEOUT_SECS: u64 = 60;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Where the JSON status is written (default: `netorch-status.json` beside the file).
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub status_file: Option<String>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub grace_period: Option<Duration>,
    /// Change and failure notifications for every job that has no `notify:` of its own.
    #[serde(default)]
    pub notify: Option<crate::notify::config::NotifySpec>,
    pub jobs: Vec<JobSpec>,
    /// The web interface (see [`crate::web::config`]).
    #[serde(default)]
    pub web: Option<crate::web::config::WebSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    #[serde(deserialize_with = "values::scalar_string")]
    pub name: String,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub cron: Option<String>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub every: Option<Duration>,
    /// Random delay up to this much before each run (spreads load across jobs and daemons).
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub jitter: Option<Duration>,
    /// Run once at start when a scheduled run was missed while the daemon was down.
    #[serde(default, deserialize_with = "values::boolish")]
    pub catch_up: bool,
    /// How long one run may take before it is killed (default: the time between two
    /// runs, at most [`MAX_DEFAULT_TIMEOUT_SECS`]).
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub playbook: Option<String>,
    #[serde(default)]
    pub backup: Option<BackupJobSpec>,
    #[serde(deserialize_with = "values::scalar_string")]
    pub inventory: String,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "job_forks")]
    pub forks: Option<u32>,
    /// Extra variables (`-e`), as a mapping.
    #[serde(default)]
    pub extra_vars: Option<serde_json::Map<String, serde_json::Value>>,
    /// This job's notifications, instead of the schedule's (`targets: []`: none).
    #[serde(default)]
    pub notify: Option<crate::notify::config::NotifySpec>,
}

/// A job's `forks`, within what `run --forks` takes (checked here, not when the job runs).
fn job_forks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let max = crate::executor::MAX_FORKS;
    let n = values::bounded_count(d, "forks", 1, u64::from(max))?;
    Ok(Some(u32::try_from(n).unwrap_or(max)))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupJobSpec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub store: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub path: Option<String>,
    /// Secrets are masked unless `mask_secrets: false`.
    #[serde(default = "yes", deserialize_with = "values::boolish")]
    pub mask_secrets: bool,
    #[serde(default)]
    pub max_shrink: Option<f64>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub author: Option<String>,
    /// `push: URL`, or `push: {url, ssh_key, known_hosts, host_key_checking, token_file,
    /// token_env}`.
    #[serde(default, deserialize_with = "push_spec")]
    pub push: Option<PushJobSpec>,
}

/// Where and how a backup job pushes its store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushJobSpec {
    #[serde(deserialize_with = "values::scalar_string")]
    pub url: String,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub ssh_key: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub known_hosts: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub host_key_checking: Option<String>,
    /// A file holding the HTTPS token (its path goes on the child's command line).
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub token_file: Option<String>,
    /// The daemon's environment variable holding the HTTPS token (handed to the run
    /// through its environment).
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub token_env: Option<String>,
}

fn push_spec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PushJobSpec>, D::Error> {
    use serde::de::Error;
    let v = serde_yaml::Value::deserialize(d)?;
    match v {
        serde_yaml::Value::Null => Ok(None),
        serde_yaml::Value::String(url) => Ok(Some(PushJobSpec {
            url,
            ..PushJobSpec::default()
        })),
        v @ serde_yaml::Value::Mapping(_) => serde_yaml::from_value(v)
            .map(Some)
            .map_err(|e| D::Error::custom(format!("push: {e}"))),
        _ => Err(D::Error::custom(
            "push: expected a URL or {url, ssh_key, known_hosts, host_key_checking, token_file, token_env}",
        )),
    }
}

/// When a job runs.
#[derive(Debug, Clone)]
pub enum When {
    Cron(Box<croner::Cron>, String),
    Every(Duration),
}

impl When {
    /// The first run time strictly after `after`.
    pub fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            When::Cron(c, _) => c.find_next_occurrence(&after, false).ok(),
            When::Every(d) => chrono::Duration::from_std(*d).ok().map(|d| after + d),
        }
    }

    /// A run's time limit when the job sets none: until the next run is due (a run that
    /// outlives it would only make the next one skip), at most an hour, at least a minute.
    pub fn default_timeout(&self) -> Duration {
        let gap = match self {
            When::Every(d) => Some(*d),
            When::Cron(..) => {
                let now = chrono::Utc::now();
                self.next_after(now)
                    .and_then(|a| Some((a, self.next_after(a)?)))
                    .and_then(|(a, b)| (b - a).to_std().ok())
            }
        };
        gap.unwrap_or(Duration::from_secs(MAX_DEFAULT_TIMEOUT_SECS))
            .clamp(
                Duration::from_secs(MIN_DEFAULT_TIMEOUT_SECS),
                Duration::from_secs(MAX_DEFAULT_TIMEOUT_SECS),
            )
    }

    pub fn describe(&self) -> String {
        match self {
            When::Cron(_, s) => format!("cron {s}"),
            When::Every(d) => format!("every {}s", d.as_secs_f64()),
        }
    }
}

/// What a job runs: the `netorch` command line after the executable.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub when: When,
    pub jitter: Duration,
    /// A run still going after this is killed (with everything it started) and recorded
    /// as `timed_out`, so the next ticks run again.
    pub timeout: Duration,
    pub catch_up: bool,
    pub kind: &'static str,
    /// The child's command line: never a secret (any local user can read it).
    pub args: Vec<String>,
    /// Secrets for the child (extra vars, a push URL with credentials), given through its
    /// environment; only the daemon's user can read that.
    pub env: Vec<(String, String)>,
    /// Where the daemon tells about the job's changed backups and failures, after each run
    /// (the daemon sends them, so a run that times out or crashes is told about too).
    pub notify: Option<std::sync::Arc<crate::notify::Config>>,
    /// A backup job's store (the web interface lists its devices).
    pub store: Option<PathBuf>,
    /// The job's inventory and limit, as written (the web interface reads platforms and
    /// groups from it, and backs one device up with the same command line).
    pub inventory: PathBuf,
    pub limit: Option<String>,
}

/// The environment variable the child reads its extra vars from (`-e`).
pub const EXTRA_VARS_ENV: &str = "NETORCH_EXTRA_VARS";
/// The environment variable the child reads its push URL from (`backup --push`).
pub const PUSH_ENV: &str = "NETORCH_BACKUP_PUSH";

impl Job {
    /// The job's environment as `daemon --check` shows it: names only, values masked (a
    /// push URL keeps its host and path).
    pub fn shown_env(&self) -> String {
        self.env
            .iter()
            .map(|(k, v)| {
                let shown = if k == PUSH_ENV {
                    crate::secret::redact_url(v)
                } else {
                    crate::secret::MASK.to_string()
                };
                format!("{k}={shown}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub path: PathBuf,
    pub status_file: PathBuf,
    pub grace: Duration,
    pub jobs: Vec<Job>,
    pub web: crate::web::config::WebSettings,
}

/// Load and validate the schedule; relative paths are taken from the file's folder.
pub fn load(path: &Path) -> Result<Schedule, LoadError> {
    let text = read_source(path)?;
    let spec: ScheduleSpec = parse_yaml(path, &text, "a schedule: {jobs: [...]}")?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let rel = |s: &str| -> String {
        let p = Path::new(s);
        if p.is_absolute() || s.contains("://") {
            s.to_string()
        } else {
            base.join(p).display().to_string()
        }
    };
    let at = |needle: &str, msg: String| {
        let (line, col) = find(&text, needle);
        LoadError::at(path, Some(&text), line, col, msg)
    };
    if spec.jobs.is_empty() {
        return Err(at("jobs", "the schedule has no jobs".into()));
    }
    // Checked (secrets readable, variables set) before any job runs.
    let default_notify = match spec.notify.clone() {
        Some(n) => Some(crate::notify::Config::from_spec(
            n, &base, path, &text, "notify:",
        )?),
        None => None,
    };
    let mut jobs = Vec::new();
    let mut names = std::collections::HashSet::new();
    for j in &spec.jobs {
        let name_at = format!("name: {}", j.name);
        if !names.insert(j.name.clone()) {
            return Err(at(&name_at, format!("job `{}` is defined twice", j.name)));
        }
        let when = match (&j.cron, j.every) {
            (Some(expr), None) => {
                let c = croner::Cron::new(expr)
                    .with_seconds_optional()
                    .parse()
                    .map_err(|e| at(expr, format!("job `{}`: cron `{expr}`: {e}", j.name)))?;
                When::Cron(Box::new(c), expr.clone())
            }
            (None, Some(d)) if !d.is_zero() => When::Every(d),
            (None, Some(_)) => {
                return Err(at(
                    &name_at,
                    format!("job `{}`: `every` must be more than 0", j.name),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(at(
                    &name_at,
                    format!("job `{}`: give either `cron` or `every`, not both", j.name),
                ))
            }
            (None, None) => {
                return Err(at(
                    &name_at,
                    format!("job `{}`: needs `cron: \"...\"` or `every: 10m`", j.name),
                ))
            }
        };
        let mut args: Vec<String>;
        let mut env: Vec<(String, String)> = Vec::new();
        let kind = match (&j.playbook, &j.backup) {
            (Some(pb), None) => {
                args = vec!["run".into(), rel(pb)];
                "playbook"
            }
            (None, Some(b)) => {
                args = vec!["backup".into()];
                if let Some(s) = &b.store {
                    args.extend(["--store".into(), rel(s)]);
                }
                if let Some(p) = &b.path {
                    args.extend(["--path".into(), p.clone()]);
                }
                if !b.mask_secrets {
                    args.push("--keep-secrets".into());
                }
                if let Some(m) = b.max_shrink {
                    args.extend(["--max-shrink".into(), m.to_string()]);
                }
                if let Some(a) = &b.author {
                    args.extend(["--author".into(), a.clone()]);
                }
                if let Some(p) = &b.push {
                    crate::backup::remote::check_url(&p.url).map_err(|e| {
                        at(
                            "push",
                            format!(
                                "job `{}`: push {}: {e}",
                                j.name,
                                crate::secret::redact_url(&p.url)
                            ),
                        )
                    })?;
                    env.push((PUSH_ENV.to_string(), p.url.clone()));
                    if let Some(k) = &p.ssh_key {
                        args.extend(["--push-ssh-key".into(), rel(k)]);
                    }
                    if let Some(k) = &p.known_hosts {
                        args.extend(["--push-known-hosts".into(), rel(k)]);
                    }
                    if let Some(m) = &p.host_key_checking {
                        if crate::transport::HostKeyChecking::parse(m).is_none() {
                            return Err(at(
                                m,
                                format!("job `{}`: push host_key_checking `{m}`: expected strict, accept-new or off", j.name),
                            ));
                        }
                        args.extend(["--push-host-key-checking".into(), m.clone()]);
                    }
                    if let Some(f) = &p.token_file {
                        args.extend(["--push-token-file".into(), rel(f)]);
                    }
                    if let Some(var) = &p.token_env {
                        // Read once at load, so `daemon --check` says when it is missing.
                        match std::env::var(var) {
                            Ok(t) if !t.trim().is_empty() => {
                                env.push((crate::backup::remote::TOKEN_ENV.to_string(), t));
                            }
                            _ => {
                                return Err(at(
                                    var,
                                    format!("job `{}`: push token_env `{var}` is not set in the daemon's environment", j.name),
                                ))
                            }
                        }
                    }
                }
                "backup"
            }
            _ => {
                return Err(at(
                    &name_at,
                    format!(
                        "job `{}`: give exactly one of `playbook: FILE` or `backup: {{...}}`",
                        j.name
                    ),
                ))
            }
        };
        args.extend(["-i".into(), rel(&j.inventory)]);
        if let Some(l) = &j.limit {
            args.extend(["--limit".into(), l.clone()]);
        }
        if let Some(f) = j.forks {
            args.extend(["--forks".into(), f.to_string()]);
        }
        if let Some(ev) = &j.extra_vars {
            env.push((
                EXTRA_VARS_ENV.to_string(),
                serde_json::Value::Object(ev.clone()).to_string(),
            ));
        }
        let notify = match j.notify.clone() {
            Some(n) => Some(crate::notify::Config::from_spec(
                n, &base, path, &text, &name_at,
            )?),
            None => default_notify.clone(),
        }
        .filter(|n| !n.is_empty())
        .map(std::sync::Arc::new);
        if notify.is_some() {
            // The report then carries each changed device's diff (masked) for the message.
            args.push("--diff".into());
        }
        args.push("--json".into());
        let timeout = match j.timeout {
            Some(t) if t.is_zero() => {
                return Err(at(
                    &name_at,
                    format!("job `{}`: `timeout` must be more than 0", j.name),
                ))
            }
            Some(t) => t,
            None => when.default_timeout(),
        };
        jobs.push(Job {
            store: j
                .backup
                .as_ref()
                .and_then(|b| b.store.as_deref())
                .map(|s| PathBuf::from(rel(s))),
            inventory: PathBuf::from(rel(&j.inventory)),
            limit: j.limit.clone(),
            name: j.name.clone(),
            timeout,
            when,
            jitter: j.jitter.unwrap_or_default(),
            catch_up: j.catch_up,
            kind,
            args,
            env,
            notify,
        });
    }
    let web = match &spec.web {
        Some(w) => crate::web::config::resolve(w, path, &at, &rel)?,
        None => Default::default(),
    };
    Ok(Schedule {
        web,
        path: path.to_path_buf(),
        status_file: spec
            .status_file
            .as_deref()
            .map(|s| PathBuf::from(rel(s)))
            .unwrap_or_else(|| base.join("netorch-status.json")),
        grace: spec
            .grace_period
            .unwrap_or(Duration::from_secs(DEFAULT_GRACE_SECS)),
        jobs,
    })
}

/// 1-based line and column of the first occurrence of `needle` (1:1 when absent).
fn yes() -> bool {
    true
}

fn find(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(off) => {
            let before = &text[..off];
            let line = before.matches('\n').count() + 1;
            let col = off - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        }
        None => (1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Schedule, LoadError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("schedule.yml");
        std::fs::write(&p, text).unwrap();
        load(&p)
    }

    #[test]
    fn push_as_a_map_gives_the_run_its_options_and_the_token_through_its_environment() {
        std::env::set_var("NETORCH_TEST_PUSH_TOKEN_7", "tok-7");
        let s = load_str(
            "jobs:\n  - name: b\n    every: 1h\n    inventory: inv\n    backup:\n      store: st\n      push:\n        url: ssh://git@10.0.0.1/configs.git\n        ssh_key: keys/id\n        known_hosts: kh\n        host_key_checking: accept-new\n        token_env: NETORCH_TEST_PUSH_TOKEN_7\n",
        )
        .unwrap();
        let j = &s.jobs[0];
        let args = j.args.join(" ");
        assert!(
            args.contains("--push-ssh-key ") && args.contains("keys/id"),
            "{args}"
        );
        assert!(
            args.contains("--push-host-key-checking accept-new"),
            "{args}"
        );
        assert!(
            !args.contains("tok-7") && !args.contains("ssh://"),
            "{args}"
        );
        assert!(j
            .env
            .contains(&("NETORCH_GIT_TOKEN".to_string(), "tok-7".to_string())));
        assert!(!j.shown_env().contains("tok-7"));
        let e = load_str(
            "jobs:\n  - name: b\n    every: 1h\n    inventory: inv\n    backup: { push: { url: x, tokn_file: f } }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tokn_file"), "{e}");
        let e = load_str(
            "jobs:\n  - name: b\n    every: 1h\n    inventory: inv\n    backup: { push: { url: x, token_env: NETORCH_TEST_UNSET_9 } }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("NETORCH_TEST_UNSET_9") && e.contains("not set"),
            "{e}"
        );
    }

    #[test]
    fn jobs_become_command_lines() {
        let s = load_str(
            "jobs:\n  - name: b\n    cron: '*/2 * * * * *'\n    backup: { store: st, mask_secrets: true }\n    inventory: inv.yml\n    limit: core\n  - name: p\n    every: 10m\n    playbook: site.yml\n    inventory: /abs/inv\n",
        )
        .unwrap();
        assert_eq!(s.jobs.len(), 2);
        let b = &s.jobs[0];
        assert_eq!(b.kind, "backup");
        assert_eq!(b.args[0], "backup");
        assert!(b.args[2].ends_with("/st"), "{:?}", b.args);
        // Masking is the default: nothing to pass; `mask_secrets: false` keeps them.
        assert!(
            !b.args.iter().any(|a| a.contains("secrets")),
            "{:?}",
            b.args
        );
        assert!(b
            .args
            .windows(2)
            .any(|w| w[0] == "--limit" && w[1] == "core"));
        let now = chrono::Utc::now();
        let next = b.when.next_after(now).unwrap();
        assert!(next > now && next <= now + chrono::Duration::seconds(2));
        let p = &s.jobs[1];
        assert_eq!(&p.args[..2], &["run".to_string(), p.args[1].clone()]);
        assert!(p.args.contains(&"/abs/inv".to_string()));
        assert!(matches!(p.when, When::Every(d) if d == Duration::from_secs(600)));
        // No timeout given: until the next run is due, between a minute and an hour.
        assert_eq!(p.timeout, Duration::from_secs(600));
        assert_eq!(b.timeout, Duration::from_secs(60));
        assert_eq!(s.grace, Duration::from_secs(DEFAULT_GRACE_SECS));
    }

    #[test]
    fn mistakes_are_located() {
        let e = load_str(
            "jobs:\n  - name: x\n    cron: 'not a cron'\n    playbook: a.yml\n    inventory: i\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":3:") && e.contains("not a cron"), "{e}");
        let e = load_str("jobs:\n  - name: x\n    every: 1m\n    inventory: i\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly one of"), "{e}");
        let e = load_str("jobs:\n  - name: x\n    evry: 1m\n    playbook: a\n    inventory: i\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("every"), "did you mean: {e}");
        let e = load_str("jobs:\n  - name: x\n    playbook: a\n    inventory: i\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs `cron"), "{e}");
    }

    #[test]
    fn job_timeouts() {
        let s = load_str(
            "jobs:\n  - name: a\n    every: 24h\n    playbook: a.yml\n    inventory: i\n  - name: b\n    every: 1m\n    timeout: 5s\n    playbook: a.yml\n    inventory: i\n",
        )
        .unwrap();
        assert_eq!(s.jobs[0].timeout, Duration::from_secs(3600));
        assert_eq!(s.jobs[1].timeout, Duration::from_secs(5));
        let e = load_str(
            "jobs:\n  - name: x\n    every: 1m\n    timeout: 0\n    playbook: a\n    inventory: i\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`timeout` must be more than 0"), "{e}");
    }

    #[test]
    fn notify_default_applies_unless_a_job_says_otherwise() {
        let s = load_str(
            "notify:\n  targets:\n    - webhook: { url: 'https://a.example.com/x' }\njobs:\n  - name: a\n    every: 1m\n    backup: {}\n    inventory: i\n  - name: b\n    every: 1m\n    backup: {}\n    inventory: i\n    notify: { targets: [ { webhook: { url: 'https://b.example.com/x', format: teams } } ] }\n  - name: c\n    every: 1m\n    backup: {}\n    inventory: i\n    notify: { targets: [] }\n",
        )
        .unwrap();
        let label = |j: &Job| j.notify.as_ref().map(|n| n.targets[0].label());
        assert_eq!(
            label(&s.jobs[0]).as_deref(),
            Some("webhook json https://a.example.com/...")
        );
        assert_eq!(
            label(&s.jobs[1]).as_deref(),
            Some("webhook teams https://b.example.com/...")
        );
        assert!(s.jobs[2].notify.is_none());
        // Notified jobs' reports carry the diffs the messages show.
        assert!(s.jobs[0].args.contains(&"--diff".to_string()));
        assert!(!s.jobs[2].args.contains(&"--diff".to_string()));
        let e = load_str(
            "jobs:\n  - name: a\n    every: 1m\n    backup: {}\n    inventory: i\n    notify:\n      targets:\n        - webhook: { ulr: 'https://x' }\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(8), "{e}");
        assert!(e.to_string().contains("did you mean `url`"), "{e}");
    }

    #[test]
    fn forks_are_bounded_where_they_are_written() {
        let e = load_str(
            "jobs:\n  - name: x\n    every: 1m\n    playbook: a.yml\n    inventory: i\n    forks: 99999999999\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":6:"), "{e}");
        assert!(
            e.contains("forks must be from 1 to 10000, found 99999999999"),
            "{e}"
        );
    }
}
