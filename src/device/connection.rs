//! The one way to run commands on a host: [`Connection`] owns the transport session, the
//! platform profile resolved for the host, and (for CLI platforms) the mode driver on a PTY
//! shell. Exec-channel hosts (Linux) run each command on its own channel. The executor opens
//! one per host on first use and reuses it until the host has nothing more to do in the run.
//! New transports (telnet, NETCONF, HTTP APIs) become further kinds of this type.
//!
//! Also the connection-rate limiter that keeps a 1,000-device run from knocking over the
//! TACACS server.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;

use super::channel::CliStream;
use super::driver::Driver;
use super::profile::{PlatformProfile, ProfileSet, Session};
use super::{DeviceError, Response};
use crate::secret::Secret;
use crate::transport::settings::{ConnectionKind, ConnectionSettings};
use crate::transport::ssh::{AbortHandle, SshOptions, SshSession};
use crate::transport::TransportError;

/// One transport's way of doing what [`Connection`] offers. Each transport (SSH CLI or
/// exec, telnet, NETCONF, HTTP APIs) implements what it can; the defaults refuse with
/// [`DeviceError::Unsupported`], naming the transport.
pub trait Backend: Send {
    /// Run one command (CLI text in, device text out).
    fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError>;

    /// A command with prompts to answer; transports without prompts just run it.
    fn run_interactive(
        &mut self,
        cmd: &str,
        _answers: &[(Regex, String)],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.run_command(cmd, timeout)
    }

    /// Config lines, entered the profile's way (or `enter`) and committed the profile's
    /// way (or `commit`).
    fn send_config_with(
        &mut self,
        _lines: &[String],
        _enter: Option<&str>,
        _commit: Option<&str>,
        _timeout: Duration,
    ) -> Result<Response, DeviceError> {
        Err(self.unsupported("config mode"))
    }

    /// Commands in a given CLI mode, then back.
    fn send_in_mode(
        &mut self,
        _mode: &str,
        _commands: &[String],
        _timeout: Duration,
    ) -> Result<Response, DeviceError> {
        Err(self.unsupported("CLI modes"))
    }

    /// Save running to startup; `None`: nothing to save.
    fn save(&mut self, _timeout: Duration) -> Result<Option<Response>, DeviceError> {
        Ok(None)
    }

    /// The output cap for the current task's commands.
    fn set_max_output(&mut self, _cap: u64) {}

    /// The default step time of the current task's work.
    fn set_timeout(&mut self, _timeout: Duration) {}

    /// An interactive CLI (modes, prompts) rather than one-shot commands.
    fn is_cli(&self) -> bool {
        false
    }

    /// The SSH session under this transport, for SCP/SFTP and exec.
    fn ssh(&self) -> Option<&SshSession> {
        None
    }

    /// The error for an operation this transport cannot do.
    fn unsupported(&self, what: &str) -> DeviceError;

    /// Close cleanly.
    fn close(self: Box<Self>);

    /// For actions that need a transport's own operations (NETCONF RPCs, API calls).
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A device CLI (modes, prompts, paging) over any byte stream: a PTY shell on SSH, or
/// telnet. `ssh` is the session under an SSH shell (dropped after the driver).
pub struct CliBackend<S: CliStream + Send + 'static> {
    pub driver: Driver<S>,
    pub ssh: Option<SshSession>,
    pub kind: ConnectionKind,
}

