//! `netconf_get` (ansible.netcommon): `<get>`, or `<get-config>` when `source` names a
//! datastore, with a subtree (XML or YAML) or XPath `filter`.

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::Value;

use super::{reply_result, rpc_failure, session, Display, XmlArg};
use crate::actions::args::map_only;
use crate::actions::{device_failure, ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;
use crate::transport::netconf::ops::{self, Filter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datastore {
    Running,
    Candidate,
    Startup,
}

impl Datastore {
    pub fn name(self) -> &'static str {
        match self {
            Datastore::Running => "running",
            Datastore::Candidate => "candidate",
            Datastore::Startup => "startup",
        }
    }
}

/// Ansible's `lock` for netconf_get: lock the source while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockMode {
    #[default]
    Never,
    Always,
    IfSupported,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetconfGetArgs {
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub source: Option<Datastore>,
    /// Subtree XML, YAML data, an XPath expression, or `[xpath, {prefix: namespace}]`.
    #[serde(default)]
    pub filter: Option<FilterArg>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub display: Option<Display>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub lock: Option<LockMode>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterArg {
    /// XML text (a subtree) or an XPath expression, told apart when rendered.
    Text(String),
    Data(XmlArg),
    XPath(String, Vec<(String, String)>),
}

impl<'de> Deserialize<'de> for FilterArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let bad = || {
            serde::de::Error::custom(
                "expected a subtree filter (XML or YAML), an XPath expression, or [xpath, {prefix: namespace}]",
            )
        };
        match v {
            Value::String(s) => Ok(FilterArg::Text(s)),
            Value::Object(_) => Ok(FilterArg::Data(XmlArg(v))),
            Value::Array(a) => match a.as_slice() {
                [Value::String(x)] => Ok(FilterArg::XPath(x.clone(), Vec::new())),
                [Value::String(x), Value::Object(ns)] => {
                    let mut out = Vec::new();
                    for (p, u) in ns {
                        let u = u.as_str().ok_or_else(bad)?;
                        out.push((p.clone(), u.to_string()));
                    }
                    Ok(FilterArg::XPath(x.clone(), out))
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl FilterArg {
    fn probes<'a>(&'a self, out: &mut Vec<Probe<'a>>) {
        match self {
            FilterArg::Text(s) | FilterArg::XPath(s, _) => out.push(Probe::text("filter", s)),
            FilterArg::Data(x) => x.probes("filter", out),
        }
    }

    pub fn render(&self, ctx: &crate::actions::ActionCtx<'_>) -> Result<Filter, String> {
        match self {
            FilterArg::Text(s) => {
                let t = ctx.render(s, "filter").map_err(|e| e.to_string())?;
                if t.trim_start().starts_with('<') {
                    Ok(Filter::Subtree(crate::transport::netconf::xml::fragment(
                        &t, "filter",
                    )?))
                } else {
                    Ok(Filter::XPath {
                        select: t.trim().to_string(),
                        namespaces: Vec::new(),
                    })
                }
            }
            FilterArg::Data(x) => Ok(Filter::Subtree(x.render(ctx, "filter")?)),
            FilterArg::XPath(s, ns) => Ok(Filter::XPath {
                select: ctx.render(s, "filter").map_err(|e| e.to_string())?,
                namespaces: ns.clone(),
            }),
        }
    }
}

impl ActionArgs for NetconfGetArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "{} or {source, filter, display, lock}",
            true,
            Ok,
        ))
    }

    fn summary(&self) -> String {
        match self.source {
            Some(s) => format!("get-config {}", s.name()),
            None => "get".into(),
        }
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        let mut out = Vec::new();
        if let Some(f) = &self.filter {
            f.probes(&mut out);
        }
        out
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let filter = match self.filter.as_ref().map(|f| f.render(&env.ctx)).transpose() {
            Ok(f) => f,
            Err(e) => return TaskResult::failed(format!("{}: {e}", env.ctx.host)),
        };
        let (conn, ctx, timeout) = match env.connect() {
            Ok(c) => c,
            Err(r) => return r,
        };
        let host = ctx.host;
        let s = match session(conn, "netconf_get") {
            Ok(s) => s,
            Err(r) => return r,
        };
        if matches!(filter, Some(Filter::XPath { .. })) && !s.has(":xpath") {
            return TaskResult::failed(format!(
                "{host}: an XPath filter needs the server's :xpath capability, which it does not announce; use a subtree filter (XML)"
            ));
        }
        let op = match self.source {
            Some(src) => ops::get_config(src.name(), filter.as_ref()),
            None => ops::get(filter.as_ref()),
        };
        let lock_target = self.source.map_or("running", Datastore::name);
        let locked = match self.lock.unwrap_or_default() {
            LockMode::Never => false,
            mode => match s.rpc(&ops::lock(lock_target), timeout) {
                Ok(r) if r.error_text().is_none() => true,
                Ok(r) if mode == LockMode::Always => {
                    return rpc_failure(host, &format!("locking {lock_target}"), &r)
                }
                Ok(_) => false,
                Err(e) => return device_failure(&e),
            },
        };
        let reply = s.rpc(&op, timeout);
        if locked {
            let _ = s.rpc(&ops::unlock(lock_target), timeout);
        }
        let reply = match reply {
            Ok(r) => r,
            Err(e) => return device_failure(&e),
        };
        if reply.error_text().is_some() {
            return rpc_failure(host, &ops_name(self.source), &reply);
        }
        reply_result(&reply, true, self.display)
    }
}

fn ops_name(source: Option<Datastore>) -> String {
    match source {
        Some(s) => format!("get-config {}", s.name()),
        None => "get".into(),
    }
}
