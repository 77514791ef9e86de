//! Reading inventory sources: what kind each one is (YAML, INI, a folder, a script), and
//! which host_vars/ and group_vars/ folders come with them.
//!
//! Detection: `.yml`/`.yaml` are YAML, or a NetBox source when the top-level `plugin:` is
//! `netbox.netbox.nb_inventory`; `.json` is YAML of the same shape, or a saved
//! dynamic-inventory output (`_meta`, or groups given as lists of hosts); an executable file
//! starting with `#!` (or an ELF binary) is a script; anything else is INI, unless its first
//! line is a YAML mapping key (`all:`) or `---`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::builder::Builder;
use super::vars_files::{sorted_entries, VarsDir};
use super::{ini, netbox, script, yaml, Inventory};
use crate::source::LoadError;
use crate::Error;

/// How long a dynamic inventory script may run.
pub const DYNAMIC_INVENTORY_TIMEOUT_SECS: u64 = 60;

/// File endings a folder inventory skips (Ansible's INVENTORY_IGNORE_EXTS, except `.ini`:
/// netorch reads `hosts.ini` in a folder, as people expect).
const IGNORED_ENDINGS: [&str; 15] = [
    "~", ".orig", ".cfg", ".retry", ".pyc", ".pyo", ".swp", ".bak", ".rpm", ".md", ".txt", ".rst",
    ".j2", ".sample", ".example",
];

/// How to load an inventory.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Folders of the playbooks: their host_vars/ and group_vars/ win over the inventory's.
    pub playbook_dirs: Vec<PathBuf>,
    /// Time limit for each run of a dynamic inventory script.
    pub script_timeout: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            playbook_dirs: Vec::new(),
            script_timeout: Duration::from_secs(DYNAMIC_INVENTORY_TIMEOUT_SECS),
        }
    }
}

impl Inventory {
    /// Load and merge inventory sources, in order (later sources win for the same var).
    pub fn load(sources: &[PathBuf]) -> Result<Inventory, Error> {
        Self::load_opts(sources, &LoadOptions::default())
    }

    /// Like [`Inventory::load`], also reading host_vars/ and group_vars/ beside the
    /// playbooks (`playbook_dirs`).
    pub fn load_with(sources: &[PathBuf], playbook_dirs: &[PathBuf]) -> Result<Inventory, Error> {
        Self::load_opts(
            sources,
            &LoadOptions {
                playbook_dirs: playbook_dirs.to_vec(),
                ..LoadOptions::default()
            },
        )
    }

    pub fn load_opts(sources: &[PathBuf], opts: &LoadOptions) -> Result<Inventory, Error> {
        if sources.is_empty() {
            return Err(Error::Usage("no inventory given (use -i PATH)".into()));
        }
        let mut b = Builder::new();
        let mut inv_dirs: Vec<PathBuf> = Vec::new();
        for src in sources {
            let meta = std::fs::metadata(src).map_err(|e| {
                LoadError::file(
                    src,
                    match e.kind() {
                        std::io::ErrorKind::NotFound => "inventory not found".to_string(),
                        _ => format!("cannot read inventory: {e}"),
                    },
                )
            })?;
            if meta.is_dir() {
                load_dir(src, &mut b, opts)?;
                inv_dirs.push(src.clone());
            } else {
                load_file(src, &mut b, opts)?;
                inv_dirs.push(parent_dir(src));
            }
        }

        // Each distinct folder is read once, even when it is both beside the inventory and
        // beside the playbook (it then counts in both places, as in Ansible).
        let mut loaded: Vec<(PathBuf, VarsDir)> = Vec::new();
        let mut index_of = |dir: &Path, b: &Builder| -> Result<usize, LoadError> {
            let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
            if let Some(i) = loaded.iter().position(|(k, _)| *k == key) {
                return Ok(i);
            }
            loaded.push((key, VarsDir::load(dir, b)?));
            Ok(loaded.len() - 1)
        };
        let mut inv_idx = Vec::new();
        for d in &inv_dirs {
            inv_idx.push(index_of(d, &b)?);
        }
        let mut play_idx = Vec::new();
        for d in &opts.playbook_dirs {
            play_idx.push(index_of(d, &b)?);
        }
        let dirs: Vec<VarsDir> = loaded.into_iter().map(|(_, d)| d).collect();
        Ok(b.finish(&dirs, &inv_idx, &play_idx)?)
    }
}

fn parent_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A folder: every inventory file in it, sorted, recursively; host_vars/, group_vars/,
/// hidden entries and non-inventory files (README.md, *.retry, backups) are skipped.
fn load_dir(dir: &Path, b: &mut Builder, opts: &LoadOptions) -> Result<(), LoadError> {
    for (name, path) in sorted_entries(dir)? {
        if path.is_dir() {
            if name != "host_vars" && name != "group_vars" {
                load_dir(&path, b, opts)?;
            }
            continue;
        }
        let upper = name.to_ascii_uppercase();
        if IGNORED_ENDINGS.iter().any(|e| name.ends_with(e))
            || upper.starts_with("README")
            || upper.starts_with("LICENSE")
        {
            continue;
        }
        load_file(&path, b, opts)?;
    }
    Ok(())
}

fn load_file(path: &Path, b: &mut Builder, opts: &LoadOptions) -> Result<(), LoadError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "yml" | "yaml" => {
            let (text, _) = crate::vault::read_source(path)?;
            if netbox::is_netbox_source(&text) {
                netbox::load(path, &text, b)
            } else {
                yaml::load_yaml(path, &text, b)
            }
        }
        "json" => {
            let (text, _) = crate::vault::read_source(path)?;
            match serde_json::from_str::<Value>(&text) {
                Ok(v) if is_script_shape(&v) => script::load_json(path, v, b, None),
                _ => yaml::load_yaml(path, &text, b),
            }
        }
        _ if is_script(path) => script::load_script(path, b, opts.script_timeout),
        _ => {
            let (text, _) = crate::vault::read_source(path)?;
            if looks_like_yaml(&text) {
                yaml::load_yaml(path, &text, b)
            } else {
                ini::load_ini(path, &text, b)
            }
        }
    }
}

/// Executable and a script or binary (an executable text file without `#!` is most likely a
/// static inventory on a filesystem that marks everything executable).
fn is_script(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.permissions().mode() & 0o111 == 0 {
        return false;
    }
    let mut head = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head[..n].starts_with(b"#!") || head[..n].starts_with(b"\x7fELF")
}

/// A saved `--list` output rather than a YAML-shaped inventory in JSON.
fn is_script_shape(v: &Value) -> bool {
    let Value::Object(top) = v else {
        return false;
    };
    top.contains_key("_meta")
        || top.values().any(|g| {
            g.is_array()
                || g.get("hosts").is_some_and(Value::is_array)
                || g.get("children").is_some_and(Value::is_array)
        })
}

/// The first content line is `---`, `{`, or a bare mapping key (`all:`): YAML, not INI.
fn looks_like_yaml(text: &str) -> bool {
    let Some(first) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
    else {
        return false;
    };
    if first == "---" || first.starts_with('{') {
        return true;
    }
    match first.strip_suffix(':') {
        Some(key) => !key.is_empty() && !key.contains([' ', '\t', '=', '[', ']', ':']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_detection() {
        assert!(looks_like_yaml("# c\nall:\n  hosts:\n"));
        assert!(looks_like_yaml("---\nall:\n"));
        assert!(!looks_like_yaml("[core]\nr1\n"));
        assert!(!looks_like_yaml("r1 ansible_host=1.2.3.4\n"));
        assert!(!looks_like_yaml("r1:22\n"));
    }
}
