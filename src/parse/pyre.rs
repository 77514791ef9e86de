//! Python `re` patterns, as TextFSM templates are written, matched with Rust engines.
//!
//! Templates are Python regular expressions. Most of that syntax means the same in Rust's
//! `regex`; the rest is rewritten here before compiling:
//! - `\Z` is `\z`; `\<`, `\>` and other escaped punctuation are literals in Python but word
//!   boundaries (or errors) in Rust, so they become plain escaped characters;
//! - inside a character class Python takes `[`, `&&`, `--`, `~~` literally where Rust reads
//!   nested classes and set operations;
//! - a `{` that does not start a quantifier is a literal, `{,n}` means `{0,n}`;
//! - `(?P=name)` back-references and `(?#...)` comments.
//!
//! Patterns without look-around or back-references run on `regex` (a DFA, linear in the
//! line). The few with them (about 2% of ntc-templates) need backtracking: those compile
//! with `fancy-regex`, which keeps the regex parts on the linear engine and bounds the
//! backtracking part with its step limit, so a hostile line ends in an error, not a hang.

use std::fmt;

/// A compiled pattern with Python `re.match` semantics: anchored at the start of the text.
#[derive(Clone)]
pub struct PyRegex {
    engine: Engine,
    /// Capture group names by index (index 0 is the whole match).
    names: Vec<Option<String>>,
}

#[derive(Clone)]
enum Engine {
    Linear(regex::Regex),
    Backtrack(Box<fancy_regex::Regex>),
}

impl fmt::Debug for PyRegex {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.engine {
            Engine::Linear(r) => write!(f, "PyRegex({:?})", r.as_str()),
            Engine::Backtrack(r) => write!(f, "PyRegex(fancy {:?})", r.as_str()),
        }
    }
}

impl PyRegex {
    /// Compiles a Python pattern; the error says what Rust or Python would reject.
    pub fn new(python: &str) -> Result<Self, String> {
        let translated = translate(python)?;
        let anchored = format!("^(?:{translated})");
        if needs_backtracking(&translated) {
            let re = fancy_regex::RegexBuilder::new(&anchored)
                .backtrack_limit(1_000_000)
                .build()
                .map_err(|e| e.to_string())?;
            let names = re.capture_names().map(|n| n.map(str::to_string)).collect();
            Ok(Self {
                engine: Engine::Backtrack(Box::new(re)),
                names,
            })
        } else {
            let re = regex::RegexBuilder::new(&anchored)
                .size_limit(64 << 20)
                .build()
                .map_err(|e| e.to_string())?;
            let names = re.capture_names().map(|n| n.map(str::to_string)).collect();
            Ok(Self {
                engine: Engine::Linear(re),
                names,
            })
        }
    }

    /// The Rust pattern, when it runs on the linear engine (so it can join a `RegexSet`).
    pub fn linear_pattern(&self) -> Option<&str> {
        match &self.engine {
            Engine::Linear(re) => Some(re.as_str()),
            Engine::Backtrack(_) => None,
        }
    }

    /// Names of the capture groups, by index (index 0, the whole match, has none).
    pub fn names(&self) -> &[Option<String>] {
        &self.names
    }

    /// How many groups the pattern has, not counting the whole match (Python's `groups`).
    pub fn groups(&self) -> usize {
        self.names.len().saturating_sub(1)
    }

    /// Reusable storage for the groups of a match (no allocation per line).
    pub fn locations(&self) -> Locations {
        match &self.engine {
            Engine::Linear(re) => Locations::Linear(re.capture_locations()),
            Engine::Backtrack(_) => Locations::Spans(vec![None; self.names.len()]),
        }
    }

    /// `re.match`: whether `text` matches at its start; the groups land in `locs`. A
    /// backtracking pattern that runs out of steps is an error.
    pub fn match_into(&self, text: &str, locs: &mut Locations) -> Result<bool, String> {
        match (&self.engine, locs) {
            (Engine::Linear(re), Locations::Linear(l)) => Ok(re.captures_read(l, text).is_some()),
            (Engine::Backtrack(re), Locations::Spans(spans)) => match re.captures(text) {
                Ok(Some(c)) => {
                    for (i, slot) in spans.iter_mut().enumerate() {
                        *slot = c.get(i).map(|m| (m.start(), m.end()));
                    }
                    Ok(true)
                }
                Ok(None) => Ok(false),
                Err(e) => Err(e.to_string()),
            },
            _ => Err("capture storage from another pattern".into()),
        }
    }

