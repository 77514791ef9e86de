//! `lookup()` / `query()` and `env()`: env, file, template, vars, and pipe (off unless
//! NETORCH_ALLOW_PIPE=1, since it runs a command on the machine netorch runs on).

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Error, State};

use super::invalid;

/// The environment variable that allows `lookup('pipe', ...)`.
pub const PIPE_ENV: &str = "NETORCH_ALLOW_PIPE";

/// `env("NAME")`, or `env("NAME", "default")`.
pub fn env_var(name: String, default: Option<String>) -> Result<String, Error> {
    match std::env::var(&name) {
        Ok(v) => Ok(v),
        Err(_) => default.ok_or_else(|| {
            invalid(format!(
                "environment variable `{name}` is not set (referenced with env(\"{name}\"))"
            ))
        }),
    }
}

/// `lookup(kind, terms...)`: one result as itself, several joined with commas (Ansible's
/// `wantlist=False`).
pub fn lookup(
    state: &State,
    kind: String,
    terms: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let mut out = run(state, &kind, &terms, &kwargs)?;
    kwargs.assert_all_used()?;
    if wantlist {
        return Ok(Value::from(out));
    }
    Ok(match out.len() {
        0 => Value::from(()),
        1 => out.remove(0),
        _ => Value::from(
            out.iter()
                .map(crate::jinja::python::to_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
    })
}

/// `query(kind, terms...)` / `q()`: always a list.
pub fn query(
    state: &State,
    kind: String,
    terms: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let out = run(state, &kind, &terms, &kwargs)?;
    let _ = kwargs.get::<Option<bool>>("wantlist")?;
    kwargs.assert_all_used()?;
    Ok(Value::from(out))
}

fn run(state: &State, kind: &str, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let kind = kind.strip_prefix("ansible.builtin.").unwrap_or(kind);
    let strs = || terms.iter().map(crate::jinja::python::to_str);
    match kind {
        "env" => {
            let default = kwargs.get::<Option<String>>("default")?;
            // Ansible gives an empty string for an unset variable; netorch keeps its clear
            // error unless a default is given, since an empty secret is never wanted.
            strs()
                .map(|n| match (&default, std::env::var(&n)) {
                    (_, Ok(v)) => Ok(Value::from(v)),
                    (Some(d), Err(_)) => Ok(Value::from(d.clone())),
                    (None, Err(_)) => env_var(n, None).map(Value::from),
                })
                .collect()
        }
        "file" => {
            let rstrip = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
            let lstrip = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
            strs()
                .map(|p| {
                    let path = find(state, &p, "files")?;
                    let text = crate::source::read_source(&path)
                        .map_err(|e| invalid(format!("lookup('file'): {e}")))?;
                    let text = if rstrip { text.trim_end() } else { &text };
                    let text = if lstrip { text.trim_start() } else { text };
                    Ok(Value::from(text))
                })
                .collect()
        }
        "template" => strs()
            .map(|p| {
                let tmpl = state
                    .env()
                    .get_template(&p)
                    .map_err(|e| invalid(format!("lookup('template', '{p}'): {e}")))?;
                let ctx: std::collections::BTreeMap<String, Value> = state
                    .known_variables()
                    .into_iter()
                    .filter_map(|n| state.lookup(&n).map(|v| (n.into_owned(), v)))
                    .collect();
                Ok(Value::from(tmpl.render(ctx)?))
            })
            .collect(),
        "vars" => {
            let default = kwargs.get::<Option<Value>>("default")?;
            strs()
                .map(|n| match (state.lookup(&n), &default) {
                    (Some(v), _) if !v.is_undefined() => Ok(v),
                    (_, Some(d)) => Ok(d.clone()),
                    _ => Err(invalid(format!("lookup('vars'): no variable named `{n}`"))),
                })
                .collect()
        }
        "pipe" => {
            if std::env::var(PIPE_ENV).as_deref() != Ok("1") {
                return Err(invalid(format!(
                    "lookup('pipe') runs a command on this machine and is off; set \
                     {PIPE_ENV}=1 to allow it"
                )));
            }
            strs()
                .map(|cmd| {
                    let out = std::process::Command::new("sh")
                        .arg("-c")
                        .arg(&cmd)
                        .output()
                        .map_err(|e| invalid(format!("lookup('pipe', '{cmd}'): {e}")))?;
                    if !out.status.success() {
                        return Err(invalid(format!(
                            "lookup('pipe', '{cmd}'): the command failed ({})",
                            out.status
                        )));
                    }
                    Ok(Value::from(
                        String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
                    ))
                })
                .collect()
        }
        other => Err(invalid(format!(
            "lookup('{other}') is not supported; netorch has env, file, template, vars and pipe"
        ))),
    }
}

/// A relative path as Ansible's file lookups search it: beside the template (and its
/// `files/` sibling), then from the working directory.
fn find(state: &State, p: &str, sub: &str) -> Result<PathBuf, Error> {
    let path = Path::new(p);
    if path.is_absolute() || path.is_file() {
        return Ok(path.to_path_buf());
    }
    let here = Path::new(state.name()).parent().map(Path::to_path_buf);
    let mut candidates = Vec::new();
    if let Some(h) = here.filter(|h| !h.as_os_str().is_empty()) {
        candidates.push(h.join(sub).join(path));
        candidates.push(h.join(path));
    }
    candidates.push(Path::new(sub).join(path));
    Ok(candidates
        .into_iter()
        .find(|c| c.is_file())
        .unwrap_or_else(|| path.to_path_buf()))
}
