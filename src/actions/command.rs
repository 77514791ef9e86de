//! `command`: one or more commands on the device CLI (or the exec channel of a shell host),
//! with `expect` answers for prompts. Written as a string, a list of strings, or
//! `{commands, expect, timeout}` (Ansible's `ios_command` takes the same `commands`). A
//! device rejecting a command fails the task with the device's text; the commands after it
//! are not sent.

use std::fmt;
use std::time::Duration;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::command_wait::{response, Conditional};
use super::{device_failure, ActionArgs, ActionCtx, Env, Probe};
use crate::device::{Connection, PlatformProfile};
use crate::playbook::values::{self, describe, STRINGS};
use crate::report::{CommandOutput, Status, TaskResult};

#[derive(Debug, Clone, PartialEq)]
pub struct CommandArgs {
    /// Sent in order; at least one.
    pub commands: Vec<String>,
    /// Answers to interactive prompts (`Destination filename [x]?`).
    pub expect: Vec<Expect>,
    pub timeout: Option<Duration>,
    /// Turn each command's output into records (`parsed` in the registered result).
    pub parse: Option<ParseSpec>,
    /// A parse that fails leaves `parsed` empty instead of failing the task.
    pub parse_errors_ignored: bool,
    /// Ansible's `wait_for`/`match`/`retries`/`interval`: send the commands again until
    /// the conditions on their output hold.
    pub wait: Option<WaitFor>,
}

/// Conditions on the output, retried as Ansible's `*_command` modules retry them.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitFor {
    pub conditions: Vec<Conditional>,
    /// `match: any`: one condition is enough (default `all`).
    pub any: bool,
    /// Rounds after the first (Ansible's default 9: ten rounds in all).
    pub retries: u32,
    /// Pause between rounds (default 1 s).
    pub interval: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Match {
    All,
    Any,
}

/// How `parse:` reads the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseSpec {
    /// The template index (ntc-templates, the playbook's parsers/ folder) for the command.
    TextFsm,
    /// One TextFSM template file.
    Template(String),
    /// The device's JSON answer (the profile adds `| json` where the platform needs it).
    Json,
    /// A regex with named groups (Python syntax): one record per match.
    Regex(String),
}

const PARSE_EXPECTED: &str =
    "`textfsm`, `json`, {textfsm: path/to/template} or {regex: '(?P<name>...)'}";

fn parse_spec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ParseSpec>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<ParseSpec>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(PARSE_EXPECTED)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim() {
                "textfsm" | "ntc_templates" | "ansible.netcommon.ntc_templates" => {
                    Ok(Some(ParseSpec::TextFsm))
                }
                "json" | "ansible.netcommon.json" => Ok(Some(ParseSpec::Json)),
                other => Err(E::custom(format!(
                    "unknown parser `{other}`; expected {PARSE_EXPECTED}"
                ))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let Some(key) = map.next_key::<String>()? else {
                return Err(de::Error::custom(format!(
                    "empty parser; expected {PARSE_EXPECTED}"
                )));
            };
            let value: String = map.next_value_seed(values::ScalarString {
                what: "a string",
                allow_bool: false,
                allow_number: false,
            })?;
            let spec = match key.as_str() {
                "textfsm" | "template" => ParseSpec::Template(value),
                "regex" => {
                    crate::parse::compile_regex(&value)
                        .map_err(|e| de::Error::custom(e.to_string()))?;
                    ParseSpec::Regex(value)
                }
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown parser `{other}`; expected {PARSE_EXPECTED}"
                    )))
                }
            };
            if let Some(extra) = map.next_key::<String>()? {
                return Err(de::Error::custom(format!(
                    "one parser per command: `{extra}` after `{key}`"
                )));
            }
            Ok(Some(spec))
        }
    }
    d.deserialize_any(V)
}

fn parse_errors<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v: String = values::scalar_string(d)?;
    match v.as_str() {
        "ignore" => Ok(true),
        "fail" => Ok(false),
        other => Err(de::Error::custom(format!(
            "parse_errors: expected `fail` (the default) or `ignore`, found `{other}`"
        ))),
    }
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

