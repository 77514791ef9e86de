//! Values as Ansible (Python) writes them: `{{ flag }}` is `True`, `{{ none }}` is empty, a
//! list is `['a', 1]`, and `to_json` is `json.dumps` (`", "` separators, `\u00fc` for
//! non-ASCII). Templates written for Ansible must render the same bytes here.

use std::fmt::Write;

use minijinja::value::{Value, ValueKind};

/// `str(value)` as Ansible's template output gives it (None renders as nothing).
pub fn to_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::None | ValueKind::Undefined => String::new(),
        _ => repr(v),
    }
}

/// Python's `repr()`.
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v, 0);
    out
}

/// Deeper than this, a value is written as minijinja shows it: it can only be an object
/// that holds itself (check's stand-in for a value the run will have is one).
pub const MAX_DEPTH: usize = 256;

fn write_repr(out: &mut String, v: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str(&v.to_string());
        return;
    }
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => out.push_str(&number(v)),
        ValueKind::String => out.push_str(&repr_str(v.as_str().unwrap_or_default())),
        ValueKind::Bytes => {
            let b = v.as_bytes().unwrap_or_default();
            out.push('b');
            out.push_str(&repr_str(&String::from_utf8_lossy(b)));
        }
        ValueKind::Map => {
            out.push('{');
            for (i, k) in v.try_iter().into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, &k, depth + 1);
                out.push_str(": ");
                write_repr(out, &v.get_item(&k).unwrap_or_default(), depth + 1);
            }
            out.push('}');
        }
        ValueKind::Seq => {
            out.push('[');
            for (i, item) in v.try_iter().into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, &item, depth + 1);
            }
            out.push(']');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// A number as Python prints it: `1.0`, `1e+16`, `1e-05`.
pub fn number(v: &Value) -> String {
    if v.is_integer() {
        return v.to_string();
    }
    match f64::try_from(v.clone()) {
        Ok(f) => float(f),
        Err(_) => v.to_string(),
    }
}

pub fn float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust's `{:e}` is shortest round-trip like Python's repr; only the exponent differs.
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{m}e{sign}{digits:0>2}");
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `json.dumps(v, indent=indent, sort_keys=sort_keys)` (ensure_ascii on); with an
/// indent the item separator is `,` (as Ansible's to_nice_json asks), else `, `.
pub fn json_dumps(v: &Value, indent: Option<usize>, sort_keys: bool) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, indent, sort_keys, 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

fn write_json(
    out: &mut String,
    v: &Value,
    indent: Option<usize>,
    sort: bool,
    level: usize,
) -> Result<(), String> {
    if level > MAX_DEPTH {
        return Err(format!(
            "the value is nested more than {MAX_DEPTH} levels deep"
        ));
    }
    let sep = if indent.is_some() { "," } else { ", " };
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            let n = number(v);
            out.push_str(match n.as_str() {
                "nan" => "NaN",
                "inf" => "Infinity",
                "-inf" => "-Infinity",
                _ => &n,
            })
        }
        ValueKind::String => json_str(out, v.as_str().unwrap_or_default()),
        ValueKind::Map => {
            let mut keys: Vec<Value> = v.try_iter().map_err(|e| e.to_string())?.collect();
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if sort {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(out, indent, level + 1);
                match k.as_str() {
                    Some(s) => json_str(out, s),
                    None => json_str(out, &to_json_key(k)),
                }
                out.push_str(": ");
                let item = v.get_item(k).map_err(|e| e.to_string())?;
                write_json(out, &item, indent, sort, level + 1)?;
            }
            newline(out, indent, level);
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter().map_err(|e| e.to_string())?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(out, indent, level + 1);
                write_json(out, item, indent, sort, level + 1)?;
            }
            newline(out, indent, level);
            out.push(']');
        }
        other => return Err(format!("a {other} value cannot be written as JSON")),
    }
    Ok(())
}

/// JSON keys that are not strings, as Python turns them into strings.
fn to_json_key(k: &Value) -> String {
    match k.kind() {
        ValueKind::Bool => if k.is_true() { "true" } else { "false" }.into(),
        ValueKind::None => "null".into(),
        _ => number(k),
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
