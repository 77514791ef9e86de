//! Config backups into git: normalising fetched configs ([`normalize`]), the sanity checks and
//! safe file names ([`sanity`]), the git store ([`store`]), and [`BackupRun`], the single
//! writer of a run.
//!
//! Hosts run concurrently on the executor's blocking workers; each hands its normalised
//! config to the run's [`BackupRun`], which checks it against the last stored version and
//! keeps it in memory. Nothing touches the repository until [`BackupRun::finish`], after the
//! executor is done: then each store gets ONE commit listing the changed devices (none when
//! nothing changed). So hosts never race on the repository, and a run killed before the
//! commit leaves the store exactly as it was.

pub mod normalize;
pub mod remote;
pub mod sanity;
pub mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use regex::Regex;
use serde::Serialize;

use crate::secret::Redactor;

pub use normalize::{normalize, Rules};
pub use remote::PushOptions;
pub use sanity::{check, safe_path, Refusal, DEFAULT_MAX_SHRINK};
pub use store::{Author, BackupError, LogEntry, PushReport, Store};

/// The default file name template of a device's backup.
pub const DEFAULT_PATH_TEMPLATE: &str = "{{ inventory_hostname }}.cfg";

/// Run-wide backup settings (from `netorch backup`'s options or defaults).
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// The store when neither the task's `store:` nor the host's `backup_store` names one.
    pub default_store: Option<PathBuf>,
    pub author: Author,
    /// Share (0..=1) a config may shrink by against the stored one.
    pub max_shrink: f64,
    /// Secrets masked before storing unless asked otherwise (`--keep-secrets`).
    pub mask_secrets: bool,
    /// File name template when neither the task's `path:` nor `backup_path` gives one.
    pub path_template: Option<String>,
    /// Push each store here after its commit.
    pub push: Option<String>,
    /// How the push reaches its remote (SSH host keys and key, HTTPS token, attempts).
    pub push_options: PushOptions,
    /// The shard this run is (`2/4`), recorded in each commit as a `Shard: 2/4` line and
    /// shown by `netorch backup log`. See [`shard_label`].
    pub shard: Option<String>,
}

/// The environment variable a sharded run's label is read from when no `--shard` is given
/// (see [`shard_label`]).
pub const SHARD_ENV: &str = "NETORCH_SHARD";

/// The shard label of a backup run: `explicit` (what `--shard K/N` said, as `"K/N"`), else
/// [`SHARD_ENV`], else none. One line of at most 64 printable characters, since it goes
/// into commit messages; anything else is refused with the reason.
pub fn shard_label(explicit: Option<&str>) -> Result<Option<String>, String> {
    let from_env;
    let raw = match explicit {
        Some(s) => s,
        None => {
            from_env = std::env::var(SHARD_ENV).unwrap_or_default();
            from_env.as_str()
        }
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.len() > 64 || raw.chars().any(char::is_control) {
        return Err(format!(
            "shard label `{}`: expected one line of at most 64 characters, such as `2/4`",
            raw.escape_default()
        ));
    }
    Ok(Some(raw.to_string()))
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            default_store: None,
            author: Author::default(),
            max_shrink: DEFAULT_MAX_SHRINK,
            mask_secrets: true,
            path_template: None,
            push: None,
            push_options: PushOptions::default(),
            shard: None,
        }
    }
}

/// The sanity checks a submitted config must pass.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    /// The platform's end marker, looked for among the last lines.
    pub end_marker: Option<&'a Regex>,
    /// Largest allowed shrink (share, 0..=1) against the stored version.
    pub max_shrink: f64,
    /// Also make the unified diff (`--diff`); skipped otherwise, it costs memory per host.
    pub diff: bool,
}

/// What a submitted config does to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    Changed {
        /// The device had no backup before.
        new: bool,
        added: usize,
        removed: usize,
        /// Unified diff from the stored version (empty unless `Checks::diff`).
        diff: String,
    },
}

