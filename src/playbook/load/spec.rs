//! A playbook file as written: the list of plays and `import_playbook` entries, each play's
//! keys typed by serde so that a wrong value is reported at its own line and column.

use std::fmt;
use std::time::Duration;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::inventory::check_pattern;
use crate::playbook::task::{HandlerList, TaskList};
use crate::playbook::values::{self, describe, with_hint, Serial};
use crate::playbook::{is_templated, Strategy};
use crate::value::Vars;

/// A play as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlaySpec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "hosts")]
    pub(super) hosts: Option<String>,
    #[serde(default)]
    pub(super) tasks: TaskList,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub(super) import_playbook: Option<String>,
    #[serde(default, deserialize_with = "values::vars")]
    pub(super) vars: Vars,
    #[serde(default, deserialize_with = "values::strings")]
    pub(super) vars_files: Vec<String>,
    #[serde(default)]
    pub(super) serial: Option<Serial>,
    #[serde(default, deserialize_with = "values::percentage")]
    pub(super) max_fail_percentage: Option<f64>,
    #[serde(default, deserialize_with = "values::boolish")]
    pub(super) any_errors_fatal: bool,
    #[serde(default, deserialize_with = "values::keyword")]
    pub(super) strategy: Strategy,
    #[serde(default, deserialize_with = "forks")]
    pub(super) forks: Option<usize>,
    #[serde(default, deserialize_with = "values::boolish")]
    pub(super) gather_facts: bool,
    /// The subsets the implicit facts task gathers (Ansible's play keyword).
    #[serde(default, deserialize_with = "values::strings")]
    pub(super) gather_subset: Vec<String>,
    #[serde(default, deserialize_with = "values::tags")]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) pre_tasks: TaskList,
    #[serde(default)]
    pub(super) post_tasks: TaskList,
    #[serde(default)]
    pub(super) handlers: HandlerList,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub(super) check_mode: Option<bool>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub(super) timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub(super) host_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::positive_number")]
    pub(super) connect_rate: Option<f64>,
    #[serde(default)]
    pub(super) confirm: Option<ConfirmSpec>,
    /// Collections searched for short module names; netorch knows the network modules it
    /// stands in for by their short and full names, so the list is accepted as is.
    #[serde(default, deserialize_with = "values::strings")]
    #[allow(dead_code)] // read for its type check only
    pub(super) collections: Vec<String>,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub(super) r#become: Option<bool>,
    #[serde(default, deserialize_with = "become_method")]
    pub(super) become_method: Option<String>,
    /// A device has no users to become; accepted so that playbooks load unchanged.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    #[allow(dead_code)]
    pub(super) become_user: Option<String>,
    #[serde(default, deserialize_with = "values::vars")]
    pub(super) environment: Vars,
    #[serde(default, deserialize_with = "values::boolish")]
    pub(super) ignore_errors: bool,
    #[serde(default, deserialize_with = "values::boolish")]
    pub(super) ignore_unreachable: bool,
    /// Ansible's connection plugin (`network_cli`, `netconf`, `httpapi`, `local`): the
    /// transport of the play's hosts whose own variables name none.
    #[serde(default, deserialize_with = "connection")]
    pub(super) connection: Option<String>,
}

fn connection<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    const KNOWN: &[&str] = &[
        "network_cli",
        "netconf",
        "httpapi",
        "local",
        "ssh",
        "paramiko",
        "telnet",
        "eapi",
        "nxapi",
        "restconf",
    ];
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a connection: one of {}", KNOWN.join(", "))
        }
        // Checked here, inside the visitor, so that the error points at the value.
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            let short = v.rsplit('.').next().unwrap_or(v);
            if KNOWN.contains(&short) || is_templated(v) {
                Ok(v.to_string())
            } else {
                Err(E::custom(with_hint(
                    format!(
                        "connection `{v}` is not one netorch knows; expected one of {}",
                        KNOWN.join(", ")
                    ),
                    crate::source::suggest(short, KNOWN.iter().copied())
                        .map(|s| format!("did you mean `{s}`?")),
                )))
            }
        }
    }
    d.deserialize_str(V).map(Some)
}

fn become_method<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::DeserializeSeed;
    crate::playbook::block::BecomeMethod
        .deserialize(d)
        .map(Some)
}

