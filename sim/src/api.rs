//! Device HTTP APIs over HTTPS (`--api`): Arista eAPI (`POST /command-api`, JSON-RPC
//! `runCmds`) on EOS devices, Cisco NX-API (`POST /ins`, `ins_api` and JSON-RPC) on NX-OS
//! devices, and a small RESTCONF view (`/restconf/data`: `ietf-system:system/hostname`,
//! `ietf-interfaces:interfaces` with descriptions and enabled state) on every device.
//!
//! CLI commands run on the device's own command engine ([`Shell`]), so API output equals
//! the CLI's and config changes show in `show running-config` over SSH. Basic auth with the
//! sim's user and password (or `--api-token` as a bearer token). The TLS certificate is
//! issued per run by a throwaway CA ([`TestCa`]) whose PEM file the inventory names.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::app::Opts;
use crate::device::Device;
use crate::lab::DeviceSpec;
use crate::platform::Platform;
use crate::server::Bound;
use crate::shell::{is_error_text, Confirm, Mode, Pending, Shell};
use crate::tree::Node;

/// Request bodies above this are refused (413): the APIs take commands, not files.
const MAX_BODY: usize = 4 << 20;

/// A per-run CA and the server certificate it signed for the devices' addresses.
pub struct TestCa {
    pub ca_pem: String,
    acceptor: tokio_native_tls::TlsAcceptor,
}

impl TestCa {
    /// Issue a CA and one server certificate valid for `ips` and `localhost`.
    pub fn new(ips: &[IpAddr]) -> Result<TestCa> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
        let ca_key = KeyPair::generate().context("CA key")?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).context("CA params")?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "netorch-sim test CA");
        let ca_cert = ca_params.self_signed(&ca_key).context("CA certificate")?;
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().context("server key")?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).context("server params")?;
        let mut seen = Vec::new();
        for ip in ips {
            if !seen.contains(ip) {
                seen.push(*ip);
                params.subject_alt_names.push(SanType::IpAddress(*ip));
            }
        }
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "netorch-sim device");
        let cert = params
            .signed_by(&key, &issuer)
            .context("server certificate")?;
        let identity = tokio_native_tls::native_tls::Identity::from_pkcs8(
            cert.pem().as_bytes(),
            key.serialize_pem().as_bytes(),
        )
        .context("TLS identity")?;
        let acceptor =
            tokio_native_tls::native_tls::TlsAcceptor::new(identity).context("TLS acceptor")?;
        Ok(TestCa {
            ca_pem: ca_cert.pem(),
            acceptor: acceptor.into(),
        })
    }
}

/// Per-device fault knobs.
#[derive(Debug, Default)]
pub struct ApiFaults {
    /// Answer this many requests with 503 before serving.
    pub unavailable: AtomicU32,
}

/// Parse `--api-fail` values: `503:N` (the first N requests answer 503).
pub fn parse_fault(text: &str) -> Result<u32, String> {
    let n = text
        .strip_prefix("503:")
        .ok_or_else(|| format!("{text:?}: expected 503:N"))?;
    n.parse()
        .map_err(|_| format!("{text:?}: N must be a number"))
}

/// Everything a device's API listener needs.
pub struct ApiServer {
    pub device: Arc<Device>,
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub faults: Arc<ApiFaults>,
    pub token: Option<String>,
}

