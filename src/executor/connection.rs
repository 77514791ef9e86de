//! A host's connection: one SSH session, opened on first use and reused by every task until
//! the host has nothing more to do in the run (the executor then closes it), with a CLI
//! driver on top for device platforms. Also the connection-rate limiter that keeps a
//! 1,000-device run from knocking over the TACACS server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::device::driver::Driver;
use crate::device::profile::{PlatformProfile, ProfileSet, Session};
use crate::device::{channel::SshShell, DeviceError, Response};
use crate::report::{CommandOutput, Status, TaskResult};
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

/// Why a connection could not be had, already turned into the result the task gets.
pub type ConnectFailure = TaskResult;

impl Connection {
    /// Connect (after the rate limiter allows it), authenticate, and open the device CLI.
    /// A transport failure is `unreachable`; a CLI failure after login (wrong enable secret,
    /// no prompt) is `failed`.
    pub fn open(
        settings: &ConnectionSettings,
        profiles: &ProfileSet,
        ssh: &SshOptions,
        limiter: Option<&RateLimiter>,
    ) -> Result<Connection, ConnectFailure> {
        let platform = settings.platform.as_deref().unwrap_or("linux");
        let Some(profile) = profiles.shared(platform) else {
            return Err(TaskResult::failed(format!(
                "unknown platform `{platform}` (known: {})",
                profiles.names().collect::<Vec<_>>().join(", ")
            )));
        };
        if let Some(l) = limiter {
            l.wait();
        }
        let session = SshSession::connect(settings, ssh).map_err(|e| {
            if e.is_unreachable() {
                TaskResult::unreachable(e.to_string())
            } else {
                TaskResult::failed(e.to_string())
            }
        })?;
        let cli = match profile.session {
            Session::Exec => None,
            Session::Pty => Some(
                Driver::open_shared(
                    &session,
                    Arc::clone(&profile),
                    settings.enable_secret.as_ref(),
                )
                .map_err(|e| device_failure(&e))?,
            ),
        };
        Ok(Connection {
            cli,
            session,
            profile,
        })
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

/// A device error as a task result: a dropped or hung session makes the host unreachable
/// for the rest of the run; anything else is a failure.
pub fn device_failure(e: &DeviceError) -> TaskResult {
    let lost = matches!(e, DeviceError::Closed { .. })
        || matches!(e, DeviceError::Transport(t) if t.is_unreachable());
    let status = if lost {
        Status::Unreachable
    } else {
        Status::Failed
    };
    let mut r = TaskResult::new(status).with_msg(e.to_string());
    if let Some(partial) = e.partial_output() {
        if !partial.is_empty() {
            r.commands.push(CommandOutput {
                command: String::from("(output before the error)"),
                output: partial.to_string(),
                exit_status: None,
                error: Some(e.to_string()),
            });
        }
    }
    r
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
