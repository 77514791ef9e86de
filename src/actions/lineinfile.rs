//! `lineinfile: { path, line, regexp, insertafter, insertbefore, state, create, mode }`:
//! one line in a local file, with Ansible's rules: `regexp` finds the line to replace (the
//! last match), else `line` is added after the last match of `insertafter` (default EOF)
//! or before the last match of `insertbefore` (`BOF`: at the top); `state: absent` removes
//! every matching line. Many hosts may add to one file at once: the file's lock is held
//! from the read to the write.

use regex::Regex;
use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::local::{lock_path, render_path, write_file};
use super::{ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LineState {
    #[default]
    Present,
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInFileArgs {
    #[serde(
        alias = "dest",
        alias = "destfile",
        alias = "name",
        deserialize_with = "values::scalar_string"
    )]
    pub path: String,
    #[serde(
        default,
        alias = "value",
        deserialize_with = "values::opt_scalar_string"
    )]
    pub line: Option<String>,
    #[serde(
        default,
        alias = "regex",
        deserialize_with = "values::opt_scalar_string"
    )]
    pub regexp: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub insertafter: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub insertbefore: Option<String>,
    #[serde(default, deserialize_with = "values::keyword")]
    pub state: LineState,
    #[serde(default, deserialize_with = "values::boolish")]
    pub create: bool,
    #[serde(default, deserialize_with = "super::transfer::file_mode")]
    pub mode: Option<u32>,
}

fn check(a: LineInFileArgs) -> Result<LineInFileArgs, String> {
    if a.insertafter.is_some() && a.insertbefore.is_some() {
        return Err("lineinfile takes `insertafter` or `insertbefore`, not both".into());
    }
    if a.state == LineState::Present && a.line.is_none() {
        return Err("lineinfile with state present needs `line`".into());
    }
    if a.state == LineState::Absent && a.line.is_none() && a.regexp.is_none() {
        return Err("lineinfile with state absent needs `regexp` or `line`".into());
    }
    for (what, re) in [
        ("regexp", &a.regexp),
        ("insertafter", &a.insertafter),
        ("insertbefore", &a.insertbefore),
    ] {
        if let Some(r) = re {
            if !crate::playbook::is_templated(r) && !matches!(r.as_str(), "EOF" | "BOF") {
                Regex::new(r)
                    .map_err(|e| format!("{what} is not a valid regular expression: {e}"))?;
            }
        }
    }
    Ok(a)
}

impl ActionArgs for LineInFileArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "{path: file, line: text, regexp: pattern}",
            false,
            check,
        ))
    }

    fn summary(&self) -> String {
        self.path.clone()
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        let mut p = vec![Probe::line("path", &self.path)];
        for (what, v) in [
            ("line", &self.line),
            ("regexp", &self.regexp),
            ("insertafter", &self.insertafter),
            ("insertbefore", &self.insertbefore),
        ] {
            if let Some(v) = v {
                p.push(Probe::text(what, v));
            }
        }
        p
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let ctx = &env.ctx;
        let path = match render_path(ctx, &self.path, "lineinfile path") {
            Ok(p) => p,
            Err(r) => return r,
        };
        let render = |v: &Option<String>, what: &str| -> Result<Option<String>, TaskResult> {
            v.as_ref()
                .map(|s| ctx.render(s, what))
                .transpose()
                .map_err(|e| TaskResult::failed(e.to_string()))
        };
        let regex = |v: Option<String>, what: &str| -> Result<Option<Pos>, TaskResult> {
            match v.as_deref() {
                None => Ok(None),
                Some("EOF") => Ok(Some(Pos::Eof)),
                Some("BOF") => Ok(Some(Pos::Bof)),
                Some(r) => Regex::new(r).map(|r| Some(Pos::Re(r))).map_err(|e| {
                    TaskResult::failed(format!("{what} is not a valid regular expression: {e}"))
                }),
            }
        };
        let fields = (|| {
            let line = render(&self.line, "lineinfile line")?;
            let regexp = match render(&self.regexp, "lineinfile regexp")? {
                Some(r) => Some(Regex::new(&r).map_err(|e| {
                    TaskResult::failed(format!("regexp is not a valid regular expression: {e}"))
                })?),
                None => None,
            };
            let after = regex(render(&self.insertafter, "insertafter")?, "insertafter")?;
            let before = regex(render(&self.insertbefore, "insertbefore")?, "insertbefore")?;
            Ok::<_, TaskResult>((line, regexp, after, before))
        })();
        let (line, regexp, after, before) = match fields {
            Ok(f) => f,
            Err(r) => return r,
        };
        let lock = lock_path(&path);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let old = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return TaskResult::failed(format!("cannot read {}: {e}", path.display())),
        };
        if old.is_none() {
            if self.state == LineState::Absent {
                return TaskResult::ok().with_msg("file not present");
            }
            if !self.create {
                return TaskResult::failed(format!(
                    "Destination {} does not exist !",
                    path.display()
                ));
            }
        }
        let text = String::from_utf8_lossy(old.as_deref().unwrap_or_default()).into_owned();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let edited = match self.state {
            LineState::Present => present(
                &mut lines,
                line.as_deref().unwrap_or_default(),
                regexp.as_ref(),
                after.or(if before.is_none() {
                    Some(Pos::Eof)
                } else {
                    None
                }),
                before,
            ),
            LineState::Absent => {
                let n = lines.len();
                lines.retain(|l| match &regexp {
                    Some(r) => !r.is_match(l),
                    None => Some(l.as_str()) != line.as_deref(),
                });
                lines.len() != n
            }
        };
        let new = if edited {
            let mut s = lines.join("\n");
            if !lines.is_empty() {
                s.push('\n');
            }
            s.into_bytes()
        } else {
            old.clone().unwrap_or_default()
        };
        write_file(ctx, &path, old.as_deref(), &new, self.mode)
    }
}

