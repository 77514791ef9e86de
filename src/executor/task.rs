//! One task on one host, with the task keywords: `when`, `loop`, `until`/`retries`/`delay`,
//! `changed_when`, `failed_when`, `ignore_errors`, `register`, `notify`, `check_mode`,
//! `timeout`, `no_log`. Runs on the host's blocking worker; never panics, never prints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::host::{registered, HostState};
use crate::actions::transfer::Progress;
use crate::actions::{device_failure, ActionCtx, Connector, Env};
use crate::device::profile::ProfileSet;
use crate::device::{Connection, RateLimiter};
use crate::jinja::Templates;
use crate::playbook::{Loop, Playbook, Task};
use crate::report::{Event, Status, TaskResult};
use crate::transport::settings::{ConnectionSettings, CONNECTION_VARS};
use crate::transport::ssh::SshOptions;
use crate::value::Vars;

/// Ansible's defaults for `until` without `retries` / `delay`.
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_RETRY_DELAY_SECS: u64 = 5;

/// What every task of a play shares.
pub struct PlayShared {
    pub playbook: Arc<Playbook>,
    pub templates: Templates,
    pub profiles: Arc<ProfileSet>,
    pub ssh: SshOptions,
    pub check: bool,
    pub diff: bool,
    pub show_secrets: bool,
    pub limiter: Option<Arc<RateLimiter>>,
    /// The play's default per-task timeout.
    pub timeout: Option<Duration>,
    pub verbose: u8,
    pub events: UnboundedSender<Event>,
    /// The run's backup writer (the `backup` action hands configs to it).
    pub backups: Option<Arc<crate::backup::BackupRun>>,
    pub rollback: Option<Arc<crate::config::record::Recorder>>,
    /// The play's `confirm:` timer.
    pub confirm: Option<Duration>,
    pub budget: Arc<super::budget::OutputBudget>,
}

/// Run `task` on `state` and record its effects on the host (facts, register, notify, failure).
pub fn run_task(state: &mut HostState, task: &Task, shared: &PlayShared) -> TaskResult {
    let started = Instant::now();
    let mut r = run_inner(state, task, shared);
    shared.budget.charge(&mut r);
    r.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if r.status == Status::Failed && task.ignore_errors
        || r.status == Status::Unreachable && task.ignore_unreachable
    {
        r.ignored = true;
    }
    if let Some(m) = r.msg.take() {
        r.msg = Some(state.explain(m));
    }
    let in_block = r.status == Status::Failed && !r.ignored && state.blocks.on_failure(&task.block);
    if in_block {
        r.rescued = super::block::rescued(&task.block);
        // What a rescue section may look at (Ansible's names).
        let failed_task = serde_json::json!({
            "name": task.display_name(),
            "action": task.action_key,
        });
        state
            .facts
            .insert("ansible_failed_task".into(), failed_task);
        state
            .facts
            .insert("ansible_failed_result".into(), registered(&r));
    }
    state.absorb(&r, task.register.as_deref(), &task.notify, in_block);
    if task.no_log {
        r.censor();
    } else if !shared.show_secrets {
        // What the host's platform stores as secrets (communities, keys, hashes) is masked
        // in what is reported, after `register:` kept the device's text as it is.
        if let Some(conn) = &state.conn {
            r.mask_lines(&conn.profile().secret_patterns);
        }
    }
    r
}

