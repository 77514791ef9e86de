//! `netconf_rpc` (ansible.netcommon): any RPC by name (`rpc`), in a namespace (`xmlns`),
//! with parameters (`content`, XML or YAML). An RPC may change the device, so check mode
//! skips it.

use serde::de::Deserializer;
use serde::Deserialize;

use super::{reply_result, rpc_failure, session, Display, XmlArg};
use crate::actions::args::map_only;
use crate::actions::{device_failure, ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;
use crate::transport::netconf::xml;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetconfRpcArgs {
    #[serde(deserialize_with = "values::scalar_string")]
    pub rpc: String,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub xmlns: Option<String>,
    #[serde(default)]
    pub content: Option<XmlArg>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub display: Option<Display>,
}

fn check(a: NetconfRpcArgs) -> Result<NetconfRpcArgs, String> {
    if a.rpc.trim().is_empty() {
        return Err(
            "netconf_rpc needs `rpc`: the RPC's name (e.g. get-software-information)".into(),
        );
    }
    Ok(a)
}

impl ActionArgs for NetconfRpcArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "{rpc, xmlns, content, display}",
            false,
            check,
        ))
    }

    fn summary(&self) -> String {
        self.rpc.clone()
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        let mut out = vec![Probe::line("rpc", &self.rpc)];
        if let Some(x) = &self.xmlns {
            out.push(Probe::line("xmlns", x));
        }
        if let Some(c) = &self.content {
            c.probes("content", &mut out);
        }
        out
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let ctx = &env.ctx;
        let host = ctx.host;
        let built = (|| -> Result<String, String> {
            let name = ctx
                .render_line(&self.rpc, "rpc")
                .map_err(|e| e.to_string())?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
            {
                return Err(format!(
                    "rpc `{name}` is not an RPC name (an XML element name)"
                ));
            }
            let ns = match &self.xmlns {
                Some(x) => Some(ctx.render_line(x, "xmlns").map_err(|e| e.to_string())?),
                None => None,
            };
            let content = match &self.content {
                Some(c) => c.render(ctx, "content")?,
                None => String::new(),
            };
            let attr = ns
                .map(|n| format!(" xmlns=\"{}\"", xml::escape(n.trim())))
                .unwrap_or_default();
            let op = if content.is_empty() {
                format!("<{name}{attr}/>")
            } else {
                format!("<{name}{attr}>{content}</{name}>")
            };
            // The name is the user's: the whole operation must still be one element.
            xml::fragment(&op, "rpc")?;
            Ok(op)
        })();
        let op = match built {
            Ok(op) => op,
            Err(e) => return TaskResult::failed(format!("{host}: {e}")),
        };
        if ctx.check_mode {
            return TaskResult::skipped(
                "netconf_rpc is not run in check mode (an RPC may change the device)",
            );
        }
        let (conn, ctx, timeout) = match env.connect() {
            Ok(c) => c,
            Err(r) => return r,
        };
        let s = match session(conn, "netconf_rpc") {
            Ok(s) => s,
            Err(r) => return r,
        };
        let reply = match s.rpc(&op, timeout) {
            Ok(r) => r,
            Err(e) => return device_failure(&e),
        };
        if reply.error_text().is_some() {
            return rpc_failure(ctx.host, &format!("RPC {}", self.rpc.trim()), &reply);
        }
        reply_result(&reply, false, self.display)
    }
}
