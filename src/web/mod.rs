//! The daemon's web interface: server-rendered pages over the daemon's status, its backup
//! stores (read straight from git) and its run history, plus two actions (run a job now,
//! back one device up now) for operators. `GET /status` (JSON) and `GET /metrics`
//! (Prometheus) are served as before.
//!
//! The server is axum's router on hyper, driven by our own accept loop so that a slow or
//! hostile client cannot hold the daemon: at most [`MAX_CONNECTIONS`] connections at
//! once (more wait in the kernel's queue, holding none of our descriptors), one request
//! per connection, a deadline for the TLS handshake, the request head, the request and the
//! connection, and a small body limit. Pages carry a strict Content-Security-Policy; every
//! asset comes from the binary; templates autoescape.

pub mod auth;
pub mod config;
pub mod highlight;
pub mod history;
mod pages;
pub mod runs;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::schedule::status::DaemonStatus;
use crate::schedule::Job;
pub use config::{Role, WebSettings};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;
/// The request head must arrive within this.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// A TLS handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// A request must be answered within this (page, history scan, diff).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A connection is closed after this, whatever it is doing.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// The largest request body (login and action forms are a few hundred bytes).
const MAX_BODY_BYTES: usize = 16 << 10;
/// The largest request head.
const MAX_HEAD_BYTES: usize = 16 << 10;
/// Git reads and report parsing in flight at once (they run on blocking threads).
const HEAVY_AT_ONCE: usize = 4;

/// "Run this job now" from the interface, answered with the run's id or why not.
#[derive(Debug)]
pub struct ActionRequest {
    pub job: String,
    /// A `--limit` replacing the job's own (one device backed up).
    pub limit: Option<String>,
    pub requested_by: String,
    pub reply: oneshot::Sender<Result<String, String>>,
}

/// What the daemon gives the interface.
pub struct WebContext {
    pub status: Arc<Mutex<DaemonStatus>>,
    pub jobs: Vec<Job>,
    pub runs_dir: PathBuf,
    pub settings: WebSettings,
    /// `None`: actions are not offered (tests of pages alone).
    pub actions: Option<mpsc::Sender<ActionRequest>>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("web: {0}")]
    Setup(String),
    #[error("web: TLS: {path}: {reason}")]
    Tls { path: PathBuf, reason: String },
}

/// Platform and group of an inventory host.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostInfo {
    pub platform: String,
    pub group: String,
}

/// A backup store the jobs write.
#[derive(Debug, Clone)]
pub(crate) struct StoreInfo {
    pub root: PathBuf,
    /// The backup jobs that write it.
    pub jobs: Vec<String>,
}

