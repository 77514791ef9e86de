//! The executor: runs a [`Plan`] (plays x hosts x tasks) and sends every result to the
//! reporter as an [`Event`].
//!
//! tokio drives the run, but ssh2 is blocking, so each host's work runs on tokio's blocking
//! pool (`spawn_blocking`), its `HostState` (with its one SSH connection) moved into the
//! worker and back. The async side only schedules: a semaphore of `forks` permits, acquired
//! before a worker is spawned; strategies (`linear`: every host finishes task k before any
//! starts k+1; `free`: each host runs straight through); `serial` batches with
//! `max_fail_percentage` and `any_errors_fatal`; handlers at the end of each batch; a hard
//! per-host deadline (`host_timeout`) enforced from the async side, so a worker stuck inside
//! ssh2 is abandoned (its slot freed, its host failed) and can never stall the run; and
//! Ctrl-C, which stops new work while letting the running tasks finish.
//!
//! A host's session is closed as soon as the host has nothing more to do in the run (its
//! last task of the last play that includes it is done and no handler of its play was
//! notified, or it failed), not at the end of the run: memory then follows the hosts at
//! work, not every host the run has touched.

pub mod connection;
pub mod host;
pub mod plan;
pub mod task;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use plan::{Plan, PlanOptions, PlannedPlay};

use crate::device::profile::ProfileSet;
use crate::inventory::Inventory;
use crate::playbook::{Strategy, Task};
use crate::report::{Event, TaskResult};
use crate::template::Templates;
use crate::transport::ssh::SshOptions;
use crate::value::Vars;
use connection::RateLimiter;
use host::HostState;
use task::{run_task, PlayShared};

/// Default number of hosts worked on at once.
pub const DEFAULT_FORKS: u32 = 50;

/// Run-wide settings.
#[derive(Clone)]
pub struct RunOptions {
    pub forks: usize,
    pub check: bool,
    pub diff: bool,
    pub extra_vars: Vars,
    pub ssh: SshOptions,
    pub verbose: u8,
    pub profiles: Arc<ProfileSet>,
    /// The run's backup writer, shared by every host's `backup` tasks.
    pub backups: Option<Arc<crate::backup::BackupRun>>,
}

/// Per-host time budgets of a batch (`host_timeout`). A host's budget is spent only while
/// its own tasks run, so waiting for slower hosts under the linear strategy or for a free
/// fork does not count against it.
struct Deadlines {
    budget: Option<Duration>,
    spent: HashMap<String, Duration>,
}

impl Deadlines {
    fn new(budget: Option<Duration>) -> Self {
        Deadlines {
            budget,
            spent: HashMap::new(),
        }
    }

    /// When the host's work starting now must end.
    fn start(&mut self, host: &str) -> Option<Instant> {
        let budget = self.budget?;
        let spent = self.spent.get(host).copied().unwrap_or_default();
        Some(Instant::now() + budget.saturating_sub(spent))
    }

    fn spend(&mut self, host: &str, d: Duration) {
        if self.budget.is_some() {
            *self.spent.entry(host.to_string()).or_default() += d;
        }
    }
}

/// The executor of one run.
pub struct Executor {
    opts: RunOptions,
    events: UnboundedSender<Event>,
    cancel: Arc<AtomicBool>,
    states: HashMap<String, HostState>,
    /// Hosts that a later play of the run includes: their sessions stay open.
    needed_later: HashSet<String>,
    /// Sessions being closed in the background (awaited at the end of the run).
    closing: JoinSet<()>,
}

