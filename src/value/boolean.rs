//! Booleans as Ansible users write them. YAML 1.2 (serde_yaml) reads only `true`/`false`
//! as booleans, so `yes`, `on` and friends arrive as strings and are read here.
//!
//! One rule set everywhere (playbooks, host variables, schedules): case-insensitive
//! `true`/`yes`/`on`/`y`/`1` and `false`/`no`/`off`/`n`/`0`, and the integers 1 and 0, as
//! Ansible's `boolean()` accepts them. Anything else is an error, never a silent `false`.

use serde_json::Value;

/// What a boolean looks like, for messages.
pub const BOOL_EXPECTED: &str = "true or false";

/// `yes` -> true, `Off` -> false, `maybe` -> `None`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "1" => Some(true),
        "false" | "no" | "off" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// A whole number as a boolean: 1 and 0 only (`2` is more likely a mistake than "true").
pub fn bool_of_int(n: i128) -> Option<bool> {
    match n {
        1 => Some(true),
        0 => Some(false),
        _ => None,
    }
}

/// A boolean held in a JSON value (a host variable). `None` for what is not one.
pub fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .and_then(bool_of_int),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spellings() {
        for t in [
            "true", "True", "TRUE", "yes", "Yes", "on", "ON", "y", "Y", "1", " yes ",
        ] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "False", "no", "NO", "off", "Off", "n", "N", "0"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "maybe", "sure", "2", "-1", "ok", "enabled", "t", "f"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_values() {
        assert_eq!(bool_of(&json!(true)), Some(true));
        assert_eq!(bool_of(&json!("off")), Some(false));
        assert_eq!(bool_of(&json!(1)), Some(true));
        assert_eq!(bool_of(&json!(0)), Some(false));
        assert_eq!(bool_of(&json!(2)), None);
        assert_eq!(bool_of(&json!(1.0)), None);
        assert_eq!(bool_of(&json!("sure")), None);
        assert_eq!(bool_of(&json!(null)), None);
        assert_eq!(bool_of(&json!([true])), None);
    }
}
