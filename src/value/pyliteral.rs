//! Python literals, as `ast.literal_eval` reads them: how Ansible's INI inventory plugin
//! types a value (`x=5` is a number, `y=[1,2]` a list, `t=1,2` a tuple, `flag=yes` text).
//!
//! [`literal_eval`] answers `None` wherever Python would raise, and the caller keeps the
//! text, as Ansible does. Values JSON cannot hold the way Python does (complex numbers,
//! bytes, integers beyond 128 bits) are refused too, so they stay text.

use serde_json::{Map, Number, Value};

/// The value of `text` as a Python literal, or `None` when it is not one.
pub fn literal_eval(text: &str) -> Option<Value> {
    // literal_eval strips leading spaces and tabs only; the tokenizer skips the rest.
    let mut p = Parser {
        s: text.trim_start_matches([' ', '\t']).as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.top()?;
    p.skip_space();
    (p.i == p.s.len()).then_some(v)
}

/// Deeper than anyone means, and deep enough to be an attack on the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Spaces, tabs and a `#` comment to the end (Python's tokenizer ignores them).
    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\x0c' => self.i += 1,
                b'#' => self.i = self.s.len(),
                _ => break,
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// The whole expression: a bare `a, b` is a tuple, which JSON holds as a list.
    fn top(&mut self) -> Option<Value> {
        let first = self.value()?;
        if !self.eat(b',') {
            return Some(first);
        }
        let mut items = vec![first];
        loop {
            self.skip_space();
            if self.i == self.s.len() {
                break;
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                break;
            }
        }
        Some(Value::Array(items))
    }

    fn value(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Option<Value> {
        self.skip_space();
        let c = self.peek()?;
        match c {
            b'[' => {
                self.i += 1;
                Some(Value::Array(self.items(b']')?.0))
            }
            b'(' => {
                self.i += 1;
                let (items, comma) = self.items(b')')?;
                // `(1)` is 1; `(1,)` and `()` are tuples.
                if items.len() == 1 && !comma {
                    items.into_iter().next()
                } else {
                    Some(Value::Array(items))
                }
            }
            b'{' => {
                self.i += 1;
                self.dict_or_set()
            }
            b'-' | b'+' => {
                self.i += 1;
                self.skip_space();
                // One sign on a number; `--5` is not a literal.
                match self.peek()? {
                    b'0'..=b'9' | b'.' => {}
                    _ => return None,
                }
                let n = self.number()?;
                Some(if c == b'-' { negate(n)? } else { n })
            }
            b'0'..=b'9' => self.number(),
            b'.' if self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit) => self.number(),
            b'\'' | b'"' => self.strings(),
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.i += 1;
                }
                let word = &self.s[start..self.i];
                match word {
                    b"True" => Some(Value::Bool(true)),
                    b"False" => Some(Value::Bool(false)),
                    b"None" => Some(Value::Null),
                    // String prefixes: u'' is text, r'' raw; bytes and f-strings are not
                    // values JSON holds as Python does.
                    b"u" | b"U" | b"r" | b"R" if matches!(self.peek(), Some(b'\'' | b'"')) => {
                        self.i = start;
                        self.strings()
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Comma-separated values up to `close`; whether a comma was seen (for tuples).
    fn items(&mut self, close: u8) -> Option<(Vec<Value>, bool)> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Some((items, comma));
            }
            items.push(self.value()?);
            if self.eat(b',') {
                comma = true;
            } else if self.eat(close) {
                return Some((items, comma));
            } else {
                return None;
            }
        }
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        if self.eat(b'}') {
            return Some(Value::Object(Map::new()));
        }
        let first = self.value()?;
        if !self.eat(b':') {
            // A set: JSON has lists, and Ansible's JSON encoder writes sets as lists.
            let mut items = vec![first];
            loop {
                if self.eat(b'}') {
                    return Some(Value::Array(items));
                }
                if !self.eat(b',') {
                    return None;
                }
                if self.eat(b'}') {
                    return Some(Value::Array(items));
                }
                let v = self.value()?;
                if !items.contains(&v) {
                    items.push(v);
                }
            }
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            let v = self.value()?;
            map.insert(key_text(&key)?, v);
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            if !self.eat(b',') {
                return None;
            }
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            key = self.value()?;
            if !self.eat(b':') {
                return None;
            }
        }
    }

    /// One or more adjacent string literals, concatenated as Python does.
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        loop {
            self.skip_space();
            let raw = match self.peek()? {
                b'r' | b'R' => {
                    self.i += 1;
                    true
                }
                b'u' | b'U' => {
                    self.i += 1;
                    false
                }
                b'\'' | b'"' => false,
                _ => break,
            };
            out.push_str(&self.string(raw)?);
            self.skip_space();
            if !matches!(self.peek(), Some(b'\'' | b'"' | b'r' | b'R' | b'u' | b'U')) {
                break;
            }
        }
        Some(Value::String(out))
    }

    fn string(&mut self, raw: bool) -> Option<String> {
        let q = self.peek()?;
        if q != b'\'' && q != b'"' {
            return None;
        }
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            if c == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.s[self.i..].starts_with(&[q, q, q]) {
                    self.i += 3;
                    break;
                }
            }
            if c == b'\\' {
                let next = *self.s.get(self.i + 1)?;
                if raw {
                    out.extend_from_slice(&[c, next]);
                    self.i += 2;
                    continue;
                }
                self.i += 2;
                self.escape(next, &mut out)?;
                continue;
            }
            if c == b'\n' && !triple {
                return None;
            }
            out.push(c);
            self.i += 1;
        }
        String::from_utf8(out).ok()
    }

    fn escape(&mut self, e: u8, out: &mut Vec<u8>) -> Option<()> {
        let simple = match e {
            b'\n' => return Some(()),
            b'\\' | b'\'' | b'"' => e,
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'x' => return self.code_point(2, out),
            b'u' => return self.code_point(4, out),
            b'U' => return self.code_point(8, out),
            b'0'..=b'7' => {
                let start = self.i - 1;
                let mut end = self.i;
                while end < self.s.len() && end - start < 3 && (b'0'..=b'7').contains(&self.s[end])
                {
                    end += 1;
                }
                let n =
                    u32::from_str_radix(std::str::from_utf8(&self.s[start..end]).ok()?, 8).ok()?;
                self.i = end;
                let ch = char::from_u32(n)?;
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                return Some(());
            }
            // Python keeps an unknown escape as written (with a warning).
            other => {
                out.extend_from_slice(&[b'\\', other]);
                return Some(());
            }
        };
        out.push(simple);
        Some(())
    }

    fn code_point(&mut self, digits: usize, out: &mut Vec<u8>) -> Option<()> {
        let hex = self.s.get(self.i..self.i + digits)?;
        let n = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        self.i += digits;
        let ch = char::from_u32(n)?;
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
        Some(())
    }

    /// An int or float literal (no sign): Python's rules for prefixes, underscores and
    /// leading zeros.
    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            || (matches!(self.peek(), Some(b'+' | b'-'))
                && matches!(self.s.get(self.i.wrapping_sub(1)), Some(b'e' | b'E'))
                && !self.s[start..self.i].starts_with(b"0x")
                && !self.s[start..self.i].starts_with(b"0X"))
        {
            self.i += 1;
        }
        let tok = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        int_literal(tok).or_else(|| float_literal(tok))
    }
}

