//! `template`: render a template for each host into a local file (`{src, dest}`).

use serde::de::Deserializer;
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateArgs {
    /// A template name, looked up by [`crate::playbook::Playbook::resolve_template`].
    #[serde(deserialize_with = "values::scalar_string")]
    pub src: String,
    /// Where the rendered text is written (may be templated, e.g. per host).
    #[serde(deserialize_with = "values::scalar_string")]
    pub dest: String,
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TemplateArgs, D::Error> {
    d.deserialize_any(map_only::visitor("{src: template, dest: file}", false, Ok))
}
