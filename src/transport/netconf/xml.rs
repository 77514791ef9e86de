//! XML for NETCONF: replies parsed (roxmltree, no DTDs, so no entity expansion) into
//! structured values the way Ansible's `display: json` does with xmltodict (namespaces
//! dropped, attributes as `@name`, mixed text as `#text`, repeated elements as lists),
//! re-serialised without namespaces or indented for `display: xml|pretty`, and YAML
//! values turned into XML (xmltodict's `unparse`) for `netconf_config` content.

use serde_json::{Map, Value};

pub use roxmltree::{Document, Node};

/// Deeper nesting than any device's data model needs. The walks over a document below
/// recurse, so a hostile peer's nesting must not reach the stack's limit.
pub const MAX_DEPTH: u32 = 512;

/// Parse a message or a user's XML; `what` names it for the error.
pub fn parse<'a>(text: &'a str, what: &str) -> Result<Document<'a>, String> {
    let doc = Document::parse(text).map_err(|e| format!("{what} is not well-formed XML: {e}"))?;
    let mut depth = vec![0u32; doc.descendants().count() + 1];
    for node in doc.descendants() {
        if let Some(p) = node.parent() {
            let d = depth.get(p.id().get() as usize).copied().unwrap_or(0) + 1;
            if d > MAX_DEPTH {
                return Err(format!(
                    "{what} nests elements deeper than {MAX_DEPTH} levels"
                ));
            }
            if let Some(slot) = depth.get_mut(node.id().get() as usize) {
                *slot = d;
            }
        }
    }
    Ok(doc)
}

pub use crate::xml::escape;

/// An element's value as xmltodict gives it.
pub fn to_json(node: Node<'_, '_>) -> Value {
    let mut map = Map::new();
    for a in node.attributes() {
        map.insert(format!("@{}", a.name()), Value::from(a.value()));
    }
    let mut text = String::new();
    let mut has_children = false;
    for child in node.children() {
        if child.is_element() {
            has_children = true;
            let name = child.tag_name().name().to_string();
            let v = to_json(child);
            match map.get_mut(&name) {
                Some(Value::Array(list)) => list.push(v),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, v]);
                }
                None => {
                    map.insert(name, v);
                }
            }
        } else if let Some(t) = child.text() {
            if child.is_text() {
                text.push_str(t);
            }
        }
    }
    let text = text.trim();
    if !has_children && map.is_empty() {
        return if text.is_empty() {
            Value::Null
        } else {
            Value::from(text)
        };
    }
    if !text.is_empty() {
        map.insert("#text".into(), Value::from(text));
    }
    Value::Object(map)
}

/// `{root-name: value}` for a whole document.
pub fn document_json(doc: &Document<'_>) -> Value {
    let root = doc.root_element();
    let mut m = Map::new();
    m.insert(root.tag_name().name().to_string(), to_json(root));
    Value::Object(m)
}

