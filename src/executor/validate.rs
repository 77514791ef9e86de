//! Validation before touch: everything a run would fail on that can be known without a
//! device, found for every host of every play before the first connection opens.
//! `netorch check` reports it; `run` (and `exec`, `push`, `pull`, `backup`) stops on it, so
//! a mistake in the fifth task cannot leave four tasks applied.
//!
//! Each task's templated fields, conditions, loop, template files and local files are
//! compiled once per play (syntax, unknown filters and tests). Then, for each host, the
//! task is rendered as the run would render it: with the host's variables, the task's
//! `vars`, each loop item, skipped where its `when` is false for that host. Names that
//! only a `register`, `set_fact` or loop defines have no value before the run: they stand
//! in as values that accept anything, so only what is undefined whatever the run brings
//! is an error there.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use minijinja::value::Value as JValue;
use minijinja::{Expression, Template};
use serde_json::Value;

use super::plan::{Plan, PlannedPlay};
use crate::actions::{Action, Probe};
use crate::device::capability;
use crate::device::profile::{ProfileSet, Session};
use crate::inventory::Inventory;
use crate::jinja::{self, Inspection, Templates, Tried};
use crate::playbook::{is_templated, Loop, Playbook, Task};
use crate::source::LoadError;
use crate::transport::settings::ConnectionKind;
use crate::value::Vars;

/// How many items of one loop are rendered per host; the rest are rendered like these.
const MAX_ITEMS_CHECKED: usize = 100;

/// How many hosts a problem lists by name before it counts the rest.
const HOSTS_NAMED: usize = 3;

/// Every problem of `plan`, sorted by file and line; empty when the run may start.
pub fn validate(
    plan: &Plan<'_>,
    inventory: &Inventory,
    extra: &Vars,
    profiles: &ProfileSet,
) -> Vec<LoadError> {
    let runtime = runtime_names(plan);
    let mut findings = Findings::default();
    for planned in &plan.plays {
        let mut templates = Templates::new(planned.playbook.template_dirs().to_vec());
        // hostvars at check time: inventory variables, and what only the run will have
        // (registered results, facts) stands in as unknown.
        let hostvars =
            super::magic::mentions_hostvars(planned.play, planned.playbook.template_dirs())
                .then(|| std::sync::Arc::new(super::magic::HostVars::new(inventory, true)));
        super::magic::add_play_globals(&mut templates, inventory, &planned.hosts, hostvars);
        let mut play = PlayCheck {
            findings: &mut findings,
            templates: &templates,
            playbook: planned.playbook,
            strs: HashMap::new(),
            exprs: HashMap::new(),
            files: HashMap::new(),
            memo: HashMap::new(),
            runaway: HashSet::new(),
            runaway_files: HashSet::new(),
            probes: HashMap::new(),
            found_templates: HashMap::new(),
            found_files: HashMap::new(),
            textfsm: HashMap::new(),
            textfsm_libraries: HashMap::new(),
            play_hosts: planned.hosts.len(),
            profiles,
            transport: None,
        };
        play.run(planned, inventory, extra, &runtime);
    }
    findings.into_errors()
}

/// Names a `register` or `set_fact` anywhere in the plan gives a value to during the run
/// (facts outlive their play, as in Ansible).
fn runtime_names(plan: &Plan<'_>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for p in &plan.plays {
        for t in p.play.all_tasks().chain(p.play.handlers.iter()) {
            names.extend(t.register.iter().cloned());
            if !t.block.is_empty() {
                // A failure in a block sets these for its rescue.
                names.extend(["ansible_failed_task".into(), "ansible_failed_result".into()]);
            }
            if let Action::SetFact(f) = &t.action {
                names.extend(f.0.keys().cloned());
            }
            if let Action::IncludeVars(a) = &t.action {
                let dir = p
                    .playbook
                    .path
                    .parent()
                    .unwrap_or(std::path::Path::new("."));
                names.extend(crate::actions::include_vars::names(a, dir));
            }
            if let Action::Facts(_) = &t.action {
                names.extend(
                    crate::actions::facts::FACT_NAMES
                        .iter()
                        .map(|n| n.to_string()),
                );
            }
        }
    }
    names
}