/// Serve HTTPS on the listener until the process ends.
pub fn spawn(server: ApiServer, ca: &TestCa) {
    let acceptor = ca.acceptor.clone();
    let ctx = Arc::new(Ctx {
        device: server.device,
        faults: server.faults,
        token: server.token,
    });
    let listener = server.listener;
    tokio::spawn(async move {
        loop {
            let (sock, _) = match listener.accept().await {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            crate::server::log_connection(&ctx.device.name);
            let _ = sock.set_nodelay(true);
            let acceptor = acceptor.clone();
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else {
                    return;
                };
                let io = hyper_util::rt::TokioIo::new(tls);
                let service = hyper::service::service_fn(move |req| {
                    let ctx = ctx.clone();
                    async move { Ok::<_, Infallible>(ctx.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
}

/// The API listeners of a run, bound before the inventory is written.
pub struct Apis {
    pub servers: Vec<ApiServer>,
    pub ca: TestCa,
    pub ca_file: PathBuf,
}

/// Bind one HTTPS listener per device (an OS-picked port on the device's address), issue
/// the run's CA and certificate, and write the CA's PEM file.
pub async fn bind(opts: &Opts, specs: &[DeviceSpec], bound: &[Bound]) -> Result<Apis> {
    let fails = opts
        .api_fail
        .iter()
        .map(|f| {
            let (name, v) = f
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--api-fail {f:?}: expected NAME=503:N"))?;
            if !specs.iter().any(|s| s.name == name) {
                anyhow::bail!("--api-fail {f:?}: no device named {name:?}");
            }
            let n = parse_fault(v).map_err(|e| anyhow::anyhow!("--api-fail {e}"))?;
            Ok((name.to_string(), n))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut servers = Vec::with_capacity(bound.len());
    for b in bound {
        let addr = SocketAddr::new(b.addr.ip(), 0);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("{}: cannot listen for the API on {addr}", b.device.name))?;
        let addr = listener.local_addr()?;
        let faults = ApiFaults::default();
        if let Some((_, n)) = fails.iter().rev().find(|(n, _)| *n == b.device.name) {
            faults.unavailable.store(*n, Ordering::Relaxed);
        }
        servers.push(ApiServer {
            device: b.device.clone(),
            listener,
            addr,
            faults: Arc::new(faults),
            token: opts.api_token.clone(),
        });
    }
    let ips: Vec<IpAddr> = servers.iter().map(|s| s.addr.ip()).collect();
    let ca = TestCa::new(&ips)?;
    let ca_file = match (&opts.api_ca_out, &opts.inventory_out) {
        (Some(p), _) => p.clone(),
        (None, Some(inv)) => {
            let mut name = inv
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default();
            name.push(".ca.pem");
            inv.with_file_name(name)
        }
        (None, None) => {
            std::env::temp_dir().join(format!("netorch-sim-{}-ca.pem", std::process::id()))
        }
    };
    let ca_file = if ca_file.is_absolute() {
        ca_file
    } else {
        std::env::current_dir()
            .map(|d| d.join(&ca_file))
            .unwrap_or(ca_file)
    };
    std::fs::write(&ca_file, &ca.ca_pem)
        .with_context(|| format!("cannot write {}", ca_file.display()))?;
    Ok(Apis {
        servers,
        ca,
        ca_file,
    })
}

/// Start serving every API listener.
pub fn spawn_all(apis: Apis) {
    for s in apis.servers {
        spawn(s, &apis.ca);
    }
}

struct Ctx {
    device: Arc<Device>,
    faults: Arc<ApiFaults>,
    token: Option<String>,
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, content_type: &str, body: Value) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn empty(status: StatusCode) -> Answer {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

const YANG: &str = "application/yang-data+json";

fn restconf_error(status: StatusCode, tag: &str, path: &str, message: &str) -> Answer {
    answer(
        status,
        YANG,
        json!({"ietf-restconf:errors": {"error": [{
            "error-type": if status == StatusCode::BAD_REQUEST { "protocol" } else { "application" },
            "error-tag": tag,
            "error-path": path,
            "error-message": message,
        }]}}),
    )
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Ctx {
    async fn handle(&self, req: Request<Incoming>) -> Answer {
        let s = &self.device.settings;
        let auth = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let basic = format!(
            "Basic {}",
            b64(format!("{}:{}", s.user, s.password).as_bytes())
        );
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        if auth != basic && Some(&auth) != bearer.as_ref() {
            let mut r = answer(
                StatusCode::UNAUTHORIZED,
                "application/json",
                json!({"error": {"code": 401, "message": "Unable to authenticate user: Bad username/password combination"}}),
            );
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Basic realm=\"netorch-sim\""),
            );
            return r;
        }
        let left = self.faults.unavailable.load(Ordering::Relaxed);
        if left > 0 {
            self.faults.unavailable.store(left - 1, Ordering::Relaxed);
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                json!({"error": {"code": 503, "message": "service warming up"}}),
            );
        }
        if !s.latency.is_zero() {
            tokio::time::sleep(s.latency).await;
        }
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return empty(StatusCode::PAYLOAD_TOO_LARGE),
        };
        let platform = self.device.platform;
        match (method.clone(), path.as_str()) {
            (Method::POST, "/command-api") if platform == Platform::AristaEos => self.eapi(&body),
            (Method::POST, "/ins") if platform == Platform::CiscoNxos => self.nxapi(&body),
            (_, p) if p == "/restconf" || p.starts_with("/restconf/") => {
                self.restconf(&method, &path, &body)
            }
            _ => answer(
                StatusCode::NOT_FOUND,
                "application/json",
                json!({"error": {"code": 404, "message": format!("no API at {path} on this {} device", platform.name())}}),
            ),
        }
    }

    fn shell(&self) -> Shell {
        let mut sh = Shell::new(self.device.clone(), &self.device.settings.user);
        sh.page_len = 0;
        // API sessions are privileged, as for a privilege-15 user.
        sh.mode = Mode::Priv;
        sh
    }

    fn eapi(&self, body: &[u8]) -> Answer {
        let j = "application/json";
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return answer(
                StatusCode::OK,
                j,
                json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32700, "message": "Parse error"}}),
            );
        };
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        if req.get("method").and_then(Value::as_str) != Some("runCmds") {
            return answer(
                StatusCode::OK,
                j,
                json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": "Method not found"}}),
            );
        }
        let params = req.get("params").cloned().unwrap_or(Value::Null);
        let format = params
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("json");
        if format != "json" && format != "text" {
            return answer(
                StatusCode::OK,
                j,
                json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32602, "message": format!("Invalid params: format {format:?}")}}),
            );
        }
        let Some(cmds) = params.get("cmds").and_then(Value::as_array) else {
            return answer(
                StatusCode::OK,
                j,
                json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32602, "message": "Invalid params: cmds"}}),
            );
        };
        let mut sh = self.shell();
        let n = cmds.len();
        let mut results = Vec::new();
        for (i, c) in cmds.iter().enumerate() {
            let (cmd, input) = match c {
                Value::String(s) => (s.clone(), None),
                Value::Object(o) => (
                    o.get("cmd")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    o.get("input").and_then(Value::as_str).map(str::to_string),
                ),
                _ => (String::new(), None),
            };
            let fail = |results: &mut Vec<Value>, what: &str, errors: Vec<String>| {
                results.push(json!({"errors": errors}));
                answer(
                    StatusCode::OK,
                    j,
                    json!({"jsonrpc": "2.0", "id": id, "error": {
                        "code": 1002,
                        "message": format!("CLI command {} of {n} '{cmd}' failed: {what}", i + 1),
                        "data": results,
                    }}),
                )
            };
            if cmd.trim() == "enable" {
                if input.is_some_and(|p| p != self.device.settings.enable_secret) {
                    return fail(
                        &mut results,
                        "could not run command",
                        vec!["Bad secret".into()],
                    );
                }
                results.push(json!({}));
                continue;
            }
            let is_show = cmd.trim_start().starts_with("sh");
            if format == "json" && is_show {
                let out = run_line(&mut sh, &format!("{cmd} | json"));
                if is_error_text(&out) {
                    return fail(&mut results, "invalid command", error_lines(&out));
                }
                match serde_json::from_str::<Value>(&out) {
                    Ok(v) => results.push(v),
                    Err(_) => {
                        return fail(
                            &mut results,
                            "unconverted command",
                            vec![format!("'{cmd}' has no JSON output; use format text")],
                        )
                    }
                }
                continue;
            }
            let out = run_line(&mut sh, &cmd);
            if is_error_text(&out) {
                return fail(&mut results, "invalid command", error_lines(&out));
            }
            results.push(if format == "json" {
                json!({})
            } else {
                json!({"output": out})
            });
        }
        answer(
            StatusCode::OK,
            j,
            json!({"jsonrpc": "2.0", "id": id, "result": results}),
        )
    }

    fn nxapi(&self, body: &[u8]) -> Answer {
        let j = "application/json";
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return answer(
                StatusCode::BAD_REQUEST,
                j,
                json!({"ins_api": {"outputs": {"output":
                {"code": "400", "msg": "Request format is invalid"}}}}),
            );
        };
        if let Value::Array(calls) = &req {
            return self.nxapi_jsonrpc(calls);
        }
        let ins = req.get("ins_api").cloned().unwrap_or(Value::Null);
        let kind = ins
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("cli_show_ascii");
        let input = ins.get("input").and_then(Value::as_str).unwrap_or_default();
        let cmds: Vec<String> = input
            .split(';')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        let mut sh = self.shell();
        let conf = kind == "cli_conf";
        if conf {
            run_line(&mut sh, "configure terminal");
        }
        let mut outputs = Vec::new();
        for cmd in &cmds {
            let json_out = kind == "cli_show";
            let line = if json_out {
                format!("{cmd} | json")
            } else {
                cmd.clone()
            };
            let out = run_line(&mut sh, &line);
            if is_error_text(&out) {
                outputs.push(
                    json!({"input": cmd, "code": "400", "msg": "Input CLI command error",
                    "clierror": out}),
                );
                break;
            }
            let body = if json_out {
                match serde_json::from_str::<Value>(&out) {
                    Ok(v) => v,
                    Err(_) => {
                        outputs.push(json!({"input": cmd, "code": "501",
                            "msg": "Structured output unsupported"}));
                        break;
                    }
                }
            } else if conf && out.trim().is_empty() {
                json!({})
            } else {
                json!(out)
            };
            outputs.push(json!({"input": cmd, "code": "200", "msg": "Success", "body": body}));
        }
        if conf {
            run_line(&mut sh, "end");
        }
        let output = if outputs.len() == 1 {
            outputs.remove(0)
        } else {
            Value::Array(outputs)
        };
        answer(
            StatusCode::OK,
            j,
            json!({"ins_api": {"type": kind, "version": "1.0", "sid": "eoc",
            "outputs": {"output": output}}}),
        )
    }

    /// NX-API JSON-RPC: `[{"method": "cli" | "cli_ascii", "params": {"cmd": ...}, "id": N}]`.
    fn nxapi_jsonrpc(&self, calls: &[Value]) -> Answer {
        let mut sh = self.shell();
        let mut out = Vec::new();
        for c in calls {
            let id = c.get("id").cloned().unwrap_or(Value::Null);
            let method = c.get("method").and_then(Value::as_str).unwrap_or_default();
            let cmd = c
                .pointer("/params/cmd")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let line = if method == "cli" && cmd.trim_start().starts_with("sh") {
                format!("{cmd} | json")
            } else {
                cmd.to_string()
            };
            let text = run_line(&mut sh, &line);
            if is_error_text(&text) {
                out.push(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32602,
                    "message": "Invalid params", "data": {"msg": text}}}));
                break;
            }
            let result = match method {
                "cli_ascii" => json!({"msg": text}),
                _ => match serde_json::from_str::<Value>(&text) {
                    Ok(v) => json!({"body": v}),
                    Err(_) if text.trim().is_empty() => Value::Null,
                    Err(_) => json!({"msg": text}),
                },
            };
            out.push(json!({"jsonrpc": "2.0", "id": id, "result": result}));
        }
        let body = if out.len() == 1 {
            out.remove(0)
        } else {
            Value::Array(out)
        };
        answer(StatusCode::OK, "application/json-rpc", body)
    }

    fn restconf(&self, method: &Method, path: &str, body: &[u8]) -> Answer {
        if path == "/restconf" || path == "/restconf/" {
            return answer(
                StatusCode::OK,
                YANG,
                json!({"ietf-restconf:restconf": {
                "data": {}, "operations": {}, "yang-library-version": "2019-01-04"}}),
            );
        }
        let Some(rest) = path.strip_prefix("/restconf/data") else {
            return restconf_error(
                StatusCode::NOT_FOUND,
                "invalid-value",
                path,
                "only /restconf/data is served",
            );
        };
        let segs: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let target = match Target::parse(&segs) {
            Some(t) => t,
            None => {
                return restconf_error(StatusCode::NOT_FOUND, "invalid-value", path,
                    "unknown resource; served: ietf-system:system[/hostname], ietf-interfaces:interfaces[/interface=NAME[/description|/enabled]]")
            }
        };
        match *method {
            Method::GET => match self.view(&target) {
                Some(v) => answer(StatusCode::OK, YANG, v),
                None => restconf_error(
                    StatusCode::NOT_FOUND,
                    "invalid-value",
                    path,
                    "no such data node",
                ),
            },
            Method::PATCH | Method::PUT | Method::POST => {
                let Ok(v) = serde_json::from_slice::<Value>(body) else {
                    return restconf_error(
                        StatusCode::BAD_REQUEST,
                        "malformed-message",
                        path,
                        "the body is not JSON",
                    );
                };
                let lines = match edit_lines(&target, &v, &self.interfaces()) {
                    Ok(l) => l,
                    Err((status, msg)) => {
                        return restconf_error(status, "invalid-value", path, &msg)
                    }
                };
                if let Err(msg) = self.configure(&lines) {
                    return restconf_error(StatusCode::BAD_REQUEST, "invalid-value", path, &msg);
                }
                empty(if *method == Method::POST {
                    StatusCode::CREATED
                } else {
                    StatusCode::NO_CONTENT
                })
            }
            Method::DELETE => {
                let lines = match &target {
                    Target::Description(i) if self.has_interface(i) => {
                        vec![format!("interface {i}"), "no description".into()]
                    }
                    Target::Description(_) => {
                        return restconf_error(
                            StatusCode::NOT_FOUND,
                            "data-missing",
                            path,
                            "no such data node",
                        )
                    }
                    _ => {
                        return restconf_error(
                            StatusCode::METHOD_NOT_ALLOWED,
                            "operation-not-supported",
                            path,
                            "only interface descriptions can be deleted here",
                        )
                    }
                };
                if let Err(msg) = self.configure(&lines) {
                    return restconf_error(StatusCode::BAD_REQUEST, "invalid-value", path, &msg);
                }
                empty(StatusCode::NO_CONTENT)
            }
            _ => restconf_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "operation-not-supported",
                path,
                "method not allowed",
            ),
        }
    }

    fn configure(&self, lines: &[String]) -> Result<(), String> {
        let mut sh = self.shell();
        let enter = run_line(&mut sh, "configure terminal");
        if is_error_text(&enter) {
            return Err(enter.trim().to_string());
        }
        for l in lines {
            let out = run_line(&mut sh, l);
            if is_error_text(&out) {
                run_line(&mut sh, "end");
                return Err(format!("{l}: {}", out.trim()));
            }
        }
        run_line(&mut sh, "end");
        Ok(())
    }

    fn interfaces(&self) -> Vec<Interface> {
        interfaces_of(&self.device.running())
    }

    fn has_interface(&self, name: &str) -> bool {
        self.interfaces().iter().any(|i| i.name == name)
    }

    fn view(&self, t: &Target) -> Option<Value> {
        let system = || json!({"hostname": self.device.hostname()});
        let ifs = self.interfaces();
        let find = |n: &str| ifs.iter().find(|i| i.name == n).map(Interface::json);
        Some(match t {
            Target::All => json!({
                "ietf-system:system": system(),
                "ietf-interfaces:interfaces": {"interface": ifs.iter().map(Interface::json).collect::<Vec<_>>()},
            }),
            Target::System => json!({"ietf-system:system": system()}),
            Target::Hostname => json!({"ietf-system:hostname": self.device.hostname()}),
            Target::Interfaces => json!({"ietf-interfaces:interfaces":
                {"interface": ifs.iter().map(Interface::json).collect::<Vec<_>>()}}),
            Target::Interface(n) => json!({"ietf-interfaces:interface": [find(n)?]}),
            Target::Description(n) => {
                let i = ifs.iter().find(|i| &i.name == n)?;
                json!({"ietf-interfaces:description": i.description.clone()?})
            }
            Target::Enabled(n) => {
                let i = ifs.iter().find(|i| &i.name == n)?;
                json!({"ietf-interfaces:enabled": i.enabled})
            }
        })
    }
}

