//! `assert: { that: [...], fail_msg, success_msg }`: every expression must be true, or the
//! host fails with `fail_msg`.

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::{ActionArgs, ActionCtx, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertArgs {
    /// Expressions, all of which must be true.
    pub that: Vec<String>,
    pub fail_msg: Option<String>,
    pub success_msg: Option<String>,
    pub quiet: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(deserialize_with = "values::conditions")]
    that: Vec<String>,
    #[serde(default, alias = "msg", deserialize_with = "values::opt_scalar_string")]
    fail_msg: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    success_msg: Option<String>,
    #[serde(default, deserialize_with = "values::boolish")]
    quiet: bool,
}

fn check(s: Spec) -> Result<AssertArgs, String> {
    if s.that.is_empty() {
        return Err("assert `that` is empty; expected at least one condition".into());
    }
    Ok(AssertArgs {
        that: s.that,
        fail_msg: s.fail_msg,
        success_msg: s.success_msg,
        quiet: s.quiet,
    })
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AssertArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{that: [conditions], fail_msg, success_msg}",
        false,
        check,
    ))
}

impl ActionArgs for AssertArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        let mut p: Vec<Probe<'_>> = self.that.iter().map(|t| Probe::expr("that", t)).collect();
        p.extend(self.fail_msg.as_deref().map(|m| Probe::text("fail_msg", m)));
        p.extend(
            self.success_msg
                .as_deref()
                .map(|m| Probe::text("success_msg", m)),
        );
        p
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        self.that.join(" and ")
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        run(
            &env.ctx,
            &self.that,
            self.fail_msg.as_deref(),
            self.success_msg.as_deref(),
        )
    }
}

fn run(
    ctx: &ActionCtx<'_>,
    that: &[String],
    fail_msg: Option<&str>,
    success_msg: Option<&str>,
) -> TaskResult {
    for expr in that {
        match ctx.templates.eval_bool(expr, ctx.vars, "assert") {
            Ok(true) => continue,
            Ok(false) => {
                let msg = match fail_msg {
                    Some(m) => ctx
                        .render(m, "assert fail_msg")
                        .unwrap_or_else(|e| format!("{m} (fail_msg could not be rendered: {e})")),
                    None => format!("Assertion failed: {expr}"),
                };
                let mut r = TaskResult::failed(msg);
                r.data = serde_json::json!({ "assertion": expr, "evaluated_to": false });
                return r;
            }
            Err(e) => {
                return TaskResult::failed(format!(
                    "assertion `{expr}` could not be evaluated: {e}"
                ))
            }
        }
    }
    let msg = match success_msg {
        Some(m) => ctx
            .render(m, "assert success_msg")
            .unwrap_or_else(|_| m.to_string()),
        None => "All assertions passed".to_string(),
    };
    TaskResult::ok().with_msg(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::Templates;
    use crate::report::Status;

    #[test]
    fn passes_and_fails_with_message() {
        let t = Templates::new(vec![]);
        let vars = serde_json::json!({"n": 2, "name": "r1"})
            .as_object()
            .cloned()
            .unwrap();
        let ctx = ActionCtx {
            host: "r1",
            vars: &vars,
            templates: &t,
            check_mode: false,
            diff: false,
            show_secrets: false,
            verbose: 0,
        };
        let ok = run(&ctx, &["n == 2".into(), "name == 'r1'".into()], None, None);
        assert_eq!(ok.status, Status::Ok);
        let bad = run(
            &ctx,
            &["n == 2".into(), "n > 5".into()],
            Some("{{ name }} has {{ n }}"),
            None,
        );
        assert_eq!(bad.status, Status::Failed);
        assert_eq!(bad.msg.as_deref(), Some("r1 has 2"));
        let err = run(&ctx, &["nope > 1".into()], None, None);
        assert!(err.msg.unwrap().contains("`nope`"));
    }
}
