//! The notify configuration: `notify:` in the daemon's schedule (top level and per job), a
//! file given to `--notify FILE`, or a quick `--notify slack:URL`. Read through
//! [`crate::source`], so a misspelt key or an unknown target comes back with file:line:col
//! and a did-you-mean; checks that need more than one key (exactly one of `url` and
//! `url_env`) run inside the target's own mapping, so they carry its position too.
//!
//! ```yaml
//! links:
//!   commit: https://git.example.com/net/configs/-/commit/{commit}
//! targets:
//!   - webhook:
//!       url_env: SLACK_WEBHOOK_URL
//!       format: slack
//!   - email:
//!       server: smtp.example.com
//!       username: netorch
//!       password_file: /etc/netorch/smtp.pass
//!       from: netorch@example.com
//!       to: [neteng@example.com]
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

use crate::actions::args::map_only;
use crate::playbook::values;
use crate::source::{parse_yaml, read_source, LoadError};

/// A target's total time (every attempt and the waits between them) when it sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a target may take, whatever it says: a notification must never hold a run.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// Webhook retries (after the first attempt) when a target sets none.
pub const DEFAULT_RETRIES: u32 = 3;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// A device's backup changed (or would, in check mode).
    Changed,
    /// A device failed or was unreachable, or the run itself failed.
    Failed,
}

impl Event {
    pub const ALL: [Event; 2] = [Event::Changed, Event::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Changed => "changed",
            Event::Failed => "failed",
        }
    }
}

/// The payload shape of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// netorch's own JSON document (documented in the README).
    #[default]
    Json,
    /// Slack incoming webhook (`text` in mrkdwn).
    Slack,
    /// Microsoft Teams (Workflows / incoming webhook): an Adaptive Card.
    Teams,
    /// Mattermost incoming webhook (`text` in Markdown).
    Mattermost,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
            Format::Teams => "teams",
            Format::Mattermost => "mattermost",
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// No encryption: only to a loopback server, or with `allow_insecure: true`.
    None,
}

/// Where a secret comes from: never written in the config itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

impl SecretSource {
    /// The secret's value, trimmed of a final newline (as `echo x > file` leaves it).
    pub fn read(&self) -> Result<crate::secret::Secret, String> {
        let value = match self {
            SecretSource::File(p) => {
                let bytes = crate::source::read_bounded(p, 64 << 10).map_err(|e| e.to_string())?;
                String::from_utf8(bytes)
                    .map_err(|_| format!("{}: the secret is not UTF-8 text", p.display()))?
            }
            SecretSource::Env(name) => std::env::var(name).map_err(|_| {
                format!("the environment variable {name} is not set (or not UTF-8)")
            })?,
        };
        let value = value.trim_end_matches(['\n', '\r']).to_string();
        if value.is_empty() {
            return Err(format!("{} is empty", self.describe()));
        }
        Ok(crate::secret::Secret::new(value))
    }

    /// Where the secret is, for messages (never its value).
    pub fn describe(&self) -> String {
        match self {
            SecretSource::File(p) => format!("the secret file {}", p.display()),
            SecretSource::Env(n) => format!("the environment variable {n}"),
        }
    }

    fn rebase(&mut self, base: &Path) {
        if let SecretSource::File(p) = self {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

/// `url` or `url_env`: a Slack or Teams webhook URL is itself a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Inline(String),
    Env(String),
}

/// One webhook target, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub name: Option<String>,
    pub url: UrlSource,
    pub format: Format,
    /// HMAC-SHA256 key: the request carries `X-Netorch-Signature` when set.
    pub secret: Option<SecretSource>,
    pub on: Vec<Event>,
    pub timeout: Duration,
    pub retries: u32,
}

/// One email target, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub name: Option<String>,
    pub server: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretSource>,
    pub from: String,
    pub to: Vec<String>,
    pub subject_prefix: String,
    /// PEM file of the CA that signed the server's certificate (a private CA).
    pub ca_file: Option<PathBuf>,
    pub on: Vec<Event>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Webhook(Webhook),
    Email(Email),
}

