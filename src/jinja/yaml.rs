//! `to_yaml` / `to_nice_yaml` as Ansible writes them with PyYAML: keys sorted, sequences
//! not indented under their key, `to_yaml` writes collections of scalars in flow style
//! (`[1, 2]`), strings that would read back as another type are quoted, long strings fold
//! at 80 columns. Reports diffed against Ansible's must be the same bytes.

use minijinja::value::{Value, ValueKind};

use super::python;

const WIDTH: usize = 80;

/// `yaml.dump(v, indent=indent, default_flow_style=flow)`: `flow` is None for `to_yaml`
/// (flow style for collections that hold only scalars), false for `to_nice_yaml`.
pub fn dump(v: &Value, indent: usize, flow_leaves: bool) -> Result<String, String> {
    let mut e = Emitter {
        out: String::new(),
        indent: indent.clamp(2, 9),
        flow_leaves,
    };
    e.node(v, 0, Ctx::Root)?;
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    Ok(e.out)
}

struct Emitter {
    out: String,
    indent: usize,
    flow_leaves: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    /// The value of a mapping key (after `key:`).
    MapValue,
    /// An item of a sequence (after `- `).
    SeqItem,
}

fn items(v: &Value) -> Result<Vec<Value>, String> {
    Ok(v.try_iter().map_err(|e| e.to_string())?.collect())
}

fn sorted_keys(v: &Value) -> Result<Vec<Value>, String> {
    let mut k = items(v)?;
    k.sort();
    Ok(k)
}

fn is_collection(v: &Value) -> bool {
    matches!(
        v.kind(),
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable
    )
}

impl Emitter {
    fn column(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map(|i| i + 1).unwrap_or(0)
    }

    fn is_flow(&self, v: &Value) -> Result<bool, String> {
        if !is_collection(v) {
            return Ok(false);
        }
        let all = items(v)?;
        if all.is_empty() {
            return Ok(true);
        }
        if !self.flow_leaves {
            return Ok(false);
        }
        let vals: Vec<Value> = if v.kind() == ValueKind::Map {
            all.iter()
                .map(|k| v.get_item(k).unwrap_or_default())
                .collect()
        } else {
            all
        };
        Ok(!vals.iter().any(is_collection))
    }

    /// Emit `v` at nesting `level` (its block indentation in columns).
    fn node(&mut self, v: &Value, level: usize, ctx: Ctx) -> Result<(), String> {
        if level > python::MAX_DEPTH * self.indent {
            return Err("the value is nested too deep".into());
        }
        if self.is_flow(v)? {
            if ctx != Ctx::Root {
                self.out.push(' ');
            }
            let indent = level + self.indent;
            self.flow(v, indent, 0)?;
            self.out.push('\n');
            return Ok(());
        }
        match v.kind() {
            ValueKind::Map => {
                let keys = sorted_keys(v)?;
                let child = match ctx {
                    Ctx::Root => 0,
                    Ctx::MapValue => {
                        self.out.push('\n');
                        level + self.indent
                    }
                    Ctx::SeqItem => {
                        self.pad_item(level);
                        level + self.indent
                    }
                };
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 || ctx == Ctx::MapValue {
                        self.out.push_str(&" ".repeat(child));
                    }
                    let key = self.scalar(k, child, false)?;
                    self.out.push_str(&key);
                    self.out.push(':');
                    let val = v.get_item(k).map_err(|e| e.to_string())?;
                    self.node(&val, child, Ctx::MapValue)?;
                }
            }
            ValueKind::Seq | ValueKind::Iterable => {
                let list = items(v)?;
                // PyYAML does not indent a block sequence under its mapping key.
                let me = match ctx {
                    Ctx::Root => 0,
                    Ctx::MapValue => {
                        self.out.push('\n');
                        level
                    }
                    Ctx::SeqItem => {
                        self.pad_item(level);
                        level + self.indent
                    }
                };
                for (i, item) in list.iter().enumerate() {
                    if i > 0 || ctx == Ctx::MapValue {
                        self.out.push_str(&" ".repeat(me));
                    }
                    self.out.push('-');
                    self.node(item, me, Ctx::SeqItem)?;
                }
            }
            _ => {
                if ctx != Ctx::Root {
                    self.out.push(' ');
                }
                let cont = match ctx {
                    Ctx::Root => self.indent,
                    _ => level + self.indent,
                };
                let s = self.scalar(v, cont, true)?;
                self.out.push_str(&s);
                self.out.push('\n');
            }
        }
        Ok(())
    }

    /// After a `-`, a block collection starts on the same line, its first entry at the
    /// next indentation step (`-   key: v` with indent 4).
    fn pad_item(&mut self, level: usize) {
        let col = self.column();
        let target = level + self.indent;
        self.out
            .push_str(&" ".repeat(target.saturating_sub(col).max(1)));
    }

    /// A flow collection (`[a, b]`, `{k: v}`) written at the cursor; `indent` is where
    /// PyYAML continues it on the next line once past 80 columns.
    fn flow(&mut self, v: &Value, indent: usize, depth: usize) -> Result<(), String> {
        if depth > python::MAX_DEPTH {
            return Err("the value is nested too deep".into());
        }
        let map = v.kind() == ValueKind::Map;
        self.out.push(if map { '{' } else { '[' });
        let entries = if map { sorted_keys(v)? } else { items(v)? };
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            if self.column() > WIDTH {
                self.out.push('\n');
                self.out.push_str(&" ".repeat(indent));
            } else if i > 0 {
                self.out.push(' ');
            }
            let val = if map {
                let key = self.flow_scalar(e, indent + self.indent, false)?;
                self.out.push_str(&key);
                self.out.push(':');
                self.out.push(' ');
                v.get_item(e).map_err(|e| e.to_string())?
            } else {
                e.clone()
            };
            if is_collection(&val) {
                self.flow(&val, indent + self.indent, depth + 1)?;
            } else {
                let text = self.flow_scalar(&val, indent + self.indent, true)?;
                self.out.push_str(&text);
            }
        }
        self.out.push(if map { '}' } else { ']' });
        Ok(())
    }

    fn flow_scalar(&self, v: &Value, cont: usize, fold: bool) -> Result<String, String> {
        match v.as_str() {
            Some(s) if !plain_ok(s, true) => Ok(quoted(s, self.column(), cont, fold)),
            _ => self.scalar(v, cont, fold),
        }
    }

    /// A scalar; `cont` is the indentation of its continuation lines when it folds.
    fn scalar(&self, v: &Value, cont: usize, fold: bool) -> Result<String, String> {
        Ok(match v.kind() {
            ValueKind::None | ValueKind::Undefined => "null".into(),
            ValueKind::Bool => if v.is_true() { "true" } else { "false" }.into(),
            ValueKind::Number => {
                if v.is_integer() {
                    v.to_string()
                } else {
                    let f = f64::try_from(v.clone()).map_err(|e| e.to_string())?;
                    if f.is_nan() {
                        ".nan".into()
                    } else if f.is_infinite() {
                        if f > 0.0 { ".inf" } else { "-.inf" }.into()
                    } else {
                        let r = python::float(f);
                        match r.split_once('e') {
                            Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
                            _ => r,
                        }
                    }
                }
            }
            ValueKind::String => {
                let s = v.as_str().unwrap_or_default();
                let col = self.column();
                if plain_ok(s, false) {
                    if fold {
                        folded_plain(s, col, cont)
                    } else {
                        s.to_string()
                    }
                } else {
                    quoted(s, col, cont, fold)
                }
            }
            other => return Err(format!("a {other} value cannot be written as YAML")),
        })
    }
}

