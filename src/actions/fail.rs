//! `fail: { msg }`: fail the host on purpose (usually under `when:`).

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::{ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailArgs {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub msg: Option<String>,
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FailArgs, D::Error> {
    d.deserialize_any(map_only::visitor("{msg: text}", true, Ok))
}

impl ActionArgs for FailArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        self.msg.iter().map(|m| Probe::text("msg", m)).collect()
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
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
