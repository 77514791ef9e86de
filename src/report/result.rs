//! Results: what one task did on one host ([`TaskResult`]), and the whole run gathered for
//! the recap, `--json` and `--junit` ([`RunReport`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::Redactor;

/// The outcome of one task on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
    Unreachable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Unreachable)
    }
}

/// One command sent and what came back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommandOutput {
    pub command: String,
    pub output: String,
    /// Exit status on exec channels; none on device CLIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// The device's complaint, when it rejected the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The output as records, when the task asked for `parse:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsed: Option<serde_json::Value>,
}

/// What one task did on one host.
// Deserialize: `netorch report merge` reads the shards' reports back; what a report leaves
// out when empty comes back as its default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskResult {
    pub status: Status,
    /// The reason for a failure, a skip, or a debug/assert message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Action-specific data (pending config lines in check mode, set facts, ...).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
    /// One result per loop item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<TaskResult>,
    /// How many tries `until` took (1 without `until`).
    #[serde(skip_serializing_if = "is_one")]
    pub attempts: u32,
    /// `ignore_errors` turned a failure into something the run carries on from.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    /// A failure inside a block whose `rescue` takes it: counted as rescued, not failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rescued: bool,
    /// `no_log`: the content above was censored.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub censored: bool,
    pub duration_ms: u64,
}

impl Default for TaskResult {
    fn default() -> Self {
        TaskResult::new(Status::Ok)
    }
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// What replaces the content of a `no_log` result.
pub const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

impl TaskResult {
    pub fn new(status: Status) -> Self {
        TaskResult {
            status,
            msg: None,
            commands: Vec::new(),
            diff: None,
            data: serde_json::Value::Null,
            items: Vec::new(),
            attempts: 1,
            ignored: false,
            rescued: false,
            censored: false,
            duration_ms: 0,
        }
    }

    pub fn ok() -> Self {
        Self::new(Status::Ok)
    }

    pub fn changed() -> Self {
        Self::new(Status::Changed)
    }

    pub fn failed(msg: impl Into<String>) -> Self {
        Self::new(Status::Failed).with_msg(msg)
    }

    pub fn unreachable(msg: impl Into<String>) -> Self {
        Self::new(Status::Unreachable).with_msg(msg)
    }

    pub fn skipped(msg: impl Into<String>) -> Self {
        Self::new(Status::Skipped).with_msg(msg)
    }

    pub fn with_msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }

