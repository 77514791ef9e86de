//! Cisco NX-API `ins_api` on `/ins`: `cli_show_ascii` for text output, `cli_show` for JSON,
//! `cli_conf` for configuration. Several commands go in one `input`, separated by ` ;`, and
//! come back as one output each (an object for one command, a list for several).

use serde_json::{json, Value};

pub const PATH: &str = "/ins";
pub const CONTENT_TYPE: &str = "application/json";

/// The message type for a `format`: text output, JSON data, or configuration.
pub fn msg_type(format: &str) -> &'static str {
    match format {
        "json" => "cli_show",
        "conf" | "config" => "cli_conf",
        _ => "cli_show_ascii",
    }
}

/// An `ins_api` body.
pub fn ins_api(kind: &str, cmds: &[String]) -> Vec<u8> {
    json!({
        "ins_api": {
            "version": "1.0",
            "type": kind,
            "chunk": "0",
            "sid": "1",
            "input": cmds.join(" ;"),
            "output_format": "json",
        }
    })
    .to_string()
    .into_bytes()
}

/// One command's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub ok: bool,
    pub body: Value,
    /// `clierror`, else `msg`, for a failed command.
    pub error: String,
}

/// The outputs of an `ins_api` answer, in command order; `None` when it is not one.
pub fn parse(v: &Value) -> Option<Vec<Output>> {
    let outputs = v.pointer("/ins_api/outputs/output")?;
    let list: Vec<&Value> = match outputs {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    Some(
        list.into_iter()
            .map(|o| {
                let code = match o.get("code") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                };
                let ok = code == "200";
                let error = o
                    .get("clierror")
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .or_else(|| o.get("msg").and_then(Value::as_str))
                    .unwrap_or_default()
                    .trim_end()
                    .to_string();
                Output {
                    ok,
                    body: o.get("body").cloned().unwrap_or(Value::Null),
                    error: if ok { String::new() } else { error },
                }
            })
            .collect(),
    )
}

/// The first failed output's message, for error texts.
pub fn first_error(v: &Value) -> Option<String> {
    parse(v)?.into_iter().find(|o| !o.ok).map(|o| o.error)
}

/// The text of one `cli_show_ascii` body.
pub fn text_of(body: &Value) -> String {
    match body {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_several_outputs_are_read() {
        let one = json!({"ins_api":{"outputs":{"output":{"input":"show clock","code":"200","msg":"Success","body":"12:00\n"}}}});
        let o = parse(&one).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(text_of(&o[0].body), "12:00\n");
        let two = json!({"ins_api":{"outputs":{"output":[
            {"code":"200","msg":"Success","body":{}},
            {"code":"400","msg":"Input CLI command error","clierror":"% Invalid command\n"}]}}});
        let o = parse(&two).unwrap();
        assert!(o[0].ok && !o[1].ok);
        assert_eq!(o[1].error, "% Invalid command");
        assert_eq!(first_error(&two).unwrap(), "% Invalid command");
        let body: Value =
            serde_json::from_slice(&ins_api("cli_conf", &["a".into(), "b".into()])).unwrap();
        assert_eq!(body["ins_api"]["input"], "a ;b");
    }
}
