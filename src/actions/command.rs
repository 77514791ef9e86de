//! `command`: one or more commands on the device CLI (or the exec channel of a shell host),
//! with `expect` answers for prompts. Written as a string, a list of strings, or
//! `{commands, expect, timeout}` (Ansible's `ios_command` takes the same `commands`). A
//! device rejecting a command fails the task with the device's text; the commands after it
//! are not sent.

use std::fmt;
use std::time::Duration;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{device_failure, ActionArgs, ActionCtx, Env, Probe};
use crate::device::Connection;
use crate::playbook::values::{self, describe, STRINGS};
use crate::report::{CommandOutput, Status, TaskResult};

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

/// Commands that only read: run even in check mode (the rest are skipped there).
const READ_ONLY_PREFIXES: &[&str] = &[
    "show ",
    "sh ",
    "display ",
    "dir",
    "more ",
    "ping ",
    "traceroute ",
    "cat ",
    "ls",
    "uname",
    "hostname",
    "df",
    "uptime",
    "sha256sum",
    "md5sum",
    "file checksum",
    "verify /",
];

pub fn is_read_only(cmd: &str) -> bool {
    let c = cmd.trim_start().to_ascii_lowercase();
    c == "show" || READ_ONLY_PREFIXES.iter().any(|p| c.starts_with(p))
}

impl ActionArgs for CommandArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        let mut p: Vec<Probe<'_>> = self
            .commands
            .iter()
            .map(|c| Probe::line("command", c))
            .collect();
        for e in &self.expect {
            p.push(Probe::text("expect prompt", &e.prompt));
            p.push(Probe::line("expect answer", &e.answer));
        }
        p
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        self.commands.join("; ")
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        match env.connect() {
            Ok((conn, ctx, timeout)) => run(conn, ctx, self, timeout),
            Err(r) => r,
        }
    }
}

fn run(
    conn: &mut Connection,
    ctx: &ActionCtx<'_>,
    args: &CommandArgs,
    timeout: Duration,
) -> TaskResult {
    let timeout = args.timeout.unwrap_or(timeout);
    let answers: Vec<(String, String)> = match args
        .expect
        .iter()
        .map(|e| {
            Ok((
                ctx.render(&e.prompt, "expect prompt")?,
                ctx.render_line(&e.answer, "expect answer")?,
            ))
        })
        .collect::<Result<Vec<_>, crate::Error>>()
    {
        Ok(a) => a,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let mut result = TaskResult::ok();
    for raw in &args.commands {
        let cmd = match ctx.render_line(raw, "command") {
            Ok(c) => c,
            Err(e) => return TaskResult::failed(e.to_string()),
        };
        if ctx.check_mode && !is_read_only(&cmd) {
            result.commands.push(CommandOutput {
                command: cmd,
                output: String::new(),
                exit_status: None,
                error: None,
            });
            result.status = Status::Skipped;
            result.msg = Some("not run in check mode (it may change the device)".into());
            continue;
        }
        let response = if answers.is_empty() {
            conn.run_command(&cmd, timeout)
        } else {
            conn.run_interactive(&cmd, &answers, timeout)
        };
        match response {
            Ok(resp) => {
                let failed = resp.failed.clone();
                let mut output = resp.output;
                if !resp.stderr.is_empty() {
                    if !output.is_empty() {
                        output.push('\n');
                    }
                    output.push_str(resp.stderr.trim_end());
                }
                result.commands.push(CommandOutput {
                    command: cmd.clone(),
                    output,
                    exit_status: resp.exit_status,
                    error: failed.clone(),
                });
                if let Some(f) = failed {
                    result.status = Status::Failed;
                    result.msg = Some(format!("`{cmd}`: {f}"));
                    return result;
                }
            }
            Err(e) => {
                let mut r = device_failure(&e);
                let mut cmds = std::mem::take(&mut result.commands);
                cmds.append(&mut r.commands);
                r.commands = cmds;
                return r;
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_commands() {
        assert!(is_read_only("show version"));
        assert!(is_read_only("  sh run"));
        assert!(is_read_only("display current-configuration"));
        assert!(!is_read_only("reload"));
        assert!(!is_read_only("copy run start"));
        assert!(!is_read_only("shutdown"));
    }
}
