//! Structured output from `show` commands: TextFSM templates (ntc-templates and the user's
//! own), JSON answers, and regexes with named groups.
//!
//! - [`textfsm`]: the template language and state machine, faithful to Python's `textfsm`.
//! - [`clitable`]: the `index` that maps (platform, command) to templates.
//! - [`pyre`]: Python regex syntax on Rust's engines.
//!
//! Records come out as ntc-templates' Python wrapper gives them: a list of objects with
//! lower-case keys, each value a string or a list. Compiled templates and indexes are
//! cached per file for the life of the process, so a run over 1,000 hosts compiles each
//! template once.

pub mod clitable;
pub mod pyre;
#[cfg(test)]
mod tests;
pub mod textfsm;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use clitable::{Index, Table};
use textfsm::{Field, Item, Opt, Template};

/// Why a parse gave no records.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("TextFSM template {}: {message}", path.display())]
    Template { path: PathBuf, message: String },
    #[error("TextFSM index {}: {message}", path.display())]
    Index { path: PathBuf, message: String },
    #[error("no TextFSM template for `{command}` on platform {platform} (searched the index in {searched}); add one to a parsers/ folder beside the playbook, or give `parse: {{textfsm: path/to/template}}`")]
    NoTemplate {
        platform: String,
        command: String,
        searched: String,
    },
    #[error("no TextFSM template library found: set `textfsm_dir` (a host or play variable), NETORCH_TEXTFSM or NET_TEXTFSM to the ntc-templates `templates` folder, install the ntc_templates Python package, or put templates and an index in a parsers/ folder beside the playbook")]
    NoLibrary,
    #[error("TextFSM template {}: {message}", template.display())]
    Run { template: PathBuf, message: String },
    #[error("TextFSM template {} found no records in the output, although it requires {}: the output is not what the template expects (set `parse_errors: ignore` to accept an empty result)", template.display(), required.join(", "))]
    NothingRequired {
        template: PathBuf,
        required: Vec<String>,
    },
    #[error("the output is not JSON ({message}); the output starts: {start:?}")]
    Json { message: String, start: String },
    #[error("regex `{pattern}`: {message}")]
    Regex { pattern: String, message: String },
    #[error("regex `{pattern}` matched nothing in the output")]
    NoMatch { pattern: String },
}

/// Where templates are looked up, first match wins: the playbook's `parsers/` folder (its
/// own `index`, or files that replace the library's by name), then the library.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub user: Option<PathBuf>,
    pub library: Option<PathBuf>,
}

