//! Rollback records: before `config` changes a device, its running config is kept under
//! `.netorch/rollback/<run-id>/<host>.cfg`, so `netorch rollback --run <run-id>` can bring
//! it back. Secrets are masked as in backups: a record is a backup, and a line holding a
//! masked secret is compared masked and never sent back.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the records of all runs live, relative to the folder netorch runs in.
pub const ROLLBACK_DIR: &str = ".netorch/rollback";

/// The records of one run.
#[derive(Debug)]
pub struct Recorder {
    run_id: String,
    dir: PathBuf,
    /// Hosts recorded in this run: the first record (the config before the run's first
    /// change) is the one to go back to.
    done: Mutex<HashSet<String>>,
}

impl Recorder {
    /// A recorder for a new run under `base` (the run id is the UTC time, plus the process
    /// id so that two runs started in the same second do not share a folder).
    pub fn new(base: &Path) -> Recorder {
        let run_id = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        );
        Recorder {
            dir: base.join(&run_id),
            run_id,
            done: Mutex::new(HashSet::new()),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether any host was recorded.
    pub fn any(&self) -> bool {
        self.done.lock().map(|d| !d.is_empty()).unwrap_or(false)
    }

    /// Keeps `config` (already masked) as the host's state before the run; later calls for
    /// the same host keep the first.
    pub fn record(&self, host: &str, config: &str) -> std::io::Result<()> {
        {
            let Ok(mut done) = self.done.lock() else {
                return Err(std::io::Error::other("rollback recorder poisoned"));
            };
            if done.contains(host) {
                return Ok(());
            }
            done.insert(host.to_string());
        }
        private_dirs(&self.dir)?;
        crate::fs::write_atomic(&self.dir.join(format!("{host}.cfg")), config.as_bytes())
    }
}

/// Creates `dir` and its missing parents readable by the owner only (configs inside).
fn private_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The hosts of a recorded run and their files, sorted by host.
pub fn recorded_hosts(base: &Path, run_id: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    let dir = base.join(run_id);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir)? {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "cfg") {
            if let Some(host) = path.file_stem().and_then(|s| s.to_str()) {
                out.push((host.to_string(), path.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The recorded runs, newest first.
pub fn recorded_runs(base: &Path) -> Vec<String> {
    let mut runs: Vec<String> = std::fs::read_dir(base)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    runs.sort();
    runs.reverse();
    runs
}
