//! `command`: run CLI commands and capture their output. Written as a string, a list of
//! strings, or `{commands, expect, timeout}` (Ansible's `ios_command` takes the same
//! `commands`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::playbook::values::{self, describe, STRINGS};

#[derive(Debug, Clone, PartialEq)]
pub struct CommandArgs {
    /// Sent in order; at least one.
    pub commands: Vec<String>,
    /// Answers to interactive prompts (`Destination filename [x]?`).
    pub expect: Vec<Expect>,
    pub timeout: Option<Duration>,
}

/// Answer `answer` when the output matches the regex `prompt`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(deserialize_with = "regex_string")]
    pub prompt: String,
    #[serde(deserialize_with = "values::scalar_string")]
    pub answer: String,
}

fn regex_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a regular expression")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            match regex::Regex::new(v) {
                Ok(_) => Ok(v.to_string()),
                Err(e) => Err(E::custom(format!(
                    "`{v}` is not a valid regular expression: {}",
                    e.to_string().lines().last().unwrap_or_default().trim()
                ))),
            }
        }
    }
    d.deserialize_str(V)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(deserialize_with = "values::strings")]
    commands: Vec<String>,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
}

const EXPECTED: &str =
    "a command string, a list of commands, or {commands: [...], expect: [...], timeout: N}";

struct CommandVisitor;

fn args<E: de::Error>(
    commands: Vec<String>,
    expect: Vec<Expect>,
    timeout: Option<Duration>,
) -> Result<CommandArgs, E> {
    if commands.iter().all(|c| c.trim().is_empty()) {
        return Err(E::custom("command has no commands; expected at least one"));
    }
    Ok(CommandArgs {
        commands,
        expect,
        timeout,
    })
}

impl<'de> Visitor<'de> for CommandVisitor {
    type Value = CommandArgs;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<CommandArgs, E> {
        args(vec![v.to_string()], Vec::new(), None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<CommandArgs, A::Error> {
        let commands = STRINGS.visit_seq(seq)?;
        args(commands, Vec::new(), None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CommandArgs, A::Error> {
        let s = Spec::deserialize(MapAccessDeserializer::new(map))?;
        args(s.commands, s.expect, s.timeout)
    }
    fn visit_unit<E: de::Error>(self) -> Result<CommandArgs, E> {
        Err(E::custom(format!("expected {EXPECTED}, found nothing")))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<CommandArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Bool(v))
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CommandArgs, E> {
        args(vec![v.to_string()], Vec::new(), None)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<CommandArgs, E> {
        args(vec![v.to_string()], Vec::new(), None)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<CommandArgs, E> {
        args(vec![v.to_string()], Vec::new(), None)
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CommandArgs, D::Error> {
    d.deserialize_any(CommandVisitor)
}