/// One device whose file changed in a commit.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct DeviceChange {
    pub host: String,
    pub path: String,
    pub new: bool,
    pub added: usize,
    pub removed: usize,
}

/// What the writer did with one store at the end of the run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StoreSummary {
    pub store: String,
    /// The commit made, if anything changed.
    pub commit: Option<String>,
    pub changed: Vec<DeviceChange>,
    /// Devices whose backup would change, from tasks in check mode (nothing stored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub would_change: Vec<DeviceChange>,
    pub unchanged: usize,
    /// Milliseconds spent writing the commit.
    pub write_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    /// The push's details: rounds, commits rebased onto other writers', same-file notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushReport>,
    /// Committing or pushing failed: the run fails, the store keeps its last good state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

struct Pending {
    host: String,
    text: String,
    new: bool,
    added: usize,
    removed: usize,
}

struct StoreWriter {
    /// `None`: the store does not exist and the run only checks, so it is not created.
    store: Mutex<Option<Store>>,
    /// path -> pending new version
    pending: Mutex<BTreeMap<String, Pending>>,
    /// What check-mode tasks would have changed.
    would_change: Mutex<Vec<DeviceChange>>,
    /// path -> host, for every file this run touched (changed or not): two hosts writing
    /// the same file would overwrite each other's backup.
    claimed: Mutex<BTreeMap<String, String>>,
    unchanged: Mutex<usize>,
    /// A task outside check mode used this store (only then may the run push it).
    live: std::sync::atomic::AtomicBool,
}

