//! One simulated device: its identity, the fault it was told to show, and the state that
//! outlives sessions (running and startup configuration, commit history). Configurations
//! start as `None` ("factory default") and are generated from the platform template when
//! first read, so 1,000 idle devices cost almost nothing.
//!
//! It also keeps the one pending confirmed change a device may have (Junos `commit
//! confirmed`, EOS `commit timer`, IOS-XR `commit confirmed`, IOS `configure terminal revert
//! timer`): the configuration to go back to and a deadline. One process-wide timer thread
//! reverts it when nobody confirmed in time, whether or not a session is connected.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use russh::keys::PublicKey;

use crate::content;
use crate::platform::Platform;
use crate::tree::Node;

/// How a device misbehaves on purpose (`--fail NAME=MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailMode {
    /// Close every TCP connection right after accepting it.
    Refuse,
    /// Reject every authentication attempt.
    AuthFail,
    /// Close the connection when the Nth command of a connection arrives.
    DropAfter(usize),
    /// Stop answering from the Nth command of a connection on, keeping TCP open.
    HangAfter(usize),
    /// Send only the first half of the Nth command's answer, then close the connection
    /// (a backup that must not be taken for a whole config).
    TruncateAfter(usize),
    /// From the Nth command of a connection on, answer with output that never ends (and
    /// never a prompt): a chatty device that must not exhaust the client's memory.
    FloodAfter(usize),
    /// A prompt without the hostname, in odd characters.
    WrongPrompt,
    /// `enable` always fails.
    NoEnable,
}

impl FailMode {
    pub fn parse(text: &str) -> Result<FailMode, String> {
        let count = |n: &str| -> Result<usize, String> {
            match n.parse::<usize>() {
                Ok(v) if v >= 1 => Ok(v),
                _ => Err(format!("expected a command count of 1 or more, got {n:?}")),
            }
        };
        match text.split_once(':') {
            Some(("drop-after", n)) => Ok(FailMode::DropAfter(count(n)?)),
            Some(("hang-after", n)) => Ok(FailMode::HangAfter(count(n)?)),
            Some(("truncate-after", n)) => Ok(FailMode::TruncateAfter(count(n)?)),
            Some(("flood-after", n)) => Ok(FailMode::FloodAfter(count(n)?)),
            _ => match text {
                "refuse" => Ok(FailMode::Refuse),
                "auth-fail" => Ok(FailMode::AuthFail),
                "wrong-prompt" => Ok(FailMode::WrongPrompt),
                "no-enable" => Ok(FailMode::NoEnable),
                _ => Err(format!(
                    "unknown fail mode {text:?}; expected refuse, auth-fail, drop-after:N, \
                     hang-after:N, truncate-after:N, flood-after:N, wrong-prompt or no-enable"
                )),
            },
        }
    }
}

/// How a device's prompt departs from its platform's usual one (`--prompt NAME=STYLE,...`):
/// the variants real gear and other simulators show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PromptStyle {
    /// Junos: `host> ` instead of `user@host> `.
    pub no_user: bool,
    /// Junos: a routing-engine / cluster line above every prompt (`{master:0}`).
    pub re_line: Option<&'static str>,
    /// Sessions land in user exec (`host>`) and need `enable` (NX-OS).
    pub user_exec: bool,
    /// NX-OS maintenance mode: `host(maint-mode)#`.
    pub maint_mode: bool,
    /// IOS-XR on an RSP card: `RP/0/RSP0/CPU0:host#`.
    pub rsp: bool,
}

impl PromptStyle {
    /// A comma-separated list of no-user, master, primary, user-exec, maint-mode, rsp.
    pub fn parse(text: &str) -> Result<PromptStyle, String> {
        let mut s = PromptStyle::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "no-user" => s.no_user = true,
                "master" => s.re_line = Some("{master:0}"),
                "primary" => s.re_line = Some("{primary:node0}"),
                "user-exec" => s.user_exec = true,
                "maint-mode" => s.maint_mode = true,
                "rsp" => s.rsp = true,
                _ => {
                    return Err(format!(
                        "unknown prompt style {word:?}; expected no-user, master, primary, \
                         user-exec, maint-mode or rsp"
                    ))
                }
            }
        }
        Ok(s)
    }
}