impl Target {
    pub fn on(&self) -> &[Event] {
        match self {
            Target::Webhook(w) => &w.on,
            Target::Email(e) => &e.on,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook(_) => "webhook",
            Target::Email(_) => "email",
        }
    }

    /// How reports and errors name the target: its `name:`, else what it is and where it
    /// goes, without a webhook URL's path (which is often the credential).
    pub fn label(&self) -> String {
        match self {
            Target::Webhook(w) => match &w.name {
                Some(n) => n.clone(),
                None => {
                    let place = match &w.url {
                        UrlSource::Inline(u) => url_origin(u),
                        UrlSource::Env(n) => format!("${n}"),
                    };
                    format!("webhook {} {place}", w.format.as_str())
                }
            },
            Target::Email(e) => match &e.name {
                Some(n) => n.clone(),
                None => format!("email {} via {}:{}", e.to.join(","), e.server, e.port),
            },
        }
    }

    pub fn timeout(&self) -> Duration {
        match self {
            Target::Webhook(w) => w.timeout,
            Target::Email(e) => e.timeout,
        }
    }

    fn rebase(&mut self, base: &Path) {
        match self {
            Target::Webhook(w) => {
                if let Some(s) = &mut w.secret {
                    s.rebase(base);
                }
            }
            Target::Email(e) => {
                if let Some(s) = &mut e.password {
                    s.rebase(base);
                }
                if let Some(c) = &mut e.ca_file {
                    if c.is_relative() {
                        *c = base.join(&*c);
                    }
                }
            }
        }
    }

    /// Secrets and files the target needs, read now: a missing one is found before the
    /// run touches any device. Returns the key to point at and the problem.
    fn check_sources(&self) -> Result<(), (&'static str, String)> {
        match self {
            Target::Webhook(w) => {
                if let UrlSource::Env(n) = &w.url {
                    let u = std::env::var(n).unwrap_or_default();
                    if u.trim().is_empty() {
                        return Err((
                            "url_env",
                            format!("the environment variable {n} is not set"),
                        ));
                    }
                    check_url(u.trim()).map_err(|e| ("url_env", format!("{n}: {e}")))?;
                }
                if let Some(s) = &w.secret {
                    s.read().map_err(|e| {
                        let key = match s {
                            SecretSource::File(_) => "secret_file",
                            SecretSource::Env(_) => "secret_env",
                        };
                        (key, e)
                    })?;
                }
            }
            Target::Email(e) => {
                if let Some(s) = &e.password {
                    s.read().map_err(|err| {
                        let key = match s {
                            SecretSource::File(_) => "password_file",
                            SecretSource::Env(_) => "password_env",
                        };
                        (key, err)
                    })?;
                }
                if let Some(c) = &e.ca_file {
                    let pem = std::fs::read(c)
                        .map_err(|err| ("ca_file", format!("{}: {err}", c.display())))?;
                    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                        return Err((
                            "ca_file",
                            format!("{} holds no PEM certificate", c.display()),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// URL templates for links in notifications: `{commit}`, `{host}`, `{path}` and `{job}`
/// are replaced (URL-encoded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Links {
    /// A backup commit, e.g. `https://git.example.com/net/configs/-/commit/{commit}`.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub commit: Option<String>,
    /// A device's backup file, e.g. `https://git.example.com/net/configs/-/blob/main/{path}`.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub device: Option<String>,
    /// The job (daemon runs), e.g. a page of the daemon's web interface.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub job: Option<String>,
}

/// `notify:` as written: targets and links.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    #[serde(default)]
    pub targets: Vec<TargetSpec>,
    #[serde(default)]
    pub links: Links,
}

/// One target as written: `- webhook: {...}` or `- email: {...}`.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    Webhook(Webhook),
    Email(Email),
}

const TARGET_KINDS: &[&str] = &["webhook", "email"];

impl<'de> Deserialize<'de> for TargetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TargetSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a target: `webhook: {url: ...}` or `email: {server: ...}`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TargetSpec, A::Error> {
                use serde::de::Error;
                let Some(kind) = map.next_key::<String>()? else {
                    return Err(A::Error::custom(
                        "an empty target; expected `webhook: {url: ...}` or `email: {server: ...}`",
                    ));
                };
                let t = match kind.as_str() {
                    "webhook" => TargetSpec::Webhook(map.next_value()?),
                    "email" => TargetSpec::Email(map.next_value()?),
                    other => return Err(A::Error::unknown_variant(other, TARGET_KINDS)),
                };
                if let Some(more) = map.next_key::<String>()? {
                    return Err(A::Error::custom(format!(
                        "`{more}` beside `{kind}`: each target is one `{kind}:` mapping; indent `{more}` under it"
                    )));
                }
                Ok(t)
            }
        }
        d.deserialize_map(V)
    }
}

/// The checked configuration a run or a job notifies with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub targets: Vec<Target>,
    pub links: Links,
}