fn run_inner(state: &mut HostState, task: &Task, shared: &PlayShared) -> TaskResult {
    let mut ctx = match state.context(&shared.templates, &task.vars) {
        Ok(c) => c,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let check = task.check_mode.unwrap_or(shared.check);
    let Some(items) = &task.loop_ else {
        if let Some(skip) = when_skip(task, &ctx, shared) {
            return skip;
        }
        return with_retries(state, task, shared, &ctx, check);
    };
    let items = match loop_items(items, &ctx, shared) {
        Ok(i) => i,
        Err(msg) => return TaskResult::failed(msg),
    };
    let control = task.loop_control.as_ref();
    let loop_var = control.map_or("item", |c| c.loop_var.as_str());
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let mut item_ctx = ctx.clone();
        item_ctx.insert(loop_var.to_string(), item.clone());
        if let Some(index_var) = control.and_then(|c| c.index_var.as_deref()) {
            item_ctx.insert(index_var.to_string(), Value::from(i));
        }
        let mut r = match when_skip(task, &item_ctx, shared) {
            Some(skip) => skip,
            None => with_retries(state, task, shared, &item_ctx, check),
        };
        // As in Ansible, what one item sets (`set_fact` in a loop that accumulates) is
        // seen by the next.
        if let Some(facts) = r.data.get("facts").and_then(Value::as_object) {
            for (k, v) in facts {
                state.facts.insert(k.clone(), v.clone());
                ctx.insert(k.clone(), v.clone());
            }
        }
        let label = match control.and_then(|c| c.label.as_deref()) {
            Some(l) => shared
                .templates
                .render_str(l, &item_ctx, "loop label")
                .unwrap_or_else(|_| l.to_string()),
            None => match &item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        };
        r.data = merge_data(r.data, serde_json::json!({ "item": item, "label": label }));
        let stop = r.status == Status::Unreachable;
        results.push(r);
        if stop {
            break;
        }
        if let Some(pause) = control.and_then(|c| c.pause) {
            std::thread::sleep(pause);
        }
    }
    aggregate(results)
}

fn merge_data(data: Value, extra: Value) -> Value {
    match (data, extra) {
        (Value::Object(mut a), Value::Object(b)) => {
            a.extend(b);
            Value::Object(a)
        }
        (Value::Null, b) => b,
        (a, _) => a,
    }
}

/// A loop's overall result: the worst item decides, as in Ansible.
fn aggregate(items: Vec<TaskResult>) -> TaskResult {
    let status = if items.iter().any(|r| r.status == Status::Unreachable) {
        Status::Unreachable
    } else if items.iter().any(|r| r.status == Status::Failed) {
        Status::Failed
    } else if items.iter().any(|r| r.status == Status::Changed) {
        Status::Changed
    } else if !items.is_empty() && items.iter().all(|r| r.status == Status::Skipped) {
        Status::Skipped
    } else {
        Status::Ok
    };
    let mut r = TaskResult::new(status);
    r.msg = items
        .iter()
        .find(|i| i.status.is_failure())
        .and_then(|i| i.msg.clone())
        .map(|m| format!("one or more items failed: {m}"));
    if items.is_empty() {
        r.status = Status::Skipped;
        r.msg = Some("no items in loop".into());
    }
    r.items = items;
    r
}

fn when_skip(task: &Task, ctx: &Vars, shared: &PlayShared) -> Option<TaskResult> {
    let when = task.when.as_ref()?;
    for cond in when.conditions() {
        match shared.templates.eval_bool(cond, ctx, "when") {
            Ok(true) => {}
            Ok(false) => {
                return Some(TaskResult::skipped(format!(
                    "conditional result was false: {cond}"
                )))
            }
            Err(e) => return Some(TaskResult::failed(format!("when `{cond}`: {e}"))),
        }
    }
    None
}

fn loop_items(l: &Loop, ctx: &Vars, shared: &PlayShared) -> Result<Vec<Value>, String> {
    match l {
        Loop::Items(items) => items
            .iter()
            .map(|v| render_json(v, ctx, shared))
            .collect::<Result<Vec<_>, _>>(),
        Loop::Expr(expr) => match shared.templates.eval(expr, ctx, "loop") {
            Ok(Value::Array(a)) => Ok(a),
            Ok(Value::Null) => Ok(Vec::new()),
            Ok(other) => Err(format!(
                "loop `{expr}` must give a list, got {}",
                crate::value::kind_of(&other)
            )),
            Err(e) => Err(e.to_string()),
        },
    }
}

