//! NetBox over HTTP: paginated lists fetched in parallel, retries on 5xx, and the on-disk
//! cache of built inventories.
//!
//! A list is read as NetBox pages it: the first page gives `count` (and the server's real
//! page size, which MAX_PAGE_SIZE may cap below the `limit` asked for); the other pages
//! are then fetched by offset on a few threads at once, so 10,000 devices at 50 ms per
//! request cost about three round trips, not ten. A server that gives no `count` is
//! followed through `next`, one page after the other.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

use crate::secret::Secret;

/// Items asked for per page (NetBox's default MAX_PAGE_SIZE).
pub const PAGE_SIZE: usize = 1000;
/// Pages fetched at once: enough to hide latency, few enough not to load NetBox.
pub const PARALLEL_PAGES: usize = 4;
/// Attempts after a 5xx or a dropped connection.
const RETRIES: u32 = 2;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// One page's body; NetBox pages of 1,000 devices with config contexts stay far below.
const MAX_BODY: u64 = 256 << 20;
/// Objects one list may hold: far above any NetBox, low enough that a wrong `count` or a
/// `next` link that loops cannot exhaust memory or run forever.
const MAX_ITEMS: usize = 2_000_000;

/// Why a NetBox request failed. Every variant names the URL; none holds the token (it
/// only travels in the Authorization header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No answer: refused, DNS, TLS, timeout.
    Unreachable { url: String, reason: String },
    /// 401/403: the token is wrong, missing, or lacks the permission.
    Auth {
        url: String,
        status: u16,
        detail: String,
    },
    /// Any other error status (after the retries, for 5xx).
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    /// The answer is not JSON, or not a NetBox list.
    BadAnswer { url: String, reason: String },
}

