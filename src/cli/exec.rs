//! `netorch exec -i INV --limit P 'COMMAND'...`: ad-hoc commands on many hosts at once.
//!
//! Builds a one-task playbook in memory (a `command` task with the given commands) and runs
//! it through [`super::run::execute`], so it gets the executor's host deadlines, connect
//! rate and Ctrl-C handling, the run's `--json` document, `--junit` and exit codes. On a
//! terminal the results are shown per host (a header, then each command and its output),
//! which reads better than the task view for show commands.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::{ExitCode, Result};
use crate::report::Layout;

use super::common::{PlayOpts, RunOpts};
use super::run::{execute, playbook_in_memory, RunRequest};

/// The name the in-memory playbook goes by in messages and reports.
const PLAYBOOK_NAME: &str = "<netorch exec>";

#[derive(Debug, clap::Args)]
#[command(mut_arg("check", |a| a.help(
    "Change nothing: only read-only commands (`show ...`) are sent, the others are listed"
)))]
pub struct ExecArgs {
    #[command(flatten)]
    pub opts: RunOpts,

    #[command(flatten)]
    pub play: PlayOpts,

    /// The commands, sent in order on each host; a command the device rejects fails the
    /// host and the ones after it are not sent. Sent as typed (no `{{ }}` templating).
    #[arg(required = true, value_name = "COMMAND")]
    pub commands: Vec<String>,

    /// Show each output as a table of records, parsed with TextFSM (ntc-templates' index for
    /// the host's platform and the command); `--json` then gives the records under `parsed`.
    #[arg(long)]
    pub parse: bool,

    /// How --parse reads the output: `textfsm` (the default) or `json` (the device's JSON
    /// answer; `| json` is added where the platform needs it). Implies --parse.
    #[arg(long, value_name = "PARSER", value_parser = ["textfsm", "json"])]
    pub parser: Option<String>,

    /// The TextFSM template library for --parse (ntc-templates' `templates` folder).
    #[arg(long, value_name = "DIR")]
    pub textfsm_dir: Option<std::path::PathBuf>,
}

pub fn run(args: ExecArgs, verbose: u8) -> Result<ExitCode> {
    let mut req = RunRequest::load(&args.opts, &[], verbose)?;
    let mut command = serde_json::Map::new();
    command.insert(
        "commands".into(),
        args.commands.iter().map(|c| literal(c)).collect(),
    );
    if args.parse || args.parser.is_some() {
        let parser = args.parser.as_deref().unwrap_or("textfsm");
        command.insert("parse".into(), Value::from(parser));
    }
    let name = args.commands.join("; ");
    let mut play = serde_json::Map::new();
    play.insert("name".into(), Value::from("netorch exec"));
    play.insert("hosts".into(), Value::from("all"));
    args.play.apply(&mut play);
    if let Some(dir) = &args.textfsm_dir {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        play.insert(
            "vars".into(),
            json!({ "textfsm_dir": dir.to_string_lossy() }),
        );
    }
    play.insert(
        "tasks".into(),
        json!([{ "name": name, "command": Value::Object(command) }]),
    );
    req.playbooks = vec![playbook_in_memory(
        Path::new(PLAYBOOK_NAME),
        Value::Object(play),
    )?];
    req.layout = Layout::Hosts;
    let report = execute(req)?;
    Ok(report.exit_code())
}

/// A command as typed: `{{`, `{%` and `{#` are not template syntax here.
fn literal(cmd: &str) -> Value {
    if cmd.contains("{{") || cmd.contains("{%") || cmd.contains("{#") {
        Value::from(format!("{{% raw %}}{cmd}{{% endraw %}}"))
    } else {
        Value::from(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_sent_as_typed() {
        let t = crate::jinja::Templates::new(Vec::new());
        let vars = crate::value::Vars::new();
        for cmd in [
            "show version",
            "show run | include {{ x }}",
            "echo {% if %}",
        ] {
            let v = literal(cmd);
            let rendered = t.render_str(v.as_str().unwrap(), &vars, "command").unwrap();
            assert_eq!(rendered, cmd);
        }
    }
}
