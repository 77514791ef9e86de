//! The scheduling daemon (`netorch daemon --config schedule.yml`): runs playbooks and backups
//! on cron expressions or intervals, keeps a JSON status file, and serves `/status` and
//! `/metrics` when asked.
//!
//! Each run is a child process (`netorch run ... --json` / `netorch backup ... --json`)
//! rather than a call into the library, because:
//! - `cli::run::execute` owns a tokio runtime and a Ctrl-C handler of its own; a child keeps
//!   both out of the daemon;
//! - isolation: an ssh2 worker stuck in a dead TCP session, or a run's memory, ends with its
//!   process, never leaks into a daemon that runs for months;
//! - cancellation is a signal: SIGINT makes a run stop starting hosts, finish the running
//!   ones and commit what it gathered; SIGKILL after that is still safe, because the backup
//!   store only ever moves its branch ref after a complete commit.
//!
//! Children get their own process group, so a terminal's Ctrl-C reaches only the daemon,
//! which decides what the children get. Shutdown (SIGTERM/SIGINT): no new runs; running
//! ones get the grace period to finish, then SIGINT, then SIGKILL; exit 0.

pub mod config;
pub mod http;
pub mod status;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

pub use config::{load, Job, Schedule, When};
use status::{DaemonStatus, JobStatus, ReportBrief, RunOutcome};

/// After the grace period and SIGINT, how long a run gets to commit what it gathered
/// before SIGKILL.
const CANCEL_WAIT: Duration = Duration::from_secs(20);

/// The most of the previous daemon's status file read.
const MAX_STATUS_BYTES: u64 = 64 << 20;
/// The most of a run's stderr kept (its head and its end).
const MAX_STDERR_BYTES: u64 = 256 << 10;
/// How long a finished run's pipes may stay open (held by something it left behind).
const PIPE_LINGER: Duration = Duration::from_secs(2);

/// How late a tick may fire and still count as on time; later ones (the machine slept)
/// are dropped rather than replayed.
const LATE_TOLERANCE_SECS: i64 = 5;

pub struct DaemonOptions {
    pub schedule: Schedule,
    pub listen: Option<SocketAddr>,
    /// The netorch executable the runs use.
    pub exe: PathBuf,
}

struct Shared {
    status: Arc<Mutex<DaemonStatus>>,
    status_file: PathBuf,
    /// Each run's meta and report (see [`crate::web::runs`]), the newest `keep_runs` per job.
    runs_dir: PathBuf,
    keep_runs: usize,
    exe: PathBuf,
    /// job name -> pid of its running child
    children: Mutex<HashMap<String, u32>>,
    running: watch::Sender<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut DaemonStatus)) {
        let json = {
            let mut st = lock(&self.status);
            f(&mut st);
            st.to_json()
        };
        if let Err(e) = crate::fs::write_atomic(&self.status_file, json.as_bytes()) {
            tracing::warn!(
                "cannot write the status file {}: {e}",
                self.status_file.display()
            );
        }
    }

    fn job(&self, name: &str, f: impl FnOnce(&mut JobStatus)) {
        self.update(|st| {
            if let Some(j) = st.jobs.get_mut(name) {
                f(j);
            }
        });
    }
}

