//! Parsed records (`parse:`) as a text table for people: `netorch exec --parse` and
//! `netorch parse`.

use serde_json::Value;

/// Records as an aligned text table: one column per key (in first-seen order), lists
/// joined with commas, long cells cut, control characters escaped.
pub fn records_table(v: &Value) -> String {
    const MAX: usize = 48;
    let records: Vec<&serde_json::Map<String, Value>> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => Vec::new(),
    };
    if records.is_empty() {
        return match v {
            Value::Array(_) => "(no records)\n".to_string(),
            other => format!("{}\n", crate::terminal::escape(&other.to_string())),
        };
    }
    let mut cols: Vec<&str> = Vec::new();
    for r in &records {
        for k in r.keys() {
            if !cols.contains(&k.as_str()) {
                cols.push(k);
            }
        }
    }
    let cell = |v: Option<&Value>| -> String {
        let s = match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            Some(other) => other.to_string(),
        };
        let s = crate::terminal::escape(&s).replace('\n', "\\n");
        if s.chars().count() > MAX {
            format!("{}…", s.chars().take(MAX - 1).collect::<String>())
        } else {
            s
        }
    };
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| cols.iter().map(|c| cell(r.get(*c))).collect())
        .collect();
    let heads: Vec<String> = cols
        .iter()
        .map(|c| crate::terminal::escape(c).to_uppercase())
        .collect();
    let widths: Vec<usize> = (0..cols.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([heads[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Too wide for a terminal (a `show version` record has 20 fields): one `key: value`
    // line per field, records apart by a blank line.
    let total: usize = widths.iter().map(|w| w + 2).sum();
    if total > 120 {
        let kw = heads.iter().map(|h| h.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (n, r) in rows.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            for (h, c) in heads.iter().zip(r) {
                let pad = " ".repeat(kw - h.chars().count());
                out.push_str(format!("{h}:{pad} {c}").trim_end());
                out.push('\n');
            }
        }
        return out;
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&heads);
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}