/// Settings shared by every device of one sim process.
#[derive(Debug)]
pub struct Settings {
    pub user: String,
    pub password: String,
    pub enable_secret: String,
    pub authorized_keys: Vec<PublicKey>,
    pub latency: Duration,
    pub jitter: Duration,
    pub seed: u64,
    /// Pad the default running config to about this many lines (0 = natural size).
    pub config_lines: usize,
    /// When the process started: the devices' "boot" and default last-change time.
    pub started: SystemTime,
    /// How many milliseconds one minute of a device's revert timer lasts (60000: real time).
    pub timer_scale_ms: u64,
}

impl Settings {
    /// Defaults matching the CLI's (used by tests).
    pub fn for_tests() -> Settings {
        Settings {
            user: "admin".into(),
            password: "admin".into(),
            enable_secret: "en4ble".into(),
            authorized_keys: Vec::new(),
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            seed: 0,
            config_lines: 0,
            started: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_600_000),
            timer_scale_ms: 60_000,
        }
    }

    /// How long a device timer of `minutes` runs at this process's time scale.
    pub fn timer_minutes(&self, minutes: u64) -> Duration {
        Duration::from_millis(minutes.saturating_mul(self.timer_scale_ms))
    }

    /// How long a device timer of `seconds` runs at this process's time scale.
    pub fn timer_seconds(&self, seconds: u64) -> Duration {
        Duration::from_micros(
            seconds
                .saturating_mul(self.timer_scale_ms)
                .saturating_mul(1000)
                / 60,
        )
    }
}

/// A change applied with a revert timer and not confirmed yet.
#[derive(Clone, Debug)]
pub struct PendingRevert {
    /// Tells a stale timer (confirmed, or re-armed since) from the current one.
    pub id: u64,
    /// The running configuration the device goes back to.
    pub restore: Vec<Node>,
    pub deadline: Instant,
    /// The EOS session whose `commit timer` armed it.
    pub session: Option<String>,
    pub user: String,
}

/// One line of Junos `show system commit`.
#[derive(Clone, Debug)]
pub struct CommitRecord {
    pub at: SystemTime,
    pub user: String,
    /// `cli`, or `other` for the device's own commits (an automatic rollback).
    pub via: &'static str,
    /// After `via`: `commit confirmed, rollback in 5mins`.
    pub note: String,
    pub comment: Option<String>,
}

/// State that lives as long as the process, shared by all sessions to the device.
#[derive(Debug)]
pub struct DeviceState {
    /// Current hostname (the `hostname` / `host-name` statement changes it).
    pub hostname: String,
    /// None until the first change: the factory default.
    pub running: Option<Vec<Node>>,
    /// None until the first save: the factory default.
    pub startup: Option<Vec<Node>>,
    pub changed_at: SystemTime,
    pub changed_by: String,
    pub saved_at: SystemTime,
    /// Previously committed configurations, newest first (Junos `rollback N`).
    pub history: Vec<Vec<Node>>,
    /// Who committed what, newest first: entry N describes `rollback N` (0: the running
    /// config). Shorter than `history` + 1 when the oldest configs predate the log.
    pub commit_log: Vec<CommitRecord>,
    /// A confirmed-commit / revert timer waiting for its confirmation.
    pub pending_revert: Option<PendingRevert>,
    next_revert_id: u64,
    /// How many reverts fired, and the configuration the last one threw away: a session
    /// whose candidate is still that configuration follows the revert (on Junos the
    /// candidate is shared and rolls back with the running config).
    pub reverts: u64,
    pub reverted_from: Vec<Node>,
}

/// One simulated device.
#[derive(Debug)]
pub struct Device {
    pub name: String,
    pub platform: Platform,
    pub index: usize,
    pub fail: Option<FailMode>,
    pub prompt: PromptStyle,
    pub settings: Arc<Settings>,
    state: Mutex<DeviceState>,
}

