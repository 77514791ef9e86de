//! The daemon's view of its jobs: the JSON status (written atomically to the status file and
//! served on `GET /status`) and the same numbers as Prometheus text (`GET /metrics`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How one run of a job ended.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunOutcome {
    /// RFC 3339 start time.
    pub started: String,
    /// Seconds since the epoch, for metrics.
    pub started_unix: i64,
    pub duration_ms: u64,
    /// `ok`, `failed` (some host failed or the run could not start), `cancelled`, or
    /// `timed_out` (killed after the job's timeout).
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Devices whose every task was ok / that had a change / that failed or were unreachable.
    pub ok: u64,
    pub changed: u64,
    pub failed: u64,
    /// The backup commit, when the run made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What happened to each notification target after the run (none when nothing was
    /// news). A failed one leaves `result` as it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<crate::notify::Delivery>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobStatus {
    pub name: String,
    pub kind: String,
    pub schedule: String,
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunOutcome>,
    /// RFC 3339 time of the last run that ended ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    #[serde(default)]
    pub last_success_unix: Option<i64>,
    pub runs: u64,
    pub failures: u64,
    /// Runs not started because the previous one was still going.
    pub skipped: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub netorch_version: String,
    pub pid: u32,
    pub started: String,
    pub schedule: String,
    pub shutting_down: bool,
    pub jobs: BTreeMap<String, JobStatus>,
}

impl DaemonStatus {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// Prometheus text exposition format, one series per job.
    pub fn to_metrics(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, f64)>| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, v) in rows {
                out.push_str(&format!("{name}{{{labels}}} {v}\n"));
            }
        };
        let job = |j: &JobStatus| format!("job=\"{}\"", escape(&j.name));
        let jobs: Vec<&JobStatus> = self.jobs.values().collect();
        family(
            "netorch_job_last_run_timestamp_seconds",
            "gauge",
            "Start time of the job's last run.",
            jobs.iter()
                .filter_map(|j| Some((job(j), j.last_run.as_ref()?.started_unix as f64)))
                .collect(),
        );
        family(
            "netorch_job_last_success_timestamp_seconds",
            "gauge",
            "Start time of the job's last run that ended ok.",
            jobs.iter()
                .filter_map(|j| Some((job(j), j.last_success_unix? as f64)))
                .collect(),
        );
        family(
            "netorch_job_last_duration_seconds",
            "gauge",
            "Duration of the job's last run.",
            jobs.iter()
                .filter_map(|j| Some((job(j), j.last_run.as_ref()?.duration_ms as f64 / 1000.0)))
                .collect(),
        );
        family(
            "netorch_job_last_success",
            "gauge",
            "1 when the job's last run ended ok.",
            jobs.iter()
                .filter_map(|j| {
                    let r = j.last_run.as_ref()?;
                    Some((job(j), if r.result == "ok" { 1.0 } else { 0.0 }))
                })
                .collect(),
        );
        let mut devices = Vec::new();
        for j in &jobs {
            if let Some(r) = &j.last_run {
                for (state, n) in [("ok", r.ok), ("changed", r.changed), ("failed", r.failed)] {
                    devices.push((format!("{},state=\"{state}\"", job(j)), n as f64));
                }
            }
        }
        family(
            "netorch_job_devices",
            "gauge",
            "Devices in the job's last run by outcome.",
            devices,
        );
        family(
            "netorch_job_running",
            "gauge",
            "1 while the job runs.",
            jobs.iter()
                .map(|j| (job(j), if j.running { 1.0 } else { 0.0 }))
                .collect(),
        );
        family(
            "netorch_job_runs_total",
            "counter",
            "Runs started since the daemon started.",
            jobs.iter().map(|j| (job(j), j.runs as f64)).collect(),
        );
        family(
            "netorch_job_failures_total",
            "counter",
            "Runs that did not end ok.",
            jobs.iter().map(|j| (job(j), j.failures as f64)).collect(),
        );
        family(
            "netorch_job_skipped_total",
            "counter",
            "Runs skipped because the previous run was still going.",
            jobs.iter().map(|j| (job(j), j.skipped as f64)).collect(),
        );
        out
    }
}

