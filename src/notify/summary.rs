//! What a notification says: [`RunSummary`], built from a run's JSON report (`run|backup
//! --json`, the same document in-process and in the daemon), and its renderings, each
//! bounded in size: a run with 500 changed devices still makes one message per target.

use serde::Serialize;
use serde_json::Value;

use super::config::{Event, Links};
use crate::secret::Redactor;

/// The most devices listed (changed or failed) in a summary.
pub const MAX_DEVICES: usize = 10_000;
/// The most of one device's diff kept in a summary (renderings cut it further).
pub const MAX_DIFF_BYTES: usize = 256 << 10;
/// The most of one failure message kept.
const MAX_MSG_CHARS: usize = 500;

/// A device whose backup changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Changed {
    pub host: String,
    pub path: String,
    pub new: bool,
    pub added: u64,
    pub removed: u64,
    /// Unified diff, secrets masked (absent when the run had none for the device).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub diff_truncated: bool,
}

/// A device that failed or was unreachable.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failed {
    pub host: String,
    /// `failed` or `unreachable`.
    pub status: String,
    pub msg: String,
}

/// One run, as notifications tell it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RunSummary {
    /// The daemon job, when a job ran.
    pub job: Option<String>,
    /// `backup` or `playbook`.
    pub kind: String,
    pub started: String,
    pub duration_ms: u64,
    /// `ok`, `failed`, `timed_out`, `cancelled`, `interrupted`.
    pub result: String,
    /// Why the run as a whole failed (a job that timed out, a store that could not commit).
    pub error: Option<String>,
    pub check_mode: bool,
    pub hosts: usize,
    pub store: Option<String>,
    pub commit: Option<String>,
    pub changed: Vec<Changed>,
    pub failed: Vec<Failed>,
    /// Devices left out of the lists above ([`MAX_DEVICES`]).
    pub omitted_changed: usize,
    pub omitted_failed: usize,
}

