//! A blocking HTTP(S) client for one host's device API, on ureq: the host workers are
//! blocking threads, so a blocking client fits without a runtime hop. One agent per host
//! keeps its connections alive between requests (one TLS handshake per host and run, not per
//! command).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

use super::settings::HttpSettings;
use crate::secret::Secret;
use crate::transport::settings::ConnectionSettings;
use crate::transport::TransportError;

/// The first retry waits this long; each further one twice as long, capped at [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What makes two hosts' agents interchangeable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AgentKey {
    use_ssl: bool,
    validate: bool,
    ca_file: Option<std::path::PathBuf>,
    connect_timeout: Duration,
    command_timeout: Duration,
}

/// Idle keep-alive connections kept across all hosts of a run (per host: 2).
const MAX_IDLE: usize = 4096;

/// One agent per TLS setup, shared by every host that has it: building a TLS connector
/// reads and parses the system CA bundle (OpenSSL's default verify paths, even with a
/// `ca_file`), tens of milliseconds each, which 1,000 hosts must not pay 1,000 times.
/// The pool inside keys connections by address and port, so hosts never share one.
fn shared_agent(key: AgentKey, tls: TlsConfig) -> Arc<SharedAgent> {
    static AGENTS: OnceLock<Mutex<HashMap<AgentKey, Arc<SharedAgent>>>> = OnceLock::new();
    let map = AGENTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = match map.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let (connect_timeout, command_timeout) = (key.connect_timeout, key.command_timeout);
    map.entry(key)
        .or_insert_with(|| {
            Arc::new(SharedAgent {
                agent: Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_connect(Some(connect_timeout))
                    .timeout_global(Some(command_timeout))
                    .tls_config(tls)
                    .max_idle_connections(MAX_IDLE)
                    .max_idle_connections_per_host(2)
                    .user_agent(concat!("netorch/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .into(),
                warm: AtomicBool::new(false),
                gate: Mutex::new(()),
            })
        })
        .clone()
}

/// An agent and the gate of its first request. ureq builds the TLS connector lazily and
/// caches it only from a request without request-level settings; a request with its own
/// timeout reuses the cached one but never fills the cache. So the first request goes
/// alone, on the agent's settings (the host's `command_timeout`), and fills it; every
/// later one (with its task's timeout) shares that connector instead of parsing the CA
/// bundle again.
struct SharedAgent {
    agent: Agent,
    warm: AtomicBool,
    gate: Mutex<()>,
}

impl SharedAgent {
    /// The gate while the connector is not built yet. A first request that hangs (a host
    /// that is down) holds the others back at most [`GATE_WAIT`]; after that they go on
    /// ungated and build connectors of their own.
    fn first_request_gate(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        let deadline = Instant::now() + GATE_WAIT;
        loop {
            if self.warm.load(Ordering::Acquire) {
                return None;
            }
            match self.gate.try_lock() {
                Ok(g) => return (!self.warm.load(Ordering::Acquire)).then_some(g),
                Err(std::sync::TryLockError::Poisoned(p)) => return Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) if Instant::now() >= deadline => {
                    return None
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    std::thread::sleep(Duration::from_millis(2))
                }
            }
        }
    }
}

/// How long a request waits for the first one to build the shared TLS connector.
const GATE_WAIT: Duration = Duration::from_millis(500);

/// One answer, the body capped at the host's `max_output`.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`None`: empty or not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }
}

/// A request to send: method, path (with query), content type and body.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub accept: &'a str,
    pub body: Option<&'a [u8]>,
}

/// The API client of one host.
pub struct HttpClient {
    shared: Arc<SharedAgent>,
    base: String,
    host: String,
    addr: String,
    user: String,
    /// The whole `Authorization` header value; never shown.
    auth: Option<Secret>,
    uses_token: bool,
    retries: u32,
    max_body: u64,
    warnings: Vec<String>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.base)
            .field("user", &self.user)
            .finish()
    }
}

fn b64(text: &str) -> String {
    data_encoding::BASE64.encode(text.as_bytes())
}

