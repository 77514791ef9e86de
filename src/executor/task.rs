//! One task on one host, with the task keywords: `when`, `loop`, `until`/`retries`/`delay`,
//! `changed_when`, `failed_when`, `ignore_errors`, `register`, `notify`, `check_mode`,
//! `timeout`, `no_log`. Runs on the host's blocking worker; never panics, never prints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::connection::{Connection, RateLimiter};
use super::host::{registered, HostState};
use crate::actions::{self, ActionCtx};
use crate::device::profile::ProfileSet;
use crate::playbook::action::{DebugWhat, WaitForArgs};
use crate::playbook::{Action, Loop, Playbook, Task};
use crate::report::{Event, Status, TaskResult};
use crate::template::Templates;
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
    pub limiter: Option<Arc<RateLimiter>>,
    /// The play's default per-task timeout.
    pub timeout: Option<Duration>,
    pub verbose: u8,
    pub events: UnboundedSender<Event>,
    /// The run's backup writer (the `backup` action hands configs to it).
    pub backups: Option<Arc<crate::backup::BackupRun>>,
}

/// Run `task` on `h` and record its effects on the host (facts, register, notify, failure).
pub fn run_task(h: &mut HostState, task: &Task, sh: &PlayShared) -> TaskResult {
    let started = Instant::now();
    let mut r = run_inner(h, task, sh);
    r.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if r.status == Status::Failed && task.ignore_errors {
        r.ignored = true;
    }
    if let Some(m) = r.msg.take() {
        r.msg = Some(h.explain(m));
    }
    h.absorb(&r, task.register.as_deref(), &task.notify);
    if task.no_log {
        r.censor();
    }
    r
}