fn render_json(v: &Value, ctx: &Vars, shared: &PlayShared) -> Result<Value, String> {
    match v {
        Value::String(s) if s.contains("{{") => {
            let t = s.trim();
            if crate::jinja::is_single_expression(t) {
                shared
                    .templates
                    .eval(t, ctx, "loop item")
                    .map_err(|e| e.to_string())
            } else {
                shared
                    .templates
                    .render_str(s, ctx, "loop item")
                    .map(Value::String)
                    .map_err(|e| e.to_string())
            }
        }
        Value::Array(a) => a
            .iter()
            .map(|x| render_json(x, ctx, shared))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                m.insert(k.clone(), render_json(x, ctx, shared)?);
            }
            Ok(Value::Object(m))
        }
        other => Ok(other.clone()),
    }
}

/// The action, repeated under `until`, then `changed_when` / `failed_when` applied.
fn with_retries(
    state: &mut HostState,
    task: &Task,
    shared: &PlayShared,
    ctx: &Vars,
    check: bool,
) -> TaskResult {
    let max_attempts = match &task.until {
        Some(_) => task.retries.unwrap_or(DEFAULT_RETRIES).saturating_add(1),
        None => 1,
    };
    let delay = task
        .delay
        .unwrap_or(Duration::from_secs(DEFAULT_RETRY_DELAY_SECS));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut r = run_action(state, task, shared, ctx, check);
        // An action that retries on its own (a command's `wait_for`) counts its rounds.
        if task.until.is_some() || r.attempts <= 1 {
            r.attempts = attempt;
        }
        if let Err(msg) = apply_overrides(task, &mut r, ctx, shared) {
            return TaskResult::failed(msg);
        }
        let Some(until) = &task.until else {
            return r;
        };
        if r.status == Status::Unreachable {
            return r;
        }
        let bound = bind_result(ctx, task, &r);
        let done = until
            .conditions()
            .iter()
            .map(|c| shared.templates.eval_bool(c, &bound, "until"))
            .collect::<Result<Vec<bool>, _>>();
        match done {
            Ok(v) if v.iter().all(|b| *b) => return r,
            Ok(_) if attempt >= max_attempts => {
                // Ansible registers the retries, not the runs, when `until` is never met.
                r.attempts = attempt.saturating_sub(1).max(1);
                r.status = Status::Failed;
                r.msg = Some(format!(
                    "`until` not met after {attempt} attempts: {}",
                    until.conditions().join(" and ")
                ));
                return r;
            }
            Ok(_) => std::thread::sleep(delay),
            Err(e) => return TaskResult::failed(format!("until: {e}")),
        }
    }
}

/// The context with this result bound under the task's `register` name and `result`.
fn bind_result(ctx: &Vars, task: &Task, r: &TaskResult) -> Vars {
    let mut bound = ctx.clone();
    let reg = registered(r);
    if let Some(name) = &task.register {
        bound.insert(name.clone(), reg.clone());
    }
    bound.insert("result".into(), reg);
    bound
}

fn apply_overrides(
    task: &Task,
    r: &mut TaskResult,
    ctx: &Vars,
    shared: &PlayShared,
) -> Result<(), String> {
    if task.changed_when.is_none() && task.failed_when.is_none() {
        return Ok(());
    }
    if matches!(r.status, Status::Unreachable | Status::Skipped) {
        return Ok(());
    }
    let bound = bind_result(ctx, task, r);
    let all = |conds: &[String], what: &str| -> Result<bool, String> {
        for c in conds {
            if !shared
                .templates
                .eval_bool(c, &bound, what)
                .map_err(|e| format!("{what} `{c}`: {e}"))?
            {
                return Ok(false);
            }
        }
        Ok(true)
    };
    if let Some(cw) = &task.changed_when {
        if r.status != Status::Failed {
            r.status = if all(cw.conditions(), "changed_when")? {
                Status::Changed
            } else {
                Status::Ok
            };
        }
    }
    if let Some(fw) = &task.failed_when {
        // Ansible: failed_when replaces the action's own verdict.
        if all(fw.conditions(), "failed_when")? {
            r.status = Status::Failed;
            if r.msg.is_none() {
                r.msg = Some(format!("failed_when: {}", fw.conditions().join(" and ")));
            }
        } else if r.status == Status::Failed {
            r.status = Status::Ok;
        }
    }
    Ok(())
}