impl Executor {
    pub fn new(opts: RunOptions, events: UnboundedSender<Event>, cancel: Arc<AtomicBool>) -> Self {
        Executor {
            opts,
            events,
            cancel,
            states: HashMap::new(),
            needed_later: HashSet::new(),
            closing: JoinSet::new(),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn emit(&self, e: Event) {
        // The reporter lives as long as the run; a closed channel means the process is
        // going down, and there is no one left to tell.
        let _ = self.events.send(e);
    }

    /// Run every play of the plan, then close every connection.
    pub async fn run(&mut self, plan: &Plan<'_>, inventory: &Inventory) {
        for (i, pp) in plan.plays.iter().enumerate() {
            if self.cancelled() {
                break;
            }
            self.needed_later = plan.plays[i + 1..]
                .iter()
                .flat_map(|p| p.hosts.iter().cloned())
                .collect();
            self.run_play(pp, inventory).await;
        }
        self.close_all().await;
    }

    /// Close the host's session in the background if nothing more in the run needs it:
    /// it failed (it runs nothing more), or `done` (its last task of the play ran) and no
    /// later play includes it and no handler waits for it.
    fn retire(&mut self, host: &str, done: bool) {
        let Some(st) = self.states.get_mut(host) else {
            return;
        };
        let finished = done && st.notified.is_empty() && !self.needed_later.contains(host);
        if !finished && st.active() {
            return;
        }
        if let Some(conn) = st.conn.take() {
            st.abort = None;
            while self.closing.try_join_next().is_some() {}
            self.closing.spawn_blocking(move || conn.close());
        }
    }

    async fn run_play(&mut self, pp: &PlannedPlay<'_>, inventory: &Inventory) {
        let play = pp.play;
        self.emit(Event::PlayStart {
            name: play.display_name(),
            hosts: pp.hosts.clone(),
        });
        let templates_dirs = pp.playbook.template_dirs().to_vec();
        let templates = Templates::new(templates_dirs.clone());
        // Hosts that failed or became unreachable in an earlier play sit this one out.
        let mut hosts = Vec::with_capacity(pp.hosts.len());
        for name in &pp.hosts {
            let Some(inv_host) = inventory.hosts.get(name) else {
                continue;
            };
            let st = self
                .states
                .entry(name.clone())
                .or_insert_with(|| HostState::new(name, &inv_host.groups));
            if !st.active() {
                continue;
            }
            let ctx = crate::vars::host_context(
                name,
                &inv_host.groups,
                &inv_host.vars,
                &play.vars,
                &self.opts.extra_vars,
            );
            let (base, unresolved) = crate::vars::resolve_vars(&templates, &ctx);
            let secrets = crate::inventory::secret_values_of(&base);
            if !secrets.is_empty() {
                let _ = self.events.send(Event::Secrets(secrets));
            }
            st.base = base;
            st.unresolved = unresolved
                .into_iter()
                .map(|(k, e)| (k, e.to_string()))
                .collect();
            st.extra = self.opts.extra_vars.clone();
            st.notified.clear();
            hosts.push(name.clone());
        }
        let shared = Arc::new(PlayShared {
            playbook: Arc::new(pp.playbook.clone()),
            templates: Templates::new(templates_dirs),
            profiles: Arc::clone(&self.opts.profiles),
            ssh: self.opts.ssh.clone(),
            check: play.check_mode.unwrap_or(self.opts.check),
            diff: self.opts.diff,
            limiter: play.connect_rate.and_then(RateLimiter::new).map(Arc::new),
            timeout: play.timeout,
            verbose: self.opts.verbose,
            events: self.events.clone(),
            backups: self.opts.backups.clone(),
        });
        let tasks: Vec<Arc<Task>> = pp.tasks.iter().map(|t| Arc::new((*t).clone())).collect();
        let handlers: Vec<Arc<Task>> = play.handlers.iter().map(|t| Arc::new(t.clone())).collect();
        let forks = play.forks.unwrap_or(self.opts.forks).max(1);
        let batches = match &play.serial {
            Some(s) => s.batch_sizes(hosts.len()),
            None => vec![hosts.len()],
        };
        let mut rest = hosts.as_slice();
        for size in batches {
            if self.cancelled() || rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at(size.min(rest.len()));
            rest = tail;
            // A host's deadline starts when its first task starts, not when the batch does:
            // with few forks, later hosts may wait long before they begin.
            let mut deadlines = Deadlines::new(play.host_timeout);
            let abort = match play.strategy {
                Strategy::Linear => {
                    self.run_linear(batch, &tasks, &shared, forks, &mut deadlines, play)
                        .await
                }
                Strategy::Free => {
                    self.run_free(batch, &tasks, &shared, forks, &mut deadlines, play)
                        .await
                }
            };
            self.run_handlers(batch, &handlers, &shared, forks, &mut deadlines)
                .await;
            // Handlers done: whatever of the batch is not needed later closes now.
            for h in batch {
                if let Some(st) = self.states.get_mut(h) {
                    st.notified.clear();
                }
                self.retire(h, true);
            }
            if abort {
                let skipped: Vec<&String> = rest.iter().collect();
                if !skipped.is_empty() {
                    self.emit(Event::Warning(format!(
                        "play `{}` stopped after a failed batch; {} host(s) not started: {}",
                        play.display_name(),
                        skipped.len(),
                        skipped
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                break;
            }
        }
    }

    /// Whether the batch's failures stop the play (`any_errors_fatal`,
    /// `max_fail_percentage`, or every host of the batch gone).
    fn batch_verdict(
        &self,
        batch: &[String],
        play: &crate::playbook::Play,
        failed_now: bool,
    ) -> bool {
        let failed = batch
            .iter()
            .filter(|h| self.states.get(*h).is_some_and(|s| !s.active()))
            .count();
        if failed == 0 {
            return false;
        }
        if play.any_errors_fatal && failed_now {
            return true;
        }
        if let Some(pct) = play.max_fail_percentage {
            let share = failed as f64 * 100.0 / batch.len().max(1) as f64;
            if share > pct {
                return true;
            }
        }
        false
    }

    async fn run_linear(
        &mut self,
        batch: &[String],
        tasks: &[Arc<Task>],
        shared: &Arc<PlayShared>,
        forks: usize,
        deadlines: &mut Deadlines,
        play: &crate::playbook::Play,
    ) -> bool {
        for (i, task) in tasks.iter().enumerate() {
            if self.cancelled() {
                return true;
            }
            let last = i + 1 == tasks.len();
            let hosts: Vec<String> = batch
                .iter()
                .filter(|h| self.states.get(*h).is_some_and(HostState::active))
                .cloned()
                .collect();
            if hosts.is_empty() {
                return true;
            }
            let failed_now = self
                .run_task_on(&hosts, task, shared, forks, deadlines, last)
                .await;
            if self.batch_verdict(batch, play, failed_now) {
                if play.any_errors_fatal {
                    // Every remaining host of the play stops too, as in Ansible.
                    for h in batch {
                        if let Some(s) = self.states.get_mut(h) {
                            s.failed = s.failed || s.active();
                        }
                    }
                }
                return true;
            }
        }
        false
    }

    /// Run one task over `hosts` with at most `forks` at once; true when any host failed.
    /// `last`: the play has no task after this one (hosts may then close their sessions).
    async fn run_task_on(
        &mut self,
        hosts: &[String],
        task: &Arc<Task>,
        shared: &Arc<PlayShared>,
        forks: usize,
        deadlines: &mut Deadlines,
        last: bool,
    ) -> bool {
        let name = task.display_name();
        let location = task.location.to_string();
        self.emit(Event::TaskStart {
            name: name.clone(),
            location: location.clone(),
            hosts: hosts.len(),
        });
        let sem = Arc::new(Semaphore::new(forks));
        let mut set = JoinSet::new();
        let mut any_failed = false;
        for host in hosts {
            if self.cancelled() {
                break;
            }
            let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
                break;
            };
            // Results of finished workers are taken as they come, to keep the output live.
            while let Some(done) = set.try_join_next() {
                any_failed |= self.absorb_join(done, &name, &location, deadlines, last);
            }
            let Some(mut st) = self.states.remove(host) else {
                continue;
            };
            let task = Arc::clone(task);
            let shared = Arc::clone(shared);
            let deadline = deadlines.start(host);
            let host = host.clone();
            let abort = st.abort.clone();
            set.spawn(async move {
                let work = tokio::task::spawn_blocking(move || {
                    let r = run_task(&mut st, &task, &shared);
                    (st, r)
                });
                let out = match deadline {
                    Some(d) => tokio::time::timeout_at(d, work).await,
                    None => Ok(work.await),
                };
                if out.is_err() {
                    // Unblock the abandoned worker now rather than at ssh2's own timeout.
                    if let Some(a) = &abort {
                        a.abort();
                    }
                }
                drop(permit);
                (host, out)
            });
        }
        while let Some(done) = set.join_next().await {
            any_failed |= self.absorb_join(done, &name, &location, deadlines, last);
        }
        any_failed
    }

    #[allow(clippy::type_complexity)]
    fn absorb_join(
        &mut self,
        done: Result<
            (
                String,
                Result<
                    Result<(HostState, TaskResult), tokio::task::JoinError>,
                    tokio::time::error::Elapsed,
                >,
            ),
            tokio::task::JoinError,
        >,
        task: &str,
        location: &str,
        deadlines: &mut Deadlines,
        last: bool,
    ) -> bool {
        let Ok((host, out)) = done else {
            return true;
        };
        if let Ok(Ok((_, r))) = &out {
            deadlines.spend(&host, Duration::from_millis(r.duration_ms));
        }
        let (state, result) = match out {
            Ok(Ok((st, r))) => (st, r),
            Ok(Err(join)) => {
                let mut st = self.lost_state(&host);
                st.failed = true;
                (
                    st,
                    TaskResult::failed(format!("internal error in the worker: {join}")),
                )
            }
            Err(_) => {
                let mut st = self.lost_state(&host);
                st.failed = true;
                (
                    st,
                    TaskResult::failed(format!(
                        "host_timeout exceeded while running `{task}`; the host was abandoned \
                         (its session is closed in the background)"
                    )),
                )
            }
        };
        let failed = result.status.is_failure() && !result.ignored;
        self.emit(Event::HostResult {
            host: host.clone(),
            task: task.to_string(),
            location: location.to_string(),
            result: Box::new(result),
        });
        self.states.insert(host.clone(), state);
        self.retire(&host, last);
        failed
    }

    /// A fresh state for a host whose state was lost with an abandoned worker.
    fn lost_state(&self, host: &str) -> HostState {
        HostState::new(host, &[])
    }

    async fn run_free(
        &mut self,
        batch: &[String],
        tasks: &[Arc<Task>],
        shared: &Arc<PlayShared>,
        forks: usize,
        deadlines: &mut Deadlines,
        play: &crate::playbook::Play,
    ) -> bool {
        let sem = Arc::new(Semaphore::new(forks));
        let mut set = JoinSet::new();
        let tasks: Arc<Vec<Arc<Task>>> = Arc::new(tasks.to_vec());
        for host in batch {
            if self.cancelled() {
                break;
            }
            let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
                break;
            };
            while let Some(done) = set.try_join_next() {
                self.absorb_free(done);
            }
            let Some(mut st) = self.states.remove(host) else {
                continue;
            };
            if !st.active() {
                self.states.insert(host.clone(), st);
                continue;
            }
            let tasks = Arc::clone(&tasks);
            let shared = Arc::clone(shared);
            let cancel = Arc::clone(&self.cancel);
            let deadline = deadlines.start(host);
            let host = host.clone();
            // The connection may open inside the worker; share a slot it fills.
            let abort_slot: Arc<std::sync::Mutex<Option<crate::transport::ssh::AbortHandle>>> =
                Arc::new(std::sync::Mutex::new(st.abort.clone()));
            let slot = Arc::clone(&abort_slot);
            set.spawn(async move {
                let work = tokio::task::spawn_blocking(move || {
                    for t in tasks.iter() {
                        if !st.active() || cancel.load(Ordering::SeqCst) {
                            break;
                        }
                        let r = run_task(&mut st, t, &shared);
                        if let (Some(a), Ok(mut g)) = (&st.abort, slot.lock()) {
                            if g.is_none() {
                                *g = Some(a.clone());
                            }
                        }
                        let _ = shared.events.send(Event::HostResult {
                            host: st.name.clone(),
                            task: t.display_name(),
                            location: t.location.to_string(),
                            result: Box::new(r),
                        });
                    }
                    st
                });
                let out = match deadline {
                    Some(d) => tokio::time::timeout_at(d, work).await,
                    None => Ok(work.await),
                };
                if out.is_err() {
                    if let Ok(g) = abort_slot.lock() {
                        if let Some(a) = g.as_ref() {
                            a.abort();
                        }
                    }
                }
                drop(permit);
                (host, out)
            });
        }
        while let Some(done) = set.join_next().await {
            self.absorb_free(done);
        }
        self.batch_verdict(batch, play, true)
    }

    #[allow(clippy::type_complexity)]
    fn absorb_free(
        &mut self,
        done: Result<
            (
                String,
                Result<Result<HostState, tokio::task::JoinError>, tokio::time::error::Elapsed>,
            ),
            tokio::task::JoinError,
        >,
    ) {
        let Ok((host, out)) = done else {
            return;
        };
        match out {
            Ok(Ok(st)) => {
                self.states.insert(host.clone(), st);
                self.retire(&host, true);
            }
            Ok(Err(join)) => {
                let mut st = self.lost_state(&host);
                st.failed = true;
                self.emit(Event::HostResult {
                    host: host.clone(),
                    task: "(worker)".into(),
                    location: String::new(),
                    result: Box::new(TaskResult::failed(format!(
                        "internal error in the worker: {join}"
                    ))),
                });
                self.states.insert(host, st);
            }
            Err(_) => {
                let mut st = self.lost_state(&host);
                st.failed = true;
                self.emit(Event::HostResult {
                    host: host.clone(),
                    task: "host_timeout".into(),
                    location: String::new(),
                    result: Box::new(TaskResult::failed(
                        "host_timeout exceeded; the host was abandoned (its session is closed in the background)",
                    )),
                });
                self.states.insert(host, st);
            }
        }
    }

    /// Handlers run once per host at the end of the batch, in the order they are written,
    /// on hosts that notified them (by name or `listen` topic) and are still active.
    async fn run_handlers(
        &mut self,
        batch: &[String],
        handlers: &[Arc<Task>],
        shared: &Arc<PlayShared>,
        forks: usize,
        deadlines: &mut Deadlines,
    ) {
        for handler in handlers {
            if self.cancelled() {
                return;
            }
            let mut names: Vec<&str> = handler.listen.iter().map(String::as_str).collect();
            if let Some(n) = &handler.name {
                names.push(n);
            }
            let hosts: Vec<String> = batch
                .iter()
                .filter(|h| {
                    self.states.get(*h).is_some_and(|s| {
                        s.active() && s.notified.iter().any(|n| names.contains(&n.as_str()))
                    })
                })
                .cloned()
                .collect();
            if hosts.is_empty() {
                continue;
            }
            self.run_task_on(&hosts, handler, shared, forks, deadlines, false)
                .await;
        }
    }

    /// Close every open session (the CLI's `exit`, then the SSH disconnect), in parallel.
    async fn close_all(&mut self) {
        let mut set = std::mem::take(&mut self.closing);
        for st in self.states.values_mut() {
            if let Some(conn) = st.conn.take() {
                set.spawn_blocking(move || conn.close());
            }
        }
        let closing = async { while set.join_next().await.is_some() {} };
        // A device that does not answer `exit` must not hold up the end of the run.
        let _ = tokio::time::timeout(Duration::from_secs(10), closing).await;
    }

    /// Hosts that failed or were unreachable at some point of the run.
    pub fn failed_hosts(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .states
            .values()
            .filter(|s| !s.active())
            .map(|s| s.name.clone())
            .collect();
        v.sort();
        v
    }
}