/// Whether PyYAML writes `s` without quotes (`flow`: inside `[..]` / `{..}`).
fn plain_ok(s: &str, flow: bool) -> bool {
    if s.is_empty() || s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if resolves_to_other_type(s) {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let first = chars[0];
    let followed_by_space = |i: usize| chars.get(i + 1).is_none_or(|c| *c == ' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if "?:-".contains(first) && followed_by_space(0) {
        return false;
    }
    for (i, &c) in chars.iter().enumerate() {
        let printable = c == ' ' || ('\x21'..='\x7e').contains(&c) || (c as u32) >= 0xa0;
        if !printable || c == '\u{feff}' {
            return false;
        }
        if i > 0 && c == '#' && chars[i - 1] == ' ' {
            return false;
        }
        if c == ':' && (followed_by_space(i) || (flow && i + 1 < chars.len())) {
            return false;
        }
        if flow && ",?[]{}".contains(c) {
            return false;
        }
    }
    true
}

/// PyYAML's implicit resolvers: a plain string that would read back as a bool, number,
/// null or date must be quoted.
fn resolves_to_other_type(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "<<", "=",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(concat!(
            r"^(?:",
            r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
            r"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?",
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
            r")$"
        ))
        .ok()
    });
    RE.as_ref().is_some_and(|re| re.is_match(s))
}

/// A plain scalar, broken at a space once past 80 columns.
fn folded_plain(s: &str, start_col: usize, cont: usize) -> String {
    let mut out = String::new();
    let mut col = start_col;
    let words: Vec<&str> = s.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            // A single space between words may become a line break.
            let single = !w.is_empty() && !words[i - 1].is_empty();
            if single && col > WIDTH {
                out.push('\n');
                out.push_str(&" ".repeat(cont));
                col = cont;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(w);
        col += w.chars().count();
    }
    out
}

/// Single-quoted (or double-quoted when the text holds characters single quotes cannot).
fn quoted(s: &str, start_col: usize, cont: usize, fold: bool) -> String {
    let needs_double = s.chars().any(|c| {
        !(c == '\n' || c == ' ' || ('\x21'..='\x7e').contains(&c) || (c as u32) >= 0xa0)
            || c == '\u{feff}'
    }) || s.contains(" \n")
        || s.contains("\n ");
    if needs_double {
        return double_quoted(s);
    }
    let mut out = String::from("'");
    let mut col = start_col + 1;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            // A line break is written as an empty line, then the indentation.
            let mut n = 0;
            while i < chars.len() && chars[i] == '\n' {
                n += 1;
                i += 1;
            }
            out.push('\n');
            for _ in 0..n {
                out.push('\n');
            }
            out.push_str(&" ".repeat(cont));
            col = cont;
            continue;
        }
        if c == ' ' {
            let single =
                i > 0 && chars.get(i + 1).is_some_and(|n| *n != ' ') && chars[i - 1] != ' ';
            if fold && single && col > WIDTH && i + 1 < chars.len() {
                out.push('\n');
                out.push_str(&" ".repeat(cont));
                col = cont;
                i += 1;
                continue;
            }
        }
        if c == '\'' {
            out.push_str("''");
            col += 2;
        } else {
            out.push(c);
            col += 1;
        }
        i += 1;
    }
    out.push('\'');
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            '\u{feff}' => out.push_str("\\uFEFF"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
