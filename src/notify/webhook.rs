//! Webhooks: the payload of each format, the HMAC signature, and the POST with retries.
//!
//! Signature (when the target has a secret): `X-Netorch-Timestamp: <unix seconds>` and
//! `X-Netorch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, so a
//! receiver can check both who sent the body and that it is fresh (a replayed request
//! carries an old timestamp). `X-Netorch-Delivery` is the same on every retry of one
//! notification, for receivers that de-duplicate.

use std::io::Read;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::config::{Event, Format, Links, UrlSource, Webhook};
use super::summary::{render_text, RunSummary, Style};
use super::NotifyError;

/// The most of one diff in the JSON payload, and of all of them together.
const JSON_MAX_DIFF_BYTES: usize = 64 << 10;
const JSON_MAX_TOTAL_DIFF_BYTES: usize = 1 << 20;
/// Slack shows at most 40,000 characters of `text`; Mattermost posts hold 16,383; a Teams
/// message is refused above ~28 KB. Each budget stays well inside its limit.
const SLACK_MAX_BYTES: usize = 12_000;
const MATTERMOST_MAX_BYTES: usize = 12_000;
const TEAMS_MAX_BYTES: usize = 18_000;
/// The most of a response body read (the rest is dropped with the connection).
const MAX_RESPONSE_BYTES: u64 = 4096;
/// One attempt's own limit (the target's `timeout` bounds them all).
const MAX_ATTEMPT: Duration = Duration::from_secs(15);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The body a target gets.
pub fn payload(w: &Webhook, s: &RunSummary, links: &Links, events: &[Event]) -> Value {
    let chat = |max_bytes: usize, single_star_bold: bool| {
        render_text(
            s,
            links,
            Style {
                markdown: true,
                single_star_bold,
                max_bytes,
                max_diff_lines: 60,
            },
        )
    };
    match w.format {
        Format::Json => json_payload(s, links, events),
        Format::Slack => {
            // Slack reads `<...>` as links and mentions (`<!channel>` in a device's banner
            // would page everyone): its three control characters are escaped, and the
            // escaping may grow the text, so the budget shrinks until it fits.
            let mut budget = SLACK_MAX_BYTES;
            loop {
                let text = slack_escape(&chat(budget, true));
                if text.len() <= SLACK_MAX_BYTES * 3 || budget < 1000 {
                    break json!({ "text": text });
                }
                budget /= 2;
            }
        }
        Format::Mattermost => {
            json!({ "text": defuse_mentions(&chat(MATTERMOST_MAX_BYTES, false)), "username": "netorch" })
        }
        Format::Teams => {
            let body = render_text(
                s,
                links,
                Style {
                    markdown: false,
                    single_star_bold: false,
                    max_bytes: TEAMS_MAX_BYTES,
                    max_diff_lines: 60,
                },
            );
            // The first line is the headline: a title block of its own, the rest as
            // monospace text (Adaptive Cards have no code blocks).
            let (title, rest) = body.split_once('\n').unwrap_or((&body, ""));
            json!({
                "type": "message",
                "summary": s.headline(),
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "msteams": { "width": "Full" },
                        "body": [
                            { "type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true },
                            { "type": "TextBlock", "text": rest, "fontType": "Monospace", "wrap": true },
                        ],
                    },
                }],
            })
        }
    }
}

