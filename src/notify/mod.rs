//! Change notifications: when a backup run changes a device's config, or a run or job
//! fails, tell a webhook (netorch's JSON, Slack, Teams, Mattermost) and/or mail over SMTP.
//!
//! - [`config`]: `notify:` / `--notify` read and checked before any device is touched.
//! - [`summary`]: what a message says, from the run's JSON report, bounded in size.
//! - [`webhook`], [`email`]: the two kinds of target.
//!
//! [`notify`] sends to every target concerned at once, each on its own thread, and waits at
//! most the longest target's `timeout` (plus a little): a notification never blocks or fails
//! the run. What happened to each target comes back as a [`Delivery`] for the run's JSON
//! report (`notifications`) and the daemon's status.

pub mod config;
pub mod email;
pub mod summary;
pub mod webhook;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use config::{parse_cli, Config, Event, Target};
pub use summary::RunSummary;

/// Why a notification was not delivered.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NotifyError {
    /// The target's settings could not be used (a secret file gone since the run started).
    #[error("{target}: {reason}")]
    Config { target: String, reason: String },
    /// Sending failed (after `attempts` tries).
    #[error("{target}: {reason}{}", if *.attempts > 1 { format!(" (after {} attempts)", .attempts) } else { String::new() })]
    Send {
        target: String,
        attempts: u32,
        reason: String,
    },
    /// The target did not finish within its time; the run went on without it.
    #[error("{target}: no answer within {secs}s; given up")]
    Timeout { target: String, secs: u64 },
}

/// What happened to one target.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Delivery {
    /// The target's `name`, else its kind and where it goes (never a webhook's path).
    pub target: String,
    /// `webhook` or `email`.
    pub kind: String,
    /// The events the message was about (`changed`, `failed`).
    pub events: Vec<String>,
    /// `sent` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Delivery {
    pub fn failed(&self) -> bool {
        self.status != "sent"
    }
}

/// Extra time past a target's own `timeout` before it is given up on (thread start, DNS).
const GRACE: Duration = Duration::from_secs(5);

/// Send what `summary` is news about to every target that wants it. Nothing to say (no
/// change, no failure) sends nothing and returns no delivery.
pub fn notify(cfg: &Config, summary: &RunSummary) -> Vec<Delivery> {
    let events = summary.events();
    if events.is_empty() {
        return Vec::new();
    }
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<u32, NotifyError>, u64)>();
    let mut pending: Vec<Delivery> = Vec::new();
    let mut deadline = Instant::now();
    for target in &cfg.targets {
        let wanted: Vec<Event> = events
            .iter()
            .copied()
            .filter(|e| target.on().contains(e))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let idx = pending.len();
        let label = target.label();
        pending.push(Delivery {
            target: label.clone(),
            kind: target.kind().into(),
            events: wanted.iter().map(|e| e.as_str().to_string()).collect(),
            status: "failed".into(),
            ..Default::default()
        });
        deadline = deadline.max(Instant::now() + target.timeout() + GRACE);
        let target = target.clone();
        let links = cfg.links.clone();
        let summary = summary.clone();
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("notify-{idx}"))
            .spawn(move || {
                let t = Instant::now();
                let result = send_one(&target, &label, &summary, &links, &wanted);
                let ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
                let _ = tx.send((idx, result, ms));
            });
        if let Err(e) = spawned {
            pending[idx].error = Some(format!("cannot start a thread: {e}"));
            pending[idx].status = "failed".into();
        }
    }
    drop(tx);
    let mut done = vec![false; pending.len()];
    while done.iter().any(|d| !d) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((idx, result, ms)) => {
                done[idx] = true;
                let d = &mut pending[idx];
                d.duration_ms = ms;
                match result {
                    Ok(attempts) => {
                        d.status = "sent".into();
                        d.attempts = attempts;
                    }
                    Err(e) => {
                        if let NotifyError::Send { attempts, .. } = &e {
                            d.attempts = *attempts;
                        }
                        d.error = Some(e.to_string());
                    }
                }
            }
            // Every sender is gone (threads that could not start) or time is up.
            Err(_) => break,
        }
    }
    for (i, d) in pending.iter_mut().enumerate() {
        if !done[i] && d.error.is_none() {
            let secs = cfg
                .targets
                .iter()
                .find(|t| t.label() == d.target)
                .map_or(0, |t| t.timeout().as_secs());
            d.error = Some(
                NotifyError::Timeout {
                    target: d.target.clone(),
                    secs,
                }
                .to_string(),
            );
        }
    }
    pending
}

fn send_one(
    target: &Target,
    label: &str,
    summary: &RunSummary,
    links: &config::Links,
    events: &[Event],
) -> Result<u32, NotifyError> {
    match target {
        Target::Webhook(w) => {
            let body = webhook::payload(w, summary, links, events);
            let bytes = serde_json::to_vec(&body).map_err(|e| NotifyError::Config {
                target: label.to_string(),
                reason: format!("cannot encode the payload: {e}"),
            })?;
            webhook::send(w, label, &bytes, events)
        }
        Target::Email(e) => {
            let msg = email::message(e, summary, links, label)?;
            email::send(e, &msg, label).map(|()| 1)
        }
    }
}

/// One line per failed delivery, for stderr and logs.
pub fn failure_lines(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .filter(|d| d.failed())
        .map(|d| {
            format!(
                "notification not delivered: {}",
                d.error.as_deref().unwrap_or("failed")
            )
        })
        .collect()
}