fn negate(v: Value) -> Option<Value> {
    let Value::Number(n) = v else { return None };
    if let Some(i) = n.as_i64() {
        return Some(Value::from(i.checked_neg()?));
    }
    if let Some(u) = n.as_u64() {
        // -(2**63) fits although 2**63 does not fit an i64.
        let i = i64::try_from(i128::from(u).checked_neg()?).ok()?;
        return Some(Value::from(i));
    }
    Number::from_f64(-n.as_f64()?).map(Value::Number)
}

/// A dict key as JSON text (Ansible's JSON output writes `1` as `"1"`, `True` as `"true"`).
fn key_text(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

/// Digits with single underscores between them (`1_000`, never `1__0`, `_1` or `1_`).
fn clean_digits(s: &str, ok: fn(u8) -> bool) -> Option<String> {
    let b = s.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' || s.contains("__") {
        return None;
    }
    if !b.iter().all(|&c| ok(c) || c == b'_') {
        return None;
    }
    Some(s.replace('_', ""))
}

fn int_literal(tok: &str) -> Option<Value> {
    let lower = tok.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r.strip_prefix('_').unwrap_or(r), 16)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (r.strip_prefix('_').unwrap_or(r), 8)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r.strip_prefix('_').unwrap_or(r), 2)
    } else {
        (lower.as_str(), 10)
    };
    let ok: fn(u8) -> bool = match radix {
        16 => |c| c.is_ascii_hexdigit(),
        8 => |c| (b'0'..=b'7').contains(&c),
        2 => |c| c == b'0' || c == b'1',
        _ => |c| c.is_ascii_digit(),
    };
    let clean = clean_digits(digits, ok)?;
    // Python refuses leading zeros on decimals (`0123`), except for zero itself (`00`).
    if radix == 10 && clean.len() > 1 && clean.starts_with('0') && clean.bytes().any(|c| c != b'0')
    {
        return None;
    }
    let n = u128::from_str_radix(&clean, radix).ok()?;
    u64::try_from(n).ok().map(Value::from)
}