impl<S: CliStream + Send + 'static> Backend for CliBackend<S> {
    fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError> {
        self.driver.send_command_timeout(cmd, timeout)
    }

    fn run_interactive(
        &mut self,
        cmd: &str,
        answers: &[(Regex, String)],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.driver.send_interactive(cmd, answers, timeout)
    }

    fn send_config_with(
        &mut self,
        lines: &[String],
        enter: Option<&str>,
        commit: Option<&str>,
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.driver.set_timeout(timeout);
        self.driver.send_config_with(lines, enter, commit)
    }

    fn send_in_mode(
        &mut self,
        mode: &str,
        commands: &[String],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.driver.set_timeout(timeout);
        self.driver.send_in_mode(mode, commands)
    }

    fn save(&mut self, timeout: Duration) -> Result<Option<Response>, DeviceError> {
        self.driver.set_timeout(timeout);
        self.driver.save()
    }

    fn set_max_output(&mut self, cap: u64) {
        self.driver.set_max_output(cap);
    }

    fn set_timeout(&mut self, timeout: Duration) {
        self.driver.set_timeout(timeout);
    }

    fn is_cli(&self) -> bool {
        true
    }

    fn ssh(&self) -> Option<&SshSession> {
        self.ssh.as_ref()
    }

    fn unsupported(&self, what: &str) -> DeviceError {
        DeviceError::Unsupported {
            host: self.driver.host().to_string(),
            platform: format!("{} over {}", self.driver.profile().name, self.kind.name()),
            what: what.to_string(),
        }
    }

    fn close(self: Box<Self>) {
        let this = *self;
        this.driver.close();
        drop(this.ssh);
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A shell host over SSH: each command on its own exec channel.
pub struct ExecBackend {
    pub session: SshSession,
    pub profile: Arc<PlatformProfile>,
}

impl Backend for ExecBackend {
    fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError> {
        crate::device::exec_command(&self.session, &self.profile, cmd, timeout)
    }

    fn ssh(&self) -> Option<&SshSession> {
        Some(&self.session)
    }

    fn unsupported(&self, what: &str) -> DeviceError {
        DeviceError::Unsupported {
            host: self.session.host().to_string(),
            platform: self.profile.name.clone(),
            what: format!("{what} (an exec-channel host has none)"),
        }
    }

    fn close(self: Box<Self>) {}

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// An open connection to one host.
pub struct Connection {
    backend: Box<dyn Backend>,
    profile: Arc<PlatformProfile>,
    host: String,
    kind: ConnectionKind,
    command_timeout: Duration,
    /// The host's `max_output` (a task's cap replaces it for that task).
    default_max_output: u64,
    warnings: Vec<String>,
    abort: Option<AbortHandle>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("host", &self.host)
            .field("kind", &self.kind)
            .field("platform", &self.profile.name)
            .finish()
    }
}

impl Connection {
    /// Connect (after the rate limiter allows it), authenticate, and open the host's
    /// command layer over the transport its `connection` names. The platform is the one
    /// the inventory resolved for the host ([`crate::inventory::resolve_platform`]).
    pub fn open(
        settings: &ConnectionSettings,
        profiles: &ProfileSet,
        ssh: &SshOptions,
        limiter: Option<&RateLimiter>,
        timeout: Option<Duration>,
    ) -> Result<Connection, DeviceError> {
        let profile = profiles.resolve(&settings.host_name, &settings.platform)?;
        if let Some(l) = limiter {
            l.wait();
        }
        match settings.kind {
            ConnectionKind::Ssh => {
                let session = SshSession::connect(settings, ssh)?;
                Connection::on_session(session, profile, settings.enable_secret.as_ref(), timeout)
            }
            ConnectionKind::Telnet => crate::transport::telnet::open(settings, profile, timeout),
            ConnectionKind::Eapi | ConnectionKind::Nxapi | ConnectionKind::Restconf => {
                crate::transport::http::open(settings, profile, timeout)
            }
            ConnectionKind::Netconf => {
                crate::transport::netconf::open(settings, profile, ssh, timeout)
            }
        }
    }

    /// A connection over a backend opened elsewhere (each transport's own module).
    pub fn from_backend(
        backend: Box<dyn Backend>,
        settings: &ConnectionSettings,
        profile: Arc<PlatformProfile>,
        warnings: Vec<String>,
        abort: Option<AbortHandle>,
    ) -> Connection {
        Connection {
            backend,
            profile,
            host: settings.host_name.clone(),
            kind: settings.kind,
            command_timeout: settings.command_timeout,
            default_max_output: settings.max_output,
            warnings,
            abort,
        }
    }

    /// Open the platform's command layer on an already authenticated SSH session: the
    /// CLI driver for PTY platforms, nothing more for exec-channel hosts.
    /// `timeout`: the step time of opening (the first task's `timeout`), default the
    /// session's `command_timeout`.
    pub fn on_session(
        session: SshSession,
        profile: Arc<PlatformProfile>,
        enable: Option<&Secret>,
        timeout: Option<Duration>,
    ) -> Result<Connection, DeviceError> {
        let t = timeout.unwrap_or(session.command_timeout());
        let host = session.host().to_string();
        let command_timeout = session.command_timeout();
        let default_max_output = session.max_output();
        let warnings = session.warnings().to_vec();
        let abort = Some(session.abort_handle());
        let backend: Box<dyn Backend> = match profile.session {
            Session::Exec => Box::new(ExecBackend {
                session,
                profile: Arc::clone(&profile),
            }),
            Session::Pty => {
                let driver = Driver::open_shared(&session, Arc::clone(&profile), enable, t)?;
                Box::new(CliBackend {
                    driver,
                    ssh: Some(session),
                    kind: ConnectionKind::Ssh,
                })
            }
        };
        Ok(Connection {
            backend,
            profile,
            host,
            kind: ConnectionKind::Ssh,
            command_timeout,
            default_max_output,
            warnings,
            abort,
        })
    }

    /// The profile, shared (an action that also needs the connection mutably holds this).
    pub fn profile_arc(&self) -> Arc<PlatformProfile> {
        Arc::clone(&self.profile)
    }

    pub fn profile(&self) -> &PlatformProfile {
        &self.profile
    }

    /// The inventory name of the host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The transport.
    pub fn kind(&self) -> ConnectionKind {
        self.kind
    }

    /// The host's `command_timeout`.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The SSH session under the connection (SCP/SFTP, exec), or why there is none.
    pub fn ssh(&self, what: &str) -> Result<&SshSession, TransportError> {
        self.backend.ssh().ok_or_else(|| TransportError::NeedsSsh {
            host: self.host.clone(),
            what: what.to_string(),
            kind: self.kind.name().to_string(),
        })
    }

    /// Cuts the connection from another thread (interrupts, run deadlines).
    pub fn abort_handle(&self) -> Option<AbortHandle> {
        self.abort.clone()
    }

    /// The transport's own operations, for the actions that need them.
    pub fn backend_mut(&mut self) -> &mut dyn Backend {
        self.backend.as_mut()
    }

    /// Warnings from connecting (host key checking off, plain-text telnet, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The most output each command of the current task keeps: the task's `max_output`,
    /// or (`None`) the host's.
    pub fn set_max_output(&mut self, cap: Option<u64>) {
        let cap = cap.unwrap_or(self.default_max_output);
        if let Some(s) = self.backend.ssh() {
            s.set_max_output(Some(cap));
        }
        self.backend.set_max_output(cap);
    }

    /// The default step time of the current task's CLI work (mode changes, config
    /// entry and exit, save): the task's `timeout`, or (`None`) the host's
    /// `command_timeout`. A device that floods while changing mode then holds a task only
    /// as long as the task allows.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.backend
            .set_timeout(timeout.unwrap_or(self.command_timeout));
    }

    pub fn is_cli(&self) -> bool {
        self.backend.is_cli()
    }

    /// Run one command, on the CLI, an exec channel or a device API.
    pub fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError> {
        self.backend.run_command(cmd, timeout)
    }

    /// A command with prompts to answer (`expect` pairs).
    pub fn run_interactive(
        &mut self,
        cmd: &str,
        answers: &[(String, String)],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        let mut compiled = Vec::with_capacity(answers.len());
        for (prompt, answer) in answers {
            let re = Regex::new(prompt).map_err(|e| DeviceError::Unsupported {
                host: self.host.clone(),
                platform: self.profile.name.clone(),
                what: format!("the expect prompt `{prompt}` (not a valid regex: {e})"),
            })?;
            compiled.push((re, answer.clone()));
        }
        self.backend.run_interactive(cmd, &compiled, timeout)
    }

    /// Enter config mode, send the lines, leave (committing on commit platforms).
    pub fn send_config(
        &mut self,
        lines: &[String],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.backend.send_config_with(lines, None, None, timeout)
    }

    /// [`Connection::send_config`] with another way into config mode and another commit
    /// (a change under a revert timer).
    pub fn send_config_with(
        &mut self,
        lines: &[String],
        enter: Option<&str>,
        commit: Option<&str>,
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.backend.send_config_with(lines, enter, commit, timeout)
    }

    /// Commands sent in a given CLI mode (confirming a change), then back.
    pub fn send_in_mode(
        &mut self,
        mode: &str,
        commands: &[String],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        self.backend.send_in_mode(mode, commands, timeout)
    }

    /// Save the running config to startup; `None` when the platform has nothing to save
    /// (commit platforms persist on commit).
    pub fn save(&mut self, timeout: Duration) -> Result<Option<Response>, DeviceError> {
        self.backend.save(timeout)
    }

    /// The running configuration as the profile shows it (a response, so a device that
    /// refuses the command is a failed response, not an error).
    pub fn running_config(&mut self, timeout: Duration) -> Result<Response, DeviceError> {
        if let Some(nc) = self
            .backend
            .as_any_mut()
            .downcast_mut::<crate::transport::netconf::NetconfBackend>()
        {
            return nc.running_config(timeout);
        }
        let Some(cmd) = self.profile.show_config.clone() else {
            return Err(DeviceError::Unsupported {
                host: self.host.clone(),
                platform: self.profile.name.clone(),
                what: "showing the running config (no show_config in its profile)".into(),
            });
        };
        self.run_command(&cmd, timeout)
    }

    /// Close cleanly (the CLI's `exit`, then the session).
    pub fn close(self) {
        self.backend.close();
    }
}