impl FetchError {
    /// No answer at all (a cached copy may stand in).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, FetchError::Unreachable { .. })
            || matches!(self, FetchError::Status { status, .. } if *status >= 500)
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable { url, reason } => {
                write!(f, "cannot reach NetBox at {url}: {reason}")
            }
            FetchError::Auth {
                url,
                status,
                detail,
            } => write!(
                f,
                "NetBox refused the token (HTTP {status}{}) at {url}; check `token` or the \
                 NETBOX_TOKEN environment variable",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ),
            FetchError::Status {
                url,
                status,
                detail,
            } => write!(
                f,
                "NetBox answered HTTP {status} at {url}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ),
            FetchError::BadAnswer { url, reason } => {
                write!(f, "NetBox gave an unusable answer at {url}: {reason}")
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// How to talk to one NetBox.
pub struct Client {
    agent: Agent,
    base: String,
    /// The whole `Authorization` header value.
    auth: Option<Secret>,
}

/// The TLS side of [`Client::new`].
pub struct Tls<'a> {
    pub validate_certs: bool,
    pub ca_path: Option<&'a Path>,
}

impl Client {
    /// `base`: the API endpoint without a trailing slash (`https://netbox.example.com`).
    pub fn new(
        base: &str,
        auth: Option<Secret>,
        tls: &Tls<'_>,
        timeout: Duration,
    ) -> Result<Client, String> {
        let mut cfg = TlsConfig::builder().provider(TlsProvider::NativeTls);
        if !tls.validate_certs {
            cfg = cfg.disable_verification(true);
        } else if let Some(path) = tls.ca_path {
            let pem = std::fs::read(path)
                .map_err(|e| format!("ca_path: cannot read {}: {e}", path.display()))?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!(
                    "ca_path: {} holds no PEM certificate",
                    path.display()
                ));
            }
            cfg = cfg.root_certs(RootCerts::new_with_certs(&certs));
        } else {
            cfg = cfg.root_certs(RootCerts::PlatformVerifier);
        }
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(timeout))
            .tls_config(cfg.build())
            .max_idle_connections_per_host(PARALLEL_PAGES + 1)
            .user_agent(concat!("netorch/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            auth,
        })
    }

    /// The full URL of an API path with its query.
    pub fn url(&self, path: &str, query: &[(String, String)]) -> String {
        let mut url = format!("{}{path}", self.base);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    /// A `next` link re-rooted on the endpoint: NetBox behind a TLS proxy often links
    /// `http://` pages, and the token must never follow a link to another host.
    fn same_origin(&self, link: &str) -> String {
        match link.find("/api/") {
            Some(i) => format!("{}{}", self.base, &link[i..]),
            None => link.to_string(),
        }
    }

    /// GET one URL as JSON, retrying 5xx and dropped connections with a short backoff.
    pub fn get(&self, url: &str) -> Result<Value, FetchError> {
        let mut attempt = 0;
        loop {
            match self.get_once(url) {
                Err(e) if attempt < RETRIES && retryable(&e) => {
                    tracing::debug!(%url, attempt, "NetBox request retried: {e}");
                    std::thread::sleep(FIRST_BACKOFF * (1 << attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn get_once(&self, url: &str) -> Result<Value, FetchError> {
        let mut req = self.agent.get(url).header("Accept", "application/json");
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a.expose());
        }
        let mut resp = req.call().map_err(|e| FetchError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| FetchError::Unreachable {
                url: url.to_string(),
                reason: format!("reading the answer: {e}"),
            })?;
        if status == 401 || status == 403 {
            return Err(FetchError::Auth {
                url: url.to_string(),
                status,
                detail: detail(&body),
            });
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
                detail: detail(&body),
            });
        }
        serde_json::from_slice(&body).map_err(|e| FetchError::BadAnswer {
            url: url.to_string(),
            reason: format!("invalid JSON ({e})"),
        })
    }

    /// Every object of a list endpoint (`/api/dcim/devices/`) matching `query`.
    pub fn list(&self, path: &str, query: &[(String, String)]) -> Result<Vec<Value>, FetchError> {
        // The page first: an error's URL then shows which page before the long `fields`.
        let with_page = |limit: usize, offset: usize| {
            let mut q = vec![
                ("limit".to_string(), limit.to_string()),
                ("offset".to_string(), offset.to_string()),
            ];
            q.extend(query.iter().cloned());
            self.url(path, &q)
        };
        let first_url = with_page(PAGE_SIZE, 0);
        let first = Page::parse(&first_url, self.get(&first_url)?)?;
        let mut items = first.results;
        if items.is_empty() {
            return Ok(items);
        }
        let (Some(count), Some(_)) = (first.count, first.next.as_ref()) else {
            // No count to plan with (or a single page): follow `next`.
            let mut next = first.next;
            while let Some(link) = next {
                let url = self.same_origin(&link);
                let page = Page::parse(&url, self.get(&url)?)?;
                if page.results.is_empty() {
                    break;
                }
                items.extend(page.results);
                if items.len() > MAX_ITEMS {
                    return Err(too_many(&url));
                }
                next = page.next;
            }
            return Ok(items);
        };
        if count > MAX_ITEMS {
            return Err(too_many(&first_url));
        }
        // The server's page size may be below what was asked (MAX_PAGE_SIZE).
        let size = items.len().max(1);
        let offsets: Vec<usize> = (1..count.div_ceil(size)).map(|p| p * size).collect();
        let pages: Mutex<Vec<Option<Vec<Value>>>> = Mutex::new(vec![None; offsets.len()]);
        let failed: Mutex<Option<FetchError>> = Mutex::new(None);
        let next_job = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..PARALLEL_PAGES.min(offsets.len()) {
                s.spawn(|| loop {
                    let i = next_job.fetch_add(1, Ordering::Relaxed);
                    let Some(&offset) = offsets.get(i) else {
                        return;
                    };
                    if lock(&failed).is_some() {
                        return;
                    }
                    let url = with_page(size, offset);
                    match self.get(&url).and_then(|v| Page::parse(&url, v)) {
                        Ok(page) => {
                            if let Some(slot) = lock(&pages).get_mut(i) {
                                *slot = Some(page.results);
                            }
                        }
                        Err(e) => {
                            lock(&failed).get_or_insert(e);
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = lock(&failed).take() {
            return Err(e);
        }
        let pages = match pages.into_inner() {
            Ok(p) => p,
            Err(p) => p.into_inner(),
        };
        for page in pages.into_iter().flatten() {
            items.extend(page);
        }
        // Objects added or removed while paging shift the offsets: keep each id once.
        let mut seen = std::collections::HashSet::new();
        items.retain(|o| match o.get("id").and_then(Value::as_u64) {
            Some(id) => seen.insert(id),
            None => true,
        });
        Ok(items)
    }
}

fn too_many(url: &str) -> FetchError {
    FetchError::BadAnswer {
        url: url.to_string(),
        reason: format!("more than {MAX_ITEMS} objects; narrow the list with query_filters"),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn retryable(e: &FetchError) -> bool {
    match e {
        FetchError::Status { status, .. } => *status >= 500 && *status != 501,
        FetchError::Unreachable { reason, .. } => !reason.contains("refused"),
        _ => false,
    }
}

/// NetBox's `{"detail": ...}`, else the start of the body.
fn detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(d) = v.get("detail").and_then(Value::as_str) {
            return d.to_string();
        }
    }
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// One page of a NetBox list.
struct Page {
    count: Option<usize>,
    next: Option<String>,
    results: Vec<Value>,
}

impl Page {
    fn parse(url: &str, v: Value) -> Result<Page, FetchError> {
        let bad = |reason: &str| FetchError::BadAnswer {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let Value::Object(mut m) = v else {
            return Err(bad("expected a JSON object with `results`"));
        };
        let results = match m.remove("results") {
            Some(Value::Array(r)) => r,
            _ => return Err(bad("no `results` list (is api_endpoint NetBox's address?)")),
        };
        let count = m
            .get("count")
            .and_then(Value::as_u64)
            .and_then(|c| usize::try_from(c).ok());
        let next = match m.remove("next") {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        Ok(Page {
            count,
            next,
            results,
        })
    }
}

/// Percent-encode a query key or value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        // `,` is a legal query character, and keeps `fields=id,name` readable in errors.
        if b.is_ascii_alphanumeric() || b"-_.~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The endpoint with any `user:password@` taken out, for messages and cache keys.
pub fn shown_endpoint(url: &str) -> String {
    crate::secret::redact_url(url)
}

/// The cache folder: `$XDG_CACHE_HOME/netorch/netbox`, else `~/.cache/netorch/netbox`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("netorch").join("netbox"))
}

/// A cached inventory and its age.
pub struct Cached {
    pub data: Value,
    pub age: Duration,
}

/// Read a cache file written by [`write_cache`]; anything unreadable is no cache.
pub fn read_cache(path: &Path) -> Option<Cached> {
    let bytes = std::fs::read(path).ok()?;
    let mut v: Value = serde_json::from_slice(&bytes).ok()?;
    let fetched = v.get("fetched_at")?.as_u64()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    let age = Duration::from_secs(now.saturating_sub(fetched));
    let data = v.get_mut("inventory")?.take();
    Some(Cached { data, age })
}

/// Write the built inventory to the cache, atomically, readable by the owner only (it is
/// the NetBox data the token gave access to, though never the token itself).
pub fn write_cache(path: &Path, endpoint: &str, data: &Value) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let doc = serde_json::json!({
        "netorch_netbox_cache": 1,
        "endpoint": shown_endpoint(endpoint),
        "fetched_at": now,
        "inventory": data,
    });
    let bytes = serde_json::to_vec(&doc).map_err(std::io::Error::other)?;
    crate::fs::write_atomic(path, &bytes)?;
    // tempfile creates 0600 already; an older file replaced by rename keeps nothing.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_encoded_and_pages_parsed() {
        let c = Client::new(
            "http://nb.example/",
            None,
            &Tls {
                validate_certs: true,
                ca_path: None,
            },
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            c.url(
                "/api/dcim/devices/",
                &[
                    ("tag".into(), "a b".into()),
                    ("fields".into(), "id,name".into())
                ]
            ),
            "http://nb.example/api/dcim/devices/?tag=a%20b&fields=id,name"
        );
        let p = Page::parse(
            "u",
            serde_json::json!({"count": 3, "next": null, "results": [1]}),
        )
        .unwrap();
        assert_eq!((p.count, p.next, p.results.len()), (Some(3), None, 1));
        let e = Page::parse("http://u/x", serde_json::json!([1]))
            .err()
            .unwrap();
        assert!(e.to_string().contains("http://u/x"), "{e}");
        assert_eq!(detail(br#"{"detail": "Invalid token"}"#), "Invalid token");
        assert_eq!(detail(b"<h1>Server\n Error</h1>"), "<h1>Server Error</h1>");
    }

    #[test]
    fn cache_round_trip_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("c.json");
        write_cache(&path, "http://u:pw@nb", &serde_json::json!({"all": {}})).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("pw"), "{text}");
        let c = read_cache(&path).unwrap();
        assert_eq!(c.data, serde_json::json!({"all": {}}));
        assert!(c.age < Duration::from_secs(5));
        assert!(read_cache(&dir.path().join("none")).is_none());
    }
}
