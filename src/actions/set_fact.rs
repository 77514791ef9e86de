//! `set_fact: { name: value, ... }`: values rendered now and kept on the host for the
//! rest of the run. The executor merges `data.facts` into the host's variables.

use serde::de::Deserializer;

use super::{ActionArgs, ActionCtx, Env, Probe};
use crate::playbook::values;
use crate::report::TaskResult;
use crate::value::Vars;

/// The variables to set, in order; names are valid identifiers, values are kept as
/// written (templated strings are rendered at run time).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetFactArgs(pub Vars);

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SetFactArgs, D::Error> {
    let vars = values::vars(d)?;
    if vars.is_empty() {
        return Err(serde::de::Error::custom(
            "set_fact needs at least one `name: value`",
        ));
    }
    Ok(SetFactArgs(vars))
}

impl ActionArgs for SetFactArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        let mut p = Vec::new();
        for (k, v) in &self.0 {
            strings_in(v, &mut |s| {
                p.push(Probe::text(format!("set_fact `{k}`"), s))
            });
        }
        p
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        self.0.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        run(&env.ctx, &self.0)
    }
}

fn run(ctx: &ActionCtx<'_>, facts: &Vars) -> TaskResult {
    let mut out = Vars::new();
    for (k, v) in facts {
        match render_value(ctx, v, k) {
            Ok(v) => {
                out.insert(k.clone(), v);
            }
            Err(e) => return TaskResult::failed(e.to_string()),
        }
    }
    let mut r = TaskResult::ok();
    r.data = serde_json::json!({ "facts": out });
    r
}

/// Every string in a value, nested ones included.
pub(crate) fn strings_in<'a>(v: &'a serde_json::Value, f: &mut dyn FnMut(&'a str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings_in(x, f)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings_in(x, f)),
        _ => {}
    }
}

pub(crate) fn render_value(
    ctx: &ActionCtx<'_>,
    v: &serde_json::Value,
    key: &str,
) -> Result<serde_json::Value, crate::Error> {
    use serde_json::Value;
    Ok(match v {
        Value::String(s) => {
            let t = s.trim();
            let what = format!("set_fact {key}");
            if crate::jinja::is_single_expression(t) {
                ctx.templates.eval(t, ctx.vars, &what)?
            } else {
                Value::String(ctx.render(s, &what)?)
            }
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(ctx, x, key))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                m.insert(k.clone(), render_value(ctx, x, key)?);
            }
            Value::Object(m)
        }
        other => other.clone(),
    })
}
