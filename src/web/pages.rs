//! The interface's handlers: authentication, pages, actions, `/status` and `/metrics`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::auth::{self, Who};
use super::config::Role;
use super::history::{HistoryError, StoreReader};
use super::{highlight, lock, runs, App, HostInfo};

/// Versions on one history page.
const PER_PAGE: usize = 50;
/// Commits one history request may look at.
const SCAN_BUDGET: usize = 20_000;
/// Commits the "last change" index looks at when first built.
const LAST_CHANGE_BUDGET: usize = 2_000;
/// Finished runs per store whose host results fill the Devices page.
const RUNS_FOR_STATUS: usize = 5;
/// Past this size a run page shows less of each output (a 10,000-host playbook run's
/// report is over 100 MB, nearly all command output).
const LARGE_REPORT_BYTES: u64 = 64 << 20;
/// Output shown per command on a run page whose report is large.
const MAX_OUTPUT_CHARS_LARGE: usize = 2_000;
/// What the per-host summaries need of each string (status, the first failure's message).
const MAX_SUMMARY_CHARS: usize = 2_000;
/// Command output shown per command on a run page (the rest is cut, and says so).
const MAX_OUTPUT_CHARS: usize = 20_000;
/// Hosts shown on a run page.
const MAX_RUN_HOSTS: usize = 2_000;
/// The largest config shown highlighted (bigger ones are shown plain).
const MAX_HIGHLIGHT_BYTES: usize = 2 << 20;
/// How long an action waits for the daemon to start the run.
const ACTION_WAIT: Duration = Duration::from_secs(10);

static STYLE: &str = include_str!("static/style.css");

pub(crate) fn templates() -> Result<minijinja::Environment<'static>, String> {
    let mut env = minijinja::Environment::new();
    // `.html` templates autoescape; nothing is marked safe anywhere.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("overview.html", include_str!("templates/overview.html")),
        ("devices.html", include_str!("templates/devices.html")),
        ("device.html", include_str!("templates/device.html")),
        ("history.html", include_str!("templates/history.html")),
        ("diff.html", include_str!("templates/diff.html")),
        ("runs.html", include_str!("templates/runs.html")),
        ("run.html", include_str!("templates/run.html")),
        ("login.html", include_str!("templates/login.html")),
        ("error.html", include_str!("templates/error.html")),
    ] {
        env.add_template(name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    env.add_filter("pathenc", |s: String| encode(&s, true));
    env.add_filter("segenc", |s: String| encode(&s, false));
    env.add_filter("time", |t: Option<i64>| t.map(fmt_time).unwrap_or_default());
    Ok(env)
}

/// Percent-encode for a URL path (keeping `/` when `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

type AppState = State<Arc<App>>;

fn render(app: &App, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    let html = app.templates.get_template(name).and_then(|t| t.render(ctx));
    match html {
        Ok(h) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            h,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("web: template {name}: {e:#}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered; the daemon's log says why\n",
            )
                .into_response()
        }
    }
}

fn error_page(app: &App, who: Option<&Who>, status: StatusCode, message: &str) -> Response {
    render(
        app,
        status,
        "error.html",
        context! { who => who, title => status.canonical_reason().unwrap_or("Error"),
        code => status.as_u16(), message => message },
    )
}

// ---------------------------------------------------------------- authentication

const PUBLIC: &[&str] = &["/login", "/static/style.css"];