impl Device {
    pub fn new(
        name: &str,
        platform: Platform,
        index: usize,
        fail: Option<FailMode>,
        settings: Arc<Settings>,
    ) -> Device {
        let started = settings.started;
        Device {
            name: name.to_string(),
            platform,
            index,
            fail,
            prompt: PromptStyle::default(),
            state: Mutex::new(DeviceState {
                hostname: name.to_string(),
                running: None,
                startup: None,
                changed_at: started,
                changed_by: "admin".into(),
                saved_at: started,
                history: Vec::new(),
                commit_log: Vec::new(),
                pending_revert: None,
                next_revert_id: 1,
                reverts: 0,
                reverted_from: Vec::new(),
            }),
            settings,
        }
    }

    /// The device with prompt style `prompt`.
    pub fn with_prompt(mut self, prompt: PromptStyle) -> Device {
        self.prompt = prompt;
        self
    }

    /// Locks the state; a poisoned lock (a panicking session) still yields the data, since
    /// every mutation leaves the state consistent.
    pub fn state(&self) -> MutexGuard<'_, DeviceState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The factory-default configuration tree.
    pub fn default_config(&self) -> Vec<Node> {
        content::default_config(self)
    }

    /// The running configuration (a copy: configs are small and this keeps locks short).
    pub fn running(&self) -> Vec<Node> {
        let st = self.state();
        match &st.running {
            Some(t) => t.clone(),
            None => {
                drop(st);
                self.default_config()
            }
        }
    }

    pub fn startup(&self) -> Vec<Node> {
        let st = self.state();
        match &st.startup {
            Some(t) => t.clone(),
            None => {
                drop(st);
                self.default_config()
            }
        }
    }

    /// Applies `change` to the running config (materialising it first) and stamps the time.
    pub fn modify_running<R>(&self, user: &str, change: impl FnOnce(&mut Vec<Node>) -> R) -> R {
        let default = if self.state().running.is_none() {
            Some(self.default_config())
        } else {
            None
        };
        let mut st = self.state();
        if st.running.is_none() {
            st.running = default;
        }
        let before = st.running.clone();
        let r = match st.running.as_mut() {
            Some(t) => change(t),
            None => change(&mut Vec::new()),
        };
        if st.running != before {
            st.changed_at = SystemTime::now();
            st.changed_by = user.to_string();
        }
        r
    }

    /// Replaces the running config wholesale (a commit), keeping the previous one for rollback.
    pub fn commit(&self, user: &str, new: Vec<Node>) {
        self.commit_noted(user, new, String::new(), None);
    }

    /// [`Device::commit`] with what `show system commit` says about it.
    pub fn commit_noted(&self, user: &str, new: Vec<Node>, note: String, comment: Option<String>) {
        let previous = self.running();
        let mut st = self.state();
        st.history.insert(0, previous);
        st.history.truncate(49);
        st.commit_log.insert(
            0,
            CommitRecord {
                at: SystemTime::now(),
                user: user.to_string(),
                via: "cli",
                note,
                comment,
            },
        );
        st.commit_log.truncate(50);
        st.running = Some(new);
        st.changed_at = SystemTime::now();
        st.changed_by = user.to_string();
        // Commit-based platforms persist on commit.
        st.startup = st.running.clone();
        st.saved_at = st.changed_at;
    }

    /// `write memory` / `copy running-config startup-config`.
    pub fn save(&self) {
        let running = self.running();
        let mut st = self.state();
        st.startup = Some(running);
        st.saved_at = SystemTime::now();
    }

    pub fn hostname(&self) -> String {
        self.state().hostname.clone()
    }

    /// Makes `config` the device's running and startup configuration (`--config-dir`), and
    /// takes its hostname.
    pub fn set_initial_config(&self, config: Vec<Node>) {
        let host = hostname_in(self.platform, &config);
        let mut st = self.state();
        st.startup = Some(config.clone());
        st.running = Some(config);
        if let Some(h) = host {
            st.hostname = h;
        }
    }

