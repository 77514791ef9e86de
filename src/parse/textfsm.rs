//! TextFSM: the template language and state machine of Google's `textfsm` (the engine
//! ntc-templates is written for), with the reference implementation's exact semantics:
//! values with Filldown, Fillup, Required, List (nested groups too) and Key; states with
//! rules `^regex -> LineOp.RecordOp NewState`; `Continue`, `Record`, `Clear`, `Clearall`,
//! `Error`; the `End` and `EOF` states and the implicit record at the end of input.
//!
//! What the reference does and a reader might not expect, kept on purpose:
//! - a named group that takes no part in a match still assigns its value (to nothing);
//! - `Required` looks at the value before `List` turns it into a list when declared first;
//! - a record whose every value is empty is dropped, an empty string is not "empty";
//! - input lines are split as Python's `str.splitlines` does (`\r`, `\x0b`, `\x1c`...).

use std::fmt;

use super::pyre::{Locations, PyRegex};

/// A template that could not be read: where and why (Python's messages, with the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// The input hit an `Error` rule, or a pattern ran out of backtracking steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub message: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    Filldown,
    Fillup,
    Required,
    List,
    Key,
}

impl Opt {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "Filldown" => Opt::Filldown,
            "Fillup" => Opt::Fillup,
            "Required" => Opt::Required,
            "List" => Opt::List,
            "Key" => Opt::Key,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ValueDef {
    pub name: String,
    pub options: Vec<Opt>,
    /// A `List` value's own regex, when it has more than one group (nested records).
    nested: Option<PyRegex>,
}

impl ValueDef {
    pub fn has(&self, o: Opt) -> bool {
        self.options.contains(&o)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineOp {
    Next,
    Continue,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordOp {
    None,
    Record,
    Clear,
    Clearall,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Stay,
    State(usize),
    End,
    Eof,
}

#[derive(Debug, Clone)]
struct Rule {
    regex: PyRegex,
    line: usize,
    line_op: LineOp,
    record_op: RecordOp,
    target: Target,
    /// The word or quoted text after `Error`.
    error_text: String,
    /// (group index, value index) for every group named after a value, in group order.
    assigns: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct State {
    rules: Vec<Rule>,
    /// All the state's linear rules in one automaton: one pass over a line tells which of
    /// them can match, so only those run their capture engine (most rules fail on most
    /// lines). `slot[i]`: the rule's index in the set, if it is in it.
    set: Option<regex::RegexSet>,
    slot: Vec<Option<usize>>,
}

impl State {
    fn new(rules: Vec<Rule>) -> State {
        let mut patterns = Vec::new();
        let slot: Vec<Option<usize>> = rules
            .iter()
            .map(|r| {
                r.regex.linear_pattern().map(|p| {
                    patterns.push(p.to_string());
                    patterns.len() - 1
                })
            })
            .collect();
        // A set is worth it from a few rules on; one that fails to build (size limits)
        // just leaves every rule to run alone.
        let set = if patterns.len() >= 3 {
            regex::RegexSetBuilder::new(&patterns)
                .size_limit(64 << 20)
                .dfa_size_limit(32 << 20)
                .build()
                .ok()
        } else {
            None
        };
        State { rules, set, slot }
    }
}

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    pub values: Vec<ValueDef>,
    states: Vec<State>,
    start: usize,
    has_eof_state: bool,
}

/// One item of a `List` value: a string, or a record of its nested groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Null,
    Str(String),
    Map(Vec<(String, Option<String>)>),
}

/// One cell of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Str(String),
    List(Vec<Item>),
}

impl Field {
    fn truthy(&self) -> bool {
        match self {
            Field::Str(s) => !s.is_empty(),
            Field::List(l) => !l.is_empty(),
        }
    }
}

/// A value's current content while parsing (Python's `None`, a string, or a list).
/// Strings borrow the input: a value is copied once, into the record that keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cur<'t> {
    None,
    Str(&'t str),
    List(Vec<Item>),
}

impl Cur<'_> {
    fn truthy(&self) -> bool {
        match self {
            Cur::None => false,
            Cur::Str(s) => !s.is_empty(),
            Cur::List(l) => !l.is_empty(),
        }
    }
}

const MAX_NAME_LEN: usize = 48;
const LINE_OPS: [&str; 3] = ["Continue", "Next", "Error"];
const RECORD_OPS: [&str; 4] = ["Clear", "Clearall", "Record", "NoRecord"];

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn err(line: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        line,
        message: message.into(),
    }
}