fn cut(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

impl RunSummary {
    /// Read a run's JSON report. `redactor` masks the run's secret values once more (the
    /// report's diffs already had the platform's patterns and the run's values applied).
    pub fn from_report(doc: &Value, redactor: &Redactor) -> RunSummary {
        let mut s = RunSummary {
            kind: if doc["backups"].as_array().is_some_and(|b| !b.is_empty()) {
                "backup".into()
            } else {
                "playbook".into()
            },
            started: doc["started"].as_str().unwrap_or_default().to_string(),
            duration_ms: doc["duration_ms"].as_u64().unwrap_or(0),
            check_mode: doc["check_mode"].as_bool().unwrap_or(false),
            hosts: doc["stats"].as_object().map_or(0, |m| m.len()),
            ..Default::default()
        };
        // Each host's diff and last failure from its task results.
        let mut diffs: std::collections::HashMap<(String, String), String> = Default::default();
        let mut msgs: std::collections::HashMap<String, String> = Default::default();
        for play in doc["plays"].as_array().into_iter().flatten() {
            for task in play["tasks"].as_array().into_iter().flatten() {
                for h in task["hosts"].as_array().into_iter().flatten() {
                    let host = h["host"].as_str().unwrap_or_default();
                    match h["status"].as_str() {
                        Some("changed") => {
                            if let (Some(path), Some(diff)) =
                                (h["data"]["path"].as_str(), h["diff"].as_str())
                            {
                                diffs
                                    .insert((host.to_string(), path.to_string()), diff.to_string());
                            }
                        }
                        Some("failed") | Some("unreachable") => {
                            let ignored = h["ignored"].as_bool().unwrap_or(false)
                                || h["rescued"].as_bool().unwrap_or(false);
                            if !ignored {
                                let m = h["msg"].as_str().unwrap_or("failed");
                                msgs.insert(host.to_string(), m.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for b in doc["backups"].as_array().into_iter().flatten() {
            if s.store.is_none() {
                s.store = b["store"].as_str().map(str::to_string);
            }
            if s.commit.is_none() {
                s.commit = b["commit"].as_str().map(str::to_string);
            }
            if let Some(e) = b["error"].as_str() {
                s.error = Some(redactor.redact(e).into_owned());
            }
            let key = if s.check_mode {
                "would_change"
            } else {
                "changed"
            };
            for c in b[key].as_array().into_iter().flatten() {
                if s.changed.len() >= MAX_DEVICES {
                    s.omitted_changed += 1;
                    continue;
                }
                let host = c["host"].as_str().unwrap_or_default().to_string();
                let path = c["path"].as_str().unwrap_or_default().to_string();
                let (diff, diff_truncated) = match diffs.remove(&(host.clone(), path.clone())) {
                    Some(d) => {
                        let d = redactor.redact(&d).into_owned();
                        let (kept, cutoff) = cut(&d, MAX_DIFF_BYTES);
                        (Some(kept.to_string()), cutoff)
                    }
                    None => (None, false),
                };
                s.changed.push(Changed {
                    host,
                    path,
                    new: c["new"].as_bool().unwrap_or(false),
                    added: c["added"].as_u64().unwrap_or(0),
                    removed: c["removed"].as_u64().unwrap_or(0),
                    diff,
                    diff_truncated,
                });
            }
        }
        for (host, st) in doc["stats"].as_object().into_iter().flatten() {
            let n = |k: &str| st[k].as_u64().unwrap_or(0);
            let status = if n("unreachable") > 0 {
                "unreachable"
            } else if n("failed") > 0 {
                "failed"
            } else {
                continue;
            };
            if s.failed.len() >= MAX_DEVICES {
                s.omitted_failed += 1;
                continue;
            }
            let msg = msgs.remove(host).unwrap_or_else(|| status.to_string());
            let msg = redactor.redact(&msg);
            let msg: String = msg.chars().take(MAX_MSG_CHARS).collect();
            s.failed.push(Failed {
                host: host.clone(),
                status: status.into(),
                msg,
            });
        }
        s.result = if doc["interrupted"].as_bool().unwrap_or(false) {
            "interrupted".into()
        } else if !s.failed.is_empty() || s.error.is_some() {
            "failed".into()
        } else {
            "ok".into()
        };
        s
    }

    /// As [`RunSummary::from_report`], from the run's report in memory. Each host's result
    /// becomes JSON one at a time and only what a message uses is kept: the whole report
    /// as one `serde_json::Value` was several times its ~200 MB text at 10,000 hosts.
    pub fn from_run_report(report: &crate::report::RunReport, redactor: &Redactor) -> RunSummary {
        let host = |h: &crate::report::HostTaskResult| -> Value {
            let full = serde_json::to_value(h).unwrap_or_default();
            let mut kept = serde_json::Map::new();
            for k in ["host", "status", "diff", "ignored", "rescued", "msg"] {
                if let Some(v) = full.get(k) {
                    kept.insert(k.into(), v.clone());
                }
            }
            if let Some(path) = full.get("data").and_then(|d| d.get("path")) {
                kept.insert("data".into(), serde_json::json!({ "path": path }));
            }
            Value::Object(kept)
        };
        let plays: Vec<Value> = report
            .plays
            .iter()
            .map(|p| {
                let tasks: Vec<Value> = p
                    .tasks
                    .iter()
                    .map(|t| serde_json::json!({ "hosts": t.hosts.iter().map(host).collect::<Vec<_>>() }))
                    .collect();
                serde_json::json!({ "tasks": tasks })
            })
            .collect();
        let doc = serde_json::json!({
            "started": report.started,
            "duration_ms": report.duration_ms,
            "check_mode": report.check_mode,
            "interrupted": report.interrupted,
            "stats": report.stats,
            "backups": report.backups,
            "plays": plays,
        });
        RunSummary::from_report(&doc, redactor)
    }

    /// A run that produced no report (it could not start, timed out, crashed).
    pub fn run_failed(result: &str, error: &str) -> RunSummary {
        RunSummary {
            result: result.to_string(),
            error: Some(error.to_string()),
            ..Default::default()
        }
    }

    /// What the run is news about.
    pub fn events(&self) -> Vec<Event> {
        let mut out = Vec::new();
        if !self.changed.is_empty() {
            out.push(Event::Changed);
        }
        if !self.failed.is_empty() || self.error.is_some() || self.result == "timed_out" {
            out.push(Event::Failed);
        }
        out
    }

    /// `nightly-backup: 3 devices changed, 1 failed`.
    pub fn headline(&self) -> String {
        let mut parts = Vec::new();
        let n_changed = self.changed.len() + self.omitted_changed;
        let n_failed = self.failed.len() + self.omitted_failed;
        let dev = |n: usize| if n == 1 { "device" } else { "devices" };
        if n_changed > 0 {
            let verb = if self.check_mode {
                "would change"
            } else {
                "changed"
            };
            parts.push(format!("{n_changed} {} {verb}", dev(n_changed)));
        }
        if n_failed > 0 {
            parts.push(format!("{n_failed} {} failed", dev(n_failed)));
        }
        match self.result.as_str() {
            "timed_out" => parts.push("the run timed out".into()),
            "cancelled" | "interrupted" => parts.push("the run was interrupted".into()),
            _ => {}
        }
        if parts.is_empty() && self.error.is_some() {
            parts.push("the run failed".into());
        }
        if parts.is_empty() {
            parts.push("no changes".into());
        }
        let what = match &self.job {
            Some(j) => format!("job {j}"),
            None if self.kind == "backup" => "backup".to_string(),
            None => "run".to_string(),
        };
        format!("{what}: {}", parts.join(", "))
    }

    /// A link from a template (`{commit}`, `{host}`, `{path}`, `{job}`), values URL-encoded.
    pub fn link(&self, template: Option<&str>, device: Option<&Changed>) -> Option<String> {
        let t = template?;
        if t.contains("{commit}") && self.commit.is_none() {
            return None;
        }
        if (t.contains("{host}") || t.contains("{path}")) && device.is_none() {
            return None;
        }
        if t.contains("{job}") && self.job.is_none() {
            return None;
        }
        let mut out = t.to_string();
        for (k, v) in [
            ("{commit}", self.commit.as_deref()),
            ("{job}", self.job.as_deref()),
            ("{host}", device.map(|d| d.host.as_str())),
            ("{path}", device.map(|d| d.path.as_str())),
        ] {
            if let Some(v) = v {
                // `/` stays: a file path in a repository browser's URL keeps its folders.
                out = out.replace(k, &encode(v, k == "{path}"));
            }
        }
        Some(out)
    }
}

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How a text rendering is laid out and how large it may grow.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Markdown (`**bold**`, code fences) vs plain text.
    pub markdown: bool,
    /// Slack's mrkdwn bolds with one `*`.
    pub single_star_bold: bool,
    /// The most bytes of the whole text.
    pub max_bytes: usize,
    /// The most lines of one device's diff.
    pub max_diff_lines: usize,
}

impl Style {
    pub const EMAIL: Style = Style {
        markdown: false,
        single_star_bold: false,
        max_bytes: 2 << 20,
        max_diff_lines: 2000,
    };
}

/// Appends pieces while they fit in a byte budget, keeping room for a closing note.
struct Budget {
    out: String,
    max: usize,
    full: bool,
}

/// Room kept for the "... left out" note at the end.
const NOTE_ROOM: usize = 200;

impl Budget {
    fn new(max: usize) -> Self {
        Budget {
            out: String::new(),
            max: max.saturating_sub(NOTE_ROOM),
            full: false,
        }
    }

    /// Add `s` whole, or nothing (then the budget is full).
    fn push(&mut self, s: &str) -> bool {
        if self.full || self.out.len() + s.len() > self.max {
            self.full = true;
            return false;
        }
        self.out.push_str(s);
        true
    }

    fn left(&self) -> usize {
        self.max.saturating_sub(self.out.len())
    }
}

/// A diff cut to `max_lines` and `max_bytes`: the text and how many lines were dropped.
pub fn cut_diff(diff: &str, max_lines: usize, max_bytes: usize) -> (String, usize) {
    let total = diff.lines().count();
    let mut out = String::new();
    let mut kept = 0;
    for line in diff.lines() {
        if kept >= max_lines || out.len() + line.len() + 1 > max_bytes {
            break;
        }
        // Code fences inside a diff would end a Markdown code block early.
        out.push_str(&line.replace("```", "'''"));
        out.push('\n');
        kept += 1;
    }
    (out, total - kept)
}

/// The summary as text (email's plain part, chat messages), within `style.max_bytes`.
pub fn render_text(s: &RunSummary, links: &Links, style: Style) -> String {
    let bold = |t: &str| {
        if !style.markdown {
            t.to_string()
        } else if style.single_star_bold {
            format!("*{t}*")
        } else {
            format!("**{t}**")
        }
    };
    let code = |t: &str| {
        if style.markdown {
            format!("`{}`", t.replace('`', "'"))
        } else {
            t.to_string()
        }
    };
    let mut b = Budget::new(style.max_bytes);
    b.push(&format!("{}\n", bold(&format!("netorch {}", s.headline()))));
    let mut facts = Vec::new();
    if !s.started.is_empty() {
        facts.push(format!("started {}", s.started));
    }
    if s.duration_ms > 0 {
        facts.push(format!("took {:.1}s", s.duration_ms as f64 / 1000.0));
    }
    if s.hosts > 0 {
        facts.push(format!("{} devices in the run", s.hosts));
    }
    if !facts.is_empty() {
        b.push(&format!("{}\n", facts.join(", ")));
    }
    if let Some(e) = &s.error {
        b.push(&format!("Error: {e}\n"));
    }
    if let Some(c) = &s.commit {
        let short: String = c.chars().take(10).collect();
        let mut line = format!("Commit {}", code(&short));
        if let Some(st) = &s.store {
            line.push_str(&format!(" in {}", code(st)));
        }
        if let Some(l) = s.link(links.commit.as_deref(), None) {
            line.push_str(&format!(" {l}"));
        }
        b.push(&format!("{line}\n"));
    }
    if let Some(l) = s.link(links.job.as_deref(), None) {
        b.push(&format!("Job: {l}\n"));
    }
    let mut listed_failed = 0;
    if !s.failed.is_empty() {
        b.push(&format!(
            "\n{}\n",
            bold(&format!("Failed ({})", s.failed.len() + s.omitted_failed))
        ));
        for f in &s.failed {
            let one_line = f.msg.replace(['\n', '\r'], " ");
            if !b.push(&format!("- {}: {}: {one_line}\n", code(&f.host), f.status)) {
                break;
            }
            listed_failed += 1;
        }
    }
    let mut listed_changed = 0;
    if !s.changed.is_empty() {
        let verb = if s.check_mode {
            "Would change"
        } else {
            "Changed"
        };
        b.push(&format!(
            "\n{}\n",
            bold(&format!("{verb} ({})", s.changed.len() + s.omitted_changed))
        ));
        for c in &s.changed {
            let new = if c.new { " (new)" } else { "" };
            if !b.push(&format!(
                "- {} {} +{} -{}{new}\n",
                code(&c.host),
                code(&c.path),
                c.added,
                c.removed
            )) {
                break;
            }
            listed_changed += 1;
        }
    }
    // Diffs while they fit; each device's cut to its share.
    let mut diffs_shown = 0;
    let with_diff = s.changed.iter().filter(|c| c.diff.is_some()).count();
    for c in s.changed.iter().filter(|c| c.diff.is_some()) {
        let Some(diff) = &c.diff else { continue };
        let head = format!("\n{} ({})", bold(&c.host), c.path);
        let link = s
            .link(links.device.as_deref(), Some(c))
            .map(|l| format!(" {l}"))
            .unwrap_or_default();
        // Leave room for the fences and a truncation line.
        let room = b.left().saturating_sub(head.len() + link.len() + 120);
        if room < 200 {
            b.full = true;
            break;
        }
        let (text, dropped) = cut_diff(diff, style.max_diff_lines, room);
        let mut piece = format!("{head}{link}\n");
        if style.markdown {
            piece.push_str(&format!("```diff\n{text}```\n"));
        } else {
            piece.push_str(&text);
        }
        if dropped > 0 || c.diff_truncated {
            piece.push_str(&format!(
                "[diff truncated: {} more lines]\n",
                if dropped > 0 {
                    dropped.to_string()
                } else {
                    "some".into()
                }
            ));
        }
        if !b.push(&piece) {
            break;
        }
        diffs_shown += 1;
    }
    let mut left_out = Vec::new();
    let more_failed = s.failed.len() + s.omitted_failed - listed_failed;
    let more_changed = s.changed.len() + s.omitted_changed - listed_changed;
    if more_failed > 0 {
        left_out.push(format!("{more_failed} failed devices"));
    }
    if more_changed > 0 {
        left_out.push(format!("{more_changed} changed devices"));
    }
    if diffs_shown < with_diff {
        left_out.push(format!("{} diffs", with_diff - diffs_shown));
    }
    let mut out = b.out;
    if !left_out.is_empty() {
        out.push_str(&format!(
            "\n[truncated to fit the message: {} not shown; the run's JSON report and the backup store have everything]\n",
            left_out.join(", ")
        ));
    }
    out
}

/// HTML-escape text for element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The summary as a small HTML document (email's HTML part): the same content as
/// [`render_text`], every value escaped.
pub fn render_html(s: &RunSummary, links: &Links, max_bytes: usize) -> String {
    let e = html_escape;
    let a = |url: &str, text: &str| format!("<a href=\"{}\">{}</a>", e(url), e(text));
    let mut b = Budget::new(max_bytes);
    b.push("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n");
    b.push(&format!("<h2>netorch {}</h2>\n", e(&s.headline())));
    if !s.started.is_empty() {
        b.push(&format!(
            "<p>Started {}, took {:.1}s, {} devices in the run.</p>\n",
            e(&s.started),
            s.duration_ms as f64 / 1000.0,
            s.hosts
        ));
    }
    if let Some(err) = &s.error {
        b.push(&format!("<p><b>Error:</b> {}</p>\n", e(err)));
    }
    if let Some(c) = &s.commit {
        let short: String = c.chars().take(10).collect();
        let shown = match s.link(links.commit.as_deref(), None) {
            Some(l) => a(&l, &short),
            None => format!("<code>{}</code>", e(&short)),
        };
        let store = s
            .store
            .as_deref()
            .map(|st| format!(" in <code>{}</code>", e(st)))
            .unwrap_or_default();
        b.push(&format!("<p>Commit {shown}{store}</p>\n"));
    }
    if !s.failed.is_empty() {
        b.push(&format!(
            "<h3>Failed ({})</h3>\n<ul>\n",
            s.failed.len() + s.omitted_failed
        ));
        for f in &s.failed {
            if !b.push(&format!(
                "<li><b>{}</b>: {}: {}</li>\n",
                e(&f.host),
                e(&f.status),
                e(&f.msg)
            )) {
                break;
            }
        }
        b.full = false;
        b.push("</ul>\n");
    }
    if !s.changed.is_empty() {
        let verb = if s.check_mode {
            "Would change"
        } else {
            "Changed"
        };
        b.push(&format!(
            "<h3>{verb} ({})</h3>\n<table border=\"1\" cellpadding=\"3\" style=\"border-collapse: collapse\">\n<tr><th>Device</th><th>File</th><th>+</th><th>-</th></tr>\n",
            s.changed.len() + s.omitted_changed
        ));
        for c in &s.changed {
            let file = match s.link(links.device.as_deref(), Some(c)) {
                Some(l) => a(&l, &c.path),
                None => e(&c.path),
            };
            if !b.push(&format!(
                "<tr><td>{}{}</td><td>{file}</td><td>{}</td><td>{}</td></tr>\n",
                e(&c.host),
                if c.new { " (new)" } else { "" },
                c.added,
                c.removed
            )) {
                break;
            }
        }
        b.full = false;
        b.push("</table>\n");
        for c in &s.changed {
            let Some(diff) = &c.diff else { continue };
            let room = b.left().saturating_sub(300);
            if room < 200 {
                b.full = true;
                break;
            }
            let (text, dropped) = cut_diff(diff, Style::EMAIL.max_diff_lines, room / 2);
            let mut piece = format!(
                "<h4>{} ({})</h4>\n<pre style=\"background: #f6f8fa; padding: 6px\">{}</pre>\n",
                e(&c.host),
                e(&c.path),
                e(&text)
            );
            if dropped > 0 || c.diff_truncated {
                piece.push_str("<p><i>[diff truncated]</i></p>\n");
            }
            if !b.push(&piece) {
                break;
            }
        }
    }
    let full = b.full;
    let mut out = b.out;
    if full {
        out.push_str("<p><i>[truncated to fit the message; the run's JSON report and the backup store have everything]</i></p>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(n: usize) -> Value {
        let changed: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"host": format!("r{i}"), "path": format!("r{i}.cfg"), "new": false, "added": 1, "removed": 1}))
            .collect();
        let hosts: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"host": format!("r{i}"), "status": "changed", "data": {"path": format!("r{i}.cfg")}, "diff": format!("--- a/r{i}.cfg\n+++ b/r{i}.cfg\n-ntp server 1.1.1.1\n+ntp server 2.2.2.2\n+snmp-server community hunter2 RO\n")}))
            .collect();
        let mut stats = serde_json::Map::new();
        for i in 0..n {
            stats.insert(
                format!("r{i}"),
                serde_json::json!({"ok": 0, "changed": 1, "failed": 0, "unreachable": 0}),
            );
        }
        stats.insert(
            "bad".into(),
            serde_json::json!({"ok": 0, "changed": 0, "failed": 0, "unreachable": 1}),
        );
        serde_json::json!({
            "started": "2026-01-01T00:00:00Z", "duration_ms": 1500, "check_mode": false,
            "plays": [{"tasks": [{"hosts": hosts}, {"hosts": [{"host": "bad", "status": "unreachable", "msg": "connection refused <b>"}]}]}],
            "stats": stats,
            "backups": [{"store": "/s", "commit": "0123456789abcdef", "changed": changed}],
        })
    }

    #[test]
    fn summary_from_the_report_in_memory_equals_the_one_from_its_json() {
        use crate::report::{
            HostStats, HostTaskResult, PlayReport, RunReport, Status, TaskReport, TaskResult,
        };
        let mut r = RunReport::new(vec!["pb.yml".into()], false);
        let changed = TaskResult {
            status: Status::Changed,
            diff: Some("--- a/r1.cfg\n+++ b/r1.cfg\n-x\n+y hunter2\n".into()),
            data: serde_json::json!({"path": "r1.cfg", "config": "long text"}),
            ..Default::default()
        };
        let failed = TaskResult {
            status: Status::Failed,
            msg: Some("boom".into()),
            ..Default::default()
        };
        let ignored = TaskResult {
            status: Status::Failed,
            msg: Some("not news".into()),
            ignored: true,
            ..Default::default()
        };
        r.plays.push(PlayReport {
            name: "p".into(),
            hosts: vec!["r1".into(), "r2".into()],
            tasks: vec![TaskReport {
                name: "t".into(),
                location: "pb.yml:3".into(),
                hosts: vec![
                    HostTaskResult {
                        host: "r1".into(),
                        result: changed,
                    },
                    HostTaskResult {
                        host: "r2".into(),
                        result: failed,
                    },
                    HostTaskResult {
                        host: "r3".into(),
                        result: ignored,
                    },
                ],
            }],
        });
        r.stats.insert(
            "r1".into(),
            HostStats {
                changed: 1,
                ..Default::default()
            },
        );
        r.stats.insert(
            "r2".into(),
            HostStats {
                failed: 1,
                ..Default::default()
            },
        );
        r.stats.insert(
            "r3".into(),
            HostStats {
                ignored: 1,
                ..Default::default()
            },
        );
        r.backups.push(crate::backup::StoreSummary {
            store: "/s".into(),
            commit: Some("0123456789".into()),
            changed: vec![crate::backup::DeviceChange {
                host: "r1".into(),
                path: "r1.cfg".into(),
                new: false,
                added: 1,
                removed: 1,
            }],
            would_change: Vec::new(),
            unchanged: 0,
            write_ms: 3,
            pushed: None,
            push: None,
            error: None,
        });
        let mut red = Redactor::new();
        red.add("hunter2");
        let slim = RunSummary::from_run_report(&r, &red);
        let whole = RunSummary::from_report(&serde_json::to_value(&r).unwrap(), &red);
        assert_eq!(slim, whole);
        assert_eq!(slim.changed.len(), 1);
        assert!(
            slim.changed[0]
                .diff
                .as_deref()
                .is_some_and(|d| d.contains("+y ********")),
            "{slim:?}"
        );
        assert_eq!(slim.failed.len(), 1);
        assert_eq!(slim.failed[0].msg, "boom");
        assert_eq!(slim.result, "failed");
    }

    #[test]
    fn summary_from_a_report() {
        let mut r = Redactor::new();
        r.add("hunter2");
        let s = RunSummary::from_report(&report(3), &r);
        assert_eq!(s.changed.len(), 3);
        assert_eq!(s.failed.len(), 1);
        assert_eq!(s.failed[0].msg, "connection refused <b>");
        assert_eq!(s.events(), vec![Event::Changed, Event::Failed]);
        let d = s.changed[0].diff.as_deref().unwrap();
        assert!(
            d.contains("+ntp server 2.2.2.2") && !d.contains("hunter2"),
            "{d}"
        );
        assert_eq!(s.headline(), "backup: 3 devices changed, 1 device failed");
        let links = Links {
            commit: Some("https://git/c/{commit}".into()),
            device: Some("https://git/b/{path}?h={host}".into()),
            job: Some("https://n/{job}".into()),
        };
        let t = render_text(&s, &links, Style::EMAIL);
        assert!(t.contains("https://git/c/0123456789abcdef"), "{t}");
        assert!(t.contains("https://git/b/r1.cfg?h=r1"), "{t}");
        assert!(!t.contains("https://n/"), "no job, no job link: {t}");
        let h = render_html(&s, &links, 1 << 20);
        assert!(h.contains("connection refused &lt;b&gt;"), "{h}");
        assert!(!h.contains("<b>\""), "{h}");
    }

    #[test]
    fn five_hundred_devices_fit_a_chat_message() {
        let s = RunSummary::from_report(&report(500), &Redactor::new());
        let style = Style {
            markdown: true,
            single_star_bold: true,
            max_bytes: 12_000,
            max_diff_lines: 40,
        };
        let t = render_text(&s, &Links::default(), style);
        assert!(t.len() <= 12_000, "{}", t.len());
        assert!(t.contains("500 devices changed"), "{t}");
        assert!(t.contains("[truncated to fit the message"), "{t}");
        assert!(t.contains("changed devices") && t.contains("diffs"), "{t}");
        let h = render_html(&s, &Links::default(), 50_000);
        assert!(h.len() <= 50_000 + 200, "{}", h.len());
        assert!(h.ends_with("</body></html>\n"));
    }

    #[test]
    fn a_long_diff_is_cut_with_a_note() {
        let long: String = (0..5000).map(|i| format!("+line {i}\n")).collect();
        let (t, dropped) = cut_diff(&long, 100, 1 << 20);
        assert_eq!(t.lines().count(), 100);
        assert_eq!(dropped, 4900);
        let (t, _) = cut_diff("+a ``` b\n", 10, 100);
        assert!(!t.contains("```"));
    }
}
