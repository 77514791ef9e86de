//! The `netconf` SSH subsystem of simulated Junos devices (RFC 6241/6242, base:1.0
//! end-of-message framing, as Junos speaks it by default): hello, get-config and Junos's
//! get-configuration (XML or `format="text"`), get-software-information, `<command>`,
//! edit-config on a per-session candidate, lock/unlock, validate, commit, discard-changes
//! and close-session. Config XML maps onto the device's statement tree: an element is a
//! statement keyword, `<name>` its value, text a leaf's value (`<interface>` under
//! `<interfaces>` names the interface alone, as in Junos's set syntax).
//!
//! The device's fault injection applies per RPC: `hang-after` stops answering,
//! `flood-after` sends endless data without a frame end, `drop-after` disconnects.

use std::sync::Arc;

use russh::server::Handle;
use russh::ChannelId;
use tokio::sync::mpsc;

use crate::device::Device;
use crate::junos::{delete_path, render_braces, set_path, tokenize};
use crate::server::Input;
use crate::tree::Node;

const EOM: &[u8] = b"]]>]]>";
static SESSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
/// A client's message larger than this ends the session.
const MAX_MESSAGE: usize = 16 << 20;

pub(crate) enum Fault {
    None,
    Drop,
    Hang,
    Flood,
}

/// Serve one `netconf` channel until the client closes it.
pub(crate) fn serve(
    device: Arc<Device>,
    user: String,
    handle: Handle,
    channel: ChannelId,
    mut rx: mpsc::UnboundedReceiver<Input>,
    next_fault: impl Fn() -> Fault + Send + 'static,
) {
    tokio::spawn(async move {
        let session_id = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let hello = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><hello xmlns=\"{BASE_NS}\"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability><capability>urn:ietf:params:netconf:capability:candidate:1.0</capability><capability>urn:ietf:params:netconf:capability:confirmed-commit:1.0</capability><capability>urn:ietf:params:netconf:capability:validate:1.0</capability><capability>http://xml.juniper.net/netconf/junos/1.0</capability></capabilities><session-id>{session_id}</session-id></hello>]]>]]>"
        );
        if handle.data(channel, hello.into_bytes()).await.is_err() {
            return;
        }
        let mut session = NcSession {
            device,
            user,
            candidate: None,
        };
        let mut buf: Vec<u8> = Vec::new();
        let mut hello_seen = false;
        while let Some(input) = rx.recv().await {
            let Input::Data(d) = input else { continue };
            buf.extend_from_slice(&d);
            while let Some(at) = buf.windows(EOM.len()).position(|w| w == EOM) {
                let msg: Vec<u8> = buf.drain(..at + EOM.len()).take(at).collect();
                let text = String::from_utf8_lossy(&msg).trim().to_string();
                if !hello_seen {
                    hello_seen = true;
                    if text.contains("<hello") {
                        continue;
                    }
                }
                match next_fault() {
                    Fault::Drop => {
                        let _ = handle
                            .disconnect(
                                russh::Disconnect::ByApplication,
                                "connection dropped by netorch-sim fault injection".into(),
                                "en".into(),
                            )
                            .await;
                        return;
                    }
                    Fault::Hang => continue,
                    Fault::Flood => {
                        let chunk = "<data>endless</data>".repeat(2048).into_bytes();
                        while handle.data(channel, chunk.clone()).await.is_ok() {}
                        return;
                    }
                    Fault::None => {}
                }
                let (reply, close) = session.handle(&text);
                let mut out = reply.into_bytes();
                out.extend_from_slice(EOM);
                if handle.data(channel, out).await.is_err() || close {
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                    return;
                }
            }
            if buf.len() > MAX_MESSAGE {
                let _ = handle.close(channel).await;
                return;
            }
        }
    });
}

struct NcSession {
    device: Arc<Device>,
    user: String,
    /// This session's candidate; `None`: the same as running.
    candidate: Option<Vec<Node>>,
}

impl NcSession {
    /// The reply to one message, and whether the session ends after it.
    fn handle(&mut self, text: &str) -> (String, bool) {
        let doc = match roxmltree::Document::parse(text) {
            Ok(d) => d,
            Err(e) => {
                return (
                    reply(
                        None,
                        &rpc_error("rpc", "malformed-message", &format!("not XML: {e}")),
                    ),
                    false,
                )
            }
        };
        let rpc = doc.root_element();
        let id = rpc.attribute("message-id");
        if !rpc.has_tag_name("rpc") {
            return (
                reply(id, &rpc_error("rpc", "malformed-message", "expected <rpc>")),
                false,
            );
        }
        let Some(op) = rpc.children().find(|n| n.is_element()) else {
            return (
                reply(id, &rpc_error("rpc", "missing-element", "an empty <rpc>")),
                false,
            );
        };
        let (body, close) = match self.operation(op) {
            Ok(b) => (b, op.has_tag_name("close-session")),
            Err(e) => (e, false),
        };
        (reply(id, &body), close)
    }

