//! Playbooks: plays and tasks, loaded from YAML and validated before any device is touched.
//!
//! - [`Playbook::load`] reads a playbook file, follows `import_playbook`, `import_tasks` and
//!   `include_tasks` (relative to the including file, with cycle detection), and checks
//!   every action's arguments, every template and file reference, and every `notify`.
//! - Every error is a [`LoadError`](crate::source::LoadError) with file:line:column, what was found, what was
//!   expected, and the nearest valid key as a hint. Parsing never panics on any input.
//! - `values` holds the shared value shapes, `task` the task keywords (each task's action
//!   is parsed by [`crate::actions`], one file per kind), `positions` the line:column of
//!   plays and tasks, `load` the loader, `tags` the `--tags`/`--skip-tags` rules.

// `LoadError` (the crate's one error shape, in source.rs) is 128+ bytes; errors are rare
// and cold here, so they are returned unboxed like every other loader's.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub mod block;
mod load;
mod positions;
mod tags;
mod task;
pub mod values;

pub use crate::actions::{Action, ActionKind};
pub use task::{Loop, LoopControl, Task, When, TASK_KEYWORDS};
pub use values::{Serial, SerialStep};

use crate::value::Vars;

/// Where something was written: file and 1-based line and column (0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

/// How hosts move through a play's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Every host finishes a task before any host starts the next.
    #[default]
    Linear,
    /// Each host runs through the tasks as fast as it can.
    Free,
}

/// A play: which hosts, how to roll through them, and the tasks to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    pub name: Option<String>,
    /// A host pattern (`access:&ams`), matched against the inventory at plan time.
    pub hosts: String,
    pub vars: Vars,
    /// Variable files, resolved against the folder of the file the play is in.
    pub vars_files: Vec<PathBuf>,
    pub serial: Option<Serial>,
    /// 0..=100; the play stops when more than this share of a batch failed.
    pub max_fail_percentage: Option<f64>,
    pub any_errors_fatal: bool,
    pub strategy: Strategy,
    pub forks: Option<usize>,
    /// Network facts first (the implicit `Gathering Facts` task is already in `pre_tasks`).
    pub gather_facts: bool,
    /// The play's own tags (already added to each of its tasks' tags).
    pub tags: Vec<String>,
    pub pre_tasks: Vec<Task>,
    pub tasks: Vec<Task>,
    pub post_tasks: Vec<Task>,
    pub handlers: Vec<Task>,
    pub check_mode: Option<bool>,
    /// Per-task default timeout.
    pub timeout: Option<Duration>,
    /// Time budget for one host over the whole play.
    pub host_timeout: Option<Duration>,
    /// New connections per second, at most.
    pub connect_rate: Option<f64>,
    /// Commit-confirm: changes under the devices' revert timers, confirmed after checks.
    pub confirm: Option<PlayConfirm>,
    /// The play's `connection:` (`netconf`, `network_cli`, ...): the transport of its hosts
    /// whose variables name none, as in Ansible.
    pub connection: Option<String>,
    pub source: Location,
}

/// A play's `confirm: {timeout, after}`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayConfirm {
    /// How long a device waits for the confirmation before it rolls the change back.
    pub timeout: Duration,
    /// The tasks that check the change: the confirmation follows the last of them.
    pub after: Vec<String>,
}

impl Play {
    /// The play's name, else its host pattern.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("hosts: {}", self.hosts))
    }

    /// `pre_tasks`, `tasks` and `post_tasks` in run order (handlers not included).
    pub fn all_tasks(&self) -> impl Iterator<Item = &Task> {
        self.pre_tasks
            .iter()
            .chain(self.tasks.iter())
            .chain(self.post_tasks.iter())
    }

    /// The tasks (pre, main, post, in order) selected by `--tags` and `--skip-tags`, with
    /// Ansible's meaning: empty `tags` means `all`; `always` runs unless skipped by name;
    /// `never` runs only when asked for by name; `tagged` / `untagged` select by presence.
    pub fn tasks_filtered(&self, tags: &[String], skip_tags: &[String]) -> Vec<&Task> {
        self.all_tasks()
            .filter(|t| tags::should_run(&t.tags, tags, skip_tags))
            .collect()
    }
}

impl Play {
    /// The handlers a `notify: name` wakes: those named `name` and those that `listen` to
    /// it, in the order they are written (the order Ansible runs them in).
    pub fn handlers_notified_by<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Task> {
        self.handlers
            .iter()
            .filter(move |h| h.name.as_deref() == Some(name) || h.listen.iter().any(|l| l == name))
    }
}

