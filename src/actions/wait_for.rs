//! `wait_for`: a TCP port on the host (or another address) open or closed, or a pause.
//! Runs on the host's blocking worker, so sleeping here never stalls the scheduler.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::ActionCtx;
use crate::report::TaskResult;

/// How often the port is probed.
const PROBE_INTERVAL_MS: u64 = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    Started,
    Stopped,
}

pub struct WaitFor<'a> {
    pub host: Option<&'a str>,
    pub port: Option<u16>,
    pub state: PortState,
    pub timeout: Duration,
    pub delay: Duration,
    /// A plain pause when no port is given.
    pub seconds: Option<Duration>,
}

pub fn run(ctx: &ActionCtx<'_>, w: &WaitFor<'_>) -> TaskResult {
    std::thread::sleep(w.delay);
    let Some(port) = w.port else {
        std::thread::sleep(w.seconds.unwrap_or_default());
        return TaskResult::ok();
    };
    let host = match w.host {
        Some(h) => match ctx.render(h, "wait_for host") {
            Ok(h) => h,
            Err(e) => return TaskResult::failed(e.to_string()),
        },
        None => ctx
            .vars
            .get("host")
            .or_else(|| ctx.vars.get("ansible_host"))
            .and_then(|v| v.as_str())
            .unwrap_or(ctx.host)
            .to_string(),
    };
    let addrs: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return TaskResult::failed(format!("wait_for: cannot resolve {host}: {e}")),
    };
    let start = Instant::now();
    let want_open = w.state == PortState::Started;
    loop {
        let open = addrs.iter().any(|a| {
            TcpStream::connect_timeout(a, Duration::from_millis(PROBE_INTERVAL_MS.max(500))).is_ok()
        });
        if open == want_open {
            let mut r = TaskResult::ok();
            r.data = serde_json::json!({ "elapsed_ms": start.elapsed().as_millis() as u64, "port": port, "host": host });
            return r;
        }
        if start.elapsed() >= w.timeout {
            return TaskResult::failed(format!(
                "timeout after {:.1}s waiting for {host}:{port} to be {}",
                w.timeout.as_secs_f64(),
                if want_open { "open" } else { "closed" }
            ));
        }
        std::thread::sleep(Duration::from_millis(PROBE_INTERVAL_MS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use crate::template::Templates;

    #[test]
    fn open_and_closed_ports() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = Templates::new(vec![]);
        let vars = serde_json::json!({"host": "127.0.0.1"})
            .as_object()
            .cloned()
            .unwrap();
        let ctx = ActionCtx {
            host: "h",
            vars: &vars,
            templates: &t,
            check_mode: false,
            diff: false,
        };
        let mut w = WaitFor {
            host: None,
            port: Some(port),
            state: PortState::Started,
            timeout: Duration::from_secs(2),
            delay: Duration::ZERO,
            seconds: None,
        };
        assert_eq!(run(&ctx, &w).status, Status::Ok);
        w.state = PortState::Stopped;
        w.timeout = Duration::from_millis(300);
        let r = run(&ctx, &w);
        assert_eq!(r.status, Status::Failed);
        assert!(r
            .msg
            .unwrap()
            .contains(&format!("127.0.0.1:{port} to be closed")));
        drop(listener);
        assert_eq!(run(&ctx, &w).status, Status::Ok);
    }
}
