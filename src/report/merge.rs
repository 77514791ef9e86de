//! `netorch report merge`: the `--json` reports of a sharded run's shards joined into the
//! report one unsharded run would have given: every host's results, the recap, warnings,
//! backups, and so the exit code. A shard missing, given twice, from another run or another
//! shard count is an error (a merged report must never look complete when it is not).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{PlayReport, RunReport, TaskReport};

/// Why reports could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a netorch run report (`--json` output): {reason}", path.display())]
    Parse { path: PathBuf, reason: String },
    #[error("{}: not a shard's report: its run had no --shard or --shards", path.display())]
    NotSharded { path: PathBuf },
    #[error("{} is shard {a} but {} is shard {b}: the shards of one run share their count", first.display(), other.display())]
    CountMismatch {
        first: PathBuf,
        a: String,
        other: PathBuf,
        b: String,
    },
    #[error("{} and {} are both shard {shard}", first.display(), other.display())]
    Duplicate {
        first: PathBuf,
        other: PathBuf,
        shard: String,
    },
    #[error("shard{} {} of {count} missing: a merged report without {} would not cover every host (--partial merges what there is)", if missing.len() > 1 { "s" } else { "" }, list(missing), if missing.len() > 1 { "them" } else { "it" })]
    Missing { missing: Vec<u32>, count: u32 },
    #[error("{} and {} are reports of different runs: {what}", first.display(), other.display())]
    Different {
        first: PathBuf,
        other: PathBuf,
        what: String,
    },
    #[error("host `{host}` has results in both {} and {}: shards never share a host, so these are not shards of one run", first.display(), other.display())]
    HostTwice {
        host: String,
        first: PathBuf,
        other: PathBuf,
    },
    #[error("no report to merge")]
    Empty,
}

fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// Read one report written by `--json`.
pub fn read(path: &Path) -> Result<RunReport, MergeError> {
    let file = std::fs::File::open(path).map_err(|e| MergeError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    // Parsed as read: a shard of thousands of hosts is tens of MB of text, never held.
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| MergeError::Parse {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Merge the shards' reports (any order). `partial`: shards may be missing (their absence
/// is a warning in the merged report).
pub fn merge(
    mut reports: Vec<(PathBuf, RunReport)>,
    partial: bool,
) -> Result<RunReport, MergeError> {
    if reports.is_empty() {
        return Err(MergeError::Empty);
    }
    let mut shards = Vec::with_capacity(reports.len());
    for (path, r) in &reports {
        match r.shard {
            Some(s) => shards.push(s),
            None => return Err(MergeError::NotSharded { path: path.clone() }),
        }
    }
    let count = shards[0].count;
    let mut seen: HashMap<u32, &Path> = HashMap::new();
    for ((path, _), s) in reports.iter().zip(&shards) {
        if s.count != count {
            return Err(MergeError::CountMismatch {
                first: reports[0].0.clone(),
                a: shards[0].to_string(),
                other: path.clone(),
                b: s.to_string(),
            });
        }
        if let Some(first) = seen.insert(s.index, path) {
            return Err(MergeError::Duplicate {
                first: first.to_path_buf(),
                other: path.clone(),
                shard: s.to_string(),
            });
        }
    }
    let missing: Vec<u32> = (1..=count).filter(|k| !seen.contains_key(k)).collect();
    if !missing.is_empty() && !partial {
        return Err(MergeError::Missing { missing, count });
    }
    reports.sort_by_key(|(_, r)| r.shard.map_or(0, |s| s.index));

    let (first_path, first) = &reports[0];
    for (path, r) in &reports[1..] {
        let differ = |what: String| MergeError::Different {
            first: first_path.clone(),
            other: path.clone(),
            what,
        };
        if r.playbooks != first.playbooks {
            return Err(differ(format!(
                "playbooks {:?} and {:?}",
                first.playbooks, r.playbooks
            )));
        }
        if r.check_mode != first.check_mode {
            return Err(differ("one ran in check mode, the other did not".into()));
        }
        let names = |x: &RunReport| x.plays.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        if names(r) != names(first) {
            return Err(differ(format!(
                "plays {:?} and {:?}",
                names(first),
                names(r)
            )));
        }
    }

    let mut out = RunReport::new(first.playbooks.clone(), first.check_mode);
    out.netorch_version = first.netorch_version.clone();
    out.netorch_commit = first.netorch_commit.clone();
    out.started = reports
        .iter()
        .map(|(_, r)| r.started.clone())
        .min()
        .unwrap_or_default();
    out.duration_ms = reports
        .iter()
        .map(|(_, r)| r.duration_ms)
        .max()
        .unwrap_or(0);
    out.interrupted = reports.iter().any(|(_, r)| r.interrupted);

    let mut owner: HashMap<String, &Path> = HashMap::new();
    for (path, r) in &reports {
        for (host, stats) in &r.stats {
            if let Some(first) = owner.insert(host.clone(), path) {
                return Err(MergeError::HostTwice {
                    host: host.clone(),
                    first: first.to_path_buf(),
                    other: path.clone(),
                });
            }
            out.stats.insert(host.clone(), stats.clone());
        }
    }

    let mut warned = HashSet::new();
    for (_, r) in &reports {
        for w in &r.warnings {
            if warned.insert(w.clone()) {
                out.warnings.push(w.clone());
            }
        }
    }
    if !missing.is_empty() {
        out.warnings.push(format!(
            "partial merge: shard{} {} of {count} missing, {} hosts have no result here",
            if missing.len() > 1 { "s" } else { "" },
            list(&missing),
            if missing.len() > 1 { "their" } else { "its" }
        ));
    }
    let rollback: Vec<&str> = reports
        .iter()
        .filter_map(|(_, r)| r.rollback_run.as_deref())
        .collect();
    out.rollback_run = rollback.first().map(|s| s.to_string());
    if rollback.len() > 1 {
        out.warnings.push(format!(
            "each shard kept the configs before its changes under its own run id: {} (netorch rollback --run ID on each shard's store)",
            rollback.join(", ")
        ));
    }
    out.backups = reports
        .iter()
        .flat_map(|(_, r)| r.backups.iter().cloned())
        .collect();
    // Each shard told its targets about its own hosts.
    out.notifications = reports
        .iter()
        .flat_map(|(_, r)| r.notifications.iter().cloned())
        .collect();

    for (i, play) in first.plays.iter().enumerate() {
        let shards_of_play: Vec<&PlayReport> =
            reports.iter().filter_map(|(_, r)| r.plays.get(i)).collect();
        out.plays.push(merge_play(&play.name, &shards_of_play));
    }
    Ok(out)
}

/// One play from every shard: hosts by name (a shard only knows the inventory order of its
/// own hosts), tasks in the order the play ran them.
fn merge_play(name: &str, parts: &[&PlayReport]) -> PlayReport {
    let mut hosts: Vec<String> = parts.iter().flat_map(|p| p.hosts.iter().cloned()).collect();
    hosts.sort();
    hosts.dedup();
    let rank: HashMap<&str, usize> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();

    // A task is in a shard's report only when one of its hosts ran it, so each shard has a
    // subsequence of the play's tasks; a task appearing twice (a handler flushed twice) is
    // told apart by its occurrence.
    type Key = (String, String, usize);
    let keyed = |p: &PlayReport| -> Vec<Key> {
        let mut n: BTreeMap<(String, String), usize> = BTreeMap::new();
        p.tasks
            .iter()
            .map(|t| {
                let c = n.entry((t.location.clone(), t.name.clone())).or_insert(0);
                *c += 1;
                (t.location.clone(), t.name.clone(), *c)
            })
            .collect()
    };
    let mut order: Vec<Key> = Vec::new();
    let mut tasks: HashMap<Key, TaskReport> = HashMap::new();
    for p in parts {
        let mut at = 0;
        for (key, task) in keyed(p).into_iter().zip(&p.tasks) {
            match order.iter().position(|k| *k == key) {
                Some(pos) => at = pos + 1,
                None => {
                    order.insert(at, key.clone());
                    at += 1;
                }
            }
            let merged = tasks.entry(key).or_insert_with(|| TaskReport {
                name: task.name.clone(),
                location: task.location.clone(),
                hosts: Vec::new(),
            });
            merged.hosts.extend(task.hosts.iter().cloned());
        }
    }
    let tasks = order
        .into_iter()
        .filter_map(|k| tasks.remove(&k))
        .map(|mut t| {
            t.hosts
                .sort_by_key(|h| rank.get(h.host.as_str()).copied().unwrap_or(usize::MAX));
            t
        })
        .collect();
    PlayReport {
        name: name.to_string(),
        hosts,
        tasks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::shard::Shard;
    use crate::report::{HostStats, HostTaskResult, TaskResult};

    fn shard_report(index: u32, count: u32, hosts: &[&str], failed: &[&str]) -> RunReport {
        let mut r = RunReport::new(vec!["site.yml".into()], false);
        r.shard = Some(Shard { index, count });
        let mut tasks = vec![TaskReport {
            name: "version".into(),
            location: "site.yml:4:7".into(),
            hosts: Vec::new(),
        }];
        for h in hosts {
            let res = if failed.contains(h) {
                TaskResult::failed("boom")
            } else {
                TaskResult::ok()
            };
            tasks[0].hosts.push(HostTaskResult {
                host: h.to_string(),
                result: res.clone(),
            });
            let mut st = HostStats::default();
            st.add(&res);
            r.stats.insert(h.to_string(), st);
        }
        if !failed.is_empty() {
            // A rescue task only the failing hosts ran.
            tasks.push(TaskReport {
                name: "rescue".into(),
                location: "site.yml:9:7".into(),
                hosts: failed
                    .iter()
                    .map(|h| HostTaskResult {
                        host: h.to_string(),
                        result: TaskResult::ok(),
                    })
                    .collect(),
            });
        }
        tasks.push(TaskReport {
            name: "save".into(),
            location: "site.yml:12:7".into(),
            hosts: hosts
                .iter()
                .filter(|h| !failed.contains(h))
                .map(|h| HostTaskResult {
                    host: h.to_string(),
                    result: TaskResult::changed(),
                })
                .collect(),
        });
        r.plays.push(PlayReport {
            name: "p".into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            tasks,
        });
        r
    }

    #[test]
    fn shards_join_into_one_report() {
        let a = shard_report(1, 2, &["r3", "r1"], &[]);
        let b = shard_report(2, 2, &["r2"], &["r2"]);
        let m = merge(vec![("b.json".into(), b), ("a.json".into(), a)], false).unwrap();
        assert_eq!(m.plays[0].hosts, ["r1", "r2", "r3"]);
        let tasks: Vec<&str> = m.plays[0].tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(tasks, ["version", "rescue", "save"]);
        let hosts: Vec<&str> = m.plays[0].tasks[0]
            .hosts
            .iter()
            .map(|h| h.host.as_str())
            .collect();
        assert_eq!(hosts, ["r1", "r2", "r3"]);
        assert_eq!(m.stats.len(), 3);
        assert_eq!(m.exit_code(), crate::ExitCode::HostFailed);
        assert!(m.shard.is_none());
    }

    #[test]
    fn missing_duplicate_and_foreign_shards_are_refused() {
        let a = || shard_report(1, 3, &["r1"], &[]);
        let e = merge(vec![("a.json".into(), a())], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shards 2, 3 of 3 missing: a merged report without them would not cover every host (--partial merges what there is)"
        );
        let m = merge(vec![("a.json".into(), a())], true).unwrap();
        assert!(m.warnings.iter().any(|w| w.contains("partial merge")));
        let e = merge(vec![("a.json".into(), a()), ("b.json".into(), a())], true).unwrap_err();
        assert!(e.to_string().contains("are both shard 1/3"), "{e}");
        let e = merge(
            vec![
                ("a.json".into(), a()),
                ("b.json".into(), shard_report(2, 4, &["r2"], &[])),
            ],
            true,
        )
        .unwrap_err();
        assert!(e.to_string().contains("share their count"), "{e}");
        let mut other = shard_report(2, 3, &["r1"], &[]);
        let e = merge(
            vec![("a.json".into(), a()), ("b.json".into(), other.clone())],
            true,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("host `r1` has results in both"),
            "{e}"
        );
        other.playbooks = vec!["other.yml".into()];
        let e = merge(vec![("a.json".into(), a()), ("b.json".into(), other)], true).unwrap_err();
        assert!(e.to_string().contains("different runs"), "{e}");
        let mut plain = a();
        plain.shard = None;
        let e = merge(vec![("p.json".into(), plain)], true).unwrap_err();
        assert!(e.to_string().contains("not a shard's report"), "{e}");
    }

    #[test]
    fn a_report_survives_json_and_back() {
        let a = shard_report(1, 2, &["r1", "r2"], &["r2"]);
        let text = serde_json::to_string(&a).unwrap();
        let back: RunReport = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
