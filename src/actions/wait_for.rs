//! `wait_for`: a TCP port on the host (or another address) open or closed, or a pause
//! (`{seconds: N}`). Runs on the host's blocking worker, so sleeping here never stalls the
//! scheduler.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::{ActionArgs, ActionCtx, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;

#[derive(Debug, Clone, PartialEq)]
pub enum WaitForArgs {
    /// Poll `host:port` until it is in `state`, for at most `timeout`, after `delay`.
    Port {
        port: u16,
        /// Default: the task's host address.
        host: Option<String>,
        state: PortState,
        timeout: Option<Duration>,
        delay: Option<Duration>,
    },
    /// `{seconds: N}`: just wait.
    Sleep(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    #[default]
    Started,
    Stopped,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "values::opt_count")]
    port: Option<u16>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    host: Option<String>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    state: Option<PortState>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    delay: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    seconds: Option<Duration>,
}

fn check(s: Spec) -> Result<WaitForArgs, String> {
    match (s.port, s.seconds) {
        (Some(port), None) => Ok(WaitForArgs::Port {
            port,
            host: s.host,
            state: s.state.unwrap_or_default(),
            timeout: s.timeout,
            delay: s.delay,
        }),
        (None, Some(secs)) => {
            if s.host.is_some() || s.state.is_some() || s.timeout.is_some() || s.delay.is_some() {
                Err("wait_for with `seconds` takes no other option".into())
            } else {
                Ok(WaitForArgs::Sleep(secs))
            }
        }
        (Some(_), Some(_)) => Err("wait_for takes `port` or `seconds`, not both".into()),
        (None, None) => {
            Err("wait_for needs `port` (with host, state, timeout, delay) or `seconds`".into())
        }
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WaitForArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{port, host, state: started|stopped, timeout, delay} or {seconds: N}",
        false,
        check,
    ))
}

/// How often the port is probed.
const PROBE_INTERVAL_MS: u64 = 250;

/// Why a wait ended early.
const INTERRUPTED: &str = "interrupted (Ctrl-C) while waiting";

/// Ansible's `wait_for` default: five minutes.
const DEFAULT_TIMEOUT_SECS: u64 = 300;

impl ActionArgs for WaitForArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        match self {
            WaitForArgs::Port { host: Some(h), .. } => vec![Probe::line("host", h)],
            _ => Vec::new(),
        }
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        match self {
            WaitForArgs::Port { host, port, .. } => {
                format!("{}:{port}", host.as_deref().unwrap_or("host"))
            }
            WaitForArgs::Sleep(d) => format!("{}s", d.as_secs_f64()),
        }
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        match self {
            WaitForArgs::Sleep(d) => {
                if crate::interrupt::sleep(*d) {
                    TaskResult::ok()
                } else {
                    TaskResult::failed(INTERRUPTED)
                }
            }
            WaitForArgs::Port {
                port,
                host,
                state,
                timeout,
                delay,
            } => {
                if !crate::interrupt::sleep(delay.unwrap_or_default()) {
                    return TaskResult::failed(INTERRUPTED);
                }
                wait_for_port(
                    &env.ctx,
                    host.as_deref(),
                    *port,
                    *state,
                    timeout.unwrap_or(Duration::from_secs(DEFAULT_TIMEOUT_SECS)),
                )
            }
        }
    }
}

fn wait_for_port(
    ctx: &ActionCtx<'_>,
    host: Option<&str>,
    port: u16,
    state: PortState,
    timeout: Duration,
) -> TaskResult {
    let host = match host {
        Some(h) => match ctx.render_line(h, "wait_for host") {
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
    let want_open = state == PortState::Started;
    loop {
        let open = addrs.iter().any(|a| {
            TcpStream::connect_timeout(a, Duration::from_millis(PROBE_INTERVAL_MS.max(500))).is_ok()
        });
        if open == want_open {
            let mut r = TaskResult::ok();
            r.data = serde_json::json!({ "elapsed_ms": start.elapsed().as_millis() as u64, "port": port, "host": host });
            return r;
        }
        if start.elapsed() >= timeout {
            return TaskResult::failed(format!(
                "timeout after {:.1}s waiting for {host}:{port} to be {}",
                timeout.as_secs_f64(),
                if want_open { "open" } else { "closed" }
            ));
        }
        if !crate::interrupt::sleep(Duration::from_millis(PROBE_INTERVAL_MS)) {
            return TaskResult::failed(INTERRUPTED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::Templates;
    use crate::report::Status;

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
            show_secrets: false,
            verbose: 0,
        };
        let up = Duration::from_secs(2);
        assert_eq!(
            wait_for_port(&ctx, None, port, PortState::Started, up).status,
            Status::Ok
        );
        let short = Duration::from_millis(300);
        let r = wait_for_port(&ctx, None, port, PortState::Stopped, short);
        assert_eq!(r.status, Status::Failed);
        assert!(r
            .msg
            .unwrap()
            .contains(&format!("127.0.0.1:{port} to be closed")));
        drop(listener);
        assert_eq!(
            wait_for_port(&ctx, None, port, PortState::Stopped, short).status,
            Status::Ok
        );
    }
}
