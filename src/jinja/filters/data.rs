//! Ansible's data filters: JSON and YAML out (as Python writes them) and in, `type_debug`,
//! and `json_query` (JMESPath).

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::Error;

use super::invalid;
use crate::jinja::{python, yaml};

fn indent_arg(kwargs: &Kwargs, default: Option<usize>) -> Result<Option<usize>, Error> {
    Ok(match kwargs.get::<Option<Value>>("indent")? {
        Some(v) if v.is_none() => None,
        Some(v) => Some(usize::try_from(v)?),
        None => default,
    })
}

pub fn to_json(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    if crate::jinja::holds_unknown(&value, 0) {
        return Ok(String::new());
    }
    let indent = indent_arg(&kwargs, None)?;
    let sort = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    // Arguments of json.dumps that change nothing here.
    let _ = kwargs.get::<Option<Value>>("ensure_ascii")?;
    let _ = kwargs.get::<Option<Value>>("vault_to_text")?;
    let _ = kwargs.get::<Option<Value>>("preprocess_unsafe")?;
    kwargs.assert_all_used()?;
    python::json_dumps(&value, indent, sort).map_err(|e| invalid(format!("to_json: {e}")))
}

pub fn to_nice_json(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    if crate::jinja::holds_unknown(&value, 0) {
        return Ok(String::new());
    }
    let indent = indent_arg(&kwargs, Some(4))?;
    let sort = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    let _ = kwargs.get::<Option<Value>>("ensure_ascii")?;
    let _ = kwargs.get::<Option<Value>>("vault_to_text")?;
    let _ = kwargs.get::<Option<Value>>("preprocess_unsafe")?;
    kwargs.assert_all_used()?;
    python::json_dumps(&value, indent, sort).map_err(|e| invalid(format!("to_nice_json: {e}")))
}

pub fn to_yaml(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    if crate::jinja::holds_unknown(&value, 0) {
        return Ok(String::new());
    }
    let indent = indent_arg(&kwargs, Some(2))?.unwrap_or(2);
    let flow = kwargs.get::<Option<Value>>("default_flow_style")?;
    kwargs.assert_all_used()?;
    let flow_leaves = flow.is_none_or(|f| f.is_none());
    yaml::dump(&value, indent, flow_leaves).map_err(|e| invalid(format!("to_yaml: {e}")))
}

pub fn to_nice_yaml(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    if crate::jinja::holds_unknown(&value, 0) {
        return Ok(String::new());
    }
    let indent = indent_arg(&kwargs, Some(4))?.unwrap_or(4);
    kwargs.assert_all_used()?;
    yaml::dump(&value, indent, false).map_err(|e| invalid(format!("to_nice_yaml: {e}")))
}

pub fn from_json(s: String) -> Result<Value, Error> {
    let v: serde_json::Value = serde_json::from_str(&s)
        .map_err(|e| invalid(format!("from_json: the text is not JSON: {e}")))?;
    Ok(Value::from_serialize(&v))
}

pub fn from_yaml(s: String) -> Result<Value, Error> {
    let v: serde_json::Value = serde_yaml::from_str(&s)
        .map_err(|e| invalid(format!("from_yaml: the text is not YAML: {e}")))?;
    Ok(Value::from_serialize(&v))
}

/// Python's type name of the value.
pub fn type_debug(v: Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// `data | json_query('interfaces[?state==`up`].name')`: JMESPath, as the jmespath Python
/// library that ansible.builtin (community.general) uses.
pub fn json_query(value: Value, expr: String) -> Result<Value, Error> {
    let compiled = jmespath::compile(&expr).map_err(|e| {
        invalid(format!(
            "json_query: `{expr}` is not a JMESPath expression: {e}"
        ))
    })?;
    let data = jmespath::Variable::from_serializable(&value)
        .map_err(|e| invalid(format!("json_query: the value cannot be queried: {e}")))?;
    let out = compiled
        .search(data)
        .map_err(|e| invalid(format!("json_query `{expr}` failed: {e}")))?;
    Ok(Value::from_serialize(&*out))
}

/// Jinja's `round(precision=0, method='common')` with Python's rounding: halves go to
/// the even neighbour (`2.5 | round` is `2.0`), as Ansible gives.
pub fn round(value: Value, precision: Option<i32>, method: Option<String>) -> Result<Value, Error> {
    let f = f64::try_from(value.clone())
        .map_err(|_| invalid(format!("round: `{value}` is not a number")))?;
    let p = precision.unwrap_or(0);
    let scale = 10f64.powi(p);
    let scaled = f * scale;
    let r = match method.as_deref().unwrap_or("common") {
        "common" => scaled.round_ties_even(),
        "ceil" => scaled.ceil(),
        "floor" => scaled.floor(),
        other => {
            return Err(invalid(format!(
                "round: method `{other}` must be common, ceil or floor"
            )))
        }
    };
    Ok(Value::from(r / scale))
}