/// One problem: where (the task), what, and on which hosts (none: whatever the host).
struct Finding {
    file: PathBuf,
    line: usize,
    column: usize,
    message: String,
    hint: Option<String>,
    hosts: Vec<String>,
    play_hosts: usize,
}

/// Keyed by file, line, column and message: sorted as reported, one entry per problem
/// however many hosts have it.
#[derive(Default)]
struct Findings(BTreeMap<(PathBuf, usize, usize, String), Finding>);

impl Findings {
    fn report(&mut self, task: &Task, host: Option<(&str, usize)>, message: String) {
        self.report_with_hint(task, host, message, None);
    }

    fn report_with_hint(
        &mut self,
        task: &Task,
        host: Option<(&str, usize)>,
        message: String,
        hint: Option<String>,
    ) {
        let loc = &task.location;
        let message = format!("task `{}`: {message}", task.display_name());
        let key = (loc.file.clone(), loc.line, loc.column, message.clone());
        let f = self.0.entry(key).or_insert_with(|| Finding {
            file: loc.file.clone(),
            line: loc.line,
            column: loc.column,
            message,
            hint,
            hosts: Vec::new(),
            play_hosts: 0,
        });
        if let Some((h, play_hosts)) = host {
            if !f.hosts.iter().any(|x| x == h) {
                f.hosts.push(h.to_string());
            }
            f.play_hosts = f.play_hosts.max(play_hosts);
        }
    }

    fn into_errors(self) -> Vec<LoadError> {
        let mut texts: HashMap<PathBuf, Option<String>> = HashMap::new();
        self.0
            .into_values()
            .map(|f| {
                let text = texts
                    .entry(f.file.clone())
                    .or_insert_with(|| std::fs::read_to_string(&f.file).ok());
                let message = format!("{}{}", f.message, on_hosts(&f.hosts, f.play_hosts));
                let mut e = if f.line == 0 {
                    LoadError::file(&f.file, message)
                } else {
                    LoadError::at(&f.file, text.as_deref(), f.line, f.column, message)
                };
                if let Some(h) = f.hint {
                    e.hint = Some(h);
                }
                e
            })
            .collect()
    }
}

/// ` (host r1)`, ` (hosts r1, r2 and 3 more)`, ` (all 12 hosts)`, or nothing for a problem
/// of the task itself.
fn on_hosts(hosts: &[String], play_hosts: usize) -> String {
    match hosts.len() {
        0 => String::new(),
        1 => format!(" (host {})", hosts[0]),
        n if n == play_hosts => format!(" (all {n} hosts)"),
        n if n <= HOSTS_NAMED => format!(" (hosts {})", hosts.join(", ")),
        n => format!(
            " (hosts {} and {} more)",
            hosts[..HOSTS_NAMED].join(", "),
            n - HOSTS_NAMED
        ),
    }
}

/// A remembered render of a template file: its number, the values of its names.
type MemoKey = (usize, String);

/// A compiled string or expression, or `None` when it does not compile (reported once).
type Compiled<T> = Option<(T, Inspection)>;

