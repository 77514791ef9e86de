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

/// Counts from a run's JSON report (`netorch run|backup --json`).
pub fn counts_from_report(doc: &serde_json::Value) -> (u64, u64, u64) {
    let mut ok = 0;
    let mut changed = 0;
    let mut failed = 0;
    if let Some(stats) = doc["stats"].as_object() {
        for s in stats.values() {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            if n("failed") > 0 || n("unreachable") > 0 {
                failed += 1;
            } else if n("changed") > 0 {
                changed += 1;
            } else {
                ok += 1;
            }
        }
    }
    (ok, changed, failed)
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
        let doc = serde_json::json!({"stats": {
            "a": {"ok": 1, "changed": 0, "failed": 0, "unreachable": 0},
            "b": {"ok": 0, "changed": 1, "failed": 0, "unreachable": 0},
            "c": {"ok": 0, "changed": 0, "failed": 0, "unreachable": 1},
        }});
        assert_eq!(counts_from_report(&doc), (1, 1, 1));
    }
}
