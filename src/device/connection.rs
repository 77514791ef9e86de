//! The one way to run commands on a host: [`Connection`] owns the transport session, the
//! platform profile resolved for the host, and (for CLI platforms) the mode driver on a PTY
//! shell. Exec-channel hosts (Linux) run each command on its own channel. The executor opens
//! one per host on first use and reuses it until the host has nothing more to do in the run.
//! New transports (telnet, NETCONF, HTTP APIs) become further kinds of this type.
//!
//! Also the connection-rate limiter that keeps a 1,000-device run from knocking over the
//! TACACS server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::driver::Driver;
use super::profile::{PlatformProfile, ProfileSet, Session};
use super::{channel::SshShell, DeviceError, Response};
use crate::secret::Secret;
use crate::transport::settings::ConnectionSettings;
use crate::transport::ssh::{SshOptions, SshSession};

/// An open connection to one host.
pub struct Connection {
    // Drop order: the driver (its channel) before the session.
    cli: Option<Driver<SshShell>>,
    session: SshSession,
    profile: Arc<PlatformProfile>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("session", &self.session)
            .field("platform", &self.profile.name)
            .finish()
    }
}

impl Connection {
    /// Connect (after the rate limiter allows it), authenticate, and open the device CLI.
    /// The platform is the one the inventory resolved for the host
    /// ([`crate::inventory::resolve_platform`]).
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
        let session = SshSession::connect(settings, ssh)?;
        Connection::on_session(session, profile, settings.enable_secret.as_ref(), timeout)
    }

    /// Open the platform's command layer on an already authenticated session: the CLI
    /// driver for PTY platforms, nothing more for exec-channel hosts.
    /// `timeout`: the step time of opening (the first task's `timeout`), default the
    /// session's `command_timeout`.
    pub fn on_session(
        session: SshSession,
        profile: Arc<PlatformProfile>,
        enable: Option<&Secret>,
        timeout: Option<Duration>,
    ) -> Result<Connection, DeviceError> {
        let t = timeout.unwrap_or(session.command_timeout());
        let cli = match profile.session {
            Session::Exec => None,
            Session::Pty => Some(Driver::open_shared(
                &session,
                Arc::clone(&profile),
                enable,
                t,
            )?),
        };
        Ok(Connection {
            cli,
            session,
            profile,
        })
    }

    /// The profile, shared (an action that also needs the connection mutably holds this).
    pub fn profile_arc(&self) -> Arc<PlatformProfile> {
        Arc::clone(&self.profile)
    }

    pub fn profile(&self) -> &PlatformProfile {
        &self.profile
    }

    pub fn session(&self) -> &SshSession {
        &self.session
    }

    /// Warnings from connecting (host key checking off, ...).
    pub fn warnings(&self) -> &[String] {
        self.session.warnings()
    }

    /// The most output each command of the current task keeps: the task's `max_output`,
    /// or (`None`) the host's.
    pub fn set_max_output(&mut self, cap: Option<u64>) {
        self.session.set_max_output(cap);
        let cap = self.session.max_output();
        if let Some(d) = &mut self.cli {
            d.set_max_output(cap);
        }
    }

    /// The default step time of the current task's CLI work (mode changes, config
    /// entry and exit, save): the task's `timeout`, or (`None`) the host's
    /// `command_timeout`. A device that floods while changing mode then holds a task only
    /// as long as the task allows.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        let t = timeout.unwrap_or(self.session.command_timeout());
        if let Some(d) = &mut self.cli {
            d.set_timeout(t);
        }
    }

    pub fn is_cli(&self) -> bool {
        self.cli.is_some()
    }

    /// Run one command, on the CLI or an exec channel.
    pub fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError> {
        match &mut self.cli {
            Some(d) => d.send_command_timeout(cmd, timeout),
            None => crate::device::exec_command(&self.session, &self.profile, cmd, timeout),
        }
    }

    /// A command with prompts to answer (`expect` pairs).
    pub fn run_interactive(
        &mut self,
        cmd: &str,
        answers: &[(String, String)],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        match &mut self.cli {
            Some(d) => {
                let mut compiled = Vec::with_capacity(answers.len());
                for (prompt, answer) in answers {
                    let re = regex::Regex::new(prompt).map_err(|e| DeviceError::Unsupported {
                        host: self.session.host().to_string(),
                        platform: self.profile.name.clone(),
                        what: format!("the expect prompt `{prompt}` (not a valid regex: {e})"),
                    })?;
                    compiled.push((re, answer.clone()));
                }
                d.send_interactive(cmd, &compiled, timeout)
            }
            None => self.run_command(cmd, timeout),
        }
    }

    /// Enter config mode, send the lines, leave (committing on commit platforms).
    pub fn send_config(
        &mut self,
        lines: &[String],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        match &mut self.cli {
            Some(d) => {
                d.set_timeout(timeout);
                d.send_config(lines)
            }
            None => Err(DeviceError::Unsupported {
                host: self.session.host().to_string(),
                platform: self.profile.name.clone(),
                what: "config mode (an exec-channel host has none)".into(),
            }),
        }
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
        match &mut self.cli {
            Some(d) => {
                d.set_timeout(timeout);
                d.send_config_with(lines, enter, commit)
            }
            None => Err(DeviceError::Unsupported {
                host: self.session.host().to_string(),
                platform: self.profile.name.clone(),
                what: "config mode (an exec-channel host has none)".into(),
            }),
        }
    }

    /// Commands sent in a given CLI mode (confirming a change), then back.
    pub fn send_in_mode(
        &mut self,
        mode: &str,
        commands: &[String],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        match &mut self.cli {
            Some(d) => {
                d.set_timeout(timeout);
                d.send_in_mode(mode, commands)
            }
            None => Err(DeviceError::Unsupported {
                host: self.session.host().to_string(),
                platform: self.profile.name.clone(),
                what: "CLI modes (an exec-channel host has none)".into(),
            }),
        }
    }

    /// Save the running config to startup; `None` when the platform has nothing to save
    /// (commit platforms persist on commit).
    pub fn save(&mut self, timeout: Duration) -> Result<Option<Response>, DeviceError> {
        match &mut self.cli {
            Some(d) => {
                d.set_timeout(timeout);
                d.save()
            }
            None => Ok(None),
        }
    }

    /// The running configuration as the profile shows it (a response, so a device that
    /// refuses the command is a failed response, not an error).
    pub fn running_config(&mut self, timeout: Duration) -> Result<Response, DeviceError> {
        let Some(cmd) = self.profile.show_config.clone() else {
            return Err(DeviceError::Unsupported {
                host: self.session.host().to_string(),
                platform: self.profile.name.clone(),
                what: "showing the running config (no show_config in its profile)".into(),
            });
        };
        self.run_command(&cmd, timeout)
    }

    /// Close cleanly (the CLI's `exit`, then the session).
    pub fn close(self) {
        if let Some(d) = self.cli {
            d.close();
        }
    }
}

/// At most `rate` new sessions per second across all workers, with up to 20% jitter so the
/// authentication servers behind the devices see a smooth stream rather than bursts.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
    seed: Mutex<u64>,
}

impl RateLimiter {
    pub fn new(per_second: f64) -> Option<RateLimiter> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return None;
        }
        Some(RateLimiter {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(Instant::now()),
            seed: Mutex::new(0x9E37_79B9_7F4A_7C15),
        })
    }

    /// Block until this caller's slot comes. Called on a blocking worker thread.
    pub fn wait(&self) {
        let jitter = {
            let mut s = match self.seed.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            // xorshift: cheap, good enough to spread connection starts.
            *s ^= *s << 13;
            *s ^= *s >> 7;
            *s ^= *s << 17;
            self.interval.mul_f64((*s % 1000) as f64 / 1000.0 * 0.2)
        };
        let slot = {
            let mut next = match self.next.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot + jitter
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
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
}
