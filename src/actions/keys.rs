//! The keys users write for actions: canonical names, `ansible.builtin.` names and the
//! Ansible network modules netorch stands in for, what to use for the Ansible modules it
//! does not have, and the seed that parses a task's action value by its key.

use serde::de::{DeserializeSeed, Deserializer};

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
        "cli_parse" => "netorch has no `{key}`; use `command: {commands: show ..., parse: textfsm}` and register it",
        "parse" | "parse_errors" => {
            "`{key}` belongs to the command: `command: {commands: show version, {key}: ...}`"
        }
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
