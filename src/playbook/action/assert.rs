//! `assert`: check conditions on a host (`that`), failing it with `fail_msg` if any is false.

use serde::de::Deserializer;
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

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
