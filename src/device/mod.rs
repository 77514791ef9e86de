//! The device CLI layer: prompt-aware channel, mode-graph driver, platform profiles.
//!
//! - [`profile`]: platforms as data (YAML, built-ins embedded, user overrides).
//! - [`channel`]: reads until a prompt over a PTY shell; paging, echo and ANSI stripping.
//! - [`driver`]: privilege and config modes as a graph, commands and config pushes with
//!   the device's complaints as result states ([`Response::failed`]), not errors.
//! - [`connection`]: the one connection type ([`Connection`]): session + resolved platform +
//!   driver, the same way to run a command on a CLI device (PTY) or a Linux host (exec
//!   channel), and [`run_commands_on_host`] for `netorch exec`.

pub mod channel;
pub mod connection;
pub mod driver;
pub mod profile;

use std::time::{Duration, Instant};

pub use channel::{Channel, CliStream, SshShell};
pub use connection::{Connection, RateLimiter};
pub use driver::Driver;
pub use profile::{PlatformProfile, ProfileSet};

use crate::transport::{ConnectionSettings, SshOptions, SshSession, TransportError};

pub use crate::inventory::DEFAULT_PLATFORM;

/// A device session that failed (as opposed to a device that answered with an error, which
/// is a [`Response`] with `failed` set).
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// No answer in time; `partial` is what the device sent before going quiet.
    #[error("{host}: {what}: no prompt within {secs:.1}s{}", partial_text(.partial))]
    Timeout {
        host: String,
        what: String,
        secs: f64,
        partial: String,
    },

    #[error("{host}: {what}: session lost ({reason}){}", partial_text(.partial))]
    Closed {
        host: String,
        what: String,
        partial: String,
        reason: String,
    },

    /// The first prompt never matched the platform's prompt patterns.
    #[error("{host}: no {platform} prompt recognized within {secs:.1}s; the device's last line was {last_line:?}\n hint: is `platform: {platform}` right for this host? A user profile in platforms/ can adjust the prompt patterns")]
    NoPrompt {
        host: String,
        platform: String,
        secs: f64,
        last_line: String,
    },

    /// Entering privileged mode failed (wrong or missing enable secret).
    #[error("{host}: cannot enter {mode} mode: {reason}")]
    Enable {
        host: String,
        mode: String,
        reason: String,
    },

    /// A mode change command did not lead where the profile says.
    #[error("{host}: `{command}` should lead from {from} to {to} mode but the prompt is now {prompt:?}{}", partial_text(.output))]
    ModeChange {
        host: String,
        command: String,
        from: String,
        to: String,
        prompt: String,
        output: String,
    },

    #[error("{host}: platform {platform} has no path from mode `{from}` to `{to}`")]
    NoPath {
        host: String,
        platform: String,
        from: String,
        to: String,
    },

    #[error("{host}: unknown platform `{platform}`; known: {known}{}", .hint.as_ref().map(|h| format!("\n hint: did you mean `{h}`?")).unwrap_or_default())]
    UnknownPlatform {
        host: String,
        platform: String,
        known: String,
        hint: Option<String>,
    },

    #[error("{host}: platform {platform} does not support {what}")]
    Unsupported {
        host: String,
        platform: String,
        what: String,
    },
}

fn partial_text(p: &str) -> String {
    if p.trim().is_empty() {
        String::new()
    } else {
        format!("; output so far:\n{p}")
    }
}

impl DeviceError {
    /// Output received before the error, if any.
    pub fn partial_output(&self) -> Option<&str> {
        match self {
            DeviceError::Timeout { partial, .. } | DeviceError::Closed { partial, .. } => {
                Some(partial)
            }
            DeviceError::Transport(TransportError::Timeout { partial, .. }) => Some(partial),
            _ => None,
        }
    }

    /// Put `earlier` output in front of the partial output (multi-step reads).
    pub fn with_partial_prefix(mut self, earlier: &str) -> Self {
        if earlier.is_empty() {
            return self;
        }
        if let DeviceError::Timeout { partial, .. } | DeviceError::Closed { partial, .. } =
            &mut self
        {
            *partial = format!("{}\n{}", earlier.trim_end(), partial)
                .trim()
                .to_string();
        }
        self
    }
}

/// What a command produced. A device rejecting the command is `failed`, not an error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Response {
    pub command: String,
    pub output: String,
    /// The failure indicator's device text (and for config, the line that caused it).
    pub failed: Option<String>,
    /// Exec-channel hosts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    pub elapsed_ms: u64,
}

impl Response {
    pub fn is_ok(&self) -> bool {
        self.failed.is_none()
    }
}