impl Template {
    /// Reads a template's text.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if text.is_empty() {
            return Err(err(0, "empty template"));
        }
        // Python reads the file in text mode: universal newlines.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut n = 0usize;
        let mut values: Vec<ValueDef> = Vec::new();
        // name -> regex with the name as its group, for ${name} in rules.
        let mut value_map: Vec<(String, String)> = Vec::new();
        while n < lines.len() {
            let line = lines[n].trim_end();
            n += 1;
            if line.is_empty() {
                break;
            }
            if is_comment(line) {
                continue;
            }
            if let Some(rest) = line.strip_prefix("Value ") {
                let (def, template) = parse_value(rest, n)?;
                if values.iter().any(|v| v.name == def.name) {
                    return Err(err(
                        n,
                        format!("duplicate declarations for Value '{}'", def.name),
                    ));
                }
                value_map.push((def.name.clone(), template));
                values.push(def);
            } else if values.is_empty() {
                return Err(err(
                    n,
                    "no Value definitions found (expected `Value NAME (regex)`)",
                ));
            } else {
                return Err(err(n, "expected a blank line after the last Value entry"));
            }
        }
        // States: a name line, then rules, up to a blank line.
        let mut names: Vec<String> = Vec::new();
        let mut raw_rules: Vec<Vec<(usize, String)>> = Vec::new();
        loop {
            let mut name = None;
            while n < lines.len() {
                let line = lines[n].trim_end();
                n += 1;
                if !line.is_empty() && !is_comment(line) {
                    if !is_word(line)
                        || line.chars().count() > MAX_NAME_LEN
                        || LINE_OPS.contains(&line)
                        || RECORD_OPS.contains(&line)
                    {
                        return Err(err(n, format!("invalid state name: '{line}'")));
                    }
                    if names.iter().any(|s| s == line) {
                        return Err(err(n, format!("duplicate state name: '{line}'")));
                    }
                    name = Some(line.to_string());
                    break;
                }
            }
            let Some(name) = name else { break };
            let mut rules = Vec::new();
            while n < lines.len() {
                let line = lines[n].trim_end();
                n += 1;
                if line.is_empty() {
                    break;
                }
                if is_comment(line) {
                    continue;
                }
                if !(line.starts_with(" ^") || line.starts_with("  ^") || line.starts_with("\t^")) {
                    return Err(err(
                        n,
                        "missing white space or caret ('^') before rule (rules start with one or two spaces or a tab, then ^)",
                    ));
                }
                rules.push((n, line.to_string()));
            }
            names.push(name);
            raw_rules.push(rules);
        }
        let Some(start) = names.iter().position(|s| s == "Start") else {
            return Err(err(0, "missing state 'Start'"));
        };
        for special in ["End", "EOF"] {
            if let Some(i) = names.iter().position(|s| s == special) {
                if !raw_rules[i].is_empty() {
                    return Err(err(
                        raw_rules[i][0].0,
                        format!("non-empty '{special}' state"),
                    ));
                }
            }
        }
        let has_eof_state = names.iter().any(|s| s == "EOF");
        let mut states = Vec::with_capacity(names.len());
        for rules in &raw_rules {
            let mut compiled = Vec::with_capacity(rules.len());
            for (line_no, text) in rules {
                compiled.push(parse_rule(text, *line_no, &value_map, &values, &names)?);
            }
            states.push(State::new(compiled));
        }
        Ok(Template {
            values,
            states,
            start,
            has_eof_state,
        })
    }

    /// The value names, in declaration order (the table's columns).
    pub fn header(&self) -> Vec<String> {
        self.values.iter().map(|v| v.name.clone()).collect()
    }

    /// Names of the values with `Key`.
    pub fn keys(&self) -> Vec<String> {
        self.values
            .iter()
            .filter(|v| v.has(Opt::Key))
            .map(|v| v.name.clone())
            .collect()
    }

    /// Runs the state machine over `text`; one row per record, cells in header order.
    pub fn parse_text(&self, text: &str) -> Result<Vec<Vec<Field>>, RunError> {
        Run::new(self).run(text)
    }
}

