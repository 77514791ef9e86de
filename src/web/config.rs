//! The schedule's `web:` section: where the interface listens, who may use it, TLS.
//!
//! ```yaml
//! web:
//!   listen: 127.0.0.1:9469          # `--listen` overrides it
//!   metrics_public: true            # /metrics without authentication (for Prometheus)
//!   session_key_file: /var/lib/netorch/web-session.key   # else a random key per start
//!   session_ttl: 12h
//!   keep_runs: 50                   # run reports kept per job (runs/ beside the status file)
//!   tls: { cert: /etc/netorch/web.crt, key: /etc/netorch/web.key }
//!   users:
//!     - { name: alice, role: operator, password_hash_file: /etc/netorch/alice.hash }
//!     - { name: noc, role: read, password_hash: "$argon2id$v=19$..." }
//!   tokens:
//!     - { name: grafana, role: read, token_env: NETORCH_WEB_TOKEN }
//! ```
//!
//! Secrets (password hashes, tokens, the session key) may come from files or environment
//! variables; a token is never written in the schedule itself.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::playbook::values;
use crate::source::LoadError;

/// Run reports kept per job unless `keep_runs` says otherwise.
pub const DEFAULT_KEEP_RUNS: usize = 50;
/// The most `keep_runs` may say (a report may be tens of MB).
pub const MAX_KEEP_RUNS: u64 = 10_000;
/// How long a login lasts unless `session_ttl` says otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The largest secret file read (a hash, a token, a key).
const MAX_SECRET_BYTES: u64 = 64 << 10;
/// The shortest token accepted: a short one could be guessed.
const MIN_TOKEN_CHARS: usize = 16;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSpec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub listen: Option<String>,
    #[serde(default, deserialize_with = "values::boolish")]
    pub metrics_public: bool,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub session_key_file: Option<String>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub session_ttl: Option<Duration>,
    /// Cookies marked `Secure` (default: when `tls` is given). Say `true` behind a
    /// reverse proxy that terminates TLS.
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub secure_cookies: Option<bool>,
    #[serde(default, deserialize_with = "values::opt_count")]
    pub keep_runs: Option<u64>,
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    #[serde(deserialize_with = "values::scalar_string")]
    pub cert: String,
    #[serde(deserialize_with = "values::scalar_string")]
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees every page.
    Read,
    /// Also starts jobs and backups.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Operator => "operator",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    #[serde(deserialize_with = "values::scalar_string")]
    pub name: String,
    pub role: Role,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub password_hash: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub password_hash_file: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub password_hash_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    #[serde(deserialize_with = "values::scalar_string")]
    pub name: String,
    pub role: Role,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub token_file: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub token_env: Option<String>,
}

/// Someone who may log in: a user with an argon2 hash, or a named token.
#[derive(Clone)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub secret: Secret,
}

#[derive(Clone)]
pub enum Secret {
    /// A PHC string (`$argon2id$...`), checked with argon2.
    Argon2(String),
    /// A bearer token, compared in constant time.
    Token(String),
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The `web:` section, checked and with its secrets read.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub listen: Option<SocketAddr>,
    pub metrics_public: bool,
    pub session_key: Option<Vec<u8>>,
    pub session_ttl: Duration,
    pub secure_cookies: bool,
    pub keep_runs: usize,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub principals: Vec<Principal>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            listen: None,
            metrics_public: false,
            session_key: None,
            session_ttl: DEFAULT_SESSION_TTL,
            secure_cookies: false,
            keep_runs: DEFAULT_KEEP_RUNS,
            tls: None,
            principals: Vec::new(),
        }
    }
}

impl WebSettings {
    pub fn auth_enabled(&self) -> bool {
        !self.principals.is_empty()
    }
}