impl Library {
    /// `textfsm_dir` given by the user wins; then `NETORCH_TEXTFSM`, `NET_TEXTFSM` (Netmiko),
    /// `NTC_TEMPLATES_DIR` (ntc-templates); then an installed `ntc_templates` package.
    pub fn discover(user: Option<PathBuf>, textfsm_dir: Option<PathBuf>) -> Library {
        let library = textfsm_dir
            .or_else(|| {
                ["NETORCH_TEXTFSM", "NET_TEXTFSM", "NTC_TEMPLATES_DIR"]
                    .iter()
                    .filter_map(std::env::var_os)
                    .find(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(installed_ntc_templates)
            .map(|dir| {
                // Netmiko accepts the ntc-templates checkout itself (its `templates` folder
                // holds the index); so does netorch.
                if dir.join("index").is_file() {
                    return dir;
                }
                ["templates", "ntc_templates/templates"]
                    .iter()
                    .map(|sub| dir.join(sub))
                    .find(|d| d.join("index").is_file())
                    .unwrap_or(dir)
            });
        Library {
            user: user.filter(|u| u.is_dir()),
            library,
        }
    }

    /// Whether parses can find templates at all: a library with its `index`, or a user
    /// folder (`netorch check` asks before any device is touched; every parse asks too).
    pub fn check(&self) -> Result<(), ParseError> {
        match &self.library {
            Some(lib) if !lib.join("index").is_file() => Err(ParseError::Index {
                path: lib.join("index"),
                message: "not found: the folder should be ntc-templates' `templates` folder, with its `index` file".into(),
            }),
            None if self.user.is_none() => Err(ParseError::NoLibrary),
            _ => Ok(()),
        }
    }

    fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.user.iter().chain(self.library.iter())
    }

    /// Parses `text`, the output of `command` on `platform` (ntc-templates' platform name).
    pub fn parse_command(
        &self,
        platform: &str,
        command: &str,
        text: &str,
    ) -> Result<Records, ParseError> {
        self.check()?;
        let attrs = [("Platform", platform), ("Command", command.trim())];
        for dir in self.dirs() {
            let index_path = dir.join("index");
            if !index_path.is_file() {
                continue;
            }
            let index = load_index(&index_path)?;
            let found = index.find(&attrs).map_err(|message| ParseError::Index {
                path: index_path.clone(),
                message,
            })?;
            if let Some((names, _line)) = found {
                let paths: Vec<PathBuf> = names.iter().map(|n| self.resolve(dir, n)).collect();
                return parse_templates(&paths, text);
            }
        }
        Err(ParseError::NoTemplate {
            platform: platform.to_string(),
            command: command.trim().to_string(),
            searched: self
                .dirs()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// A template named in `dir`'s index: the user's copy of the same name wins.
    fn resolve(&self, dir: &Path, name: &str) -> PathBuf {
        if let Some(user) = &self.user {
            let mine = user.join(name);
            if mine.is_file() {
                return mine;
            }
        }
        dir.join(name)
    }
}

/// Looks for an installed `ntc_templates` Python package without running Python: the
/// usual site-packages folders of virtualenvs, the user, pyenv and the system. Looked up
/// once per process: every host's parse asks.
pub fn installed_ntc_templates() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND.get_or_init(find_installed_ntc_templates).clone()
}

fn find_installed_ntc_templates() -> Option<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut patterns = Vec::new();
    if let Ok(venv) = std::env::var("VIRTUAL_ENV") {
        patterns.push(format!("{venv}/lib/python3*/site-packages"));
    }
    if !home.is_empty() {
        patterns.push(format!("{home}/.local/lib/python3*/site-packages"));
        patterns.push(format!(
            "{home}/.pyenv/versions/*/lib/python3*/site-packages"
        ));
    }
    patterns.extend([
        "/usr/local/lib/python3*/site-packages".to_string(),
        "/usr/local/lib/python3*/dist-packages".to_string(),
        "/usr/lib/python3/dist-packages".to_string(),
        "/usr/lib/python3*/site-packages".to_string(),
    ]);
    for p in patterns {
        let Ok(paths) = glob::glob(&format!("{p}/ntc_templates/templates/index")) else {
            continue;
        };
        if let Some(index) = paths.flatten().next() {
            return index.parent().map(Path::to_path_buf);
        }
    }
    None
}

/// Per file: the compiled value, behind its own lock so that hosts asking for the same
/// template at once wait for one compile instead of each doing it.
type Slot<T> = Arc<Mutex<Option<Arc<T>>>>;
type Cache<T> = OnceLock<Mutex<HashMap<PathBuf, Slot<T>>>>;
static TEMPLATES: Cache<Template> = OnceLock::new();
static INDEXES: Cache<Index> = OnceLock::new();

fn cached<T, E>(
    cache: &'static Cache<T>,
    path: &Path,
    load: impl FnOnce() -> Result<T, E>,
) -> Result<Arc<T>, E> {
    let slot = cache
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(path.to_path_buf())
        .or_default()
        .clone();
    let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = &*guard {
        return Ok(t.clone());
    }
    // A failure is not kept: the next host tries again (and reports the same error).
    let t = Arc::new(load()?);
    *guard = Some(t.clone());
    Ok(t)
}

fn read(path: &Path) -> Result<String, ParseError> {
    std::fs::read_to_string(path).map_err(|source| ParseError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn load_index(path: &Path) -> Result<Arc<Index>, ParseError> {
    cached(&INDEXES, path, || {
        Index::parse(&read(path)?).map_err(|message| ParseError::Index {
            path: path.to_path_buf(),
            message,
        })
    })
}

/// Reads and compiles a template (once per process).
pub fn load_template(path: &Path) -> Result<Arc<Template>, ParseError> {
    cached(&TEMPLATES, path, || {
        let text = std::fs::read_to_string(path).map_err(|e| ParseError::Template {
            path: path.to_path_buf(),
            message: format!("cannot be read: {e}"),
        })?;
        Template::parse(&text).map_err(|e| ParseError::Template {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    })
}

/// Parses `text` with the given templates (several are merged as the index merges a row's).
pub fn parse_templates(paths: &[PathBuf], text: &str) -> Result<Records, ParseError> {
    let templates = paths
        .iter()
        .map(|p| load_template(p))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&Template> = templates.iter().map(|t| t.as_ref()).collect();
    let mut n = 0;
    let table = clitable::parse_merged(&refs, text, |t, text| {
        let path = paths[n].clone();
        n += 1;
        t.parse_text(text).map_err(|e| ParseError::Run {
            template: path,
            message: e.message,
        })
    })?;
    let required: Vec<String> = templates
        .iter()
        .flat_map(|t| t.values.iter())
        .filter(|v| v.has(Opt::Required))
        .map(|v| v.name.clone())
        .collect();
    Ok(Records {
        table,
        templates: paths.to_vec(),
        required,
    })
}

/// The records of one TextFSM parse.
#[derive(Debug, Clone)]
pub struct Records {
    pub table: Table,
    pub templates: Vec<PathBuf>,
    /// The templates' Required values: none of them in an empty result means the output
    /// was not what the template reads.
    pub required: Vec<String>,
}

impl Records {
    /// Empty although the template requires values: an error unless the user accepts it.
    pub fn check_required(&self) -> Result<(), ParseError> {
        if self.table.rows.is_empty() && !self.required.is_empty() {
            return Err(ParseError::NothingRequired {
                template: self.templates.first().cloned().unwrap_or_default(),
                required: self.required.clone(),
            });
        }
        Ok(())
    }

    /// A list of objects with lower-case keys (ntc-templates' `parse_output`): the
    /// `Serialize` below, as a value for playbooks.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Records as JSON, written straight out by `netorch parse` (no `Value` tree in between).
impl serde::Serialize for Records {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Row<'a>(&'a [String], &'a [Field]);
        impl serde::Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                let mut m = ser.serialize_map(Some(self.0.len()))?;
                for (k, f) in self.0.iter().zip(self.1) {
                    match f {
                        Field::Str(s) => m.serialize_entry(k, s)?,
                        Field::List(_) => m.serialize_entry(k, &field_json(f))?,
                    }
                }
                m.end()
            }
        }
        let keys: Vec<String> = self.table.header.iter().map(|h| h.to_lowercase()).collect();
        let mut seq = ser.serialize_seq(Some(self.table.rows.len()))?;
        for row in &self.table.rows {
            seq.serialize_element(&Row(&keys, row))?;
        }
        seq.end()
    }
}

fn opt_json(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn field_json(f: &Field) -> Value {
    match f {
        Field::Str(s) => Value::String(s.clone()),
        Field::List(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Item::Null => Value::Null,
                    Item::Str(s) => Value::String(s.clone()),
                    Item::Map(m) => {
                        Value::Object(m.iter().map(|(k, v)| (k.clone(), opt_json(v))).collect())
                    }
                })
                .collect(),
        ),
    }
}

/// A device's JSON answer (EOS and NX-OS `| json`, Junos `| display json`).
pub fn parse_json(text: &str) -> Result<Value, ParseError> {
    // Devices may print a blank line or the echo of the pipe before the document.
    let start = text.find(['{', '[']).unwrap_or(0);
    serde_json::from_str(text[start..].trim_end()).map_err(|e| ParseError::Json {
        message: e.to_string(),
        start: text.chars().take(80).collect(),
    })
}

/// A `parse: {regex: ...}` pattern, compiled as a parse uses it: Python syntax, multi-line,
/// at least one named group (the records' keys). Playbooks are checked with it at load.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, ParseError> {
    let bad = |message: String| ParseError::Regex {
        pattern: pattern.to_string(),
        message,
    };
    let translated = pyre::translate(pattern).map_err(bad)?;
    let re = regex::RegexBuilder::new(&translated)
        .multi_line(true)
        .build()
        .map_err(|e| {
            bad(e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string())
        })?;
    if !re.capture_names().any(|n| n.is_some()) {
        return Err(bad(
            "has no named groups: write (?P<name>...) for each field".into(),
        ));
    }
    Ok(re)
}

/// `parse: {regex: ...}`: one record per match of the pattern (Python syntax, searched
/// anywhere in a line, `^` and `$` at line ends), keyed by its named groups.
pub fn parse_regex(pattern: &str, text: &str) -> Result<Value, ParseError> {
    let re = compile_regex(pattern)?;
    let names: Vec<(usize, &str)> = re
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (i, n)))
        .collect();
    let text = text.replace("\r\n", "\n");
    let records: Vec<Value> = re
        .captures_iter(&text)
        .map(|c| {
            Value::Object(
                names
                    .iter()
                    .map(|(i, n)| {
                        (
                            n.to_string(),
                            c.get(*i)
                                .map_or(Value::Null, |m| Value::String(m.as_str().to_string())),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    if records.is_empty() {
        return Err(ParseError::NoMatch {
            pattern: pattern.to_string(),
        });
    }
    Ok(Value::Array(records))
}
