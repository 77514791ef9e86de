//! `fail: { msg }`: fail the host on purpose (usually under `when:`).

use serde::de::Deserializer;

use super::{ActionArgs, Env};
pub use crate::playbook::action::FailArgs;
use crate::report::TaskResult;

impl ActionArgs for FailArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::playbook::action::fail::deserialize(d)
    }

    fn summary(&self) -> String {
        self.msg.clone().unwrap_or_default()
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let msg = self
            .msg
            .as_deref()
            .unwrap_or("Failed as requested from task");
        match env.ctx.render(msg, "fail msg") {
            Ok(m) => TaskResult::failed(m),
            Err(e) => TaskResult::failed(format!("{msg} (message could not be rendered: {e})")),
        }
    }
}
