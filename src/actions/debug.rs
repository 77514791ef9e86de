//! `debug: { msg }` or `debug: { var }`: show a value in the run's output, from the task's
//! `verbosity` (a `-v` count) up.

use serde::de::Deserializer;

use super::{ActionArgs, Env};
pub use crate::playbook::action::{DebugArgs, DebugWhat};
use crate::report::TaskResult;

impl ActionArgs for DebugArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::playbook::action::debug::deserialize(d)
    }

    fn summary(&self) -> String {
        match &self.what {
            DebugWhat::Msg(m) => m.clone(),
            DebugWhat::Var(v) => v.clone(),
        }
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let ctx = &env.ctx;
        if self.verbosity > ctx.verbose {
            return TaskResult::skipped(format!(
                "verbosity threshold not met ({} > {})",
                self.verbosity, ctx.verbose
            ));
        }
        let value = match &self.what {
            DebugWhat::Var(var) => match ctx.templates.eval(var, ctx.vars, "debug var") {
                Ok(v) => serde_json::json!({ var: v }),
                Err(e) => return TaskResult::failed(e.to_string()),
            },
            DebugWhat::Msg(msg) => match ctx.render(msg, "debug msg") {
                Ok(s) => serde_json::Value::String(s),
                Err(e) => return TaskResult::failed(e.to_string()),
            },
        };
        let mut r = TaskResult::ok();
        r.data = serde_json::json!({ "debug": value });
        r
    }
}
