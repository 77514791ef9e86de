//! The playbook loader: reads files, parses plays with serde_yaml (which reports typing
//! mistakes at their line:column), inlines `import_playbook` / `import_tasks` /
//! `include_tasks` with cycle detection, gives each play and task its location from the
//! marked parse in `positions`, and checks what needs the file system or the whole play
//! (templates, `src` files, `vars_files`, `notify` names).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::block::{BlockEntry, BlockFrame, BlockKeywords, Section};
use super::positions::{self, Node};
use super::task::{HandlerList, TaskEntry, TaskImport, TaskList};
use super::{is_templated, search_dirs, Location, Play, Playbook, Task};
use crate::actions::{Action, ConfigSource};
use crate::source::{check_nesting, is_blank_yaml, read_source, suggest, LoadError};
use crate::value::Vars;
use crate::Error;

mod messages;
mod spec;

use messages::parse_error;
use spec::{PlayEntry, PlaySpec, PlaybookFile};

/// Tags, conditions and variables an import (or a block, or the play) passes down to the
/// tasks it brings in, and the blocks around them.
#[derive(Default, Clone)]
struct Inherit {
    when: Vec<String>,
    tags: Vec<String>,
    vars: Vars,
    /// Keywords of enclosing blocks (and the play); `when`, `tags`, `vars` are above.
    keywords: BlockKeywords,
    frames: Vec<BlockFrame>,
}

impl Inherit {
    /// What an enclosing block or import gives the tasks inside it: its conditions after
    /// the outer ones, its tags added, its vars over the outer ones.
    fn add(&mut self, when: Vec<String>, tags: Vec<String>, vars: Vars) {
        self.when.extend(when);
        for t in tags {
            if !self.tags.contains(&t) {
                self.tags.push(t);
            }
        }
        for (k, v) in vars {
            self.vars.insert(k, v);
        }
    }
}

/// A `notify` to check once all handlers of the play are known.
struct NotifyRef {
    name: String,
    at: LoadError,
}

struct Loader {
    /// Files being loaded, outermost first: (canonical path, name shown in messages).
    stack: Vec<(PathBuf, String)>,
    root_dir: PathBuf,
    template_dirs: Vec<PathBuf>,
    src_dirs: Vec<PathBuf>,
    errors: Vec<LoadError>,
    /// The next block's id (unique within the playbook).
    next_block: usize,
}

pub(super) fn load(
    path: &Path,
    text: Option<&str>,
    inventories: &[PathBuf],
) -> crate::Result<Playbook> {
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dirs = search_dirs(path, inventories);
    let mut loader = Loader {
        stack: Vec::new(),
        root_dir: base_dir.clone(),
        template_dirs: dirs.templates.clone(),
        src_dirs: dirs.files.clone(),
        errors: Vec::new(),
        next_block: 0,
    };
    let plays = match text {
        Some(t) => loader.playbook_text(path, t),
        None => loader.playbook_file(path, None),
    };
    let plays = match plays {
        Ok(p) => p,
        Err(e) => {
            loader.errors.insert(0, e);
            Vec::new()
        }
    };
    match loader.errors.len() {
        0 => Ok(Playbook {
            path: path.to_path_buf(),
            plays,
            template_dirs: dirs.templates,
            src_dirs: dirs.files,
            base_dir,
        }),
        1 => Err(Error::Load(loader.errors.remove(0))),
        _ => Err(Error::LoadMany(loader.errors)),
    }
}

