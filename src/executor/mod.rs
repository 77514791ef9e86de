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

pub mod block;
pub mod budget;
pub mod host;
pub mod magic;
pub mod plan;
pub mod task;
pub mod validate;
mod workers;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use plan::{Plan, PlanOptions, PlannedPlay};

use crate::device::profile::ProfileSet;
use crate::device::RateLimiter;
use crate::inventory::Inventory;
use crate::jinja::Templates;
use crate::playbook::{Strategy, Task};
use crate::report::{Event, TaskResult};
use crate::transport::ssh::SshOptions;
use crate::value::Vars;
use host::HostState;
use task::{run_task, PlayShared};
pub use workers::AbortSlot;
use workers::{Deadlines, Outcome, Workers};

/// Default number of hosts worked on at once.
pub const DEFAULT_FORKS: u32 = 50;

/// The most hosts worked on at once: each fork is a blocking thread and a connection, and
/// a number past this is a typo, not a plan.
pub const MAX_FORKS: u32 = 10_000;

/// Sessions a linear play keeps open between its tasks (or `forks`, if more): a play over
/// more hosts runs in batches of this many (see `run_play`).
pub const MAX_OPEN_SESSIONS: usize = 1_000;

/// The most retries an `until` loop may ask for: beyond it a task can run for ever.
pub const MAX_RETRIES: u32 = 10_000;

/// Run-wide settings.
#[derive(Clone)]
pub struct RunOptions {
    pub forks: usize,
    /// Sessions a linear play keeps open between tasks ([`MAX_OPEN_SESSIONS`] by default).
    pub max_sessions: usize,
    pub check: bool,
    pub diff: bool,
    /// Show the secrets of config text (diffs, lines sent) instead of masking them.
    pub show_secrets: bool,
    pub extra_vars: Vars,
    pub ssh: SshOptions,
    pub verbose: u8,
    pub profiles: Arc<ProfileSet>,
    /// The run's backup writer, shared by every host's `backup` tasks.
    pub backups: Option<Arc<crate::backup::BackupRun>>,
    /// Keeps each host's config before `config` changes it (absent in check mode).
    pub rollback: Option<Arc<crate::config::record::Recorder>>,
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
    /// What all results of the run may keep of device output, together.
    budget: Arc<budget::OutputBudget>,
    /// The current play's `hostvars`, when the play mentions it (kept up to date after
    /// every task of every host).
    hostvars: Option<Arc<magic::HostVars>>,
}

impl Executor {
    pub fn new(opts: RunOptions, events: UnboundedSender<Event>, cancel: Arc<AtomicBool>) -> Self {
        Executor {
            budget: Arc::new(budget::OutputBudget::for_forks(opts.forks)),
            opts,
            events,
            cancel,
            states: HashMap::new(),
            needed_later: HashSet::new(),
            closing: JoinSet::new(),
            hostvars: None,
        }
    }

    fn publish_state(&mut self, host: String, st: HostState) {
        self.states.insert(host.clone(), st);
        self.publish(&host);
    }

    /// include_vars may have opened a vaulted file: its values are masked from this result
    /// on (the reporter takes the secrets before the result).
    fn announce_secrets(&self, result: &crate::report::TaskResult) {
        if let Some(secrets) = included_secrets(result) {
            let _ = self.events.send(Event::Secrets(secrets));
        }
    }

