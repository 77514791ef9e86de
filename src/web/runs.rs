//! The daemon's run history on disk: `runs/<job>/<id>.meta.json` (who, when, how it ended)
//! and `runs/<job>/<id>.report.json` (the run's `--json` report as the child printed it),
//! in a `runs` folder beside the status file. The newest `keep` runs of each job are kept.
//!
//! A run's meta is written when it starts (`result: running`) and again when it ends, each
//! time atomically, so a page never reads half a file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::schedule::status::RunOutcome;

/// One run of a job, as the Runs pages show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunMeta {
    /// `20261203T081500.123Z`: the start time, sortable.
    pub id: String,
    pub job: String,
    pub kind: String,
    /// `schedule`, `catch-up` or `web`.
    pub trigger: String,
    /// Who asked, for a run started from the web interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// The `--limit` the run had when it was not the job's own (one device backed up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// `result` is `running` until the run ends.
    pub outcome: RunOutcome,
    /// Whether a report file was kept.
    #[serde(default)]
    pub report: bool,
}

/// The run-history folder for a status file.
pub fn runs_dir(status_file: &Path) -> PathBuf {
    status_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("runs")
}

/// A job's folder name: its name with anything but `[A-Za-z0-9_.-]` as `%XX`, so that no
/// job name can reach outside `runs/` (`..` has its dots encoded).
pub fn job_dir_name(job: &str) -> String {
    let mut out = String::new();
    for b in job.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

/// A run id as made by [`new_id`]; anything else is refused before touching the disk.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'T' | b'Z' | b'.' | b'-'))
}

/// A new run id from its start time; `seq` keeps ids apart within one millisecond.
pub fn new_id(t: chrono::DateTime<chrono::Utc>, seq: u64) -> String {
    let base = t.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    if seq == 0 {
        base
    } else {
        format!("{base}-{seq}")
    }
}

fn meta_path(dir: &Path, job: &str, id: &str) -> PathBuf {
    dir.join(job_dir_name(job)).join(format!("{id}.meta.json"))
}

fn report_path(dir: &Path, job: &str, id: &str) -> PathBuf {
    dir.join(job_dir_name(job))
        .join(format!("{id}.report.json"))
}

/// A file in the job's folder for a run's report to be written into as the run goes (the
/// child's stdout): [`save`] moves it into place. It vanishes if dropped unsaved.
pub fn report_file(dir: &Path, job: &str) -> Result<tempfile::NamedTempFile, std::io::Error> {
    let job_dir = dir.join(job_dir_name(job));
    create_private_dir(&job_dir)?;
    tempfile::Builder::new()
        .prefix(".report-")
        .suffix(".partial")
        .tempfile_in(&job_dir)
}

/// Write a run's meta (and keep its report, when given: a file from [`report_file`]), then
/// drop the job's oldest runs beyond `keep`.
pub fn save(
    dir: &Path,
    meta: &RunMeta,
    report: Option<tempfile::TempPath>,
    keep: usize,
) -> Result<(), std::io::Error> {
    let job_dir = dir.join(job_dir_name(&meta.job));
    create_private_dir(&job_dir)?;
    let mut meta = meta.clone();
    if let Some(r) = report {
        if std::fs::metadata(&r)?.len() > 0 {
            r.persist(report_path(dir, &meta.job, &meta.id))
                .map_err(|e| e.error)?;
            meta.report = true;
        }
    }
    let json = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
    crate::fs::write_atomic(&meta_path(dir, &meta.job, &meta.id), &json)?;
    prune(&job_dir, keep);
    Ok(())
}

fn create_private_dir(p: &Path) -> Result<(), std::io::Error> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
}

/// The ids of the runs in a job's folder, newest first.
fn ids_in(job_dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(job_dir) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".meta.json"))
                .filter(|id| valid_id(id))
                .map(str::to_string)
        })
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

fn prune(job_dir: &Path, keep: usize) {
    for id in ids_in(job_dir).into_iter().skip(keep.max(1)) {
        let _ = std::fs::remove_file(job_dir.join(format!("{id}.report.json")));
        let _ = std::fs::remove_file(job_dir.join(format!("{id}.meta.json")));
    }
}