impl Config {
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Add another configuration's targets (`--notify` given several times); the first
    /// links given win.
    pub fn merge(&mut self, other: Config) {
        self.targets.extend(other.targets);
        let l = &mut self.links;
        l.commit = l.commit.take().or(other.links.commit);
        l.device = l.device.take().or(other.links.device);
        l.job = l.job.take().or(other.links.job);
    }

    /// The spec found in `file` (whose text is `text`), with relative paths taken from
    /// `base`, and every secret and file it names checked now.
    pub fn from_spec(
        spec: NotifySpec,
        base: &Path,
        file: &Path,
        text: &str,
        near: &str,
    ) -> Result<Config, LoadError> {
        let mut targets: Vec<Target> = spec
            .targets
            .into_iter()
            .map(|t| match t {
                TargetSpec::Webhook(w) => Target::Webhook(w),
                TargetSpec::Email(e) => Target::Email(e),
            })
            .collect();
        for t in &mut targets {
            t.rebase(base);
            if let Err((key, msg)) = t.check_sources() {
                let (line, col) = find_after(text, near, &format!("{key}:"));
                return Err(LoadError::at(
                    file,
                    Some(text),
                    line,
                    col,
                    format!("notify target `{}`: {msg}", t.label()),
                ));
            }
        }
        Ok(Config {
            targets,
            links: spec.links,
        })
    }
}

/// A notify config file (`--notify FILE`): `targets:` and `links:` as under the daemon's
/// `notify:`.
pub fn load_file(path: &Path) -> Result<Config, LoadError> {
    let text = read_source(path)?;
    let spec: NotifySpec = parse_yaml(
        path,
        &text,
        "a notify config: {targets: [{webhook: {...}} or {email: {...}}], links: {...}}",
    )?;
    if spec.targets.is_empty() {
        return Err(LoadError::file(
            path,
            "no notify targets: add `targets: [{webhook: {url: ...}}]` or an `email:` target",
        ));
    }
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Config::from_spec(spec, &base, path, &text, "")
}

/// The quick forms `--notify` takes beside a file.
pub const QUICK_FORMS: &str = "webhook:URL, slack:URL, teams:URL, mattermost:URL";

/// One `--notify` value: a quick `FORMAT:URL` webhook, or a notify config file.
pub fn parse_cli(arg: &str) -> Result<Config, crate::Error> {
    let arg = arg.trim();
    if let Some((scheme, url)) = arg.split_once(':') {
        let format = match scheme {
            "webhook" | "json" => Some(Format::Json),
            "slack" => Some(Format::Slack),
            "teams" => Some(Format::Teams),
            "mattermost" => Some(Format::Mattermost),
            _ => None,
        };
        if let Some(format) = format {
            check_url(url)
                .map_err(|e| crate::Error::Usage(format!("--notify {scheme}:...: {e}")))?;
            return Ok(Config {
                targets: vec![Target::Webhook(Webhook {
                    name: None,
                    url: UrlSource::Inline(url.to_string()),
                    format,
                    secret: None,
                    on: Event::ALL.to_vec(),
                    timeout: DEFAULT_TIMEOUT,
                    retries: DEFAULT_RETRIES,
                })],
                links: Links::default(),
            });
        }
        if scheme == "http" || scheme == "https" {
            return Err(crate::Error::Usage(format!(
                "--notify {}: say what the URL receives: webhook:URL (netorch's JSON), slack:URL, teams:URL or mattermost:URL",
                url_origin(arg)
            )));
        }
    }
    let path = Path::new(arg);
    if !path.exists() {
        return Err(crate::Error::Usage(format!(
            "--notify {arg}: no such file; give a notify config file (YAML) or one of {QUICK_FORMS}"
        )));
    }
    load_file(path).map_err(crate::Error::Load)
}

