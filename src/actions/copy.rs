//! `copy: { content, dest, mode }`: write text to a local file (reports, inventories of
//! facts), as Ansible's copy does with `delegate_to: localhost`. `copy: { src, dest }`
//! copies a local file to a local path; sending a file to a device is `upload`'s job, and
//! the loader refuses `src` on a task that is not delegated to localhost.

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::local::{lock_path, render_path, write_file};
use super::{ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyArgs {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub src: Option<String>,
    #[serde(deserialize_with = "values::scalar_string")]
    pub dest: String,
    #[serde(default, deserialize_with = "super::transfer::file_mode")]
    pub mode: Option<u32>,
    /// Ansible's `force: false` (do not replace an existing file).
    #[serde(default = "yes", deserialize_with = "values::boolish")]
    pub force: bool,
}

fn yes() -> bool {
    true
}

fn check(a: CopyArgs) -> Result<CopyArgs, String> {
    match (&a.content, &a.src) {
        (Some(_), Some(_)) => Err("copy takes `content` or `src`, not both".into()),
        (None, None) => Err("copy needs `content` (text to write) or `src` (a local file)".into()),
        _ => Ok(a),
    }
}

impl ActionArgs for CopyArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "{content: text, dest: file} or {src: file, dest: file}",
            false,
            check,
        ))
    }

    fn summary(&self) -> String {
        format!("-> {}", self.dest)
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        let mut p = vec![Probe::line("dest", &self.dest)];
        if let Some(c) = &self.content {
            p.push(Probe::text("content", c));
        }
        if let Some(s) = &self.src {
            p.push(Probe::LocalFile {
                what: "src".into(),
                name: s,
            });
        }
        p
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let ctx = &env.ctx;
        let dest = match render_path(ctx, &self.dest, "copy dest") {
            Ok(d) => d,
            Err(r) => return r,
        };
        let text = match (&self.content, &self.src) {
            (Some(c), _) => match ctx.render(c, "copy content") {
                Ok(t) => t.into_bytes(),
                Err(e) => return TaskResult::failed(e.to_string()),
            },
            (None, Some(src)) => {
                let name = match ctx.render_line(src, "copy src") {
                    Ok(n) => n,
                    Err(e) => return TaskResult::failed(e.to_string()),
                };
                let Some(path) = (env.resolve_src)(&name) else {
                    return TaskResult::failed(format!("copy: source file `{name}` not found"));
                };
                match std::fs::read(&path) {
                    Ok(b) => b,
                    Err(e) => {
                        return TaskResult::failed(format!("cannot read {}: {e}", path.display()))
                    }
                }
            }
            (None, None) => return TaskResult::failed("copy needs `content` or `src`"),
        };
        if dest.is_dir() {
            return TaskResult::failed(format!(
                "copy dest {} is a folder; give the file's full path",
                dest.display()
            ));
        }
        // As Ansible: the folder must exist (a typo in it should not make a new tree).
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return TaskResult::failed(format!(
                    "Destination directory {} does not exist",
                    dir.display()
                ));
            }
        }
        let lock = lock_path(&dest);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let before = std::fs::read(&dest).ok();
        if before.is_some() && !self.force {
            return TaskResult::ok();
        }
        write_file(ctx, &dest, before.as_deref(), &text, self.mode)
    }
}