/// Run one CLI line and return its output without the prompt that follows it.
fn run_line(sh: &mut Shell, line: &str) -> String {
    sh.take_output();
    sh.run(line);
    // A question with a default (IOS `copy run start`'s file name) takes the default.
    for _ in 0..3 {
        if matches!(sh.pending, Pending::Confirm(Confirm::CopyRunStart)) {
            sh.feed(b"\r");
        } else {
            break;
        }
    }
    let raw = String::from_utf8_lossy(&sh.take_output()).replace("\r\n", "\n");
    let prompt = sh.prompt();
    let text = raw.strip_suffix(prompt.as_str()).unwrap_or(&raw);
    text.to_string()
}

fn error_lines(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.trim().trim_start_matches("% ").to_string())
        .filter(|l| !l.is_empty() && l != "^")
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a RESTCONF path names.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    All,
    System,
    Hostname,
    Interfaces,
    Interface(String),
    Description(String),
    Enabled(String),
}

impl Target {
    fn parse(segs: &[String]) -> Option<Target> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        Some(match s.as_slice() {
            [] => Target::All,
            ["ietf-system:system"] => Target::System,
            ["ietf-system:system", "hostname"] => Target::Hostname,
            ["ietf-interfaces:interfaces"] => Target::Interfaces,
            ["ietf-interfaces:interfaces", i] => {
                Target::Interface(i.strip_prefix("interface=")?.to_string())
            }
            ["ietf-interfaces:interfaces", i, "description"] => {
                Target::Description(i.strip_prefix("interface=")?.to_string())
            }
            ["ietf-interfaces:interfaces", i, "enabled"] => {
                Target::Enabled(i.strip_prefix("interface=")?.to_string())
            }
            _ => return None,
        })
    }
}