/// At most `rate` new sessions per second across all workers, with up to 20% jitter so the
/// authentication servers behind the devices see a smooth stream rather than bursts.
/// "At most" holds in every window of one second, not only on average: evenly spaced slots
/// plus jitter alone let `rate + 1` starts into some second.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// Starts allowed in any one second: `rate` rounded down (at least 1).
    per_second: usize,
    state: Mutex<LimiterState>,
}

#[derive(Debug)]
struct LimiterState {
    next: Instant,
    /// The last `per_second` starts, oldest first, as they happened (a thread may wake
    /// after its slot).
    started: std::collections::VecDeque<Instant>,
    seed: u64,
}

impl RateLimiter {
    pub fn new(per_second: f64) -> Option<RateLimiter> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return None;
        }
        let cap = (per_second.floor() as usize).clamp(1, 1_000_000);
        // Slots as many as a second admits (2.5/s starts 2 a second), so callers do not
        // queue up behind the window rule.
        let effective = if per_second >= 1.0 {
            per_second.floor()
        } else {
            per_second
        };
        Some(RateLimiter {
            interval: Duration::from_secs_f64(1.0 / effective),
            per_second: cap,
            state: Mutex::new(LimiterState {
                next: Instant::now(),
                started: std::collections::VecDeque::with_capacity(cap),
                seed: 0x9E37_79B9_7F4A_7C15,
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Block until this caller's slot comes and it may start without making more than
    /// `per_second` starts in any second. Called on a blocking worker thread, right before
    /// it connects.
    pub fn wait(&self) {
        let mut at = self.slot(Instant::now());
        loop {
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            // On the real clock: a thread woken late must not join the second of the
            // `per_second` starts before it.
            match self.admit(Instant::now()) {
                None => return,
                Some(later) => at = later,
            }
        }
    }

    /// The evenly spaced (jittered) slot of a caller arriving at `now`.
    fn slot(&self, now: Instant) -> Instant {
        let mut st = self.state();
        // xorshift: cheap, good enough to spread connection starts.
        st.seed ^= st.seed << 13;
        st.seed ^= st.seed >> 7;
        st.seed ^= st.seed << 17;
        let jitter = self
            .interval
            .mul_f64((st.seed % 1000) as f64 / 1000.0 * 0.2);
        let slot = st.next.max(now);
        st.next = slot + self.interval;
        slot + jitter
    }

    /// Start at `now` (`None`), or not before the time returned: one second (and a hair,
    /// windows being closed) after the start `per_second` starts ago.
    fn admit(&self, now: Instant) -> Option<Instant> {
        let mut st = self.state();
        if st.started.len() == self.per_second {
            let oldest = st.started.front().copied()?;
            let earliest = oldest + Duration::from_secs(1) + Duration::from_micros(1);
            if now < earliest {
                return Some(earliest);
            }
            st.started.pop_front();
        }
        st.started.push_back(now);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_spaces_connections() {
        let l = RateLimiter::new(20.0).unwrap();
        let t = Instant::now();
        for _ in 0..5 {
            l.wait();
        }
        // Five slots at 50 ms spacing: the fifth starts at >= 200 ms.
        assert!(
            t.elapsed() >= Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
        assert!(RateLimiter::new(0.0).is_none());
    }

    /// 10,000 workers asking at once, every seventh waking 3 ms after its slot (a busy
    /// machine): played in time order, no closed one-second window holds more starts than
    /// the rate, and the mean stays at the rate.
    #[test]
    fn rate_limiter_never_exceeds_the_rate_in_any_second() {
        use std::cmp::Reverse;
        for rate in [0.5, 1.0, 2.5, 20.0, 500.0, 2000.0] {
            let l = RateLimiter::new(rate).unwrap();
            let t0 = Instant::now();
            let mut wakes: std::collections::BinaryHeap<Reverse<Instant>> = (0..10_000)
                .map(|i| {
                    let late = if i % 7 == 0 { 3 } else { 0 };
                    Reverse(l.slot(t0) + Duration::from_millis(late))
                })
                .collect();
            let mut starts = Vec::new();
            while let Some(Reverse(t)) = wakes.pop() {
                match l.admit(t) {
                    None => starts.push(t),
                    Some(later) => wakes.push(Reverse(later)),
                }
            }
            let cap = (rate.floor() as usize).max(1);
            for w in starts.windows(cap + 1) {
                assert!(
                    w[cap] - w[0] > Duration::from_secs(1),
                    "{} starts within {:?} at rate {rate}",
                    cap + 1,
                    w[cap] - w[0]
                );
            }
            let span = (starts[starts.len() - 1] - starts[0]).as_secs_f64();
            let mean = (starts.len() - 1) as f64 / span;
            // A fraction of a session per second cannot start within a second: 2.5 gives 2.
            // (The first and last starts' jitter may shorten the span by a hair.)
            let expected = rate.floor().max(1.0).min(rate);
            assert!(
                mean <= rate * 1.0001 && mean > 0.98 * expected,
                "mean {mean} at rate {rate}"
            );
        }
    }
}
