//! A host's HTTP API settings (eAPI, NX-API, RESTCONF), read from its inventory variables
//! next to [`crate::transport::settings`]. netorch's names first, then Ansible's httpapi
//! names, so existing inventories work unchanged.

use std::path::PathBuf;

use serde_json::Value;

use crate::secret::Secret;
use crate::transport::settings::{bool_var, settings_error};
use crate::transport::TransportError;
use crate::value::{show, Vars};

/// Retries after a 5xx answer or a dropped connection, unless `api_retries` says otherwise.
pub const DEFAULT_RETRIES: u32 = 3;

/// How to reach a host's HTTP API.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// `https` unless `api_use_ssl: false`.
    pub use_ssl: bool,
    /// The API's port: `api_port` / `ansible_httpapi_port`, else `port` / `ansible_port`
    /// on an API host, else 443 (80 without TLS).
    pub port: u16,
    /// Certificate (and host name) verification; `validate_certs: false` turns it off.
    pub validate_certs: bool,
    /// PEM CA certificates trusted instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Sent as `Authorization: Bearer` instead of basic auth.
    pub token: Option<Secret>,
    pub retries: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            use_ssl: true,
            port: 443,
            validate_certs: true,
            ca_file: None,
            token: None,
            retries: DEFAULT_RETRIES,
        }
    }
}

fn first<'a>(vars: &'a Vars, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|n| vars.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first_bool(
    host: &str,
    vars: &Vars,
    names: &[&'static str],
) -> Result<Option<bool>, TransportError> {
    match first(vars, names) {
        None => Ok(None),
        Some((n, _)) => bool_var(host, n, vars),
    }
}

fn port_of(host: &str, name: &str, v: &Value) -> Result<u16, TransportError> {
    text(v)
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|p| *p != 0)
        .ok_or_else(|| {
            settings_error(
                host,
                name,
                format!("expected a port number 1-65535, got {}", show(v)),
            )
        })
}

impl HttpSettings {
    /// Read from `host`'s merged variables. `api_host`: the host connects over an HTTP API,
    /// so its `port` is the API's.
    pub fn from_vars(
        host: &str,
        vars: &Vars,
        api_host: bool,
    ) -> Result<HttpSettings, TransportError> {
        let use_ssl =
            first_bool(host, vars, &["api_use_ssl", "ansible_httpapi_use_ssl"])?.unwrap_or(true);
        let validate_certs = first_bool(
            host,
            vars,
            &["validate_certs", "ansible_httpapi_validate_certs"],
        )?
        .unwrap_or(true);
        let port = match first(vars, &["api_port", "ansible_httpapi_port"]) {
            Some((n, v)) => port_of(host, n, v)?,
            None => match first(vars, &["port", "ansible_port"]).filter(|_| api_host) {
                Some((n, v)) => port_of(host, n, v)?,
                None if use_ssl => 443,
                None => 80,
            },
        };
        let ca_file = match first(vars, &["ca_file", "api_ca_file"]) {
            None => None,
            Some((n, v)) => {
                let s = text(v).filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                    settings_error(host, n, format!("expected a file name, got {}", show(v)))
                })?;
                Some(expand_home(s.trim()))
            }
        };
        let token = match first(vars, &["api_token"]) {
            None => None,
            Some((n, v)) => {
                Some(Secret::new(text(v).ok_or_else(|| {
                    settings_error(host, n, "expected a string")
                })?))
            }
        };
        let retries = match first(vars, &["api_retries"]) {
            None => DEFAULT_RETRIES,
            Some((n, v)) => text(v)
                .and_then(|s| s.trim().parse::<u32>().ok())
                .filter(|r| *r <= 10)
                .ok_or_else(|| {
                    settings_error(host, n, format!("expected 0-10 retries, got {}", show(v)))
                })?,
        };
        Ok(HttpSettings {
            use_ssl,
            port,
            validate_certs,
            ca_file,
            token,
            retries,
        })
    }
}

fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Vars {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults_are_https_on_443_with_verification() {
        let s = HttpSettings::from_vars("r1", &vars(json!({})), true).unwrap();
        assert_eq!(s, HttpSettings::default());
    }

    #[test]
    fn ansible_httpapi_names_are_read() {
        let s = HttpSettings::from_vars(
            "r1",
            &vars(
                json!({"ansible_httpapi_use_ssl": false, "ansible_httpapi_validate_certs": "no",
                         "ansible_port": 22}),
            ),
            false,
        )
        .unwrap();
        assert!(!s.use_ssl);
        assert!(!s.validate_certs);
        // An SSH host's port is SSH's: the API falls back to plain HTTP's port.
        assert_eq!(s.port, 80);
        let s = HttpSettings::from_vars("r1", &vars(json!({"port": 8443})), true).unwrap();
        assert_eq!(s.port, 8443);
        let s = HttpSettings::from_vars(
            "r1",
            &vars(json!({"port": 22, "ansible_httpapi_port": "9443"})),
            true,
        )
        .unwrap();
        assert_eq!(s.port, 9443);
    }

    #[test]
    fn bad_values_name_the_host_and_variable() {
        let e = HttpSettings::from_vars("r1", &vars(json!({"validate_certs": "maybe"})), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("r1") && e.contains("validate_certs"), "{e}");
        let e = HttpSettings::from_vars("r1", &vars(json!({"api_port": 0})), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("api_port"), "{e}");
        let e = HttpSettings::from_vars("r1", &vars(json!({"api_retries": 99})), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("api_retries"), "{e}");
    }
}