    /// Arms (or re-arms) the device's revert timer: unless [`Device::confirm_revert`] is
    /// called within `after`, the running config goes back to `restore`. When a revert is
    /// already pending, its restore point is kept: everything unconfirmed goes.
    pub fn arm_revert(
        self: &Arc<Self>,
        restore: Vec<Node>,
        after: Duration,
        session: Option<String>,
        user: &str,
    ) {
        // A century is "never" for a simulator and keeps the deadline representable.
        let deadline = Instant::now() + after.min(Duration::from_secs(100 * 365 * 86_400));
        let (id, replaced) = {
            let mut st = self.state();
            let id = st.next_revert_id;
            st.next_revert_id += 1;
            let replaced = st.pending_revert.take();
            let restore = match &replaced {
                Some(old) => old.restore.clone(),
                None => restore,
            };
            st.pending_revert = Some(PendingRevert {
                id,
                restore,
                deadline,
                session,
                user: user.to_string(),
            });
            (id, replaced)
        };
        if let Some(old) = replaced {
            unschedule(self, old.id);
        }
        schedule(deadline, self.clone(), id);
    }

    /// Confirms the pending change, if any: its timer is cancelled.
    pub fn confirm_revert(&self) -> Option<PendingRevert> {
        let taken = self.state().pending_revert.take();
        if let Some(p) = &taken {
            unschedule(self, p.id);
        }
        taken
    }

    pub fn pending_revert(&self) -> Option<PendingRevert> {
        self.state().pending_revert.clone()
    }

    /// Reverts the pending change now (its timer ran out, or EOS `configure session X
    /// abort`). Does nothing unless `id` is still the pending one.
    pub fn expire_revert(&self, id: u64) -> bool {
        let current = self.running();
        let mut st = self.state();
        let Some(p) = st.pending_revert.take_if(|p| p.id == id) else {
            return false;
        };
        let now = SystemTime::now();
        let unconfirmed = st.running.clone().unwrap_or(current);
        st.reverts += 1;
        st.reverted_from = unconfirmed.clone();
        if self.platform.commit_based() {
            // Junos records the automatic rollback as a commit of its own, so `rollback 1`
            // afterwards brings the unconfirmed configuration back.
            st.history.insert(0, unconfirmed);
            st.history.truncate(49);
            st.commit_log.insert(
                0,
                CommitRecord {
                    at: now,
                    user: "root".into(),
                    via: "other",
                    note: String::new(),
                    comment: Some("automatic rollback: commit not confirmed".into()),
                },
            );
            st.commit_log.truncate(50);
            st.startup = Some(p.restore.clone());
            st.saved_at = now;
        }
        if let Some(h) = hostname_in(self.platform, &p.restore) {
            st.hostname = h;
        }
        st.running = Some(p.restore);
        st.changed_at = now;
        st.changed_by = p.user;
        drop(st);
        unschedule(self, id);
        true
    }
}

/// The hostname a configuration sets: `hostname X` (Cisco, Arista) or `system { host-name X;
/// }` (Junos).
pub fn hostname_in(platform: Platform, tree: &[Node]) -> Option<String> {
    if platform == Platform::JuniperJunos {
        let system = tree.iter().find(|n| n.line == "system")?;
        return system
            .children
            .iter()
            .find_map(|n| n.line.strip_prefix("host-name "))
            .map(|h| h.trim().trim_matches('"').to_string());
    }
    tree.iter()
        .find_map(|n| n.line.strip_prefix("hostname "))
        .map(|h| h.trim().to_string())
}

/// The timers of every device's pending revert, served by one thread: one entry per pending
/// change, so a list is enough even for a thousand devices. An entry that fires after its
/// change was confirmed (a race with `unschedule`) finds its id gone and does nothing.
struct Timers {
    due: Mutex<Vec<(Instant, Arc<Device>, u64)>>,
    wake: Condvar,
}

fn timers() -> &'static Timers {
    static T: OnceLock<Timers> = OnceLock::new();
    T.get_or_init(|| {
        if let Err(e) = std::thread::Builder::new()
            .name("revert-timers".into())
            .spawn(run_timers)
        {
            // The sim keeps serving; only the automatic rollbacks are lost.
            eprintln!("netorch-sim: cannot start the revert timer thread: {e}");
        }
        Timers {
            due: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        }
    })
}

fn schedule(deadline: Instant, dev: Arc<Device>, id: u64) {
    let t = timers();
    match t.due.lock() {
        Ok(mut g) => g.push((deadline, dev, id)),
        Err(p) => p.into_inner().push((deadline, dev, id)),
    }
    t.wake.notify_all();
}

