//! `--listen ADDR`: a tiny HTTP/1.1 responder for `GET /status` (JSON) and `GET /metrics`
//! (Prometheus text). Two read-only routes do not earn a web framework: each connection
//! sends one request, gets one response, and is closed. Requests are capped in size and
//! time, and connections in number ([`MAX_CONNECTIONS`]), so a slow or hostile client
//! cannot hold the daemon: idle connections once used up its file descriptors and made
//! the jobs' runs fail to start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::status::DaemonStatus;

const MAX_REQUEST_BYTES: usize = 8 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once; more wait in the kernel's accept queue, where they hold
/// none of the daemon's file descriptors.
pub const MAX_CONNECTIONS: usize = 32;

/// Serve until the process ends (the caller aborts the task on shutdown).
pub async fn serve(listener: TcpListener, status: Arc<Mutex<DaemonStatus>>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let status = Arc::clone(&status);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, handle(stream, status)).await;
            drop(slot);
        });
    }
}

/// True for addresses only this machine can reach.
pub fn is_loopback(addr: &std::net::SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Raise this process's soft limit on open files to its hard limit: runs, their pipes
/// and HTTP clients all take descriptors, and 1024 (a common soft default) is little for a
/// daemon. Returns the limit now in force, or why it could not be raised.
pub fn raise_fd_limit() -> Result<u64, String> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current.is_none() || now.current == now.maximum {
        return Ok(now.current.unwrap_or(u64::MAX));
    }
    let want = Rlimit {
        current: now.maximum,
        maximum: now.maximum,
    };
    match setrlimit(Resource::Nofile, want) {
        Ok(()) => Ok(now.maximum.unwrap_or(u64::MAX)),
        Err(e) => Err(format!(
            "cannot raise the open-file limit from {} to {}: {e}",
            now.current.unwrap_or(u64::MAX),
            now.maximum
                .map_or("unlimited".to_string(), |m| m.to_string())
        )),
    }
}

async fn handle(mut stream: TcpStream, status: Arc<Mutex<DaemonStatus>>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST_BYTES {
            return respond(&mut stream, 431, "text/plain", "request too large\n").await;
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut parts = text.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, 405, "text/plain", "only GET\n").await;
    }
    let snapshot = match status.lock() {
        Ok(s) => s.clone(),
        Err(p) => p.into_inner().clone(),
    };
    match path {
        "/status" => {
            respond(
                &mut stream,
                200,
                "application/json",
                &(snapshot.to_json() + "\n"),
            )
            .await
        }
        "/metrics" => {
            respond(
                &mut stream,
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                &snapshot.to_metrics(),
            )
            .await
        }
        _ => {
            respond(
                &mut stream,
                404,
                "text/plain",
                "not found: try /status or /metrics\n",
            )
            .await
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: std::net::SocketAddr, req: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn routes() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let st = Arc::new(Mutex::new(DaemonStatus {
            schedule: "s.yml".into(),
            ..Default::default()
        }));
        let task = tokio::spawn(serve(l, st));
        let r = get(addr, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("\"schedule\": \"s.yml\""), "{r}");
        let r = get(addr, "GET /metrics HTTP/1.1\r\n\r\n").await;
        assert!(r.contains("# TYPE netorch_job_runs_total counter"), "{r}");
        let r = get(addr, "GET /nope HTTP/1.1\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        let r = get(addr, "POST /status HTTP/1.1\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
        task.abort();
    }

    /// Idle connections beyond the cap are left in the accept queue (no descriptor of
    /// ours), and a request gets its answer once one of the slots frees up.
    #[tokio::test]
    async fn idle_connections_are_capped() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let st = Arc::new(Mutex::new(DaemonStatus::default()));
        let task = tokio::spawn(serve(l, st));
        let fds = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let before = fds();
        let mut idle = Vec::new();
        // Within the listen backlog (128), so that every connect completes at once.
        for _ in 0..MAX_CONNECTIONS + 64 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let opened = fds().saturating_sub(before);
        // The idle clients' ends are ours too (one each); the server holds one more per
        // accepted connection, and only MAX_CONNECTIONS of them (the old server: one per
        // client, twice as many in all).
        assert!(
            opened <= idle.len() + MAX_CONNECTIONS + 16,
            "{opened} descriptors for {} clients",
            idle.len()
        );
        drop(idle);
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            get(addr, "GET /status HTTP/1.1\r\n\r\n"),
        )
        .await
        .unwrap();
        assert!(r.starts_with("HTTP/1.1 200 OK"), "{r}");
        task.abort();
    }

    #[test]
    fn only_loopback_is_quiet() {
        for (addr, quiet) in [
            ("127.0.0.1:9469", true),
            ("[::1]:9469", true),
            ("0.0.0.0:9469", false),
            ("[::]:9469", false),
            ("10.1.2.3:9469", false),
        ] {
            assert_eq!(is_loopback(&addr.parse().unwrap()), quiet, "{addr}");
        }
    }

    #[test]
    fn the_fd_limit_is_raised_to_the_hard_limit() {
        use rustix::process::{getrlimit, Resource};
        let got = raise_fd_limit().unwrap();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(now.current, now.maximum);
        assert_eq!(Some(got), now.current.or(Some(u64::MAX)));
    }
}