/// Mattermost notifies a whole channel for `@channel`, `@all` and `@here` anywhere in a
/// post: a word joiner keeps device text (a banner, an error) from doing that.
fn defuse_mentions(s: &str) -> String {
    let mut out = s.to_string();
    for m in ["channel", "all", "here"] {
        for form in [format!("@{m}"), format!("@{}", m.to_uppercase())] {
            out = out.replace(&form, &format!("@\u{2060}{}", &form[1..]));
        }
    }
    out
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// netorch's own document (README "Change notifications" describes it).
fn json_payload(s: &RunSummary, links: &Links, events: &[Event]) -> Value {
    let mut budget = JSON_MAX_TOTAL_DIFF_BYTES;
    let mut diffs_omitted = 0usize;
    let changed: Vec<Value> = s
        .changed
        .iter()
        .map(|c| {
            let mut v = json!({
                "host": c.host,
                "path": c.path,
                "new": c.new,
                "added": c.added,
                "removed": c.removed,
            });
            if let Some(d) = &c.diff {
                let (text, dropped) =
                    super::summary::cut_diff(d, usize::MAX, JSON_MAX_DIFF_BYTES.min(budget));
                if text.is_empty() && !d.is_empty() {
                    diffs_omitted += 1;
                    v["diff_omitted"] = Value::Bool(true);
                } else {
                    budget = budget.saturating_sub(text.len());
                    v["diff"] = Value::String(text);
                    if dropped > 0 || c.diff_truncated {
                        v["diff_truncated"] = Value::Bool(true);
                    }
                }
            }
            if let Some(l) = s.link(links.device.as_deref(), Some(c)) {
                v["link"] = Value::String(l);
            }
            v
        })
        .collect();
    json!({
        "netorch_version": crate::version::VERSION,
        "events": events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "summary": s.headline(),
        "job": s.job,
        "kind": s.kind,
        "result": s.result,
        "error": s.error,
        "check_mode": s.check_mode,
        "started": s.started,
        "duration_ms": s.duration_ms,
        "hosts": s.hosts,
        "store": s.store,
        "commit": s.commit,
        "changed": changed,
        "failed": s.failed,
        "omitted": {
            "changed": s.omitted_changed,
            "failed": s.omitted_failed,
            "diffs": diffs_omitted,
        },
        "links": {
            "commit": s.link(links.commit.as_deref(), None),
            "job": s.link(links.job.as_deref(), None),
        },
    })
}

/// `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>").
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> Option<String> {
    let mut signed = timestamp.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(body);
    Some(format!("sha256={}", hmac_sha256_hex(secret, &signed)?))
}

fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> Option<String> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(data);
    Some(data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()))
}

/// A delivery id: unique enough to de-duplicate retries (not a secret).
fn delivery_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:x}-{:x}-{:x}",
        t.as_secs(),
        t.subsec_nanos(),
        std::process::id()
    )
}

/// What one attempt came to.
enum Attempt {
    Done,
    /// Worth another try (5xx, 429, a dropped or refused connection, a timeout).
    Retry(String),
    Fatal(String),
}

/// POST the payload; returns the attempts made.
pub fn send(w: &Webhook, label: &str, body: &[u8], events: &[Event]) -> Result<u32, NotifyError> {
    let started = Instant::now();
    let url = match &w.url {
        UrlSource::Inline(u) => u.clone(),
        UrlSource::Env(n) => std::env::var(n)
            .map(|u| u.trim().to_string())
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| NotifyError::Config {
                target: label.to_string(),
                reason: format!("the environment variable {n} is not set"),
            })?,
    };
    let secret = match &w.secret {
        Some(s) => Some(s.read().map_err(|reason| NotifyError::Config {
            target: label.to_string(),
            reason,
        })?),
        None => None,
    };
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::NativeTls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A POST is never replayed somewhere else: a redirect is reported, not followed.
        .max_redirects(0)
        .tls_config(tls)
        .user_agent(concat!("netorch/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let id = delivery_id();
    let event_header = events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = w.timeout.saturating_sub(started.elapsed());
        let limit = left.min(MAX_ATTEMPT);
        let outcome = if limit.is_zero() {
            Attempt::Retry("no time left".into())
        } else {
            once(
                &agent,
                &url,
                body,
                limit,
                &id,
                &event_header,
                secret.as_ref().map(|s| s.expose().as_bytes()),
            )
        };
        let reason = match outcome {
            Attempt::Done => return Ok(attempt),
            Attempt::Fatal(reason) => {
                return Err(NotifyError::Send {
                    target: label.to_string(),
                    attempts: attempt,
                    reason,
                })
            }
            Attempt::Retry(reason) => reason,
        };
        let wait = FIRST_BACKOFF
            .saturating_mul(1 << (attempt - 1).min(8))
            .min(MAX_BACKOFF);
        let elapsed = started.elapsed();
        if attempt > w.retries || elapsed + wait >= w.timeout {
            let why = if attempt > w.retries {
                String::new()
            } else {
                format!(
                    " (the target's timeout of {}s is up)",
                    w.timeout.as_secs_f64()
                )
            };
            return Err(NotifyError::Send {
                target: label.to_string(),
                attempts: attempt,
                reason: format!("{reason}{why}"),
            });
        }
        tracing::debug!(target = label, attempt, ?wait, "webhook retried: {reason}");
        std::thread::sleep(wait);
    }
}

