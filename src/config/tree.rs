//! The config tree: statements with their children, in the device's order, read from the
//! text a device prints (`show running-config`, `show configuration`) or an engineer writes
//! (a rendered template, `set` lines). Comments, headers and `end` stay in the tree as
//! trivia, so that a tree renders back to the same text and a prediction differs from the
//! running config only where the change is.

use super::syntax::{Style, Syntax};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Statement,
    /// A multi-line unit (banner, certificate): `line` holds all of its lines.
    Literal,
    /// A comment, header or `end`: kept for rendering, never compared or changed.
    Trivia,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The statement with runs of spaces collapsed (Junos: without `;` or `{`).
    pub line: String,
    pub kind: Kind,
    pub children: Vec<Node>,
    /// The line as read, to render an unchanged node exactly; None for a node the model
    /// wrote.
    pub raw: Option<String>,
}

impl Node {
    pub fn new(line: impl Into<String>) -> Node {
        Node {
            line: line.into(),
            kind: Kind::Statement,
            children: Vec::new(),
            raw: None,
        }
    }

    fn trivia(raw: &str) -> Node {
        Node {
            line: raw.trim().to_string(),
            kind: Kind::Trivia,
            children: Vec::new(),
            raw: Some(raw.to_string()),
        }
    }

    pub fn is_config(&self) -> bool {
        self.kind != Kind::Trivia
    }

    pub fn is_section(&self) -> bool {
        self.children.iter().any(Node::is_config)
    }

    /// The configuration children (no trivia).
    pub fn statements(&self) -> impl Iterator<Item = &Node> {
        self.children.iter().filter(|n| n.is_config())
    }
}

/// Runs of whitespace as one space.
pub fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// A parsed configuration: the top-level nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

/// Why text is not a configuration of the platform: the line (1-based) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl Tree {
    /// Reads a config in the platform's style. Braces-style text made of `set` lines is
    /// read as such.
    pub fn parse(text: &str, syn: &Syntax) -> Result<Tree, ParseError> {
        Tree::parse_guided(text, syn, None)
    }

    /// [`Tree::parse`] of an intended config: `set` lines are grouped into statements the
    /// way `guide` (the running config) holds them where it has them.
    pub fn parse_guided(
        text: &str,
        syn: &Syntax,
        guide: Option<&Tree>,
    ) -> Result<Tree, ParseError> {
        match syn.style {
            Style::Indent => Ok(parse_indent(text, syn)),
            Style::Braces => {
                let first = text
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !syn.is_trivia(l));
                if first.is_some_and(|l| l.starts_with("set ") || l.starts_with("delete ")) {
                    parse_set(text, syn, guide)
                } else {
                    parse_braces(text, syn)
                }
            }
        }
    }

    /// The text of the tree: unchanged nodes as read, new ones in the platform's layout.
    pub fn render(&self, syn: &Syntax) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, 0, syn, &mut out);
        out
    }
}

fn parse_indent(text: &str, syn: &Syntax) -> Tree {
    let mut roots: Vec<Node> = Vec::new();
    // The open sections, innermost last, with their indentation.
    let mut stack: Vec<(usize, Node)> = Vec::new();
    fn close_to(stack: &mut Vec<(usize, Node)>, roots: &mut Vec<Node>, indent: usize) {
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            if let Some((_, node)) = stack.pop() {
                match stack.last_mut() {
                    Some((_, parent)) => parent.children.push(node),
                    None => roots.push(node),
                }
            }
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i].trim_end();
        i += 1;
        let content = raw.trim_start();
        if content.is_empty() {
            // A blank line is not structure; dropping it keeps a template's spacing from
            // closing the section it sits in.
            continue;
        }
        let indent = raw.len() - content.len();
        close_to(&mut stack, &mut roots, indent);
        if syn.is_trivia(content) {
            let node = Node::trivia(raw);
            match stack.last_mut() {
                Some((_, parent)) => parent.children.push(node),
                None => roots.push(node),
            }
            continue;
        }
        // Literals are found on the line as written: `^route-policy` is a top-level block,
        // not the `route-policy X in` of a BGP neighbour.
        if let Some(lit) = syn
            .literals
            .iter()
            .find(|l| l.start.is_match(raw) && l.end_in(content, &lines[i..]).is_some())
        {
            let taken = lit.end_in(content, &lines[i..]).unwrap_or(0);
            let mut block = vec![raw.to_string()];
            block.extend(lines[i..i + taken].iter().map(|l| l.trim_end().to_string()));
            i += taken;
            stack.push((
                indent,
                Node {
                    line: block
                        .iter()
                        .map(|l| l.trim_end())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    kind: super::tree::Kind::Literal,
                    children: Vec::new(),
                    raw: Some(block.join("\n")),
                },
            ));
            continue;
        }
        stack.push((
            indent,
            Node {
                line: collapse(content),
                kind: Kind::Statement,
                children: Vec::new(),
                raw: Some(raw.to_string()),
            },
        ));
    }
    close_to(&mut stack, &mut roots, 0);
    Tree { nodes: roots }
}