/// Run the daemon until SIGTERM or SIGINT; `Ok` after a clean shutdown.
pub fn run(opts: DaemonOptions) -> Result<(), crate::Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| crate::Error::Usage(format!("cannot start the runtime: {e}")))?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: DaemonOptions) -> Result<(), crate::Error> {
    let DaemonOptions {
        schedule,
        listen,
        exe,
    } = opts;
    // Signals first: a SIGTERM that arrives while starting up must not kill us mid-write.
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| crate::Error::Usage(format!("cannot watch SIGTERM: {e}")))?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| crate::Error::Usage(format!("cannot watch SIGINT: {e}")))?;

    // What the last daemon knew survives a restart (last runs, successes).
    let previous = previous_status(&schedule.status_file);
    let now = Utc::now();
    let mut st = DaemonStatus {
        netorch_version: crate::version::line(),
        pid: std::process::id(),
        started: rfc3339(now),
        schedule: schedule.path.display().to_string(),
        shutting_down: false,
        jobs: Default::default(),
    };
    for j in &schedule.jobs {
        let old = previous.as_ref().and_then(|p| p.jobs.get(&j.name));
        st.jobs.insert(
            j.name.clone(),
            JobStatus {
                name: j.name.clone(),
                kind: j.kind.into(),
                schedule: j.when.describe(),
                last_run: old.and_then(|o| o.last_run.clone()),
                last_success: old.and_then(|o| o.last_success.clone()),
                last_success_unix: old.and_then(|o| o.last_success_unix),
                ..Default::default()
            },
        );
    }
    if let Some(dir) = schedule
        .status_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
    }
    // Runs, their pipes and HTTP clients all take descriptors.
    match http::raise_fd_limit() {
        Ok(n) => tracing::debug!("open-file limit: {n}"),
        Err(e) => tracing::warn!("{e}"),
    }
    let (running_tx, mut running_rx) = watch::channel(0usize);
    let shared = Arc::new(Shared {
        status: Arc::new(Mutex::new(st)),
        status_file: schedule.status_file.clone(),
        exe,
        children: Mutex::new(HashMap::new()),
        running: running_tx,
        runs_dir: crate::web::runs::runs_dir(&schedule.status_file),
        keep_runs: schedule.web.keep_runs,
    });
    shared.update(|_| {});
    crate::web::runs::close_stale(&shared.runs_dir);

    let (server, actions) = match listen.or(schedule.web.listen) {
        Some(addr) => {
            let (tx, rx) = tokio::sync::mpsc::channel(16);
            let server = start_web(addr, &schedule, &shared, tx).await?;
            (
                Some(server),
                Some(tokio::spawn(serve_actions(
                    rx,
                    schedule.jobs.clone(),
                    Arc::clone(&shared),
                ))),
            )
        }
        None => (None, None),
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loops = Vec::new();
    for job in schedule.jobs.iter().cloned() {
        let last = previous
            .as_ref()
            .and_then(|p| p.jobs.get(&job.name))
            .and_then(|j| j.last_run.as_ref())
            .and_then(|r| DateTime::from_timestamp(r.started_unix, 0));
        loops.push(tokio::spawn(job_loop(
            job,
            Arc::clone(&shared),
            stop_rx.clone(),
            last,
        )));
    }
    tracing::info!(
        "daemon started: {} job(s) from {}; status in {}",
        schedule.jobs.len(),
        schedule.path.display(),
        schedule.status_file.display()
    );

    let sig = tokio::select! {
        _ = sigterm.recv() => "SIGTERM",
        _ = sigint.recv() => "SIGINT",
    };
    let in_flight = *running_rx.borrow();
    tracing::info!(
        "{sig}: no new runs; waiting up to {}s for {in_flight} running job(s)",
        schedule.grace.as_secs()
    );
    shared.update(|st| st.shutting_down = true);
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    let all_done = |rx: &mut watch::Receiver<usize>| {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|n| *n == 0).await;
        }
    };
    if tokio::time::timeout(schedule.grace, all_done(&mut running_rx))
        .await
        .is_err()
    {
        let pids: Vec<(String, u32)> = lock(&shared.children)
            .iter()
            .map(|(j, p)| (j.clone(), *p))
            .collect();
        for (job, pid) in &pids {
            tracing::warn!(
                "job {job}: still running after the grace period; interrupting it (pid {pid})"
            );
            signal(*pid, "INT");
        }
        if tokio::time::timeout(CANCEL_WAIT, all_done(&mut running_rx))
            .await
            .is_err()
        {
            for (job, pid) in lock(&shared.children).iter() {
                tracing::warn!("job {job}: killing pid {pid}");
                signal(*pid, "KILL");
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), all_done(&mut running_rx)).await;
        }
    }
    if let Some(s) = server {
        s.abort();
    }
    if let Some(a) = actions {
        a.abort();
    }
    shared.update(|st| {
        for j in st.jobs.values_mut() {
            j.next_run = None;
        }
    });
    tracing::info!("daemon stopped");
    Ok(())
}