fn float_literal(tok: &str) -> Option<Value> {
    let lower = tok.to_ascii_lowercase();
    let (mantissa, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let (whole, frac) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    if frac.is_none() && exp.is_none() {
        return None;
    }
    let digit = |c: u8| c.is_ascii_digit();
    let whole = if whole.is_empty() {
        String::new()
    } else {
        clean_digits(whole, digit)?
    };
    let frac = match frac {
        Some("") | None => String::new(),
        Some(f) => clean_digits(f, digit)?,
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match exp {
        Some(e) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", e.strip_prefix('+').unwrap_or(e)),
            };
            format!("e{sign}{}", clean_digits(digits, digit)?)
        }
        None => String::new(),
    };
    let f: f64 = format!(
        "{}.{}{exp}",
        if whole.is_empty() { "0" } else { &whole },
        if frac.is_empty() { "0" } else { &frac }
    )
    .parse()
    .ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::literal_eval;
    use serde_json::json;

    /// Each answer here is what Python 3.11's `ast.literal_eval` returns (as JSON), or
    /// `None` where it raises.
    #[test]
    fn values_as_python_reads_them() {
        for (text, want) in [
            ("5", Some(json!(5))),
            ("-3", Some(json!(-3))),
            ("+3", Some(json!(3))),
            ("--3", None),
            ("0x1F", Some(json!(31))),
            ("0o17", Some(json!(15))),
            ("0b101", Some(json!(5))),
            ("1_000", Some(json!(1000))),
            ("1__0", None),
            ("0123", None),
            ("00", Some(json!(0))),
            ("1.5", Some(json!(1.5))),
            ("1e3", Some(json!(1000.0))),
            ("1.", Some(json!(1.0))),
            (".5", Some(json!(0.5))),
            ("-2.5e-1", Some(json!(-0.25))),
            ("True", Some(json!(true))),
            ("true", None),
            ("None", Some(json!(null))),
            ("yes", None),
            ("[1,2]", Some(json!([1, 2]))),
            ("[a,b]", None),
            ("['a', \"b\",]", Some(json!(["a", "b"]))),
            ("1,2", Some(json!([1, 2]))),
            ("(1)", Some(json!(1))),
            ("(1,)", Some(json!([1]))),
            ("()", Some(json!([]))),
            ("{'a': 1, 'b': [2, 3]}", Some(json!({"a": 1, "b": [2, 3]}))),
            ("{1: 'x', True: 'y'}", Some(json!({"1": "x", "true": "y"}))),
            ("{}", Some(json!({}))),
            ("{1, 2}", Some(json!([1, 2]))),
            ("'a' 'b'", Some(json!("ab"))),
            ("'tab\\there'", Some(json!("tab\there"))),
            ("r'a\\tb'", Some(json!("a\\tb"))),
            ("'\\x41\\u00e9'", Some(json!("Aé"))),
            ("1 # comment", Some(json!(1))),
            ("hello # comment", None),
            ("  7", Some(json!(7))),
            ("10.0.0.1", None),
            ("1.0.0", None),
            ("b'x'", None),
            ("1j", None),
            ("'unclosed", None),
            ("[1, 2", None),
            ("", None),
            ("a,b", None),
        ] {
            assert_eq!(literal_eval(text), want, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(literal_eval(&deep), None);
    }
}