    /// The commands' output joined, as `stdout` of a registered result.
    pub fn stdout(&self) -> String {
        self.commands
            .iter()
            .map(|c| c.output.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Mask every known secret in every string of the result.
    pub fn redact(&mut self, r: &Redactor) {
        if r.is_empty() {
            return;
        }
        self.map_strings(&|s: &str| r.redact(s));
    }

    /// Mask what `patterns` (a platform's `secret_patterns`) match on every line of every
    /// string: the configs, answers and messages a device sent. Diffs are masked line by
    /// line after their `+`/`-`/` ` prefix.
    pub fn mask_lines(&mut self, patterns: &crate::backup::normalize::SecretPatterns) {
        use crate::backup::normalize::{mask_diff, mask_text};
        if patterns.is_empty() {
            return;
        }
        // Records parsed from the output hold the same secrets, each alone in a field
        // where no line pattern can see it: hide every value the patterns find in the text.
        for c in &mut self.commands {
            let Some(parsed) = &mut c.parsed else {
                continue;
            };
            let found = crate::backup::normalize::secrets_in(&c.output, patterns);
            if found.is_empty() {
                continue;
            }
            let mut r = Redactor::new();
            for s in &found {
                r.add(s);
            }
            map_json(parsed, &|s: &str| r.redact(s));
        }
        let mut items = std::mem::take(&mut self.items);
        let diff = self.diff.take();
        self.map_strings(&|s: &str| {
            let masked = mask_text(s, patterns);
            if masked == s {
                std::borrow::Cow::Borrowed(s)
            } else {
                std::borrow::Cow::Owned(masked)
            }
        });
        self.diff = diff.map(|d| mask_diff(&d, patterns));
        for item in &mut items {
            item.mask_lines(patterns);
        }
        self.items = items;
    }

    /// The result as a terminal may show it: control characters escaped in every string.
    pub fn terminal_safe(&self) -> TaskResult {
        let mut out = self.clone();
        out.map_strings(&crate::terminal::escape);
        out
    }

    /// Apply `f` to every string of the result (messages, commands, outputs, diff, data).
    fn map_strings(&mut self, f: &dyn for<'s> Fn(&'s str) -> std::borrow::Cow<'s, str>) {
        let fix = |s: &mut String| {
            if let std::borrow::Cow::Owned(o) = f(s) {
                *s = o;
            }
        };
        if let Some(m) = &mut self.msg {
            fix(m);
        }
        if let Some(d) = &mut self.diff {
            fix(d);
        }
        for c in &mut self.commands {
            fix(&mut c.command);
            fix(&mut c.output);
            if let Some(e) = &mut c.error {
                fix(e);
            }
            if let Some(p) = &mut c.parsed {
                map_json(p, f);
            }
        }
        map_json(&mut self.data, f);
        for item in &mut self.items {
            item.map_strings(f);
        }
    }

    /// Replace the content with [`CENSORED`] (`no_log: true`); the status stays.
    pub fn censor(&mut self) {
        self.msg = Some(CENSORED.to_string());
        self.commands.clear();
        self.diff = None;
        self.data = serde_json::Value::Null;
        for item in &mut self.items {
            item.censor();
        }
        self.censored = true;
    }
}

fn map_json(v: &mut serde_json::Value, f: &dyn for<'s> Fn(&'s str) -> std::borrow::Cow<'s, str>) {
    match v {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(o) = f(s) {
                *s = o;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| map_json(x, f)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| map_json(x, f)),
        _ => {}
    }
}

/// One host's result for one task, as it goes into the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostTaskResult {
    pub host: String,
    #[serde(flatten)]
    pub result: TaskResult,
}

/// A task of a play with every host's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskReport {
    pub name: String,
    /// `file:line` of the task in its playbook.
    pub location: String,
    pub hosts: Vec<HostTaskResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlayReport {
    pub name: String,
    pub hosts: Vec<String>,
    pub tasks: Vec<TaskReport>,
}

/// Per-host totals for the recap.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub failed: u32,
    pub skipped: u32,
    pub unreachable: u32,
    pub ignored: u32,
    /// Failures that a block's `rescue` took.
    pub rescued: u32,
    pub duration_ms: u64,
}

impl HostStats {
    pub fn add(&mut self, r: &TaskResult) {
        match r.status {
            Status::Ok => self.ok += 1,
            Status::Changed => self.changed += 1,
            Status::Skipped => self.skipped += 1,
            Status::Failed if r.rescued => self.rescued += 1,
            Status::Failed if r.ignored => self.ignored += 1,
            Status::Unreachable if r.ignored => self.ignored += 1,
            Status::Failed => self.failed += 1,
            Status::Unreachable => self.unreachable += 1,
        }
        self.duration_ms += r.duration_ms;
    }
}

/// The whole run: what `--json` prints and what the recap and JUnit are made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub netorch_version: String,
    /// The git commit the binary was built from (`netorch --version`).
    pub netorch_commit: String,
    pub playbooks: Vec<String>,
    pub check_mode: bool,
    pub started: String,
    pub duration_ms: u64,
    pub plays: Vec<PlayReport>,
    pub stats: BTreeMap<String, HostStats>,
    pub warnings: Vec<String>,
    /// Ctrl-C stopped the run before it finished.
    pub interrupted: bool,
    /// What the backup writer committed, per store (runs with `backup` tasks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<crate::backup::StoreSummary>,
    /// The run id under which `config` tasks recorded each host's config before changing
    /// it (`netorch rollback --run ID`); absent when nothing was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_run: Option<String>,
    /// `--shard K/N`: the report holds this shard's hosts only (`netorch report merge`
    /// joins the shards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::inventory::shard::Shard>,
    /// What happened to each change notification target (`--notify`); absent when none
    /// was due. A failed one never changes the run's result or exit code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<crate::notify::Delivery>,
}