/// One play: its templates compiled once, then every host.
struct PlayCheck<'f, 't, 'p> {
    findings: &'f mut Findings,
    templates: &'t Templates,
    playbook: &'p Playbook,
    /// Compiled strings, by source and whether they render one line.
    strs: HashMap<(&'p str, bool), Compiled<Template<'t, 'p>>>,
    exprs: HashMap<&'p str, Compiled<Expression<'t, 'p>>>,
    /// Template files, compiled, with a number that names them in `memo`.
    files: HashMap<(PathBuf, bool), (usize, Compiled<Template<'t, 't>>)>,
    /// Template files already rendered, by the values of the names they use: hosts of a
    /// group mostly share them, so a fleet costs about as many renders as it has groups.
    memo: HashMap<MemoKey, Result<Option<String>, Failure>>,
    /// Strings (by address) and template files (by number) that ran out of fuel.
    runaway: HashSet<usize>,
    runaway_files: HashSet<usize>,
    /// Each task's probes, listed once.
    probes: HashMap<*const Task, Rc<Vec<Probe<'p>>>>,
    /// Where a template or file name was found (the disk is asked once per name).
    found_templates: HashMap<String, Option<PathBuf>>,
    found_files: HashMap<String, Option<PathBuf>>,
    /// TextFSM templates by name: `Some(problem)` when missing or broken.
    textfsm: HashMap<String, Option<String>>,
    /// Template libraries by the host's `textfsm_dir`: `Some(problem)` when none is usable.
    textfsm_libraries: HashMap<String, Option<String>>,
    play_hosts: usize,
    profiles: &'p ProfileSet,
    /// The current host's transport, its platform's session type and name (`None` when
    /// its `connection` or platform is unknown: reported elsewhere).
    transport: Option<(ConnectionKind, Session, String)>,
}

/// What a task looks like to one host (one loop item): its variables, and the names whose
/// values only the run will know.
struct Scope<'a> {
    host: &'a str,
    /// The host's variables (inventory, play, extra; rendered).
    base: &'a Vars,
    /// Task vars and the loop item, over `base`.
    layer: Vars,
    ctx: JValue,
    unknown: Rc<BTreeSet<String>>,
    /// Variables whose own template failed, with the reason (left out of `base`).
    unresolved: &'a [(String, crate::Error)],
}

impl Scope<'_> {
    /// All variables as one map, for messages (an error is rare; a copy is fine then).
    fn vars(&self) -> Vars {
        let mut v = self.base.clone();
        for (k, x) in &self.layer {
            v.insert(k.clone(), x.clone());
        }
        let unknown: Vec<&str> = self.unknown.iter().map(String::as_str).collect();
        jinja::mark_unknown(&mut v, &unknown);
        v
    }

    fn with_layer(&self, layer: Vars, unknown: Rc<BTreeSet<String>>) -> Scope<'_> {
        let ctx = jinja::layered(&layer, &self.ctx);
        let mut merged = self.layer.clone();
        merged.extend(layer);
        Scope {
            host: self.host,
            base: self.base,
            layer: merged,
            ctx,
            unknown,
            unresolved: self.unresolved,
        }
    }

    /// The names of `insp` that only the run gives a value to (they shadow a host
    /// variable of the same name, as a fact or register does at run time).
    fn runtime_only<'i>(&self, insp: &'i Inspection) -> Vec<&'i str> {
        insp.names
            .iter()
            .filter(|n| self.unknown.contains(*n))
            .map(String::as_str)
            .collect()
    }

    /// Add why a variable is missing, when its own template failed.
    fn explain(&self, mut msg: String) -> String {
        for (name, why) in self.unresolved {
            if msg.contains(&format!("`{name}`")) {
                msg.push_str(&format!("; `{name}` could not be rendered: {why}"));
            }
        }
        msg
    }
}