/// One entry of Ansible's `commands`: a string, or `{command, prompt, answer}` (the
/// prompts and answers join the task's `expect`).
#[derive(Deserialize)]
#[serde(untagged)]
enum CommandEntry {
    Text(String),
    Full(FullCommand),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullCommand {
    command: String,
    #[serde(default, deserialize_with = "opt_strings")]
    prompt: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    answer: Option<Vec<String>>,
    #[serde(default)]
    output: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Commands {
    One(String),
    Many(Vec<CommandEntry>),
}

/// `commands` as Ansible's modules take it: the commands, and the `expect` answers its
/// mapping entries bring.
fn commands<'de, D: Deserializer<'de>>(d: D) -> Result<(Vec<String>, Vec<Expect>), D::Error> {
    let c = Commands::deserialize(d).map_err(|_| {
        de::Error::custom(
            "commands: expected a command, or a list of commands (strings, or {command, prompt, answer})",
        )
    })?;
    let entries = match c {
        Commands::One(s) => return Ok((vec![s], Vec::new())),
        Commands::Many(v) => v,
    };
    let mut cmds = Vec::new();
    let mut expect = Vec::new();
    for e in entries {
        match e {
            CommandEntry::Text(t) => cmds.push(t),
            CommandEntry::Full(f) => {
                if let Some(o) = f.output.as_deref().filter(|o| *o != "text") {
                    return Err(de::Error::custom(format!(
                        "commands: `output: {o}` is not supported; write the command with its pipe (`{} | json`) or use `parse: json`",
                        f.command
                    )));
                }
                let prompts = f.prompt.unwrap_or_default();
                let answers = f.answer.unwrap_or_default();
                if prompts.len() != answers.len() {
                    return Err(de::Error::custom(format!(
                        "commands: `{}` has {} prompt(s) and {} answer(s); expected one answer per prompt",
                        f.command,
                        prompts.len(),
                        answers.len()
                    )));
                }
                for (prompt, answer) in prompts.into_iter().zip(answers) {
                    regex::Regex::new(&prompt).map_err(|e| {
                        de::Error::custom(format!(
                            "commands: prompt `{prompt}` is not a valid regular expression: {}",
                            e.to_string().lines().last().unwrap_or_default().trim()
                        ))
                    })?;
                    expect.push(Expect { prompt, answer });
                }
                cmds.push(f.command);
            }
        }
    }
    Ok((cmds, expect))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(deserialize_with = "commands")]
    commands: (Vec<String>, Vec<Expect>),
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "parse_spec")]
    parse: Option<ParseSpec>,
    #[serde(default, deserialize_with = "parse_errors")]
    parse_errors: bool,
    #[serde(default, alias = "waitfor", deserialize_with = "opt_strings")]
    wait_for: Option<Vec<String>>,
    #[serde(default, rename = "match", deserialize_with = "values::opt_keyword")]
    match_: Option<Match>,
    #[serde(default, deserialize_with = "values::opt_count")]
    retries: Option<u32>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    interval: Option<Duration>,
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