impl Loader {
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.root_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Enter a file, refusing a cycle. `at` is where the import was written.
    fn enter(&mut self, path: &Path, at: Option<LoadError>) -> Result<(), LoadError> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let shown = self.shown(path);
        if self.stack.iter().any(|(p, _)| *p == canon) {
            let chain: Vec<&str> = self
                .stack
                .iter()
                .skip_while(|(p, _)| *p != canon)
                .map(|(_, s)| s.as_str())
                .chain(std::iter::once(shown.as_str()))
                .collect();
            let msg = format!("import cycle: {}", chain.join(" -> "));
            return Err(match at {
                Some(mut e) => {
                    e.message = msg;
                    e.with_hint("a file cannot import itself, directly or through other files")
                }
                None => LoadError::file(path, msg),
            });
        }
        self.stack.push((canon, shown));
        Ok(())
    }

    fn playbook_file(
        &mut self,
        path: &Path,
        at: Option<LoadError>,
    ) -> Result<Vec<Play>, LoadError> {
        let text = read_source(path)?;
        self.enter(path, at)?;
        let r = self.playbook_body(path, &text);
        self.stack.pop();
        r
    }

    fn playbook_text(&mut self, path: &Path, text: &str) -> Result<Vec<Play>, LoadError> {
        self.enter(path, None)?;
        let r = self.playbook_body(path, text);
        self.stack.pop();
        r
    }

    fn playbook_body(&mut self, path: &Path, text: &str) -> Result<Vec<Play>, LoadError> {
        if is_blank_yaml(text) {
            return Err(LoadError::file(
                path,
                "the file is empty; expected a list of plays",
            ));
        }
        check_nesting(path, text)?;
        let file: PlaybookFile =
            serde_yaml::from_str(text).map_err(|e| parse_error(path, text, &e))?;
        let tree = positions::parse(text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut plays = Vec::new();
        for (i, entry) in file.0.into_iter().enumerate() {
            let node = tree.as_ref().and_then(|t| t.index(i));
            match entry {
                PlayEntry::Import(name) => {
                    let at = self.at(
                        path,
                        text,
                        node.and_then(|n| n.get("import_playbook")),
                        node,
                    );
                    let target = dir.join(&name);
                    if !target.is_file() {
                        self.errors
                            .push(missing_file(at, "import_playbook", &name, &target));
                        continue;
                    }
                    match self.playbook_file(&target, Some(at)) {
                        Ok(p) => plays.extend(p),
                        Err(e) => self.errors.push(e),
                    }
                }
                PlayEntry::Play(spec) => plays.push(self.play(*spec, node, path, text, &dir)),
            }
        }
        Ok(plays)
    }

    /// A `LoadError` positioned at `node` (or `fallback`, or the file) with no message yet.
    fn at(
        &self,
        path: &Path,
        text: &str,
        node: Option<&Node>,
        fallback: Option<&Node>,
    ) -> LoadError {
        match node.or(fallback) {
            Some(n) => LoadError::at(path, Some(text), n.line, n.column, ""),
            None => LoadError::file(path, ""),
        }
    }

    fn location(path: &Path, node: Option<&Node>) -> Location {
        Location {
            file: path.to_path_buf(),
            line: node.map_or(0, |n| n.line),
            column: node.map_or(0, |n| n.column),
        }
    }

    fn play(
        &mut self,
        spec: PlaySpec,
        node: Option<&Node>,
        path: &Path,
        text: &str,
        dir: &Path,
    ) -> Play {
        let inherit = Inherit {
            tags: spec.tags.clone(),
            keywords: BlockKeywords {
                ignore_errors: spec.ignore_errors,
                ignore_unreachable: spec.ignore_unreachable,
                become_: spec.r#become,
                become_method: spec.become_method.clone(),
                environment: spec.environment.clone(),
                ..BlockKeywords::default()
            },
            ..Inherit::default()
        };
        let mut notifies = Vec::new();
        let section = |this: &mut Loader,
                       list: Vec<TaskEntry>,
                       key: &str,
                       handler: bool,
                       notifies: &mut Vec<NotifyRef>| {
            let mut out = Vec::new();
            let list_node = node.and_then(|n| n.get(key));
            this.tasks(
                list, list_node, path, text, &inherit, handler, &mut out, notifies,
            );
            out
        };
        let handlers = section(self, spec.handlers.0, "handlers", true, &mut notifies);
        let mut pre_tasks = section(self, spec.pre_tasks.0, "pre_tasks", false, &mut notifies);
        if spec.gather_facts {
            let at_node = node.and_then(|n| n.get("gather_facts"));
            match crate::actions::facts::resolve_subsets(&spec.gather_subset) {
                Ok(subsets) => {
                    let location = Self::location(path, at_node.or(node));
                    pre_tasks.insert(
                        0,
                        crate::playbook::task::gather_facts_task(location, subsets),
                    );
                }
                Err(msg) => {
                    let mut e =
                        self.at(path, text, node.and_then(|n| n.get("gather_subset")), node);
                    e.message = msg;
                    self.errors.push(e);
                }
            }
        }
        let mut tasks = section(self, spec.tasks.0, "tasks", false, &mut notifies);
        let mut post_tasks = section(self, spec.post_tasks.0, "post_tasks", false, &mut notifies);
        let confirm = spec.confirm.map(|c| crate::playbook::PlayConfirm {
            timeout: c.timeout,
            after: c.after,
        });
        if let Some(c) = &confirm {
            let at_node = node.and_then(|n| n.get("confirm"));
            let location = Self::location(path, at_node.or(node));
            for name in &c.after {
                let known = pre_tasks
                    .iter()
                    .chain(&tasks)
                    .chain(&post_tasks)
                    .any(|t| t.name.as_deref() == Some(name.as_str()));
                if !known {
                    let mut e = self.at(path, text, at_node, node);
                    e.message = format!(
                        "confirm `after`: no task of this play is named `{name}`; the confirmation follows the tasks that check the change"
                    );
                    let names = pre_tasks
                        .iter()
                        .chain(&tasks)
                        .chain(&post_tasks)
                        .filter_map(|t| t.name.as_deref());
                    if let Some(s) = suggest(name, names) {
                        e.hint = Some(format!("did you mean `{s}`?"));
                    }
                    self.errors.push(e);
                }
            }
            // After the last checking task in run order; with none named, at the end.
            let is_check = |t: &Task| t.name.as_ref().is_some_and(|n| c.after.contains(n));
            let task = crate::playbook::task::confirm_task(location);
            if c.after.is_empty() {
                post_tasks.push(task);
            } else if let Some(i) = post_tasks.iter().rposition(is_check) {
                post_tasks.insert(i + 1, task);
            } else if let Some(i) = tasks.iter().rposition(is_check) {
                tasks.insert(i + 1, task);
            } else if let Some(i) = pre_tasks.iter().rposition(is_check) {
                pre_tasks.insert(i + 1, task);
            } else {
                post_tasks.push(task);
            }
        }

        let known: HashSet<&str> = handlers
            .iter()
            .flat_map(|h| h.name.iter().chain(h.listen.iter()))
            .map(String::as_str)
            .collect();
        let templated_handler = handlers
            .iter()
            .any(|h| h.name.as_deref().is_some_and(is_templated));
        for n in notifies {
            if known.contains(n.name.as_str()) || is_templated(&n.name) || templated_handler {
                continue;
            }
            let mut e = n.at;
            e.message = if known.is_empty() {
                format!("notify `{}`: the play has no handlers", n.name)
            } else {
                let mut names: Vec<&str> = known.iter().copied().collect();
                names.sort_unstable();
                format!(
                    "notify `{}`: no handler has this name or listens to it; handlers: {}",
                    n.name,
                    names.join(", ")
                )
            };
            if let Some(s) = suggest(&n.name, known.iter().copied()) {
                e.hint = Some(format!("did you mean `{s}`?"));
            }
            self.errors.push(e);
        }

        let mut vars_files = Vec::new();
        for (i, f) in spec.vars_files.iter().enumerate() {
            let p = dir.join(f);
            if !is_templated(f) && !p.is_file() {
                let vf = node.and_then(|n| n.get("vars_files"));
                let item = vf.and_then(|v| v.index(i)).or(vf);
                let at = self.at(path, text, item, node);
                self.errors.push(missing_file(at, "vars_files", f, &p));
            }
            vars_files.push(p);
        }
        // vars_files win over the play's vars, as in Ansible; a vaulted one is decrypted.
        let mut vars = spec.vars;
        crate::vault::locate_markers(vars.values_mut(), path, text);
        for p in vars_files.iter().filter(|p| p.is_file()) {
            match crate::inventory::load_vars_file(p) {
                Ok(v) => vars.extend(v),
                Err(e) => self.errors.push(e),
            }
        }
        // Ansible's magic `playbook_dir`: report tasks write beside the playbook with it.
        if !vars.contains_key("playbook_dir") {
            let here = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let abs = here
                .canonicalize()
                .or_else(|_| std::path::absolute(here))
                .unwrap_or_else(|_| here.to_path_buf());
            vars.insert(
                "playbook_dir".into(),
                serde_json::Value::from(abs.display().to_string()),
            );
        }

        Play {
            name: spec.name,
            hosts: spec.hosts.unwrap_or_default(),
            vars,
            vars_files,
            serial: spec.serial,
            max_fail_percentage: spec.max_fail_percentage,
            any_errors_fatal: spec.any_errors_fatal,
            strategy: spec.strategy,
            forks: spec.forks,
            gather_facts: spec.gather_facts,
            tags: spec.tags,
            pre_tasks,
            tasks,
            post_tasks,
            handlers,
            check_mode: spec.check_mode,
            timeout: spec.timeout,
            host_timeout: spec.host_timeout,
            connect_rate: spec.connect_rate,
            connection: spec.connection.clone(),
            confirm,
            source: Self::location(path, node),
        }
    }

    /// Append the tasks of `list` (imports inlined) to `out`.
    #[allow(clippy::too_many_arguments)]
    fn tasks(
        &mut self,
        list: Vec<TaskEntry>,
        list_node: Option<&Node>,
        path: &Path,
        text: &str,
        inherit: &Inherit,
        handler: bool,
        out: &mut Vec<Task>,
        notifies: &mut Vec<NotifyRef>,
    ) {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (j, entry) in list.into_iter().enumerate() {
            let node = list_node.and_then(|l| l.index(j));
            match entry {
                TaskEntry::Task(task) => {
                    let mut task = *task;
                    task.location = Self::location(path, node);
                    self.check_files(&task, node, path, text);
                    let notify_node = node.and_then(|n| n.get("notify"));
                    for (k, name) in task.notify.iter().enumerate() {
                        let item = notify_node.and_then(|v| v.index(k)).or(notify_node);
                        notifies.push(NotifyRef {
                            name: name.clone(),
                            at: self.at(path, text, item, node),
                        });
                    }
                    apply(&mut task, inherit);
                    if let Some(msg) = delegation_problem(&task) {
                        let mut e =
                            self.at(path, text, node.and_then(|n| n.get(&task.action_key)), node);
                        e.message = msg.0;
                        e.hint = Some(msg.1);
                        self.errors.push(e);
                    }
                    out.push(task);
                }
                TaskEntry::Import(imp) => {
                    self.import(imp, node, path, text, &dir, inherit, handler, out, notifies)
                }
                TaskEntry::Block(b) => {
                    self.block(*b, node, path, text, inherit, handler, out, notifies)
                }
            }
        }
    }

    /// Flatten a block: its sections in order, each task knowing the blocks around it.
    #[allow(clippy::too_many_arguments)]
    fn block(
        &mut self,
        b: BlockEntry,
        node: Option<&Node>,
        path: &Path,
        text: &str,
        inherit: &Inherit,
        handler: bool,
        out: &mut Vec<Task>,
        notifies: &mut Vec<NotifyRef>,
    ) {
        let id = self.next_block;
        self.next_block += 1;
        let has_rescue = !b.rescue.is_empty();
        let mut inner = inherit.clone();
        let kw = b.keywords;
        inner.add(kw.when, kw.tags, kw.vars);
        let k = &mut inner.keywords;
        let set = |key: &str| b.written.iter().any(|w| w == key);
        if set("ignore_errors") {
            k.ignore_errors = kw.ignore_errors;
        }
        if set("ignore_unreachable") {
            k.ignore_unreachable = kw.ignore_unreachable;
        }
        if set("run_once") {
            k.run_once = kw.run_once;
        }
        if set("no_log") {
            k.no_log = kw.no_log;
        }
        k.check_mode = kw.check_mode.or(k.check_mode);
        k.become_ = kw.become_.or(k.become_);
        k.become_method = kw.become_method.or(k.become_method.take());
        k.delegate_to = kw.delegate_to.or(k.delegate_to.take());
        for (name, v) in kw.environment {
            k.environment.insert(name, v);
        }
        let sections = [
            (Section::Block, b.block, "block"),
            (Section::Rescue, b.rescue, "rescue"),
            (Section::Always, b.always, "always"),
        ];
        for (section, list, key) in sections {
            let mut here = inner.clone();
            here.frames.push(BlockFrame {
                id,
                section,
                has_rescue,
            });
            let list_node = node.and_then(|n| n.get(key));
            self.tasks(list, list_node, path, text, &here, handler, out, notifies);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn import(
        &mut self,
        imp: TaskImport,
        node: Option<&Node>,
        path: &Path,
        text: &str,
        dir: &Path,
        inherit: &Inherit,
        handler: bool,
        out: &mut Vec<Task>,
        notifies: &mut Vec<NotifyRef>,
    ) {
        let key = imp.kind.key();
        let at = self.at(path, text, node.and_then(|n| n.get(key)), node);
        if is_templated(&imp.file) {
            let mut e = at;
            e.message = format!(
                "`{key}: {}`: netorch resolves task files when the playbook loads, so the file name cannot be templated",
                imp.file
            );
            self.errors.push(e);
            return;
        }
        let target = dir.join(&imp.file);
        if !target.is_file() {
            self.errors.push(missing_file(at, key, &imp.file, &target));
            return;
        }
        let sub_text = match read_source(&target) {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        if let Err(e) = self.enter(&target, Some(at)) {
            self.errors.push(e);
            return;
        }
        if let Err(e) = check_nesting(&target, &sub_text) {
            self.errors.push(e);
            self.stack.pop();
            return;
        }
        let parsed = if is_blank_yaml(&sub_text) {
            Ok(Vec::new())
        } else if handler {
            serde_yaml::from_str::<HandlerList>(&sub_text).map(|l| l.0)
        } else {
            serde_yaml::from_str::<TaskList>(&sub_text).map(|l| l.0)
        };
        match parsed {
            Ok(entries) => {
                let tree = positions::parse(&sub_text);
                let mut inner = inherit.clone();
                inner.add(imp.when, imp.tags, imp.vars);
                self.tasks(
                    entries,
                    tree.as_ref(),
                    &target,
                    &sub_text,
                    &inner,
                    handler,
                    out,
                    notifies,
                );
            }
            Err(e) => self.errors.push(parse_error(&target, &sub_text, &e)),
        }
        self.stack.pop();
    }

    /// Templates and `src` files a task names must exist (unless templated).
    fn check_files(&mut self, task: &Task, node: Option<&Node>, path: &Path, text: &str) {
        let (name, field, is_template) = match &task.action {
            Action::Config(c) => match &c.source {
                ConfigSource::Template(t) => (t, "template", true),
                ConfigSource::Src(s) => (s, "src", false),
                ConfigSource::Lines { .. } => return,
            },
            Action::Template(t) => (&t.src, "src", true),
            Action::Upload(u) => (&u.src, "src", false),
            _ => return,
        };
        if is_templated(name) {
            return;
        }
        let dirs = if is_template {
            &self.template_dirs
        } else {
            &self.src_dirs
        };
        if super::resolve_in(name, dirs).is_some() {
            return;
        }
        // Ansible's `*_config` finds `src` among the templates too.
        if matches!(task.action, Action::Config(_))
            && super::resolve_in(name, &self.template_dirs).is_some()
        {
            return;
        }
        let args = node.and_then(|n| n.get(&task.action_key));
        let at_node = args.and_then(|a| a.get(field)).or(args);
        let mut e = self.at(path, text, at_node, node);
        let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        let what = if is_template { "template" } else { "file" };
        e.message = format!("{what} `{name}` not found; looked in {}", looked.join(", "));
        let available = list_files(dirs);
        if let Some(s) = suggest(name, available.iter().map(String::as_str)) {
            e.hint = Some(format!("did you mean `{s}`?"));
        } else if is_template {
            e.hint = Some(format!(
                "put it in {} (or give a path relative to one of those folders)",
                looked.first().cloned().unwrap_or_default()
            ));
        }
        self.errors.push(e);
    }
}

/// The names of files in `dirs` (not recursive), for "did you mean".
fn list_files(dirs: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            for entry in rd.flatten().take(1000) {
                if entry.path().is_file() {
                    out.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
    }
    out
}

fn missing_file(mut at: LoadError, key: &str, name: &str, looked: &Path) -> LoadError {
    at.message = format!(
        "{key}: file `{name}` not found (looked for {})",
        looked.display()
    );
    let dir = looked.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Some(s) = suggest(name, list_files(&[dir]).iter().map(String::as_str)) {
        at.hint = Some(format!("did you mean `{s}`?"));
    } else {
        at.hint = Some("paths are relative to the file that contains the import".into());
    }
    at
}

/// What is wrong with where a task runs: `copy: {src}` on a device (that is `upload`), a
/// device action delegated to this machine. (message, hint)
fn delegation_problem(task: &Task) -> Option<(String, String)> {
    let local = task.delegate_to.is_some();
    match &task.action {
        Action::Copy(c) if c.src.is_some() && !local => Some((
            format!("`{}` with `src` would copy a file to the device; netorch's copy writes local files", task.action_key),
            "use `upload: {src, dest, protocol}` to send a file to a device, or add `delegate_to: localhost` for a local copy".into(),
        )),
        Action::Command(_)
        | Action::Config(_)
        | Action::Backup(_)
        | Action::Upload(_)
        | Action::Download(_)
        | Action::Confirm(_)
            if local =>
        {
            Some((
                format!("`{}` talks to the device; it cannot be delegated to localhost", task.action_key),
                "remove `delegate_to` (or move the task out of the delegated block)".into(),
            ))
        }
        _ => None,
    }
}

/// Fold an import's (and the play's) keywords into an imported task.
fn apply(task: &mut Task, inherit: &Inherit) {
    for t in &inherit.tags {
        if !task.tags.contains(t) {
            task.tags.push(t.clone());
        }
    }
    if !inherit.when.is_empty() {
        let mut when = inherit.when.clone();
        if let Some(w) = task.when.take() {
            when.extend(w.0);
        }
        task.when = Some(super::When(when));
    }
    if !inherit.vars.is_empty() {
        let mut vars = inherit.vars.clone();
        for (k, v) in std::mem::take(&mut task.vars) {
            vars.insert(k, v);
        }
        task.vars = vars;
    }
    let kw = &inherit.keywords;
    task.block = inherit.frames.clone();
    let own = |k: &str| task.written.iter().any(|w| w == k);
    let (ie, iu, ro, nl) = (
        own("ignore_errors"),
        own("ignore_unreachable"),
        own("run_once"),
        own("no_log"),
    );
    if !ie {
        task.ignore_errors = kw.ignore_errors;
    }
    if !iu {
        task.ignore_unreachable = kw.ignore_unreachable;
    }
    if !ro {
        task.run_once = kw.run_once;
    }
    if !nl {
        task.no_log = kw.no_log;
    }
    task.check_mode = task.check_mode.or(kw.check_mode);
    task.become_ = task.become_.or(kw.become_);
    if task.become_method.is_none() {
        task.become_method = kw.become_method.clone();
    }
    if task.delegate_to.is_none() {
        task.delegate_to = kw.delegate_to.clone();
    }
    if !kw.environment.is_empty() {
        let mut env = kw.environment.clone();
        for (k, v) in std::mem::take(&mut task.environment) {
            env.insert(k, v);
        }
        task.environment = env;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn blocks_flatten_with_their_keywords_frames_and_lines() {
        use crate::playbook::block::Section;
        let text = "- hosts: all
  tasks:
    - name: outer
      when: a
      tags: [t]
      ignore_errors: true
      delegate_to: localhost
      vars: {x: 1}
      block:
        - debug: msg=one
          when: b
          vars: {x: 2}
        - block:
            - debug: msg=two
              ignore_errors: false
      rescue:
        - debug: msg=three
      always:
        - debug: msg=four
";
        let pb = crate::playbook::Playbook::load_str(Path::new("p.yml"), text, &[]).unwrap();
        let tasks = &pb.plays[0].tasks;
        assert_eq!(tasks.len(), 4);
        // Ansible's magic `playbook_dir` is the playbook's folder, absolute.
        let dir = pb.plays[0].vars["playbook_dir"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(Path::new(&dir).is_absolute(), "{dir}");
        let one = &tasks[0];
        assert_eq!(one.when.as_ref().unwrap().0, ["a", "b"]);
        assert_eq!(one.tags, ["t"]);
        assert!(one.ignore_errors);
        assert_eq!(one.delegate_to.as_deref(), Some("localhost"));
        assert_eq!(one.vars["x"], 2);
        assert_eq!(one.location.line, 10);
        assert_eq!(tasks[1].block.len(), 2);
        // The task's own `ignore_errors: false` wins over its block's `true`.
        assert!(!tasks[1].ignore_errors);
        assert!(tasks[2].ignore_errors);
        assert_eq!(tasks[1].location.line, 14);
        assert_ne!(tasks[1].block[0].id, tasks[1].block[1].id);
        let sections: Vec<Section> = tasks.iter().map(|t| t.block[0].section).collect();
        assert_eq!(
            sections,
            [
                Section::Block,
                Section::Block,
                Section::Rescue,
                Section::Always
            ]
        );
        assert!(tasks.iter().all(|t| t.block[0].has_rescue));
        assert!(!tasks[1].block[1].has_rescue);
    }

    #[test]
    fn play_vars_apply_merge_keys() {
        // Play vars used to keep `<<` as a variable name error; inventory vars merged it.
        let text = "- hosts: all\n  vars:\n    base: &base {ntp: 10.0.0.1, dns: 10.0.0.53}\n    site:\n      <<: *base\n      dns: 10.9.9.9\n  tasks: []\n- hosts: all\n  vars:\n    <<: *base\n    extra: 1\n  tasks: []\n";
        let pb = crate::playbook::Playbook::load_str(Path::new("p.yml"), text, &[]).unwrap();
        let site = &pb.plays[0].vars["site"];
        assert_eq!(site["ntp"], "10.0.0.1");
        assert_eq!(site["dns"], "10.9.9.9");
        assert_eq!(pb.plays[1].vars["ntp"], "10.0.0.1");
        assert_eq!(pb.plays[1].vars["extra"], 1);
    }

    #[test]
    fn play_vars_refuse_duplicates_and_bad_names_at_their_line() {
        let load = |text: &str| {
            crate::playbook::Playbook::load_str(Path::new("p.yml"), text, &[])
                .unwrap_err()
                .to_string()
        };
        let e = load("- hosts: all\n  vars:\n    a: 1\n    a: 2\n  tasks: []\n");
        assert!(
            e.contains("p.yml:4:5") && e.contains("duplicate key `a`"),
            "{e}"
        );
        let e = load("- hosts: all\n  vars:\n    bad-name: 1\n  tasks: []\n");
        assert!(e.contains("p.yml:3:5") && e.contains("`bad-name`"), "{e}");
    }

    #[test]
    fn host_patterns_follow_the_inventory_grammar() {
        // `{1,2}` used to be split at its comma here while `--limit` read it whole.
        let text =
            "- hosts: \"~r[0-9]{1,2}\"\n  tasks: []\n- hosts: [\"~sw{1,2}\", core]\n  tasks: []\n";
        let pb = crate::playbook::Playbook::load_str(Path::new("p.yml"), text, &[]).unwrap();
        assert_eq!(pb.plays[0].hosts, "~r[0-9]{1,2}");
        assert_eq!(pb.plays[1].hosts, "~sw{1,2},core");
        let e = crate::playbook::Playbook::load_str(
            Path::new("p.yml"),
            "- hosts: \"core:&\"\n  tasks: []\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("p.yml:1:10") && e.contains("bad host pattern `core:&`: empty term"),
            "{e}"
        );
    }
}
