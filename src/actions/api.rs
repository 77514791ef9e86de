//! `api`: a call to the host's HTTP API. RESTCONF (`method`, `path` under
//! `/restconf/data`, `body` as YAML/JSON data sent as `application/yang-data+json`), or
//! CLI commands as eAPI `runCmds` / NX-API `ins_api` (`commands`, `format: text|json`).
//! The answer is data for `when`/`assert`/templates: `http_status`, `json` (and `response`,
//! `stdout` as Ansible's `restconf_get` and `eos_command` name them). 4xx/5xx fail the task
//! with the server's own message (RESTCONF `ietf-restconf:errors` read).
//!
//! Ansible's `ansible.netcommon.restconf_get` and `restconf_config` map here: their
//! `content` is the body (or, for a GET, the `content=config|nonconfig|all` query).

use std::time::Duration;

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::{json, Value};

use super::args::map_only;
use super::set_fact::{render_value, strings_in};
use super::{device_failure, ActionArgs, ActionCtx, Env, Probe};
use crate::playbook::values;
use crate::report::{CommandOutput, TaskResult};
use crate::transport::http::{eapi, error_message, nxapi, ApiBackend, HttpClient, HttpRequest};
use crate::transport::settings::{ConnectionKind, ConnectionSettings};

/// The methods RESTCONF defines that the action sends.
const METHODS: &[&str] = &["GET", "PUT", "PATCH", "POST", "DELETE"];

const YANG_JSON: &str = "application/yang-data+json";

#[derive(Debug, Clone, PartialEq)]
pub enum ApiArgs {
    /// A RESTCONF request.
    Rest {
        method: String,
        /// Templated; under `/restconf` (a bare `data/...` or `ietf-x:y` gets the root).
        path: String,
        /// Data (strings templated), or a JSON text.
        body: Option<Value>,
        /// GET's `content=` query (`config`, `nonconfig`, `all`).
        content: Option<String>,
    },
    /// CLI commands through eAPI or NX-API.
    Commands { commands: Vec<String>, json: bool },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    method: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    path: Option<String>,
    #[serde(default)]
    body: Option<Value>,
    /// restconf_get: config|nonconfig|all; restconf_config: the body.
    #[serde(default)]
    content: Option<Value>,
    #[serde(default, deserialize_with = "opt_strings")]
    commands: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    format: Option<String>,
    /// restconf_get's `output: json` (the only one netorch speaks).
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    output: Option<String>,
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

fn check(s: Spec) -> Result<ApiArgs, String> {
    for (what, v) in [("format", &s.format), ("output", &s.output)] {
        if let Some(f) = v {
            let ok = ["json", "text"].contains(&f.to_ascii_lowercase().as_str());
            if !ok || (what == "output" && !f.eq_ignore_ascii_case("json")) {
                return Err(format!(
                    "api: `{what}: {f}` is not supported; expected {}",
                    if what == "format" {
                        "text or json"
                    } else {
                        "json"
                    }
                ));
            }
        }
    }
    if let Some(commands) = s.commands {
        if s.path.is_some() || s.method.is_some() || s.body.is_some() || s.content.is_some() {
            return Err(
                "api: `commands` (eAPI/NX-API) takes no method, path, body or content; those are for RESTCONF"
                    .into(),
            );
        }
        if commands.is_empty() {
            return Err("api: `commands` is empty".into());
        }
        let json = s
            .format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("json"));
        return Ok(ApiArgs::Commands { commands, json });
    }
    let Some(path) = s.path else {
        return Err(
            "api needs `path` (RESTCONF, with method and body) or `commands` (eAPI/NX-API)".into(),
        );
    };
    if s.format
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case("text"))
    {
        return Err(
            "api: RESTCONF speaks JSON (`format: json`); `format: text` is for `commands`".into(),
        );
    }
    // restconf_get's `content` is a query word; anywhere else it is the body.
    let (body, content) = match (s.body, s.content) {
        (Some(_), Some(_)) => return Err("api: give `body` or `content`, not both".into()),
        (b, Some(Value::String(c)))
            if b.is_none()
                && ["config", "nonconfig", "all"].contains(&c.as_str())
                && s.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case("get")) =>
        {
            (None, Some(c))
        }
        (b, c) => (b.or(c), None),
    };
    let method = match s.method {
        Some(m) => {
            let up = m.to_ascii_uppercase();
            if !METHODS.contains(&up.as_str()) {
                let hint = crate::source::suggest(&up, METHODS.iter().copied())
                    .map(|h| format!(" (did you mean {h}?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "api: unknown method `{m}`; expected {}{hint}",
                    METHODS.join(", ")
                ));
            }
            up
        }
        // Ansible's restconf_config posts by default.
        None if body.is_some() => "POST".to_string(),
        None => "GET".to_string(),
    };
    if body.is_some() && (method == "GET" || method == "DELETE") {
        return Err(format!("api: a {method} takes no body"));
    }
    if body.is_none() && ["PUT", "PATCH", "POST"].contains(&method.as_str()) {
        return Err(format!(
            "api: a {method} needs a `body` (YAML data or JSON text)"
        ));
    }
    Ok(ApiArgs::Rest {
        method,
        path,
        body,
        content,
    })
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ApiArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{method, path, body} (RESTCONF) or {commands, format} (eAPI/NX-API)",
        false,
        check,
    ))
}

