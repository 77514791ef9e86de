//! `netorch run PLAYBOOK... -i INV`: load, plan, execute, report.
//!
//! After a run, the hosts that failed or were unreachable are written to
//! `.netorch/last-failed` in the current folder (removed when none failed), so
//! `--rerun-failed` or `--limit @failed` runs again on those hosts only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{ExitCode, Result};
use crate::executor::{Executor, Plan, PlanOptions, RunOptions};
use crate::playbook::{Action, Playbook};
use crate::report::{junit, Event, Layout, ReportOptions, Reporter, RunReport};
use crate::secret::{is_secret_var, Redactor};
use crate::transport::settings::HostKeyChecking;
use crate::transport::ssh::SshOptions;
use crate::Error;

use super::check::load_all;
use super::common::{playbook_dirs, RunOpts};

/// Where the failed hosts of the last run are kept (relative to the current folder).
pub const FAILED_HOSTS_FILE: &str = ".netorch/last-failed";

#[derive(Debug, clap::Args)]
#[command(mut_arg("forks", |a| a.help("How many hosts are worked on at once (a play's `forks:` wins)")))]
pub struct RunArgs {
    /// Playbook files, run in order.
    #[arg(required = true, value_name = "PLAYBOOK")]
    pub playbooks: Vec<PathBuf>,

    #[command(flatten)]
    pub opts: RunOpts,

    /// Run again on the hosts that failed in the last run (same as `--limit @failed`).
    #[arg(long, conflicts_with = "limit")]
    pub rerun_failed: bool,

    /// Only tasks with these tags (comma-separated).
    #[arg(short, long, value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Skip tasks with these tags (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,

    /// Show config diffs.
    #[arg(short = 'D', long)]
    pub diff: bool,

    /// Show the secrets in config diffs and in the config lines sent (SNMP communities,
    /// keys, password hashes) for this run; they are masked by default. The inventory's
    /// passwords stay masked.
    #[arg(long)]
    pub show_secrets: bool,

    #[command(flatten)]
    pub notify: NotifyOpts,
}

/// `--notify`, shared by `run` and `backup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NotifyOpts {
    /// Notify when a backup changes a device's config or the run fails: a notify config
    /// file (YAML: `targets:` with `webhook:` / `email:`), or `webhook:URL`, `slack:URL`,
    /// `teams:URL`, `mattermost:URL`. Repeat for several. Checked before any device is
    /// touched; a failed notification is a warning, never a failed run.
    #[arg(long, value_name = "FILE|FORMAT:URL")]
    pub notify: Vec<String>,
}

impl NotifyOpts {
    /// The merged, checked configuration (`None` without `--notify`).
    pub fn load(&self) -> Result<Option<crate::notify::Config>> {
        let mut cfg: Option<crate::notify::Config> = None;
        for arg in &self.notify {
            let one = crate::notify::parse_cli(arg)?;
            match &mut cfg {
                Some(c) => c.merge(one),
                None => cfg = Some(one),
            }
        }
        Ok(cfg)
    }
}

pub fn run(args: RunArgs, verbose: u8) -> Result<ExitCode> {
    let notify = args.notify.load()?;
    let mut req = RunRequest::load(&args.opts, &playbook_dirs(&args.playbooks), verbose)?;
    req.notify = notify;
    if args.rerun_failed {
        req.limit = resolve_limit(None, true)?;
    }
    let (playbooks, mut errors) = load_all(&args.playbooks, &args.opts.inv.inventory);
    match errors.len() {
        0 => {}
        1 => return Err(Error::Load(errors.remove(0))),
        _ => return Err(Error::LoadMany(errors)),
    }
    req.playbooks = playbooks;
    req.tags = args.tags;
    req.skip_tags = args.skip_tags;
    req.diff = args.diff;
    req.show_secrets = args.show_secrets;
    let report = execute(req)?;
    Ok(report.exit_code())
}

