//! `config`: push configuration. Exactly one source: `lines` (with optional `parents`),
//! `template` (rendered per host) or `src` (a file of lines); then `save` and
//! `diff_against`. A bare string or list is shorthand for `lines`.

use std::fmt;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::playbook::values::{self, describe, parse_bool, STRINGS};

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigArgs {
    pub source: ConfigSource,
    pub save: SaveWhen,
    pub diff_against: Option<DiffAgainst>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Lines entered under `parents` (e.g. `interface Gi0/1`), in order.
    Lines {
        lines: Vec<String>,
        parents: Vec<String>,
    },
    /// A template name, looked up by [`crate::playbook::Playbook::resolve_template`].
    Template(String),
    /// A file of configuration lines, found by [`crate::playbook::Playbook::resolve_src`].
    Src(String),
}

/// When to save the running configuration to startup after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveWhen {
    #[default]
    Never,
    Always,
    /// Only when this task changed something.
    WhenChanged,
}

/// What the diff compares the new configuration with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffAgainst {
    Running,
    Startup,
}

fn save_when<'de, D: Deserializer<'de>>(d: D) -> Result<SaveWhen, D::Error> {
    struct V;
    const WHAT: &str = "true, false or when_changed";
    impl Visitor<'_> for V {
        type Value = SaveWhen;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<SaveWhen, E> {
            Ok(if v { SaveWhen::Always } else { SaveWhen::Never })
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<SaveWhen, E> {
            match v {
                "always" => Ok(SaveWhen::Always),
                "never" => Ok(SaveWhen::Never),
                "when_changed" | "changed" | "modified" => Ok(SaveWhen::WhenChanged),
                other => match parse_bool(other) {
                    Some(b) => self.visit_bool(b),
                    None => Err(E::custom(format!(
                        "expected {WHAT}, found {}",
                        describe(de::Unexpected::Str(v))
                    ))),
                },
            }
        }
    }
    d.deserialize_any(V)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "opt_strings")]
    lines: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    parents: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    template: Option<String>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    src: Option<String>,
    #[serde(default, deserialize_with = "save_when")]
    save: SaveWhen,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    diff_against: Option<DiffAgainst>,
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

fn check(s: Spec) -> Result<ConfigArgs, String> {
    let given: Vec<&str> = [
        s.lines.as_ref().map(|_| "lines"),
        s.template.as_ref().map(|_| "template"),
        s.src.as_ref().map(|_| "src"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let has_parents = s.parents.is_some();
    let source = match (s.lines, s.template, s.src) {
        (Some(lines), None, None) => {
            if lines.is_empty() {
                return Err("config `lines` is empty; expected at least one line".into());
            }
            ConfigSource::Lines {
                lines,
                parents: s.parents.unwrap_or_default(),
            }
        }
        (None, Some(t), None) => ConfigSource::Template(t),
        (None, None, Some(src)) => ConfigSource::Src(src),
        (None, None, None) => {
            return Err(
                "config needs one of `lines`, `template` or `src`; found none of them".into(),
            )
        }
        _ => {
            return Err(format!(
                "config takes exactly one of `lines`, `template` or `src`; found {}",
                given
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))
        }
    };
    if has_parents && !matches!(source, ConfigSource::Lines { .. }) {
        return Err("config `parents` only goes with `lines`".into());
    }
    Ok(ConfigArgs {
        source,
        save: s.save,
        diff_against: s.diff_against,
    })
}

const EXPECTED: &str = "config lines, or a mapping with `lines`, `template` or `src`";

struct ConfigVisitor;

impl<'de> Visitor<'de> for ConfigVisitor {
    type Value = ConfigArgs;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConfigArgs, A::Error> {
        let spec = Spec::deserialize(MapAccessDeserializer::new(map))?;
        check(spec).map_err(de::Error::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ConfigArgs, E> {
        lines(vec![v.to_string()])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ConfigArgs, A::Error> {
        lines(STRINGS.visit_seq(seq)?)
    }
    fn visit_unit<E: de::Error>(self) -> Result<ConfigArgs, E> {
        Err(E::custom(format!("expected {EXPECTED}, found nothing")))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Bool(v))
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Unsigned(v))
        )))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Signed(v))
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Float(v))
        )))
    }
}

fn lines<E: de::Error>(lines: Vec<String>) -> Result<ConfigArgs, E> {
    check(Spec {
        lines: Some(lines),
        parents: None,
        template: None,
        src: None,
        save: SaveWhen::Never,
        diff_against: None,
    })
    .map_err(E::custom)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ConfigArgs, D::Error> {
    d.deserialize_any(ConfigVisitor)
}