/// Drops the timer of `dev`'s change `id` (confirmed, re-armed or already reverted).
fn unschedule(dev: &Device, id: u64) {
    let t = timers();
    let mut due = match t.due.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    due.retain(|(_, d, i)| !(*i == id && std::ptr::eq(Arc::as_ptr(d), dev)));
}

fn run_timers() {
    let t = timers();
    let mut due = match t.due.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    loop {
        let now = Instant::now();
        let expired: Vec<(Arc<Device>, u64)> = {
            let mut out = Vec::new();
            due.retain(|(at, dev, id)| {
                if *at <= now {
                    out.push((dev.clone(), *id));
                    false
                } else {
                    true
                }
            });
            out
        };
        if !expired.is_empty() {
            // Device locks are taken without the timer list held, so sessions that arm a
            // timer while holding nothing else never wait on a revert in progress.
            drop(due);
            for (dev, id) in expired {
                dev.expire_revert(id);
            }
            due = match t.due.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            continue;
        }
        let next = due.iter().map(|(at, _, _)| *at).min();
        due = match next {
            Some(at) => match t.wake.wait_timeout(due, at.saturating_duration_since(now)) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            },
            None => match t.wake.wait(due) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_modes_parse_and_reject_nonsense() {
        assert_eq!(FailMode::parse("refuse"), Ok(FailMode::Refuse));
        assert_eq!(FailMode::parse("drop-after:3"), Ok(FailMode::DropAfter(3)));
        assert_eq!(FailMode::parse("hang-after:1"), Ok(FailMode::HangAfter(1)));
        assert_eq!(
            FailMode::parse("flood-after:2"),
            Ok(FailMode::FloodAfter(2))
        );
        assert_eq!(
            FailMode::parse("truncate-after:2"),
            Ok(FailMode::TruncateAfter(2))
        );
        assert!(FailMode::parse("hang-after:0").is_err());
        assert!(FailMode::parse("drop-after:x").is_err());
        assert!(FailMode::parse("explode").is_err());
    }

    fn scheduled(dev: &Arc<Device>) -> usize {
        let t = timers();
        let due = t.due.lock().unwrap();
        due.iter().filter(|(_, d, _)| Arc::ptr_eq(d, dev)).count()
    }

    #[test]
    fn revert_timers_fire_once_and_confirming_cancels_them() {
        let mut settings = Settings::for_tests();
        settings.timer_scale_ms = 120;
        let dev = Arc::new(Device::new(
            "timer-unit",
            Platform::JuniperJunos,
            0,
            None,
            Arc::new(settings),
        ));
        assert_eq!(dev.settings.timer_seconds(30), Duration::from_millis(60));
        let before = dev.running();
        dev.commit("admin", Vec::new());
        dev.arm_revert(
            before.clone(),
            dev.settings.timer_minutes(1000),
            None,
            "admin",
        );
        // Re-arming replaces the timer but keeps the first restore point.
        dev.arm_revert(Vec::new(), dev.settings.timer_minutes(1000), None, "admin");
        assert_eq!(scheduled(&dev), 1);
        assert!(dev.confirm_revert().is_some());
        assert_eq!(scheduled(&dev), 0);
        assert!(dev.confirm_revert().is_none());
        // 0.5 minutes = 60 ms here.
        dev.arm_revert(
            before.clone(),
            dev.settings.timer_seconds(30),
            None,
            "admin",
        );
        let start = Instant::now();
        while dev.pending_revert().is_some() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(dev.running(), before);
        assert_eq!(dev.startup(), before);
        assert_eq!(dev.hostname(), "timer-unit");
        assert_eq!(scheduled(&dev), 0);
        assert_eq!(dev.state().history[0], Vec::<Node>::new());
    }

    #[test]
    fn prompt_styles_parse_and_reject_nonsense() {
        let s = PromptStyle::parse("no-user,master").unwrap();
        assert!(s.no_user && s.re_line == Some("{master:0}") && !s.rsp);
        assert_eq!(PromptStyle::parse(""), Ok(PromptStyle::default()));
        assert!(PromptStyle::parse("no-user,fancy").is_err());
    }
}
