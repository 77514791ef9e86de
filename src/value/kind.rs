//! How a value the user wrote is named in messages, in one set of words: "expected a
//! duration, found a list", "expected true or false, found string \"sure\"".

use serde::de::Unexpected;
use serde_json::Value;

pub const NULL: &str = "nothing (null)";
pub const BOOLEAN: &str = "a boolean";
pub const NUMBER: &str = "a number";
pub const STRING: &str = "a string";
pub const LIST: &str = "a list";
pub const MAPPING: &str = "a mapping";

/// The kind of a JSON value: `a list`, `a mapping`, `nothing (null)` ...
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Number(_) => NUMBER,
        Value::String(_) => STRING,
        Value::Array(_) => LIST,
        Value::Object(_) => MAPPING,
    }
}

/// A JSON value as shown after "found": scalars with their value (`string "lots"`,
/// `number 3`), lists and mappings by kind (their content may be long or secret).
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => NULL.to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string \"{s}\""),
        Value::Array(_) | Value::Object(_) => kind_of(v).to_string(),
    }
}

/// A scalar serde handed to a visitor, named as [`show`] names it (integers as `integer 3`,
/// since YAML tells them from decimals).
pub fn describe(u: Unexpected<'_>) -> String {
    match u {
        Unexpected::Str(s) => format!("string \"{s}\""),
        Unexpected::Signed(i) => format!("integer {i}"),
        Unexpected::Unsigned(i) => format!("integer {i}"),
        Unexpected::Float(f) => format!("number {f}"),
        Unexpected::Bool(b) => format!("boolean {b}"),
        Unexpected::Unit => NULL.to_string(),
        Unexpected::Seq => LIST.to_string(),
        Unexpected::Map => MAPPING.to_string(),
        other => other.to_string(),
    }
}

/// serde's own word for a kind (in "invalid type: sequence, expected ...") in ours.
pub fn serde_word(word: &str) -> String {
    match word {
        "sequence" => LIST.to_string(),
        "map" => MAPPING.to_string(),
        "unit value" => NULL.to_string(),
        other => other.replace('`', ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words() {
        assert_eq!(kind_of(&json!(null)), "nothing (null)");
        assert_eq!(kind_of(&json!([1])), "a list");
        assert_eq!(kind_of(&json!({"a": 1})), "a mapping");
        assert_eq!(show(&json!("lots")), "string \"lots\"");
        assert_eq!(show(&json!(3)), "number 3");
        assert_eq!(show(&json!({"pw": "secret"})), "a mapping");
        assert_eq!(describe(Unexpected::Seq), kind_of(&json!([])));
        assert_eq!(describe(Unexpected::Str("x")), show(&json!("x")));
        assert_eq!(serde_word("sequence"), "a list");
        assert_eq!(serde_word("string `x`"), "string x");
    }
}
