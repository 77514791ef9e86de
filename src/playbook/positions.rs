//! Where things are in a YAML file: a tree of line:column marks built from saphyr-parser's
//! events, used to give every play and task its [`super::Location`] and to point errors
//! found after parsing (a missing template, an unknown handler) at the right value.
//!
//! serde_yaml reports a position only when deserializing fails, so a second, marked parse
//! is the only way to know where a *valid* task sits. It runs only after serde_yaml has
//! accepted the text (so depth and alias expansion are already bounded), builds the tree
//! with an explicit stack (no recursion), and never expands aliases.

use saphyr_parser::{Event, Parser};

/// A node and the position (1-based line and column) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: usize,
    pub column: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Scalar(String),
    Seq(Vec<Node>),
    /// Keys and values in order; a key is usually a scalar.
    Map(Vec<(Node, Node)>),
    Alias,
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value node under `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, Kind::Scalar(s) if s == key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Item `i` of a sequence.
    pub fn index(&self, i: usize) -> Option<&Node> {
        match &self.kind {
            Kind::Seq(items) => items.get(i),
            _ => None,
        }
    }

    #[cfg(test)]
    pub fn pos(&self) -> (usize, usize) {
        (self.line, self.column)
    }
}

/// In the mapping that starts at `line`:`column`, the second key named `key` (serde's
/// derived structs report duplicates at the mapping, not the key).
pub(crate) fn second_key_at<'a>(
    root: &'a Node,
    line: usize,
    column: usize,
    key: &str,
) -> Option<&'a Node> {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        match &n.kind {
            Kind::Map(entries) => {
                if n.line == line && n.column == column {
                    let mut same = entries
                        .iter()
                        .filter(|(k, _)| matches!(&k.kind, Kind::Scalar(s) if s == key));
                    if let (Some(_), Some((second, _))) = (same.next(), same.next()) {
                        return Some(second);
                    }
                }
                stack.extend(entries.iter().map(|(_, v)| v));
            }
            Kind::Seq(items) => stack.extend(items.iter()),
            Kind::Scalar(_) | Kind::Alias => {}
        }
    }
    None
}

enum Open {
    Seq(Node),
    Map(Node, Option<Node>),
}

/// The first document's root node, or `None` when the text does not parse (the caller
/// then reports positions as unknown rather than failing).
pub(crate) fn parse(text: &str) -> Option<Node> {
    let mut stack: Vec<Open> = Vec::new();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.ok()?;
        let line = span.start.line();
        let column = span.start.col() + 1;
        let leaf = |kind| Node { line, column, kind };
        let done = match event {
            Event::SequenceStart(..) => {
                stack.push(Open::Seq(leaf(Kind::Seq(Vec::new()))));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Open::Map(leaf(Kind::Map(Vec::new())), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                Open::Seq(n) | Open::Map(n, None) => n,
                Open::Map(_, Some(_)) => return None,
            },
            Event::Scalar(value, ..) => leaf(Kind::Scalar(value.into_owned())),
            Event::Alias(_) => leaf(Kind::Alias),
            Event::DocumentEnd | Event::StreamEnd => return None,
            _ => continue,
        };
        match stack.last_mut() {
            None => return Some(done),
            Some(Open::Seq(seq)) => {
                if let Kind::Seq(items) = &mut seq.kind {
                    items.push(done);
                }
            }
            Some(Open::Map(map, pending)) => match pending.take() {
                None => *pending = Some(done),
                Some(key) => {
                    if let Kind::Map(entries) = &mut map.kind {
                        entries.push((key, done));
                    }
                }
            },
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_items_keys_and_values() {
        let text =
            "# c\n- name: a\n  tasks:\n    - debug: {msg: x}\n      name: t\n    - {fail: {}}\n";
        let root = parse(text).unwrap();
        let play = root.index(0).unwrap();
        assert_eq!(play.pos(), (2, 3));
        let tasks = play.get("tasks").unwrap();
        assert_eq!(tasks.index(0).unwrap().pos(), (4, 7));
        assert_eq!(tasks.index(1).unwrap().pos(), (6, 7));
        let (k, v) = tasks.index(0).unwrap().entry("debug").unwrap();
        assert_eq!(k.pos(), (4, 7));
        assert_eq!(v.get("msg").unwrap().pos(), (4, 20));
        assert_eq!(play.get("name").unwrap().kind, Kind::Scalar("a".into()));
    }

    #[test]
    fn bad_yaml_is_none() {
        assert!(parse("a: [").is_none());
        assert!(parse("").is_none());
    }
}
