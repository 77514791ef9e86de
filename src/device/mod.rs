//! The device CLI layer: prompt-aware channel, mode-graph driver, platform profiles.
//!
//! - [`profile`]: platforms as data (YAML, built-ins embedded, user overrides).
//! - [`channel`]: reads until a prompt over a PTY shell; paging, echo and ANSI stripping.
//! - [`driver`]: privilege and config modes as a graph, commands and config pushes with
//!   the device's complaints as result states ([`Response::failed`]), not errors.
//! - [`connection`]: the one connection type ([`Connection`]): session + resolved platform +
//!   driver, the same way to run a command on a CLI device (PTY) or a Linux host (exec
//!   channel).

pub mod capability;
pub mod channel;
pub mod connection;
pub mod driver;
pub mod profile;

use std::time::{Duration, Instant};

pub use channel::{Channel, CliStream, SshShell};
pub use connection::{Connection, RateLimiter};
pub use driver::Driver;
pub use profile::{PlatformProfile, ProfileSet};

use crate::transport::{SshSession, TransportError};

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
        // The whole (capped) output is in the result; a message shows its end.
        format!(
            "; output so far:\n{}",
            crate::transport::capture::excerpt(p)
        )
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