/// Prometheus label value escaping: backslash, double quote, newline.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What the daemon reads of a run's JSON report (`netorch run|backup --json`): per-host
/// counts and the backup commit. Read straight from the file, the rest skipped, so a
/// 10,000-host report never sits in the daemon's memory (which would grow with each run).
#[derive(Debug, Default, Deserialize)]
pub struct ReportBrief {
    #[serde(default, rename = "stats", deserialize_with = "host_counts")]
    counts: (u64, u64, u64),
    #[serde(default)]
    backups: Vec<BackupBrief>,
}

#[derive(Debug, Default, Deserialize)]
struct BackupBrief {
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct HostCounts {
    #[serde(default)]
    changed: u64,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    unreachable: u64,
}

/// `stats` (host → counts) as devices ok / changed / failed, host by host, no map kept.
fn host_counts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(u64, u64, u64), D::Error> {
    struct Visit;
    impl<'de> serde::de::Visitor<'de> for Visit {
        type Value = (u64, u64, u64);
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of host to counts")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Self::Value, A::Error> {
            let (mut ok, mut changed, mut failed) = (0, 0, 0);
            while let Some((_, h)) = m.next_entry::<serde::de::IgnoredAny, HostCounts>()? {
                if h.failed > 0 || h.unreachable > 0 {
                    failed += 1;
                } else if h.changed > 0 {
                    changed += 1;
                } else {
                    ok += 1;
                }
            }
            Ok((ok, changed, failed))
        }
    }
    d.deserialize_map(Visit)
}

impl ReportBrief {
    /// The brief of the report in `path`, or `None` when it is not one (the run printed
    /// nothing, or was cut short).
    pub fn read(path: &std::path::Path) -> Option<ReportBrief> {
        let file = std::fs::File::open(path).ok()?;
        serde_json::from_reader(std::io::BufReader::new(file)).ok()
    }

    /// Devices whose every task was ok / that had a change / that failed or were unreachable.
    pub fn counts(&self) -> (u64, u64, u64) {
        self.counts
    }

    /// The backup commit, when the run made one.
    pub fn commit(&self) -> Option<&str> {
        self.backups.iter().find_map(|b| b.commit.as_deref())
    }

    /// The backup store's error, when writing it failed.
    pub fn backup_error(&self) -> Option<&str> {
        self.backups.iter().find_map(|b| b.error.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_text() {
        let mut st = DaemonStatus::default();
        st.jobs.insert(
            "b".into(),
            JobStatus {
                name: "nightly \"b\"".into(),
                runs: 3,
                skipped: 1,
                last_success_unix: Some(1_700_000_000),
                last_run: Some(RunOutcome {
                    started_unix: 1_700_000_000,
                    duration_ms: 1500,
                    result: "ok".into(),
                    ok: 28,
                    changed: 2,
                    failed: 0,
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        let m = st.to_metrics();
        assert!(
            m.contains("netorch_job_last_duration_seconds{job=\"nightly \\\"b\\\"\"} 1.5\n"),
            "{m}"
        );
        assert!(
            m.contains("netorch_job_devices{job=\"nightly \\\"b\\\"\",state=\"changed\"} 2\n"),
            "{m}"
        );
        assert!(
            m.contains("# TYPE netorch_job_skipped_total counter\n"),
            "{m}"
        );
        assert!(m.contains("netorch_job_last_success_timestamp_seconds{job=\"nightly \\\"b\\\"\"} 1700000000\n"), "{m}");
    }

    #[test]
    fn counts() {
        let doc = serde_json::json!({"plays": [{"tasks": [{"hosts": [{"output": "x"}]}]}],
            "stats": {
            "a": {"ok": 1, "changed": 0, "failed": 0, "unreachable": 0},
            "b": {"ok": 0, "changed": 1, "failed": 0, "unreachable": 0},
            "c": {"ok": 0, "changed": 0, "failed": 0, "unreachable": 1},
            "d": {"ok": 3, "changed": 2, "failed": 1, "unreachable": 0},
        }, "backups": [{"store": "s"}, {"store": "t", "commit": "abc", "error": "full"}]});
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        let brief = ReportBrief::read(&path).unwrap();
        assert_eq!(brief.counts(), (1, 1, 2));
        assert_eq!(brief.commit(), Some("abc"));
        assert_eq!(brief.backup_error(), Some("full"));
        // A report cut short is no report.
        std::fs::write(&path, &serde_json::to_vec(&doc).unwrap()[..40]).unwrap();
        assert!(ReportBrief::read(&path).is_none());
    }
}
