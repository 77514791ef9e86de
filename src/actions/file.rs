//! `file: { path, state, mode }`: local folders and files for reports (`state: directory`
//! before writing into it, `absent` to clear old output, `touch`), as Ansible's file module
//! does with `delegate_to: localhost`.

use std::path::Path;

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::local::{current_mode, lock_path, render_path, set_mode};
use super::{ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::{Status, TaskResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    /// The path must exist as a file (its mode is set).
    #[default]
    File,
    Directory,
    Absent,
    Touch,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileArgs {
    #[serde(
        alias = "dest",
        alias = "name",
        deserialize_with = "values::scalar_string"
    )]
    pub path: String,
    #[serde(default, deserialize_with = "values::keyword")]
    pub state: FileState,
    #[serde(default, deserialize_with = "super::transfer::file_mode")]
    pub mode: Option<u32>,
    /// Ansible's `recurse` (modes of a folder's content); accepted, folders only.
    #[serde(default, deserialize_with = "values::boolish")]
    pub recurse: bool,
}

impl ActionArgs for FileArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "{path: file or folder, state: directory|file|absent|touch}",
            false,
            Ok,
        ))
    }

    fn summary(&self) -> String {
        self.path.clone()
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        vec![Probe::line("path", &self.path)]
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let ctx = &env.ctx;
        let path = match render_path(ctx, &self.path, "file path") {
            Ok(p) => p,
            Err(r) => return r,
        };
        let lock = lock_path(&path);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let r = apply(&path, self.state, self.mode, ctx.check_mode);
        let mut r = match r {
            Ok(r) => r,
            Err(e) => TaskResult::failed(format!("{}: {e}", path.display())),
        };
        if r.data.is_null() {
            r.data = serde_json::json!({
                "path": path.display().to_string(),
                "state": format!("{:?}", self.state).to_lowercase(),
            });
        }
        r
    }
}

fn apply(
    path: &Path,
    state: FileState,
    mode: Option<u32>,
    check: bool,
) -> std::io::Result<TaskResult> {
    let exists = path.symlink_metadata().is_ok();
    let changed = |c: bool| TaskResult::new(if c { Status::Changed } else { Status::Ok });
    let mode_differs = mode.is_some() && mode != current_mode(path);
    match state {
        FileState::Absent => {
            if exists && !check {
                if path.is_dir() {
                    std::fs::remove_dir_all(path)?;
                } else {
                    std::fs::remove_file(path)?;
                }
            }
            Ok(changed(exists))
        }
        FileState::Directory => {
            if exists && !path.is_dir() {
                return Ok(TaskResult::failed(format!(
                    "{} exists and is not a folder",
                    path.display()
                )));
            }
            if !check {
                std::fs::create_dir_all(path)?;
                if let Some(m) = mode.filter(|_| mode_differs) {
                    set_mode(path, m)?;
                }
            }
            Ok(changed(!exists || mode_differs))
        }
        FileState::Touch => {
            if !check {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                f.set_modified(std::time::SystemTime::now())?;
                if !exists {
                    set_mode(path, mode.unwrap_or(0o644))?;
                } else if let Some(m) = mode.filter(|_| mode_differs) {
                    set_mode(path, m)?;
                }
            }
            // Ansible reports a touch as a change: the file's times moved.
            Ok(changed(true))
        }
        FileState::File => {
            if !exists {
                return Ok(TaskResult::failed(format!(
                    "file ({}) is absent, cannot continue",
                    path.display()
                )));
            }
            if mode_differs && !check {
                if let Some(m) = mode {
                    set_mode(path, m)?;
                }
            }
            Ok(changed(mode_differs))
        }
    }
}
