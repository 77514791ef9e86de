//! `fail`: stop the host with a message.

use serde::de::Deserializer;
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailArgs {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub msg: Option<String>,
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FailArgs, D::Error> {
    d.deserialize_any(map_only::visitor("{msg: text}", true, Ok))
}