impl Task {
    /// Whether this task runs under `--tags` / `--skip-tags` (see [`Play::tasks_filtered`]).
    pub fn should_run(&self, tags: &[String], skip_tags: &[String]) -> bool {
        tags::should_run(&self.tags, tags, skip_tags)
    }
}

/// A loaded playbook: its plays in order, imports already inlined.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
    template_dirs: Vec<PathBuf>,
    src_dirs: Vec<PathBuf>,
    base_dir: PathBuf,
}

impl Playbook {
    /// Load and validate a playbook file and everything it imports. Errors are
    /// `Error::Load` (one problem) or `Error::LoadMany` (several, in file order).
    pub fn load(path: &Path) -> crate::Result<Playbook> {
        load::load(path, None, &[])
    }

    /// [`Playbook::load`] for a run with these inventories: templates and files are also
    /// looked up beside them (see [`search_dirs`]).
    pub fn load_beside(path: &Path, inventories: &[PathBuf]) -> crate::Result<Playbook> {
        load::load(path, None, inventories)
    }

    /// Like [`Playbook::load_beside`] for text already in memory; `path` names it in
    /// messages and is where relative imports and templates are looked up from.
    pub fn load_str(path: &Path, text: &str, inventories: &[PathBuf]) -> crate::Result<Playbook> {
        load::load(path, Some(text), inventories)
    }

    /// The folder of the playbook file: relative `src:` paths start here.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// Where templates are looked up, in order (see [`search_dirs`]).
    pub fn template_dirs(&self) -> &[PathBuf] {
        &self.template_dirs
    }

    /// The file a template name refers to, by the rule of [`Playbook::template_dirs`]
    /// (absolute names are taken as they are).
    pub fn resolve_template(&self, name: &str) -> Option<PathBuf> {
        resolve_in(name, &self.template_dirs)
    }

    /// Where local files (config `src`, `upload` `src`) are looked up, in order.
    pub fn src_dirs(&self) -> &[PathBuf] {
        &self.src_dirs
    }

    /// The local file a `src:` (config `src`, `upload` `src`) refers to (see
    /// [`search_dirs`]).
    pub fn resolve_src(&self, name: &str) -> Option<PathBuf> {
        resolve_in(name, &self.src_dirs)
    }

    /// Every tag used by any task, sorted.
    pub fn all_tags(&self) -> BTreeSet<String> {
        self.plays
            .iter()
            .flat_map(|p| p.all_tasks().chain(p.handlers.iter()))
            .flat_map(|t| t.tags.iter().cloned())
            .collect()
    }
}

/// The folders a playbook's relative names are looked up in: the playbook's own folder,
/// then a `templates/` (for templates) or `files/` (for files) folder in it, then the same
/// beside each inventory (the folder an inventory file or folder sits in). Templates look
/// in `templates/` first, files in the folder itself first. Never the current folder: a
/// run from inside `playbooks/` finds exactly what a run from the project's root finds.
pub struct SearchDirs {
    pub templates: Vec<PathBuf>,
    pub files: Vec<PathBuf>,
}

pub fn search_dirs(playbook: &Path, inventories: &[PathBuf]) -> SearchDirs {
    let folder = |p: &Path| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut bases = vec![folder(playbook)];
    bases.extend(inventories.iter().map(|i| folder(i)));
    let mut dirs = SearchDirs {
        templates: Vec::new(),
        files: Vec::new(),
    };
    for base in &bases {
        push_distinct(&mut dirs.templates, base.join("templates"));
        push_distinct(&mut dirs.templates, base.clone());
        push_distinct(&mut dirs.files, base.clone());
        push_distinct(&mut dirs.files, base.join("files"));
    }
    dirs
}

/// Add `dir` unless it names a folder already in `dirs` (`playbooks/..` and `.` are one).
fn push_distinct(dirs: &mut Vec<PathBuf>, dir: PathBuf) {
    let key = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let k = key(&dir);
    if !dirs.iter().any(|d| key(d) == k) {
        dirs.push(dir);
    }
}

fn resolve_in(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    dirs.iter().map(|d| d.join(p)).find(|c| c.is_file())
}

/// True when a string holds a template expression and can only be known at run time.
pub(crate) fn is_templated(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}
