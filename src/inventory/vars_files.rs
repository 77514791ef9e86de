//! Variables as written in YAML/JSON ([`VarsSpec`]) and the `host_vars/` and `group_vars/`
//! folders: a file `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json`, or a folder `NAME/` of such
//! files merged in sorted order (Ansible's host_group_vars rules).
//!
//! Folders are listed, not probed per host: a 10,000-host inventory with a few host_vars
//! files costs one directory read, and only files naming a known host or group are parsed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::builder::Builder;
use crate::source::{is_blank_yaml, suggest, yaml_error, LoadError};
use crate::value::Vars;
use crate::value::VarsFromYaml;

/// Unknown host_vars names checked for a close host name, per folder.
const MAX_HOST_SUGGESTIONS: usize = 50;

/// Extensions a vars file may have ("" = no extension), in Ansible's lookup order.
const VARS_EXTENSIONS: [&str; 4] = ["", "yml", "yaml", "json"];

/// Read one vars file (YAML or JSON). An empty file is no variables, as in Ansible. A file
/// encrypted with ansible-vault is decrypted (a password is needed now), and its values are
/// secrets.
pub fn load_vars_file(path: &Path) -> Result<Vars, LoadError> {
    let (text, vaulted) = crate::vault::read_source(path)?;
    if is_blank_yaml(&text) {
        return Ok(Vars::new());
    }
    crate::source::check_nesting(path, &text)?;
    let mut vars = serde_yaml::from_str::<VarsFromYaml>(&text)
        .map(|v| v.0)
        // A decrypted file's lines are secrets: never quoted in an error.
        .map_err(|e| {
            if vaulted {
                let at = e.location().map(|l| format!(" at line {}", l.line()));
                LoadError::file(
                    path,
                    format!(
                        "the decrypted file is not valid YAML{}",
                        at.unwrap_or_default()
                    ),
                )
            } else {
                yaml_error(path, &text, &e)
            }
        })?;
    if vaulted {
        vars.values().for_each(crate::vault::note_secrets_in);
    } else {
        crate::vault::locate_markers(vars.values_mut(), path, &text);
    }
    Ok(vars)
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
        let mut unknown_hosts = 0usize;
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
                    // Host names can be many (10,000s) and stale host_vars files common, so
                    // hosts get a cheap one-edit check, for a bounded number of files.
                    let close = if is_host {
                        unknown_hosts += 1;
                        (unknown_hosts <= MAX_HOST_SUGGESTIONS)
                            .then(|| inv.host_names().find(|h| one_edit_apart(&name, h)))
                            .flatten()
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

/// True when `a` becomes `b` by one insertion, deletion, substitution or swap of two
/// neighbours (a likely typo). Linear, no allocation.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (ra.len() - suffix, rb.len() - suffix);
    match (ma, mb) {
        (1, 1) | (0, 1) | (1, 0) => true,
        (2, 2) => ra[0] == rb[1] && ra[1] == rb[0],
        _ => false,
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
        serde_yaml::from_str::<VarsFromYaml>(text)
            .map(|v| v.0)
            .map_err(|e| yaml_error(Path::new("v.yml"), text, &e).to_string())
    }

    #[test]
    fn duplicate_keys_name_the_key_file_and_line() {
        // Before value::yaml, the last `ntp` silently won.
        let e = parse(
            "ntp: 10.0.0.1
snmp: public
ntp: 10.0.0.2
",
        )
        .unwrap_err();
        assert!(e.starts_with("v.yml:3:1"), "{e}");
        assert!(e.contains("duplicate key `ntp`"), "{e}");
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
    fn one_edit() {
        for (a, b, want) in [
            ("r1", "r2", true),
            ("core-ams-1", "core-ams1", true),
            ("core-ams-1", "core-asm-1", true),
            ("core", "cores", true),
            ("core", "core", false),
            ("core-ams-1", "core-rtm-1", false),
            ("ab", "ba", true),
            ("abc", "cba", false),
        ] {
            assert_eq!(one_edit_apart(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn null_is_empty() {
        assert!(parse("~\n").unwrap().is_empty());
    }
}