impl<'t, 'p> PlayCheck<'_, 't, 'p> {
    fn run(
        &mut self,
        planned: &PlannedPlay<'p>,
        inventory: &Inventory,
        extra: &Vars,
        runtime: &BTreeSet<String>,
    ) {
        let tasks: Vec<&'p Task> = planned
            .tasks
            .iter()
            .copied()
            .chain(planned.play.handlers.iter())
            .collect();
        for task in &tasks {
            self.compile_task(task);
        }
        let runtime = Rc::new(runtime.clone());
        for name in &planned.hosts {
            let Some(host) = inventory.hosts.get(name) else {
                continue;
            };
            let mut ctx = crate::vars::host_context(
                name,
                &host.groups,
                &host.vars,
                &planned.play.vars,
                extra,
            );
            crate::vars::add_play_connection(&mut ctx, planned.play.connection.as_deref());
            let (base, unresolved) = crate::vars::resolve_vars(self.templates, &ctx);
            self.transport = ConnectionKind::of_vars(&base).and_then(|kind| {
                let platform = crate::inventory::resolve_platform(&base);
                let session = self.profiles.get(&platform)?.session;
                Some((kind, session, platform))
            });
            let host_scope = Scope {
                host: name,
                base: &base,
                layer: Vars::new(),
                ctx: jinja::context(&base),
                unknown: Rc::clone(&runtime),
                unresolved: &unresolved,
            };
            for task in &tasks {
                if task.vars.is_empty() {
                    self.task(task, &host_scope);
                } else {
                    let scope = self.task_vars(task, &host_scope);
                    self.task(task, &scope);
                }
            }
        }
    }

    /// Compile what does not depend on the host, once per task.
    fn compile_task(&mut self, task: &'p Task) {
        for (what, when) in [
            ("when", &task.when),
            ("changed_when", &task.changed_when),
            ("failed_when", &task.failed_when),
            ("until", &task.until),
        ] {
            for c in when.iter().flat_map(|w| w.conditions()) {
                self.compile_expr(task, what, c);
            }
        }
        if let Some(Loop::Expr(e)) = &task.loop_ {
            self.compile_expr(task, "loop", e);
        }
        // (what, source, renders one line)
        let mut texts: Vec<(String, &'p str, bool)> = Vec::new();
        for (k, v) in &task.vars {
            strings_in(v, &mut |s| texts.push((format!("vars `{k}`"), s, false)));
        }
        if let Some(Loop::Items(items)) = &task.loop_ {
            for item in items {
                strings_in(item, &mut |s| texts.push(("loop item".into(), s, false)));
            }
        }
        if let Some(label) = task.loop_control.as_ref().and_then(|c| c.label.as_deref()) {
            texts.push(("loop_control label".into(), label, false));
        }
        let probes = task.action.probes();
        for p in &probes {
            match p {
                Probe::Text { what, source } => texts.push((what.clone(), source, false)),
                Probe::Line { what, source } => texts.push((what.clone(), source, true)),
                Probe::Expr { what, source } => self.compile_expr(task, what, source),
                // A name is a path: one line.
                Probe::Template { what, name, .. }
                | Probe::LocalFile { what, name }
                | Probe::VarsFile { what, name }
                | Probe::ConfigSrc { what, name }
                | Probe::TextFsm { what, name }
                | Probe::TextFsmLibrary { what, dir: name } => {
                    texts.push((what.clone(), name, true))
                }
            }
        }
        self.probes.insert(task as *const Task, Rc::new(probes));
        for (what, src, lines) in texts {
            if !is_templated(src) || self.strs.contains_key(&(src, lines)) {
                continue;
            }
            let compiled = self.templates.compile(src, &what, lines);
            let kept = self.keep(task, compiled, &what);
            self.strs.insert((src, lines), kept);
        }
    }

    fn compile_expr(&mut self, task: &Task, what: &str, src: &'p str) {
        if self.exprs.contains_key(src) {
            return;
        }
        let what = format!("{what} `{}`", src.trim());
        let compiled = self.templates.compile_expr(src, &what);
        let kept = self.keep(task, compiled, &what);
        self.exprs.insert(src, kept);
    }

    /// A compiled value, or its problems recorded against `task`; `what` names the field.
    fn keep<T>(
        &mut self,
        task: &Task,
        compiled: Result<(T, Inspection), crate::Error>,
        what: &str,
    ) -> Compiled<T> {
        match compiled {
            Ok((c, insp)) if insp.unknown.is_empty() => Some((c, insp)),
            Ok((_, insp)) => {
                for u in &insp.unknown {
                    self.findings.report(task, None, format!("{what}: {u}"));
                }
                None
            }
            Err(e) => {
                self.findings.report(task, None, e.to_string());
                None
            }
        }
    }

    fn fail(&mut self, task: &Task, scope: &Scope<'_>, message: String) {
        let message = scope.explain(message);
        self.findings
            .report(task, Some((scope.host, self.play_hosts)), message);
    }

    /// Refuse a task the host's transport cannot carry (config over NETCONF, SCP over an
    /// HTTP API, anything over telnet to a shell host): the run would fail there.
    fn transport_fits(&mut self, task: &Task, scope: &Scope<'_>) {
        let Some((kind, session, platform)) = &self.transport else {
            return;
        };
        if task.ignore_errors || task.failed_when.is_some() {
            // The playbook expects the task may fail here (Ansible runs it and goes on).
            return;
        }
        let merged;
        let vars = if scope.layer.is_empty()
            || !matches!(task.action, Action::Upload(_) | Action::Download(_))
        {
            scope.base
        } else {
            merged = scope.vars();
            &merged
        };
        let Some(need) = task.action.need(vars, self.profiles) else {
            return;
        };
        if let Some(r) = capability::refusal(*kind, *session, platform, need) {
            self.findings.report_with_hint(
                task,
                Some((scope.host, self.play_hosts)),
                r.message,
                Some(r.hint),
            );
        }
    }

    /// The task's variables on a host: its `vars` rendered over the host's. A task var
    /// that needs a runtime-only name becomes one itself.
    fn task_vars<'s>(&mut self, task: &Task, host: &'s Scope<'s>) -> Scope<'s> {
        let mut layer = Vars::new();
        let mut unknown = (*host.unknown).clone();
        for (k, v) in &task.vars {
            match self.value(task, host, v, &format!("vars `{k}`")) {
                Some(Some(r)) => {
                    layer.insert(k.clone(), r);
                }
                Some(None) | None => {
                    unknown.insert(k.clone());
                }
            }
        }
        host.with_layer(layer, Rc::new(unknown))
    }

    /// Render a value as the run renders task vars and loop items: a string that is one
    /// `{{ expression }}` keeps the expression's type, other strings become text.
    /// `Some(None)`: known only at run time; `None`: failed (reported).
    fn value(
        &mut self,
        task: &Task,
        scope: &Scope<'_>,
        v: &Value,
        what: &str,
    ) -> Option<Option<Value>> {
        Some(match v {
            Value::String(s) if is_templated(s) => {
                let t = s.trim();
                if crate::jinja::is_single_expression(t) {
                    // One expression: evaluated for its type, as the run does.
                    let (tmpl, insp) = self.strs.get(&(s.as_str(), false))?.as_ref()?;
                    if !scope.runtime_only(insp).is_empty() {
                        return match render_field(tmpl, insp, scope, what) {
                            Ok(_) => Some(None),
                            Err(f) => {
                                self.fail(task, scope, f.message);
                                None
                            }
                        };
                    }
                    match self.templates.eval(t, &scope.vars(), what) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            self.fail(task, scope, e.to_string());
                            return None;
                        }
                    }
                } else {
                    self.text(task, scope, s, what, false)?.map(Value::String)
                }
            }
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for x in a {
                    match self.value(task, scope, x, what)? {
                        Some(x) => out.push(x),
                        None => return Some(None),
                    }
                }
                Some(Value::Array(out))
            }
            Value::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, x) in o {
                    match self.value(task, scope, x, what)? {
                        Some(x) => {
                            m.insert(k.clone(), x);
                        }
                        None => return Some(None),
                    }
                }
                Some(Value::Object(m))
            }
            other => Some(other.clone()),
        })
    }

    /// The task on one host: its loop items (when known), each checked.
    fn task(&mut self, task: &'p Task, scope: &Scope<'_>) {
        let Some(l) = &task.loop_ else {
            self.binding(task, scope);
            return;
        };
        let control = task.loop_control.as_ref();
        let loop_var = control.map_or("item", |c| c.loop_var.as_str());
        let index_var = control.and_then(|c| c.index_var.as_deref());
        let Some(items) = self.loop_items(task, l, scope) else {
            // The items come from the run: check with the loop's names unknown.
            let mut unknown = (*scope.unknown).clone();
            unknown.insert(loop_var.to_string());
            unknown.extend(index_var.map(str::to_string));
            let inner = scope.with_layer(Vars::new(), Rc::new(unknown));
            self.binding(task, &inner);
            return;
        };
        for (i, item) in items.into_iter().take(MAX_ITEMS_CHECKED).enumerate() {
            let mut layer = Vars::new();
            let unknown = match item {
                Some(item) => {
                    layer.insert(loop_var.to_string(), item);
                    Rc::clone(&scope.unknown)
                }
                None => {
                    let mut u = (*scope.unknown).clone();
                    u.insert(loop_var.to_string());
                    Rc::new(u)
                }
            };
            if let Some(iv) = index_var {
                layer.insert(iv.to_string(), Value::from(i));
            }
            let inner = scope.with_layer(layer, unknown);
            self.binding(task, &inner);
        }
    }

    /// The loop's items on this host (`None` inside: an item only the run knows); `None`
    /// when the list itself is known only at run time or cannot be had.
    fn loop_items(
        &mut self,
        task: &Task,
        l: &Loop,
        scope: &Scope<'_>,
    ) -> Option<Vec<Option<Value>>> {
        match l {
            Loop::Items(items) => Some(
                items
                    .iter()
                    .map(|item| self.value(task, scope, item, "loop item").flatten())
                    .collect(),
            ),
            Loop::Expr(expr) => {
                let (compiled, insp) = self.exprs.get(expr.as_str())?.as_ref()?;
                if !scope.runtime_only(insp).is_empty() {
                    return None;
                }
                let result = compiled.eval(&scope.ctx);
                let problem = match result {
                    Ok(v) if v.is_undefined() => undefined_value(),
                    Ok(v) => match serde_json::to_value(&v) {
                        Ok(Value::Array(a)) => return Some(a.into_iter().map(Some).collect()),
                        Ok(Value::Null) => return Some(Vec::new()),
                        Ok(other) => {
                            let msg = format!(
                                "loop `{expr}` must give a list, got {}",
                                crate::value::kind_of(&other)
                            );
                            self.fail(task, scope, msg);
                            return None;
                        }
                        Err(e) => {
                            self.fail(task, scope, format!("loop `{expr}`: {e}"));
                            return None;
                        }
                    },
                    Err(e) => e,
                };
                let e = jinja::describe("loop", &problem, &scope.vars(), Some(expr));
                self.fail(task, scope, e.to_string());
                None
            }
        }
    }

    /// The task with one set of variables (one loop item).
    fn binding(&mut self, task: &'p Task, scope: &Scope<'_>) {
        for cond in task.when.iter().flat_map(|w| w.conditions()) {
            let Some((compiled, insp)) = self.exprs.get(cond.as_str()).and_then(Option::as_ref)
            else {
                return;
            };
            if !scope.runtime_only(insp).is_empty() {
                // Whether the task runs here is decided at run time; its fields were
                // compiled, but this host's values are not asked for.
                return;
            }
            match compiled.eval(&scope.ctx) {
                Ok(v) if v.is_true() => {}
                Ok(_) => return,
                Err(e) => {
                    let e = jinja::describe("when", &e, &scope.vars(), Some(cond));
                    self.fail(task, scope, format!("when `{cond}`: {e}"));
                    return;
                }
            }
        }
        self.transport_fits(task, scope);
        if let Some(label) = task.loop_control.as_ref().and_then(|c| c.label.as_deref()) {
            self.text(task, scope, label, "loop_control label", false);
        }
        let probes = self
            .probes
            .get(&(task as *const Task))
            .cloned()
            .unwrap_or_default();
        for probe in probes.iter() {
            match probe {
                Probe::Text { what, source } => {
                    self.text(task, scope, source, what, false);
                }
                Probe::Line { what, source } => {
                    self.text(task, scope, source, what, true);
                }
                Probe::Expr { .. } => {}
                Probe::Template { what, name, lines } => {
                    if let Some(Some(name)) = self.text(task, scope, name, what, true) {
                        self.template_file(task, scope, &name, *lines);
                    }
                }
                Probe::TextFsm { what, name } => {
                    if let Some(Some(name)) = self.text(task, scope, name, what, true) {
                        let problem = self.textfsm.entry(name.clone()).or_insert_with(|| {
                            let dirs = self.templates.dirs();
                            match crate::actions::command::find_textfsm_template(dirs, &name) {
                                None => Some(format!(
                                    "{what}: TextFSM template `{name}` not found; looked in parsers/ and {}",
                                    shown_dirs(dirs)
                                )),
                                Some(p) => crate::parse::load_template(&p)
                                    .err()
                                    .map(|e| format!("{what}: {e}")),
                            }
                        });
                        if let Some(msg) = problem.clone() {
                            self.fail(task, scope, msg);
                        }
                    }
                }
                Probe::TextFsmLibrary { what, dir } => {
                    if let Some(Some(dir)) = self.text(task, scope, dir, what, true) {
                        let problem =
                            self.textfsm_libraries
                                .entry(dir.clone())
                                .or_insert_with(|| {
                                    let user = self
                                        .templates
                                        .dirs()
                                        .iter()
                                        .map(|d| d.join("parsers"))
                                        .find(|d| d.is_dir());
                                    let given = (!dir.is_empty()).then(|| PathBuf::from(&dir));
                                    let lib = crate::parse::Library::discover(user, given);
                                    lib.check().err().map(|e| format!("{what}: {e}"))
                                });
                        if let Some(msg) = problem.clone() {
                            self.fail(task, scope, msg);
                        }
                    }
                }
                Probe::VarsFile { what, name } => {
                    if let Some(Some(name)) = self.text(task, scope, name, what, true) {
                        let dir = self.playbook.path.parent().unwrap_or(Path::new(""));
                        if crate::actions::include_vars::find(&name, dir).is_none() {
                            let msg = crate::actions::include_vars::not_found(&name, dir);
                            self.fail(task, scope, msg);
                        }
                    }
                }
                Probe::LocalFile { what, name } | Probe::ConfigSrc { what, name } => {
                    let or_template = matches!(probe, Probe::ConfigSrc { .. });
                    if let Some(Some(name)) = self.text(task, scope, name, what, true) {
                        let found = match self.found_files.get(&name) {
                            Some(f) => f.is_some(),
                            None => {
                                let f = self.playbook.resolve_src(&name).or_else(|| {
                                    or_template
                                        .then(|| self.playbook.resolve_template(&name))
                                        .flatten()
                                });
                                self.found_files.insert(name.clone(), f.clone());
                                f.is_some()
                            }
                        };
                        if !found {
                            let looked = shown_dirs(self.playbook.src_dirs());
                            let msg =
                                format!("{what}: file `{name}` not found; looked in {looked}");
                            self.fail(task, scope, msg);
                        }
                    }
                }
            }
        }
    }

    /// Render a string field as the run will: `Some(Some(text))`, `Some(None)` when only
    /// the run can tell, `None` when it fails (reported).
    fn text(
        &mut self,
        task: &Task,
        scope: &Scope<'_>,
        src: &str,
        what: &str,
        lines: bool,
    ) -> Option<Option<String>> {
        if !is_templated(src) {
            return Some(Some(src.to_string()));
        }
        // Compiled with the task; `None`: it did not compile (already reported).
        let id = src.as_ptr() as usize;
        if self.runaway.contains(&id) {
            return None;
        }
        let (tmpl, insp) = self.strs.get(&(src, lines))?.as_ref()?;
        // An inline string renders faster than its values could be looked up in a memo.
        match render_field(tmpl, insp, scope, what) {
            Ok(text) => Some(text),
            Err(f) if f.runaway => {
                // Told once for the task: trying it on every other host would cost each
                // of them the whole fuel again.
                self.runaway.insert(id);
                self.findings.report(task, None, f.message);
                None
            }
            Err(f) => {
                self.fail(task, scope, f.message);
                None
            }
        }
    }

    /// A template file: it must exist, compile, and render with this host's variables.
    fn template_file(&mut self, task: &Task, scope: &Scope<'_>, name: &str, lines: bool) {
        let found = match self.found_templates.get(name) {
            Some(f) => f.clone(),
            None => {
                let f = self.templates.resolve(name);
                self.found_templates.insert(name.to_string(), f.clone());
                f
            }
        };
        let Some(path) = found else {
            let looked = shown_dirs(self.templates.dirs());
            self.fail(
                task,
                scope,
                format!("template `{name}` not found; looked in {looked}"),
            );
            return;
        };
        let key = (path, lines);
        if !self.files.contains_key(&key) {
            let compiled = self.templates.compile_file(name, lines);
            let kept = self.keep(task, compiled, "template");
            let id = self.files.len();
            self.files.insert(key.clone(), (id, kept));
        }
        let Some((id, Some((tmpl, insp)))) = self.files.get(&key) else {
            return;
        };
        let id = *id;
        if self.runaway_files.contains(&id) {
            return;
        }
        match render_memo(&mut self.memo, id, tmpl, insp, scope, "template") {
            Ok(_) => {}
            Err(f) if f.runaway => {
                self.runaway_files.insert(id);
                self.findings.report(task, None, f.message);
            }
            Err(f) => self.fail(task, scope, f.message),
        }
    }
}