fn once(
    agent: &ureq::Agent,
    url: &str,
    body: &[u8],
    limit: Duration,
    id: &str,
    events: &str,
    secret: Option<&[u8]>,
) -> Attempt {
    let mut req = agent
        .post(url)
        .config()
        .timeout_global(Some(limit))
        .timeout_connect(Some(limit.min(Duration::from_secs(10))))
        .build()
        .header("Content-Type", "application/json")
        .header("X-Netorch-Event", events)
        .header("X-Netorch-Delivery", id);
    if let Some(key) = secret {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match signature(key, ts, body) {
            Some(sig) => {
                req = req
                    .header("X-Netorch-Timestamp", ts.to_string())
                    .header("X-Netorch-Signature", sig);
            }
            None => return Attempt::Fatal("cannot sign the request with the secret".into()),
        }
    }
    let mut resp = match req.send(body) {
        Ok(r) => r,
        Err(e) => {
            let msg = error_text(&e);
            return match e {
                ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound => Attempt::Retry(msg),
                _ => Attempt::Fatal(msg),
            };
        }
    };
    let status = resp.status().as_u16();
    // A bounded look at the answer, for the error message; the rest is never read.
    let mut head = Vec::new();
    let _ = resp
        .body_mut()
        .as_reader()
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut head);
    let said = String::from_utf8_lossy(&head);
    let said: String = said
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .take(200)
        .collect();
    let said = if said.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", said.trim())
    };
    match status {
        200..=299 => Attempt::Done,
        300..=399 => Attempt::Fatal(format!(
            "HTTP {status}: the receiver redirects; give the URL it redirects to"
        )),
        429 | 500..=599 => Attempt::Retry(format!("HTTP {status}{said}")),
        _ => Attempt::Fatal(format!("HTTP {status}{said}")),
    }
}

/// A ureq error in words, without the URL (its path may be the credential).
fn error_text(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t:?})"),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::Io(io) => format!("connection: {io}"),
        ureq::Error::NativeTls(t) => format!("TLS: {t}"),
        ureq::Error::BadUri(_) => "bad URL".into(),
        other => {
            let s = other.to_string();
            if s.contains("://") {
                "request failed".into()
            } else {
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?").as_deref(),
            Some("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        let sig = signature(b"k", 1700000000, b"{}").unwrap();
        assert_eq!(
            sig,
            format!(
                "sha256={}",
                hmac_sha256_hex(b"k", b"1700000000.{}").unwrap()
            )
        );
        assert_ne!(signature(b"other", 1700000000, b"{}").unwrap(), sig);
    }

    #[test]
    fn mattermost_text_cannot_page_a_channel() {
        let t = defuse_mentions("banner @channel @all user@here.example");
        assert!(
            !t.contains("@channel") && !t.contains("@all") && !t.contains("@here"),
            "{t}"
        );
    }

    #[test]
    fn slack_text_cannot_mention_or_link() {
        assert_eq!(
            slack_escape("<!channel> a&b <http://x|y>"),
            "&lt;!channel&gt; a&amp;b &lt;http://x|y&gt;"
        );
    }

    #[test]
    fn five_hundred_changed_devices_make_one_bounded_payload_per_format() {
        use super::super::summary::Changed;
        let diff: String = (0..300).map(|i| format!("+interface Gi0/{i}\n")).collect();
        let s = RunSummary {
            kind: "backup".into(),
            result: "ok".into(),
            commit: Some("abc".into()),
            changed: (0..500)
                .map(|i| Changed {
                    host: format!("sw-{i:03}"),
                    path: format!("sw-{i:03}.cfg"),
                    new: false,
                    added: 100,
                    removed: 0,
                    diff: Some(diff.clone()),
                    diff_truncated: false,
                })
                .collect(),
            ..Default::default()
        };
        let limits = [
            (Format::Json, 1_300_000),
            (Format::Slack, 40_000),
            (Format::Mattermost, 16_000),
            (Format::Teams, 27_000),
        ];
        for (format, limit) in limits {
            let w = Webhook {
                name: None,
                url: UrlSource::Inline("https://x".into()),
                format,
                secret: None,
                on: Event::ALL.to_vec(),
                timeout: Duration::from_secs(1),
                retries: 0,
            };
            let body =
                serde_json::to_vec(&payload(&w, &s, &Links::default(), &[Event::Changed])).unwrap();
            assert!(body.len() <= limit, "{format:?}: {} bytes", body.len());
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("500 devices changed"), "{format:?}");
            if format == Format::Json {
                // Every device is listed; diffs stop at the budget and say so.
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["changed"].as_array().unwrap().len(), 500);
                assert!(
                    v["omitted"]["diffs"].as_u64().unwrap() > 0,
                    "{}",
                    v["omitted"]
                );
            } else {
                assert!(text.contains("truncated to fit the message"), "{format:?}");
            }
        }
    }
}
