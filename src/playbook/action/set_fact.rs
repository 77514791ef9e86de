//! `set_fact`: set host variables for the rest of the run (a mapping of names to values).

use serde::de::Deserializer;

use crate::playbook::values;
use crate::value::Vars;

/// The variables to set, in order; names are valid identifiers, values are kept as
/// written (templated strings are rendered at run time).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetFactArgs(pub Vars);

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SetFactArgs, D::Error> {
    let vars = values::vars(d)?;
    if vars.is_empty() {
        return Err(serde::de::Error::custom(
            "set_fact needs at least one `name: value`",
        ));
    }
    Ok(SetFactArgs(vars))
}