    fn operation(&mut self, op: roxmltree::Node<'_, '_>) -> Result<String, String> {
        let name = op.tag_name().name();
        match name {
            "get-config" | "get" => {
                let source = datastore(op, "source").unwrap_or_else(|| "running".into());
                let tree = self.datastore(&source)?;
                Ok(format!("<data>{}</data>", configuration_xml(&tree)))
            }
            "get-configuration" => {
                let tree = match op.attribute("database") {
                    Some("candidate") => self.datastore("candidate")?,
                    _ => self.device.running(),
                };
                if op.attribute("format") == Some("text") {
                    let mut lines = Vec::new();
                    render_braces(&tree, 0, &mut lines);
                    Ok(format!(
                        "<configuration-text>{}</configuration-text>",
                        escape(&lines.join("\n"))
                    ))
                } else {
                    Ok(configuration_xml(&tree))
                }
            }
            "get-software-information" => Ok(format!(
                "<software-information><host-name>{}</host-name><product-model>vsrx</product-model><product-name>vsrx</product-name><junos-version>21.4R3.15</junos-version></software-information>",
                escape(&self.device.hostname())
            )),
            "command" => {
                let cmd = op.text().unwrap_or_default().trim().to_string();
                let mut shell = crate::shell::Shell::new(self.device.clone(), &self.user);
                let (out, _) = shell.exec(&cmd, false);
                Ok(format!(
                    "<output>{}</output>",
                    escape(&String::from_utf8_lossy(&out))
                ))
            }
            "edit-config" => {
                let target = datastore(op, "target").unwrap_or_default();
                if target != "candidate" {
                    return Err(rpc_error(
                        "protocol",
                        "operation-not-supported",
                        "only the candidate can be edited",
                    ));
                }
                let Some(cfg) = op
                    .children()
                    .find(|n| n.has_tag_name("config"))
                    .and_then(|c| c.children().find(|n| n.has_tag_name("configuration")))
                else {
                    return Err(rpc_error(
                        "protocol",
                        "missing-element",
                        "expected <config><configuration>...</configuration></config>",
                    ));
                };
                let mut tree = self.datastore("candidate")?;
                let replace = op
                    .children()
                    .find(|n| n.has_tag_name("default-operation"))
                    .and_then(|n| n.text())
                    == Some("replace");
                if replace {
                    tree.clear();
                }
                apply(&mut tree, cfg, &[]);
                self.candidate = Some(tree);
                Ok("<ok/>".into())
            }
            "lock" | "unlock" | "validate" | "close-session" => Ok("<ok/>".into()),
            "discard-changes" => {
                self.candidate = None;
                Ok("<ok/>".into())
            }
            "commit" => {
                if let Some(c) = self.candidate.take() {
                    self.device.commit(&self.user, c);
                }
                Ok("<ok/>".into())
            }
            other => Err(rpc_error(
                "protocol",
                "operation-not-supported",
                &format!("syntax error, expecting <rpc> operation: {other} is not known"),
            )),
        }
    }

    fn datastore(&self, name: &str) -> Result<Vec<Node>, String> {
        match name {
            "running" => Ok(self.device.running()),
            "candidate" => Ok(self
                .candidate
                .clone()
                .unwrap_or_else(|| self.device.running())),
            other => Err(rpc_error(
                "protocol",
                "invalid-value",
                &format!("no datastore {other}"),
            )),
        }
    }
}

/// `<source><running/></source>` -> `running`.
fn datastore(op: roxmltree::Node<'_, '_>, tag: &str) -> Option<String> {
    op.children()
        .find(|n| n.has_tag_name(tag))
        .and_then(|s| s.children().find(|n| n.is_element()))
        .map(|n| n.tag_name().name().to_string())
}

fn reply(id: Option<&str>, body: &str) -> String {
    let id = id
        .map(|i| format!(" message-id=\"{}\"", escape(i)))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rpc-reply xmlns=\"{BASE_NS}\" xmlns:junos=\"http://xml.juniper.net/junos/21.4R3/junos\"{id}>{body}</rpc-reply>"
    )
}