/// Send a signal by name with the system's `kill` (the crate forbids `unsafe`, and so a
/// direct libc call).
fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The status the last daemon left. A file that cannot be read as one is not dropped in
/// silence: it is copied aside (`<file>.corrupt-<time>`) for whoever wants to know what
/// happened, and the log says so; the daemon starts afresh.
fn previous_status(path: &std::path::Path) -> Option<DaemonStatus> {
    let bytes = match crate::source::read_bounded(path, MAX_STATUS_BYTES) {
        Ok(b) => b,
        Err(_) if !path.exists() => return None,
        Err(e) => {
            tracing::warn!("cannot read the previous status: {e}; starting afresh");
            return None;
        }
    };
    let why = match serde_json::from_slice::<DaemonStatus>(&bytes) {
        Ok(st) => return Some(st),
        Err(e) => e,
    };
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{stamp}"));
    let aside = PathBuf::from(aside);
    match std::fs::copy(path, &aside) {
        Ok(_) => tracing::warn!(
            "the status file {} is damaged ({why}); kept a copy as {} and starting afresh",
            path.display(),
            aside.display()
        ),
        Err(e) => tracing::warn!(
            "the status file {} is damaged ({why}) and cannot be copied aside ({e}); \
             starting afresh",
            path.display()
        ),
    }
    None
}

/// SIGKILL to a run's whole process group.
fn kill_group(pgid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Read a pipe to its end, keeping at most `cap` bytes (head and tail).
async fn capture(mut pipe: impl tokio::io::AsyncRead + Unpin, cap: u64) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut kept = crate::transport::capture::Capped::new(cap);
    let mut buf = vec![0u8; 64 << 10];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.extend(&buf[..n]);
    }
    if kept.dropped() > 0 {
        kept.text().into_bytes()
    } else {
        kept.bytes().to_vec()
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A pseudo-random delay up to `max` (jitter needs spread, not cryptography).
fn jitter(max: Duration, seed: &mut u64) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    max.mul_f64((*seed % 10_000) as f64 / 10_000.0)
}

async fn job_loop(
    job: Job,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    last_run: Option<DateTime<Utc>>,
) {
    let mut seed = (std::process::id() as u64) << 32
        ^ Utc::now().timestamp_subsec_nanos() as u64
        ^ job
            .name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        | 1;
    let now = Utc::now();
    // A run missed while the daemon was down is replayed once, only when asked.
    if job.catch_up {
        if let Some(missed) = last_run
            .and_then(|l| job.when.next_after(l))
            .filter(|t| *t < now)
        {
            tracing::info!(
                "job {}: missed its run at {}; catching up now",
                job.name,
                rfc3339(missed)
            );
            let _ = start_run(&job, &shared, Origin::scheduled("catch-up"));
        }
    }
    let mut tick = now;
    loop {
        let Some(mut next) = job.when.next_after(tick) else {
            tracing::warn!("job {}: its schedule has no next run; it stops", job.name);
            return;
        };
        let now = Utc::now();
        if (now - next).num_seconds() > LATE_TOLERANCE_SECS {
            // The machine slept or the clock jumped: skip what was missed, do not replay.
            match job.when.next_after(now) {
                Some(n) => next = n,
                None => return,
            }
        }
        shared.job(&job.name, |j| j.next_run = Some(rfc3339(next)));
        let wait =
            (next - Utc::now()).to_std().unwrap_or(Duration::ZERO) + jitter(job.jitter, &mut seed);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        tick = next;
        if *stop.borrow() {
            return;
        }
        let _ = start_run(&job, &shared, Origin::scheduled("schedule"));
    }
}

/// Why a run starts: its schedule, or someone in the web interface.
struct Origin {
    trigger: &'static str,
    requested_by: Option<String>,
    /// A `--limit` replacing the job's own (one device backed up).
    limit: Option<String>,
}

impl Origin {
    fn scheduled(trigger: &'static str) -> Origin {
        Origin {
            trigger,
            requested_by: None,
            limit: None,
        }
    }
}

