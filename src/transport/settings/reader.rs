//! Reading one host's variables: each value by [`crate::value`]'s rules, each failure a
//! [`TransportError::Settings`] naming the host and the variable. A value that cannot be
//! read is an error, never silently the default.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::TransportError;
use crate::value::boolean::BOOL_EXPECTED;
use crate::value::duration::DURATION_EXPECTED;
use crate::value::Vars;
use crate::value::{bool_of, duration_of, kind_of, show, size_of, SIZE_EXPECTED};

pub(super) struct Reader<'a> {
    pub(super) host: &'a str,
    pub(super) vars: &'a Vars,
}

impl Reader<'_> {
    pub(super) fn err(&self, var: &str, reason: impl Into<String>) -> TransportError {
        settings_error(self.host, var, reason)
    }

    /// The first of `names` that is set (null counts as unset), with its name.
    pub(super) fn first(&self, names: &[&'static str]) -> Option<(&'static str, &Value)> {
        names
            .iter()
            .find_map(|n| self.vars.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
    }

    pub(super) fn string(&self, names: &[&'static str]) -> Result<Option<String>, TransportError> {
        match self.first(names) {
            None => Ok(None),
            Some((n, v)) => scalar_string(v)
                .map(Some)
                .ok_or_else(|| self.err(n, format!("expected a string, got {}", kind_of(v)))),
        }
    }

    pub(super) fn non_empty(
        &self,
        names: &[&'static str],
    ) -> Result<Option<String>, TransportError> {
        Ok(self.string(names)?.filter(|s| !s.is_empty()))
    }

    pub(super) fn seconds(
        &self,
        names: &[&'static str],
        default: Duration,
        zero_ok: bool,
    ) -> Result<Option<Duration>, TransportError> {
        let Some((n, v)) = self.first(names) else {
            return Ok(Some(default));
        };
        let d = duration_var(self.host, n, v)?;
        if d.is_zero() {
            return if zero_ok {
                Ok(None)
            } else {
                Err(self.err(n, "must be more than 0"))
            };
        }
        Ok(Some(d))
    }

    /// A byte count, at least `min` (a smaller one is raised to it: below it the value
    /// would only break things).
    pub(super) fn size(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
    ) -> Result<u64, TransportError> {
        let Some((n, v)) = self.first(&[name]) else {
            return Ok(default);
        };
        let size = size_of(v)
            .ok_or_else(|| self.err(n, format!("expected {SIZE_EXPECTED}, got {}", show(v))))?;
        Ok(size.max(min))
    }

    pub(super) fn list(&self, name: &'static str) -> Result<Option<Vec<String>>, TransportError> {
        let Some(v) = self.vars.get(name).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let items: Vec<String> = match v {
            Value::String(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            Value::Array(a) => {
                let mut out = Vec::new();
                for (i, item) in a.iter().enumerate() {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        other => {
                            return Err(self.err(
                                name,
                                format!("item {i}: expected a name, got {}", show(other)),
                            ))
                        }
                    }
                }
                out
            }
            other => {
                return Err(self.err(
                    name,
                    format!("expected a list of names, got {}", show(other)),
                ))
            }
        };
        if items.is_empty() {
            return Err(self.err(name, "the list is empty"));
        }
        Ok(Some(items))
    }

    pub(super) fn bool(&self, name: &'static str) -> Result<Option<bool>, TransportError> {
        bool_var(self.host, name, self.vars)
    }
}

/// A boolean host variable (`None`: unset or null); anything but a boolean is an error
/// naming the host and the variable.
pub fn bool_var(host: &str, name: &str, vars: &Vars) -> Result<Option<bool>, TransportError> {
    match vars.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => bool_of(v).map(Some).ok_or_else(|| {
            settings_error(
                host,
                name,
                format!("expected {BOOL_EXPECTED}, got {}", show(v)),
            )
        }),
    }
}

/// A duration host variable's value; an unreadable one is an error naming the host and the
/// variable (never silently the default).
pub fn duration_var(host: &str, name: &str, v: &Value) -> Result<Duration, TransportError> {
    duration_of(v).ok_or_else(|| {
        settings_error(
            host,
            name,
            format!("expected {DURATION_EXPECTED}, got {}", show(v)),
        )
    })
}

/// The host's `transfer_timeout` (`None`: unset, null or 0).
pub fn transfer_timeout_var(host: &str, vars: &Vars) -> Result<Option<Duration>, TransportError> {
    match vars.get("transfer_timeout").filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => Ok(Some(duration_var(host, "transfer_timeout", v)?).filter(|d| !d.is_zero())),
    }
}

pub(crate) fn settings_error(host: &str, var: &str, reason: impl Into<String>) -> TransportError {
    TransportError::Settings {
        host: host.to_string(),
        var: var.to_string(),
        reason: reason.into(),
    }
}

/// Strings, numbers and booleans as text (YAML `port: 22` and `port: "22"` are the same).
pub(super) fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `~/x` -> `$HOME/x`.
pub(super) fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    PathBuf::from(p)
}

pub(super) fn default_known_hosts() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".ssh").join("known_hosts"),
        None => PathBuf::from(".ssh/known_hosts"),
    }
}
