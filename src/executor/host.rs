//! One host's state through a run: its variables for the current play, the facts and
//! registered results it has gathered (kept across plays, as in Ansible), its connection,
//! and whether it has failed or become unreachable (then it runs nothing more).

use serde_json::Value;

use crate::device::Connection;
use crate::jinja::Templates;
use crate::report::{Status, TaskResult};
use crate::value::Vars;

pub struct HostState {
    pub name: String,
    pub groups: Vec<String>,
    /// Inventory + play + extra vars and magic names, templated values rendered.
    pub base: Vars,
    /// Variables that could not be rendered, with the reason (shown when one is used).
    pub unresolved: Vec<(String, String)>,
    /// `set_fact` values and registered results; they win over `base` (extra vars aside,
    /// which are re-applied on top).
    pub facts: Vars,
    pub extra: Vars,
    pub conn: Option<Connection>,
    /// Cuts the connection from outside when the host's deadline passes.
    pub abort: super::AbortSlot,
    pub failed: bool,
    pub unreachable: bool,
    /// Handler names and `listen` topics notified during the current play.
    pub notified: Vec<String>,
    /// The blocks this host is inside and their failures.
    pub blocks: super::block::BlockState,
}

impl HostState {
    pub fn new(name: &str, groups: &[String]) -> Self {
        HostState {
            name: name.to_string(),
            groups: groups.to_vec(),
            base: Vars::new(),
            unresolved: Vec::new(),
            facts: Vars::new(),
            extra: Vars::new(),
            conn: None,
            abort: super::AbortSlot::default(),
            failed: false,
            unreachable: false,
            notified: Vec::new(),
            blocks: Default::default(),
        }
    }

    /// Still taking part: neither failed nor unreachable.
    pub fn active(&self) -> bool {
        !self.failed && !self.unreachable
    }

    /// The variables a task sees: base < facts < task vars < extra vars.
    pub fn context(&self, templates: &Templates, task_vars: &Vars) -> Result<Vars, crate::Error> {
        let mut ctx = self.base.clone();
        for (k, v) in &self.facts {
            ctx.insert(k.clone(), v.clone());
        }
        if !task_vars.is_empty() {
            let snapshot = ctx.clone();
            for (k, v) in task_vars {
                let v = match v {
                    Value::String(s) if s.contains("{{") => {
                        let what = format!("task var `{k}`");
                        let t = s.trim();
                        if crate::jinja::is_single_expression(t) {
                            templates.eval(t, &snapshot, &what)?
                        } else {
                            Value::String(templates.render_str(s, &snapshot, &what)?)
                        }
                    }
                    other => match crate::vault::find_marker(other) {
                        Some(m) => {
                            return Err(crate::Error::Template {
                                context: format!("task var `{k}`"),
                                message: crate::vault::unusable_reason(m),
                            })
                        }
                        None => other.clone(),
                    },
                };
                ctx.insert(k.clone(), v);
            }
        }
        for (k, v) in &self.extra {
            // An undecrypted !vault value stays out, as `resolve_vars` left it (unresolved).
            if crate::vault::find_marker(v).is_some() {
                continue;
            }
            ctx.insert(k.clone(), v.clone());
        }
        Ok(ctx)
    }

    /// Record what a task did: failure state, notifications, registered result, facts.
    /// `in_block`: an enclosing block took the failure, so the host goes on.
    pub fn absorb(
        &mut self,
        result: &TaskResult,
        register: Option<&str>,
        notify: &[String],
        in_block: bool,
    ) {
        match result.status {
            Status::Unreachable if !result.ignored => self.unreachable = true,
            Status::Failed if !result.ignored && !in_block => self.failed = true,
            Status::Changed => {
                for n in notify {
                    if !self.notified.contains(n) {
                        self.notified.push(n.clone());
                    }
                }
            }
            _ => {}
        }
        if let Some(facts) = result.data.get("facts").and_then(Value::as_object) {
            for (k, v) in facts {
                self.facts.insert(k.clone(), v.clone());
            }
        }
        if let Some(gathered) = result.data.get("ansible_facts").and_then(Value::as_object) {
            self.absorb_ansible_facts(gathered);
        }
        if let Some(name) = register {
            self.facts.insert(name.to_string(), registered(result));
        }
    }

    /// Gathered facts as Ansible injects them: each `ansible_net_x` a variable, and all of
    /// them in `ansible_facts` without the `ansible_` prefix (`ansible_facts.net_version`).
    fn absorb_ansible_facts(&mut self, gathered: &serde_json::Map<String, Value>) {
        let mut all = match self.facts.get("ansible_facts") {
            Some(Value::Object(m)) => m.clone(),
            _ => serde_json::Map::new(),
        };
        for (k, v) in gathered {
            self.facts.insert(k.clone(), v.clone());
            all.insert(
                k.strip_prefix("ansible_").unwrap_or(k).to_string(),
                v.clone(),
            );
        }
        self.facts
            .insert("ansible_facts".into(), Value::Object(all));
    }

