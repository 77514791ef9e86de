//! The keys users write for actions: canonical names, `ansible.builtin.` names and the
//! Ansible network modules netorch stands in for, what to use for the Ansible modules it
//! does not have, and the seed that parses a task's action value by its key.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use super::{Action, ActionKind};

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
    ("cli_command", ActionKind::Command),
    ("ansible.netcommon.cli_command", ActionKind::Command),
    ("ios_config", ActionKind::Config),
    ("cisco.ios.ios_config", ActionKind::Config),
    ("eos_config", ActionKind::Config),
    ("arista.eos.eos_config", ActionKind::Config),
    ("nxos_config", ActionKind::Config),
    ("cisco.nxos.nxos_config", ActionKind::Config),
    ("junos_config", ActionKind::Config),
    ("junipernetworks.junos.junos_config", ActionKind::Config),
    ("ios_facts", ActionKind::Facts),
    ("cisco.ios.ios_facts", ActionKind::Facts),
    ("eos_facts", ActionKind::Facts),
    ("arista.eos.eos_facts", ActionKind::Facts),
    ("nxos_facts", ActionKind::Facts),
    ("cisco.nxos.nxos_facts", ActionKind::Facts),
    ("junos_facts", ActionKind::Facts),
    ("junipernetworks.junos.junos_facts", ActionKind::Facts),
    ("iosxr_facts", ActionKind::Facts),
    ("cisco.iosxr.iosxr_facts", ActionKind::Facts),
    ("restconf_get", ActionKind::Api),
    ("ansible.netcommon.restconf_get", ActionKind::Api),
    ("restconf_config", ActionKind::Api),
    ("ansible.netcommon.restconf_config", ActionKind::Api),
    ("ansible.netcommon.netconf_get", ActionKind::NetconfGet),
    (
        "ansible.netcommon.netconf_config",
        ActionKind::NetconfConfig,
    ),
    ("ansible.netcommon.netconf_rpc", ActionKind::NetconfRpc),
];

/// For a key that is an Ansible module netorch does not have, what to use instead.
pub(crate) fn instead_of(key: &str) -> Option<String> {
    let short = key.rsplit('.').next().unwrap_or(key);
    let text = match short {
        "shell" | "raw" => "netorch has no `{key}`; use `command`",
        "net_put" => "netorch has no `{key}`; use `upload` (src, dest, protocol)",
        "fetch" | "net_get" => "netorch has no `{key}`; use `download` (src, dest, protocol)",
        "pause" => "netorch has no `{key}`; use `wait_for: {seconds: N}`",
        "cli_config" => "netorch has no `{key}`; use `config`",
        "cli_parse" => "netorch has no `{key}`; use `command: {commands: show ..., parse: textfsm}` and register it",
        "parse" | "parse_errors" => {
            "`{key}` belongs to the command: `command: {commands: show version, {key}: ...}`"
        }
        _ => return None,
    };
    Some(text.replace("{key}", key))
}

/// Deserializes the value of an action key into the [`Action`] of a known kind; the key
/// as written decides argument dialects (`cli_command`'s `command`/`prompt`/`answer`).
pub(crate) struct ActionSeed<'k>(pub ActionKind, pub &'k str);

impl<'de> DeserializeSeed<'de> for ActionSeed<'_> {
    type Value = Action;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Action, D::Error> {
        if self.1.rsplit('.').next() == Some("cli_command") {
            return cli_command(d);
        }
        match self.0 {
            // Their string forms are commands and config lines, never `key=value`.
            ActionKind::Command | ActionKind::Config | ActionKind::Confirm => self.0.parse(d),
            kind => d.deserialize_any(KvOr(kind)),
        }
    }
}

/// `cli_command: {command, prompt, answer}` (ansible.netcommon) read as netorch's
/// `command: {commands, expect: [{prompt, answer}]}`.
fn cli_command<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    use serde::Deserialize;
    use serde_yaml::Value;
    let v = Value::deserialize(d)?;
    let Value::Mapping(mut m) = v else {
        return Err(de::Error::custom(
            "cli_command takes a mapping: `command: show version` (and `prompt`, `answer`)",
        ));
    };
    let mut out = serde_yaml::Mapping::new();
    if let Some(c) = m.remove("command") {
        out.insert("commands".into(), c);
    }
    let as_list = |v: Option<Value>| match v {
        None => Vec::new(),
        Some(Value::Sequence(s)) => s,
        Some(one) => vec![one],
    };
    let prompts = as_list(m.remove("prompt"));
    let answers = as_list(m.remove("answer"));
    if !prompts.is_empty() {
        let expect: Vec<Value> = prompts
            .into_iter()
            .zip(
                answers
                    .into_iter()
                    .chain(std::iter::repeat(Value::from(""))),
            )
            .map(|(p, a)| {
                let mut e = serde_yaml::Mapping::new();
                e.insert("prompt".into(), p);
                e.insert("answer".into(), a);
                Value::Mapping(e)
            })
            .collect();
        out.insert("expect".into(), Value::Sequence(expect));
    }
    // Ansible's switches that change nothing here.
    for k in ["check_all", "newline", "sendonly"] {
        m.remove(k);
    }
    if let Some((k, _)) = m.into_iter().next() {
        return Err(de::Error::custom(format!(
            "cli_command: unknown key `{}`; expected command, prompt, answer",
            k.as_str().unwrap_or("?")
        )));
    }
    ActionKind::Command
        .parse(Value::Mapping(out))
        .map_err(|e| de::Error::custom(e.to_string()))
}

/// Hands the value to the action's parser as it is, except a `key=value ...` string,
/// which becomes the mapping it stands for. Maps and lists are passed through serde_yaml's
/// own accessors, so errors inside them keep their line and column.
struct KvOr(ActionKind);

impl<'de> Visitor<'de> for KvOr {
    type Value = Action;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the arguments of `{}`", self.0)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Action, A::Error> {
        self.0.parse(MapAccessDeserializer::new(map))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Action, A::Error> {
        self.0.parse(SeqAccessDeserializer::new(seq))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Action, E> {
        match super::kv::parse(v) {
            Some(pairs) => {
                let map: serde_yaml::Mapping = pairs
                    .into_iter()
                    .map(|(k, v)| (serde_yaml::Value::String(k), kv_value(v)))
                    .collect();
                self.0
                    .parse(serde_yaml::Value::Mapping(map))
                    .map_err(|e| E::custom(e.to_string()))
            }
            None => self.0.parse(v.into_deserializer()).map_err(|e: E| {
                if v.contains('=') {
                    E::custom(crate::playbook::values::with_hint(
                        e.to_string(),
                        Some(
                            "in `key=value` form, quote a value with spaces: `msg=\"two words\"`"
                                .into(),
                        ),
                    ))
                } else {
                    e
                }
            }),
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Action, E> {
        self.0.parse(v.into_deserializer())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Action, E> {
        self.0.parse(v.into_deserializer())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Action, E> {
        self.0.parse(v.into_deserializer())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Action, E> {
        self.0.parse(v.into_deserializer())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Action, E> {
        self.0.parse(().into_deserializer())
    }
}

/// A `key=value` value: text, except the words Ansible's argument spec reads as booleans
/// and numbers, which are given to typed arguments (`verbosity=1`, `create=yes`) as such.
/// Strings are still strings to arguments that take text.
fn kv_value(v: String) -> serde_yaml::Value {
    if let Ok(n) = v.parse::<u64>() {
        return serde_yaml::Value::Number(n.into());
    }
    serde_yaml::Value::String(v)
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