/// Everything a run needs, already loaded. `netorch run` builds it from files; `push`,
/// `pull`, `backup` and `exec` build their playbook in memory and run it the same way, so
/// they get the same results, recap, JSON, JUnit and exit codes.
pub struct RunRequest {
    pub playbooks: Vec<crate::playbook::Playbook>,
    pub inventory: crate::inventory::Inventory,
    pub extra: crate::value::Vars,
    pub profiles: crate::device::profile::ProfileSet,
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub forks: usize,
    pub check: bool,
    pub diff: bool,
    /// `--show-secrets`: config text is not masked by the platform's secret patterns.
    pub show_secrets: bool,
    pub json: bool,
    pub junit: Option<PathBuf>,
    /// `--json-file`: the JSON document, also written here.
    pub json_file: Option<PathBuf>,
    pub host_key_checking: Option<HostKeyChecking>,
    /// `--shard K/N`: only this shard's hosts.
    pub shard: Option<crate::inventory::shard::Shard>,
    pub verbose: u8,
    /// The backup writer (`netorch backup` sets its store and options); `None` gives a
    /// default one when the plan has `backup` tasks.
    pub backups: Option<Arc<crate::backup::BackupRun>>,
    /// How results are laid out on a terminal (`exec` shows them per host).
    pub layout: Layout,
    /// Where to tell about changed backups and failures once the run is done.
    pub notify: Option<crate::notify::Config>,
}

impl RunRequest {
    /// Load what the shared options name (inventory with the host_vars/ and group_vars/ of
    /// `playbook_dirs`, extra vars, platform profiles, `--limit @failed`); the playbooks,
    /// tags, diff, backups and layout are left for the caller to set.
    pub fn load(opts: &RunOpts, playbook_dirs: &[PathBuf], verbose: u8) -> Result<RunRequest> {
        let limit = resolve_limit(opts.limit.clone(), false)?;
        let mut inventory = opts.inv.load(playbook_dirs)?;
        let (extra, warnings) = super::common::parse_extra_vars_warn(&opts.inv.extra_vars)?;
        inventory.warnings.extend(warnings);
        let profiles = super::platforms::load_profiles(&opts.inv.inventory)?;
        Ok(RunRequest {
            playbooks: Vec::new(),
            inventory,
            extra,
            profiles,
            limit,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            forks: opts.forks as usize,
            check: opts.check,
            diff: false,
            show_secrets: false,
            json: opts.json,
            junit: opts.junit.clone(),
            json_file: opts.json_file.clone(),
            host_key_checking: opts.host_key_checking,
            shard: opts.shard()?,
            verbose,
            backups: None,
            layout: Layout::Tasks,
            notify: None,
        })
    }
}

/// A playbook built in memory by a command (`exec`, `push`, `pull`): `play` is one play as
/// JSON, loaded and validated like a file named `path` (which is never read).
pub fn playbook_in_memory(path: &Path, play: serde_json::Value) -> Result<Playbook> {
    let yaml = serde_yaml::to_string(&serde_json::Value::Array(vec![play]))
        .map_err(|e| Error::Usage(format!("internal: cannot build the playbook: {e}")))?;
    // A command's own playbook names local files as the user typed them: from the
    // current folder, which `path` is in.
    Playbook::load_str(path, &yaml, &[])
}