impl RunReport {
    pub fn new(playbooks: Vec<String>, check_mode: bool) -> Self {
        RunReport {
            netorch_version: crate::version::VERSION.to_string(),
            netorch_commit: crate::version::COMMIT.to_string(),
            playbooks,
            check_mode,
            started: now_rfc3339(),
            duration_ms: 0,
            plays: Vec::new(),
            stats: BTreeMap::new(),
            warnings: Vec::new(),
            interrupted: false,
            backups: Vec::new(),
            rollback_run: None,
            shard: None,
            notifications: Vec::new(),
        }
    }

    /// The exit code the run earns: unreachable beats failed beats ok.
    pub fn exit_code(&self) -> crate::ExitCode {
        if self.interrupted {
            return crate::ExitCode::Interrupted;
        }
        if self.stats.values().any(|s| s.unreachable > 0) {
            crate::ExitCode::HostUnreachable
        } else if self.stats.values().any(|s| s.failed > 0)
            || self.backups.iter().any(|b| b.error.is_some())
        {
            crate::ExitCode::HostFailed
        } else {
            crate::ExitCode::Ok
        }
    }

    /// Hosts with a failed or unreachable result, in name order.
    pub fn failed_hosts(&self) -> Vec<String> {
        self.stats
            .iter()
            .filter(|(_, s)| s.failed > 0 || s.unreachable > 0)
            .map(|(h, _)| h.clone())
            .collect()
    }
}

/// The current UTC time as RFC 3339, without pulling in a date crate for one timestamp.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_609_845), "2026-11-25T12:30:45Z");
    }

    #[test]
    fn secrets_the_platform_masks_are_masked_in_parsed_records_too() {
        let patterns = crate::backup::normalize::SecretPatterns::new(vec![regex::Regex::new(
            r"^username \S+ secret \d (\S+)",
        )
        .unwrap()]);
        let mut t = TaskResult::ok();
        t.commands.push(CommandOutput {
            command: "show run | include username".into(),
            output: "username admin secret 9 $9$Hash0fTheS3cret\n".into(),
            exit_status: None,
            error: None,
            parsed: Some(serde_json::json!([{"user": "admin", "hash": "$9$Hash0fTheS3cret"}])),
        });
        t.mask_lines(&patterns);
        let s = serde_json::to_string(&t).unwrap();
        assert!(!s.contains("Hash0fTheS3cret"), "{s}");
        assert!(s.contains("\"user\":\"admin\""), "{s}");
    }

    #[test]
    fn redact_and_censor() {
        let mut r = Redactor::new();
        r.add("hunter22");
        let mut t = TaskResult::failed("auth with hunter22 failed");
        t.commands.push(CommandOutput {
            command: "enable".into(),
            output: "Password: hunter22".into(),
            exit_status: None,
            error: None,
            parsed: None,
        });
        t.data = serde_json::json!({"x": ["hunter22"]});
        t.redact(&r);
        let s = serde_json::to_string(&t).unwrap();
        assert!(!s.contains("hunter22"), "{s}");
        t.censor();
        assert_eq!(t.msg.as_deref(), Some(CENSORED));
        assert!(t.commands.is_empty());
    }

    #[test]
    fn exit_code_order() {
        let mut rep = RunReport::new(vec![], false);
        rep.stats.insert(
            "a".into(),
            HostStats {
                ok: 1,
                ..Default::default()
            },
        );
        assert_eq!(rep.exit_code(), crate::ExitCode::Ok);
        rep.stats.insert(
            "b".into(),
            HostStats {
                failed: 1,
                ..Default::default()
            },
        );
        assert_eq!(rep.exit_code(), crate::ExitCode::HostFailed);
        rep.stats.insert(
            "c".into(),
            HostStats {
                unreachable: 1,
                ..Default::default()
            },
        );
        assert_eq!(rep.exit_code(), crate::ExitCode::HostUnreachable);
        assert_eq!(rep.failed_hosts(), vec!["b".to_string(), "c".to_string()]);
    }
}
