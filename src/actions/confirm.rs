//! `confirm`: confirm the changes a play made under the device's revert timer (a play's
//! `confirm:` adds this task after its checks). A host whose checks failed never gets here,
//! so its device rolls the change back by itself when the timer runs out.

use serde::de::Deserializer;
use serde::Deserialize;

use super::args::map_only;
use super::{device_failure, ActionArgs, Env, Probe};
use crate::report::{CommandOutput, Status, TaskResult};

/// The fact a `config` task under `confirm:` leaves: the mode and commands that confirm.
pub const PENDING_FACT: &str = "netorch_confirm";

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmArgs {}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ConfirmArgs, D::Error> {
    d.deserialize_any(map_only::visitor("{} (no arguments)", true, Ok))
}

impl ActionArgs for ConfirmArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        Vec::new()
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        "confirm the changes".into()
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let pending = env.ctx.vars.get(PENDING_FACT).cloned();
        let Some(pending) = pending.filter(|p| !p.is_null()) else {
            return TaskResult::skipped("no change waiting for confirmation");
        };
        let mode = pending["mode"].as_str().unwrap_or_default().to_string();
        let commands: Vec<String> = pending["commands"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if env.ctx.check_mode {
            let mut r = TaskResult::new(Status::Changed);
            r.msg = Some(format!("would confirm: {}", commands.join("; ")));
            return r;
        }
        let (conn, _, timeout) = match env.connect() {
            Ok(c) => c,
            Err(r) => return r,
        };
        let resp = match conn.send_in_mode(&mode, &commands, timeout) {
            Ok(r) => r,
            Err(e) => return device_failure(&e),
        };
        let mut r = TaskResult::new(Status::Changed);
        r.commands.push(CommandOutput {
            command: resp.command,
            output: resp.output,
            exit_status: None,
            error: resp.failed.clone(),
            parsed: None,
        });
        r.data["facts"] = serde_json::json!({ PENDING_FACT: null });
        match resp.failed {
            Some(f) => {
                r.status = Status::Failed;
                r.msg = Some(format!(
                    "the change was not confirmed ({f}); the device may already have rolled it back"
                ));
            }
            None => r.msg = Some("change confirmed".into()),
        }
        if r.status != Status::Failed && pending["save"].as_bool() == Some(true) {
            match conn.save(timeout) {
                Ok(Some(resp)) => {
                    if let Some(f) = &resp.failed {
                        r.status = Status::Failed;
                        r.msg = Some(format!("confirmed, but saving the config failed: {f}"));
                    }
                    r.commands.push(CommandOutput {
                        command: resp.command,
                        output: resp.output,
                        exit_status: None,
                        error: resp.failed,
                        parsed: None,
                    });
                }
                Ok(None) => {}
                Err(e) => return device_failure(&e),
            }
        }
        r
    }
}
