//! Actions: what a task does. Each kind has its own typed, validated arguments in its own
//! file; this module names the kinds, maps the keys users write (including Ansible's
//! module names) to them, and deserializes a task's action value into an [`Action`].

use serde::de::{DeserializeSeed, Deserializer};

pub(crate) mod assert;
pub(crate) mod backup;
pub(crate) mod command;
pub(crate) mod config;
pub(crate) mod debug;
pub(crate) mod fail;
pub(crate) mod set_fact;
pub(crate) mod template;
pub(crate) mod transfer;
pub(crate) mod wait_for;

pub use assert::AssertArgs;
pub use backup::BackupArgs;
pub use command::{CommandArgs, Expect};
pub use config::{ConfigArgs, ConfigSource, DiffAgainst, SaveWhen};
pub use debug::{DebugArgs, DebugWhat};
pub use fail::FailArgs;
pub use set_fact::SetFactArgs;
pub use template::TemplateArgs;
pub use transfer::{Download, Protocol, TransferArgs, Upload, Verify};
pub use wait_for::{PortState, WaitForArgs};

pub use crate::actions::{Action, ActionKind};

impl ActionKind {
    /// The kind a task key names: a canonical name, `ansible.builtin.<name>`, or one of
    /// the Ansible network modules netorch stands in for (`cisco.ios.ios_config` -> config).
    pub fn from_key(key: &str) -> Option<ActionKind> {
        let short = key
            .strip_prefix("ansible.builtin.")
            .or_else(|| key.strip_prefix("ansible.legacy."))
            .unwrap_or(key);
        if let Some(kind) = ActionKind::ALL.iter().copied().find(|k| k.name() == short) {
            return Some(kind);
        }
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == key)
            .map(|(_, kind)| *kind)
    }

    /// All names a user may write, canonical first (for "did you mean").
    pub fn all_keys() -> impl Iterator<Item = &'static str> {
        ActionKind::ALL
            .iter()
            .map(|k| k.name())
            .chain(ALIASES.iter().map(|(a, _)| *a))
    }
}

/// Ansible network modules whose job a netorch action does with compatible arguments.
const ALIASES: &[(&str, ActionKind)] = &[
    ("ios_command", ActionKind::Command),
    ("cisco.ios.ios_command", ActionKind::Command),
    ("eos_command", ActionKind::Command),
    ("arista.eos.eos_command", ActionKind::Command),
    ("nxos_command", ActionKind::Command),
    ("cisco.nxos.nxos_command", ActionKind::Command),
    ("junos_command", ActionKind::Command),
    ("junipernetworks.junos.junos_command", ActionKind::Command),
    ("ios_config", ActionKind::Config),
    ("cisco.ios.ios_config", ActionKind::Config),
    ("eos_config", ActionKind::Config),
    ("arista.eos.eos_config", ActionKind::Config),
    ("nxos_config", ActionKind::Config),
    ("cisco.nxos.nxos_config", ActionKind::Config),
    ("junos_config", ActionKind::Config),
    ("junipernetworks.junos.junos_config", ActionKind::Config),
];

/// For a key that is an Ansible module netorch does not have, what to use instead.
pub(crate) fn instead_of(key: &str) -> Option<String> {
    let short = key.rsplit('.').next().unwrap_or(key);
    let text = match short {
        "shell" | "raw" | "cli_command" => "netorch has no `{key}`; use `command`",
        "copy" | "net_put" => "netorch has no `{key}`; use `upload` (src, dest, protocol)",
        "fetch" | "net_get" => "netorch has no `{key}`; use `download` (src, dest, protocol)",
        "pause" => "netorch has no `{key}`; use `wait_for: {seconds: N}`",
        "cli_config" => "netorch has no `{key}`; use `config`",
        _ => return None,
    };
    Some(text.replace("{key}", key))
}

/// Deserializes the value of an action key into the [`Action`] of a known kind.
pub(crate) struct ActionSeed(pub ActionKind);

impl<'de> DeserializeSeed<'de> for ActionSeed {
    type Value = Action;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Action, D::Error> {
        self.0.parse(d)
    }
}

/// Expecting-text and a visitor that only accepts a mapping, handing it to a derived
/// `Spec` type and then to a check, so that both the spec's errors and the check's errors
/// carry the mapping's position.
pub(crate) mod map_only {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, value::MapAccessDeserializer, Deserialize, MapAccess, Visitor};

    use crate::playbook::values::describe;

    pub(crate) struct MapVisitor<S, T, F> {
        pub what: &'static str,
        pub check: F,
        pub allow_empty: bool,
        pub marker: PhantomData<(S, T)>,
    }

    pub(crate) fn visitor<S, T, F: FnOnce(S) -> Result<T, String>>(
        what: &'static str,
        allow_empty: bool,
        check: F,
    ) -> MapVisitor<S, T, F> {
        MapVisitor {
            what,
            check,
            allow_empty,
            marker: PhantomData,
        }
    }

    impl<'de, S: Deserialize<'de>, T, F: FnOnce(S) -> Result<T, String>> Visitor<'de>
        for MapVisitor<S, T, F>
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.what)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let spec = S::deserialize(MapAccessDeserializer::new(map))?;
            (self.check)(spec).map_err(de::Error::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            if self.allow_empty {
                let spec = S::deserialize(de::value::MapDeserializer::<
                    std::iter::Empty<((), ())>,
                    E,
                >::new(std::iter::empty()))?;
                (self.check)(spec).map_err(de::Error::custom)
            } else {
                Err(E::custom(format!("expected {}, found nothing", self.what)))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Str(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Bool(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Unsigned(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Signed(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Float(v)))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
            Err(wrong(self.what, de::Unexpected::Seq))
        }
    }

    fn wrong<E: de::Error>(what: &str, u: de::Unexpected<'_>) -> E {
        E::custom(format!("expected {what}, found {}", describe(u)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_kinds() {
        assert_eq!(ActionKind::from_key("debug"), Some(ActionKind::Debug));
        assert_eq!(
            ActionKind::from_key("ansible.builtin.debug"),
            Some(ActionKind::Debug)
        );
        assert_eq!(
            ActionKind::from_key("cisco.ios.ios_command"),
            Some(ActionKind::Command)
        );
        assert_eq!(ActionKind::from_key("ios_config"), Some(ActionKind::Config));
        assert_eq!(ActionKind::from_key("shell"), None);
        assert!(instead_of("ansible.builtin.shell").is_some());
    }
}