impl ActionArgs for ApiArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        match self {
            ApiArgs::Rest { path, body, .. } => {
                let mut p = vec![Probe::line("path", path)];
                if let Some(b) = body {
                    strings_in(b, &mut |s| p.push(Probe::text("body", s)));
                }
                p
            }
            ApiArgs::Commands { commands, .. } => commands
                .iter()
                .map(|c| Probe::line("commands", c))
                .collect(),
        }
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        match self {
            ApiArgs::Rest { method, path, .. } => format!("{method} {path}"),
            ApiArgs::Commands { commands, .. } => commands.join("; "),
        }
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let settings = match ConnectionSettings::from_vars(env.ctx.host, env.ctx.vars) {
            Ok(s) => s,
            Err(e) => return TaskResult::failed(e.to_string()),
        };
        let timeout = env.command_timeout.unwrap_or(settings.command_timeout);
        if settings.kind.is_http() {
            // The host's own API connection (opened once, kept alive for the run).
            let (conn, ctx, _) = match env.connect() {
                Ok(x) => x,
                Err(r) => return r,
            };
            let Some(backend) = conn.backend_mut().as_any_mut().downcast_mut::<ApiBackend>() else {
                return TaskResult::failed("api: the host's connection is not an HTTP API");
            };
            return call(self, ctx, backend.client(), &settings, timeout);
        }
        // An SSH (or telnet) host whose API is also enabled: a client of its own, no
        // CLI session opened for it.
        match HttpClient::new(&settings) {
            Ok(client) => call(self, &env.ctx, &client, &settings, timeout),
            Err(e) => device_failure(&e.into()),
        }
    }
}

fn call(
    args: &ApiArgs,
    ctx: &ActionCtx<'_>,
    client: &HttpClient,
    settings: &ConnectionSettings,
    timeout: Duration,
) -> TaskResult {
    match args {
        ApiArgs::Rest {
            method,
            path,
            body,
            content,
        } => rest(
            ctx,
            client,
            method,
            path,
            body.as_ref(),
            content.as_deref(),
            timeout,
        ),
        ApiArgs::Commands { commands, json } => {
            let mut rendered = Vec::with_capacity(commands.len());
            for c in commands {
                match ctx.render_line(c, "api commands") {
                    Ok(c) => rendered.push(c),
                    Err(e) => return TaskResult::failed(e.to_string()),
                }
            }
            cli(client, settings, &rendered, *json, timeout)
        }
    }
}

/// The full request path: netorch writes RESTCONF paths from the API root.
fn full_path(path: &str) -> String {
    let p = path.trim();
    if p.starts_with("/restconf") {
        p.to_string()
    } else if let Some(rest) = p.strip_prefix("/data") {
        format!("/restconf/data{rest}")
    } else if let Some(rest) = p.strip_prefix("data/") {
        format!("/restconf/data/{rest}")
    } else {
        format!("/restconf/data/{}", p.trim_start_matches('/'))
    }
}