fn run_inner(h: &mut HostState, task: &Task, sh: &PlayShared) -> TaskResult {
    let ctx = match h.context(&sh.templates, &task.vars) {
        Ok(c) => c,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let check = task.check_mode.unwrap_or(sh.check);
    let Some(items) = &task.loop_ else {
        if let Some(skip) = when_skip(task, &ctx, sh) {
            return skip;
        }
        return with_retries(h, task, sh, &ctx, check);
    };
    let items = match loop_items(items, &ctx, sh) {
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
        let mut r = match when_skip(task, &item_ctx, sh) {
            Some(skip) => skip,
            None => with_retries(h, task, sh, &item_ctx, check),
        };
        let label = match control.and_then(|c| c.label.as_deref()) {
            Some(l) => sh
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

fn when_skip(task: &Task, ctx: &Vars, sh: &PlayShared) -> Option<TaskResult> {
    let when = task.when.as_ref()?;
    for cond in when.conditions() {
        match sh.templates.eval_bool(cond, ctx, "when") {
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

fn loop_items(l: &Loop, ctx: &Vars, sh: &PlayShared) -> Result<Vec<Value>, String> {
    match l {
        Loop::Items(items) => items
            .iter()
            .map(|v| render_json(v, ctx, sh))
            .collect::<Result<Vec<_>, _>>(),
        Loop::Expr(expr) => match sh.templates.eval(expr, ctx, "loop") {
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

fn render_json(v: &Value, ctx: &Vars, sh: &PlayShared) -> Result<Value, String> {
    match v {
        Value::String(s) if s.contains("{{") => {
            let t = s.trim();
            if t.starts_with("{{") && t.ends_with("}}") && t.matches("{{").count() == 1 {
                sh.templates
                    .eval(t, ctx, "loop item")
                    .map_err(|e| e.to_string())
            } else {
                sh.templates
                    .render_str(s, ctx, "loop item")
                    .map(Value::String)
                    .map_err(|e| e.to_string())
            }
        }
        Value::Array(a) => a
            .iter()
            .map(|x| render_json(x, ctx, sh))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                m.insert(k.clone(), render_json(x, ctx, sh)?);
            }
            Ok(Value::Object(m))
        }
        other => Ok(other.clone()),
    }
}

/// The action, repeated under `until`, then `changed_when` / `failed_when` applied.
fn with_retries(
    h: &mut HostState,
    task: &Task,
    sh: &PlayShared,
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
        let mut r = run_action(h, task, sh, ctx, check);
        r.attempts = attempt;
        if let Err(msg) = apply_overrides(task, &mut r, ctx, sh) {
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
            .map(|c| sh.templates.eval_bool(c, &bound, "until"))
            .collect::<Result<Vec<bool>, _>>();
        match done {
            Ok(v) if v.iter().all(|b| *b) => return r,
            Ok(_) if attempt >= max_attempts => {
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
    sh: &PlayShared,
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
            if !sh
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
    h: &mut HostState,
    task: &Task,
    sh: &PlayShared,
    ctx: &Vars,
    check: bool,
) -> TaskResult {
    let actx = ActionCtx {
        host: &h.name,
        vars: ctx,
        templates: &sh.templates,
        check_mode: check,
        diff: sh.diff,
    };
    match &task.action {
        Action::Debug(a) => match &a.what {
            _ if a.verbosity > sh.verbose => TaskResult::skipped(format!(
                "verbosity threshold not met ({} > {})",
                a.verbosity, sh.verbose
            )),
            DebugWhat::Msg(m) => actions::debug::run(&actx, Some(m), None),
            DebugWhat::Var(v) => actions::debug::run(&actx, None, Some(v)),
        },
        Action::Assert(a) => actions::assert::run(
            &actx,
            &a.that,
            a.fail_msg.as_deref(),
            a.success_msg.as_deref(),
        ),
        Action::Fail(a) => actions::fail::run(&actx, a.msg.as_deref()),
        Action::SetFact(a) => actions::set_fact::run(&actx, &a.0),
        Action::Template(a) => actions::template::run(&actx, a),
        Action::WaitFor(a) => {
            let w = match a {
                WaitForArgs::Port {
                    port,
                    host,
                    state,
                    timeout,
                    delay,
                } => actions::wait_for::WaitFor {
                    host: host.as_deref(),
                    port: Some(*port),
                    state: match state {
                        crate::playbook::action::PortState::Started => {
                            actions::wait_for::PortState::Started
                        }
                        crate::playbook::action::PortState::Stopped => {
                            actions::wait_for::PortState::Stopped
                        }
                    },
                    timeout: timeout.unwrap_or(Duration::from_secs(300)),
                    delay: delay.unwrap_or_default(),
                    seconds: None,
                },
                WaitForArgs::Sleep(d) => actions::wait_for::WaitFor {
                    host: None,
                    port: None,
                    state: actions::wait_for::PortState::Started,
                    timeout: *d,
                    delay: Duration::ZERO,
                    seconds: Some(*d),
                },
            };
            actions::wait_for::run(&actx, &w)
        }
        Action::Command(a) => {
            let timeout = task.timeout.or(sh.timeout);
            match connection(h, sh, ctx) {
                Ok(conn) => {
                    let t = timeout.unwrap_or_else(|| conn.session().command_timeout());
                    let actx = ActionCtx {
                        host: &task_host(ctx),
                        vars: ctx,
                        templates: &sh.templates,
                        check_mode: check,
                        diff: sh.diff,
                    };
                    actions::command::run(conn, &actx, a, t)
                }
                Err(r) => r,
            }
        }
        Action::Config(a) => {
            let timeout = task.timeout.or(sh.timeout);
            let pb = Arc::clone(&sh.playbook);
            let resolve = move |name: &str| pb.resolve_src(name);
            match connection(h, sh, ctx) {
                Ok(conn) => {
                    let t = timeout.unwrap_or_else(|| conn.session().command_timeout());
                    let actx = ActionCtx {
                        host: &task_host(ctx),
                        vars: ctx,
                        templates: &sh.templates,
                        check_mode: check,
                        diff: sh.diff,
                    };
                    actions::config::run(
                        conn,
                        &actx,
                        a,
                        t,
                        &actions::config::ConfigEnv {
                            resolve_src: &resolve,
                        },
                    )
                }
                Err(r) => r,
            }
        }
        // Backups: the file name and store are checked before connecting; the config goes
        // to the run's single writer (src/backup/), which commits after the run.
        Action::Backup(a) => {
            let Some(backups) = sh.backups.clone() else {
                return TaskResult::failed("internal: this run has no backup writer");
            };
            let host = task_host(ctx);
            let actx = ActionCtx {
                host: &host,
                vars: ctx,
                templates: &sh.templates,
                check_mode: check,
                diff: sh.diff,
            };
            let prep = match actions::backup::prepare(&actx, a, &backups) {
                Ok(p) => p,
                Err(r) => return r,
            };
            let timeout = task.timeout.or(sh.timeout);
            match connection(h, sh, ctx) {
                Ok(conn) => {
                    let t = timeout.unwrap_or_else(|| conn.session().command_timeout());
                    actions::backup::run(conn, &actx, &prep, &backups, t)
                }
                Err(r) => r,
            }
        }
        // File transfer: wired by the transfer feature (src/transport/{sftp,scp,ftp}.rs,
        // src/actions/transfer.rs).
        Action::Upload(a) | Action::Download(a) => {
            let is_upload = matches!(task.action, Action::Upload(_));
            let protocol = actions::transfer::protocol_for(a, ctx, &sh.profiles);
            let pb = Arc::clone(&sh.playbook);
            let resolve = move |name: &str| pb.resolve_src(name);
            let host = task_host(ctx);
            let events = sh.events.clone();
            let progress_host = host.clone();
            let progress = move |p: actions::transfer::Progress| {
                let _ = events.send(Event::Transfer {
                    host: progress_host.clone(),
                    done: p.done,
                    total: p.total,
                    finished: p.finished,
                });
            };
            let env = actions::transfer::TransferEnv {
                resolve_src: &resolve,
                progress: Some(&progress),
            };
            let actx = ActionCtx {
                host: &host,
                vars: ctx,
                templates: &sh.templates,
                check_mode: check,
                diff: sh.diff,
            };
            let conn = if actions::transfer::needs_ssh(protocol) {
                match connection(h, sh, ctx) {
                    Ok(c) => Some(c),
                    Err(r) => return r,
                }
            } else {
                None
            };
            actions::transfer::run(conn, &actx, a, protocol, is_upload, task.timeout, &env)
        }
    }
}

fn task_host(ctx: &Vars) -> String {
    ctx.get("inventory_hostname")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The host's connection, opened on first use and kept for the rest of the run.
fn connection<'h>(
    h: &'h mut HostState,
    sh: &PlayShared,
    ctx: &Vars,
) -> Result<&'h mut Connection, TaskResult> {
    if h.conn.is_none() {
        if let Some((name, why)) = h
            .unresolved
            .iter()
            .find(|(n, _)| CONNECTION_VARS.contains(&n.as_str()))
        {
            return Err(TaskResult::failed(format!(
                "cannot connect: variable `{name}` could not be rendered: {why}"
            )));
        }
        let settings = ConnectionSettings::from_vars(&h.name, ctx)
            .map_err(|e| TaskResult::failed(e.to_string()))?;
        let conn = Connection::open(&settings, &sh.profiles, &sh.ssh, sh.limiter.as_deref())?;
        for w in conn.warnings() {
            let _ = sh.events.send(Event::Warning(format!("{}: {w}", h.name)));
        }
        h.abort = Some(conn.session().abort_handle());
        h.conn = Some(conn);
    }
    h.conn
        .as_mut()
        .ok_or_else(|| TaskResult::failed("internal: connection missing after open"))
}