fn read_meta(path: &Path) -> Option<RunMeta> {
    let bytes = crate::source::read_bounded(path, 1 << 20).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Runs a previous daemon left `running` (it was killed, or the machine stopped) are
/// marked `cancelled`, so their pages stop waiting for an end. Called before any run starts.
pub fn close_stale(dir: &Path) {
    let Ok(jobs) = std::fs::read_dir(dir) else {
        return;
    };
    for job_dir in jobs.filter_map(|e| e.ok()).map(|e| e.path()) {
        // Reports a killed daemon's runs were writing: never moved into place.
        if let Ok(rd) = std::fs::read_dir(&job_dir) {
            for e in rd.filter_map(|e| e.ok()) {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(".report-") && name.ends_with(".partial") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        for id in ids_in(&job_dir) {
            let path = job_dir.join(format!("{id}.meta.json"));
            let Some(mut meta) = read_meta(&path) else {
                continue;
            };
            if meta.outcome.result != "running" {
                continue;
            }
            meta.outcome.result = "cancelled".into();
            meta.outcome.error = Some("the daemon stopped during this run".into());
            if let Ok(json) = serde_json::to_vec_pretty(&meta) {
                if let Err(e) = crate::fs::write_atomic(&path, &json) {
                    tracing::warn!("cannot update {}: {e}", path.display());
                }
            }
        }
    }
}

/// One run's meta.
pub fn load(dir: &Path, job: &str, id: &str) -> Option<RunMeta> {
    if !valid_id(id) {
        return None;
    }
    read_meta(&meta_path(dir, job, id))
}

/// The newest `max` runs of the given jobs (all of them when `jobs` is empty... as listed
/// by the caller), newest first.
pub fn list(dir: &Path, jobs: &[&str], max: usize) -> Vec<RunMeta> {
    let mut all: Vec<(String, String)> = Vec::new();
    for job in jobs {
        for id in ids_in(&dir.join(job_dir_name(job))).into_iter().take(max) {
            all.push((id, (*job).to_string()));
        }
    }
    all.sort_unstable_by(|a, b| b.0.cmp(&a.0));
    all.into_iter()
        .take(max)
        .filter_map(|(id, job)| read_meta(&meta_path(dir, &job, &id)))
        .collect()
}

/// A run's report, parsed as it is read, every string longer than `max_chars` kept to its
/// first `max_chars + 1` (a page still sees that it was cut). A 10,000-host playbook run
/// leaves a report of over 100 MB, mostly command output a page shows only the start of.
pub fn report(dir: &Path, job: &str, id: &str, max_chars: usize) -> Option<serde_json::Value> {
    if !valid_id(id) {
        return None;
    }
    read_cut(&report_path(dir, job, id), max_chars)
}

/// A JSON file parsed as it is read, every string cut to `max_chars + 1` characters.
pub fn read_cut(path: &Path, max_chars: usize) -> Option<serde_json::Value> {
    use serde::de::DeserializeSeed;
    let file = std::fs::File::open(path).ok()?;
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(file));
    let doc = CutStrings(max_chars).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(doc)
}

/// The size of a run's kept report in bytes (0 when there is none).
pub fn report_size(dir: &Path, job: &str, id: &str) -> u64 {
    if !valid_id(id) {
        return 0;
    }
    std::fs::metadata(report_path(dir, job, id)).map_or(0, |m| m.len())
}

/// A JSON value whose strings are cut to `self.0 + 1` characters as they are parsed.
#[derive(Clone, Copy)]
struct CutStrings(usize);

impl CutStrings {
    fn cut(self, s: &str) -> serde_json::Value {
        match s.char_indices().nth(self.0 + 1) {
            Some((at, _)) => serde_json::Value::String(s[..at].to_string()),
            None => serde_json::Value::String(s.to_string()),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for CutStrings {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CutStrings {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.cut(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = a.next_element_seed(self)? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = a.next_key::<String>()? {
            let v = a.next_value_seed(self)?;
            out.insert(k, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_runs_are_listed_newest_first_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            let meta = RunMeta {
                id: format!("20260101T00000{i}.000Z"),
                job: "../evil job".into(),
                kind: "backup".into(),
                trigger: "schedule".into(),
                requested_by: None,
                limit: None,
                outcome: RunOutcome {
                    result: "ok".into(),
                    ..Default::default()
                },
                report: false,
            };
            let mut f = report_file(dir.path(), &meta.job).unwrap();
            std::io::Write::write_all(&mut f, b"{\"stats\": {}}").unwrap();
            save(dir.path(), &meta, Some(f.into_temp_path()), 3).unwrap();
        }
        let runs = list(dir.path(), &["../evil job"], 10);
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[0].id, "20260101T000004.000Z");
        assert!(runs[0].report);
        assert!(report(dir.path(), "../evil job", &runs[0].id, 100).is_some());
        // The job's folder stays inside runs/.
        assert!(dir.path().join("%2E%2E%2Fevil%20job").is_dir());
        // Only the kept files are left: no partial report behind.
        let names: Vec<String> = std::fs::read_dir(dir.path().join("%2E%2E%2Fevil%20job"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
        assert!(load(dir.path(), "../evil job", "../../etc/passwd").is_none());
    }

    #[test]
    fn reports_are_read_with_long_strings_cut() {
        let dir = tempfile::tempdir().unwrap();
        let meta = RunMeta {
            id: "20260101T000000.000Z".into(),
            job: "j".into(),
            kind: "playbook".into(),
            trigger: "schedule".into(),
            requested_by: None,
            limit: None,
            outcome: RunOutcome::default(),
            report: false,
        };
        let doc = serde_json::json!({"plays": [{"tasks": [{"hosts": [
            {"host": "r1", "status": "ok", "duration_ms": 12, "ignored": false, "data": null,
             "commands": [{"command": "show run", "output": "é".repeat(50)}]}]}]}],
            "stats": {"r1": {"ok": 1}}, "ratio": 0.5, "list": [1, -2, "abcdefgh"]});
        let mut f = report_file(dir.path(), "j").unwrap();
        serde_json::to_writer_pretty(&mut f, &doc).unwrap();
        save(dir.path(), &meta, Some(f.into_temp_path()), 5).unwrap();
        let read = report(dir.path(), "j", &meta.id, 5).unwrap();
        let out = read["plays"][0]["tasks"][0]["hosts"][0]["commands"][0]["output"]
            .as_str()
            .unwrap();
        assert_eq!(out, "é".repeat(6));
        assert_eq!(read["list"], serde_json::json!([1, -2, "abcdef"]));
        // Everything else as written.
        assert_eq!(read["stats"], doc["stats"]);
        assert_eq!(read["ratio"], doc["ratio"]);
        assert_eq!(
            read["plays"][0]["tasks"][0]["hosts"][0]["data"],
            serde_json::Value::Null
        );
        assert_eq!(report(dir.path(), "j", &meta.id, 1000).unwrap(), doc);
        assert!(report_size(dir.path(), "j", &meta.id) > 100);
        // A report cut short is none.
        let path = report_path(dir.path(), "j", &meta.id);
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(report(dir.path(), "j", &meta.id, 1000).is_none());
    }

    #[test]
    fn runs_left_running_are_closed() {
        let dir = tempfile::tempdir().unwrap();
        let meta = RunMeta {
            id: "20260101T000000.000Z".into(),
            job: "j".into(),
            kind: "playbook".into(),
            trigger: "web".into(),
            requested_by: Some("alice".into()),
            limit: None,
            outcome: RunOutcome {
                result: "running".into(),
                ..Default::default()
            },
            report: false,
        };
        save(dir.path(), &meta, None, 5).unwrap();
        close_stale(dir.path());
        let m = load(dir.path(), "j", &meta.id).unwrap();
        assert_eq!(m.outcome.result, "cancelled");
        assert_eq!(m.requested_by.as_deref(), Some("alice"));
    }

    #[test]
    fn ids() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 5_000_000).unwrap();
        assert_eq!(new_id(t, 0), "20231114T221320.005Z");
        assert_eq!(new_id(t, 2), "20231114T221320.005Z-2");
        assert!(valid_id(&new_id(t, 2)));
        assert!(!valid_id("a/b"));
    }
}