/// Start one run of `job` unless the previous one is still going (then log the skip);
/// the run's id, or why it did not start.
fn start_run(job: &Job, shared: &Arc<Shared>, origin: Origin) -> Result<String, String> {
    let busy = {
        let mut st = lock(&shared.status);
        match st.jobs.get_mut(&job.name) {
            Some(j) if j.running => {
                j.skipped += 1;
                true
            }
            Some(j) => {
                j.running = true;
                j.runs += 1;
                false
            }
            None => true,
        }
    };
    if busy {
        tracing::warn!("job {}: skipped: the previous run is still going", job.name);
        shared.update(|_| {});
        return Err(format!("job {}: the previous run is still going", job.name));
    }
    shared.running.send_modify(|n| *n += 1);
    let mut job = job.clone();
    if let Some(limit) = &origin.limit {
        job.args = with_limit(&job.args, limit);
    }
    let started = Utc::now();
    let mut id = crate::web::runs::new_id(started, 0);
    for seq in 1..100 {
        if crate::web::runs::load(&shared.runs_dir, &job.name, &id).is_none() {
            break;
        }
        id = crate::web::runs::new_id(started, seq);
    }
    let mut meta = crate::web::runs::RunMeta {
        id: id.clone(),
        job: job.name.clone(),
        kind: job.kind.to_string(),
        trigger: origin.trigger.to_string(),
        requested_by: origin.requested_by.clone(),
        limit: origin.limit.clone(),
        outcome: RunOutcome {
            started: rfc3339(started),
            started_unix: started.timestamp(),
            result: "running".into(),
            ..Default::default()
        },
        report: false,
    };
    if let Some(who) = &origin.requested_by {
        tracing::info!(
            "job {}: run {id} requested by `{who}` in the web interface{}",
            job.name,
            origin
                .limit
                .as_deref()
                .map(|l| format!(" (--limit {l})"))
                .unwrap_or_default()
        );
    }
    save_run(shared, &meta, None);
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let (mut outcome, report) = run_child(&job, &shared).await;
        if let Some(cfg) = &job.notify {
            // Read as the web reads it (strings cut past what a message shows), so a run of
            // any size is told with its changes and failures.
            let doc = report.as_ref().and_then(|p| {
                crate::web::runs::read_cut(p, crate::notify::summary::MAX_DIFF_BYTES)
            });
            outcome.notifications = notify_run(&job, cfg, &outcome, doc).await;
        }
        meta.outcome = outcome.clone();
        save_run(&shared, &meta, report);
        tracing::info!(
            "job {}: end: {} in {:.1}s: {} ok, {} changed, {} failed{}{}",
            job.name,
            outcome.result,
            outcome.duration_ms as f64 / 1000.0,
            outcome.ok,
            outcome.changed,
            outcome.failed,
            outcome
                .commit
                .as_deref()
                .map(|c| format!(", commit {}", &c[..c.len().min(10)]))
                .unwrap_or_default(),
            outcome
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        let partial = meta.limit.is_some();
        shared.job(&job.name, |j| {
            j.running = false;
            // One device backed up from the web interface is not the job's run: its last
            // run, last success and device counts (what alerts watch) stay the job's own.
            if partial {
                return;
            }
            if outcome.result == "ok" {
                j.last_success = Some(outcome.started.clone());
                j.last_success_unix = Some(outcome.started_unix);
            } else {
                j.failures += 1;
            }
            j.last_run = Some(outcome);
        });
        shared.running.send_modify(|n| *n = n.saturating_sub(1));
    });
    Ok(id)
}

/// Tell the job's notify targets about a finished run: its report's changes and failures,
/// or the run's own failure when it left no report (timed out, crashed, bad input).
async fn notify_run(
    job: &Job,
    cfg: &Arc<crate::notify::Config>,
    outcome: &RunOutcome,
    report: Option<serde_json::Value>,
) -> Vec<crate::notify::Delivery> {
    use crate::notify::RunSummary;
    let mut summary = match &report {
        Some(doc) => RunSummary::from_report(doc, &crate::secret::Redactor::new()),
        None => RunSummary::run_failed(&outcome.result, outcome.error.as_deref().unwrap_or("")),
    };
    summary.job = Some(job.name.clone());
    summary.kind = job.kind.to_string();
    summary.started.clone_from(&outcome.started);
    summary.duration_ms = outcome.duration_ms;
    match outcome.result.as_str() {
        // A run stopped by the daemon's shutdown is not news; what it committed is.
        "cancelled" => summary.error = None,
        "ok" => {}
        other => {
            summary.result = other.to_string();
            if summary.failed.is_empty() && summary.error.is_none() {
                summary.error.clone_from(&outcome.error);
            }
        }
    }
    let cfg = Arc::clone(cfg);
    let deliveries = tokio::task::spawn_blocking(move || crate::notify::notify(&cfg, &summary))
        .await
        .unwrap_or_default();
    for line in crate::notify::failure_lines(&deliveries) {
        tracing::warn!("job {}: {line}", job.name);
    }
    deliveries
}