pub(crate) async fn authenticate(State(app): AppState, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let settings = &app.ctx.settings;
    if PUBLIC.contains(&path.as_str()) || (path == "/metrics" && settings.metrics_public) {
        return next.run(req).await;
    }
    if !settings.auth_enabled() {
        req.extensions_mut().insert(Who {
            name: String::new(),
            role: Role::Read,
            csrf: String::new(),
            operator: false,
        });
        return next.run(req).await;
    }
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let who = if let Some(token) = bearer {
        auth::check_bearer(&settings.principals, token.trim()).map(|p| Who {
            name: p.name.clone(),
            role: p.role,
            csrf: String::new(),
            operator: false,
        })
    } else {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(auth::cookie_value)
            .and_then(|c| app.keys.check_session(c, now()))
            .and_then(|(name, nonce)| {
                let p = settings.principals.iter().find(|p| p.name == name)?;
                Some(Who {
                    name: p.name.clone(),
                    role: p.role,
                    csrf: app.keys.csrf(&nonce),
                    operator: p.role == Role::Operator,
                })
            })
    };
    match who {
        Some(w) => {
            req.extensions_mut().insert(w);
            next.run(req).await
        }
        None if req.method() == Method::GET && path != "/status" && path != "/metrics" => {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            Redirect::to(&format!("/login?next={}", encode(&target, false))).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "authentication required\n",
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

/// Only a local path is followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

pub(crate) async fn login_form(State(app): AppState, Query(q): Query<LoginQuery>) -> Response {
    if !app.ctx.settings.auth_enabled() {
        return Redirect::to("/").into_response();
    }
    render(
        &app,
        StatusCode::OK,
        "login.html",
        context! { title => "Log in", token => app.keys.login_token(now()),
        next => safe_next(q.next.as_deref()), failed => q.failed.is_some() },
    )
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    user: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub(crate) async fn login(State(app): AppState, Form(f): Form<LoginForm>) -> Response {
    if !app.ctx.settings.auth_enabled() {
        return Redirect::to("/").into_response();
    }
    if !app.keys.check_login_token(&f.csrf, now()) {
        return error_page(
            &app,
            None,
            StatusCode::FORBIDDEN,
            "The login form has expired or did not come from this server; reload it and try again.",
        );
    }
    let next = safe_next(f.next.as_deref());
    let Ok(_gate) = app.login_gate.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let app2 = Arc::clone(&app);
    let (user, password) = (f.user.clone(), f.password.clone());
    let found = tokio::task::spawn_blocking(move || {
        auth::check_password(&app2.ctx.settings.principals, &user, &password)
            .map(|p| p.name.clone())
    })
    .await
    .ok()
    .flatten();
    let Some(name) = found else {
        tracing::warn!("web: failed login for `{}`", f.user.escape_debug());
        // Slow down guessing (the gate is held meanwhile).
        tokio::time::sleep(Duration::from_millis(500)).await;
        return Redirect::to(&format!("/login?failed=1&next={}", encode(&next, false)))
            .into_response();
    };
    let ttl = app.ctx.settings.session_ttl;
    let expires = now() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let cookie = match app.keys.session(&name, expires) {
        Ok(c) => c,
        Err(e) => return error_page(&app, None, StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    tracing::info!("web: `{name}` logged in");
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        &cookie,
        ttl,
        app.ctx.settings.secure_cookies,
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

pub(crate) async fn logout(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if who.csrf.is_empty() || !auth::constant_time_eq(f.csrf.as_bytes(), who.csrf.as_bytes()) {
        return error_page(
            &app,
            Some(&who),
            StatusCode::FORBIDDEN,
            "Missing or wrong CSRF token.",
        );
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::clear_cookie(app.ctx.settings.secure_cookies)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

// ---------------------------------------------------------------- status, metrics, assets

pub(crate) async fn status_json(State(app): AppState) -> Response {
    let json = lock(&app.ctx.status).to_json() + "\n";
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

pub(crate) async fn metrics(State(app): AppState) -> Response {
    let text = lock(&app.ctx.status).to_metrics();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

pub(crate) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

pub(crate) async fn not_found(State(app): AppState, who: Option<Extension<Who>>) -> Response {
    let who = who.map(|Extension(w)| w);
    error_page(
        &app,
        who.as_ref(),
        StatusCode::NOT_FOUND,
        "There is no such page.",
    )
}

// ---------------------------------------------------------------- shared data

/// How a host fared in one run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HostResult {
    pub status: String,
    pub msg: String,
}

/// A run's results by host (shared by the pages that show them).
pub(crate) type HostResults = Arc<HashMap<String, HostResult>>;

/// Per-host results of a run's report: the worst status, and the first failure's message.
fn host_results(doc: &serde_json::Value) -> HashMap<String, HostResult> {
    let mut out: HashMap<String, HostResult> = HashMap::new();
    if let Some(stats) = doc["stats"].as_object() {
        for (host, s) in stats {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            let status = if n("unreachable") > 0 {
                "unreachable"
            } else if n("failed") > 0 {
                "failed"
            } else if n("changed") > 0 {
                "changed"
            } else {
                "ok"
            };
            out.insert(
                host.clone(),
                HostResult {
                    status: status.into(),
                    msg: String::new(),
                },
            );
        }
    }
    for play in doc["plays"].as_array().into_iter().flatten() {
        for task in play["tasks"].as_array().into_iter().flatten() {
            for h in task["hosts"].as_array().into_iter().flatten() {
                let (Some(host), Some(st)) = (h["host"].as_str(), h["status"].as_str()) else {
                    continue;
                };
                if matches!(st, "failed" | "unreachable") {
                    if let Some(r) = out.get_mut(host) {
                        if r.msg.is_empty() {
                            r.msg = h["msg"].as_str().unwrap_or("").to_string();
                        }
                    }
                }
            }
        }
    }
    out
}

impl App {
    fn job_names(&self) -> Vec<&str> {
        self.ctx.jobs.iter().map(|j| j.name.as_str()).collect()
    }

    /// Host results of a finished run (cached).
    fn run_hosts(&self, job: &str, id: &str) -> HostResults {
        let key = (job.to_string(), id.to_string());
        if let Some(r) = lock(&self.run_hosts).get(&key) {
            return Arc::clone(r);
        }
        let parsed = runs::report(&self.ctx.runs_dir, job, id, MAX_SUMMARY_CHARS)
            .map(|d| host_results(&d))
            .unwrap_or_default();
        let parsed = Arc::new(parsed);
        let mut cache = lock(&self.run_hosts);
        if cache.len() > 256 {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&parsed));
        parsed
    }

    /// The newest finished runs (with a report) of the jobs writing store `i`.
    fn store_runs(&self, i: usize) -> Vec<runs::RunMeta> {
        let Some(s) = self.stores.get(i) else {
            return Vec::new();
        };
        let jobs: Vec<&str> = s.jobs.iter().map(String::as_str).collect();
        runs::list(&self.ctx.runs_dir, &jobs, RUNS_FOR_STATUS * 4)
            .into_iter()
            .filter(|r| r.report && r.outcome.result != "running")
            .take(RUNS_FOR_STATUS)
            .collect()
    }

    /// Each host's result in the newest of those runs that has it.
    fn device_status(&self, i: usize) -> HashMap<String, (HostResult, String)> {
        let mut out: HashMap<String, (HostResult, String)> = HashMap::new();
        for r in self.store_runs(i) {
            for (h, res) in self.run_hosts(&r.job, &r.id).iter() {
                out.entry(h.clone())
                    .or_insert_with(|| (res.clone(), r.outcome.started.clone()));
            }
        }
        out
    }

    /// When each device of store `i` last changed (index kept up to date incrementally).
    fn last_changes(&self, i: usize, reader: &StoreReader) -> Option<super::history::LastChanges> {
        let prev = lock(&self.last_changes).get(i).cloned().flatten();
        match reader.last_changes(LAST_CHANGE_BUDGET, prev.as_ref()) {
            Ok(lc) => {
                if let Some(slot) = lock(&self.last_changes).get_mut(i) {
                    *slot = Some(lc.clone());
                }
                Some(lc)
            }
            Err(e) => {
                tracing::warn!("{e}");
                prev
            }
        }
    }

    fn host_info(&self, name: &str) -> HostInfo {
        lock(&self.inventory).get(name).cloned().unwrap_or_default()
    }
}

/// Run blocking work (git, reports) off the runtime, a few at a time.
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(Arc<App>) -> T + Send + 'static,
) -> Option<T> {
    let _permit = Arc::clone(&app.heavy).acquire_owned().await.ok()?;
    let app = Arc::clone(app);
    tokio::task::spawn_blocking(move || f(app)).await.ok()
}

/// A device's name: its file's name without the extension.
fn device_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => file.to_string(),
    }
}

// ---------------------------------------------------------------- overview

#[derive(Serialize)]
struct Failure {
    job: String,
    id: String,
    started: String,
    error: String,
}

pub(crate) async fn overview(State(app): AppState, Extension(who): Extension<Who>) -> Response {
    let status = lock(&app.ctx.status).clone();
    let data = blocking(&app, |app| {
        let mut devices = 0usize;
        let mut changed_24h = 0usize;
        let mut failing = 0usize;
        let cutoff = now() - 86_400;
        for i in 0..app.stores.len() {
            let Ok(reader) = StoreReader::open(&app.stores[i].root) else {
                continue;
            };
            let files = reader.files().unwrap_or_default();
            devices += files.len();
            if let Some(lc) = app.last_changes(i, &reader) {
                changed_24h += lc.times.values().filter(|t| **t >= cutoff).count();
            }
            failing += app
                .device_status(i)
                .values()
                .filter(|(r, _)| matches!(r.status.as_str(), "failed" | "unreachable"))
                .count();
        }
        let failures: Vec<Failure> = runs::list(&app.ctx.runs_dir, &app.job_names(), 50)
            .into_iter()
            .filter(|r| !matches!(r.outcome.result.as_str(), "ok" | "running"))
            .take(10)
            .map(|r| Failure {
                job: r.job,
                id: r.id,
                started: r.outcome.started,
                error: r.outcome.error.unwrap_or_else(|| r.outcome.result.clone()),
            })
            .collect();
        (devices, changed_24h, failing, failures)
    })
    .await;
    let Some((devices, changed_24h, failing, failures)) = data else {
        return busy(&app, &who);
    };
    let jobs: Vec<&crate::schedule::status::JobStatus> = status.jobs.values().collect();
    render(
        &app,
        StatusCode::OK,
        "overview.html",
        context! { who => who, title => "Overview", nav => "overview", status => status.clone(),
        jobs => jobs, devices => devices, changed_24h => changed_24h,
        failing => failing, failures => failures,
        actions => app.ctx.actions.is_some() },
    )
}

// ---------------------------------------------------------------- devices

#[derive(Deserialize)]
pub(crate) struct DevicesQuery {
    q: Option<String>,
    sort: Option<String>,
    desc: Option<String>,
}

#[derive(Serialize, Clone)]
pub(crate) struct DeviceRow {
    store: usize,
    path: String,
    name: String,
    platform: String,
    group: String,
    last_change: Option<i64>,
    status: String,
    msg: String,
    last_run: String,
}

/// Every device of every store, filtered and sorted as asked.
pub(crate) fn device_rows(app: &App, q: &str, sort: &str, desc: bool) -> (Vec<DeviceRow>, usize) {
    let q = q.trim().to_lowercase();
    let mut rows = Vec::new();
    let mut total = 0;
    let inventory = lock(&app.inventory).clone();
    let expected = lock(&app.expected).clone();
    for (i, s) in app.stores.iter().enumerate() {
        let files = StoreReader::open(&s.root)
            .and_then(|r| Ok((r.files()?, r)))
            .ok();
        let (files, lc) = match files {
            Some((files, reader)) => {
                let lc = app.last_changes(i, &reader).unwrap_or_default();
                (files, lc)
            }
            None => (Vec::new(), Default::default()),
        };
        let status = app.device_status(i);
        // Hosts the store's jobs cover that have no file in it: never backed up.
        let names: std::collections::HashSet<String> =
            files.iter().map(|p| device_name(p)).collect();
        let missing: Vec<String> = expected
            .get(i)
            .into_iter()
            .flatten()
            .filter(|h| !names.contains(*h))
            .cloned()
            .collect();
        total += files.len() + missing.len();
        let entries = files
            .into_iter()
            .map(|p| (device_name(&p), p))
            .chain(missing.into_iter().map(|h| (h, String::new())));
        for (name, path) in entries {
            let info = inventory.get(&name).cloned().unwrap_or_default();
            if !q.is_empty()
                && !name.to_lowercase().contains(&q)
                && !info.platform.to_lowercase().contains(&q)
                && !info.group.to_lowercase().contains(&q)
                && !path.to_lowercase().contains(&q)
            {
                continue;
            }
            let (mut status, msg, last_run) = match status.get(&name) {
                Some((r, t)) => (r.status.clone(), r.msg.clone(), t.clone()),
                None => (String::new(), String::new(), String::new()),
            };
            if path.is_empty() && status.is_empty() {
                status = "no backup".into();
            }
            rows.push(DeviceRow {
                store: i,
                last_change: lc.times.get(&path).copied(),
                path,
                name,
                platform: info.platform,
                group: info.group,
                status,
                msg,
                last_run,
            });
        }
    }
    match sort {
        "platform" => rows.sort_by(|a, b| a.platform.cmp(&b.platform).then(a.name.cmp(&b.name))),
        "group" => rows.sort_by(|a, b| a.group.cmp(&b.group).then(a.name.cmp(&b.name))),
        "change" => {
            rows.sort_by(|a, b| a.last_change.cmp(&b.last_change).then(a.name.cmp(&b.name)))
        }
        "status" => rows.sort_by(|a, b| a.status.cmp(&b.status).then(a.name.cmp(&b.name))),
        "run" => rows.sort_by(|a, b| a.last_run.cmp(&b.last_run).then(a.name.cmp(&b.name))),
        _ => rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.store.cmp(&b.store))),
    }
    if desc {
        rows.reverse();
    }
    (rows, total)
}

pub(crate) async fn devices(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Query(q): Query<DevicesQuery>,
) -> Response {
    let text = q.q.clone().unwrap_or_default();
    let sort = q
        .sort
        .as_deref()
        .filter(|s| ["name", "platform", "group", "change", "status", "run"].contains(s))
        .unwrap_or("name")
        .to_string();
    let desc = q.desc.is_some();
    let (t2, s2) = (text.clone(), sort.clone());
    let Some((rows, total)) = blocking(&app, move |app| device_rows(&app, &t2, &s2, desc)).await
    else {
        return busy(&app, &who);
    };
    let multi = app.stores.len() > 1;
    render(
        &app,
        StatusCode::OK,
        "devices.html",
        context! { who => who, title => "Devices", nav => "devices", rows => rows,
        total => total, q => text, sort => sort, desc => desc, multi => multi,
        no_stores => app.stores.is_empty() },
    )
}

// ---------------------------------------------------------------- one device

fn store_root(app: &App, store: usize) -> Option<PathBuf> {
    app.stores.get(store).map(|s| s.root.clone())
}

fn history_error(app: &App, who: &Who, e: HistoryError) -> Response {
    match e {
        HistoryError::BadRevision { .. } => {
            error_page(app, Some(who), StatusCode::NOT_FOUND, &e.to_string())
        }
        HistoryError::Git { .. } => {
            tracing::warn!("{e}");
            error_page(
                app,
                Some(who),
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
            )
        }
    }
}

#[derive(Serialize)]
struct RecentRun {
    job: String,
    id: String,
    started: String,
    status: String,
    msg: String,
}

pub(crate) async fn device(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Path((store, path)): Path<(usize, String)>,
) -> Response {
    let Some(root) = store_root(&app, store) else {
        return not_found_page(&app, &who);
    };
    let p2 = path.clone();
    let result = blocking(&app, move |app| {
        let reader = StoreReader::open(&root)?;
        let Some(head) = reader.head()? else {
            return Ok(None);
        };
        let Some(text) = reader.read_at(head, &p2)? else {
            return Ok(None);
        };
        let page = reader.history(&p2, None, 10, 2_000)?;
        let name = device_name(&p2);
        let mut recent = Vec::new();
        for r in app.store_runs(store) {
            if let Some(h) = app.run_hosts(&r.job, &r.id).get(&name) {
                recent.push(RecentRun {
                    job: r.job.clone(),
                    id: r.id.clone(),
                    started: r.outcome.started.clone(),
                    status: h.status.clone(),
                    msg: h.msg.clone(),
                });
            }
        }
        Ok(Some((text, page, recent, head.to_string())))
    })
    .await;
    let (text, page, recent, head) = match found(&app, &who, result) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let name = device_name(&path);
    let info = app.host_info(&name);
    let lines = if text.len() <= MAX_HIGHLIGHT_BYTES {
        highlight::config(&info.platform, &text)
    } else {
        text.lines()
            .map(|l| vec![highlight::Piece("", l.to_string())])
            .collect()
    };
    let backup_job = app.stores.get(store).and_then(|s| s.jobs.first()).cloned();
    render(
        &app,
        StatusCode::OK,
        "device.html",
        context! { who => who, title => name.clone(), nav => "devices", name => name,
        store => store, path => path, platform => info.platform,
        group => info.group, lines => lines, versions => page.versions,
        more => page.next.is_some(), recent => recent, head => head,
        backup_job => backup_job, actions => app.ctx.actions.is_some(),
        bytes => text.len() },
    )
}

/// The pool had no room for the request's blocking work.
fn busy(app: &App, who: &Who) -> Response {
    error_page(
        app,
        Some(who),
        StatusCode::SERVICE_UNAVAILABLE,
        "Busy; try again.",
    )
}

/// A git read done on the blocking pool: its value, or the page that says why there is
/// none (busy, no such device or revision, the store's error).
fn found<T>(
    app: &App,
    who: &Who,
    result: Option<Result<Option<T>, HistoryError>>,
) -> Result<T, Response> {
    match result {
        Some(Ok(Some(x))) => Ok(x),
        Some(Ok(None)) => Err(not_found_page(app, who)),
        Some(Err(e)) => Err(history_error(app, who, e)),
        None => Err(busy(app, who)),
    }
}

fn not_found_page(app: &App, who: &Who) -> Response {
    error_page(
        app,
        Some(who),
        StatusCode::NOT_FOUND,
        "There is no such device or version.",
    )
}

#[derive(Deserialize)]
pub(crate) struct HistoryQuery {
    from: Option<String>,
}

pub(crate) async fn history(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Path((store, path)): Path<(usize, String)>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let Some(root) = store_root(&app, store) else {
        return not_found_page(&app, &who);
    };
    let p2 = path.clone();
    let from = q.from.clone();
    let result = blocking(&app, move |_| {
        let reader = StoreReader::open(&root)?;
        let from = match from.as_deref() {
            Some(f) => Some(reader.resolve(f)?),
            None => None,
        };
        if from.is_none() {
            // The newest page of a device that is not in the store is a 404.
            match reader.head()? {
                Some(h) if reader.read_at(h, &p2)?.is_some() => {}
                _ => return Ok(None),
            }
        }
        reader.history(&p2, from, PER_PAGE, SCAN_BUDGET).map(Some)
    })
    .await;
    let page = match found(&app, &who, result) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let name = device_name(&path);
    render(
        &app,
        StatusCode::OK,
        "history.html",
        context! { who => who, title => format!("{name}: history"), nav => "devices",
        name => name, store => store, path => path, page => page,
        first => q.from.is_none() },
    )
}

#[derive(Deserialize)]
pub(crate) struct DiffQuery {
    a: Option<String>,
    b: Option<String>,
    mode: Option<String>,
}

pub(crate) async fn diff(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Path((store, path)): Path<(usize, String)>,
    Query(q): Query<DiffQuery>,
) -> Response {
    let Some(root) = store_root(&app, store) else {
        return not_found_page(&app, &who);
    };
    let split = q.mode.as_deref() == Some("split");
    let p2 = path.clone();
    let (qa, qb) = (q.a.clone(), q.b.clone());
    let result = blocking(&app, move |_| {
        let reader = StoreReader::open(&root)?;
        let b = reader.resolve(qb.as_deref().filter(|s| !s.is_empty()).unwrap_or("HEAD"))?;
        let a = match qa.as_deref().filter(|s| !s.is_empty()) {
            Some(a) => Some(reader.resolve(a)?),
            None => reader.previous_version(&p2, b, SCAN_BUDGET)?,
        };
        let new = reader.read_at(b, &p2)?;
        let old = match a {
            Some(a) => reader.read_at(a, &p2)?,
            None => None,
        };
        if new.is_none() && old.is_none() {
            return Ok(None);
        }
        let (old, new) = (old.unwrap_or_default(), new.unwrap_or_default());
        let (rows, added, removed) = highlight::unified(&old, &new, 3);
        let split_rows = if split {
            highlight::split(&old, &new, 3)
        } else {
            Vec::new()
        };
        let ta = a.map(|a| reader.commit_time(a)).transpose()?;
        let tb = reader.commit_time(b)?;
        Ok(Some((
            a.map(|a| a.to_string()),
            b.to_string(),
            ta,
            tb,
            rows,
            split_rows,
            added,
            removed,
        )))
    })
    .await;
    let (a, b, ta, tb, rows, split_rows, added, removed) = match found(&app, &who, result) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let name = device_name(&path);
    render(
        &app,
        StatusCode::OK,
        "diff.html",
        context! { who => who, title => format!("{name}: diff"), nav => "devices",
        name => name, store => store, path => path, a => a, b => b,
        ta => ta, tb => tb, rows => rows, split_rows => split_rows,
        split => split, added => added, removed => removed },
    )
}

#[derive(Deserialize)]
pub(crate) struct RawQuery {
    rev: Option<String>,
}

pub(crate) async fn raw(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Path((store, path)): Path<(usize, String)>,
    Query(q): Query<RawQuery>,
) -> Response {
    let Some(root) = store_root(&app, store) else {
        return not_found_page(&app, &who);
    };
    let p2 = path.clone();
    let result = blocking(&app, move |_| {
        let reader = StoreReader::open(&root)?;
        let rev = reader.resolve(q.rev.as_deref().filter(|s| !s.is_empty()).unwrap_or("HEAD"))?;
        reader.read_at(rev, &p2)
    })
    .await;
    let text = match found(&app, &who, result) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let file: String = path
        .rsplit('/')
        .next()
        .unwrap_or("config.cfg")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut r = ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

// ---------------------------------------------------------------- runs

#[derive(Deserialize)]
pub(crate) struct RunsQuery {
    job: Option<String>,
    result: Option<String>,
}

pub(crate) async fn runs(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Query(q): Query<RunsQuery>,
) -> Response {
    let job = q
        .job
        .clone()
        .filter(|j| app.ctx.jobs.iter().any(|x| &x.name == j));
    let result = q.result.clone().filter(|r| !r.is_empty());
    let (j2, r2) = (job.clone(), result.clone());
    let list = blocking(&app, move |app| {
        let names: Vec<&str> = match &j2 {
            Some(j) => vec![j.as_str()],
            None => app.job_names(),
        };
        runs::list(&app.ctx.runs_dir, &names, 500)
            .into_iter()
            .filter(|r| r2.as_deref().is_none_or(|x| r.outcome.result == x))
            .take(200)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let jobs = app.job_names();
    let any_running = list.iter().any(|r| r.outcome.result == "running");
    render(
        &app,
        StatusCode::OK,
        "runs.html",
        context! { who => who, title => "Runs", nav => "runs", runs => list, jobs => jobs,
        any_running => any_running,
        job => job, result => result },
    )
}

#[derive(Serialize)]
struct TaskView {
    play: String,
    task: String,
    status: String,
    msg: String,
    duration_ms: u64,
    commands: Vec<(String, String)>,
    diff: String,
    /// What the task returned (`data`), as JSON.
    data: String,
    cut: bool,
}

#[derive(Serialize)]
struct HostView {
    host: String,
    status: String,
    tasks: Vec<TaskView>,
}

fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        (s.to_string(), false)
    } else {
        (s.chars().take(max).collect(), true)
    }
}

/// The report's results grouped by host, in report order.
/// Every host of a run, by name: its status and its tasks' statuses, for the filter counts
/// and the choice of a page (no output copied).
fn host_statuses(doc: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    let mut tasks: HashMap<String, Vec<String>> = HashMap::new();
    for play in doc["plays"].as_array().into_iter().flatten() {
        for task in play["tasks"].as_array().into_iter().flatten() {
            for h in task["hosts"].as_array().into_iter().flatten() {
                if let Some(host) = h["host"].as_str() {
                    let st = h["status"].as_str().unwrap_or("").to_string();
                    tasks.entry(host.to_string()).or_default().push(st);
                }
            }
        }
    }
    let summary = host_results(doc);
    let mut hosts: Vec<String> = summary.keys().cloned().collect();
    hosts.extend(tasks.keys().filter(|h| !summary.contains_key(*h)).cloned());
    hosts.sort();
    hosts
        .into_iter()
        .map(|h| {
            let status = summary
                .get(&h)
                .map(|r| r.status.clone())
                .unwrap_or_default();
            let t = tasks.remove(&h).unwrap_or_default();
            (h, status, t)
        })
        .collect()
}

/// Each host's tasks, outputs cut to `max_chars` (the report was read cut to one more);
/// only the hosts in `only`, when given (a page of a 10,000-host run shows 2,000).
fn hosts_of(
    doc: &serde_json::Value,
    max_chars: usize,
    only: Option<&std::collections::HashSet<String>>,
) -> Vec<HostView> {
    let wanted = |h: &str| only.is_none_or(|o| o.contains(h));
    let summary = host_results(doc);
    let mut order: Vec<String> = Vec::new();
    let mut by_host: HashMap<String, Vec<TaskView>> = HashMap::new();
    for play in doc["plays"].as_array().into_iter().flatten() {
        let pname = play["name"].as_str().unwrap_or("").to_string();
        for task in play["tasks"].as_array().into_iter().flatten() {
            let tname = task["name"].as_str().unwrap_or("").to_string();
            for h in task["hosts"].as_array().into_iter().flatten() {
                let Some(host) = h["host"].as_str().filter(|h| wanted(h)) else {
                    continue;
                };
                let mut any_cut = false;
                let commands = h["commands"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        let out = match &c["output"] {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => {
                                c["error"].as_str().unwrap_or("").to_string()
                            }
                            other => other.to_string(),
                        };
                        let (out, was_cut) = cut(&out, max_chars);
                        any_cut |= was_cut;
                        (c["command"].as_str().unwrap_or("").to_string(), out)
                    })
                    .collect();
                let diff = match &h["diff"] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                let (diff, was_cut) = cut(&diff, max_chars);
                any_cut |= was_cut;
                let data = match &h["data"] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::Object(m) if m.is_empty() => String::new(),
                    v => serde_json::to_string_pretty(v).unwrap_or_default(),
                };
                let (data, was_cut) = cut(&data, max_chars);
                any_cut |= was_cut;
                // `debug` and `fail` say what they have to say in `data.msg`.
                let msg = match (h["msg"].as_str(), h["data"]["msg"].as_str()) {
                    (Some(m), _) if !m.is_empty() => m.to_string(),
                    (_, Some(m)) => m.to_string(),
                    _ => String::new(),
                };
                if !by_host.contains_key(host) {
                    order.push(host.to_string());
                }
                by_host.entry(host.to_string()).or_default().push(TaskView {
                    play: pname.clone(),
                    task: tname.clone(),
                    status: h["status"].as_str().unwrap_or("").to_string(),
                    msg,
                    duration_ms: h["duration_ms"].as_u64().unwrap_or(0),
                    commands,
                    diff,
                    data,
                    cut: any_cut,
                });
            }
        }
    }
    for h in summary.keys() {
        if !by_host.contains_key(h) && wanted(h) {
            order.push(h.clone());
        }
    }
    order.sort();
    order
        .into_iter()
        .map(|h| HostView {
            status: summary
                .get(&h)
                .map(|r| r.status.clone())
                .unwrap_or_default(),
            tasks: by_host.remove(&h).unwrap_or_default(),
            host: h,
        })
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct RunQuery {
    status: Option<String>,
    /// 1-based page of hosts (`MAX_RUN_HOSTS` a page); anything else is the first.
    page: Option<String>,
}

pub(crate) async fn run(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Path((job, id)): Path<(String, String)>,
    Query(q): Query<RunQuery>,
) -> Response {
    if !app.ctx.jobs.iter().any(|j| j.name == job) || !runs::valid_id(&id) {
        return error_page(
            &app,
            Some(&who),
            StatusCode::NOT_FOUND,
            "There is no such run.",
        );
    }
    let (j2, i2) = (job.clone(), id.clone());
    let loaded = blocking(&app, move |app| {
        let meta = runs::load(&app.ctx.runs_dir, &j2, &i2)?;
        let chars = if runs::report_size(&app.ctx.runs_dir, &j2, &i2) > LARGE_REPORT_BYTES {
            MAX_OUTPUT_CHARS_LARGE
        } else {
            MAX_OUTPUT_CHARS
        };
        let doc = if meta.report {
            runs::report(&app.ctx.runs_dir, &j2, &i2, chars)
        } else {
            None
        };
        Some((meta, doc, chars))
    })
    .await
    .flatten();
    let Some((meta, doc, chars)) = loaded else {
        return error_page(
            &app,
            Some(&who),
            StatusCode::NOT_FOUND,
            "There is no such run.",
        );
    };
    let filter = q.status.clone().filter(|s| !s.is_empty());
    // Every host's statuses first (no output kept), then the full view of those shown.
    let all = doc.as_ref().map(host_statuses).unwrap_or_default();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, status, _) in &all {
        *counts.entry(status.clone()).or_default() += 1;
    }
    let matching: Vec<&String> = all
        .iter()
        .filter(|(_, status, tasks)| {
            filter
                .as_ref()
                .is_none_or(|f| status == f || tasks.iter().any(|t| t == f))
        })
        .map(|(host, _, _)| host)
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(MAX_RUN_HOSTS).max(1);
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let shown: std::collections::HashSet<String> = matching
        .iter()
        .skip((page - 1) * MAX_RUN_HOSTS)
        .take(MAX_RUN_HOSTS)
        .map(|h| (*h).clone())
        .collect();
    let first = ((page - 1) * MAX_RUN_HOSTS + 1).min(total);
    let last = (page * MAX_RUN_HOSTS).min(total);
    drop(all);
    let hosts = doc
        .as_ref()
        .map(|d| hosts_of(d, chars, Some(&shown)))
        .unwrap_or_default();
    let backups = doc
        .as_ref()
        .and_then(|d| d["backups"].as_array().cloned())
        .unwrap_or_default();
    let rollback = doc
        .as_ref()
        .and_then(|d| d["rollback_run"].as_str().map(str::to_string));
    let running = meta.outcome.result == "running";
    render(
        &app,
        StatusCode::OK,
        "run.html",
        context! { who => who, title => format!("{job}: run {id}"), nav => "runs",
        meta => meta, hosts => hosts, counts => counts, filter => filter,
        page => page, pages => pages, first => first, last => last, total => total,
        backups => backups, running => running,
        rollback => rollback, has_report => doc.is_some() },
    )
}

// ---------------------------------------------------------------- actions

#[derive(Deserialize)]
pub(crate) struct RunJobForm {
    job: String,
    csrf: String,
}

fn may_act(app: &App, who: &Who, csrf: &str) -> Result<(), Response> {
    if !app.ctx.settings.auth_enabled() {
        return Err(error_page(
            app,
            Some(who),
            StatusCode::FORBIDDEN,
            "Actions need an authenticated operator: configure users under `web:` in the schedule.",
        ));
    }
    if who.csrf.is_empty()
        || csrf.is_empty()
        || !auth::constant_time_eq(csrf.as_bytes(), who.csrf.as_bytes())
    {
        return Err(error_page(
            app,
            Some(who),
            StatusCode::FORBIDDEN,
            "Missing or wrong CSRF token.",
        ));
    }
    if !who.operator {
        return Err(error_page(
            app,
            Some(who),
            StatusCode::FORBIDDEN,
            "Only operators may start runs; your role is read-only.",
        ));
    }
    Ok(())
}

async fn ask_daemon(app: &Arc<App>, who: &Who, job: &str, limit: Option<String>) -> Response {
    let Some(tx) = app.ctx.actions.clone() else {
        return error_page(
            app,
            Some(who),
            StatusCode::SERVICE_UNAVAILABLE,
            "Actions are not available.",
        );
    };
    let (reply, rx) = tokio::sync::oneshot::channel();
    let req = super::ActionRequest {
        job: job.to_string(),
        limit,
        requested_by: who.name.clone(),
        reply,
    };
    if tx.send(req).await.is_err() {
        return error_page(
            app,
            Some(who),
            StatusCode::SERVICE_UNAVAILABLE,
            "The daemon is shutting down.",
        );
    }
    match tokio::time::timeout(ACTION_WAIT, rx).await {
        Ok(Ok(Ok(id))) => Redirect::to(&format!(
            "/runs/{}/{}",
            encode(job, false),
            encode(&id, false)
        ))
        .into_response(),
        Ok(Ok(Err(why))) => error_page(app, Some(who), StatusCode::CONFLICT, &why),
        _ => error_page(
            app,
            Some(who),
            StatusCode::SERVICE_UNAVAILABLE,
            "The daemon did not answer in time.",
        ),
    }
}

pub(crate) async fn run_job(
    State(app): AppState,
    Extension(who): Extension<Who>,
    Form(f): Form<RunJobForm>,
) -> Response {
    if let Err(r) = may_act(&app, &who, &f.csrf) {
        return r;
    }
    if !app.ctx.jobs.iter().any(|j| j.name == f.job) {
        return error_page(
            &app,
            Some(&who),
            StatusCode::NOT_FOUND,
            "There is no such job.",
        );
    }
    ask_daemon(&app, &who, &f.job, None).await
}

#[derive(Deserialize)]
pub(crate) struct BackupForm {
    store: usize,
    path: String,
    csrf: String,
}

/// A host name that is one host and nothing else as a `--limit` pattern.
fn plain_host(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['@', '~', '!', '&'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub(crate) async fn backup_device(
    State(app): AppState,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    Form(f): Form<BackupForm>,
) -> Response {
    let _ = headers;
    if let Err(r) = may_act(&app, &who, &f.csrf) {
        return r;
    }
    let Some(job) = app
        .stores
        .get(f.store)
        .and_then(|s| s.jobs.first())
        .cloned()
    else {
        return error_page(
            &app,
            Some(&who),
            StatusCode::NOT_FOUND,
            "There is no such store.",
        );
    };
    let name = device_name(&f.path);
    if !plain_host(&name) {
        return error_page(
            &app,
            Some(&who),
            StatusCode::BAD_REQUEST,
            "This device's name is not a plain host name; back it up with its job instead.",
        );
    }
    ask_daemon(&app, &who, &job, Some(name)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_page_builds_only_the_hosts_it_shows_with_outputs_cut() {
        let host = |name: &str, status: &str| {
            serde_json::json!({"host": name, "status": status, "duration_ms": 3,
                "commands": [{"command": "show run", "output": "x".repeat(40)}]})
        };
        let doc = serde_json::json!({
            "plays": [{"name": "p", "tasks": [{"name": "t", "hosts": [
                host("c", "ok"), host("a", "failed"), host("b", "ok")]}]}],
            "stats": {"a": {"failed": 1}, "b": {"ok": 1}, "c": {"ok": 1}, "d": {"unreachable": 1}}
        });
        let all = host_statuses(&doc);
        let names: Vec<&str> = all.iter().map(|h| h.0.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(all[0].1, "failed");
        assert_eq!(all[0].2, ["failed"]);
        assert_eq!(all[3].1, "unreachable");
        assert!(all[3].2.is_empty());
        assert_eq!(hosts_of(&doc, 0, None).len(), 4);
        let only: std::collections::HashSet<String> = ["b".to_string()].into();
        let shown = hosts_of(&doc, 10, Some(&only));
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].tasks[0].commands[0].1, "x".repeat(10));
        assert!(shown[0].tasks[0].cut);
    }

    #[test]
    fn names_and_encoding() {
        assert_eq!(device_name("ams/core-ams-1.cfg"), "core-ams-1");
        assert_eq!(device_name("x"), "x");
        assert_eq!(encode("a b/<c>", true), "a%20b/%3Cc%3E");
        assert_eq!(encode("a/b", false), "a%2Fb");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/devices?q=x")), "/devices?q=x");
        assert!(plain_host("core-ams-1"));
        assert!(!plain_host("core*"));
        assert!(!plain_host("a,b"));
    }
}
