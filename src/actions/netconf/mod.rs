//! The NETCONF actions, with the arguments and result keys of Ansible's
//! `ansible.netcommon.netconf_*` modules: [`get`] (`netconf_get`), [`config`]
//! (`netconf_config`) and [`rpc`] (`netconf_rpc`). They need a host whose connection is
//! NETCONF (`ansible_connection: ansible.netcommon.netconf`); replies come back as the XML
//! (`stdout`) and as data (`output`, xmltodict's shape) for `when`, `assert` and templates.

pub mod config;
pub mod get;
pub mod rpc;

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ActionCtx, Probe};
use crate::device::Connection;
use crate::report::TaskResult;
use crate::transport::netconf::{xml, NetconfBackend, NetconfSession, Reply};

/// The host's NETCONF session, or why it has none.
pub(crate) fn session<'c>(
    conn: &'c mut Connection,
    action: &str,
) -> Result<&'c mut NetconfSession, TaskResult> {
    let host = conn.host().to_string();
    let kind = conn.kind().name();
    match conn
        .backend_mut()
        .as_any_mut()
        .downcast_mut::<NetconfBackend>()
    {
        Some(b) => Ok(&mut b.session),
        None => Err(TaskResult::failed(format!(
            "{host}: {action} needs a NETCONF connection, but the host connects over {kind}\n hint: set `ansible_connection: ansible.netcommon.netconf` (or `connection: netconf`) for the host; NETCONF listens on port 830 by default"
        ))),
    }
}

/// How a reply is shown in `output` (Ansible's `display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Display {
    /// Structured data (xmltodict's shape).
    Json,
    /// Structured data too (Ansible gives an lxml object, which has no YAML form).
    Native,
    /// XML without namespaces, in one line.
    Xml,
    /// XML without namespaces, indented.
    Pretty,
}

/// An XML argument given as text or as YAML data (converted as xmltodict's `unparse`).
#[derive(Debug, Clone, PartialEq)]
pub struct XmlArg(pub Value);

impl<'de> Deserialize<'de> for XmlArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::String(_) | Value::Object(_) => Ok(XmlArg(v)),
            _ => Err(serde::de::Error::custom(
                "expected XML text or a mapping of element names (YAML converted to XML)",
            )),
        }
    }
}

impl XmlArg {
    /// XML text without templating is checked when the playbook loads, so a typo fails
    /// `check` with the file and line instead of every host at run time.
    pub fn check_static(&self, what: &str) -> Result<(), String> {
        match &self.0 {
            Value::String(s) if !s.contains("{{") && !s.contains("{%") => {
                xml::fragment(s, what).map(|_| ())
            }
            Value::Object(_) if !contains_template(&self.0) => xml::from_value(&self.0)
                .map(|_| ())
                .map_err(|e| format!("{what}: {e}")),
            _ => Ok(()),
        }
    }

    /// Every templated string in it.
    pub fn probes<'a>(&'a self, what: &str, out: &mut Vec<Probe<'a>>) {
        strings_in(&self.0, &mut |s| out.push(Probe::text(what.to_string(), s)));
    }

    /// Rendered for the host and turned into a checked XML fragment.
    pub fn render(&self, ctx: &ActionCtx<'_>, what: &str) -> Result<String, String> {
        match &self.0 {
            Value::String(s) => {
                let t = ctx.render(s, what).map_err(|e| e.to_string())?;
                xml::fragment(&t, what)
            }
            v => {
                let rendered = render_value(ctx, v, what)?;
                xml::from_value(&rendered).map_err(|e| format!("{what}: {e}"))
            }
        }
    }
}

fn contains_template(v: &Value) -> bool {
    let mut found = false;
    strings_in(v, &mut |s| found |= s.contains("{{") || s.contains("{%"));
    found
}

fn strings_in<'a>(v: &'a Value, f: &mut dyn FnMut(&'a str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, f)),
        Value::Object(o) => o.values().for_each(|x| strings_in(x, f)),
        _ => {}
    }
}

fn render_value(ctx: &ActionCtx<'_>, v: &Value, what: &str) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(ctx.render(s, what).map_err(|e| e.to_string())?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(ctx, x, what))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                m.insert(k.clone(), render_value(ctx, x, what)?);
            }
            Value::Object(m)
        }
        other => other.clone(),
    })
}

/// A failed reply as a failed task: every `<rpc-error>` with its type, tag, severity,
/// path and message, also as data (`rpc_errors`).
pub(crate) fn rpc_failure(host: &str, what: &str, reply: &Reply) -> TaskResult {
    let mut r = TaskResult::failed(format!(
        "{host}: {what} failed: {}",
        reply.error_text().unwrap_or_default()
    ));
    r.data = json!({ "rpc_errors": reply.errors, "stdout": reply.xml });
    r
}

/// `stdout`, `stdout_lines` and `output` for a reply: `node` is the part shown (`<data>`
/// for get, the whole reply for rpc).
pub(crate) fn reply_result(reply: &Reply, data_only: bool, display: Option<Display>) -> TaskResult {
    let mut r = TaskResult::ok();
    let doc = match xml::parse(&reply.xml, "the reply") {
        Ok(d) => d,
        Err(e) => return TaskResult::failed(e),
    };
    let root = doc.root_element();
    let node = if data_only {
        root.children()
            .find(|n| n.has_tag_name("data"))
            .unwrap_or(root)
    } else {
        root
    };
    let stdout = xml::to_xml(node, false, false);
    let stdout_lines: Vec<String> = xml::to_xml(node, false, true)
        .lines()
        .map(str::to_string)
        .collect();
    let structured = || {
        let mut m = serde_json::Map::new();
        m.insert(node.tag_name().name().to_string(), xml::to_json(node));
        Value::Object(m)
    };
    let output = match display {
        None | Some(Display::Json) | Some(Display::Native) => structured(),
        Some(Display::Xml) => Value::from(xml::to_xml(node, true, false)),
        Some(Display::Pretty) => Value::from(xml::to_xml(node, true, true)),
    };
    r.data = json!({ "stdout": stdout, "stdout_lines": stdout_lines, "output": output });
    r
}
