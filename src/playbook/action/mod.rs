//! Actions: what a task does. Each kind has its own typed, validated arguments in its own
//! file; this module names the kinds, maps the keys users write (including Ansible's
//! module names) to them, and deserializes a task's action value into an [`Action`].

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer};

mod assert;
mod backup;
mod command;
mod config;
mod debug;
mod fail;
mod set_fact;
mod template;
mod transfer;
mod wait_for;

pub use assert::AssertArgs;
pub use backup::BackupArgs;
pub use command::{CommandArgs, Expect};
pub use config::{ConfigArgs, ConfigSource, DiffAgainst, SaveWhen};
pub use debug::{DebugArgs, DebugWhat};
pub use fail::FailArgs;
pub use set_fact::SetFactArgs;
pub use template::TemplateArgs;
pub use transfer::{Protocol, TransferArgs, Verify};
pub use wait_for::{PortState, WaitForArgs};

/// A task's action with its validated arguments. Templated strings (`{{ }}`) are kept as
/// written; they are rendered per host at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Command(CommandArgs),
    Config(ConfigArgs),
    Template(TemplateArgs),
    Backup(BackupArgs),
    Upload(TransferArgs),
    Download(TransferArgs),
    WaitFor(WaitForArgs),
    Assert(AssertArgs),
    SetFact(SetFactArgs),
    Fail(FailArgs),
    Debug(DebugArgs),
}

/// The kinds of action, without arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Command,
    Config,
    Template,
    Backup,
    Upload,
    Download,
    WaitFor,
    Assert,
    SetFact,
    Fail,
    Debug,
}

impl ActionKind {
    pub const ALL: [ActionKind; 11] = [
        ActionKind::Command,
        ActionKind::Config,
        ActionKind::Template,
        ActionKind::Backup,
        ActionKind::Upload,
        ActionKind::Download,
        ActionKind::WaitFor,
        ActionKind::Assert,
        ActionKind::SetFact,
        ActionKind::Fail,
        ActionKind::Debug,
    ];

    /// The canonical key (`wait_for`).
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Command => "command",
            ActionKind::Config => "config",
            ActionKind::Template => "template",
            ActionKind::Backup => "backup",
            ActionKind::Upload => "upload",
            ActionKind::Download => "download",
            ActionKind::WaitFor => "wait_for",
            ActionKind::Assert => "assert",
            ActionKind::SetFact => "set_fact",
            ActionKind::Fail => "fail",
            ActionKind::Debug => "debug",
        }
    }

    /// The kind a task key names: a canonical name, `ansible.builtin.<name>`, or one of
    /// the Ansible network modules netorch stands in for (`cisco.ios.ios_config` -> config).
    pub fn from_key(key: &str) -> Option<ActionKind> {
        let short = key
            .strip_prefix("ansible.builtin.")
            .or_else(|| key.strip_prefix("ansible.legacy."))
            .unwrap_or(key);
        if let Some(kind) = ActionKind::ALL.into_iter().find(|k| k.name() == short) {
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
            .into_iter()
            .map(ActionKind::name)
            .chain(ALIASES.iter().map(|(a, _)| *a))
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Command(_) => ActionKind::Command,
            Action::Config(_) => ActionKind::Config,
            Action::Template(_) => ActionKind::Template,
            Action::Backup(_) => ActionKind::Backup,
            Action::Upload(_) => ActionKind::Upload,
            Action::Download(_) => ActionKind::Download,
            Action::WaitFor(_) => ActionKind::WaitFor,
            Action::Assert(_) => ActionKind::Assert,
            Action::SetFact(_) => ActionKind::SetFact,
            Action::Fail(_) => ActionKind::Fail,
            Action::Debug(_) => ActionKind::Debug,
        }
    }

    /// A one-line summary for a task without a name (`command: show version`).
    pub fn summary(&self) -> String {
        let detail = match self {
            Action::Command(a) => a.commands.join("; "),
            Action::Config(a) => match &a.source {
                ConfigSource::Lines { lines, .. } => lines.join("; "),
                ConfigSource::Template(t) => format!("template {t}"),
                ConfigSource::Src(s) => format!("src {s}"),
            },
            Action::Template(a) => format!("{} -> {}", a.src, a.dest),
            Action::Backup(_) => String::new(),
            Action::Upload(a) | Action::Download(a) => format!("{} -> {}", a.src, a.dest),
            Action::WaitFor(WaitForArgs::Port { host, port, .. }) => {
                format!("{}:{port}", host.as_deref().unwrap_or("host"))
            }
            Action::WaitFor(WaitForArgs::Sleep(d)) => format!("{}s", d.as_secs_f64()),
            Action::Assert(a) => a.that.join(" and "),
            Action::SetFact(a) => a.0.keys().cloned().collect::<Vec<_>>().join(", "),
            Action::Fail(a) => a.msg.clone().unwrap_or_default(),
            Action::Debug(a) => match &a.what {
                DebugWhat::Msg(m) => m.clone(),
                DebugWhat::Var(v) => v.clone(),
            },
        };
        if detail.is_empty() {
            self.kind().name().to_string()
        } else {
            format!("{}: {detail}", self.kind().name())
        }
    }
}

/// Deserializes the value of an action key into the [`Action`] of a known kind.
pub(crate) struct ActionSeed(pub ActionKind);

impl<'de> DeserializeSeed<'de> for ActionSeed {
    type Value = Action;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Action, D::Error> {
        Ok(match self.0 {
            ActionKind::Command => Action::Command(command::deserialize(d)?),
            ActionKind::Config => Action::Config(config::deserialize(d)?),
            ActionKind::Template => Action::Template(template::deserialize(d)?),
            ActionKind::Backup => Action::Backup(backup::deserialize(d)?),
            ActionKind::Upload => Action::Upload(transfer::deserialize(d, "upload")?),
            ActionKind::Download => Action::Download(transfer::deserialize(d, "download")?),
            ActionKind::WaitFor => Action::WaitFor(wait_for::deserialize(d)?),
            ActionKind::Assert => Action::Assert(assert::deserialize(d)?),
            ActionKind::SetFact => Action::SetFact(set_fact::deserialize(d)?),
            ActionKind::Fail => Action::Fail(fail::deserialize(d)?),
            ActionKind::Debug => Action::Debug(debug::deserialize(d)?),
        })
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