fn parse_braces(text: &str, syn: &Syntax) -> Result<Tree, ParseError> {
    let mut roots: Vec<Node> = Vec::new();
    let mut stack: Vec<(usize, Node)> = Vec::new();
    let push = |stack: &mut Vec<(usize, Node)>, roots: &mut Vec<Node>, node: Node| match stack
        .last_mut()
    {
        Some((_, parent)) => parent.children.push(node),
        None => roots.push(node),
    };
    for (no, raw) in text.lines().enumerate() {
        let raw = raw.trim_end();
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        if syn.is_trivia(t) || t.starts_with("/*") {
            push(&mut stack, &mut roots, Node::trivia(raw));
            continue;
        }
        if t == "}" {
            match stack.pop() {
                Some((_, node)) => push(&mut stack, &mut roots, node),
                None => {
                    return Err(ParseError {
                        line: no + 1,
                        message: "`}` without an open block".into(),
                    })
                }
            }
            continue;
        }
        if let Some(head) = t.strip_suffix('{') {
            stack.push((
                no + 1,
                Node {
                    line: collapse(head),
                    kind: Kind::Statement,
                    children: Vec::new(),
                    raw: Some(raw.to_string()),
                },
            ));
            continue;
        }
        // `statement; ## comment`: the statement is what comes before the `;`.
        let stmt = match t.find(';') {
            Some(at) => &t[..at],
            None => t,
        };
        // `members [ v10 v20 ];` is one statement per value, as `set` lines write it.
        if let (Some(open), true) = (stmt.find(" [ "), stmt.ends_with(']')) {
            let key = &stmt[..open];
            let values = stmt[open + 3..stmt.len() - 1].split_whitespace();
            for v in values {
                push(&mut stack, &mut roots, Node::new(format!("{key} {v}")));
            }
            continue;
        }
        push(
            &mut stack,
            &mut roots,
            Node {
                line: collapse(stmt),
                kind: Kind::Statement,
                children: Vec::new(),
                raw: Some(raw.to_string()),
            },
        );
    }
    if let Some((line, node)) = stack.last() {
        return Err(ParseError {
            line: *line,
            message: format!("block `{}` is not closed with `}}`", node.line),
        });
    }
    Ok(Tree { nodes: roots })
}

/// Splits a `set` line's words, keeping `"quoted strings"` whole (quotes included, as the
/// brace form prints them).
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Groups the words of a `set` path into statements: `unit 0` and `host-name r1` are one
/// statement each, as the device nests them.
pub fn segments(words: &[String], depth: usize, syn: &Syntax) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let level = depth + out.len();
        // Top-level statements are sections (`system`), or a keyword with a value.
        let pair = i + 1 < words.len()
            && ((level > 0 && syn.value_keywords.iter().any(|k| *k == words[i]))
                // The last two words: a keyword and what looks like its value.
                || (i + 2 == words.len() && looks_like_value(&words[i + 1])));
        if pair {
            out.push(format!("{} {}", words[i], words[i + 1]));
            i += 2;
        } else {
            out.push(words[i].clone());
            i += 1;
        }
    }
    out
}

/// A number, an address, a quoted string, a name with punctuation: not a keyword.
fn looks_like_value(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_digit() || c == '"' || c.is_ascii_uppercase())
        || w.contains(['.', '/', ':', '$', '_'])
}