/// Plan, execute and report a run; writes the JUnit file and the failed-hosts list.
pub fn execute(req: RunRequest) -> Result<RunReport> {
    let RunRequest {
        playbooks,
        inventory,
        extra,
        profiles,
        limit,
        tags,
        skip_tags,
        forks,
        check,
        diff,
        show_secrets,
        json,
        junit,
        json_file,
        host_key_checking,
        shard,
        verbose,
        backups,
        layout,
        notify,
    } = req;
    let notify = notify.filter(|n| !n.is_empty());
    let mut plan_opts = PlanOptions {
        limit,
        tags,
        skip_tags,
        strict_patterns: false,
        shard,
    };
    let plan = Plan::build(&playbooks, &inventory, &plan_opts)?;
    // A shard may well have no host of a play (or of any): only a run that matches no host
    // in any shard is a typo.
    if !plan.plays.is_empty() && plan.plays.iter().all(|p| p.total_hosts == 0) {
        // A run on no host at all is a typo (in --limit or `hosts:`), never a success: a
        // scheduled job must not report ok for it. One play without hosts in a run that
        // has some stays a warning.
        if let Some(limit) = &plan_opts.limit {
            return Err(no_host_for_limit(&inventory, limit, &plan.warnings));
        }
        plan_opts.strict_patterns = true;
        Plan::build(&playbooks, &inventory, &plan_opts)?;
        return Err(Error::Usage("no play matches any host".into()));
    }
    let mut problems = super::platforms::unknown_platforms(&plan, &inventory, &profiles);
    problems.extend(super::platforms::unconfirmable(
        &plan, &inventory, &profiles,
    ));
    if problems.is_empty() {
        // Everything a task would fail on that needs no device, before any connection.
        problems = crate::executor::validate::validate(&plan, &inventory, &extra, &profiles);
    }
    match problems.len() {
        0 => {}
        1 => return Err(Error::Load(problems.remove(0))),
        _ => return Err(Error::LoadMany(problems)),
    }

    let mut secrets = inventory.secret_values();
    for (k, v) in &extra {
        if let (true, Some(s)) = (is_secret_var(k), v.as_str()) {
            secrets.push(s.to_string());
        }
    }
    let mut redactor = Redactor::new();
    for s in &secrets {
        redactor.add(s);
    }
    let notify_redactor = redactor.clone();
    let max_forks = plan
        .plays
        .iter()
        .filter_map(|p| p.play.forks)
        .max()
        .unwrap_or(0)
        .max(forks);
    let ssh = SshOptions {
        host_key_checking,
        verbose: (verbose >= 2).then(|| {
            Arc::new(|host: &str, msg: &str| {
                tracing::info!("{host}: {}", crate::terminal::escape(msg))
            }) as Arc<dyn Fn(&str, &str) + Send + Sync>
        }),
    };
    let backups = backups.or_else(|| {
        has_backup_tasks(&plan).then(|| {
            Arc::new(crate::backup::BackupRun::new(
                crate::backup::BackupSettings {
                    shard: shard.map(|s| s.to_string()),
                    ..Default::default()
                },
            ))
        })
    });
    if let Some(b) = &backups {
        b.add_secrets(secrets.iter().map(String::as_str));
    }
    let rollback = (!check && has_config_tasks(&plan)).then(|| {
        Arc::new(crate::config::record::Recorder::new(std::path::Path::new(
            crate::config::record::ROLLBACK_DIR,
        )))
    });
    let opts = RunOptions {
        // NETORCH_MAX_SESSIONS: for machines with more (or less) memory per session to
        // spare, and for the tests, which cannot start thousands of devices.
        max_sessions: std::env::var("NETORCH_MAX_SESSIONS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n: &usize| *n > 0)
            .unwrap_or(crate::executor::MAX_OPEN_SESSIONS),
        rollback: rollback.clone(),
        backups: backups.clone(),
        forks,
        check,
        // Notifications carry each changed device's diff (masked), shown or not.
        diff: diff || notify.is_some(),
        show_secrets,
        extra_vars: extra,
        ssh,
        verbose,
        profiles: Arc::new(profiles),
    };
    let platforms = match layout {
        Layout::Hosts => plan
            .plays
            .iter()
            .flat_map(|p| p.hosts.iter())
            .filter_map(|h| Some((h.clone(), inventory.hosts.get(h)?.platform())))
            .collect(),
        Layout::Tasks | Layout::Quiet => Default::default(),
    };
    let report_opts = ReportOptions {
        verbose,
        json,
        diff,
        no_color: false,
        layout,
        platforms,
    };
    let names: Vec<String> = playbooks
        .iter()
        .map(|p| p.path.display().to_string())
        .collect();
    let warnings: Vec<String> = inventory
        .warnings
        .iter()
        .chain(plan.warnings.iter())
        .cloned()
        .collect();

    // ssh2 calls block, so hosts run on the blocking pool; it must hold one thread per fork
    // plus the ones abandoned by host_timeout until ssh2 gives up on them.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(max_forks.saturating_add(64))
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let (report, redactor): (RunReport, Redactor) = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let mut initial = RunReport::new(names, check);
        initial.shard = shard;
        let mut reporter = Reporter::new(report_opts, redactor, initial);
        // The reporter stops when the executor is done, not when every sender is gone: a
        // worker abandoned at host_timeout holds one until ssh2 gives up on it, and the run
        // must not wait for that (its host already has its result).
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
        let printer = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    ev = rx.recv() => match ev {
                        Some(ev) => reporter.handle(ev),
                        None => break,
                    },
                    _ = &mut done_rx => {
                        while let Ok(ev) = rx.try_recv() {
                            reporter.handle(ev);
                        }
                        break;
                    }
                }
            }
            reporter
        });
        for w in warnings {
            let _ = tx.send(Event::Warning(w));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let watcher = {
            let cancel = Arc::clone(&cancel);
            let tx = tx.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.store(true, Ordering::SeqCst);
                    crate::interrupt::request();
                    let _ = tx.send(Event::Warning(
                        "interrupted: no new work is started; running tasks finish, then the \
                         sessions close (Ctrl-C again to quit at once)"
                            .into(),
                    ));
                    if tokio::signal::ctrl_c().await.is_ok() {
                        std::process::exit(ExitCode::Interrupted.code());
                    }
                }
            })
        };
        let mut executor = Executor::new(opts, tx, Arc::clone(&cancel));
        executor.run(&plan, &inventory).await;
        drop(executor);
        watcher.abort();
        let _ = watcher.await;
        let _ = done_tx.send(());
        // The single backup writer commits now that every host is done (or, after Ctrl-C,
        // what the finished hosts gathered: each config is whole or absent).
        let summaries = match &backups {
            Some(b) => {
                let b = Arc::clone(b);
                tokio::task::spawn_blocking(move || b.finish())
                    .await
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        match printer.await {
            Ok(mut reporter) => {
                reporter.report_mut().backups = summaries;
                reporter.report_mut().rollback_run = rollback
                    .as_ref()
                    .filter(|r| r.any())
                    .map(|r| r.run_id().to_string());
                // Every secret the run met (the reporter learns some as hosts resolve
                // their variables) masks the --json-file copy too.
                let redactor = reporter.redactor().clone();
                // The JSON document carries the deliveries, so it waits for them; a person
                // at a terminal sees the recap first.
                let send = |cfg: crate::notify::Config, report: &RunReport| {
                    let summary =
                        crate::notify::RunSummary::from_run_report(report, &notify_redactor);
                    // Bounded by the targets' timeouts; the run's result is already made.
                    tokio::task::spawn_blocking(move || crate::notify::notify(&cfg, &summary))
                };
                let interrupted = cancel.load(Ordering::SeqCst);
                let mut notify = notify;
                if json {
                    if let Some(cfg) = notify.take() {
                        reporter.report_mut().interrupted = interrupted;
                        let sending = send(cfg, reporter.report_mut());
                        reporter.report_mut().notifications = sending.await.unwrap_or_default();
                    }
                }
                let mut report = reporter.finish(interrupted);
                if let (false, Some(id)) = (json, &report.rollback_run) {
                    let _ = super::common::print_out(&format!(
                        "config before the change kept: netorch rollback --run {id} (-i ...)\n"
                    ));
                }
                if !json && !report.backups.is_empty() {
                    // A closed pipe here must not lose the run's own exit code.
                    let _ = super::common::print_out(&crate::backup::summary_text(&report.backups));
                }
                if let Some(cfg) = notify {
                    report.notifications = send(cfg, &report).await.unwrap_or_default();
                    let sent: String = report
                        .notifications
                        .iter()
                        .filter(|d| !d.failed())
                        .map(|d| format!("NOTIFY {}: sent ({})\n", d.target, d.events.join(", ")))
                        .collect();
                    let _ = super::common::print_out(&sent);
                }
                (report, redactor)
            }
            Err(_) => (RunReport::new(Vec::new(), check), Redactor::new()),
        }
    });
    rt.shutdown_background();
    for line in crate::notify::failure_lines(&report.notifications) {
        eprintln!("warning: {line}");
    }

    if let Some(path) = &junit {
        std::fs::write(path, junit::to_junit(&report)).map_err(|e| Error::io(path, e))?;
    }
    if let Some(path) = &json_file {
        crate::fs::write_atomic_with(path, |w| {
            crate::report::write_json(&report, &redactor, w).map(|_| ())
        })
        .map_err(|e| Error::io(path, e))?;
    }
    remember_failed(&report.failed_hosts());
    Ok(report)
}

