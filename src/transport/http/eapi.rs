//! Arista eAPI: JSON-RPC 2.0 `runCmds` on `/command-api`. One request runs a list of CLI
//! commands in one session (so `configure` ... `end` works) and answers with one result per
//! command, or an error naming the command that failed and what each command produced.

use serde_json::{json, Value};

use crate::secret::Secret;

pub const PATH: &str = "/command-api";
pub const CONTENT_TYPE: &str = "application/json";

/// A `runCmds` body. `enable` (with the enable secret as its input) goes first, as
/// Ansible's eos httpapi does, so the session is privileged whatever the user's default.
pub fn run_cmds(id: u64, enable: Option<&Secret>, cmds: &[String], format: &str) -> Vec<u8> {
    let mut list = Vec::with_capacity(cmds.len() + 1);
    list.push(match enable {
        Some(s) => json!({"cmd": "enable", "input": s.expose()}),
        None => json!("enable"),
    });
    list.extend(cmds.iter().map(|c| json!(c)));
    let body = json!({
        "jsonrpc": "2.0",
        "method": "runCmds",
        "params": {"version": 1, "cmds": list, "format": format},
        "id": format!("netorch-{id}"),
    });
    body.to_string().into_bytes()
}

/// What a `runCmds` answer says, per command (the leading `enable` left out).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The results of the commands that ran: text output, or JSON data.
    pub results: Vec<Value>,
    /// The command that failed (its index into the caller's list) and the device's words.
    pub failed: Option<(usize, String)>,
}

/// Read a `runCmds` answer; `None` when it is not a JSON-RPC answer at all.
pub fn parse(v: &Value) -> Option<Outcome> {
    if let Some(result) = v.get("result").and_then(Value::as_array) {
        return Some(Outcome {
            results: result.iter().skip(1).cloned().collect(),
            failed: None,
        });
    }
    let err = v.get("error")?;
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("command failed")
        .to_string();
    let data = err.get("data").and_then(Value::as_array);
    let mut results = Vec::new();
    let mut failed = None;
    if let Some(data) = data {
        for (i, d) in data.iter().enumerate().skip(1) {
            let errors: Vec<String> = d
                .get("errors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !errors.is_empty() {
                // As the CLI shows it: `% Invalid input ...`.
                let shown: Vec<String> = errors
                    .iter()
                    .map(|e| {
                        if e.starts_with('%') {
                            e.clone()
                        } else {
                            format!("% {e}")
                        }
                    })
                    .collect();
                failed = Some((i - 1, errors.join("\n")));
                results.push(Value::String(shown.join("\n")));
                break;
            }
            results.push(d.clone());
        }
    }
    if failed.is_none() {
        // An error with no per-command detail (a bad request, enable refused): the
        // message is all there is, and the first command carries it.
        failed = Some((results.len(), message));
    }
    Some(Outcome { results, failed })
}

/// The text of one text-format result (`{"output": "..."}`).
pub fn text_of(result: &Value) -> String {
    match result.get("output").and_then(Value::as_str) {
        Some(s) => s.to_string(),
        None => match result {
            Value::String(s) => s.clone(),
            Value::Object(m) if m.is_empty() => String::new(),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_cmds_puts_enable_first_and_masks_nothing_else() {
        let body = run_cmds(
            7,
            Some(&Secret::new("s3")),
            &["show version".into()],
            "text",
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["params"]["cmds"][0]["input"], "s3");
        assert_eq!(v["params"]["cmds"][1], "show version");
        assert_eq!(v["id"], "netorch-7");
    }

    #[test]
    fn answers_and_errors_are_read() {
        let ok = json!({"jsonrpc":"2.0","id":"1","result":[{}, {"output":"ver\n"}]});
        let o = parse(&ok).unwrap();
        assert_eq!(text_of(&o.results[0]), "ver\n");
        assert!(o.failed.is_none());
        let bad = json!({"jsonrpc":"2.0","id":"1","error":{"code":1002,
            "message":"CLI command 3 of 3 'show bogus' failed: invalid command",
            "data":[{}, {"output":"a"}, {"errors":["Invalid input (at token 1: 'bogus')"]}]}});
        let o = parse(&bad).unwrap();
        assert_eq!(
            o.failed,
            Some((1, "Invalid input (at token 1: 'bogus')".into()))
        );
        assert_eq!(text_of(&o.results[0]), "a");
        assert_eq!(
            text_of(&o.results[1]),
            "% Invalid input (at token 1: 'bogus')"
        );
        let bare =
            json!({"jsonrpc":"2.0","id":"1","error":{"code":-32600,"message":"Invalid request"}});
        assert_eq!(
            parse(&bare).unwrap().failed,
            Some((0, "Invalid request".into()))
        );
        assert!(parse(&json!({"x": 1})).is_none());
    }
}