/// The single writer of one run: gathers configs from all hosts, commits once per store.
pub struct BackupRun {
    settings: BackupSettings,
    stores: Mutex<BTreeMap<PathBuf, Arc<StoreWriter>>>,
    /// The run's secret values (inventory, extra and rendered variables): masked in every
    /// stored config, as in the run's output, when secrets are masked.
    redactor: Mutex<Redactor>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked while holding the lock left consistent data (every update
    // below is a single insert); carry on rather than poison the whole run.
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl BackupRun {
    pub fn new(settings: BackupSettings) -> Self {
        BackupRun {
            settings,
            stores: Mutex::new(BTreeMap::new()),
            redactor: Mutex::new(Redactor::new()),
        }
    }

    /// Secret values to mask in configs from now on.
    pub fn add_secrets<'a>(&self, values: impl IntoIterator<Item = &'a str>) {
        let mut r = lock(&self.redactor);
        for v in values {
            r.add(v);
        }
    }

    /// `text` with every registered secret value masked.
    pub fn redact(&self, text: &str) -> String {
        lock(&self.redactor).redact(text).into_owned()
    }

    pub fn settings(&self) -> &BackupSettings {
        &self.settings
    }

    fn writer(&self, store: &Path, check_mode: bool) -> Result<Arc<StoreWriter>, String> {
        let mut stores = lock(&self.stores);
        if let Some(w) = stores.get(store) {
            let mut s = lock(&w.store);
            if s.is_none() && !check_mode {
                *s = Some(Store::open_or_init(store).map_err(|e| e.to_string())?);
            }
            drop(s);
            return Ok(Arc::clone(w));
        }
        // A check writes nothing: a store that does not exist yet compares as empty.
        let s = if check_mode && !Store::exists(store) {
            None
        } else {
            let s = Store::open_or_init(store).map_err(|e| e.to_string())?;
            // Repair a working tree left behind by a process killed after its commit.
            if !check_mode {
                if let Err(e) = s.repair_worktree() {
                    tracing::warn!("{e}");
                }
                // A new store that pushes to a shared remote starts from the remote's tip
                // (a shard in a fresh pod): its sanity checks then compare against the
                // stored configs, and its commit lands on top of the other writers'.
                if let Some(url) = &self.settings.push {
                    if let Err(e) = s.seed_from(url, &self.settings.push_options) {
                        tracing::warn!("{e} (the first push will rebase onto the remote)");
                    }
                }
            }
            Some(s)
        };
        let w = Arc::new(StoreWriter {
            store: Mutex::new(s),
            pending: Mutex::new(BTreeMap::new()),
            would_change: Mutex::new(Vec::new()),
            claimed: Mutex::new(BTreeMap::new()),
            unchanged: Mutex::new(0),
            live: std::sync::atomic::AtomicBool::new(false),
        });
        stores.insert(store.to_path_buf(), Arc::clone(&w));
        Ok(w)
    }

    /// Hand in `host`'s normalised config for `path` (already made safe) in `store`. It is
    /// checked against the stored version; in check mode nothing is kept for the commit.
    /// `Err` is the reason it was refused (the stored file stays).
    pub fn submit(
        &self,
        store: &Path,
        host: &str,
        path: &str,
        text: String,
        checks: Checks<'_>,
        check_mode: bool,
    ) -> Result<Outcome, String> {
        let w = self.writer(store, check_mode)?;
        if !check_mode {
            w.live.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        {
            let mut claimed = lock(&w.claimed);
            match claimed.get(path) {
                Some(other) if other != host => {
                    return Err(format!(
                        "the backup file `{path}` is already written by host `{other}` in this \
                         run; give each host its own file (the `path:` template)"
                    ))
                }
                _ => {
                    claimed.insert(path.to_string(), host.to_string());
                }
            }
        }
        let old = match &*lock(&w.store) {
            Some(s) => s.read(path).map_err(|e| e.to_string())?,
            None => None,
        };
        sanity::check(&text, old.as_deref(), checks.end_marker, checks.max_shrink)
            .map_err(|r| r.to_string())?;
        let old_text = old.clone().unwrap_or_default();
        if old.as_deref() == Some(text.as_str()) {
            *lock(&w.unchanged) += 1;
            return Ok(Outcome::Unchanged);
        }
        let (added, removed) = sanity::line_changes(&old_text, &text);
        let diff = if checks.diff {
            sanity::unified_diff(&old_text, &text, &format!("a/{path}"), &format!("b/{path}"))
        } else {
            String::new()
        };
        let new = old.is_none();
        if check_mode {
            lock(&w.would_change).push(DeviceChange {
                host: host.to_string(),
                path: path.to_string(),
                new,
                added,
                removed,
            });
        } else {
            lock(&w.pending).insert(
                path.to_string(),
                Pending {
                    host: host.to_string(),
                    text,
                    new,
                    added,
                    removed,
                },
            );
        }
        Ok(Outcome::Changed {
            new,
            added,
            removed,
            diff,
        })
    }

    /// Commit what was gathered: one commit per store that changed, then the optional push.
    /// Called once, after the executor has finished (or was interrupted: what was gathered
    /// is complete per device, so it is committed).
    pub fn finish(&self) -> Vec<StoreSummary> {
        let stores: Vec<(PathBuf, Arc<StoreWriter>)> = lock(&self.stores)
            .iter()
            .map(|(p, w)| (p.clone(), Arc::clone(w)))
            .collect();
        let mut out = Vec::new();
        for (path, w) in stores {
            let pending = std::mem::take(&mut *lock(&w.pending));
            let unchanged = *lock(&w.unchanged);
            let changed: Vec<DeviceChange> = pending
                .iter()
                .map(|(p, e)| DeviceChange {
                    host: e.host.clone(),
                    path: p.clone(),
                    new: e.new,
                    added: e.added,
                    removed: e.removed,
                })
                .collect();
            let mut would_change = std::mem::take(&mut *lock(&w.would_change));
            would_change.sort_by(|a, b| a.path.cmp(&b.path));
            let mut summary = StoreSummary {
                store: path.display().to_string(),
                commit: None,
                changed,
                would_change,
                unchanged,
                write_ms: 0,
                pushed: None,
                push: None,
                error: None,
            };
            if pending.is_empty() {
                // Nothing to commit; a push an earlier run could not make is made now.
                let live = w.live.load(std::sync::atomic::Ordering::Relaxed);
                if let (Some(url), Some(store), true) =
                    (&self.settings.push, &*lock(&w.store), live)
                {
                    match store.push_if_needed(url, false, &self.settings.push_options) {
                        Ok(Some(r)) => {
                            summary.pushed = Some(r.url.clone());
                            summary.push = Some(r);
                        }
                        Ok(None) => {}
                        Err(e) => summary.error = Some(e.to_string()),
                    }
                }
                out.push(summary);
                continue;
            }
            let message = commit_message(&summary.changed, self.settings.shard.as_deref());
            let files: Vec<(String, String)> =
                pending.into_iter().map(|(p, e)| (p, e.text)).collect();
            let t = std::time::Instant::now();
            let guard = lock(&w.store);
            let Some(store) = guard.as_ref() else {
                // Unreachable: a store with pending files was opened by their submit.
                summary.error = Some("internal: the store was never opened".into());
                out.push(summary);
                continue;
            };
            match store.commit(&files, &message, &self.settings.author) {
                Ok(c) => summary.commit = c,
                Err(e) => summary.error = Some(e.to_string()),
            }
            summary.write_ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
            if let Some(url) = &self.settings.push {
                if summary.error.is_none() {
                    match store.push_if_needed(
                        url,
                        summary.commit.is_some(),
                        &self.settings.push_options,
                    ) {
                        Ok(Some(r)) => {
                            // Rebased onto other writers' commits: ours has a new id.
                            if summary.commit.is_some() && r.rebased > 0 && !r.head.is_empty() {
                                summary.commit = Some(r.head.clone());
                            }
                            summary.pushed = Some(r.url.clone());
                            summary.push = Some(r);
                        }
                        Ok(None) => {}
                        Err(e) => summary.error = Some(e.to_string()),
                    }
                }
            }
            out.push(summary);
        }
        out
    }
}

/// `Backup: 3 devices changed` then one line per device with its +/- counts.
pub fn commit_message(changed: &[DeviceChange], shard: Option<&str>) -> String {
    let names: Vec<&str> = changed.iter().map(|c| c.host.as_str()).collect();
    let head = match names.as_slice() {
        [one] => format!("Backup: {one} changed"),
        _ if names.len() <= 5 => format!("Backup: {} changed", names.join(", ")),
        _ => format!("Backup: {} devices changed", names.len()),
    };
    let mut msg = head;
    msg.push_str("\n\n");
    for c in changed {
        let what = if c.new { " (new)" } else { "" };
        msg.push_str(&format!(
            "{}: {} +{} -{}{what}\n",
            c.host, c.path, c.added, c.removed
        ));
    }
    if let Some(k) = shard {
        msg.push('\n');
        msg.push_str(store::SHARD_TRAILER);
        msg.push_str(k);
        msg.push('\n');
    }
    msg
}

/// The recap lines for a run's backups (printed after the run's recap).
pub fn summary_text(summaries: &[StoreSummary]) -> String {
    let mut out = String::new();
    for s in summaries {
        match (&s.commit, &s.error) {
            (_, Some(e)) => out.push_str(&format!("BACKUP {}: FAILED: {e}\n", s.store)),
            (Some(c), None) => {
                let short: String = c.chars().take(10).collect();
                out.push_str(&format!(
                    "BACKUP {}: commit {short}: {} changed, {} unchanged ({} ms)\n",
                    s.store,
                    s.changed.len(),
                    s.unchanged,
                    s.write_ms
                ));
                device_lines(&mut out, &s.changed);
                if let Some(p) = &s.pushed {
                    out.push_str(&format!("  pushed to {p}\n"));
                }
                if let Some(r) = &s.push {
                    push_lines(&mut out, r);
                }
            }
            (None, None) if s.would_change.is_empty() => {
                out.push_str(&format!(
                    "BACKUP {}: no changes ({} unchanged)\n",
                    s.store, s.unchanged
                ));
                // An earlier run's commit that could not be pushed then.
                if let Some(p) = &s.pushed {
                    out.push_str(&format!("  pushed earlier commits to {p}\n"));
                }
                if let Some(r) = &s.push {
                    push_lines(&mut out, r);
                }
            }
            (None, None) => {
                out.push_str(&format!(
                    "BACKUP {}: check mode, nothing stored: {} would change, {} unchanged\n",
                    s.store,
                    s.would_change.len(),
                    s.unchanged
                ));
                device_lines(&mut out, &s.would_change);
            }
        }
    }
    out
}

/// What a push had to do beyond pushing: rebasing onto other writers' commits.
fn push_lines(out: &mut String, r: &PushReport) {
    if r.rebased > 0 {
        out.push_str(&format!(
            "  rebased {} commit(s) onto what other writers pushed ({} attempt(s))\n",
            r.rebased, r.attempts
        ));
    }
    for n in &r.same_file {
        out.push_str(&format!("  {n}\n"));
    }
}

/// One line per device under a store's summary line.
fn device_lines(out: &mut String, devices: &[DeviceChange]) {
    for d in devices {
        let what = if d.new { " (new)" } else { "" };
        out.push_str(&format!(
            "  {:<30} +{:<5} -{:<5} {}{what}\n",
            d.host, d.added, d.removed, d.path
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(n: usize, extra: &str) -> String {
        let mut s: String = (0..n).map(|i| format!("line {i}\n")).collect();
        s.push_str(extra);
        s.push_str("end\n");
        s
    }

    #[test]
    fn one_commit_per_run_listing_changed_devices_and_refusals_keep_old() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s");
        let end = Regex::new(r"^end\s*$").unwrap();
        let run = BackupRun::new(BackupSettings::default());
        for h in ["r1", "r2", "r3"] {
            let o = run
                .submit(
                    &store,
                    h,
                    &format!("{h}.cfg"),
                    cfg(20, ""),
                    Checks {
                        end_marker: Some(&end),
                        max_shrink: 0.5,
                        diff: false,
                    },
                    false,
                )
                .unwrap();
            assert!(matches!(o, Outcome::Changed { new: true, .. }));
        }
        let s = run.finish();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].changed.len(), 3);
        let first = s[0].commit.clone().unwrap();

        // Second run: r2 changes, r1 same, r3 sends an empty and then a truncated config.
        let run = BackupRun::new(BackupSettings::default());
        assert_eq!(
            run.submit(
                &store,
                "r1",
                "r1.cfg",
                cfg(20, ""),
                Checks {
                    end_marker: Some(&end),
                    max_shrink: 0.5,
                    diff: false
                },
                false
            ),
            Ok(Outcome::Unchanged)
        );
        let o = run
            .submit(
                &store,
                "r2",
                "r2.cfg",
                cfg(20, "ntp server 1.2.3.4\n"),
                Checks {
                    end_marker: Some(&end),
                    max_shrink: 0.5,
                    diff: false,
                },
                false,
            )
            .unwrap();
        assert!(
            matches!(
                o,
                Outcome::Changed {
                    new: false,
                    added: 1,
                    removed: 0,
                    ..
                }
            ),
            "{o:?}"
        );
        let e = run
            .submit(
                &store,
                "r3",
                "r3.cfg",
                String::new(),
                Checks {
                    end_marker: Some(&end),
                    max_shrink: 0.5,
                    diff: false,
                },
                false,
            )
            .unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = run
            .submit(
                &store,
                "r3",
                "r3.cfg",
                "line 0\nline 1\n".into(),
                Checks {
                    end_marker: Some(&end),
                    max_shrink: 0.5,
                    diff: false,
                },
                false,
            )
            .unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        // Two hosts may not share a file.
        let e = run
            .submit(
                &store,
                "r9",
                "r1.cfg",
                cfg(20, ""),
                Checks {
                    end_marker: Some(&end),
                    max_shrink: 0.5,
                    diff: false,
                },
                false,
            )
            .unwrap_err();
        assert!(e.contains("already written by host `r1`"), "{e}");
        let s = run.finish();
        let second = s[0].commit.clone().unwrap();
        assert_ne!(first, second);
        assert_eq!(s[0].changed.len(), 1);
        assert_eq!(s[0].changed[0].host, "r2");
        let st = Store::open(&store).unwrap();
        assert_eq!(st.read("r3.cfg").unwrap().unwrap(), cfg(20, ""));
        let log = st.log("r2.cfg").unwrap();
        assert!(log[0].summary.contains("r2 changed"), "{:?}", log[0]);
        assert_eq!(st.log("r1.cfg").unwrap().len(), 1);

        // Third run: nothing changed, no commit.
        let run = BackupRun::new(BackupSettings::default());
        run.submit(
            &store,
            "r1",
            "r1.cfg",
            cfg(20, ""),
            Checks {
                end_marker: Some(&end),
                max_shrink: 0.5,
                diff: false,
            },
            false,
        )
        .unwrap();
        let s = run.finish();
        assert_eq!(s[0].commit, None);
        assert_eq!(s[0].unchanged, 1);
        assert!(summary_text(&s).contains("no changes"));
    }

    #[test]
    fn check_mode_reports_but_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s");
        let run = BackupRun::new(BackupSettings::default());
        let o = run
            .submit(
                &store,
                "r1",
                "r1.cfg",
                "a\n".into(),
                Checks {
                    end_marker: None,
                    max_shrink: 0.5,
                    diff: false,
                },
                true,
            )
            .unwrap();
        assert!(matches!(o, Outcome::Changed { .. }));
        let s = run.finish();
        assert_eq!(s[0].commit, None);
        assert!(!store.exists(), "a check created the store");
        assert_eq!(s[0].would_change.len(), 1);
        assert!(
            summary_text(&s).contains("1 would change, 0 unchanged"),
            "{}",
            summary_text(&s)
        );
    }

    #[test]
    fn shard_labels_go_into_the_commit_as_a_trailer() {
        assert_eq!(shard_label(Some(" 2/4 ")).unwrap().as_deref(), Some("2/4"));
        assert_eq!(shard_label(Some("")).unwrap(), None);
        assert!(shard_label(Some("2/4\nAuthor: x")).is_err());
        assert!(shard_label(Some(&"9".repeat(65))).is_err());
        let c = DeviceChange {
            host: "r1".into(),
            path: "r1.cfg".into(),
            new: false,
            added: 1,
            removed: 0,
        };
        let m = commit_message(std::slice::from_ref(&c), Some("2/4"));
        assert!(m.ends_with("\n\nShard: 2/4\n"), "{m}");
        assert_eq!(store::shard_of(&m).as_deref(), Some("2/4"));
        assert_eq!(store::shard_of(&commit_message(&[c], None)), None);
    }

    #[test]
    fn message_lists_devices() {
        let c = |h: &str| DeviceChange {
            host: h.into(),
            path: format!("{h}.cfg"),
            new: false,
            added: 2,
            removed: 1,
        };
        let m = commit_message(&[c("r1")], None);
        assert!(
            m.starts_with("Backup: r1 changed\n\nr1: r1.cfg +2 -1\n"),
            "{m}"
        );
        let many: Vec<DeviceChange> = (0..7).map(|i| c(&format!("d{i}"))).collect();
        let m = commit_message(&many, None);
        assert!(m.starts_with("Backup: 7 devices changed"), "{m}");
        assert!(m.contains("d6: d6.cfg +2 -1"), "{m}");
    }
}
