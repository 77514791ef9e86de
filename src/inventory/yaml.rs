//! Ansible's YAML inventory (also read from `.json` files of the same shape): a mapping of
//! groups, each with optional `hosts` (a mapping of host entries to their vars), `vars` and
//! `children` (a mapping of groups, recursively).
//!
//! The shape is typed serde structs with `deny_unknown_fields`, so a `host:` typo under a
//! group is an error at its line and column with "did you mean `hosts`?".

use std::fmt;
use std::path::Path;

use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::Value;

use super::builder::{Builder, Origin};
use super::hostname::parse_host_entry;
use crate::source::{parse_yaml, LoadError};
use crate::value::VarsFromYaml;

/// One group as written. Deserialized by hand (not derived) to keep the order of `hosts`
/// and `children` as written, so hosts come out in file order as in Ansible; unknown and
/// repeated keys are still serde's errors, so the "did you mean" hints work.
#[derive(Debug, Default)]
struct GroupSpec {
    hosts: Option<IndexMap<NameKey, VarsFromYaml>>,
    vars: Option<VarsFromYaml>,
    children: Option<IndexMap<NameKey, Option<GroupSpec>>>,
    children_first: bool,
}

const GROUP_KEYS: &[&str] = &["hosts", "vars", "children"];

impl<'de> Deserialize<'de> for GroupSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GroupSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a group (a mapping with hosts, vars, children)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<GroupSpec, E> {
                Ok(GroupSpec::default())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<GroupSpec, A::Error> {
                let mut g = GroupSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "hosts" if g.hosts.is_some() => {
                            return Err(de::Error::duplicate_field("hosts"))
                        }
                        "vars" if g.vars.is_some() => {
                            return Err(de::Error::duplicate_field("vars"))
                        }
                        "children" if g.children.is_some() => {
                            return Err(de::Error::duplicate_field("children"))
                        }
                        "hosts" => {
                            let h: Option<IndexMap<NameKey, VarsFromYaml>> = map.next_value()?;
                            g.hosts = Some(h.unwrap_or_default());
                        }
                        "vars" => g.vars = Some(map.next_value()?),
                        "children" => {
                            let c: Option<IndexMap<NameKey, Option<GroupSpec>>> =
                                map.next_value()?;
                            g.children_first = g.hosts.is_none();
                            g.children = Some(c.unwrap_or_default());
                        }
                        other => return Err(de::Error::unknown_field(other, GROUP_KEYS)),
                    }
                }
                Ok(g)
            }
        }
        d.deserialize_any(V)
    }
}

/// The top level: group names. `hosts:`/`vars:`/`children:` here are a missing `all:`.
struct TopSpec(IndexMap<NameKey, Option<GroupSpec>>);

/// Marks the message of a misplaced top-level key, so the hint can be added after parsing.
const TOP_LEVEL_KEY: &str = "at the top level; the top level of a YAML inventory holds groups";