const EXPECTED: &str =
    "a command string, a list of commands, or {commands: [...], expect: [...], timeout: N, parse: textfsm}";

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
        parse: None,
        parse_errors_ignored: false,
        wait: None,
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
        let (cmds, mut expect) = s.commands;
        expect.extend(s.expect);
        let mut a: CommandArgs = args(cmds, expect, s.timeout)?;
        if s.parse_errors && s.parse.is_none() {
            return Err(de::Error::custom(
                "parse_errors without parse: add `parse: textfsm` (or json, {regex: ...})",
            ));
        }
        a.parse = s.parse;
        a.parse_errors_ignored = s.parse_errors;
        if let Some(conds) = s.wait_for {
            let conditions = conds
                .iter()
                .map(|c| Conditional::parse(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(de::Error::custom)?;
            a.wait = Some(WaitFor {
                conditions,
                any: s.match_ == Some(Match::Any),
                retries: s.retries.unwrap_or(9),
                interval: s.interval.unwrap_or(Duration::from_secs(1)),
            });
        }
        Ok(a)
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
        match &self.parse {
            Some(ParseSpec::Template(t)) => p.push(Probe::TextFsm {
                what: "parse template".into(),
                name: t,
            }),
            Some(ParseSpec::TextFsm) => p.push(Probe::TextFsmLibrary {
                what: "parse: textfsm".into(),
                dir: TEXTFSM_DIR_VAR,
            }),
            _ => {}
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
        let ansible = is_ansible_module(env.action_key);
        let mut r = match env.connect() {
            Ok((conn, ctx, timeout)) => match &self.wait {
                None => run(conn, ctx, self, timeout),
                Some(w) => run_until(conn, ctx, self, w, timeout),
            },
            Err(r) => r,
        };
        if ansible {
            ansible_shape(&mut r);
        }
        r
    }
}

/// `ios_command` and its kin register `stdout` as one entry per command and
/// `stdout_lines` as one list of lines per command; netorch's own `command` keeps one text.
fn is_ansible_module(key: &str) -> bool {
    key.rsplit('.')
        .next()
        // ansible.netcommon.cli_command registers one text, as netorch's command does.
        .is_some_and(|k| k.ends_with("_command") && k != "cli_command")
}

fn ansible_shape(r: &mut TaskResult) {
    let stdout: Vec<serde_json::Value> = r.commands.iter().map(|c| response(&c.output)).collect();
    let lines: Vec<serde_json::Value> = r
        .commands
        .iter()
        .map(|c| serde_json::json!(c.output.split('\n').collect::<Vec<_>>()))
        .collect();
    if !r.data.is_object() {
        r.data = serde_json::json!({});
    }
    r.data["stdout"] = serde_json::Value::Array(stdout);
    r.data["stdout_lines"] = serde_json::Value::Array(lines);
}

/// Rounds of the commands until the conditions hold (as Ansible's `*_command`: a condition
/// met in one round stays met), or fail with the ones that never did.
fn run_until(
    conn: &mut Connection,
    ctx: &ActionCtx<'_>,
    args: &CommandArgs,
    wait: &WaitFor,
    timeout: Duration,
) -> TaskResult {
    let mut open: Vec<&Conditional> = wait.conditions.iter().collect();
    let mut round = 0;
    loop {
        round += 1;
        let mut r = run(conn, ctx, args, timeout);
        if r.status != Status::Ok {
            return r;
        }
        let responses: Vec<serde_json::Value> =
            r.commands.iter().map(|c| response(&c.output)).collect();
        let mut still = Vec::new();
        for c in &open {
            match c.check(&responses) {
                Ok(true) if wait.any => {
                    still.clear();
                    break;
                }
                Ok(true) => {}
                Ok(false) => still.push(*c),
                Err(e) => {
                    r.status = Status::Failed;
                    r.msg = Some(e);
                    return r;
                }
            }
        }
        open = still;
        r.attempts = round;
        if open.is_empty() {
            return r;
        }
        if round > wait.retries {
            let failed: Vec<&str> = open.iter().map(|c| c.raw.as_str()).collect();
            r.status = Status::Failed;
            r.msg = Some(format!(
                "One or more conditional statements have not been satisfied: {} (after {round} attempt(s))",
                failed.join("; ")
            ));
            r.data = serde_json::json!({ "failed_conditions": failed });
            return r;
        }
        std::thread::sleep(wait.interval);
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
        let cmd = match &args.parse {
            Some(ParseSpec::Json) => with_json_suffix(&cmd, conn.profile()),
            _ => cmd,
        };
        if ctx.check_mode && !is_read_only(&cmd) {
            result.commands.push(CommandOutput {
                command: cmd,
                output: String::new(),
                exit_status: None,
                error: None,
                parsed: None,
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
                let mut parsed = None;
                let mut parse_failure = None;
                if let (Some(spec), None) = (&args.parse, &failed) {
                    match parse_output(ctx, conn.profile(), spec, &cmd, &output) {
                        Ok(v) => parsed = Some(v),
                        Err(e) if args.parse_errors_ignored => {
                            parsed = Some(serde_json::Value::Array(Vec::new()));
                            result.msg = Some(format!("`{cmd}`: parse failed (ignored): {e}"));
                        }
                        Err(e) => parse_failure = Some(e.to_string()),
                    }
                }
                result.commands.push(CommandOutput {
                    command: cmd.clone(),
                    output,
                    exit_status: resp.exit_status,
                    error: failed.clone(),
                    parsed,
                });
                if let Some(f) = failed {
                    result.status = Status::Failed;
                    result.msg = Some(format!("`{cmd}`: {f}"));
                    return result;
                }
                if let Some(e) = parse_failure {
                    result.status = Status::Failed;
                    result.msg = Some(format!("`{cmd}`: {e}"));
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

/// `show version` -> `show version | json` on platforms that answer in JSON that way,
/// unless the command already asks for JSON.
fn with_json_suffix(cmd: &str, profile: &PlatformProfile) -> String {
    match &profile.parse.json_suffix {
        Some(sfx) if !cmd.contains(sfx.trim()) && !cmd.trim_end().ends_with("json") => {
            format!("{} {}", cmd.trim_end(), sfx.trim())
        }
        _ => cmd.to_string(),
    }
}

/// The host's template library setting, as the run reads it.
const TEXTFSM_DIR_VAR: &str = "{{ textfsm_dir | default('') }}";

/// `parse: {textfsm: NAME}`: an absolute path as is; else `parsers/NAME` beside the playbook
/// (or the inventory), then `NAME` in the playbook's template folders.
pub fn find_textfsm_template(
    dirs: &[std::path::PathBuf],
    name: &str,
) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(name);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    dirs.iter()
        .map(|d| d.join("parsers").join(path))
        .chain(dirs.iter().map(|d| d.join(path)))
        .find(|p| p.is_file())
}

fn parse_output(
    ctx: &ActionCtx<'_>,
    profile: &PlatformProfile,
    spec: &ParseSpec,
    cmd: &str,
    output: &str,
) -> Result<serde_json::Value, crate::parse::ParseError> {
    use crate::parse::{self, Library};
    // The playbook's own parsers/ folder (beside it, or beside the inventory).
    let user = ctx
        .templates
        .dirs()
        .iter()
        .map(|d| d.join("parsers"))
        .find(|d| d.is_dir());
    match spec {
        ParseSpec::Json => parse::parse_json(output).map_err(|e| match e {
            parse::ParseError::Json { message, start } if profile.parse.json_suffix.is_none() => {
                parse::ParseError::Json {
                    message: format!(
                        "{message}; platform {} has no JSON output (no parse.json_suffix in its profile): use parse: textfsm",
                        profile.name
                    ),
                    start,
                }
            }
            e => e,
        }),
        ParseSpec::Regex(r) => parse::parse_regex(r, output),
        ParseSpec::Template(t) => {
            let path = std::path::Path::new(t);
            let Some(found) = find_textfsm_template(ctx.templates.dirs(), t) else {
                return Err(parse::ParseError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "TextFSM template not found (looked in parsers/ and beside the playbook)",
                    ),
                });
            };
            let records = parse::parse_templates(&[found], output)?;
            records.check_required()?;
            Ok(records.to_json())
        }
        ParseSpec::TextFsm => {
            let dir = ctx
                .vars
                .get("textfsm_dir")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(std::path::PathBuf::from);
            let library = Library::discover(user, dir);
            // What the index knows is the command as typed, without our JSON pipe.
            let records = library.parse_command(profile.textfsm_platform(), cmd, output)?;
            records.check_required()?;
            Ok(records.to_json())
        }
    }
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