fn forks<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let max = u64::from(crate::executor::MAX_FORKS);
    let n = values::bounded_count(d, "forks", 1, max)?;
    Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
}

/// A host pattern: a string, or a list joined with `,` (Ansible accepts both).
fn hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    const WHAT: &str = "a host pattern like `all`, `core`, `access:&ams` or a list of them";
    fn check<E: de::Error>(p: String) -> Result<String, E> {
        if is_templated(&p) {
            return Ok(p);
        }
        match check_pattern(&p) {
            Ok(()) => Ok(p),
            Err(reason) => Err(E::custom(format!("bad host pattern `{p}`: {reason}"))),
        }
    }
    impl<'de> Visitor<'de> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            check(v.to_string())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
            let items = values::STRINGS.visit_seq(seq)?;
            check(items.join(","))
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Err(E::custom(format!("expected {WHAT}, found nothing")))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Bool(v))
            )))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Unsigned(v))
            )))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Signed(v))
            )))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Float(v))
            )))
        }
    }
    d.deserialize_any(V).map(Some)
}

/// An entry of a playbook file: a play or `import_playbook: file`.
pub(super) enum PlayEntry {
    Play(Box<PlaySpec>),
    Import(String),
}

struct PlayEntrySeed;

impl<'de> de::DeserializeSeed<'de> for PlayEntrySeed {
    type Value = PlayEntry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PlayEntry, D::Error> {
        d.deserialize_any(self)
    }
}

const PLAY_EXPECTED: &str =
    "a play (a mapping with `hosts` and `tasks`) or `import_playbook: file`";

fn not_a_play<E: de::Error>(u: de::Unexpected<'_>) -> E {
    E::custom(with_hint(
        format!("expected {PLAY_EXPECTED}, found {}", describe(u)),
        Some(
            "a playbook is a list of plays: `- name: ...` / `  hosts: all` / `  tasks: [...]`"
                .into(),
        ),
    ))
}

impl<'de> Visitor<'de> for PlayEntrySeed {
    type Value = PlayEntry;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(PLAY_EXPECTED)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PlayEntry, A::Error> {
        let spec = PlaySpec::deserialize(MapAccessDeserializer::new(map))?;
        if let Some(file) = spec.import_playbook {
            let is_play = spec.hosts.is_some()
                || !spec.tasks.0.is_empty()
                || !spec.pre_tasks.0.is_empty()
                || !spec.post_tasks.0.is_empty()
                || !spec.handlers.0.is_empty()
                || !spec.vars.is_empty();
            if is_play {
                return Err(de::Error::custom(
                    "an `import_playbook` entry takes only `name`; put the play in its own list item",
                ));
            }
            return Ok(PlayEntry::Import(file));
        }
        if spec.hosts.is_none() {
            let named = spec
                .name
                .as_ref()
                .map(|n| format!("play \"{n}\""))
                .unwrap_or_else(|| "this play".into());
            return Err(de::Error::custom(with_hint(
                format!("{named} has no `hosts`; expected a host pattern"),
                Some("add `hosts: all` or a group name".into()),
            )));
        }
        Ok(PlayEntry::Play(Box::new(spec)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<PlayEntry, A::Error> {
        Err(not_a_play(de::Unexpected::Seq))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Unit))
    }
}

/// The top level of a playbook file.
pub(super) struct PlaybookFile(pub(super) Vec<PlayEntry>);

impl<'de> Deserialize<'de> for PlaybookFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PlaybookFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of plays")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PlaybookFile, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element_seed(PlayEntrySeed)? {
                    out.push(e);
                }
                Ok(PlaybookFile(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<PlaybookFile, A::Error> {
                Err(de::Error::custom(with_hint(
                    "expected a list of plays, found a mapping",
                    Some("start each play with `- ` (a playbook is a YAML list)".into()),
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found {}",
                    describe(de::Unexpected::Str(v))
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found integer {v}"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found integer {v}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found number {v}"
                )))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found boolean {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A play's `confirm:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmSpec {
    #[serde(deserialize_with = "values::duration")]
    pub(super) timeout: std::time::Duration,
    #[serde(default, deserialize_with = "values::strings")]
    pub(super) after: Vec<String>,
}