/// Keep a run's meta (and report) for the web interface; a failure is logged, never fatal.
fn save_run(shared: &Shared, meta: &crate::web::runs::RunMeta, report: Option<tempfile::TempPath>) {
    if let Err(e) = crate::web::runs::save(&shared.runs_dir, meta, report, shared.keep_runs) {
        tracing::warn!(
            "job {}: cannot keep the run in {}: {e}",
            meta.job,
            shared.runs_dir.display()
        );
    }
}

/// A job's command line with its `--limit` replaced.
fn with_limit(args: &[String], limit: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--limit" {
            it.next();
            continue;
        }
        if a == "--json" {
            out.extend(["--limit".to_string(), limit.to_string()]);
        }
        out.push(a.clone());
    }
    out
}

/// Serve the web interface (and `/status`, `/metrics`) on `addr`.
async fn start_web(
    addr: SocketAddr,
    schedule: &Schedule,
    shared: &Arc<Shared>,
    actions: tokio::sync::mpsc::Sender<crate::web::ActionRequest>,
) -> Result<tokio::task::JoinHandle<()>, crate::Error> {
    let web = &schedule.web;
    let setup = |e: crate::web::WebError| crate::Error::Usage(e.to_string());
    let tls = match &web.tls {
        Some((cert, key)) => Some(crate::web::tls_acceptor(cert, key).map_err(setup)?),
        None => None,
    };
    let listener = crate::web::bind(addr, web).await.map_err(setup)?;
    let router = crate::web::router(crate::web::WebContext {
        status: Arc::clone(&shared.status),
        jobs: schedule.jobs.clone(),
        runs_dir: shared.runs_dir.clone(),
        settings: web.clone(),
        actions: Some(actions),
    })
    .map_err(setup)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        "web interface, /status and /metrics on {scheme}://{addr}/ ({})",
        if web.auth_enabled() {
            format!("{} user(s) or token(s)", web.principals.len())
        } else {
            "no login configured: read-only, loopback only".to_string()
        }
    );
    Ok(tokio::spawn(crate::web::serve(listener, router, tls)))
}

/// Start the runs the web interface asks for.
async fn serve_actions(
    mut rx: tokio::sync::mpsc::Receiver<crate::web::ActionRequest>,
    jobs: Vec<Job>,
    shared: Arc<Shared>,
) {
    while let Some(req) = rx.recv().await {
        let answer = match jobs.iter().find(|j| j.name == req.job) {
            _ if lock(&shared.status).shutting_down => {
                Err("the daemon is shutting down: no new runs".to_string())
            }
            Some(job) => start_run(
                job,
                &shared,
                Origin {
                    trigger: "web",
                    requested_by: Some(req.requested_by.clone()),
                    limit: req.limit.clone(),
                },
            ),
            None => Err(format!("no job named `{}`", req.job)),
        };
        let _ = req.reply.send(answer);
    }
}