fn rpc_error(kind: &str, tag: &str, message: &str) -> String {
    format!(
        "<rpc-error><error-type>{kind}</error-type><error-tag>{tag}</error-tag><error-severity>error</error-severity><error-message>{}</error-message></rpc-error>",
        escape(message)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn configuration_xml(tree: &[Node]) -> String {
    let mut out = String::from("<configuration>");
    nodes_xml(tree, "", &mut out);
    out.push_str("</configuration>");
    out
}

fn nodes_xml(nodes: &[Node], parent_kw: &str, out: &mut String) {
    for n in nodes {
        let toks = tokenize(&n.line);
        let Some(kw) = toks.first() else { continue };
        let rest = toks[1..].join(" ");
        // A bare value as a statement (an interface under `interfaces`, a prefix in a
        // prefix-list): Junos names it inside an element of the list's own.
        let bare = parent_kw == "interfaces" && toks.len() == 1 && kw != "interface-range";
        if bare || !xml_name(kw) {
            let el = if parent_kw == "interfaces" {
                "interface".to_string()
            } else {
                format!("{parent_kw}-item")
            };
            out.push_str(&format!("<{el}><name>{}</name>", escape(&toks.join(" "))));
            nodes_xml(&n.children, &el, out);
            out.push_str(&format!("</{el}>"));
            continue;
        }
        match (rest.is_empty(), n.children.is_empty()) {
            (true, true) => out.push_str(&format!("<{kw}/>")),
            (true, false) => {
                out.push_str(&format!("<{kw}>"));
                nodes_xml(&n.children, kw, out);
                out.push_str(&format!("</{kw}>"));
            }
            (false, true) => out.push_str(&format!("<{kw}>{}</{kw}>", escape(&rest))),
            (false, false) => {
                out.push_str(&format!("<{kw}><name>{}</name>", escape(&rest)));
                nodes_xml(&n.children, kw, out);
                out.push_str(&format!("</{kw}>"));
            }
        }
    }
}

fn xml_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, '-' | '_' | '.'))
}

fn quote(v: &str) -> String {
    if v.is_empty()
        || v.chars()
            .any(|c| c.is_whitespace() || "$;{}#\"'".contains(c))
    {
        format!("\"{}\"", v.replace('"', "\\\""))
    } else {
        v.to_string()
    }
}

/// Apply config XML under `path` (statements) to the tree; `operation="delete"` removes.
fn apply(tree: &mut Vec<Node>, el: roxmltree::Node<'_, '_>, path: &[String]) {
    let parent_kw = el.tag_name().name().to_string();
    for c in el.children().filter(|n| n.is_element()) {
        let kw = c.tag_name().name();
        if kw == "name" {
            continue;
        }
        let name = c
            .children()
            .find(|n| n.has_tag_name("name"))
            .and_then(|n| n.text())
            .map(str::trim);
        let others = c
            .children()
            .any(|n| n.is_element() && !n.has_tag_name("name"));
        let text = c.text().map(str::trim).filter(|t| !t.is_empty());
        let stmt = match (name, text) {
            (Some(n), _) if kw == "interface" && parent_kw == "interfaces" => quote(n),
            (Some(n), _) if kw == format!("{parent_kw}-item") => n.to_string(),
            (Some(n), _) => format!("{kw} {}", quote(n)),
            (None, Some(t)) if !others => format!("{kw} {}", quote(t)),
            _ => kw.to_string(),
        };
        let mut p = path.to_vec();
        p.push(stmt);
        if c.attribute("operation") == Some("delete") || c.attribute("delete") == Some("delete") {
            delete_path(tree, &p);
            continue;
        }
        if others {
            apply(tree, c, &p);
        } else {
            set_path(tree, &p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_xml_round_trips_through_the_statement_tree() {
        let x = "<configuration><system><host-name>r1</host-name><services><ssh/></services></system><interfaces><interface><name>ge-0/0/1</name><description>to core</description><unit><name>0</name><family><inet><address><name>10.0.0.1/24</name></address></inet></family></unit></interface></interfaces></configuration>";
        let doc = roxmltree::Document::parse(x).unwrap();
        let mut tree = Vec::new();
        apply(&mut tree, doc.root_element(), &[]);
        let mut lines = Vec::new();
        render_braces(&tree, 0, &mut lines);
        let text = lines.join("\n");
        assert!(text.contains("host-name r1;"), "{text}");
        assert!(text.contains("ge-0/0/1 {"), "{text}");
        assert!(text.contains("description \"to core\";"), "{text}");
        assert!(text.contains("address 10.0.0.1/24;"), "{text}");
        // A leaf's value comes back as text (Junos would name list keys; the tree cannot tell).
        let back = configuration_xml(&tree);
        assert_eq!(
            back,
            x.replace(
                "<address><name>10.0.0.1/24</name></address>",
                "<address>10.0.0.1/24</address>"
            )
        );
        let again = roxmltree::Document::parse(&back).unwrap();
        let mut tree2 = Vec::new();
        apply(&mut tree2, again.root_element(), &[]);
        assert_eq!(tree, tree2);
        // operation="delete" removes the statement.
        let d = roxmltree::Document::parse(
            "<configuration><system><services operation=\"delete\"/></system></configuration>",
        )
        .unwrap();
        apply(&mut tree, d.root_element(), &[]);
        assert!(!configuration_xml(&tree).contains("<services>"));
    }
}