enum Pos {
    Bof,
    Eof,
    Re(Regex),
}

/// Put `line` in `lines`; true when that changed them.
fn present(
    lines: &mut Vec<String>,
    line: &str,
    regexp: Option<&Regex>,
    after: Option<Pos>,
    before: Option<Pos>,
) -> bool {
    if let Some(re) = regexp {
        if let Some(i) = lines.iter().rposition(|l| re.is_match(l)) {
            if lines[i] == line {
                return false;
            }
            lines[i] = line.to_string();
            return true;
        }
    } else if lines.iter().any(|l| l == line) {
        return false;
    }
    let at = match (after, before) {
        (_, Some(Pos::Bof)) => 0,
        (_, Some(Pos::Re(re))) => lines
            .iter()
            .rposition(|l| re.is_match(l))
            .unwrap_or(lines.len()),
        (Some(Pos::Re(re)), _) => lines
            .iter()
            .rposition(|l| re.is_match(l))
            .map_or(lines.len(), |i| i + 1),
        (Some(Pos::Bof), _) => 0,
        _ => lines.len(),
    };
    lines.insert(at, line.to_string());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        start: &[&str],
        line: &str,
        regexp: Option<&str>,
        after: Option<Pos>,
        before: Option<Pos>,
    ) -> (bool, Vec<String>) {
        let mut lines: Vec<String> = start.iter().map(|s| s.to_string()).collect();
        let re = regexp.map(|r| Regex::new(r).unwrap());
        let c = present(&mut lines, line, re.as_ref(), after, before);
        (c, lines)
    }

    #[test]
    fn ansible_placement_rules() {
        assert_eq!(
            run(&["a", "b"], "b", None, Some(Pos::Eof), None),
            (false, vec!["a".into(), "b".into()])
        );
        assert_eq!(run(&["a"], "c", None, Some(Pos::Eof), None).1, ["a", "c"]);
        assert_eq!(
            run(&["a", "x=1", "x=2"], "x=9", Some("^x="), None, None).1,
            ["a", "x=1", "x=9"]
        );
        assert_eq!(
            run(&["a", "b"], "z", None, None, Some(Pos::Bof)).1,
            ["z", "a", "b"]
        );
        let re = |s: &str| Some(Pos::Re(Regex::new(s).unwrap()));
        assert_eq!(
            run(&["a", "b", "a"], "z", None, re("^a"), None).1,
            ["a", "b", "a", "z"]
        );
        assert_eq!(
            run(&["a", "b"], "z", None, None, re("^b")).1,
            ["a", "z", "b"]
        );
        assert_eq!(run(&["a"], "z", None, re("^nomatch"), None).1, ["a", "z"]);
    }
}