    /// `re.match` returning the text of each group (`None` where a group took no part).
    pub fn match_groups<'t>(&self, text: &'t str) -> Result<Option<Vec<Option<&'t str>>>, String> {
        let mut locs = self.locations();
        if !self.match_into(text, &mut locs)? {
            return Ok(None);
        }
        Ok(Some(
            (0..self.names.len())
                .map(|i| locs.get(i).map(|(s, e)| &text[s..e]))
                .collect(),
        ))
    }
}

/// The spans of one match's groups, reused from line to line.
pub enum Locations {
    Linear(regex::CaptureLocations),
    Spans(Vec<Option<(usize, usize)>>),
}

impl Locations {
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        match self {
            Locations::Linear(l) => l.get(i),
            Locations::Spans(s) => s.get(i).copied().flatten(),
        }
    }
}

fn needs_backtracking(rust: &str) -> bool {
    // Look-around, back-references and atomic groups: a cheap scan of the translated text
    // (escapes are pairs, so `\(?=` is never mistaken for a group).
    let b = rust.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if !in_class && matches!(b.get(i + 1), Some(b'1'..=b'9') | Some(b'k')) {
                    return true;
                }
                i += 2;
                continue;
            }
            b'[' => in_class = true,
            b']' => in_class = false,
            b'(' if !in_class && b.get(i + 1) == Some(&b'?') => {
                let rest = &rust[i + 2..];
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                    || rest.starts_with('>')
                {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Characters that Rust's regex syntax treats as meta and so must stay escaped.
fn rust_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
            | ' '
    )
}

fn push_literal(out: &mut String, c: char) {
    if rust_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

/// Rewrites a Python pattern into the same pattern in Rust's syntax.
pub fn translate(py: &str) -> Result<String, String> {
    let chars: Vec<char> = py.chars().collect();
    let mut out = String::with_capacity(py.len() + 8);
    let mut i = 0;
    // Whether the last item can take a quantifier (so `{2}` after it is one).
    let mut quantifiable = false;
    // Open groups: where each starts in `out`, and whether it is a look-around.
    let mut groups: Vec<(usize, bool)> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("pattern ends with a lone backslash".into());
                };
                i += 2;
                translate_escape(n, &chars, &mut i, &mut out, false)?;
                quantifiable = true;
            }
            '[' => {
                i = translate_class(&chars, i, &mut out)?;
                quantifiable = true;
            }
            '{' => {
                match quantifier(&chars, i) {
                    Some((text, end)) if quantifiable => {
                        out.push_str(&text);
                        i = end;
                        // A lazy `?` after it is copied as is by the next round.
                    }
                    _ => {
                        out.push_str("\\{");
                        i += 1;
                        quantifiable = true;
                    }
                }
                continue;
            }
            '}' => {
                out.push_str("\\}");
                i += 1;
                quantifiable = true;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('#') {
                    // A comment group: dropped, up to its closing parenthesis.
                    let mut j = i + 2;
                    while j < chars.len() && chars[j] != ')' {
                        j += 1;
                    }
                    i = j + 1;
                    continue;
                }
                if rest.starts_with("P=") {
                    let mut j = i + 4;
                    let mut name = String::new();
                    while j < chars.len() && chars[j] != ')' {
                        name.push(chars[j]);
                        j += 1;
                    }
                    out.push_str(&format!("\\k<{name}>"));
                    i = j + 1;
                    quantifiable = true;
                    continue;
                }
                let look = ["=", "!", "<=", "<!"].iter().any(|p| rest.starts_with(p));
                groups.push((out.len(), look));
                out.push_str("(?");
                i += 2;
                quantifiable = false;
            }
            '(' => {
                groups.push((out.len(), false));
                out.push('(');
                i += 1;
                quantifiable = false;
            }
            ')' => {
                out.push(')');
                i += 1;
                quantifiable = true;
                if let Some((start, true)) = groups.pop() {
                    // Python lets a look-around be repeated (Rust does not): once or more
                    // is the assertion itself, zero or more asserts nothing.
                    let q = chars.get(i).copied();
                    let min_zero = match q {
                        Some('+') => Some(false),
                        Some('*') | Some('?') => Some(true),
                        Some('{') => quantifier(&chars, i).map(|(t, _)| t.starts_with("{0")),
                        _ => None,
                    };
                    if let Some(zero) = min_zero {
                        i = match q {
                            Some('{') => quantifier(&chars, i).map_or(i + 1, |(_, e)| e),
                            _ => i + 1,
                        };
                        if chars.get(i) == Some(&'?') {
                            i += 1;
                        }
                        if zero {
                            out.truncate(start);
                        }
                    }
                    quantifiable = false;
                }
            }
            '|' | '^' => {
                out.push(c);
                i += 1;
                quantifiable = false;
            }
            '*' | '+' | '?' => {
                out.push(c);
                i += 1;
                // `a*?` and `a+?` are lazy quantifiers, `a**` is an error in both.
                quantifiable = false;
            }
            _ => {
                out.push(c);
                i += 1;
                quantifiable = true;
            }
        }
    }
    Ok(out)
}

