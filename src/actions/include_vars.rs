//! `include_vars: FILE` (or `{file: FILE, name: KEY}`): variables read from a YAML or JSON
//! file at run time, as Ansible's `include_vars` does; the file may be encrypted with
//! ansible-vault (its values are then secrets). The file is looked up beside the playbook,
//! then in its `vars/` folder. Only one named file: Ansible's `dir` forms are refused.

use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::{ActionArgs, Env, Probe};
use crate::report::TaskResult;
use crate::value::Vars;

#[derive(Debug, Clone, PartialEq)]
pub struct IncludeVarsArgs {
    pub file: String,
    /// Put the variables under this one name instead of at the top.
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(alias = "_raw_params")]
    file: String,
    #[serde(default)]
    name: Option<String>,
}

impl ActionArgs for IncludeVarsArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        vec![Probe::VarsFile {
            what: "include_vars".into(),
            name: &self.file,
        }]
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let spec = match v {
            serde_json::Value::String(file) => Spec { file, name: None },
            serde_json::Value::Object(ref m) => {
                if let Some(k) = m.keys().find(|k| {
                    matches!(
                        k.as_str(),
                        "dir" | "files_matching" | "ignore_files" | "depth" | "extensions"
                    )
                }) {
                    return Err(de::Error::custom(format!(
                        "include_vars: `{k}` (a folder of vars files) is not supported; name \
                         one file: `include_vars: {{file: vars/site.yml}}`"
                    )));
                }
                Spec::deserialize(v).map_err(|e| de::Error::custom(format!("include_vars: {e}")))?
            }
            _ => {
                return Err(de::Error::custom(
                    "include_vars: expected a file name or {file: FILE, name: KEY}",
                ))
            }
        };
        if spec.file.trim().is_empty() {
            return Err(de::Error::custom("include_vars: the file name is empty"));
        }
        Ok(IncludeVarsArgs {
            file: spec.file,
            name: spec.name,
        })
    }

    fn summary(&self) -> String {
        self.file.clone()
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let name =
            match env
                .ctx
                .templates
                .render_line(&self.file, env.ctx.vars, "include_vars file")
            {
                Ok(n) => n,
                Err(e) => return TaskResult::failed(e.to_string()),
            };
        let Some(path) = find(&name, env.playbook_dir) else {
            return TaskResult::failed(not_found(&name, env.playbook_dir));
        };
        let vars = match crate::inventory::load_vars_file(&path) {
            Ok(v) => v,
            Err(e) => return TaskResult::failed(e.to_string()),
        };
        let facts = match &self.name {
            Some(key) => {
                let mut m = Vars::new();
                m.insert(key.clone(), serde_json::Value::Object(vars));
                m
            }
            None => vars,
        };
        let mut r = TaskResult::ok();
        r.data = serde_json::json!({
            "facts": facts,
            "ansible_included_var_files": [path.display().to_string()],
        });
        r
    }
}

/// The file Ansible would read: the name as given (absolute, or relative to the playbook's
/// folder), else in the playbook's `vars/` folder.
pub fn find(name: &str, playbook_dir: &Path) -> Option<PathBuf> {
    let given = Path::new(name);
    if given.is_absolute() {
        return given.is_file().then(|| given.to_path_buf());
    }
    [
        playbook_dir.join(given),
        playbook_dir.join("vars").join(given),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// The error for a file [`find`] did not find, naming the folders it looked in.
pub fn not_found(name: &str, playbook_dir: &Path) -> String {
    // A playbook named without a folder has "" as its folder: say which one that is.
    let here = if playbook_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        playbook_dir
    };
    let dir = std::path::absolute(here).unwrap_or_else(|_| here.to_path_buf());
    format!(
        "include_vars: `{name}` not found beside the playbook ({}) or in its vars/ folder",
        dir.display()
    )
}

/// The names a static `include_vars` file gives, for the check before the run (a file it
/// cannot find or read now is reported when the task runs).
pub fn names(args: &IncludeVarsArgs, playbook_dir: &Path) -> Vec<String> {
    if let Some(key) = &args.name {
        return vec![key.clone()];
    }
    if args.file.contains("{{") {
        return Vec::new();
    }
    find(&args.file, playbook_dir)
        .and_then(|p| crate::inventory::load_vars_file(&p).ok())
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<IncludeVarsArgs, String> {
        let d = serde_yaml::Deserializer::from_str(yaml);
        IncludeVarsArgs::parse(d).map_err(|e| e.to_string())
    }

    #[test]
    fn forms_and_refusals() {
        assert_eq!(parse("vars/a.yml").unwrap().file, "vars/a.yml");
        let a = parse("{file: a.yml, name: site}").unwrap();
        assert_eq!(
            (a.file.as_str(), a.name.as_deref()),
            ("a.yml", Some("site"))
        );
        assert!(parse("{dir: vars}").unwrap_err().contains("not supported"));
        assert!(parse("{file: a.yml, bogus: 1}")
            .unwrap_err()
            .contains("bogus"));
        assert!(parse("[a]").unwrap_err().contains("expected a file name"));
        assert!(parse("''").unwrap_err().contains("empty"));
    }

    #[test]
    fn found_beside_the_playbook_then_in_vars() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("vars")).unwrap();
        std::fs::write(dir.path().join("vars/x.yml"), "a: 1\nb: 2\n").unwrap();
        assert_eq!(
            find("x.yml", dir.path()),
            Some(dir.path().join("vars/x.yml"))
        );
        std::fs::write(dir.path().join("x.yml"), "c: 3\n").unwrap();
        assert_eq!(find("x.yml", dir.path()), Some(dir.path().join("x.yml")));
        assert_eq!(find("none.yml", dir.path()), None);
        let args = IncludeVarsArgs {
            file: "vars/x.yml".into(),
            name: None,
        };
        assert_eq!(names(&args, dir.path()), ["a", "b"]);
    }
}