/// Run the job's child; how it ended, and its report (stdout) as printed.
async fn run_child(job: &Job, shared: &Shared) -> (RunOutcome, Option<tempfile::TempPath>) {
    let started = Utc::now();
    let t = Instant::now();
    let mut out = RunOutcome {
        started: rfc3339(started),
        started_unix: started.timestamp(),
        result: "failed".into(),
        ..Default::default()
    };
    tracing::info!("job {}: start ({})", job.name, job.kind);
    // The report goes straight to a file beside the kept runs, never through the daemon's
    // memory: parsing a 10,000-host report each run grew the daemon by tens of MB a cycle.
    let report = match crate::web::runs::report_file(&shared.runs_dir, &job.name) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(
                "job {}: cannot write the run's report in {}: {e} (its counts are not known)",
                job.name,
                shared.runs_dir.display()
            );
            None
        }
    };
    let stdout = match report.as_ref().map(|f| f.reopen()) {
        Some(Ok(f)) => Stdio::from(f),
        _ => Stdio::null(),
    };
    let report = report.map(tempfile::NamedTempFile::into_temp_path);
    let mut cmd = tokio::process::Command::new(&shared.exe);
    // Only the job's own secrets: none inherited from the daemon's environment.
    cmd.args(&job.args)
        .env_remove(config::EXTRA_VARS_ENV)
        .env_remove(config::PUSH_ENV)
        .env_remove(crate::backup::remote::TOKEN_ENV)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(format!("cannot start {}: {e}", shared.exe.display()));
            return (out, None);
        }
    };
    let pid = child.id();
    if let Some(pid) = pid {
        lock(&shared.children).insert(job.name.clone(), pid);
    }
    // stderr is drained as the run goes (a child blocked on a full pipe would look hung)
    // and kept within a cap: only its last lines matter.
    let stderr = child
        .stderr
        .take()
        .map(|p| tokio::spawn(capture(p, MAX_STDERR_BYTES)));
    let status = match tokio::time::timeout(job.timeout, child.wait()).await {
        Ok(s) => s,
        Err(_) => {
            // Everything the run started goes with it: it leads its own process group.
            if let Some(pid) = pid {
                kill_group(pid);
            }
            let _ = child.kill().await;
            lock(&shared.children).remove(&job.name);
            out.duration_ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
            out.result = "timed_out".into();
            out.error = Some(format!(
                "did not finish within {}s (the job's timeout) and was killed",
                job.timeout.as_secs_f64()
            ));
            return (out, None);
        }
    };
    lock(&shared.children).remove(&job.name);
    out.duration_ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(format!("waiting for the run: {e}"));
            return (out, None);
        }
    };
    // The run is over; its pipes close unless something it left behind holds them, and
    // that is not waited for.
    let collect = |h: Option<tokio::task::JoinHandle<Vec<u8>>>| async move {
        match h {
            Some(h) => tokio::time::timeout(PIPE_LINGER, h)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let stderr = collect(stderr).await;
    out.exit_code = status.code();
    let brief = match &report {
        Some(path) => {
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || ReportBrief::read(&path))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    if let Some(brief) = &brief {
        (out.ok, out.changed, out.failed) = brief.counts();
        out.commit = brief.commit().map(str::to_string);
        if let Some(e) = brief.backup_error() {
            out.error = Some(e.to_string());
        }
    }
    out.result = match status.code() {
        Some(0) => "ok".into(),
        Some(130) | None => "cancelled".into(),
        Some(_) => "failed".into(),
    };
    if out.result == "failed" && out.error.is_none() && out.failed > 0 {
        out.error = Some(format!("{} device(s) failed or unreachable", out.failed));
    }
    if out.result != "ok" && out.error.is_none() {
        out.error = Some(
            error_of(&String::from_utf8_lossy(&stderr))
                .unwrap_or_else(|| format!("exit status {:?}", status.code())),
        );
    }
    (out, report)
}

/// The error a failed run printed, for its log line and status: its `error:` line and what
/// follows (the hint), on one line, without the quoted source lines (`  1 | - hosts: x`);
/// else its last line.
fn error_of(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let picked = match lines.iter().rposition(|l| l.starts_with("error:")) {
        Some(i) => &lines[i..],
        None => &lines[lines.len().saturating_sub(1)..],
    };
    let is_quote = |l: &&&str| {
        l.trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|')
    };
    let text = picked
        .iter()
        .filter(|l| !is_quote(l))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("; ");
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_itself_is_kept_with_its_hint() {
        let stderr = "warning: something\nerror: p.yml:1:3: play `x`: host pattern `acces` matches no host\n 1 | - hosts: acces\n   |   ^\n hint: did you mean `access`?\n";
        assert_eq!(
            error_of(stderr).as_deref(),
            Some("p.yml:1:3: play `x`: host pattern `acces` matches no host; hint: did you mean `access`?")
        );
        assert_eq!(error_of("boom\n\n").as_deref(), Some("boom"));
        assert_eq!(error_of(""), None);
    }
}