    /// Keep `hostvars[host]` current, when the play uses it.
    fn publish(&self, host: &str) {
        if let (Some(hv), Some(st)) = (&self.hostvars, self.states.get(host)) {
            hv.set(host, &st.base, &st.facts);
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
        for (i, planned) in plan.plays.iter().enumerate() {
            if self.cancelled() {
                break;
            }
            self.needed_later = plan.plays[i + 1..]
                .iter()
                .flat_map(|p| p.hosts.iter().cloned())
                .collect();
            self.run_play(planned, inventory).await;
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
            st.abort = AbortSlot::default();
            while self.closing.try_join_next().is_some() {}
            self.closing.spawn_blocking(move || conn.close());
        }
    }

    async fn run_play(&mut self, planned: &PlannedPlay<'_>, inventory: &Inventory) {
        let play = planned.play;
        self.emit(Event::PlayStart {
            name: play.display_name(),
            hosts: planned.hosts.clone(),
        });
        let templates_dirs = planned.playbook.template_dirs().to_vec();
        let mut templates = Templates::new(templates_dirs.clone());
        self.hostvars = magic::mentions_hostvars(play, planned.playbook.template_dirs())
            .then(|| Arc::new(magic::HostVars::new(inventory, false)));
        magic::add_play_globals(
            &mut templates,
            inventory,
            &planned.hosts,
            self.hostvars.clone(),
        );
        // Hosts that failed or became unreachable in an earlier play sit this one out.
        let mut hosts = Vec::with_capacity(planned.hosts.len());
        for name in &planned.hosts {
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
            let mut ctx = crate::vars::host_context(
                name,
                &inv_host.groups,
                &inv_host.vars,
                &play.vars,
                &self.opts.extra_vars,
            );
            crate::vars::add_play_connection(&mut ctx, play.connection.as_deref());
            let (base, unresolved) = crate::vars::resolve_vars(&templates, &ctx);
            let secrets = crate::inventory::secret_values_of(&base);
            if !secrets.is_empty() {
                if let Some(b) = &self.opts.backups {
                    b.add_secrets(secrets.iter().map(String::as_str));
                }
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
        for h in &hosts {
            self.publish(h);
        }
        let mut play_templates = Templates::new(templates_dirs);
        magic::add_play_globals(
            &mut play_templates,
            inventory,
            &planned.hosts,
            self.hostvars.clone(),
        );
        let shared = Arc::new(PlayShared {
            playbook: Arc::new(planned.playbook.clone()),
            templates: play_templates,
            profiles: Arc::clone(&self.opts.profiles),
            ssh: self.opts.ssh.clone(),
            check: play.check_mode.unwrap_or(self.opts.check),
            diff: self.opts.diff,
            show_secrets: self.opts.show_secrets,
            limiter: play.connect_rate.and_then(RateLimiter::new).map(Arc::new),
            timeout: play.timeout,
            verbose: self.opts.verbose,
            events: self.events.clone(),
            backups: self.opts.backups.clone(),
            rollback: self.opts.rollback.clone(),
            confirm: play.confirm.as_ref().map(|c| c.timeout),
            budget: Arc::clone(&self.budget),
        });
        let tasks: Vec<Arc<Task>> = planned
            .tasks
            .iter()
            .map(|t| Arc::new((*t).clone()))
            .collect();
        let handlers: Vec<Arc<Task>> = play.handlers.iter().map(|t| Arc::new(t.clone())).collect();
        let forks = play.forks.unwrap_or(self.opts.forks).max(1);
        let sessions = self.opts.max_sessions.max(forks).max(1);
        let batches = match &play.serial {
            Some(s) => s.batch_sizes(hosts.len()),
            // Linear keeps each host's session open from one task to the next: ~80 KB and
            // two file descriptors per host (10,000 hosts: 1.4 GB, and `Too many open
            // files`). Such a play runs in batches, as
            // `serial` would, which opens each session once; `serial:` chooses otherwise.
            None if play.strategy == Strategy::Linear
                && hosts.len() > sessions
                && tasks.len() + handlers.len() > 1 =>
            {
                self.emit(Event::Warning(format!(
                    "play `{}`: {} hosts, more than the {sessions} sessions kept open at once: it runs in batches of {sessions} (as `serial: {sessions}` would; set `serial:` to choose)",
                    play.display_name(),
                    hosts.len()
                )));
                let mut sizes = vec![sessions; hosts.len() / sessions];
                if hosts.len() % sessions > 0 {
                    sizes.push(hosts.len() % sessions);
                }
                sizes
            }
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
        let no_frames = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            if self.cancelled() {
                return true;
            }
            let last = i + 1 == tasks.len();
            let before = if i == 0 {
                &no_frames
            } else {
                &tasks[i - 1].block
            };
            let mut failed_now = self.close_blocks(batch, before, &task.block);
            let active: Vec<&String> = batch
                .iter()
                .filter(|h| self.states.get(*h).is_some_and(HostState::active))
                .collect();
            if active.is_empty() {
                return true;
            }
            // Hosts inside a block run only the part of it their failures lead to.
            let mut hosts: Vec<String> = active
                .into_iter()
                .filter(|h| {
                    self.states
                        .get(*h)
                        .is_some_and(|s| s.blocks.runs(&task.block))
                })
                .cloned()
                .collect();
            if task.run_once {
                hosts.truncate(1);
            }
            if !hosts.is_empty() {
                failed_now |= self
                    .run_task_on(&hosts, task, shared, forks, deadlines, last)
                    .await;
                if task.run_once {
                    self.share_run_once(batch, &hosts[0], task);
                    for h in batch {
                        self.publish(h);
                    }
                }
            }
            if last {
                failed_now |= self.close_blocks(batch, &task.block, &no_frames);
            }
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

    /// End the blocks that the task list leaves between a task in `before` and one in
    /// `after`, on every active host of the batch; true when that failed a host.
    fn close_blocks(
        &mut self,
        batch: &[String],
        before: &[crate::playbook::block::BlockFrame],
        after: &[crate::playbook::block::BlockFrame],
    ) -> bool {
        let ending = block::ending(before, after);
        if ending.is_empty() {
            return false;
        }
        let mut failed = false;
        for h in batch {
            let Some(st) = self.states.get_mut(h) else {
                continue;
            };
            for frames in &ending {
                if st.active() && !st.blocks.close(frames) {
                    st.failed = true;
                    failed = true;
                }
            }
        }
        failed
    }

    /// A `run_once` task ran on `first`: every other host of the batch gets what it set
    /// and registered, as in Ansible.
    fn share_run_once(&mut self, batch: &[String], first: &str, task: &Task) {
        let Some(st) = self.states.get(first) else {
            return;
        };
        let mut names: Vec<&str> = task.register.iter().map(String::as_str).collect();
        if let crate::actions::Action::SetFact(f) = &task.action {
            names.extend(f.0.keys().map(String::as_str));
        }
        let shared: Vec<(String, serde_json::Value)> = names
            .into_iter()
            .filter_map(|n| st.facts.get(n).map(|v| (n.to_string(), v.clone())))
            .collect();
        for h in batch {
            if h == first {
                continue;
            }
            if let Some(other) = self.states.get_mut(h) {
                if other.active() {
                    for (k, v) in &shared {
                        other.facts.insert(k.clone(), v.clone());
                    }
                }
            }
        }
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
        let mut workers = Workers::new();
        let mut any_failed = false;
        for host in hosts {
            if self.cancelled() {
                break;
            }
            let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
                break;
            };
            while let Some((host, outcome)) = workers.try_next() {
                any_failed |= self.absorb_task(host, outcome, &name, &location, deadlines, last);
            }
            let Some(mut st) = self.states.remove(host) else {
                continue;
            };
            let task = Arc::clone(task);
            let shared = Arc::clone(shared);
            let slot = Arc::clone(&st.abort);
            workers.spawn(host, permit, deadlines.start(host), slot, move || {
                let r = run_task(&mut st, &task, &shared);
                (st, r)
            });
        }
        while let Some((host, outcome)) = workers.next().await {
            any_failed |= self.absorb_task(host, outcome, &name, &location, deadlines, last);
        }
        any_failed
    }

    /// Take one host's result of a task (or the reason it has none) into the run.
    fn absorb_task(
        &mut self,
        host: String,
        outcome: Outcome<(HostState, TaskResult)>,
        task: &str,
        location: &str,
        deadlines: &mut Deadlines,
        last: bool,
    ) -> bool {
        let (state, result) = match outcome {
            Outcome::Done((st, r)) => {
                deadlines.spend(&host, Duration::from_millis(r.duration_ms));
                (st, r)
            }
            Outcome::Lost(why) => (
                self.lost_state(&host),
                TaskResult::failed(format!("internal error in the worker: {why}")),
            ),
            Outcome::TimedOut => (
                self.lost_state(&host),
                TaskResult::failed(format!(
                    "host_timeout exceeded while running `{task}`; the host was abandoned \
                     (its session is closed in the background)"
                )),
            ),
        };
        let failed = result.status.is_failure() && !result.ignored;
        self.announce_secrets(&result);
        self.emit(Event::HostResult {
            host: host.clone(),
            task: task.to_string(),
            location: location.to_string(),
            result: Box::new(result),
        });
        self.states.insert(host.clone(), state);
        self.publish(&host);
        self.retire(&host, last);
        failed
    }

    /// A fresh, failed state for a host whose state was lost with its worker.
    fn lost_state(&self, host: &str) -> HostState {
        let mut st = HostState::new(host, &[]);
        st.failed = true;
        st
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
        let mut workers = Workers::new();
        let tasks: Arc<Vec<Arc<Task>>> = Arc::new(tasks.to_vec());
        for host in batch {
            if self.cancelled() {
                break;
            }
            let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
                break;
            };
            while let Some((host, outcome)) = workers.try_next() {
                self.absorb_free(host, outcome);
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
            let slot = Arc::clone(&st.abort);
            workers.spawn(host, permit, deadlines.start(host), slot, move || {
                let mut before: &[crate::playbook::block::BlockFrame] = &[];
                for t in tasks.iter() {
                    if !st.active() || cancel.load(Ordering::SeqCst) {
                        break;
                    }
                    for frames in block::ending(before, &t.block) {
                        if st.active() && !st.blocks.close(frames) {
                            st.failed = true;
                        }
                    }
                    before = &t.block;
                    if !st.active() {
                        break;
                    }
                    if !st.blocks.runs(&t.block) {
                        continue;
                    }
                    let r = run_task(&mut st, t, &shared);
                    if let Some(secrets) = included_secrets(&r) {
                        let _ = shared.events.send(Event::Secrets(secrets));
                    }
                    let _ = shared.events.send(Event::HostResult {
                        host: st.name.clone(),
                        task: t.display_name(),
                        location: t.location.to_string(),
                        result: Box::new(r),
                    });
                }
                for frames in block::ending(before, &[]) {
                    if st.active() && !st.blocks.close(frames) {
                        st.failed = true;
                    }
                }
                st
            });
        }
        while let Some((host, outcome)) = workers.next().await {
            self.absorb_free(host, outcome);
        }
        self.batch_verdict(batch, play, true)
    }

    /// Take back a host that ran its tasks straight through (or the reason it did not).
    fn absorb_free(&mut self, host: String, outcome: Outcome<HostState>) {
        let (task, msg) = match outcome {
            Outcome::Done(st) => {
                self.states.insert(host.clone(), st);
                self.publish(&host);
                self.retire(&host, true);
                return;
            }
            Outcome::Lost(why) => ("(worker)", format!("internal error in the worker: {why}")),
            Outcome::TimedOut => (
                "host_timeout",
                "host_timeout exceeded; the host was abandoned (its session is closed in the \
                 background)"
                    .to_string(),
            ),
        };
        self.emit(Event::HostResult {
            host: host.clone(),
            task: task.into(),
            location: String::new(),
            result: Box::new(TaskResult::failed(msg)),
        });
        let st = self.lost_state(&host);
        self.publish_state(host, st);
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

/// The vault's secrets after a task that read vars files (include_vars), for the reporter.
fn included_secrets(result: &crate::report::TaskResult) -> Option<Vec<String>> {
    result.data.get("ansible_included_var_files")?;
    let secrets = crate::vault::secret_values();
    (!secrets.is_empty()).then_some(secrets)
}
