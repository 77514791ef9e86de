//! `debug: { msg }` or `debug: { var }`: show a message or a value in the run's output, from
//! the task's `verbosity` (a `-v` count) up.

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::{ActionArgs, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;

/// What `debug: var=x` shows for an undefined `x` (Ansible's words).
pub const NOT_DEFINED: &str = "VARIABLE IS NOT DEFINED!";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugArgs {
    pub what: DebugWhat,
    /// Shown only at this `-v` level or above.
    pub verbosity: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugWhat {
    /// A (templated) message.
    Msg(String),
    /// A variable name or expression whose value is shown.
    Var(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    msg: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    var: Option<String>,
    #[serde(default, deserialize_with = "values::count")]
    verbosity: u8,
}

fn check(s: Spec) -> Result<DebugArgs, String> {
    let what = match (s.msg, s.var) {
        (Some(m), None) => DebugWhat::Msg(m),
        (None, Some(v)) => DebugWhat::Var(v),
        (None, None) => return Err("debug needs `msg` or `var`".into()),
        (Some(_), Some(_)) => {
            return Err("debug takes `msg` or `var`, not both".into());
        }
    };
    Ok(DebugArgs {
        what,
        verbosity: s.verbosity,
    })
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DebugArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{msg: text} or {var: name}",
        false,
        check,
    ))
}

impl ActionArgs for DebugArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        vec![match &self.what {
            DebugWhat::Msg(m) => Probe::text("msg", m),
            DebugWhat::Var(v) => Probe::expr("var", v),
        }]
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
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
                // Ansible shows an undefined variable rather than failing the task.
                Err(e) if e.to_string().contains("undefined") => {
                    serde_json::json!({ var: NOT_DEFINED })
                }
                Err(e) => return TaskResult::failed(e.to_string()),
            },
            DebugWhat::Msg(msg) => match ctx.render(msg, "debug msg") {
                Ok(s) => serde_json::Value::String(s),
                Err(e) => return TaskResult::failed(e.to_string()),
            },
        };
        let mut r = TaskResult::ok();
        // `register:` sees Ansible's shape: `msg`, or the variable's name as the key.
        let mut data = match &value {
            serde_json::Value::Object(m) => m.clone(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("msg".into(), other.clone());
                m
            }
        };
        data.insert("debug".into(), value);
        r.data = serde_json::Value::Object(data);
        r
    }
}