/// A webhook URL netorch can post to.
pub fn check_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| {
            format!(
                "`{}` is not an http:// or https:// URL",
                crate::terminal::escape(&url_origin(url))
            )
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.rsplit('@').next().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL contains spaces or control characters".into());
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL: what may be shown of a webhook (the path of a Slack or
/// Teams URL is the credential; user info is dropped too).
pub fn url_origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = authority.rsplit('@').next().unwrap_or_default();
            let more = if rest.len() > authority.len() {
                "/..."
            } else {
                ""
            };
            format!("{scheme}://{host}{more}")
        }
        None => "(not a URL)".into(),
    }
}

/// The position of `key` after the first occurrence of `near` (1:1 when absent).
fn find_after(text: &str, near: &str, key: &str) -> (usize, usize) {
    let start = if near.is_empty() {
        0
    } else {
        text.find(near).unwrap_or(0)
    };
    let off = text[start..]
        .find(key)
        .map(|o| o + start)
        .or_else(|| text.find(key));
    match off {
        Some(off) => {
            let before = &text[..off];
            let line = before.matches('\n').count() + 1;
            let col = off - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        }
        None => (1, 1),
    }
}

fn events(list: Option<Vec<String>>) -> Result<Vec<Event>, String> {
    let Some(list) = list else {
        return Ok(Event::ALL.to_vec());
    };
    let mut out = Vec::new();
    for word in list {
        let e = match word.trim() {
            "changed" | "change" => Event::Changed,
            "failed" | "failure" => Event::Failed,
            other => {
                let hint = crate::source::suggest(other, ["changed", "failed"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(format!(
                    "`on`: unknown event `{other}`; expected changed or failed{hint}"
                ));
            }
        };
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err("`on` is empty: give changed, failed or both (or remove the target)".into());
    }
    Ok(out)
}

fn timeout(t: Option<Duration>) -> Result<Duration, String> {
    match t {
        None => Ok(DEFAULT_TIMEOUT),
        Some(t) if t.is_zero() => Err("`timeout` must be more than 0".into()),
        Some(t) if t > MAX_TIMEOUT => Err(format!(
            "`timeout` is at most {}s: a notification must not hold up the run",
            MAX_TIMEOUT.as_secs()
        )),
        Some(t) => Ok(t),
    }
}

fn secret(
    file: Option<String>,
    env: Option<String>,
    file_key: &str,
    env_key: &str,
) -> Result<Option<SecretSource>, String> {
    match (file, env) {
        (Some(_), Some(_)) => Err(format!("give `{file_key}` or `{env_key}`, not both")),
        (Some(f), None) => Ok(Some(SecretSource::File(PathBuf::from(f)))),
        (None, Some(e)) => Ok(Some(SecretSource::Env(e))),
        (None, None) => Ok(None),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSpec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    url_env: Option<String>,
    #[serde(default, deserialize_with = "values::keyword")]
    format: Format,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    secret_file: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    secret_env: Option<String>,
    #[serde(default, deserialize_with = "opt_strings")]
    on: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_count")]
    retries: Option<u32>,
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

const WEBHOOK_KEYS: &str =
    "a webhook: {url (or url_env), format, secret_file (or secret_env), on, timeout, retries, name}";

impl<'de> Deserialize<'de> for Webhook {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            WEBHOOK_KEYS,
            false,
            |s: WebhookSpec| -> Result<Webhook, String> {
                let url = match (s.url, s.url_env) {
                    (Some(u), None) => {
                        check_url(u.trim())?;
                        UrlSource::Inline(u.trim().to_string())
                    }
                    (None, Some(e)) => UrlSource::Env(e),
                    (Some(_), Some(_)) => return Err("give `url` or `url_env`, not both".into()),
                    (None, None) => {
                        return Err(
                            "a webhook needs `url: https://...` (or `url_env: VARIABLE` naming the environment variable that holds it)"
                                .into(),
                        )
                    }
                };
                if s.retries.is_some_and(|r| r > 10) {
                    return Err("`retries` is at most 10".into());
                }
                Ok(Webhook {
                    name: s.name,
                    url,
                    format: s.format,
                    secret: secret(s.secret_file, s.secret_env, "secret_file", "secret_env")?,
                    on: events(s.on)?,
                    timeout: timeout(s.timeout)?,
                    retries: s.retries.unwrap_or(DEFAULT_RETRIES),
                })
            },
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailSpec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    server: Option<String>,
    #[serde(default, deserialize_with = "values::opt_count")]
    port: Option<u16>,
    #[serde(default, deserialize_with = "values::keyword")]
    tls: SmtpTls,
    #[serde(default, deserialize_with = "values::boolish")]
    allow_insecure: bool,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    password_file: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    password_env: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    from: Option<String>,
    #[serde(default, deserialize_with = "opt_strings")]
    to: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    subject_prefix: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    ca_file: Option<String>,
    #[serde(default, deserialize_with = "opt_strings")]
    on: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
}

const EMAIL_KEYS: &str = "an email target: {server, port, tls, username, password_file (or password_env), from, to, subject_prefix, ca_file, allow_insecure, on, timeout, name}";

/// A loopback server name or address (plain SMTP is allowed there without opting in).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn mailbox(what: &str, s: &str) -> Result<String, String> {
    s.trim()
        .parse::<lettre::message::Mailbox>()
        .map(|_| s.trim().to_string())
        .map_err(|e| format!("`{what}`: `{}` is not a mail address ({e})", s.trim()))
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            EMAIL_KEYS,
            false,
            |s: EmailSpec| -> Result<Email, String> {
                let server = s
                    .server
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .ok_or("an email target needs `server: smtp.example.com`")?;
                if s.tls == SmtpTls::None && !s.allow_insecure && !is_loopback_host(&server) {
                    return Err(format!(
                        "`tls: none` sends mail (and any password) in clear text to {server}; \
                         use `tls: starttls` or `tls: tls`, or say `allow_insecure: true`"
                    ));
                }
                let password = secret(
                    s.password_file,
                    s.password_env,
                    "password_file",
                    "password_env",
                )?;
                match (&s.username, &password) {
                    (Some(_), None) => {
                        return Err("`username` needs `password_file` or `password_env`".into())
                    }
                    (None, Some(_)) => {
                        return Err("`password_file`/`password_env` needs `username`".into())
                    }
                    _ => {}
                }
                let from = mailbox(
                    "from",
                    s.from
                        .as_deref()
                        .ok_or("an email target needs `from: netorch@example.com`")?,
                )?;
                let to = s.to.unwrap_or_default();
                if to.is_empty() {
                    return Err("an email target needs `to:` (an address or a list)".into());
                }
                let to = to
                    .iter()
                    .map(|t| mailbox("to", t))
                    .collect::<Result<Vec<_>, _>>()?;
                let port = match s.port {
                    Some(0) => return Err("`port` must be from 1 to 65535".into()),
                    Some(p) => p,
                    None => match s.tls {
                        SmtpTls::Starttls => 587,
                        SmtpTls::Tls => 465,
                        SmtpTls::None => 25,
                    },
                };
                Ok(Email {
                    name: s.name,
                    server,
                    port,
                    tls: s.tls,
                    username: s.username,
                    password,
                    from,
                    to,
                    subject_prefix: s.subject_prefix.unwrap_or_else(|| "[netorch]".into()),
                    ca_file: s.ca_file.map(PathBuf::from),
                    on: events(s.on)?,
                    timeout: timeout(s.timeout)?,
                })
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Config, LoadError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notify.yml");
        std::fs::write(&p, text).unwrap();
        load_file(&p)
    }

    #[test]
    fn targets_are_read_with_defaults() {
        let c = load_str(
            "links:\n  commit: https://git/x/{commit}\ntargets:\n  - webhook:\n      url: https://hooks.slack.com/services/T/B/SECRETPATH\n      format: slack\n  - email:\n      server: smtp.example.com\n      from: netorch@example.com\n      to: ops@example.com\n",
        )
        .unwrap();
        assert_eq!(c.targets.len(), 2);
        let Target::Webhook(w) = &c.targets[0] else {
            panic!()
        };
        assert_eq!(w.format, Format::Slack);
        assert_eq!(w.on, Event::ALL.to_vec());
        assert_eq!(w.timeout, DEFAULT_TIMEOUT);
        // The label never shows the URL's path: it is Slack's credential.
        let label = c.targets[0].label();
        assert_eq!(label, "webhook slack https://hooks.slack.com/...");
        let Target::Email(e) = &c.targets[1] else {
            panic!()
        };
        assert_eq!((e.port, e.tls), (587, SmtpTls::Starttls));
        assert_eq!(e.to, vec!["ops@example.com".to_string()]);
        assert_eq!(c.links.commit.as_deref(), Some("https://git/x/{commit}"));
    }

    #[test]
    fn mistakes_name_the_line_and_what_was_expected() {
        let e = load_str("targets:\n  - webhok:\n      url: https://x\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.to_string().contains("did you mean `webhook`"), "{e}");
        let e = load_str("targets:\n  - webhook:\n      url: https://x\n      fromat: slack\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("did you mean `format`"), "{e}");
        let e = load_str("targets:\n  - webhook:\n      format: slack\n").unwrap_err();
        assert!(e.to_string().contains("needs `url: https://...`"), "{e}");
        assert!(e.line.is_some_and(|l| l >= 2), "{e}");
        let e = load_str("targets:\n  - webhook:\n      url: https://x\n      format: discord\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("slack"), "{e}");
        let e = load_str("targets:\n  - webhook:\n      url: https://x\n      on: [chnaged]\n")
            .unwrap_err();
        assert!(e.to_string().contains("did you mean `changed`"), "{e}");
        let e = load_str(
            "targets:\n  - email:\n      server: mail.example.com\n      tls: none\n      from: a@b.c\n      to: d@e.f\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("allow_insecure"), "{e}");
        // On loopback plain SMTP is fine.
        load_str(
            "targets:\n  - email:\n      server: 127.0.0.1\n      tls: none\n      from: a@b.c\n      to: d@e.f\n",
        )
        .unwrap();
        let e = load_str(
            "targets:\n  - email:\n      server: m\n      from: not an address\n      to: d@e.f\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a mail address"), "{e}");
    }

    #[test]
    fn secrets_are_checked_at_load_and_never_inline() {
        let e = load_str(
            "targets:\n  - webhook:\n      url: https://x\n      secret_file: missing.key\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("missing.key"), "{e}");
        let e = load_str("targets:\n  - webhook:\n      url: https://x\n      secret: abc\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown key `secret`"), "{e}");
        let e = load_str("targets:\n  - webhook:\n      url_env: NETORCH_TEST_SURELY_UNSET_VAR\n")
            .unwrap_err();
        assert!(e.to_string().contains("is not set"), "{e}");
    }

    #[test]
    fn quick_forms() {
        let c = parse_cli("slack:https://hooks.slack.com/services/x").unwrap();
        assert!(matches!(&c.targets[0], Target::Webhook(w) if w.format == Format::Slack));
        let e = parse_cli("https://hooks.slack.com/services/x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("slack:URL") && !e.contains("services/x"), "{e}");
        let e = parse_cli("nofile.yml").unwrap_err().to_string();
        assert!(e.contains("no such file"), "{e}");
        assert!(parse_cli("webhook:ftp://x").is_err());
    }

    #[test]
    fn origins_hide_paths_and_credentials() {
        assert_eq!(url_origin("https://u:p@h:8443/a/b?c"), "https://h:8443/...");
        assert_eq!(url_origin("http://h"), "http://h");
        assert!(is_loopback_host("::1") && is_loopback_host("[::1]"));
        assert!(is_loopback_host("localhost") && !is_loopback_host("mail"));
    }
}
