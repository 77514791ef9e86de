//! Variables as written in YAML/JSON ([`VarsSpec`]) and the `host_vars/` and `group_vars/`
//! folders: a file `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json`, or a folder `NAME/` of such
//! files merged in sorted order (Ansible's host_group_vars rules).
//!
//! Folders are listed, not probed per host: a 10,000-host inventory with a few host_vars
//! files costs one directory read, and only files naming a known host or group are parsed.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::builder::Builder;
use super::Vars;
use crate::source::{is_blank_yaml, read_source, suggest, yaml_error, LoadError};

/// Extensions a vars file may have ("" = no extension), in Ansible's lookup order.
const VARS_EXTENSIONS: [&str; 4] = ["", "yml", "yaml", "json"];

/// A mapping of variables as written in YAML or JSON. YAML allows what JSON does not (keys
/// that are numbers, such as VLAN ids; `<<` merge keys; tags), so values are read as YAML
/// and converted: number keys become strings, merge keys are applied, tags are dropped
/// (except `!vault`, which netorch cannot decrypt and says so).
#[derive(Debug, Default, Clone)]
pub(crate) struct VarsSpec(pub Vars);

impl<'de> Deserialize<'de> for VarsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(VarsVisitor)
    }
}

struct VarsVisitor;

impl<'de> Visitor<'de> for VarsVisitor {
    type Value = VarsSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of variable names to values")
    }

    fn visit_unit<E: de::Error>(self) -> Result<VarsSpec, E> {
        Ok(VarsSpec::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<VarsSpec, E> {
        Ok(VarsSpec::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VarsSpec, A::Error> {
        let mut m = serde_yaml::Mapping::new();
        while let Some(k) = map.next_key::<serde_yaml::Value>()? {
            let v = map.next_value::<serde_yaml::Value>()?;
            m.insert(k, v);
        }
        let mut value = serde_yaml::Value::Mapping(m);
        // `<<` may sit at any depth; this is one cheap walk when there is none.
        value.apply_merge().map_err(de::Error::custom)?;
        match yaml_to_json(value).map_err(de::Error::custom)? {
            Value::Object(vars) => Ok(VarsSpec(vars)),
            _ => Ok(VarsSpec::default()),
        }
    }
}

/// Convert a YAML value to JSON, keeping what netorch needs and refusing what it cannot use.
pub(crate) fn yaml_to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map_or_else(|| Value::from(n.to_string()), Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Vars::with_capacity(m.len());
            for (k, v) in m {
                out.insert(key_text(&k)?, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            if t.tag == "vault" {
                return Err(
                    "an ansible-vault encrypted value (!vault) cannot be decrypted by \
                            netorch; keep the secret in an environment variable and write \
                            \"{{ env('NAME') }}\""
                        .to_string(),
                );
            }
            yaml_to_json(t.value)?
        }
    })
}

fn key_text(k: &serde_yaml::Value) -> Result<String, String> {
    use serde_yaml::Value as Y;
    match k {
        Y::String(s) => Ok(s.clone()),
        Y::Number(n) => Ok(n.to_string()),
        Y::Bool(b) => Ok(b.to_string()),
        Y::Null => Ok("null".to_string()),
        Y::Tagged(t) => key_text(&t.value),
        Y::Sequence(_) | Y::Mapping(_) => {
            Err("a variable name must be text, found a list or mapping used as a key".to_string())
        }
    }
}

/// Read one vars file (YAML or JSON). An empty file is no variables, as in Ansible.
pub(crate) fn load_vars_file(path: &Path) -> Result<Vars, LoadError> {
    let text = read_source(path)?;
    if text.trim_start().starts_with("$ANSIBLE_VAULT") {
        return Err(LoadError::file(
            path,
            "this file is encrypted with ansible-vault, which netorch cannot decrypt",
        )
        .with_hint("keep secrets in environment variables: `password: \"{{ env('NAME') }}\"`"));
    }
    if is_blank_yaml(&text) {
        return Ok(Vars::new());
    }
    serde_yaml::from_str::<VarsSpec>(&text)
        .map(|v| v.0)
        .map_err(|e| yaml_error(path, &text, &e))
}

/// The host_vars/ and group_vars/ of one folder, for the hosts and groups that exist.
#[derive(Debug, Default)]
pub(crate) struct VarsDir {
    pub hosts: HashMap<String, Vars>,
    pub groups: HashMap<String, Vars>,
    /// Files naming no host or group although one is close (a likely typo).
    pub warnings: Vec<String>,
}

impl VarsDir {
    /// Load `dir/host_vars` and `dir/group_vars` (either may be missing).
    pub fn load(dir: &Path, inv: &Builder) -> Result<VarsDir, LoadError> {
        let mut out = VarsDir::default();
        for (sub, is_host) in [("group_vars", false), ("host_vars", true)] {
            let folder = dir.join(sub);
            if !folder.is_dir() {
                continue;
            }
            for (name, files) in entity_files(&folder)? {
                let known = if is_host {
                    inv.has_host(&name)
                } else {
                    inv.has_group(&name)
                };
                if !known {
                    let close = if is_host {
                        suggest(&name, inv.host_names())
                    } else {
                        suggest(&name, inv.group_names())
                    };
                    if let Some(close) = close {
                        let what = if is_host { "host" } else { "group" };
                        out.warnings.push(format!(
                            "{}: no {what} named `{name}` in the inventory (did you mean \
                             `{close}`?); its variables are not used",
                            folder.join(&name).display()
                        ));
                    }
                    continue;
                }
                let mut vars = Vars::new();
                for f in files {
                    vars.extend(load_vars_file(&f)?);
                }
                if is_host {
                    out.hosts.insert(name, vars);
                } else {
                    out.groups.insert(name, vars);
                }
            }
        }
        Ok(out)
    }
}

/// The entity names in a host_vars/ or group_vars/ folder and their files, in merge order:
/// `NAME` (a file, or a folder's files sorted), then `NAME.yml`, `NAME.yaml`, `NAME.json`.
fn entity_files(folder: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, LoadError> {
    let mut by_name: HashMap<String, Vec<(usize, PathBuf)>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (file_name, path) in sorted_entries(folder)? {
        if path.is_dir() {
            let mut files = Vec::new();
            collect_dir_files(&path, &mut files)?;
            push_entity(&mut by_name, &mut order, file_name, 0, files);
            continue;
        }
        let (name, rank) = match file_name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => {
                match VARS_EXTENSIONS.iter().position(|e| *e == ext) {
                    Some(r) => (stem.to_string(), r),
                    // `r1.example.com` is a host name, not a file with extension `com`.
                    None => (file_name.clone(), 0),
                }
            }
            _ => (file_name.clone(), 0),
        };
        if is_junk(&file_name) {
            continue;
        }
        push_entity(&mut by_name, &mut order, name, rank, vec![path]);
    }
    Ok(order
        .into_iter()
        .filter_map(|name| {
            let mut files = by_name.remove(&name)?;
            files.sort_by_key(|(rank, _)| *rank);
            Some((name, files.into_iter().map(|(_, p)| p).collect()))
        })
        .collect())
}

fn push_entity(
    by_name: &mut HashMap<String, Vec<(usize, PathBuf)>>,
    order: &mut Vec<String>,
    name: String,
    rank: usize,
    files: Vec<PathBuf>,
) {
    let slot = by_name.entry(name.clone()).or_insert_with(|| {
        order.push(name);
        Vec::new()
    });
    slot.extend(files.into_iter().map(|f| (rank, f)));
}

/// Editor backups and notes that sit beside vars files and are never vars.
fn is_junk(file_name: &str) -> bool {
    file_name.ends_with('~')
        || [".swp", ".bak", ".orig", ".retry", ".md", ".txt", ".rst"]
            .iter()
            .any(|e| file_name.ends_with(e))
}

/// Every vars file under a `NAME/` folder, recursively, sorted; hidden entries skipped.
fn collect_dir_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    for (file_name, path) in sorted_entries(dir)? {
        if path.is_dir() {
            collect_dir_files(&path, out)?;
            continue;
        }
        let ext = file_name.rsplit_once('.').map_or("", |(_, e)| e);
        let wanted = !file_name.contains('.') || VARS_EXTENSIONS[1..].contains(&ext);
        if wanted && !is_junk(&file_name) {
            out.push(path);
        }
    }
    Ok(())
}

/// A folder's entries sorted by name, hidden ones (`.git`, `.gitkeep`) left out.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| LoadError::file(dir, format!("cannot read folder: {e}")))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| LoadError::file(dir, format!("cannot read folder: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vars, String> {
        serde_yaml::from_str::<VarsSpec>(text)
            .map(|v| v.0)
            .map_err(|e| yaml_error(Path::new("v.yml"), text, &e).to_string())
    }

    #[test]
    fn number_keys_become_text() {
        let v = parse("vlans:\n  10: {name: users}\n  20: {name: voice}\n").unwrap();
        assert_eq!(v["vlans"]["10"]["name"], "users");
        assert_eq!(v["vlans"]["20"]["name"], "voice");
    }

    #[test]
    fn merge_keys_are_applied() {
        let v = parse("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n").unwrap();
        assert_eq!(v["x"]["a"], 1);
        assert_eq!(v["x"]["b"], 3);
    }

    #[test]
    fn vault_values_are_refused_clearly() {
        let e = parse("pw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3131\n").unwrap_err();
        assert!(e.contains("ansible-vault"), "{e}");
    }

    #[test]
    fn a_list_is_not_vars() {
        let e = parse("- a\n- b\n").unwrap_err();
        assert!(
            e.contains("expected a mapping of variable names to values"),
            "{e}"
        );
        assert!(e.starts_with("v.yml:1:1"), "{e}");
    }

    #[test]
    fn null_is_empty() {
        assert!(parse("~\n").unwrap().is_empty());
    }
}