/// `Value [Options] NAME (regex)` after the `Value ` keyword; returns the definition and the
/// regex with the value's name as its outer group.
fn parse_value(rest: &str, line: usize) -> Result<(ValueDef, String), TemplateError> {
    // Python splits on single spaces: `Value  X` has an empty token, as in the reference.
    let tokens: Vec<&str> = std::iter::once("Value").chain(rest.split(' ')).collect();
    if tokens.len() < 3 {
        return Err(err(
            line,
            "expected `Value [Options] NAME (regex)`: at least 3 tokens",
        ));
    }
    let mut options = Vec::new();
    let (name, regex) = if !tokens[2].starts_with('(') {
        for o in tokens[1].split(',') {
            let Some(opt) = Opt::parse(o) else {
                return Err(err(
                    line,
                    format!(
                        "unknown option \"{o}\" (expected Filldown, Fillup, Required, List or Key)"
                    ),
                ));
            };
            if options.contains(&opt) {
                return Err(err(line, format!("duplicate option \"{o}\"")));
            }
            options.push(opt);
        }
        (tokens[2].to_string(), tokens[3..].join(" "))
    } else {
        (tokens[1].to_string(), tokens[2..].join(" "))
    };
    if name.chars().count() > MAX_NAME_LEN {
        return Err(err(
            line,
            format!("invalid Value name '{name}' or name too long"),
        ));
    }
    let b = regex.as_bytes();
    if b.len() < 2 || b[0] != b'(' || b[b.len() - 1] != b')' || b[b.len() - 2] == b'\\' {
        return Err(err(
            line,
            format!("Value '{regex}' must be contained within a '()' pair"),
        ));
    }
    let own = PyRegex::new(&regex).map_err(|e| err(line, format!("Value {name}: {e}")))?;
    let nested = if options.contains(&Opt::List) && own.groups() > 1 {
        Some(own)
    } else {
        None
    };
    let template = format!("(?P<{name}>{}", &regex[1..]);
    Ok((
        ValueDef {
            name,
            options,
            nested,
        },
        template,
    ))
}

