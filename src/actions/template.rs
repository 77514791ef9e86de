//! `template: { src, dest }`: render a template for each host into a local file, for review
//! or a later push. Written atomically (a temporary file beside the destination, then a
//! rename), and `changed` only when the content differs.

use std::path::Path;

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::{ActionArgs, ActionCtx, Env, Probe};
use crate::fs::write_atomic;
use crate::playbook::values;
use crate::report::TaskResult;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateArgs {
    /// A template name, looked up by [`crate::playbook::Playbook::resolve_template`].
    #[serde(deserialize_with = "values::scalar_string")]
    pub src: String,
    /// Where the rendered text is written (may be templated, e.g. per host).
    #[serde(deserialize_with = "values::scalar_string")]
    pub dest: String,
    /// The written file's permissions (Ansible's `mode`); new files get 0644 without it.
    #[serde(default, deserialize_with = "super::transfer::file_mode")]
    pub mode: Option<u32>,
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TemplateArgs, D::Error> {
    d.deserialize_any(map_only::visitor("{src: template, dest: file}", false, Ok))
}

impl ActionArgs for TemplateArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        vec![
            Probe::Template {
                what: "src".into(),
                name: &self.src,
                lines: false,
            },
            Probe::line("dest", &self.dest),
        ]
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.src, self.dest)
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        render_to_file(&env.ctx, self)
    }
}

fn render_to_file(ctx: &ActionCtx<'_>, args: &TemplateArgs) -> TaskResult {
    let dest = match ctx.render_line(&args.dest, "template dest") {
        Ok(d) => d,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let text = match ctx.templates.render_file(&args.src, ctx.vars) {
        Ok(t) => t,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let path = Path::new(&dest);
    let before = std::fs::read_to_string(path).ok();
    let mut r = if before.as_deref() == Some(text.as_str()) {
        TaskResult::ok()
    } else {
        TaskResult::changed()
    };
    r.data = serde_json::json!({ "dest": dest, "bytes": text.len() });
    if ctx.diff {
        let d = super::config_lines::unified_diff(
            before.as_deref().unwrap_or(""),
            &text,
            &format!("{dest} (before)"),
            &format!("{dest} (after)"),
        );
        if !d.is_empty() {
            r.diff = Some(d);
        }
    }
    let mode_differs = args.mode.is_some() && args.mode != super::local::current_mode(path);
    if mode_differs {
        r.status = crate::report::Status::Changed;
    }
    if ctx.check_mode || r.status == crate::report::Status::Ok {
        return r;
    }
    let old_mode = super::local::current_mode(path);
    if before.as_deref() != Some(text.as_str()) {
        if let Err(e) = write_atomic(path, text.as_bytes()) {
            return TaskResult::failed(format!("cannot write {dest}: {e}"));
        }
    }
    // The temporary file a write starts as is private: a file keeps its mode, a new one
    // gets the usual 0644.
    let mode = args.mode.or(old_mode).unwrap_or(0o644);
    if let Err(e) = super::local::set_mode(path, mode) {
        return TaskResult::failed(format!("cannot set the mode of {dest}: {e}"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::Templates;
    use crate::report::Status;

    #[test]
    fn renders_once_then_ok() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.j2"),
            "hostname {{ inventory_hostname }}\n",
        )
        .unwrap();
        let t = Templates::new(vec![dir.path().to_path_buf()]);
        let vars = serde_json::json!({"inventory_hostname": "r1"})
            .as_object()
            .cloned()
            .unwrap();
        let ctx = ActionCtx {
            host: "r1",
            vars: &vars,
            templates: &t,
            check_mode: false,
            diff: true,
            show_secrets: false,
            verbose: 0,
        };
        let dest = dir.path().join("out/{{ inventory_hostname }}.cfg");
        let args = TemplateArgs {
            src: "t.j2".into(),
            dest: dest.to_string_lossy().into_owned(),
            mode: None,
        };
        let r = render_to_file(&ctx, &args);
        assert_eq!(r.status, Status::Changed, "{:?}", r.msg);
        assert!(r.diff.unwrap().contains("+hostname r1"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/r1.cfg")).unwrap(),
            "hostname r1\n"
        );
        assert_eq!(render_to_file(&ctx, &args).status, Status::Ok);
        let out = dir.path().join("out/r1.cfg");
        assert_eq!(crate::actions::local::current_mode(&out), Some(0o644));
        // A mode alone is a change, and applied.
        let strict = TemplateArgs {
            mode: Some(0o600),
            ..args.clone()
        };
        assert_eq!(render_to_file(&ctx, &strict).status, Status::Changed);
        assert_eq!(crate::actions::local::current_mode(&out), Some(0o600));
        assert_eq!(render_to_file(&ctx, &strict).status, Status::Ok);
    }
}