pub(crate) struct App {
    pub ctx: WebContext,
    pub keys: auth::Keys,
    pub templates: minijinja::Environment<'static>,
    pub stores: Vec<StoreInfo>,
    pub inventory: Mutex<HashMap<String, HostInfo>>,
    /// Per store: the hosts its backup jobs cover (inventory and limit), so that a device
    /// never backed up is listed too.
    pub expected: Mutex<Vec<Vec<String>>>,
    pub last_changes: Mutex<Vec<Option<history::LastChanges>>>,
    /// Per-host results of recent runs, by (job, run id).
    pub run_hosts: Mutex<HashMap<(String, String), pages::HostResults>>,
    /// Password checks one at a time (argon2 is slow on purpose).
    pub login_gate: Semaphore,
    pub heavy: Arc<Semaphore>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The interface's router and state; the inventories of the jobs are read in the
/// background (platforms and groups appear once they are loaded).
pub fn router(ctx: WebContext) -> Result<Router, WebError> {
    let keys = auth::Keys::new(&ctx.settings).map_err(WebError::Setup)?;
    let templates = pages::templates().map_err(WebError::Setup)?;
    let mut stores: Vec<StoreInfo> = Vec::new();
    for j in &ctx.jobs {
        if let Some(s) = &j.store {
            match stores.iter_mut().find(|x| &x.root == s) {
                Some(x) => x.jobs.push(j.name.clone()),
                None => stores.push(StoreInfo {
                    root: s.clone(),
                    jobs: vec![j.name.clone()],
                }),
            }
        }
    }
    let n = stores.len();
    let inventories: Vec<InventoryUses> = {
        let mut v: Vec<InventoryUses> = Vec::new();
        for j in &ctx.jobs {
            let store = j
                .store
                .as_ref()
                .and_then(|s| stores.iter().position(|x| &x.root == s));
            match v.iter_mut().find(|(p, _)| p == &j.inventory) {
                Some((_, uses)) => uses.push((j.limit.clone(), store)),
                None => v.push((j.inventory.clone(), vec![(j.limit.clone(), store)])),
            }
        }
        v
    };
    let app = Arc::new(App {
        ctx,
        keys,
        templates,
        stores,
        inventory: Mutex::new(HashMap::new()),
        expected: Mutex::new(vec![Vec::new(); n]),
        last_changes: Mutex::new(vec![None; n]),
        run_hosts: Mutex::new(HashMap::new()),
        login_gate: Semaphore::new(1),
        heavy: Arc::new(Semaphore::new(HEAVY_AT_ONCE)),
    });
    if !inventories.is_empty() {
        let weak = Arc::downgrade(&app);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn_blocking(move || {
                let (hosts, expected) = load_inventories(&inventories, n);
                if let Some(app) = weak.upgrade() {
                    *lock(&app.inventory) = hosts;
                    *lock(&app.expected) = expected;
                }
            });
        }
    }
    let routes = Router::new()
        .route("/", get(pages::overview))
        .route("/devices", get(pages::devices))
        .route("/device/{store}/{*path}", get(pages::device))
        .route("/history/{store}/{*path}", get(pages::history))
        .route("/diff/{store}/{*path}", get(pages::diff))
        .route("/raw/{store}/{*path}", get(pages::raw))
        .route("/runs", get(pages::runs))
        .route("/runs/{job}/{id}", get(pages::run))
        .route("/actions/run-job", post(pages::run_job))
        .route("/actions/backup-device", post(pages::backup_device))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/status", get(pages::status_json))
        .route("/metrics", get(pages::metrics))
        .route("/static/style.css", get(pages::style))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            pages::authenticate,
        ))
        .layer(axum::middleware::from_fn(bounded))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app);
    Ok(routes)
}

/// An inventory, and the (limit, store) of each job that uses it.
type InventoryUses = (PathBuf, Vec<(Option<String>, Option<usize>)>);

/// Platform and most specific group of every host of the jobs' inventories; per store, the
/// hosts its backup jobs cover.
fn load_inventories(
    inventories: &[InventoryUses],
    stores: usize,
) -> (HashMap<String, HostInfo>, Vec<Vec<String>>) {
    let mut out = HashMap::new();
    let mut expected = vec![Vec::new(); stores];
    for (path, uses) in inventories {
        let inv = match crate::inventory::Inventory::load(std::slice::from_ref(path)) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(
                    "web: cannot read the inventory {} (devices show no platform): {e}",
                    path.display()
                );
                continue;
            }
        };
        for (name, h) in &inv.hosts {
            let platform = h
                .var(&["platform", "ansible_network_os"])
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let group = h
                .groups
                .iter()
                .rev()
                .find(|g| g.as_str() != "all" && g.as_str() != "ungrouped")
                .cloned()
                .unwrap_or_default();
            out.entry(name.clone())
                .or_insert(HostInfo { platform, group });
        }
        for (limit, store) in uses {
            let Some(list) = store.and_then(|i| expected.get_mut(i)) else {
                continue;
            };
            match inv.select(limit.as_deref().unwrap_or("all")) {
                Ok(hosts) => {
                    for h in hosts {
                        if !list.contains(&h.name) {
                            list.push(h.name.clone());
                        }
                    }
                }
                Err(e) => tracing::warn!("web: {}: {e}", path.display()),
            }
        }
    }
    (out, expected)
}