/// The statements of `words` as the tree holds them: each level matches an existing child
/// when one is a prefix of the remaining words (a statement read from braces may span
/// several words), else the profile's keyword pairs decide.
pub fn resolve(nodes: &[Node], words: &[String], syn: &Syntax) -> Vec<String> {
    resolve_guided(nodes, None, words, syn)
}

/// [`resolve`] that also follows `guide` (the running config, when reading an intended
/// one) where the tree itself has no matching statement yet.
pub fn resolve_guided(
    nodes: &[Node],
    guide: Option<&[Node]>,
    words: &[String],
    syn: &Syntax,
) -> Vec<String> {
    fn matching<'a>(nodes: &'a [Node], words: &[String]) -> Option<(&'a Node, usize)> {
        nodes.iter().filter(|n| n.is_config()).find_map(|n| {
            let n_words: Vec<&str> = n.line.split(' ').collect();
            let take = n_words.len();
            (take <= words.len() && n_words.iter().zip(words).all(|(a, b)| *a == b))
                .then_some((n, take))
        })
    }
    fn children<'a>(list: Option<&'a [Node]>, line: &str) -> Option<&'a [Node]> {
        list.and_then(|l| {
            l.iter()
                .find(|c| c.is_config() && c.line == line)
                .map(|c| c.children.as_slice())
        })
    }
    let mut out = Vec::new();
    let mut cur = Some(nodes);
    let mut along = guide;
    let mut i = 0;
    while i < words.len() {
        let here = cur.and_then(|c| matching(c, &words[i..]));
        let there = along.and_then(|g| matching(g, &words[i..]));
        let Some((n, take)) = here.or(there) else {
            let depth = out.len();
            out.extend(segments(&words[i..], depth, syn));
            break;
        };
        let line = n.line.clone();
        i += take;
        cur = children(cur, &line);
        along = children(along, &line);
        out.push(line);
    }
    out
}

fn parse_set(text: &str, syn: &Syntax, guide: Option<&Tree>) -> Result<Tree, ParseError> {
    let mut tree = Tree::default();
    for (no, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty() || syn.is_trivia(t) {
            continue;
        }
        let w = words(t);
        if w.first().map(String::as_str) != Some("set") || w.len() < 2 {
            return Err(ParseError {
                line: no + 1,
                message: format!(
                    "expected a `set ...` line (the whole intended configuration), found `{t}`"
                ),
            });
        }
        let segs = resolve_guided(&tree.nodes, guide.map(|g| g.nodes.as_slice()), &w[1..], syn);
        let mut cur = &mut tree.nodes;
        for seg in segs {
            let at = match cur.iter().position(|n| n.is_config() && n.line == seg) {
                Some(at) => at,
                None => {
                    cur.push(Node::new(seg));
                    cur.len() - 1
                }
            };
            cur = &mut cur[at].children;
        }
    }
    Ok(tree)
}

fn render_nodes(nodes: &[Node], depth: usize, syn: &Syntax, out: &mut String) {
    let pad = " ".repeat(depth * syn.indent);
    for n in nodes {
        match syn.style {
            Style::Indent => {
                match &n.raw {
                    Some(raw) => out.push_str(raw),
                    None if n.kind == Kind::Literal => out.push_str(&n.line),
                    None => {
                        out.push_str(&pad);
                        out.push_str(&n.line);
                    }
                }
                out.push('\n');
                render_nodes(&n.children, depth + 1, syn, out);
            }
            Style::Braces => {
                if n.kind == Kind::Trivia {
                    out.push_str(n.raw.as_deref().unwrap_or(&n.line));
                    out.push('\n');
                    continue;
                }
                if n.children.is_empty() {
                    match &n.raw {
                        Some(raw) if !raw.trim_end().ends_with('{') => out.push_str(raw),
                        _ => {
                            out.push_str(&pad);
                            out.push_str(&n.line);
                            out.push(';');
                        }
                    }
                    out.push('\n');
                } else {
                    out.push_str(&pad);
                    out.push_str(&n.line);
                    out.push_str(" {\n");
                    render_nodes(&n.children, depth + 1, syn, out);
                    out.push_str(&pad);
                    out.push_str("}\n");
                }
            }
        }
    }
}