/// Serialise an element: `strip_ns` drops namespaces (Ansible's `remove_namespaces`),
/// `indent` lays it out one element a line.
pub fn to_xml(node: Node<'_, '_>, strip_ns: bool, indent: bool) -> String {
    let mut out = String::new();
    write_node(node, strip_ns, indent, 0, true, &mut out);
    if indent && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn write_node(
    node: Node<'_, '_>,
    strip_ns: bool,
    indent: bool,
    depth: usize,
    top: bool,
    out: &mut String,
) {
    let pad = |out: &mut String, d: usize| {
        if indent {
            out.extend(std::iter::repeat_n("  ", d));
        }
    };
    let name = qualified(node, strip_ns);
    pad(out, depth);
    out.push('<');
    out.push_str(&name);
    if !strip_ns {
        // Declarations made on this element (not inherited ones); the element written
        // first carries all in scope, so that the text stands on its own.
        let parent_ns: Vec<_> = match node.parent_element() {
            Some(p) if !top => p.namespaces().collect(),
            _ => Vec::new(),
        };
        // Inherited declarations are written on the first element only where its subtree
        // uses them (not the envelope's `nc:`).
        let used: Vec<&str> = if top {
            node.descendants()
                .filter(|d| d.is_element())
                .flat_map(|d| {
                    d.tag_name()
                        .namespace()
                        .into_iter()
                        .chain(d.attributes().filter_map(|a| a.namespace()))
                })
                .collect()
        } else {
            Vec::new()
        };
        let own: Vec<_> = node
            .parent_element()
            .map(|p| p.namespaces().collect())
            .unwrap_or_default();
        for ns in node.namespaces() {
            if parent_ns.contains(&ns) {
                continue;
            }
            if top && own.contains(&ns) && !used.contains(&ns.uri()) {
                continue;
            }
            match ns.name() {
                Some(p) => out.push_str(&format!(" xmlns:{p}=\"{}\"", escape(ns.uri()))),
                None => out.push_str(&format!(" xmlns=\"{}\"", escape(ns.uri()))),
            }
        }
    }
    for a in node.attributes() {
        let an = match (a.namespace(), strip_ns) {
            (Some(ns), false) => match node.lookup_prefix(ns) {
                Some(p) if !p.is_empty() => format!("{p}:{}", a.name()),
                _ => a.name().to_string(),
            },
            _ => a.name().to_string(),
        };
        out.push_str(&format!(" {an}=\"{}\"", escape(a.value())));
    }
    let elements = node.children().any(|c| c.is_element());
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect();
    if !elements && text.is_empty() {
        out.push_str("/>");
        if indent {
            out.push('\n');
        }
        return;
    }
    out.push('>');
    if elements {
        if indent {
            out.push('\n');
        }
        for c in node.children() {
            if c.is_element() {
                write_node(c, strip_ns, indent, depth + 1, false, out);
            } else if c.is_text() && !indent {
                out.push_str(&escape(c.text().unwrap_or_default()));
            } else if c.is_text() {
                let t = c.text().unwrap_or_default().trim();
                if !t.is_empty() {
                    pad(out, depth + 1);
                    out.push_str(&escape(t));
                    out.push('\n');
                }
            }
        }
        pad(out, depth);
    } else {
        out.push_str(&escape(if indent { text.trim() } else { &text }));
    }
    out.push_str("</");
    out.push_str(&name);
    out.push('>');
    if indent {
        out.push('\n');
    }
}

fn qualified(node: Node<'_, '_>, strip_ns: bool) -> String {
    let tag = node.tag_name();
    if strip_ns {
        return tag.name().to_string();
    }
    if tag.namespace().is_some() && tag.namespace() == node.default_namespace() {
        return tag.name().to_string();
    }
    match tag.namespace().and_then(|ns| node.lookup_prefix(ns)) {
        Some(p) if !p.is_empty() => format!("{p}:{}", tag.name()),
        _ => tag.name().to_string(),
    }
}

/// A YAML/JSON value as XML elements, as xmltodict's `unparse` writes it: each key an
/// element, a list repeats it, `@name` keys are attributes, `#text` is text.
pub fn from_value(v: &Value) -> Result<String, String> {
    let Value::Object(m) = v else {
        return Err("expected a mapping of element names to values".into());
    };
    let mut out = String::new();
    for (k, v) in m {
        if k.starts_with('@') || k == "#text" {
            return Err(format!(
                "`{k}` at the top level: attributes and text belong inside an element"
            ));
        }
        element(k, v, &mut out)?;
    }
    Ok(out)
}

fn element(name: &str, v: &Value, out: &mut String) -> Result<(), String> {
    if !valid_name(name) {
        return Err(format!("`{name}` is not a valid XML element name"));
    }
    match v {
        Value::Array(items) => {
            for it in items {
                element(name, it, out)?;
            }
        }
        Value::Object(m) => {
            out.push('<');
            out.push_str(name);
            for (k, av) in m {
                if let Some(attr) = k.strip_prefix('@') {
                    if !valid_name(attr) {
                        return Err(format!("`{attr}` is not a valid XML attribute name"));
                    }
                    out.push_str(&format!(" {attr}=\"{}\"", escape(&scalar(av))));
                }
            }
            out.push('>');
            for (k, cv) in m {
                if k == "#text" {
                    out.push_str(&escape(&scalar(cv)));
                } else if !k.starts_with('@') {
                    element(k, cv, out)?;
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}/>")),
        scalar_v => out.push_str(&format!("<{name}>{}</{name}>", escape(&scalar(scalar_v)))),
    }
    Ok(())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// A user's XML fragment without its `<?xml ...?>` declaration (it cannot sit inside an
/// `<rpc>`), checked to be well-formed so that it cannot break the message around it.
pub fn fragment(text: &str, what: &str) -> Result<String, String> {
    let t = text.trim();
    let t = if t.starts_with("<?xml") {
        t.find("?>").map(|i| t[i + 2..].trim_start()).unwrap_or(t)
    } else {
        t
    };
    if t.contains("]]>]]>") {
        return Err(format!("{what} contains the NETCONF end-of-message marker"));
    }
    // Several top-level elements are fine inside an operation: check them wrapped, and
    // give positions in the user's text (the wrapper shifts the first line by 3).
    let wrapped = format!("<w>{t}</w>");
    if let Err(e) = Document::parse(&wrapped) {
        let pos = e.pos();
        let col = if pos.row == 1 {
            pos.col.saturating_sub(3).max(1)
        } else {
            pos.col
        };
        let text = e.to_string();
        let reason = text.rsplit_once(" at ").map_or(text.as_str(), |(r, _)| r);
        return Err(format!(
            "{what} is not well-formed XML: {reason} at {}:{col}",
            pos.row
        ));
    }
    parse(&wrapped, what)?;
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_to_json_like_xmltodict() {
        let x = r#"<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><data><interfaces xmlns="urn:x"><interface><name>eth0</name><enabled>true</enabled></interface><interface><name>eth1</name><mtu unit="b">1500</mtu><description/></interface></interfaces></data></rpc-reply>"#;
        let doc = parse(x, "reply").unwrap();
        let v = document_json(&doc);
        assert_eq!(v["rpc-reply"]["@message-id"], "1");
        let ifs = &v["rpc-reply"]["data"]["interfaces"]["interface"];
        assert_eq!(ifs[0]["name"], "eth0");
        assert_eq!(ifs[1]["mtu"], json!({"@unit": "b", "#text": "1500"}));
        assert_eq!(ifs[1]["description"], Value::Null);
        let plain = to_xml(doc.root_element(), true, false);
        assert!(plain.starts_with("<rpc-reply message-id=\"1\"><data><interfaces>"));
        let same = to_xml(doc.root_element(), false, false);
        assert_eq!(same, x);
        let pretty = to_xml(doc.root_element(), true, true);
        assert!(pretty.contains("\n      <interface>\n        <name>eth0</name>"));
    }

    #[test]
    fn yaml_to_xml_and_back() {
        let v = json!({"config": {"system": {"@xmlns": "urn:ietf:params:xml:ns:yang:ietf-system",
            "hostname": "r1 & co", "ntp": {"server": [{"name": "a"}, {"name": "b"}]}, "x": null}}});
        let x = from_value(&v).unwrap();
        assert_eq!(
            x,
            "<config><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>r1 &amp; co</hostname><ntp><server><name>a</name></server><server><name>b</name></server></ntp><x/></system></config>"
        );
        assert!(from_value(&json!({"a b": 1})).is_err());
        assert!(from_value(&json!("text")).is_err());
        assert!(fragment("<a>", "content").is_err());
        let e = fragment("<a><b></a>", "content").unwrap_err();
        assert!(e.ends_with("at 1:7"), "{e}");
        let deep = format!("{}{}", "<a>".repeat(600), "</a>".repeat(600));
        assert!(parse(&deep, "reply")
            .unwrap_err()
            .contains("deeper than 512"));
        assert!(parse("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>", "reply").is_err());
        assert!(fragment("<a/>]]>]]><b/>", "content").is_err());
        assert_eq!(
            fragment("<?xml version=\"1.0\"?>\n<a/><b/>", "c").unwrap(),
            "<a/><b/>"
        );
    }
}
