//! HTTP device APIs: Arista eAPI (JSON-RPC `runCmds`), Cisco NX-API (`ins_api`) and
//! RESTCONF (RFC 8040), over HTTPS with certificate verification on by default.
//!
//! - [`settings`]: the inventory variables (`api_port`, `validate_certs`, `ca_file`, ...).
//! - [`client`]: one blocking, keep-alive HTTP client per host (retries, caps, auth).
//! - [`eapi`], [`nxapi`]: the CLI-over-API protocols, so `command`, `config`, `backup` and
//!   the parsers work on an API host exactly as over SSH.
//! - [`backend`]: the [`crate::device::connection::Backend`] of an API host.

pub mod backend;
pub mod client;
pub mod eapi;
pub mod nxapi;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

pub use backend::ApiBackend;
pub use client::{HttpClient, HttpRequest, HttpResponse};
pub use settings::HttpSettings;

use crate::device::profile::PlatformProfile;
use crate::device::{Connection, DeviceError};
use crate::transport::settings::ConnectionSettings;

/// Open an API host's connection: build its client (reading a `ca_file`). Nothing is
/// sent yet: HTTP has no session to set up, and a probe would cost every host one more
/// round trip. A wrong port, certificate or password fails the first request as
/// unreachable, as a failed SSH login does.
pub fn open(
    settings: &ConnectionSettings,
    profile: Arc<PlatformProfile>,
    _timeout: Option<Duration>,
) -> Result<Connection, DeviceError> {
    let client = HttpClient::new(settings)?;
    let warnings = client.warnings().to_vec();
    let backend = ApiBackend::new(client, settings, Arc::clone(&profile));
    Ok(Connection::from_backend(
        Box::new(backend),
        settings,
        profile,
        warnings,
        None,
    ))
}

/// The server's own words for a failed answer: eAPI's JSON-RPC error, NX-API's `msg` /
/// `clierror`, RESTCONF's `ietf-restconf:errors`, else the start of the body.
pub fn error_message(r: &HttpResponse) -> Option<String> {
    if let Some(v) = r.json() {
        if let Some(m) = restconf_errors(&v) {
            return Some(m);
        }
        if let Some(m) = v
            .pointer("/error/message")
            .and_then(|m| m.as_str())
            .or_else(|| v.get("message").and_then(|m| m.as_str()))
        {
            return Some(m.to_string());
        }
        if let Some(m) = nxapi::first_error(&v) {
            return Some(m);
        }
    }
    let text = r.text();
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let mut short: String = cleaned.chars().take(300).collect();
    if short.len() < cleaned.len() {
        short.push_str("...");
    }
    Some(short)
}

/// RESTCONF's `{"ietf-restconf:errors": {"error": [{"error-tag", "error-path",
/// "error-message"}]}}` as one line per error.
pub fn restconf_errors(v: &serde_json::Value) -> Option<String> {
    let errors = v
        .get("ietf-restconf:errors")
        .or_else(|| v.get("errors"))?
        .get("error")?;
    let list: Vec<&serde_json::Value> = match errors {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let lines: Vec<String> = list
        .iter()
        .map(|e| {
            let get = |k: &str| e.get(k).and_then(|x| x.as_str()).unwrap_or_default();
            let mut s = String::new();
            if !get("error-tag").is_empty() {
                s.push_str(get("error-tag"));
            }
            if !get("error-path").is_empty() {
                s.push_str(&format!(" at {}", get("error-path")));
            }
            if !get("error-message").is_empty() {
                if !s.is_empty() {
                    s.push_str(": ");
                }
                s.push_str(get("error-message"));
            }
            s
        })
        .filter(|s| !s.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_messages_are_read_from_each_api_shape() {
        let r = resp(
            400,
            r#"{"ietf-restconf:errors":{"error":[{"error-type":"application","error-tag":"invalid-value","error-path":"/ietf-interfaces:interfaces","error-message":"no such interface"}]}}"#,
        );
        assert_eq!(
            error_message(&r).unwrap(),
            "invalid-value at /ietf-interfaces:interfaces: no such interface"
        );
        let r = resp(
            200,
            r#"{"jsonrpc":"2.0","id":"1","error":{"code":1002,"message":"CLI command 2 of 2 'show bogus' failed: invalid command"}}"#,
        );
        assert!(error_message(&r).unwrap().contains("show bogus"));
        let r = resp(500, "oops\u{1b}[31m");
        assert_eq!(error_message(&r).unwrap(), "oops[31m");
        assert_eq!(error_message(&resp(404, "")), None);
    }
}
