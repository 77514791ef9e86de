//! `debug: { msg }` or `debug: { var }`: show a value in the run's output.

use super::ActionCtx;
use crate::report::TaskResult;

pub fn run(ctx: &ActionCtx<'_>, msg: Option<&str>, var: Option<&str>) -> TaskResult {
    let value = match (msg, var) {
        (_, Some(var)) => match ctx.templates.eval(var, ctx.vars, "debug var") {
            Ok(v) => serde_json::json!({ var: v }),
            Err(e) => return TaskResult::failed(e.to_string()),
        },
        (Some(msg), None) => match ctx.render(msg, "debug msg") {
            Ok(s) => serde_json::Value::String(s),
            Err(e) => return TaskResult::failed(e.to_string()),
        },
        (None, None) => serde_json::Value::String("Hello world!".into()),
    };
    let mut r = TaskResult::ok();
    r.data = serde_json::json!({ "debug": value });
    r
}
