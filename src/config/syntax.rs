//! How a platform writes its configuration: the data the config model reads from the
//! platform profile's `syntax:` section. Everything that differs between IOS, EOS, NX-OS,
//! IOS-XR and Junos is here (indentation, comments, how a line is negated, which lines hold
//! one value, which sections keep their order); the tree, the remediation and the
//! prediction code are the same for all of them.

use regex::Regex;
use serde::Deserialize;

/// How sections are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Children are indented under their parent (IOS, EOS, NX-OS, IOS-XR); changes are the
    /// lines themselves, negated with a prefix.
    #[default]
    Indent,
    /// `name {` ... `}` blocks with `;` after statements (Junos); changes are `set` and
    /// `delete` commands with the full path.
    Braces,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegationSpec {
    /// Regex on the line to negate.
    #[serde(rename = "match")]
    pub pattern: String,
    /// The negating command; `$1`... are the regex's groups.
    pub negate: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiteralSpec {
    /// Regex on the first line of a block that is one unit (a banner, a certificate).
    pub start: String,
    /// Regex on its last line; absent: the block ends at the line holding the delimiter
    /// that follows the start match again (`banner motd ^C` ... `^C`).
    #[serde(default)]
    pub end: Option<String>,
    /// The device takes the lines after the first as text and shows no prompt until the
    /// end line (banners): a push writes them without waiting for one. Blocks whose lines
    /// each get a prompt (route policies) leave it false.
    #[serde(default)]
    pub text_entry: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightSpec {
    /// Regex on the first line of a top-level change.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Changes are sent lowest weight first (default 0), in intended order otherwise.
    pub weight: i32,
}

/// The `syntax:` section of a platform profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntaxSpec {
    #[serde(default)]
    pub style: Style,
    /// Spaces per level for lines the model writes (IOS 1, NX-OS 2, EOS 3, Junos 4).
    #[serde(default)]
    pub indent: Option<usize>,
    /// Line prefixes that start a comment (`!`, `#`).
    #[serde(default)]
    pub comments: Vec<String>,
    /// Regexes of lines that are not configuration (`end`, `exit-address-family`).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// The prefix that negates a line (`no `).
    #[serde(default)]
    pub negate_prefix: Option<String>,
    /// Lines negated in another form than the prefix (first match wins).
    #[serde(default)]
    pub negations: Vec<NegationSpec>,
    /// Regexes of lines whose last value wins (`hostname X`): the key is group 1, or the
    /// whole match. A changed value is sent as the new line without negating the old one.
    #[serde(default)]
    pub last_value_wins: Vec<String>,
    /// Regexes of lines a device lists first in their block (`description`).
    #[serde(default)]
    pub first: Vec<String>,
    /// Regexes of sections whose children's order matters (ACLs): when it differs, the
    /// entries are re-sent, by sequence number when they have one, else the section whole.
    #[serde(default)]
    pub ordered: Vec<String>,
    /// Regexes of `no X` lines a device keeps and shows when X is absent (`no ip domain
    /// lookup`). The first match decides; a pattern starting with `!` means not kept.
    #[serde(default)]
    pub kept_negations: Vec<String>,
    /// Multi-line blocks that are one unit, never split or reordered.
    #[serde(default)]
    pub literals: Vec<LiteralSpec>,
    /// Ordering weights of top-level changes.
    #[serde(default)]
    pub ordering: Vec<WeightSpec>,
    /// Regexes of negations a device shows in place of the statement they remove (NX-OS
    /// `no shutdown`).
    #[serde(default)]
    pub shown_negations: Vec<String>,
    /// Regexes of statements the device manages itself (`ntp clock-period`, license
    /// lines): never removed by a replace, never a compliance difference.
    #[serde(default)]
    pub unmanaged: Vec<String>,
    /// Braces style: keywords whose next word belongs to the same statement (`unit 0`,
    /// `host-name r1`), to read `set` lines into the tree.
    #[serde(default)]
    pub value_keywords: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Literal {
    pub start: Regex,
    pub end: Option<Regex>,
    pub text_entry: bool,
}

impl Literal {
    /// How many lines after `first` the block takes, or None when it never ends (then it
    /// is no literal: one unclosed banner must not swallow the rest of the config).
    pub fn end_in<S: AsRef<str>>(&self, first: &str, rest: &[S]) -> Option<usize> {
        if let Some(end) = &self.end {
            return rest
                .iter()
                .position(|l| end.is_match(l.as_ref().trim()))
                .map(|p| p + 1);
        }
        // Without an end pattern, the block ends where its delimiter comes back.
        let after = self.start.find(first).map(|m| first[m.end()..].trim())?;
        let delim = if after.starts_with("^C") {
            "^C".to_string()
        } else {
            after.chars().next().map(String::from)?
        };
        if after[delim.len()..].contains(delim.as_str()) {
            return Some(0);
        }
        rest.iter()
            .position(|l| l.as_ref().contains(delim.as_str()))
            .map(|p| p + 1)
    }
}

/// A compiled [`SyntaxSpec`].
#[derive(Debug, Clone)]
pub struct Syntax {
    pub style: Style,
    pub indent: usize,
    pub comments: Vec<String>,
    pub ignore: Vec<Regex>,
    pub negate_prefix: String,
    pub negations: Vec<(Regex, String)>,
    pub last_value_wins: Vec<Regex>,
    pub first: Vec<Regex>,
    pub ordered: Vec<Regex>,
    pub kept_negations: Vec<(bool, Regex)>,
    pub literals: Vec<Literal>,
    pub ordering: Vec<(Regex, i32)>,
    pub value_keywords: Vec<String>,
    pub unmanaged: Vec<Regex>,
    pub shown_negations: Vec<Regex>,
}

impl Default for Syntax {
    fn default() -> Syntax {
        Syntax {
            style: Style::Indent,
            indent: 1,
            comments: vec!["!".into()],
            ignore: Vec::new(),
            negate_prefix: "no ".into(),
            negations: Vec::new(),
            last_value_wins: Vec::new(),
            first: Vec::new(),
            ordered: Vec::new(),
            kept_negations: Vec::new(),
            literals: Vec::new(),
            ordering: Vec::new(),
            value_keywords: Vec::new(),
            unmanaged: Vec::new(),
            shown_negations: Vec::new(),
        }
    }
}

/// A regex of the spec that does not compile: the field and the message.
#[derive(Debug, Clone)]
pub struct SyntaxProblem {
    pub field: String,
    pub value: String,
    pub message: String,
}

impl Syntax {
    /// Whether `first` opens a text-entry literal that nothing in `rest` ends: sent, it
    /// would leave the device taking everything after it as text.
    pub fn unended_text<S: AsRef<str>>(&self, first: &str, rest: &[S]) -> bool {
        self.literals
            .iter()
            .filter(|l| l.text_entry && l.start.is_match(first))
            .any(|l| l.end_in(first, rest).is_none())
    }

    /// When `first` opens a text-entry literal (a banner) that `rest` closes on a later
    /// line: how many lines of `rest` are its text and end line.
    pub fn text_block<S: AsRef<str>>(&self, first: &str, rest: &[S]) -> Option<usize> {
        self.literals
            .iter()
            .filter(|l| l.text_entry && l.start.is_match(first))
            .find_map(|l| l.end_in(first, rest))
            .filter(|n| *n > 0)
    }

    /// Compiles a spec; `extra_ignore` are the profile's own volatile-line patterns (backup
    /// strip), which are not configuration either.
    pub fn compile(spec: &SyntaxSpec, extra_ignore: &[Regex]) -> Result<Syntax, SyntaxProblem> {
        let re = |field: &str, s: &str| {
            Regex::new(s).map_err(|e| SyntaxProblem {
                field: format!("syntax.{field}"),
                value: s.to_string(),
                message: format!(
                    "invalid regex: {}",
                    e.to_string().lines().last().unwrap_or_default()
                ),
            })
        };
        let all = |field: &str, v: &[String]| -> Result<Vec<Regex>, SyntaxProblem> {
            v.iter().map(|s| re(field, s)).collect()
        };
        let mut ignore = all("ignore", &spec.ignore)?;
        ignore.extend(extra_ignore.iter().cloned());
        let braces = spec.style == Style::Braces;
        Ok(Syntax {
            style: spec.style,
            indent: spec
                .indent
                .unwrap_or(if braces { 4 } else { 1 })
                .clamp(1, 8),
            comments: if spec.comments.is_empty() {
                vec![if braces { "#".into() } else { "!".into() }]
            } else {
                spec.comments.clone()
            },
            ignore,
            negate_prefix: spec.negate_prefix.clone().unwrap_or_else(|| {
                if braces {
                    "delete ".into()
                } else {
                    "no ".into()
                }
            }),
            negations: spec
                .negations
                .iter()
                .map(|n| Ok((re("negations.match", &n.pattern)?, n.negate.clone())))
                .collect::<Result<_, _>>()?,
            last_value_wins: all("last_value_wins", &spec.last_value_wins)?,
            first: all("first", &spec.first)?,
            ordered: all("ordered", &spec.ordered)?,
            kept_negations: spec
                .kept_negations
                .iter()
                .map(|p| match p.strip_prefix('!') {
                    Some(p) => Ok((false, re("kept_negations", p)?)),
                    None => Ok((true, re("kept_negations", p)?)),
                })
                .collect::<Result<_, _>>()?,
            literals: spec
                .literals
                .iter()
                .map(|l| {
                    Ok(Literal {
                        start: re("literals.start", &l.start)?,
                        end: l
                            .end
                            .as_deref()
                            .map(|e| re("literals.end", e))
                            .transpose()?,
                        text_entry: l.text_entry,
                    })
                })
                .collect::<Result<_, _>>()?,
            ordering: spec
                .ordering
                .iter()
                .map(|w| Ok((re("ordering.match", &w.pattern)?, w.weight)))
                .collect::<Result<_, _>>()?,
            value_keywords: spec.value_keywords.clone(),
            unmanaged: all("unmanaged", &spec.unmanaged)?,
            shown_negations: all("shown_negations", &spec.shown_negations)?,
        })
    }

    /// The key of a line whose last value wins, if it is one.
    pub fn value_key<'a>(&self, line: &'a str) -> Option<&'a str> {
        self.last_value_wins.iter().find_map(|re| {
            let c = re.captures(line)?;
            Some(c.get(1).or_else(|| c.get(0))?.as_str())
        })
    }

    /// Whether the line is a comment or not configuration at all.
    pub fn is_trivia(&self, trimmed: &str) -> bool {
        trimmed.is_empty()
            || self
                .comments
                .iter()
                .any(|c| trimmed.starts_with(c.as_str()))
            || self.ignore.iter().any(|re| re.is_match(trimmed))
    }

    pub fn is_ordered(&self, section: &str) -> bool {
        self.ordered.iter().any(|re| re.is_match(section))
    }

    pub fn goes_first(&self, line: &str) -> bool {
        self.first.iter().any(|re| re.is_match(line))
    }

    pub fn weight(&self, line: &str) -> i32 {
        self.ordering
            .iter()
            .find(|(re, _)| re.is_match(line))
            .map_or(0, |(_, w)| *w)
    }

    /// The command that removes `line` (indent style): the positive form of a negated
    /// line, a profile rule, else the prefix.
    pub fn negate(&self, line: &str) -> String {
        if let Some(rest) = line.strip_prefix(self.negate_prefix.as_str()) {
            return rest.to_string();
        }
        for (re, with) in &self.negations {
            if let Some(c) = re.captures(line) {
                let mut out = String::new();
                c.expand(with, &mut out);
                return out;
            }
        }
        format!("{}{line}", self.negate_prefix)
    }

    /// The statement a typed `no X` removes, if the line is a negation.
    pub fn negated<'a>(&self, line: &'a str) -> Option<&'a str> {
        line.strip_prefix(self.negate_prefix.as_str())
    }

    pub fn shows_negation(&self, line: &str) -> bool {
        self.shown_negations.iter().any(|re| re.is_match(line))
    }

    pub fn keeps_negation(&self, line: &str) -> bool {
        self.kept_negations
            .iter()
            .find(|(_, re)| re.is_match(line))
            .is_some_and(|(keep, _)| *keep)
    }
}