/// `{m}`, `{m,}`, `{,n}`, `{m,n}` at `i`: the Rust text and the index after it.
fn quantifier(chars: &[char], i: usize) -> Option<(String, usize)> {
    let mut j = i + 1;
    let mut lo = String::new();
    while j < chars.len() && chars[j].is_ascii_digit() {
        lo.push(chars[j]);
        j += 1;
    }
    let mut hi = None;
    if chars.get(j) == Some(&',') {
        j += 1;
        let mut h = String::new();
        while j < chars.len() && chars[j].is_ascii_digit() {
            h.push(chars[j]);
            j += 1;
        }
        hi = Some(h);
    }
    if chars.get(j) != Some(&'}') {
        return None;
    }
    let text = match (lo.is_empty(), hi) {
        (true, None) => return None,
        (true, Some(h)) if h.is_empty() => return None,
        (true, Some(h)) => format!("{{0,{h}}}"),
        (false, None) => format!("{{{lo}}}"),
        (false, Some(h)) => format!("{{{lo},{h}}}"),
    };
    Some((text, j + 1))
}

/// One escape `\n` (the character after the backslash), `i` already past it.
fn translate_escape(
    n: char,
    chars: &[char],
    i: &mut usize,
    out: &mut String,
    in_class: bool,
) -> Result<(), String> {
    match n {
        'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'n' | 't' | 'r' | 'f' | 'v' | 'a' => {
            out.push('\\');
            out.push(n);
        }
        'b' if in_class => out.push_str("\\x08"),
        'A' | 'b' | 'B' if !in_class => {
            out.push('\\');
            out.push(n);
        }
        'Z' if !in_class => out.push_str("\\z"),
        'x' => {
            let hex: String = chars[*i..].iter().take(2).collect();
            if hex.len() != 2 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("incomplete escape \\x{hex}"));
            }
            out.push_str(&format!("\\x{hex}"));
            *i += 2;
        }
        'u' | 'U' => {
            let len = if n == 'u' { 4 } else { 8 };
            let hex: String = chars[*i..].iter().take(len).collect();
            if hex.len() != len || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("incomplete escape \\{n}{hex}"));
            }
            out.push_str(&format!("\\x{{{hex}}}"));
            *i += len;
        }
        '0' => {
            // Octal: up to two more digits.
            let mut digits = String::new();
            while digits.len() < 2 && *i < chars.len() && ('0'..='7').contains(&chars[*i]) {
                digits.push(chars[*i]);
                *i += 1;
            }
            let v = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
            out.push_str(&format!("\\x{{{v:x}}}"));
        }
        '1'..='9' if !in_class => {
            let mut num = n.to_string();
            if *i < chars.len() && chars[*i].is_ascii_digit() {
                num.push(chars[*i]);
                *i += 1;
            }
            out.push_str(&format!("\\{num}"));
        }
        c if c.is_ascii_alphanumeric() => return Err(format!("bad escape \\{c}")),
        c => push_literal(out, c),
    }
    Ok(())
}

/// A character class starting at `start` (`[`): copied with Python's meaning; returns the
/// index after its closing `]`.
fn translate_class(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // A `]` first in the class is a literal in Python.
    if chars.get(i) == Some(&']') {
        out.push_str("\\]");
        i += 1;
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            ']' => {
                out.push(']');
                return Ok(i + 1);
            }
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("pattern ends with a lone backslash".into());
                };
                i += 2;
                translate_escape(n, chars, &mut i, out, true)?;
                continue;
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '-' => {
                // A range dash stays; a dash doubled (`--`, a set difference in Rust) or at
                // the edges is a literal.
                let prev_dash = out.ends_with('-') && !out.ends_with("\\-");
                let next = chars.get(i + 1);
                if prev_dash || next == Some(&'-') || next == Some(&']') || out.ends_with('[') {
                    out.push_str("\\-");
                } else {
                    out.push('-');
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Err("unterminated character set".into())
}
