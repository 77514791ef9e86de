//! Ansible's INI inventory: hosts before any section are ungrouped; `[group]` lists host
//! entries (`r1 ansible_host=10.0.0.1 note="two words"`, shell quoting, `# comments`),
//! `[group:children]` lists child groups, `[group:vars]` holds `key=value` lines.
//!
//! Values are read as Ansible reads them (Python literals): `22` is a number, `True` a
//! boolean, `'text'` a string, `[1, 2]` a list; anything else stays the text as written.
//! Errors name file:line, show the line and say what was expected.

use std::path::Path;

use serde_json::Value;

use super::builder::{Builder, Origin};
use super::hostname::parse_host_entry;
use crate::source::{suggest, LoadError};

#[derive(Clone, Copy)]
enum Section {
    Hosts(usize),
    Children(usize),
    Vars(usize),
}

/// Load one INI inventory text into the builder.
pub(crate) fn load_ini(path: &Path, text: &str, b: &mut Builder) -> Result<(), LoadError> {
    let mut section = Section::Hosts(b.group("ungrouped"));
    let mut content = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        content = true;
        let err = |col: usize, msg: String| LoadError::at(path, Some(text), n, col, msg);
        let indent = raw.len() - raw.trim_start().len();
        if line.starts_with('[') {
            section =
                parse_header(line, b, Origin::line(path, n, raw)).map_err(|(msg, hint)| {
                    let e = err(indent + 1, msg);
                    match hint {
                        Some(h) => e.with_hint(h),
                        None => e,
                    }
                })?;
            continue;
        }
        match section {
            Section::Hosts(g) => {
                let words = shlex::split(line).ok_or_else(|| {
                    err(indent + 1, "unbalanced quotes in this host line".into()).with_hint(
                        "close every ' and \" (values with spaces are quoted: note=\"a b\")",
                    )
                })?;
                let Some((entry, vars)) = words.split_first() else {
                    continue;
                };
                let parsed = parse_host_entry(entry)
                    .map_err(|why| err(indent + 1, format!("host {why}")))?;
                let mut pairs = Vec::with_capacity(vars.len());
                for word in vars {
                    match word.split_once('=') {
                        Some((k, v)) if !k.is_empty() => pairs.push((k, ini_value(v))),
                        _ => {
                            let col = raw.find(word.as_str()).map_or(indent + 1, |c| c + 1);
                            return Err(err(
                                col,
                                format!("expected key=value after the host name, found `{word}`"),
                            )
                            .with_hint(
                                "one host per line: `NAME key=value ...`; quote values with \
                                 spaces (key=\"a b\")",
                            ));
                        }
                    }
                }
                for host in &parsed.names {
                    let h = b.host(host, Some(g));
                    if let Some(port) = parsed.port {
                        b.set_host_var(h, "ansible_port".into(), Value::from(port));
                    }
                    for (k, v) in &pairs {
                        b.set_host_var(h, (*k).to_string(), v.clone());
                    }
                }
            }
            Section::Children(g) => {
                let name = strip_comment(line);
                if name.is_empty()
                    || name.contains(char::is_whitespace)
                    || name.contains([':', ']', '['])
                {
                    return Err(err(
                        indent + 1,
                        format!("expected one group name per line in a [group:children] section, found `{line}`"),
                    ));
                }
                let c = b.group(name);
                b.add_child(g, c, Origin::line(path, n, raw));
            }
            Section::Vars(g) => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(
                        indent + 1,
                        format!("expected key=value in a [group:vars] section, found `{line}`"),
                    ));
                };
                let k = k.trim();
                if k.is_empty() || k.contains(char::is_whitespace) {
                    return Err(err(
                        indent + 1,
                        format!("expected key=value in a [group:vars] section, found `{line}`"),
                    ));
                }
                b.set_group_var(
                    g,
                    k.to_string(),
                    ini_value(v.trim()),
                    &Origin::line(path, n, raw),
                )?;
            }
        }
    }
    if !content {
        return Err(LoadError::file(
            path,
            "the file is empty; expected an inventory (YAML, or INI with [group] sections)",
        ));
    }
    Ok(())
}

/// `[name]`, `[name:children]` or `[name:vars]`, maybe followed by a comment.
fn parse_header(
    line: &str,
    b: &mut Builder,
    origin: Origin,
) -> Result<Section, (String, Option<String>)> {
    let expected = "expected `[group]`, `[group:children]` or `[group:vars]`";
    let Some(close) = line.find(']') else {
        return Err((format!("section header without `]`; {expected}"), None));
    };
    let rest = strip_comment(&line[close + 1..]);
    if !rest.is_empty() {
        return Err((
            format!("unexpected `{rest}` after the section header; {expected}"),
            None,
        ));
    }
    let inner = &line[1..close];
    let (name, kind) = match inner.split_once(':') {
        Some((n, k)) => (n.trim(), Some(k.trim())),
        None => (inner.trim(), None),
    };
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('[') {
        return Err((
            format!("`[{inner}]` is not a valid group name; {expected}"),
            None,
        ));
    }
    match kind {
        None => Ok(Section::Hosts(b.group(name))),
        Some("children") => Ok(Section::Children(b.group(name))),
        Some("vars") => Ok(Section::Vars(b.group_for_vars(name, origin))),
        Some(other) => {
            let close = suggest(other, ["children", "vars"]).or_else(|| {
                ["children", "vars"].into_iter().find(|k| {
                    let o = other.to_ascii_lowercase();
                    o.len() >= 3 && (k.starts_with(&o) || o.starts_with(k))
                })
            });
            let hint = close.map(|s| format!("did you mean `[{name}:{s}]`?"));
            Err((
                format!("unknown section type `:{other}` in `[{inner}]`; {expected}"),
                hint,
            ))
        }
    }
}