impl HttpClient {
    /// Build the client (reads the CA file; nothing touches the network yet).
    pub fn new(settings: &ConnectionSettings) -> Result<HttpClient, TransportError> {
        let http: &HttpSettings = &settings.http;
        let host = settings.host_name.clone();
        let addr = if settings.address.contains(':') {
            format!("[{}]:{}", settings.address, http.port)
        } else {
            format!("{}:{}", settings.address, http.port)
        };
        let scheme = if http.use_ssl { "https" } else { "http" };
        let mut warnings = Vec::new();
        let mut tls = TlsConfig::builder().provider(TlsProvider::NativeTls);
        if !http.use_ssl {
            warnings.push(
                "the API is plain HTTP (api_use_ssl: false): credentials and configs cross the network unencrypted"
                    .to_string(),
            );
        }
        if http.use_ssl && !http.validate_certs {
            warnings.push(
                "certificate verification is off (validate_certs: false): anyone on the path can pose as the device"
                    .to_string(),
            );
            tls = tls.disable_verification(true);
        } else if let Some(path) = &http.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                crate::transport::settings::settings_error(
                    &host,
                    "ca_file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                    certs.push(c);
                }
            }
            if certs.is_empty() {
                return Err(crate::transport::settings::settings_error(
                    &host,
                    "ca_file",
                    format!("{} holds no PEM certificate", path.display()),
                ));
            }
            tls = tls.root_certs(RootCerts::new_with_certs(
                &certs.iter().map(Certificate::to_owned).collect::<Vec<_>>(),
            ));
        } else {
            // The system's trust store (OpenSSL's), as curl would use.
            tls = tls.root_certs(RootCerts::PlatformVerifier);
        }
        let key = AgentKey {
            use_ssl: http.use_ssl,
            validate: http.validate_certs,
            ca_file: http.ca_file.clone(),
            connect_timeout: settings.connect_timeout,
            command_timeout: settings.command_timeout,
        };
        let shared = shared_agent(key, tls.build());
        let cred = settings.credentials.first();
        let user = cred.map(|c| c.user.clone()).unwrap_or_default();
        let (auth, uses_token) = match (&http.token, cred.and_then(|c| c.password.as_ref())) {
            (Some(t), _) => (Some(Secret::new(format!("Bearer {}", t.expose()))), true),
            (None, Some(p)) => (
                Some(Secret::new(format!(
                    "Basic {}",
                    b64(&format!("{user}:{}", p.expose()))
                ))),
                false,
            ),
            (None, None) => (None, false),
        };
        Ok(HttpClient {
            shared,
            base: format!("{scheme}://{addr}"),
            host,
            addr,
            user,
            auth,
            uses_token,
            retries: http.retries,
            max_body: settings.max_output,
            warnings,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Warnings to show once per run (verification off, plain HTTP).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The most body bytes an answer may have (the host's or task's `max_output`).
    pub fn set_max_body(&mut self, cap: u64) {
        self.max_body = cap;
    }

    /// Send one request; 5xx answers and dropped connections are retried with backoff.
    /// Any other status comes back as a response, except 401 (an authentication error).
    pub fn send(
        &self,
        req: HttpRequest<'_>,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let outcome = self.send_once(req, timeout);
            let retry = match &outcome {
                Ok(r) => r.status >= 500 && r.status != 501,
                Err(e) => e.1,
            };
            if !retry || attempt >= self.retries || started.elapsed() >= timeout {
                return match outcome {
                    Ok(r) if r.status == 401 => Err(self.auth_failed(&r)),
                    Ok(r) => Ok(r),
                    Err((e, _)) => Err(e),
                };
            }
            let wait = FIRST_BACKOFF
                .saturating_mul(1 << attempt.min(8))
                .min(MAX_BACKOFF);
            tracing::debug!(host = %self.host, attempt, ?wait, "API request retried");
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn auth_failed(&self, r: &HttpResponse) -> TransportError {
        let how = if self.uses_token {
            "api_token".to_string()
        } else if self.auth.is_some() {
            format!("{}: basic (password)", self.user)
        } else {
            format!("{}: no password or api_token", self.user)
        };
        let why = super::error_message(r).unwrap_or_default();
        TransportError::AuthFailed {
            host: self.host.clone(),
            addr: self.addr.clone(),
            tried: vec![format!(
                "{how} (HTTP 401 Unauthorized{})",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            )],
            server_methods: None,
        }
    }

    /// One attempt; the error's flag says whether it is worth retrying.
    fn send_once(
        &self,
        req: HttpRequest<'_>,
        timeout: Duration,
    ) -> Result<HttpResponse, (TransportError, bool)> {
        let url = format!("{}{}", self.base, req.path);
        let mut builder = ureq::http::Request::builder()
            .method(req.method)
            .uri(&url)
            .header("Accept", req.accept);
        if let Some(ct) = req.content_type {
            builder = builder.header("Content-Type", ct);
        }
        if let Some(a) = &self.auth {
            builder = builder.header("Authorization", a.expose());
        }
        let request = builder
            .body(req.body.map(<[u8]>::to_vec).unwrap_or_default())
            .map_err(|e| {
                (
                    self.session(format!("bad request {}: {e}", req.path)),
                    false,
                )
            })?;
        let agent = &self.shared.agent;
        let gate = self.shared.first_request_gate();
        let request = if gate.is_some() {
            request
        } else {
            agent
                .configure_request(request)
                .timeout_global(Some(timeout))
                .build()
        };
        let result = agent.run(request);
        // The connector exists once TLS was tried: an answer, or a TLS or HTTP error.
        let built = !matches!(
            result,
            Err(ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::HostNotFound
                | ureq::Error::ConnectionFailed)
        );
        if gate.is_some() && built {
            self.shared.warm.store(true, Ordering::Release);
        }
        drop(gate);
        let mut resp = result.map_err(|e| self.map_error(e, timeout))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(n) => (
                    self.session(format!(
                        "{} {}: the answer is larger than max_output ({n} bytes); raise max_output for this host or task",
                        req.method, req.path
                    )),
                    false,
                ),
                e => self.map_error(e, timeout),
            })?;
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }

    fn session(&self, reason: String) -> TransportError {
        TransportError::Session {
            host: self.host.clone(),
            what: format!("API {}", self.base),
            reason,
        }
    }

    fn connect(&self, reason: String) -> TransportError {
        TransportError::Connect {
            host: self.host.clone(),
            addr: self.addr.clone(),
            reason,
        }
    }

    fn map_error(&self, e: ureq::Error, timeout: Duration) -> (TransportError, bool) {
        match e {
            ureq::Error::Timeout(t) => {
                let connecting = matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve);
                if connecting {
                    (
                        TransportError::ConnectTimeout {
                            host: self.host.clone(),
                            addr: self.addr.clone(),
                            secs: timeout.as_secs_f64(),
                        },
                        false,
                    )
                } else {
                    (
                        TransportError::Timeout {
                            host: self.host.clone(),
                            what: format!("API request to {}", self.base),
                            secs: timeout.as_secs_f64(),
                            partial: String::new(),
                        },
                        false,
                    )
                }
            }
            ureq::Error::HostNotFound => (
                TransportError::Resolve {
                    host: self.host.clone(),
                    target: self.addr.clone(),
                    reason: "host not found".into(),
                },
                false,
            ),
            ureq::Error::Io(io) => {
                let retry = matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::BrokenPipe
                        | ErrorKind::UnexpectedEof
                );
                let plain = self.base.starts_with("http://");
                let reason = match io.kind() {
                    ErrorKind::ConnectionRefused => format!(
                        "connection refused (is the API enabled, and is {} its port?)",
                        self.addr
                    ),
                    ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof if plain => format!(
                        "{io}\n hint: the request went as plain HTTP (api_use_ssl: false); if the port speaks HTTPS, leave api_use_ssl on"
                    ),
                    _ => io.to_string(),
                };
                (self.connect(reason), retry)
            }
            ureq::Error::NativeTls(t) => {
                let text = t.to_string();
                let hint = if text.contains("certificate verify failed")
                    || text.contains("self-signed")
                    || text.contains("unable to get local issuer")
                {
                    "\n hint: the device's certificate is not signed by a CA netorch trusts: set `ca_file` to the CA's PEM file (or `validate_certs: false` to skip the check)"
                } else if text.contains("wrong version number")
                    || text.contains("packet length too long")
                {
                    "\n hint: does the port speak plain HTTP? then set `api_use_ssl: false`"
                } else {
                    ""
                };
                (self.connect(format!("TLS: {text}{hint}")), false)
            }
            ureq::Error::Protocol(p) => (
                self.session(format!(
                    "not an HTTP answer ({p}); is {} the API's port, and does it speak {}?",
                    self.addr,
                    if self.base.starts_with("https") {
                        "HTTPS"
                    } else {
                        "HTTP"
                    }
                )),
                false,
            ),
            other => {
                let text = other.to_string();
                let retry = text.contains("reset") || text.contains("closed");
                (self.session(text), retry)
            }
        }
    }
}