fn rest(
    ctx: &ActionCtx<'_>,
    client: &HttpClient,
    method: &str,
    path: &str,
    body: Option<&Value>,
    content: Option<&str>,
    timeout: Duration,
) -> TaskResult {
    let path = match ctx.render_line(path, "api path") {
        Ok(p) => full_path(&p),
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let path = match content {
        Some(c) => format!(
            "{path}{}content={c}",
            if path.contains('?') { '&' } else { '?' }
        ),
        None => path,
    };
    let body = match body.map(|b| render_value(ctx, b, "api body")) {
        None => None,
        Some(Err(e)) => return TaskResult::failed(e.to_string()),
        // A JSON text (Ansible's `content: '{...}'`, or a lookup's result) is sent as data.
        Some(Ok(Value::String(s))) => match serde_json::from_str::<Value>(&s) {
            Ok(v) => Some(v),
            Err(e) => {
                return TaskResult::failed(format!(
                "api body: a string body must be JSON text ({e}); or write the body as YAML data"
            ))
            }
        },
        Some(Ok(v)) => Some(v),
    };
    if ctx.check_mode && method != "GET" {
        let mut r = TaskResult::skipped(format!("check mode: {method} {path} not sent"));
        r.data = json!({"method": method, "path": path, "body": body});
        return r;
    }
    let bytes = body.as_ref().map(|b| b.to_string().into_bytes());
    let resp = match client.send(
        HttpRequest {
            method,
            path: &path,
            content_type: bytes.as_ref().map(|_| YANG_JSON),
            accept: YANG_JSON,
            body: bytes.as_deref(),
        },
        timeout,
    ) {
        Ok(r) => r,
        Err(e) => return device_failure(&e.into()),
    };
    let parsed = resp.json();
    let data = json!({
        "http_status": resp.status,
        "json": parsed.clone().unwrap_or(Value::Null),
        "response": parsed.clone().unwrap_or(Value::Null),
        "method": method,
        "path": path,
    });
    let mut r = if resp.status >= 400 {
        TaskResult::failed(format!(
            "{method} {path}: HTTP {}{}",
            resp.status,
            error_message(&resp)
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ))
    } else if method == "GET" {
        TaskResult::ok()
    } else {
        TaskResult::changed()
    };
    r.commands.push(CommandOutput {
        command: format!("{method} {path}"),
        output: match &parsed {
            Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            None => resp.text(),
        },
        exit_status: None,
        error: r.msg.clone().filter(|_| resp.status >= 400),
        parsed: None,
    });
    r.data = data;
    r
}

fn cli(
    client: &HttpClient,
    settings: &ConnectionSettings,
    commands: &[String],
    json_format: bool,
    timeout: Duration,
) -> TaskResult {
    let format = if json_format { "json" } else { "text" };
    let (path, body) = match settings.kind {
        ConnectionKind::Nxapi => (
            nxapi::PATH,
            nxapi::ins_api(nxapi::msg_type(format), commands),
        ),
        ConnectionKind::Eapi => (
            eapi::PATH,
            eapi::run_cmds(1, settings.enable_secret.as_ref(), commands, format),
        ),
        other => {
            let hint = if settings.platform == "cisco_nxos" {
                " (set `connection: nxapi`)"
            } else if settings.platform == "arista_eos" {
                " (set `connection: eapi`)"
            } else {
                ""
            };
            return TaskResult::failed(format!(
                "api `commands` go through eAPI or NX-API, but the host connects over {}{hint}; use `command` for the CLI or `path` for RESTCONF",
                other.name()
            ));
        }
    };
    let resp = match client.send(
        HttpRequest {
            method: "POST",
            path,
            content_type: Some("application/json"),
            accept: "application/json",
            body: Some(&body),
        },
        timeout,
    ) {
        Ok(r) => r,
        Err(e) => return device_failure(&e.into()),
    };
    let v = resp.json().unwrap_or(Value::Null);
    let (results, failed): (Vec<Value>, Option<(usize, String)>) = match settings.kind {
        ConnectionKind::Eapi => match eapi::parse(&v) {
            Some(o) if resp.status < 400 => (o.results, o.failed),
            _ => (Vec::new(), Some((0, status_text(&resp)))),
        },
        _ => match nxapi::parse(&v) {
            Some(outs) if resp.status < 400 => {
                let failed = outs
                    .iter()
                    .position(|o| !o.ok)
                    .map(|i| (i, outs[i].error.clone()));
                (outs.into_iter().map(|o| o.body).collect(), failed)
            }
            _ => (Vec::new(), Some((0, status_text(&resp)))),
        },
    };
    // Text answers as strings (eAPI's `{"output": ...}` unwrapped), JSON as data.
    let values: Vec<Value> = results
        .iter()
        .map(|r| match (json_format, settings.kind) {
            (false, ConnectionKind::Eapi) => Value::String(eapi::text_of(r)),
            (false, _) => Value::String(nxapi::text_of(r)),
            (true, _) => r.clone(),
        })
        .collect();
    let mut r = match &failed {
        Some((i, why)) => TaskResult::failed(match commands.get(*i) {
            Some(c) => format!("`{c}`: {}", why.trim()),
            None => why.trim().to_string(),
        }),
        None => TaskResult::ok(),
    };
    for (i, c) in commands.iter().enumerate() {
        let Some(v) = values.get(i) else { break };
        r.commands.push(CommandOutput {
            command: c.clone(),
            output: match v {
                Value::String(s) => s.clone(),
                other => serde_json::to_string_pretty(other).unwrap_or_default(),
            },
            exit_status: None,
            error: failed
                .as_ref()
                .filter(|(f, _)| *f == i)
                .map(|(_, w)| w.clone()),
            parsed: None,
        });
    }
    r.data = json!({
        "http_status": resp.status,
        "json": values,
        "stdout": values,
    });
    r
}

fn status_text(resp: &crate::transport::http::HttpResponse) -> String {
    format!(
        "HTTP {}{}",
        resp.status,
        error_message(resp)
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<ApiArgs, String> {
        let de = serde_yaml::Deserializer::from_str(yaml);
        deserialize(de).map_err(|e| e.to_string())
    }

    #[test]
    fn restconf_and_command_forms_are_read() {
        assert_eq!(
            parse("{path: ietf-system:system}").unwrap(),
            ApiArgs::Rest {
                method: "GET".into(),
                path: "ietf-system:system".into(),
                body: None,
                content: None
            }
        );
        let a = parse("{method: patch, path: /restconf/data/x, body: {a: 1}}").unwrap();
        assert!(matches!(a, ApiArgs::Rest { ref method, .. } if method == "PATCH"));
        // restconf_get's content is the query; restconf_config's is the body (POST).
        let a = parse("{path: x, content: config}").unwrap();
        assert!(
            matches!(a, ApiArgs::Rest { content: Some(ref c), body: None, .. } if c == "config")
        );
        let a = parse("{path: x, content: '{\"a\": 1}'}").unwrap();
        assert!(matches!(a, ApiArgs::Rest { ref method, body: Some(_), .. } if method == "POST"));
        assert_eq!(
            parse("{commands: [show version], format: json}").unwrap(),
            ApiArgs::Commands {
                commands: vec!["show version".into()],
                json: true
            }
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse("{method: PATCHH, path: x, body: {}}")
            .unwrap_err()
            .contains("did you mean PATCH"));
        assert!(parse("{method: GET, path: x, body: {a: 1}}")
            .unwrap_err()
            .contains("takes no body"));
        assert!(parse("{method: PUT, path: x}")
            .unwrap_err()
            .contains("needs a `body`"));
        assert!(parse("{commands: [a], path: x}")
            .unwrap_err()
            .contains("takes no method"));
        assert!(parse("{format: xml, commands: [a]}")
            .unwrap_err()
            .contains("text or json"));
        assert!(parse("{}").unwrap_err().contains("needs `path`"));
        assert!(parse("{pth: x}").unwrap_err().contains("pth"));
    }

    #[test]
    fn paths_are_put_under_the_restconf_root() {
        assert_eq!(
            full_path("ietf-system:system"),
            "/restconf/data/ietf-system:system"
        );
        assert_eq!(full_path("/data/x"), "/restconf/data/x");
        assert_eq!(full_path("data/x"), "/restconf/data/x");
        assert_eq!(full_path("/restconf/data/x"), "/restconf/data/x");
        assert_eq!(full_path("/x:y"), "/restconf/data/x:y");
    }
}
