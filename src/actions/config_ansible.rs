//! The arguments of Ansible's `*_config` modules that go beyond pushing lines: `backup` with
//! `backup_options` (a file per host, where Ansible writes it), `save_when`, `match` and
//! `replace`, and `diff_against` startup or intended.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::config_lines::Path as ConfigPath;
use super::device_failure;
use crate::device::Connection;
use crate::playbook::values;
use crate::report::TaskResult;

/// `backup: yes` with `backup_options`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupOptions {
    /// The file name (templated); default `<inventory_hostname>_config.<date>@<time>`.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub filename: Option<String>,
    /// The folder (templated; relative to the playbook's folder); default `backup/` there.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub dir_path: Option<String>,
}

/// How the wanted lines are compared with the running config (Ansible's `match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// A line is present when it is anywhere under the same parents.
    #[default]
    Line,
    /// A line is present only at the same position under its parents.
    Strict,
    /// The block under the parents must be exactly the lines, in order.
    Exact,
    /// Every line is sent, whatever the device has.
    None,
}

/// What is sent when something differs (Ansible's `replace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplaceMode {
    /// Only the lines that differ.
    #[default]
    Line,
    /// The whole block.
    Block,
}

/// The lines to send under `match`/`replace`, from the candidate paths, the `match: line`
/// answer (`pending`) and the running config's paths.
pub fn select(
    candidates: &[ConfigPath],
    pending: Vec<ConfigPath>,
    running: &[ConfigPath],
    mode: MatchMode,
    replace: ReplaceMode,
) -> Vec<ConfigPath> {
    let differing = match mode {
        MatchMode::Line => pending,
        MatchMode::None => candidates.to_vec(),
        MatchMode::Strict | MatchMode::Exact => {
            // Children of each parent path, in the device's order.
            let children_of = |parent: &[String]| -> Vec<&String> {
                running
                    .iter()
                    .filter(|p| p.len() == parent.len() + 1 && p[..parent.len()] == *parent)
                    .filter_map(|p| p.last())
                    .collect()
            };
            let mut out = Vec::new();
            let mut seen_parents: Vec<&[String]> = Vec::new();
            for c in candidates {
                let parent = &c[..c.len().saturating_sub(1)];
                if seen_parents.contains(&parent) {
                    continue;
                }
                seen_parents.push(parent);
                let wanted: Vec<&ConfigPath> = candidates
                    .iter()
                    .filter(|x| x.len() == c.len() && x[..parent.len()] == *parent)
                    .collect();
                let have = children_of(parent);
                if mode == MatchMode::Exact {
                    let same = have.len() == wanted.len()
                        && have.iter().zip(&wanted).all(|(h, w)| w.last() == Some(*h));
                    if !same {
                        out.extend(wanted.into_iter().cloned());
                    }
                } else {
                    for (i, w) in wanted.into_iter().enumerate() {
                        if have.get(i).copied() != w.last() {
                            out.push(w.clone());
                        }
                    }
                }
            }
            out
        }
    };
    if replace == ReplaceMode::Block && !differing.is_empty() {
        return candidates.to_vec();
    }
    differing
}

/// Write the running config where Ansible's `backup: yes` writes it; the result's fields
/// are those Ansible returns (`backup_path`, `date`, `time`, and without a `filename`
/// option `filename` and `shortname`).
pub fn write_backup(
    host: &str,
    config: &str,
    filename: Option<&str>,
    dir_path: Option<&str>,
    playbook_dir: &Path,
) -> Result<Map<String, Value>, String> {
    let now = chrono::Local::now();
    let stamp = now.format("%Y-%m-%d@%H:%M:%S").to_string();
    let base = std::path::absolute(playbook_dir).unwrap_or_else(|_| playbook_dir.to_path_buf());
    let dir = match dir_path {
        Some(d) if Path::new(d).is_absolute() => PathBuf::from(d),
        Some(d) => base.join(d),
        None => base.join("backup"),
    };
    let name = match filename {
        Some(f) => {
            if f.contains('/') || f.contains('\\') || f == ".." || f.is_empty() {
                return Err(format!(
                    "backup_options filename `{f}` must be a file name; put folders in dir_path"
                ));
            }
            f.to_string()
        }
        None => format!("{host}_config.{stamp}"),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("backup: creating {}: {e}", dir.display()))?;
    let path = dir.join(&name);
    let mut text = config.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    write_private(&path, &text).map_err(|e| format!("backup: writing {}: {e}", path.display()))?;
    let shown = path.display().to_string();
    let mut out = Map::new();
    out.insert("backup_path".into(), json!(shown));
    let (date, time) = stamp.split_once('@').unwrap_or((&stamp, ""));
    out.insert("date".into(), json!(date));
    out.insert("time".into(), json!(time));
    if filename.is_none() {
        out.insert("filename".into(), json!(name));
        let short = shown
            .rsplit_once('.')
            .map_or(shown.as_str(), |(a, _)| a)
            .to_string();
        out.insert("shortname".into(), json!(short));
    }
    Ok(out)
}

/// The config holds secrets as the device has them (a backup must restore): owner-only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("netorch-tmp");
    {
        use std::io::Write;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

static IGNORED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    // netcommon's DEFAULT_IGNORE_LINES_RE, and its comment tokens at the start of a line.
    regex::Regex::new(
        r"^\s*(?:Using \d+ out of \d+ bytes|Building configuration|Current configuration ?: ?\d+ bytes|!|#|/\*|\*/|echo\b)",
    )
    .unwrap_or_else(|e| panic!("literal regex: {e}"))
});