/// Check the section and read its secrets. `at(needle, message)` makes an error located at
/// the first line of the schedule holding `needle`; `rel` makes a path relative to the
/// schedule's folder.
pub fn resolve(
    spec: &WebSpec,
    path: &Path,
    at: &dyn Fn(&str, String) -> LoadError,
    rel: &dyn Fn(&str) -> String,
) -> Result<WebSettings, LoadError> {
    let listen = match &spec.listen {
        Some(s) => Some(s.parse::<SocketAddr>().map_err(|e| {
            at(
                s,
                format!("web: listen `{s}`: {e} (an address and port, e.g. 127.0.0.1:9469)"),
            )
        })?),
        None => None,
    };
    let read_secret = |needle: &str, file: &str| -> Result<String, LoadError> {
        let p = PathBuf::from(rel(file));
        let bytes = crate::source::read_bounded(&p, MAX_SECRET_BYTES)
            .map_err(|e| at(needle, format!("web: {}", e.message)))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| at(needle, format!("web: {} is not UTF-8 text", p.display())))?;
        Ok(text.trim_end_matches(['\r', '\n']).to_string())
    };
    let read_env = |needle: &str, var: &str| -> Result<String, LoadError> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(at(
                needle,
                format!("web: the environment variable {var} is not set (or empty)"),
            )),
        }
    };
    let mut principals: Vec<Principal> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for u in &spec.users {
        let needle = format!("name: {}", u.name);
        if !names.insert(u.name.clone()) {
            return Err(at(&needle, format!("web: `{}` is defined twice", u.name)));
        }
        let hash = match (
            &u.password_hash,
            &u.password_hash_file,
            &u.password_hash_env,
        ) {
            (Some(h), None, None) => h.clone(),
            (None, Some(f), None) => read_secret(f, f)?,
            (None, None, Some(v)) => read_env(v, v)?,
            _ => {
                return Err(at(
                    &needle,
                    format!(
                        "web: user `{}`: give exactly one of password_hash, \
                         password_hash_file or password_hash_env",
                        u.name
                    ),
                )
                .with_hint("make a hash with `netorch daemon hash-password`"))
            }
        };
        let hash = hash.trim().to_string();
        if let Err(e) = argon2::PasswordHash::new(&hash) {
            return Err(at(
                &needle,
                format!(
                    "web: user `{}`: the password hash is not an argon2 PHC string ({e})",
                    u.name
                ),
            )
            .with_hint("make one with `netorch daemon hash-password`"));
        }
        principals.push(Principal {
            name: u.name.clone(),
            role: u.role,
            secret: Secret::Argon2(hash),
        });
    }
    for t in &spec.tokens {
        let needle = format!("name: {}", t.name);
        if !names.insert(t.name.clone()) {
            return Err(at(&needle, format!("web: `{}` is defined twice", t.name)));
        }
        let token = match (&t.token_file, &t.token_env) {
            (Some(f), None) => read_secret(f, f)?,
            (None, Some(v)) => read_env(v, v)?,
            _ => {
                return Err(at(
                    &needle,
                    format!(
                        "web: token `{}`: give exactly one of token_file or token_env \
                         (a token is never written in the schedule)",
                        t.name
                    ),
                ))
            }
        };
        let token = token.trim().to_string();
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(at(
                &needle,
                format!(
                    "web: token `{}` is shorter than {MIN_TOKEN_CHARS} characters",
                    t.name
                ),
            )
            .with_hint("make one with `head -c 32 /dev/urandom | base64`"));
        }
        principals.push(Principal {
            name: t.name.clone(),
            role: t.role,
            secret: Secret::Token(token),
        });
    }
    let session_key = match &spec.session_key_file {
        Some(f) => {
            let key = read_secret(f, f)?;
            if key.len() < 32 {
                return Err(at(
                    f,
                    "web: the session key file holds fewer than 32 bytes".to_string(),
                )
                .with_hint("make one with `head -c 48 /dev/urandom | base64 > FILE`"));
            }
            Some(key.into_bytes())
        }
        None => None,
    };
    let tls = match &spec.tls {
        Some(t) => {
            let (cert, key) = (PathBuf::from(rel(&t.cert)), PathBuf::from(rel(&t.key)));
            for (p, needle) in [(&cert, &t.cert), (&key, &t.key)] {
                if let Err(e) = std::fs::metadata(p) {
                    return Err(at(needle, format!("web: tls: {}: {e}", p.display())));
                }
            }
            Some((cert, key))
        }
        None => None,
    };
    let keep_runs = match spec.keep_runs {
        Some(0) => return Err(at("keep_runs", "web: keep_runs must be at least 1".into())),
        Some(n) if n > MAX_KEEP_RUNS => {
            return Err(at(
                "keep_runs",
                format!("web: keep_runs must be at most {MAX_KEEP_RUNS}"),
            ))
        }
        Some(n) => usize::try_from(n).unwrap_or(DEFAULT_KEEP_RUNS),
        None => DEFAULT_KEEP_RUNS,
    };
    let settings = WebSettings {
        listen,
        metrics_public: spec.metrics_public,
        session_key,
        session_ttl: spec.session_ttl.unwrap_or(DEFAULT_SESSION_TTL),
        secure_cookies: spec.secure_cookies.unwrap_or(spec.tls.is_some()),
        keep_runs,
        tls,
        principals,
    };
    if let Some(addr) = settings.listen {
        if let Err(msg) = check_exposure(&addr, &settings) {
            return Err(at("listen", msg));
        }
    }
    let _ = path;
    Ok(settings)
}

/// A listener other machines can reach needs authentication.
pub fn check_exposure(addr: &SocketAddr, web: &WebSettings) -> Result<(), String> {
    if addr.ip().is_loopback() || web.auth_enabled() {
        return Ok(());
    }
    Err(format!(
        "web: {addr} is reachable from other machines and no `users` or `tokens` are \
         configured: refusing to serve the interface without authentication (listen on \
         127.0.0.1, or add users under `web:`)"
    ))
}