pub(crate) fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Run one command on an exec channel: a non-zero exit status or the profile's failure
/// indicator in stdout makes a failed response (not an error).
pub fn exec_command(
    session: &SshSession,
    profile: &PlatformProfile,
    cmd: &str,
    timeout: Duration,
) -> Result<Response, DeviceError> {
    let t = Instant::now();
    let out = session.exec(cmd, timeout)?;
    let failed = if out.exit_status != 0 {
        let first = out.stderr.lines().find(|l| !l.trim().is_empty());
        Some(match first {
            Some(l) => format!("exit status {}: {}", out.exit_status, l.trim()),
            None => format!("exit status {}", out.exit_status),
        })
    } else {
        profile.failure_in(&out.stdout)
    };
    Ok(Response {
        command: cmd.to_string(),
        output: out.stdout.trim_end_matches('\n').to_string(),
        failed,
        exit_status: Some(out.exit_status),
        stderr: out.stderr,
        elapsed_ms: elapsed_ms(t),
    })
}

/// How one command went on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandStatus {
    Ok,
    /// The device rejected it (failure indicator or non-zero exit status).
    Failed,
    /// The session failed (timeout, dropped).
    Error,
    /// Not run because an earlier command broke the session.
    Skipped,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CommandOutcome {
    pub command: String,
    pub status: CommandStatus,
    pub output: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    Ok,
    Failed,
    Unreachable,
}

/// Everything `netorch exec` reports for one host.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostOutcome {
    pub host: String,
    pub platform: String,
    pub status: HostStatus,
    /// Which credential set logged in (a label, never a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why the host could not be used at all (connect, login, first prompt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub commands: Vec<CommandOutcome>,
    pub elapsed_ms: u64,
}

/// Connect to one host, run `commands` in its command mode, and report each one. Never
/// panics and never returns early with an error: everything ends up in the outcome. Blocking;
/// callers run it on a blocking thread.
pub fn run_commands_on_host(
    settings: &ConnectionSettings,
    profiles: &ProfileSet,
    commands: &[String],
    opts: &SshOptions,
) -> HostOutcome {
    let t = Instant::now();
    let platform = settings.platform.clone();
    let mut outcome = HostOutcome {
        host: settings.host_name.clone(),
        platform: platform.clone(),
        status: HostStatus::Ok,
        credential: None,
        warnings: Vec::new(),
        error: None,
        commands: Vec::new(),
        elapsed_ms: 0,
    };
    let skipped = |from: usize| -> Vec<CommandOutcome> {
        commands[from..]
            .iter()
            .map(|c| CommandOutcome {
                command: c.clone(),
                status: CommandStatus::Skipped,
                output: String::new(),
                stderr: String::new(),
                exit_status: None,
                error: None,
                elapsed_ms: 0,
            })
            .collect()
    };
    let Some(profile) = profiles.shared(&platform) else {
        let known: Vec<&str> = profiles.names().collect();
        let err = DeviceError::UnknownPlatform {
            host: settings.host_name.clone(),
            platform: platform.clone(),
            known: known.join(", "),
            hint: crate::source::suggest(&platform, known.iter().copied()).map(str::to_string),
        };
        outcome.status = HostStatus::Failed;
        outcome.error = Some(err.to_string());
        outcome.commands = skipped(0);
        outcome.elapsed_ms = elapsed_ms(t);
        return outcome;
    };
    let session = match SshSession::connect(settings, opts) {
        Ok(s) => s,
        Err(e) => {
            outcome.status = if e.is_unreachable() {
                HostStatus::Unreachable
            } else {
                HostStatus::Failed
            };
            outcome.error = Some(e.to_string());
            outcome.commands = skipped(0);
            outcome.elapsed_ms = elapsed_ms(t);
            return outcome;
        }
    };
    outcome.credential = Some(session.credential_used().to_string());
    outcome.warnings = session.warnings().to_vec();
    let session_timeout = settings.command_timeout;
    let mut device = match Connection::on_session(session, profile, settings.enable_secret.as_ref())
    {
        Ok(d) => d,
        Err(e) => {
            outcome.status = HostStatus::Failed;
            outcome.error = Some(e.to_string());
            outcome.commands = skipped(0);
            outcome.elapsed_ms = elapsed_ms(t);
            return outcome;
        }
    };
    for (i, cmd) in commands.iter().enumerate() {
        let ct = Instant::now();
        match device.run_command(cmd, session_timeout) {
            Ok(r) => {
                let status = if r.failed.is_some() {
                    outcome.status = HostStatus::Failed;
                    CommandStatus::Failed
                } else {
                    CommandStatus::Ok
                };
                outcome.commands.push(CommandOutcome {
                    command: r.command,
                    status,
                    output: r.output,
                    stderr: r.stderr,
                    exit_status: r.exit_status,
                    error: r.failed,
                    elapsed_ms: r.elapsed_ms,
                });
            }
            Err(e) => {
                outcome.status = HostStatus::Failed;
                outcome.commands.push(CommandOutcome {
                    command: cmd.clone(),
                    status: CommandStatus::Error,
                    output: e.partial_output().unwrap_or_default().to_string(),
                    stderr: String::new(),
                    exit_status: None,
                    error: Some(e.to_string()),
                    elapsed_ms: elapsed_ms(ct),
                });
                // A timed-out or dropped session is not trusted for more commands.
                outcome.commands.extend(skipped(i + 1));
                break;
            }
        }
    }
    device.close();
    outcome.elapsed_ms = elapsed_ms(t);
    outcome
}