impl<'de> Deserialize<'de> for TopSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of groups (usually starting with `all:`)")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<TopSpec, A::Error> {
                let mut out = IndexMap::new();
                while let Some(key) = map.next_key::<NameKey>()? {
                    if GROUP_KEYS.contains(&key.0.as_str()) {
                        return Err(de::Error::custom(format!("`{}:` {TOP_LEVEL_KEY}", key.0)));
                    }
                    let spec: Option<GroupSpec> = map.next_value()?;
                    out.insert(key, spec);
                }
                Ok(TopSpec(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A host or group name used as a YAML key: any scalar (`10.0.0.1`, `2001` are names too).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NameKey(String);

impl<'de> Deserialize<'de> for NameKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NameKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a host or group name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NameKey, E> {
                Ok(NameKey(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NameKey, E> {
                Ok(NameKey(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NameKey, E> {
                Ok(NameKey(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NameKey, E> {
                Ok(NameKey(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<NameKey, E> {
                Ok(NameKey(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Load one YAML inventory text into the builder.
pub(crate) fn load_yaml(path: &Path, text: &str, b: &mut Builder) -> Result<(), LoadError> {
    let top: TopSpec = parse_yaml(
        path,
        text,
        "an inventory (a mapping of groups, usually starting with `all:`)",
    )
    .map_err(with_shape_hint)?;
    for (name, spec) in top.0 {
        add_group(path, text, b, &name.0, spec, None)?;
    }
    Ok(())
}

fn add_group(
    path: &Path,
    text: &str,
    b: &mut Builder,
    name: &str,
    spec: Option<GroupSpec>,
    parent: Option<usize>,
) -> Result<(), LoadError> {
    if name.trim().is_empty() {
        return Err(LoadError::file(path, "a group has an empty name"));
    }
    let g = b.group(name);
    if let Some(p) = parent {
        b.add_child(p, g, Origin::file(path));
    }
    let Some(spec) = spec else {
        return Ok(());
    };
    if let Some(mut vars) = spec.vars {
        let origin = Origin::file(path);
        crate::vault::locate_markers(vars.0.values_mut(), path, text);
        for (k, v) in vars.0 {
            b.set_group_var(g, k, v, &origin)?;
        }
    }
    let children = spec.children.unwrap_or_default();
    if spec.children_first {
        for (child, cspec) in children {
            add_group(path, text, b, &child.0, cspec, Some(g))?;
        }
        return add_hosts(path, text, b, name, g, spec.hosts.unwrap_or_default());
    }
    add_hosts(path, text, b, name, g, spec.hosts.unwrap_or_default())?;
    for (child, cspec) in children {
        add_group(path, text, b, &child.0, cspec, Some(g))?;
    }
    Ok(())
}

fn add_hosts(
    path: &Path,
    text: &str,
    b: &mut Builder,
    name: &str,
    g: usize,
    hosts: IndexMap<NameKey, VarsFromYaml>,
) -> Result<(), LoadError> {
    for (entry, mut vars) in hosts {
        crate::vault::locate_markers(vars.0.values_mut(), path, text);
        let parsed = parse_host_entry(&entry.0).map_err(|why| {
            let line = find_key_line(text, &entry.0).unwrap_or(1);
            LoadError::at(
                path,
                Some(text),
                line,
                1,
                format!("group `{name}`: host {why}"),
            )
        })?;
        for host in &parsed.names {
            let h = b.host(host, Some(g));
            if let Some(port) = parsed.port {
                b.set_host_var(h, "ansible_port".into(), Value::from(port));
            }
            for (k, v) in &vars.0 {
                b.set_host_var(h, k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

/// Add a hint for the common shape mistakes serde reports as "invalid type".
fn with_shape_hint(mut e: LoadError) -> LoadError {
    if e.hint.is_some() {
        return e;
    }
    let m = e.message.as_str();
    let hint = if let Some(i) = m.find(TOP_LEVEL_KEY) {
        let key = m[..i].trim().trim_matches(['`', ':']);
        Some(format!("put `{key}:` under a group, usually `all:`"))
    } else if (m.contains("hosts: invalid type") || m.contains("children: invalid type"))
        && (m.contains("sequence") || m.contains("string"))
    {
        let what = if m.contains("hosts:") {
            "hosts"
        } else {
            "child groups"
        };
        Some(format!(
            "{what} are a mapping, not a list: write each name on its own line ending with `:` \
             (`  r1:`), with its variables indented below it or nothing"
        ))
    } else if m.contains("vars: invalid type") {
        Some("vars are a mapping of names to values (`ntp_server: 10.0.0.1`), not a list".into())
    } else if m.starts_with("invalid type") {
        Some("a YAML inventory is a mapping of groups, usually starting with `all:`".into())
    } else {
        None
    };
    e.hint = hint;
    e
}

/// The first line where `key:` (maybe quoted) is a mapping key, for errors serde cannot
/// place (they are found after parsing).
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            let t = t.trim_start_matches(['"', '\'']);
            t.starts_with(key)
                && t[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(':')
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<crate::inventory::Inventory, LoadError> {
        let mut b = Builder::new();
        load_yaml(Path::new("inv.yml"), text, &mut b)?;
        b.finish(&[], &[], &[])
    }

    #[test]
    fn nested_groups_and_null_hosts() {
        let inv = load(
            "all:\n  vars: {site: lab}\n  children:\n    core:\n      hosts:\n        r1:\n        \
             r2: {ansible_host: 10.0.0.2}\n      children:\n        edge:\n          hosts:\n            \
             e1:\n    access:\n      hosts:\n        r1:\n        sw[1:2]:\n  hosts:\n    lone:\n",
        )
        .unwrap();
        let names: Vec<&str> = inv.hosts.keys().map(String::as_str).collect();
        assert_eq!(names, ["r1", "r2", "e1", "sw1", "sw2", "lone"]);
        assert_eq!(inv.hosts["r1"].groups, ["all", "access", "core"]);
        assert_eq!(inv.hosts["e1"].groups, ["all", "core", "edge"]);
        assert_eq!(inv.hosts["lone"].groups, ["all", "ungrouped"]);
        assert_eq!(inv.hosts["r2"].vars["ansible_host"], "10.0.0.2");
        assert_eq!(inv.hosts["sw2"].vars["site"], "lab");
        assert_eq!(inv.groups["core"].children, ["edge"]);
        assert_eq!(inv.groups["edge"].parents, ["core"]);
    }

    #[test]
    fn duplicate_host_vars_name_the_key_and_line() {
        // Used to keep the last `ansible_host` silently.
        let e = load(
            "all:\n  hosts:\n    r1:\n      ansible_host: 10.0.0.1\n      ansible_host: 10.0.0.9\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("duplicate key `ansible_host`"), "{e}");
    }

    #[test]
    fn host_typo_suggests_hosts() {
        let e = load("all:\n  children:\n    core:\n      host:\n        r1:\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(4), Some(7)), "{e}");
        assert!(e.message.contains("unknown key `host`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `hosts`?"));
    }

    #[test]
    fn hosts_as_a_list_is_explained() {
        let e = load("all:\n  children:\n    core:\n      hosts:\n        - r1\n        - r2\n")
            .unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("invalid type: sequence"), "{e}");
        assert!(e.hint.unwrap_or_default().contains("not a list"));
    }

    #[test]
    fn vars_as_a_list_is_explained() {
        let e = load("all:\n  vars:\n    - ntp\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(
            e.message
                .contains("expected a mapping of variable names to values"),
            "{e}"
        );
    }

    #[test]
    fn top_level_hosts_key_is_explained() {
        let e = load("hosts:\n  r1:\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.hint.unwrap_or_default().contains("all:"));
    }

    #[test]
    fn a_group_that_is_its_own_child_is_a_cycle() {
        let e = load("all:\n  children:\n    core:\n      children:\n        core:\n").unwrap_err();
        assert!(
            e.message.contains("`core` is listed as a child of itself"),
            "{e}"
        );
        let e = load(
            "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            \
             a:\n",
        )
        .unwrap_err();
        assert!(
            e.message.contains("group cycle: a -> b -> a") || e.message.contains("b -> a -> b"),
            "{e}"
        );
    }

    #[test]
    fn all_cannot_be_a_child() {
        let e = load("all:\n  children:\n    core:\n      children:\n        all:\n").unwrap_err();
        assert!(
            e.message
                .contains("group `all` is listed as a child of `core`"),
            "{e}"
        );
    }

    #[test]
    fn number_host_names_and_ports() {
        let inv = load("all:\n  hosts:\n    2001:\n    r1:2222:\n").unwrap();
        assert!(inv.hosts.contains_key("2001"));
        assert_eq!(inv.hosts["r1"].vars["ansible_port"], 2222);
    }
}
