//! `command`: one or more commands on the device CLI (or the exec channel of a shell host),
//! with `expect` answers for prompts. A device rejecting a command fails the task with the
//! device's text; the commands after it are not sent.

use std::time::Duration;

use serde::de::Deserializer;

use super::{device_failure, ActionArgs, ActionCtx, Env};
use crate::device::Connection;
pub use crate::playbook::action::CommandArgs;
use crate::report::{CommandOutput, Status, TaskResult};

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
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::playbook::action::command::deserialize(d)
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
                ctx.render(&e.answer, "expect answer")?,
            ))
        })
        .collect::<Result<Vec<_>, crate::Error>>()
    {
        Ok(a) => a,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let mut result = TaskResult::ok();
    for raw in &args.commands {
        let cmd = match ctx.render(raw, "command") {
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
