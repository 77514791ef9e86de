//! `debug`: print a message or a variable in the report.

use serde::de::Deserializer;
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

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