fn run_action(
    state: &mut HostState,
    task: &Task,
    shared: &PlayShared,
    ctx: &Vars,
    check: bool,
) -> TaskResult {
    let host = state.name.clone();
    let playbook = &shared.playbook;
    let resolve_src = |name: &str| playbook.resolve_src(name);
    let progress = |p: Progress| {
        let _ = shared.events.send(Event::Transfer {
            host: host.clone(),
            done: p.done,
            total: p.total,
            finished: p.finished,
        });
    };
    let mut connector = HostConnector {
        state,
        shared,
        ctx,
        max_output: task.max_output,
        timeout: task.timeout.or(shared.timeout),
    };
    let mut env = Env {
        ctx: ActionCtx {
            host: &host,
            vars: ctx,
            templates: &shared.templates,
            check_mode: check,
            diff: task.diff.unwrap_or(shared.diff),
            show_secrets: shared.show_secrets,
            verbose: shared.verbose,
        },
        command_timeout: task.timeout.or(shared.timeout),
        task_timeout: task.timeout,
        connector: &mut connector,
        resolve_src: &resolve_src,
        progress: &progress,
        backups: shared.backups.as_deref(),
        rollback: shared.rollback.as_deref(),
        confirm: shared.confirm,
        profiles: &shared.profiles,
        action_key: &task.action_key,
        playbook_dir: playbook
            .path
            .parent()
            .unwrap_or_else(|| std::path::Path::new(".")),
    };
    task.action.run(&mut env)
}

/// Opens the host's connection on first use and keeps it in the host's state for the rest
/// of the run.
struct HostConnector<'a> {
    state: &'a mut HostState,
    shared: &'a PlayShared,
    ctx: &'a Vars,
    /// The task's `max_output`; the connection outlives the task, so it is set on every
    /// hand-out (`None` puts the host's back).
    max_output: Option<u64>,
    /// The task's `timeout` (else the play's), the same way: it bounds opening and the
    /// CLI's mode changes too.
    timeout: Option<Duration>,
}

impl Connector for HostConnector<'_> {
    fn connection(&mut self) -> Result<&mut Connection, TaskResult> {
        let (state, shared) = (&mut *self.state, self.shared);
        if state.conn.is_none() {
            if let Some((name, why)) = state
                .unresolved
                .iter()
                .find(|(n, _)| CONNECTION_VARS.contains(&n.as_str()))
            {
                return Err(TaskResult::failed(format!(
                    "cannot connect: variable `{name}` could not be rendered: {why}"
                )));
            }
            let settings = ConnectionSettings::from_vars(&state.name, self.ctx)
                .map_err(|e| TaskResult::failed(e.to_string()))?;
            let conn = Connection::open(
                &settings,
                &shared.profiles,
                &shared.ssh,
                shared.limiter.as_deref(),
                self.timeout,
            )
            .map_err(|e| device_failure(&e))?;
            for w in conn.warnings() {
                let _ = shared
                    .events
                    .send(Event::Warning(format!("{}: {w}", state.name)));
            }
            if let Ok(mut slot) = state.abort.lock() {
                *slot = conn.abort_handle();
            }
            state.conn = Some(conn);
        }
        let conn = state
            .conn
            .as_mut()
            .ok_or_else(|| TaskResult::failed("internal: connection missing after open"))?;
        conn.set_max_output(self.max_output);
        conn.set_timeout(self.timeout);
        Ok(conn)
    }
}