/// Python's `string.Template.substitute`: `$name`, `${name}`, `$$`; anything else after a
/// `$` or an unknown name is an error.
fn substitute(text: &str, map: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let ident_len = |s: &str| {
            let mut n = 0;
            for (i, c) in s.char_indices() {
                let ok = if i == 0 {
                    c.is_ascii_alphabetic() || c == '_'
                } else {
                    c.is_ascii_alphanumeric() || c == '_'
                };
                if !ok {
                    break;
                }
                n = i + c.len_utf8();
            }
            n
        };
        let lookup = |name: &str| {
            map.iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .ok_or_else(|| format!("unknown value ${{{name}}}"))
        };
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(a) = after.strip_prefix('{') {
            let n = ident_len(a);
            if n == 0 || !a[n..].starts_with('}') {
                return Err("invalid placeholder after `${`".into());
            }
            out.push_str(&lookup(&a[..n])?);
            rest = &a[n + 1..];
        } else {
            let n = ident_len(after);
            if n == 0 {
                return Err(
                    "a `$` that is neither `$$` nor a value: write `$$` for end of line".into(),
                );
            }
            out.push_str(&lookup(&after[..n])?);
            rest = &after[n..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_rule(
    raw: &str,
    line: usize,
    value_map: &[(String, String)],
    values: &[ValueDef],
    states: &[String],
) -> Result<Rule, TemplateError> {
    let text = raw.trim();
    // The last ` ->` (any white space before the arrow) splits pattern and action.
    let split = text
        .char_indices()
        .filter(|&(i, c)| c.is_whitespace() && text[i + c.len_utf8()..].starts_with("->"))
        .map(|(i, c)| (i, i + c.len_utf8() + 2))
        .next_back();
    let (pattern, action) = match split {
        Some((a, b)) => (&text[..a], Some(&text[b..])),
        None => (text, None),
    };
    let regex_text = if value_map.is_empty() {
        pattern.to_string()
    } else {
        substitute(pattern, value_map).map_err(|e| {
            err(
                line,
                format!("duplicate or invalid variable substitution in '{pattern}': {e}"),
            )
        })?
    };
    let regex = PyRegex::new(&regex_text).map_err(|e| {
        err(
            line,
            format!("invalid regular expression '{regex_text}': {e}"),
        )
    })?;
    let mut rule = Rule {
        assigns: regex
            .names()
            .iter()
            .enumerate()
            .filter_map(|(gi, n)| {
                let n = n.as_deref()?;
                values.iter().position(|v| v.name == n).map(|vi| (gi, vi))
            })
            .collect(),
        regex,
        line,
        line_op: LineOp::Next,
        record_op: RecordOp::None,
        target: Target::Stay,
        error_text: String::new(),
    };
    let Some(action) = action else {
        return Ok(rule);
    };
    let (line_op, record_op, new_state) = parse_action(action).ok_or_else(|| {
        err(
            line,
            format!("badly formatted rule '{text}' (expected `-> [Next|Continue|Error][.Record|.Clear|.Clearall|.NoRecord] [State]`)"),
        )
    })?;
    rule.line_op = match line_op {
        Some("Continue") => LineOp::Continue,
        Some("Error") => LineOp::Error,
        _ => LineOp::Next,
    };
    rule.record_op = match record_op {
        Some("Record") => RecordOp::Record,
        Some("Clear") => RecordOp::Clear,
        Some("Clearall") => RecordOp::Clearall,
        _ => RecordOp::None,
    };
    if let Some(state) = new_state {
        if rule.line_op == LineOp::Continue {
            return Err(err(
                line,
                format!("action 'Continue' with new state {state}: Continue cannot change state"),
            ));
        }
        if rule.line_op == LineOp::Error {
            rule.error_text = state.to_string();
        } else if !state.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            return Err(err(line, "alphanumeric characters only in state names"));
        } else {
            rule.target = match state {
                "End" => Target::End,
                "EOF" => Target::Eof,
                s => match states.iter().position(|n| n == s) {
                    Some(i) => Target::State(i),
                    None => {
                        return Err(err(
                            line,
                            format!("state '{s}' not found (states: {})", states.join(", ")),
                        ))
                    }
                },
            };
        }
    }
    Ok(rule)
}

/// The action after `->`: (line op, record op, new state) as the reference's three
/// patterns read it, tried in the same order.
fn parse_action(action: &str) -> Option<(Option<&str>, Option<&str>, Option<&str>)> {
    // Everything must start with white space unless the action is empty.
    let s = action;
    let trimmed = s.trim_start();
    let has_ws = trimmed.len() < s.len();
    let (first, rest) = split_word(trimmed);
    if has_ws {
        // Operator: LineOp[.RecordOp]
        let (op, rec) = match first.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (first, None),
        };
        if LINE_OPS.contains(&op) && rec.is_none_or(|r| RECORD_OPS.contains(&r)) {
            if let Some(ns) = new_state_of(rest) {
                return Some((Some(op), rec, ns));
            }
        }
        if RECORD_OPS.contains(&first) {
            if let Some(ns) = new_state_of(rest) {
                return Some((None, Some(first), ns));
            }
        }
    }
    new_state_of(s).map(|ns| (None, None, ns))
}

/// `(\s+(\w+|".*"))?$`: nothing, or white space then a word or a quoted text.
fn new_state_of(rest: &str) -> Option<Option<&str>> {
    if rest.is_empty() {
        return Some(None);
    }
    let t = rest.trim_start();
    if t.len() == rest.len() {
        return None;
    }
    if (t.len() >= 2 && t.starts_with('"') && t.ends_with('"')) || is_word(t) {
        return Some(Some(t));
    }
    None
}

/// The first white-space-free word of `s` and what follows it.
fn split_word(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// Python's `str.splitlines()`.
pub fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            out.push(&text[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = it.peek() {
                    it.next();
                    next = j + 1;
                }
            }
            start = next;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

struct Slot<'t> {
    value: Cur<'t>,
    filldown: Cur<'t>,
    list: Vec<Item>,
}

struct Run<'a, 't> {
    t: &'a Template,
    slots: Vec<Slot<'t>>,
    result: Vec<Vec<Field>>,
}

enum Skip {
    Record,
}

impl<'a, 't> Run<'a, 't> {
    fn new(t: &'a Template) -> Self {
        Run {
            t,
            slots: t
                .values
                .iter()
                .map(|_| Slot {
                    value: Cur::None,
                    filldown: Cur::None,
                    list: Vec::new(),
                })
                .collect(),
            result: Vec::new(),
        }
    }

    fn run(mut self, text: &'t str) -> Result<Vec<Vec<Field>>, RunError> {
        let mut locs: Vec<Vec<Locations>> = self
            .t
            .states
            .iter()
            .map(|s| s.rules.iter().map(|r| r.regex.locations()).collect())
            .collect();
        let mut state = self.t.start;
        let mut ended: Option<Target> = None;
        let mut possible: Vec<bool> = Vec::new();
        for line in split_lines(text) {
            let st = &self.t.states[state];
            let rules = &st.rules;
            let prefiltered = match &st.set {
                Some(set) => {
                    possible.clear();
                    possible.resize(set.len(), false);
                    set.matches_read_at(&mut possible, line, 0);
                    true
                }
                None => false,
            };
            for (ri, rule) in rules.iter().enumerate() {
                let known = match (prefiltered, st.slot[ri]) {
                    (true, Some(k)) if !possible[k] => continue,
                    (true, Some(_)) => true,
                    _ => false,
                };
                let l = &mut locs[state][ri];
                // The set already says it matches: a rule that assigns nothing need not run.
                if !(known && rule.assigns.is_empty()) {
                    let matched = rule.regex.match_into(line, l).map_err(|e| RunError {
                        message: format!("template line {}: {e}", rule.line),
                    })?;
                    if !matched {
                        continue;
                    }
                }
                for &(gi, vi) in &rule.assigns {
                    let v = l.get(gi).map(|(s, e)| &line[s..e]);
                    self.assign(vi, v);
                }
                match rule.record_op {
                    RecordOp::Record => self.append_record(),
                    RecordOp::Clear => self.clear_record(),
                    RecordOp::Clearall => self.clear_all(),
                    RecordOp::None => {}
                }
                match rule.line_op {
                    LineOp::Error => {
                        let message = if rule.error_text.is_empty() {
                            format!(
                                "the template's Error rule (line {}) matched input line {line:?}",
                                rule.line
                            )
                        } else {
                            format!(
                                "{} (the template's Error rule, line {}, matched input line {line:?})",
                                rule.error_text.trim_matches('"'),
                                rule.line
                            )
                        };
                        return Err(RunError { message });
                    }
                    LineOp::Continue => continue,
                    LineOp::Next => {}
                }
                match &rule.target {
                    Target::Stay => {}
                    Target::State(s) => state = *s,
                    t @ (Target::End | Target::Eof) => ended = Some(t.clone()),
                }
                break;
            }
            if ended.is_some() {
                break;
            }
        }
        if ended != Some(Target::End) && !self.t.has_eof_state {
            self.append_record();
        }
        Ok(self.result)
    }

    fn assign(&mut self, vi: usize, v: Option<&'t str>) {
        let def = &self.t.values[vi];
        let cur = match v {
            Some(s) => Cur::Str(s),
            None => Cur::None,
        };
        self.slots[vi].value = cur.clone();
        for o in &def.options {
            match o {
                Opt::Filldown => self.slots[vi].filldown = cur.clone(),
                Opt::Fillup => {
                    if let Some(s) = v.filter(|s| !s.is_empty()) {
                        for row in self.result.iter_mut().rev() {
                            if row[vi].truthy() {
                                break;
                            }
                            row[vi] = Field::Str(s.to_string());
                        }
                    }
                }
                Opt::List => {
                    let item = match (&def.nested, v) {
                        (Some(re), Some(s)) => match re.match_groups(s) {
                            Ok(Some(groups)) => {
                                let map: Vec<(String, Option<String>)> = re
                                    .names()
                                    .iter()
                                    .enumerate()
                                    .filter_map(|(i, n)| {
                                        n.as_ref()
                                            .map(|n| (n.clone(), groups[i].map(str::to_string)))
                                    })
                                    .collect();
                                if map.is_empty() {
                                    Item::Str(s.to_string())
                                } else {
                                    Item::Map(map)
                                }
                            }
                            _ => Item::Str(s.to_string()),
                        },
                        (_, Some(s)) => Item::Str(s.to_string()),
                        (_, None) => Item::Null,
                    };
                    self.slots[vi].list.push(item);
                }
                Opt::Required | Opt::Key => {}
            }
        }
    }

    fn clear_record(&mut self) {
        for (vi, def) in self.t.values.iter().enumerate() {
            let slot = &mut self.slots[vi];
            slot.value = Cur::None;
            for o in &def.options {
                match o {
                    Opt::Filldown => slot.value = slot.filldown.clone(),
                    Opt::List if !def.has(Opt::Filldown) => slot.list.clear(),
                    _ => {}
                }
            }
        }
    }

    fn clear_all(&mut self) {
        for (vi, def) in self.t.values.iter().enumerate() {
            let slot = &mut self.slots[vi];
            slot.value = Cur::None;
            for o in &def.options {
                match o {
                    Opt::Filldown => slot.filldown = Cur::None,
                    Opt::List => slot.list.clear(),
                    _ => {}
                }
            }
        }
    }

    fn save_value(&mut self, vi: usize) -> Result<(), Skip> {
        let def = &self.t.values[vi];
        for o in &def.options {
            match o {
                Opt::Required if !self.slots[vi].value.truthy() => return Err(Skip::Record),
                Opt::List => self.slots[vi].value = Cur::List(self.slots[vi].list.clone()),
                _ => {}
            }
        }
        Ok(())
    }

    fn append_record(&mut self) {
        if self.t.values.is_empty() {
            return;
        }
        for vi in 0..self.t.values.len() {
            if let Err(Skip::Record) = self.save_value(vi) {
                self.clear_record();
                return;
            }
        }
        let empty = self.slots.iter().all(|s| match &s.value {
            Cur::None => true,
            Cur::List(l) => l.is_empty(),
            Cur::Str(_) => false,
        });
        if empty {
            return;
        }
        let row = self
            .slots
            .iter()
            .map(|s| match &s.value {
                Cur::None => Field::Str(String::new()),
                Cur::Str(s) => Field::Str(s.to_string()),
                Cur::List(l) => Field::List(l.clone()),
            })
            .collect();
        self.result.push(row);
        self.clear_record();
    }
}
