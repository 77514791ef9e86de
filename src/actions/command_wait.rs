//! `wait_for` of Ansible's `*_command` modules: conditions on the commands' output such as
//! `result[0] contains IOS`, read as ansible.netcommon's `Conditional` reads them (shlex
//! words: the key first, the value last, the operator between, `not` negating), checked
//! after every round of the commands until they hold or the retries run out.

use std::fmt;

use serde_json::Value;

/// One `wait_for` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditional {
    /// As written, for messages and `failed_conditions`.
    pub raw: String,
    key: String,
    op: Op,
    negate: bool,
    value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    Matches,
}

const OPERATORS: &str =
    "eq (==), neq (ne, !=), gt (>), ge (>=), lt (<), le (<=), contains, matches";

impl Conditional {
    /// Parse `result[0] contains IOS`; the error says what was expected.
    pub fn parse(raw: &str) -> Result<Conditional, String> {
        let bad = |why: &str| {
            format!("wait_for `{raw}`: {why}; expected `result[N] <operator> <value>` with an operator of {OPERATORS}")
        };
        let words = shlex::split(raw).ok_or_else(|| bad("unbalanced quotes"))?;
        if words.len() < 3 {
            return Err(bad("too few words"));
        }
        let key = words[0].clone();
        if !key.starts_with("result") {
            return Err(bad("the key must start with `result`"));
        }
        let mut ops: Vec<&str> = words[1..words.len() - 1]
            .iter()
            .map(String::as_str)
            .collect();
        let negate = match ops.iter().position(|w| *w == "not") {
            Some(i) => {
                ops.remove(i);
                true
            }
            None => false,
        };
        let op = match ops.first().copied() {
            Some("eq" | "==") => Op::Eq,
            Some("neq" | "ne" | "!=") => Op::Neq,
            Some("gt" | ">") => Op::Gt,
            Some("ge" | ">=") => Op::Ge,
            Some("lt" | "<") => Op::Lt,
            Some("le" | "<=") => Op::Le,
            Some("contains") => Op::Contains,
            Some("matches") => Op::Matches,
            Some(other) => return Err(bad(&format!("unknown operator `{other}`"))),
            None => return Err(bad("no operator")),
        };
        let last = &words[words.len() - 1];
        if op == Op::Matches {
            python_regex(last).map_err(|e| {
                bad(&format!(
                    "`{last}` is not a valid regular expression ({})",
                    e.to_string().lines().last().unwrap_or_default().trim()
                ))
            })?;
        }
        Ok(Conditional {
            raw: raw.to_string(),
            key,
            op,
            negate,
            value: cast(last),
        })
    }

    /// Whether the condition holds for the commands' responses (`result`); an error when
    /// the key names nothing there or a number was expected.
    pub fn check(&self, responses: &[Value]) -> Result<bool, String> {
        let root = serde_json::json!({ "result": responses });
        let found = lookup(&root, &self.key)
            .ok_or_else(|| format!("unable to apply conditional to result: `{}`", self.raw))?;
        let holds = match self.op {
            Op::Eq => *found == self.value,
            Op::Neq => *found != self.value,
            Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                let (Some(a), Some(b)) = (number(found), number(&self.value)) else {
                    return Err(format!("`{}`: {} is not a number", self.raw, short(found)));
                };
                match self.op {
                    Op::Gt => a > b,
                    Op::Ge => a >= b,
                    Op::Lt => a < b,
                    _ => a <= b,
                }
            }
            Op::Contains => {
                let needle = text(&self.value);
                match found {
                    Value::String(s) => s.contains(&needle),
                    Value::Array(a) => a.iter().any(|v| text(v) == needle),
                    Value::Object(o) => o.contains_key(&needle),
                    other => text(other).contains(&needle),
                }
            }
            Op::Matches => {
                let re = python_regex(&text(&self.value)).map_err(|e| e.to_string())?;
                re.is_match(&text(found)).map_err(|e| e.to_string())?
            }
        };
        Ok(holds != self.negate)
    }
}

