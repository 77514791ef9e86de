//! `backup`: fetch the running configuration into the backup store (`backup: {}`).

use serde::de::Deserializer;
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupArgs {
    /// The backup store (a git repository folder); default: the run's configured store.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub store: Option<String>,
    /// The file name inside the store; default: the host's name.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub path: Option<String>,
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BackupArgs, D::Error> {
    d.deserialize_any(map_only::visitor("{} or {store, path}", true, Ok))
}