/// The error for a `--limit` that leaves every play without hosts, with a "did you mean"
/// for a term that names nothing in the inventory.
pub(super) fn no_host_for_limit(
    inventory: &crate::inventory::Inventory,
    limit: &str,
    plays: &[String],
) -> Error {
    let in_inventory = inventory
        .select(limit)
        .map(|h| !h.is_empty())
        .unwrap_or(false);
    if in_inventory {
        return Error::Usage(format!(
            "--limit `{limit}` leaves no host to run on:\n  {}",
            plays.join("\n  ")
        ));
    }
    let hint = inventory
        .unmatched_terms(limit)
        .first()
        .and_then(|t| crate::executor::plan::did_you_mean(inventory, t));
    Error::Usage(format!(
        "--limit `{limit}` matches no host in the inventory{}",
        hint.map(|h| format!("; {h}")).unwrap_or_default()
    ))
}

/// `--rerun-failed` and `--limit @failed` read the failed hosts of the last run.
fn resolve_limit(limit: Option<String>, rerun_failed: bool) -> Result<Option<String>> {
    let wants_failed = rerun_failed || limit.as_deref() == Some("@failed");
    if !wants_failed {
        return Ok(limit);
    }
    let path = Path::new(FAILED_HOSTS_FILE);
    let text = std::fs::read_to_string(path).map_err(|_| {
        Error::Usage(format!(
            "--rerun-failed: no failed hosts recorded ({FAILED_HOSTS_FILE} does not exist; \
             the last run in this folder had no failures)"
        ))
    })?;
    let hosts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if hosts.is_empty() {
        return Err(Error::Usage(format!(
            "--rerun-failed: {FAILED_HOSTS_FILE} is empty"
        )));
    }
    // Exact names (`=host`): a recorded name is never read as a group, glob or regex.
    let exact: Vec<String> = hosts.iter().map(|h| format!("={h}")).collect();
    Ok(Some(exact.join(",")))
}

fn remember_failed(hosts: &[String]) {
    let path = Path::new(FAILED_HOSTS_FILE);
    if hosts.is_empty() {
        let _ = std::fs::remove_file(path);
        return;
    }
    let mut text = hosts.join("\n");
    text.push('\n');
    if let Err(e) = crate::fs::write_atomic(path, text.as_bytes()) {
        eprintln!("warning: could not record the failed hosts in {FAILED_HOSTS_FILE}: {e}");
    }
}

fn has_config_tasks(plan: &Plan<'_>) -> bool {
    plan.plays.iter().any(|p| {
        p.tasks
            .iter()
            .copied()
            .chain(p.play.handlers.iter())
            .any(|t| matches!(t.action, Action::Config(_)))
    })
}

fn has_backup_tasks(plan: &Plan<'_>) -> bool {
    plan.plays.iter().any(|p| {
        p.tasks
            .iter()
            .any(|t| matches!(t.action, Action::Backup(_)))
            || p.play
                .handlers
                .iter()
                .any(|t| matches!(t.action, Action::Backup(_)))
    })
}
