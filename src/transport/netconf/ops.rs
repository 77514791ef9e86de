//! The standard operations' XML (RFC 6241 section 7) and what to take out of their replies.

use super::xml::{self, escape};

/// `<source><running/></source>`-style datastore element.
fn datastore(tag: &str, name: &str) -> String {
    format!("<{tag}><{}/></{tag}>", escape(name))
}

/// A `<filter>`: subtree XML (already checked with [`xml::fragment`]), or an XPath
/// expression with the namespace prefixes it uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Subtree(String),
    XPath {
        select: String,
        namespaces: Vec<(String, String)>,
    },
}

impl Filter {
    pub fn to_xml(&self) -> String {
        match self {
            Filter::Subtree(x) if x.trim_start().starts_with("<filter") => x.clone(),
            Filter::Subtree(x) => format!("<filter type=\"subtree\">{x}</filter>"),
            Filter::XPath { select, namespaces } => {
                let ns: String = namespaces
                    .iter()
                    .map(|(p, u)| format!(" xmlns:{}=\"{}\"", p, escape(u)))
                    .collect();
                format!("<filter type=\"xpath\"{ns} select=\"{}\"/>", escape(select))
            }
        }
    }
}

pub fn get(filter: Option<&Filter>) -> String {
    match filter {
        Some(f) => format!("<get>{}</get>", f.to_xml()),
        None => "<get/>".into(),
    }
}

pub fn get_config(source: &str, filter: Option<&Filter>) -> String {
    format!(
        "<get-config>{}{}</get-config>",
        datastore("source", source),
        filter.map(Filter::to_xml).unwrap_or_default()
    )
}

pub fn lock(target: &str) -> String {
    format!("<lock>{}</lock>", datastore("target", target))
}

pub fn unlock(target: &str) -> String {
    format!("<unlock>{}</unlock>", datastore("target", target))
}

pub fn edit_config(target: &str, default_operation: Option<&str>, config: &str) -> String {
    format!(
        "<edit-config>{}{}{}</edit-config>",
        datastore("target", target),
        default_operation
            .map(|o| format!("<default-operation>{}</default-operation>", escape(o)))
            .unwrap_or_default(),
        config
    )
}

pub fn validate(source: &str) -> String {
    format!("<validate>{}</validate>", datastore("source", source))
}

/// `<commit>`; `confirm`: a confirmed commit rolled back after that many seconds unless
/// confirmed; `persist`: its persist id; `persist_id`: confirm one made with a persist id.
pub fn commit(confirm: Option<u64>, persist: Option<&str>, persist_id: Option<&str>) -> String {
    let mut inner = String::new();
    if let Some(t) = confirm {
        inner.push_str(&format!(
            "<confirmed/><confirm-timeout>{t}</confirm-timeout>"
        ));
    }
    if let Some(p) = persist {
        inner.push_str(&format!("<persist>{}</persist>", escape(p)));
    }
    if let Some(p) = persist_id {
        inner.push_str(&format!("<persist-id>{}</persist-id>", escape(p)));
    }
    if inner.is_empty() {
        "<commit/>".into()
    } else {
        format!("<commit>{inner}</commit>")
    }
}

pub fn discard_changes() -> String {
    "<discard-changes/>".into()
}

/// The `<data>` of a reply as XML (namespaces kept, so it can be sent back as config),
/// indented when `pretty`.
pub fn data_xml(reply: &str, pretty: bool) -> Option<String> {
    let doc = xml::parse(reply, "the reply").ok()?;
    let data = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("data"))?;
    Some(
        data.children()
            .filter(|n| n.is_element())
            .map(|n| xml::to_xml(n, false, pretty))
            .collect::<Vec<_>>()
            .join(if pretty { "\n" } else { "" }),
    )
}

/// The text of the first element named `tag` in a Junos reply (`<output>` of `<command>`,
/// `<configuration-text>` of get-configuration).
pub fn junos_text(reply: &str, tag: &str) -> Option<String> {
    let doc = xml::parse(reply, "the reply").ok()?;
    let n = doc.descendants().find(|n| n.has_tag_name(tag))?;
    Some(
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect::<String>()
            .trim_matches('\n')
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations() {
        assert_eq!(
            get_config("running", Some(&Filter::Subtree("<a/>".into()))),
            "<get-config><source><running/></source><filter type=\"subtree\"><a/></filter></get-config>"
        );
        assert_eq!(
            commit(Some(30), Some("p1"), None),
            "<commit><confirmed/><confirm-timeout>30</confirm-timeout><persist>p1</persist></commit>"
        );
        assert_eq!(commit(None, None, None), "<commit/>");
        let x = Filter::XPath {
            select: "/if:interfaces".into(),
            namespaces: vec![("if".into(), "urn:x".into())],
        };
        assert_eq!(
            x.to_xml(),
            "<filter type=\"xpath\" xmlns:if=\"urn:x\" select=\"/if:interfaces\"/>"
        );
        let r = "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><s xmlns=\"urn:s\"><h>r1</h></s></data></rpc-reply>";
        assert_eq!(
            data_xml(r, false).unwrap(),
            "<s xmlns=\"urn:s\"><h>r1</h></s>"
        );
    }
}