/// A config as Ansible's `NetworkConfig` compares two of them: without the header lines a
/// show adds, comments, and `ignore` (`diff_ignore_lines`).
pub fn comparable(view: &str, ignore: &[fancy_regex::Regex]) -> String {
    view.lines()
        .filter(|l| !l.trim().is_empty() && !IGNORED.is_match(l))
        .filter(|l| !ignore.iter().any(|re| re.is_match(l).unwrap_or(false)))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The startup configuration, or `None` on platforms without one (commit platforms).
pub fn startup_config(
    conn: &mut Connection,
    timeout: Duration,
) -> Result<Option<String>, TaskResult> {
    let has_startup = conn
        .profile()
        .config
        .as_ref()
        .is_some_and(|c| c.save.is_some());
    if !has_startup {
        return Ok(None);
    }
    match conn.run_command("show startup-config", timeout) {
        Ok(r) => match r.failed {
            Some(f) => Err(TaskResult::failed(format!(
                "reading the startup config: {f}"
            ))),
            None => Ok(Some(r.output)),
        },
        Err(e) => Err(device_failure(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> ConfigPath {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn match_and_replace_modes() {
        let running = vec![
            p(&["ip access-list extended T"]),
            p(&["ip access-list extended T", "permit ip host 1.1.1.1 any"]),
            p(&["ip access-list extended T", "permit ip host 2.2.2.2 any"]),
        ];
        let cand = vec![
            p(&["ip access-list extended T", "permit ip host 2.2.2.2 any"]),
            p(&["ip access-list extended T", "permit ip host 1.1.1.1 any"]),
        ];
        // line: both present.
        assert!(select(&cand, vec![], &running, MatchMode::Line, ReplaceMode::Line).is_empty());
        // strict: both are out of place.
        assert_eq!(
            select(
                &cand,
                vec![],
                &running,
                MatchMode::Strict,
                ReplaceMode::Line
            )
            .len(),
            2
        );
        // exact: the block differs, all of it goes.
        assert_eq!(
            select(&cand, vec![], &running, MatchMode::Exact, ReplaceMode::Line),
            cand
        );
        let in_order = vec![running[1].clone(), running[2].clone()];
        assert!(select(
            &in_order,
            vec![],
            &running,
            MatchMode::Exact,
            ReplaceMode::Line
        )
        .is_empty());
        // none: everything, always.
        assert_eq!(
            select(
                &in_order,
                vec![],
                &running,
                MatchMode::None,
                ReplaceMode::Line
            ),
            in_order
        );
        // replace block: one differing line sends the block.
        let one = vec![in_order[1].clone()];
        assert_eq!(
            select(
                &in_order,
                one,
                &running,
                MatchMode::Line,
                ReplaceMode::Block
            ),
            in_order
        );
    }

    fn parse(yaml: &str) -> Result<crate::actions::ConfigArgs, String> {
        crate::actions::config::deserialize(serde_yaml::Deserializer::from_str(yaml))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn ansible_arguments_parse_or_name_the_problem() {
        let a = parse("{backup: yes}").unwrap();
        assert_eq!(a.ansible.backup, Some(BackupOptions::default()));
        let a = parse("{save_when: modified, lines: [x], comment: why, defaults: yes}").unwrap();
        assert_eq!(a.save, crate::actions::SaveWhen::Modified);
        assert!(a.ansible.save_when);
        assert_eq!(a.ansible.not_honoured, ["defaults", "comment"]);
        let a = parse("{lines: [x], match: exact, replace: block}").unwrap();
        assert_eq!(
            (a.ansible.match_mode, a.ansible.replace),
            (MatchMode::Exact, ReplaceMode::Block)
        );
        assert!(parse("{backup_options: {filename: x}}")
            .unwrap_err()
            .contains("without `backup: yes`"));
        assert!(parse("{lines: [x], replace: config}")
            .unwrap_err()
            .contains("mode: replace"));
        assert!(parse("{lines: [x], confirm: 5}")
            .unwrap_err()
            .contains("confirm"));
        assert!(parse("{diff_against: intended}")
            .unwrap_err()
            .contains("intended_config"));
        assert!(parse("{lines: [x], save: true, save_when: always}")
            .unwrap_err()
            .contains("not both"));
        assert!(parse("{lines: [x], diff_ignore_lines: ['(']}")
            .unwrap_err()
            .contains("diff_ignore_lines"));
        // Without Ansible's extras a task still needs lines.
        assert!(parse("{parents: [x]}").is_err());
    }

    #[test]
    fn backup_file_where_ansible_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let r = write_backup("r1", "hostname r1", None, None, dir.path()).unwrap();
        let path = r["backup_path"].as_str().unwrap();
        assert!(path.starts_with(&dir.path().join("backup/r1_config.").display().to_string()));
        assert_eq!(std::fs::read_to_string(path).unwrap(), "hostname r1\n");
        assert!(r["shortname"]
            .as_str()
            .unwrap()
            .ends_with("backup/r1_config"));
        assert!(r["filename"].as_str().unwrap().starts_with("r1_config."));
        let r = write_backup("r1", "x", Some("r1.cfg"), Some("out"), dir.path()).unwrap();
        assert_eq!(
            r["backup_path"],
            dir.path().join("out/r1.cfg").display().to_string()
        );
        assert!(r.get("shortname").is_none());
        assert!(write_backup("r1", "x", Some("../x"), None, dir.path()).is_err());
    }
}