struct Interface {
    name: String,
    description: Option<String>,
    enabled: bool,
}

impl Interface {
    fn json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), json!(self.name));
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("type".into(), json!("iana-if-type:ethernetCsmacd"));
        m.insert("enabled".into(), json!(self.enabled));
        Value::Object(m)
    }
}

fn interfaces_of(tree: &[Node]) -> Vec<Interface> {
    tree.iter()
        .filter_map(|n| {
            let name = n.line.trim().strip_prefix("interface ")?.trim().to_string();
            let description = n.children.iter().find_map(|c| {
                c.line
                    .trim()
                    .strip_prefix("description ")
                    .map(str::to_string)
            });
            let enabled = !n.children.iter().any(|c| c.line.trim() == "shutdown");
            Some(Interface {
                name,
                description,
                enabled,
            })
        })
        .collect()
}

/// The CLI lines a RESTCONF edit means.
fn edit_lines(
    t: &Target,
    body: &Value,
    ifs: &[Interface],
) -> Result<Vec<String>, (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_string());
    let pick = |keys: &[&str]| keys.iter().find_map(|k| body.get(*k)).cloned();
    let text = |v: &Value, what: &str| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(&format!("{what} must be a string")))
    };
    let iface_lines =
        |item: &Value, name: Option<&str>| -> Result<Vec<String>, (StatusCode, String)> {
            let name = match (name, item.get("name").and_then(Value::as_str)) {
                (Some(n), Some(m)) if n != m => {
                    return Err(bad("the name in the body differs from the path"))
                }
                (Some(n), _) => n.to_string(),
                (None, Some(m)) => m.to_string(),
                (None, None) => return Err(bad("an interface needs a name")),
            };
            if !ifs.iter().any(|i| i.name == name) {
                return Err((StatusCode::NOT_FOUND, format!("no interface {name}")));
            }
            let mut out = vec![format!("interface {name}")];
            if let Some(d) = item.get("description") {
                out.push(format!("description {}", text(d, "description")?));
            }
            match item.get("enabled") {
                Some(Value::Bool(true)) => out.push("no shutdown".into()),
                Some(Value::Bool(false)) => out.push("shutdown".into()),
                Some(_) => return Err(bad("enabled must be true or false")),
                None => {}
            }
            Ok(out)
        };
    let items = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        }
    };
    match t {
        Target::System | Target::All => {
            let sys = pick(&["ietf-system:system", "system"])
                .ok_or_else(|| bad("expected {\"ietf-system:system\": {...}}"))?;
            let mut out = Vec::new();
            if let Some(h) = sys.get("hostname") {
                out.push(format!("hostname {}", text(h, "hostname")?));
            }
            if let (Target::All, Some(ifs_v)) = (t, pick(&["ietf-interfaces:interfaces"])) {
                for i in items(ifs_v.get("interface").unwrap_or(&Value::Null)) {
                    out.extend(iface_lines(&i, None)?);
                }
            }
            Ok(out)
        }
        Target::Hostname => {
            let h = pick(&["ietf-system:hostname", "hostname"])
                .ok_or_else(|| bad("expected {\"ietf-system:hostname\": NAME}"))?;
            Ok(vec![format!("hostname {}", text(&h, "hostname")?)])
        }
        Target::Interfaces => {
            let v = pick(&["ietf-interfaces:interfaces", "interfaces"]).ok_or_else(|| {
                bad("expected {\"ietf-interfaces:interfaces\": {\"interface\": [...]}}")
            })?;
            let mut out = Vec::new();
            for i in items(v.get("interface").unwrap_or(&Value::Null)) {
                out.extend(iface_lines(&i, None)?);
            }
            Ok(out)
        }
        Target::Interface(n) => {
            let v = pick(&["ietf-interfaces:interface", "interface"])
                .ok_or_else(|| bad("expected {\"ietf-interfaces:interface\": [{...}]}"))?;
            let mut out = Vec::new();
            for i in items(&v) {
                out.extend(iface_lines(&i, Some(n))?);
            }
            Ok(out)
        }
        Target::Description(n) => {
            let d = pick(&["ietf-interfaces:description", "description"])
                .ok_or_else(|| bad("expected {\"ietf-interfaces:description\": TEXT}"))?;
            iface_lines(&json!({"description": d}), Some(n))
        }
        Target::Enabled(n) => {
            let e = pick(&["ietf-interfaces:enabled", "enabled"])
                .ok_or_else(|| bad("expected {\"ietf-interfaces:enabled\": BOOL}"))?;
            iface_lines(&json!({"enabled": e}), Some(n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(b64(b"admin:admin"), "YWRtaW46YWRtaW4=");
        assert_eq!(b64(b"f"), "Zg==");
        assert_eq!(b64(b"fo"), "Zm8=");
        assert_eq!(b64(b"foo"), "Zm9v");
    }

    #[test]
    fn restconf_paths_are_parsed_and_decoded() {
        let segs: Vec<String> = "ietf-interfaces:interfaces/interface=Ethernet1%2F1/description"
            .split('/')
            .map(percent_decode)
            .collect();
        assert_eq!(
            Target::parse(&segs),
            Some(Target::Description("Ethernet1/1".into()))
        );
        assert_eq!(Target::parse(&["bogus:x".to_string()]), None);
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