/// [`render_field`], remembered by `id` and the values of the names the template uses.
/// A template that includes or imports another may use names its own text does not show:
/// it is always rendered.
fn render_memo(
    memo: &mut HashMap<MemoKey, Result<Option<String>, Failure>>,
    id: usize,
    tmpl: &Template<'_, '_>,
    insp: &Inspection,
    scope: &Scope<'_>,
    what: &str,
) -> Result<Option<String>, Failure> {
    if insp.composed {
        return render_field(tmpl, insp, scope, what);
    }
    let mut key = String::new();
    for name in &insp.names {
        key.push_str(name);
        key.push('=');
        if scope.unknown.contains(name) {
            key.push('?');
        } else if let Some(v) = scope.layer.get(name).or_else(|| scope.base.get(name)) {
            key.push_str(&v.to_string());
        }
        key.push('\u{0}');
    }
    memo.entry((id, key))
        .or_insert_with(|| render_field(tmpl, insp, scope, what))
        .clone()
}

/// Render a compiled field in a scope: the text, `None` when only the run can tell, or
/// the message of its failure.
fn render_field(
    tmpl: &Template<'_, '_>,
    insp: &Inspection,
    scope: &Scope<'_>,
    what: &str,
) -> Result<Option<String>, Failure> {
    match jinja::try_render(tmpl, &scope.ctx, &scope.runtime_only(insp)) {
        Tried::Text(s) => Ok(Some(s)),
        Tried::Unknown => Ok(None),
        Tried::Failed(e) => Err(Failure {
            message: jinja::describe_render(what, &e, tmpl.source(), &scope.vars()).to_string(),
            runaway: e.kind() == minijinja::ErrorKind::OutOfFuel,
        }),
    }
}

/// Why a field failed; `runaway`: it ran out of fuel, and would on every host again.
#[derive(Debug, Clone)]
struct Failure {
    message: String,
    runaway: bool,
}

fn undefined_value() -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::UndefinedError, "undefined value")
}

fn shown_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| {
            let s = d.display().to_string();
            if s.is_empty() {
                ".".to_string()
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every string in a value, nested ones included.
fn strings_in<'a>(v: &'a Value, f: &mut dyn FnMut(&'a str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, f)),
        Value::Object(o) => o.values().for_each(|x| strings_in(x, f)),
        _ => {}
    }
}