fn strip_comment(s: &str) -> &str {
    let end = s.find(['#', ';']).unwrap_or(s.len());
    s[..end].trim()
}

/// A value as Ansible's INI plugin reads it: `ast.literal_eval`, else the text itself.
pub(crate) fn ini_value(v: &str) -> Value {
    crate::value::pyliteral::literal_eval(v).unwrap_or_else(|| Value::String(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str) -> Result<crate::inventory::Inventory, LoadError> {
        let mut b = Builder::new();
        load_ini(Path::new("hosts"), text, &mut b)?;
        b.finish(&[], &[], &[])
    }

    #[test]
    fn sections_vars_children_and_quoting() {
        let inv = load(
            "lone ansible_host=10.9.9.9\n\n# comment\n[core]\nr1 ansible_host=10.0.0.1 \
             note=\"two words\" port=22  # trailing comment\nr2:2222\n\n[access]\nsw[01:02]\n\n\
             [dc:children]\ncore\naccess  # comment\n\n[dc:vars]\nntp=10.0.0.123\n\
             flag=True\nlist=['a', 'b']\nquoted='0123'\npin=0123\n",
        )
        .unwrap();
        let names: Vec<&str> = inv.hosts.keys().map(String::as_str).collect();
        assert_eq!(names, ["lone", "r1", "r2", "sw01", "sw02"]);
        let r1 = &inv.hosts["r1"];
        assert_eq!(r1.vars["note"], "two words");
        assert_eq!(r1.vars["port"], 22);
        assert_eq!(r1.vars["ntp"], "10.0.0.123");
        assert_eq!(r1.vars["flag"], true);
        assert_eq!(r1.vars["list"], json!(["a", "b"]));
        assert_eq!(r1.vars["quoted"], "0123");
        assert_eq!(r1.vars["pin"], "0123");
        assert_eq!(inv.hosts["r2"].vars["ansible_port"], 2222);
        assert_eq!(r1.groups, ["all", "dc", "core"]);
        assert_eq!(inv.hosts["lone"].groups, ["all", "ungrouped"]);
        assert_eq!(inv.groups["dc"].children, ["access", "core"]);
    }

    #[test]
    fn ungrouped_host_seen_later_in_a_group_leaves_ungrouped() {
        let inv = load("r1\n[core]\nr1\n").unwrap();
        assert_eq!(inv.hosts["r1"].groups, ["all", "core"]);
        assert!(inv.groups["ungrouped"].hosts.is_empty());
    }

    #[test]
    fn values() {
        for (text, want) in [
            ("22", json!(22)),
            ("-3", json!(-3)),
            ("1.5", json!(1.5)),
            ("10.0.0.1", json!("10.0.0.1")),
            ("True", json!(true)),
            ("true", json!("true")),
            ("None", json!(null)),
            ("\"a b\"", json!("a b")),
            ("{'a': 1}", json!({"a": 1})),
            ("yes", json!("yes")),
            ("0x1F", json!(31)),
            ("1,2", json!([1, 2])),
            ("[a, b]", json!("[a, b]")),
            ("[oops", json!("[oops")),
            ("cisco.ios.ios", json!("cisco.ios.ios")),
            ("", json!("")),
        ] {
            assert_eq!(ini_value(text), want, "{text}");
        }
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        for (text, line, needle, hint) in [
            (
                "[core]\nr1 ansible_host\n",
                2,
                "expected key=value after the host name, found `ansible_host`",
                None,
            ),
            (
                "[core:child]\ncore\n",
                1,
                "unknown section type `:child`",
                Some("did you mean `[core:children]`?"),
            ),
            ("[core]\nr1 note=\"open\n", 2, "unbalanced quotes", None),
            (
                "[core]\n[core:vars]\nntp\n",
                3,
                "expected key=value in a [group:vars] section",
                None,
            ),
            (
                "[dc:children]\ncore access\n",
                2,
                "one group name per line",
                None,
            ),
            ("[core\n", 1, "without `]`", None),
            ("[core]\nr1:ssh\n", 2, "not a port", None),
        ] {
            let e = load(text).unwrap_err();
            assert_eq!(e.line, Some(line), "{text}: {e}");
            assert!(e.message.contains(needle), "{text}: {e}");
            if let Some(h) = hint {
                assert_eq!(e.hint.as_deref(), Some(h), "{text}: {e}");
            }
            assert!(e.snippet.is_some(), "{e}");
        }
    }

    #[test]
    fn vars_for_an_undeclared_group_is_a_typo() {
        let e = load("[core]\nr1\n[cor:vars]\nntp=1\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.hint.as_deref(), Some("did you mean `core`?"));
    }

    #[test]
    fn absurd_nesting_is_refused() {
        let mut text = String::new();
        for i in 0..600 {
            text.push_str(&format!("[g{i}:children]\ng{}\n", i + 1));
        }
        let e = load(&text).unwrap_err();
        assert!(e.message.contains("nested more than 512 levels"), "{e}");
        // A deep but sane chain loads, and the graph shows it.
        let inv = load("[a:children]\nb\n[b:children]\nc\n[c]\nr1\n").unwrap();
        assert_eq!(inv.hosts["r1"].groups, ["all", "a", "b", "c"]);
        assert!(
            inv.graph().contains("  |  |  |--@c:\n  |  |  |  |--r1\n"),
            "{}",
            inv.graph()
        );
    }

    #[test]
    fn empty_file_is_an_error() {
        let e = load("# only a comment\n\n").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
    }
}