async fn bounded(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took too long\n",
        )
            .into_response(),
    }
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// A TLS acceptor from PEM certificate (chain) and key files.
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_native_tls::TlsAcceptor, WebError> {
    let read = |p: &std::path::Path| {
        crate::source::read_bounded(p, 1 << 20).map_err(|e| WebError::Tls {
            path: p.to_path_buf(),
            reason: e.message,
        })
    };
    let (c, k) = (read(cert)?, read(key)?);
    let id =
        tokio_native_tls::native_tls::Identity::from_pkcs8(&c, &k).map_err(|e| WebError::Tls {
            path: cert.to_path_buf(),
            reason: format!("cannot use the certificate and key (PEM, PKCS#8 key): {e}"),
        })?;
    let acc = tokio_native_tls::native_tls::TlsAcceptor::new(id).map_err(|e| WebError::Tls {
        path: cert.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(tokio_native_tls::TlsAcceptor::from(acc))
}

/// Serve until the task is aborted.
pub async fn serve(listener: TcpListener, app: Router, tls: Option<tokio_native_tls::TlsAcceptor>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, async move {
                match tls {
                    Some(acc) => {
                        if let Ok(Ok(s)) =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acc.accept(stream)).await
                        {
                            serve_connection(s, app).await;
                        }
                    }
                    None => serve_connection(stream, app).await,
                }
            })
            .await;
        });
    }
}

async fn serve_connection<S>(stream: S, app: Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper_util::service::TowerToHyperService::new(app);
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(false)
        .max_buf_size(MAX_HEAD_BYTES.max(8192))
        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
        .await;
}

/// Bind the listener for the interface (checked: another machine may reach it only with
/// authentication configured).
pub async fn bind(addr: SocketAddr, web: &WebSettings) -> Result<TcpListener, WebError> {
    config::check_exposure(&addr, web).map_err(WebError::Setup)?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| WebError::Setup(format!("listen on {addr}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    fn ctx() -> WebContext {
        WebContext {
            status: Arc::new(Mutex::new(DaemonStatus {
                schedule: "s.yml".into(),
                ..Default::default()
            })),
            jobs: Vec::new(),
            runs_dir: PathBuf::from("/nonexistent/runs"),
            settings: WebSettings::default(),
            actions: None,
        }
    }

    async fn get(addr: SocketAddr, req: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn status_and_metrics_as_before() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let task = tokio::spawn(serve(l, router(ctx()).unwrap(), None));
        let r = get(addr, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("\"schedule\": \"s.yml\""), "{r}");
        let r = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.contains("# TYPE netorch_job_runs_total counter"), "{r}");
        let r = get(addr, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        let r = get(addr, "POST /status HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
        task.abort();
    }

    /// Idle connections beyond the cap are left in the accept queue (no descriptor of
    /// ours), and a request gets its answer once one of the slots frees up.
    #[tokio::test]
    async fn idle_connections_are_capped() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let task = tokio::spawn(serve(l, router(ctx()).unwrap(), None));
        let fds = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let before = fds();
        let mut idle = Vec::new();
        for _ in 0..MAX_CONNECTIONS + 64 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let opened = fds().saturating_sub(before);
        assert!(
            opened <= idle.len() + MAX_CONNECTIONS + 16,
            "{opened} descriptors for {} clients",
            idle.len()
        );
        drop(idle);
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            get(addr, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"),
        )
        .await
        .unwrap();
        assert!(r.starts_with("HTTP/1.1 200 OK"), "{r}");
        task.abort();
    }

    #[test]
    fn exposure_needs_auth() {
        let web = WebSettings::default();
        assert!(config::check_exposure(&"127.0.0.1:1".parse().unwrap(), &web).is_ok());
        assert!(config::check_exposure(&"[::1]:1".parse().unwrap(), &web).is_ok());
        assert!(config::check_exposure(&"0.0.0.0:1".parse().unwrap(), &web).is_err());
    }
}