    /// Add the reason behind an undefined variable to an error message, if we know it.
    pub fn explain(&self, msg: String) -> String {
        let mut msg = msg;
        for (name, why) in &self.unresolved {
            if msg.contains(&format!("`{name}`")) {
                msg.push_str(&format!("\n  `{name}` could not be rendered: {why}"));
            }
        }
        msg
    }
}

/// The value a `register:` stores: Ansible's shape (`changed`, `failed`, `stdout`,
/// `stdout_lines`, `msg`, `rc`, `results` for loops) plus netorch's per-command `outputs`.
pub fn registered(r: &TaskResult) -> Value {
    let stdout = r.stdout();
    let stdout_lines: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(Value::from)
        .collect();
    let mut m = serde_json::Map::new();
    m.insert("changed".into(), Value::Bool(r.status == Status::Changed));
    m.insert("failed".into(), Value::Bool(r.status.is_failure()));
    m.insert("skipped".into(), Value::Bool(r.status == Status::Skipped));
    m.insert(
        "unreachable".into(),
        Value::Bool(r.status == Status::Unreachable),
    );
    m.insert("status".into(), Value::from(r.status.as_str()));
    if let Some(msg) = &r.msg {
        m.insert("msg".into(), Value::from(msg.as_str()));
    }
    m.insert("stdout".into(), Value::from(stdout));
    m.insert("stdout_lines".into(), Value::Array(stdout_lines));
    if let Some(rc) = r.commands.iter().rev().find_map(|c| c.exit_status) {
        m.insert("rc".into(), Value::from(rc));
    }
    let outputs: Vec<Value> = r
        .commands
        .iter()
        .map(|c| {
            serde_json::json!({
                "command": c.command,
                "stdout": c.output,
                "stdout_lines": c.output.lines().collect::<Vec<_>>(),
                "exit_status": c.exit_status,
                "error": c.error,
                "parsed": c.parsed,
            })
        })
        .collect();
    m.insert("outputs".into(), Value::Array(outputs));
    // `parsed`: the records of the one command, or one list per command (Ansible's
    // `cli_parse` registers `parsed` the same way for one command).
    let parsed: Vec<&Value> = r
        .commands
        .iter()
        .filter_map(|c| c.parsed.as_ref())
        .collect();
    match parsed.as_slice() {
        [] => {}
        [one] if r.commands.len() == 1 => {
            m.insert("parsed".into(), (*one).clone());
        }
        _ => {
            m.insert(
                "parsed".into(),
                Value::Array(
                    r.commands
                        .iter()
                        .map(|c| c.parsed.clone().unwrap_or(Value::Null))
                        .collect(),
                ),
            );
        }
    }
    if let Some(d) = &r.diff {
        m.insert("diff".into(), Value::from(d.as_str()));
    }
    if !r.items.is_empty() {
        m.insert(
            "results".into(),
            Value::Array(r.items.iter().map(registered).collect()),
        );
    }
    m.insert("attempts".into(), Value::from(r.attempts));
    if let Value::Object(data) = &r.data {
        for (k, v) in data {
            // An Ansible module's own `stdout` (one entry per command) wins over the text.
            if k == "stdout" || k == "stdout_lines" {
                m.insert(k.clone(), v.clone());
            } else {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CommandOutput;

    #[test]
    fn register_shape() {
        let mut r = TaskResult::ok();
        r.commands.push(CommandOutput {
            command: "show version".into(),
            output: "Cisco IOS XE\nuptime 1 day".into(),
            exit_status: None,
            error: None,
            parsed: None,
        });
        let v = registered(&r);
        assert_eq!(v["stdout"], "Cisco IOS XE\nuptime 1 day");
        assert_eq!(v["stdout_lines"][1], "uptime 1 day");
        assert_eq!(v["outputs"][0]["command"], "show version");
        assert_eq!(v["failed"], false);
    }

    #[test]
    fn failure_and_notify() {
        let mut h = HostState::new("r1", &[]);
        h.absorb(&TaskResult::changed(), Some("x"), &["reload".into()], false);
        assert_eq!(h.notified, vec!["reload".to_string()]);
        assert_eq!(h.facts["x"]["changed"], true);
        let mut ignored = TaskResult::failed("no");
        ignored.ignored = true;
        h.absorb(&ignored, None, &[], false);
        assert!(h.active());
        h.absorb(&TaskResult::unreachable("gone"), None, &[], false);
        assert!(!h.active());
    }
}