impl fmt::Display for Conditional {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// `re.search(value, text, re.M)` as netcommon runs it: Python syntax, look-around too.
fn python_regex(pattern: &str) -> Result<fancy_regex::Regex, fancy_regex::Error> {
    fancy_regex::Regex::new(&format!("(?m){pattern}"))
}

/// The value as Ansible casts it: booleans, whole numbers, else the string.
fn cast(v: &str) -> Value {
    match v {
        // Ansible's booleans, except `1`/`0`: Python's `1 == True` has no JSON equivalent.
        "y" | "yes" | "on" | "t" | "true" | "True" | "TRUE" => return Value::Bool(true),
        "n" | "no" | "off" | "f" | "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = v.parse::<u64>() {
            return Value::from(n);
        }
    }
    Value::from(v)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn short(v: &Value) -> String {
    let t = text(v);
    let first: String = t.chars().take(60).collect();
    if first.len() < t.len() {
        format!("`{first}...`")
    } else {
        format!("`{first}`")
    }
}

/// `result[0].interfaces['Ethernet1'].status` in `root`, as netcommon's `get_json` walks it.
fn lookup<'v>(root: &'v Value, key: &str) -> Option<&'v Value> {
    let mut cur = root;
    let mut rest = key;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim_matches(|c| c == '\'' || c == '"');
            rest = &r[end + 1..];
            cur = match inner.parse::<usize>() {
                Ok(i) if cur.is_array() => cur.get(i)?,
                _ => cur.get(inner)?,
            };
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        cur = cur.get(&rest[..end])?;
        rest = &rest[end..];
    }
    Some(cur)
}

/// A command's output as `result[N]` holds it: JSON answers as data, else the text.
pub fn response(output: &str) -> Value {
    let t = output.trim();
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            return v;
        }
    }
    Value::from(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(c: &str, responses: &[Value]) -> Result<bool, String> {
        Conditional::parse(c)?.check(responses)
    }

    #[test]
    fn ansible_conditionals() {
        let r = vec![
            Value::from("Cisco IOS XE Software, Version 17.03.04a"),
            Value::from("5"),
            response(
                r#"{"version": "4.28.3M", "memFree": 2630404, "interfaces": {"Ethernet1": {"status": "up"}}}"#,
            ),
        ];
        assert!(holds("result[0] contains IOS", &r).unwrap());
        assert!(holds("result[0] contains 'IOS XE'", &r).unwrap());
        assert!(!holds("result[0] contains NX-OS", &r).unwrap());
        assert!(holds("result[0] not contains NX-OS", &r).unwrap());
        assert!(holds(r"result[0] matches 'Version\s+17\.'", &r).unwrap());
        assert!(holds(r"result[0] matches '^Cisco(?! NX)'", &r).unwrap());
        assert!(holds("result[1] > 4", &r).unwrap());
        assert!(holds("result[1] le 5", &r).unwrap());
        assert!(!holds("result[1] lt 5", &r).unwrap());
        assert!(holds("result[2].version == 4.28.3M", &r).unwrap());
        assert!(holds("result[2].memFree gt 1000", &r).unwrap());
        assert!(holds("result[2].interfaces['Ethernet1'].status eq up", &r).unwrap());
        assert!(holds("result[2].version neq 4.27", &r).unwrap());
        assert!(holds("result[3] contains x", &r)
            .unwrap_err()
            .contains("unable to apply"));
        assert!(holds("result[0] > 3", &r)
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn bad_conditionals_name_the_problem() {
        assert!(Conditional::parse("result[0] resembles x")
            .unwrap_err()
            .contains("unknown operator `resembles`"));
        assert!(Conditional::parse("result[0]")
            .unwrap_err()
            .contains("too few words"));
        assert!(Conditional::parse("output contains x")
            .unwrap_err()
            .contains("start with `result`"));
        assert!(Conditional::parse("result[0] matches (")
            .unwrap_err()
            .contains("regular expression"));
    }
}
