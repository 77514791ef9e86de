//! What a device does with configuration commands, in the model: the prediction behind
//! `--check --diff`, and the proof that a remediation reaches the intended config. The rules
//! follow the devices (and the simulator, which models them): a new block lands after the
//! last block of its kind, a new line before `end`, a line whose last value wins replaces
//! the old one where it stood, `no X` removes X (or the block X names).

use super::syntax::{Style, Syntax};
use super::tree::{resolve, words, Kind, Node, Tree};

/// One command: the sections to enter, then the command (indent style). Braces style:
/// `set`/`delete` then the statements of the path (from a remediation, already grouped
/// the way the tree holds them), or one `set ...`/`delete ...` line as typed.
pub type Command = Vec<String>;

impl Tree {
    /// Applies commands in order, as the device would.
    pub fn apply(&mut self, commands: &[Command], syn: &Syntax) {
        for (i, cmd) in commands.iter().enumerate() {
            let Some((last, parents)) = cmd.split_last() else {
                continue;
            };
            match syn.style {
                Style::Braces => apply_braces(&mut self.nodes, cmd, syn),
                Style::Indent => {
                    // A section line followed by its children opens (or creates) the block.
                    let opens = commands
                        .get(i + 1)
                        .is_some_and(|next| next.len() > cmd.len() && next.starts_with(cmd));
                    if opens {
                        children_or_create(&mut self.nodes, cmd);
                    } else {
                        let siblings = children_or_create(&mut self.nodes, parents);
                        match syn.negated(last) {
                            Some(what) => apply_no(siblings, what, last, syn),
                            None => apply_set(siblings, last, syn),
                        }
                    }
                }
            }
        }
    }
}

fn position_of(siblings: &[Node], line: &str) -> Option<usize> {
    siblings
        .iter()
        .position(|n| n.is_config() && n.line == line)
}

/// Where a new block goes: after the last sibling of its kind (same first word) and the
/// separator after it, else before a trailing `end`, else last. The flag says the new block
/// gets a separator of its own, as its neighbours have.
fn insert_position(siblings: &[Node], line: &str) -> (usize, bool) {
    let kw = line.split_whitespace().next().unwrap_or("");
    if let Some(last) = siblings
        .iter()
        .rposition(|n| n.is_config() && n.line.split_whitespace().next() == Some(kw))
    {
        return match siblings.get(last + 1) {
            Some(n) if n.kind == Kind::Trivia && n.line == "!" => (last + 2, true),
            _ => (last + 1, false),
        };
    }
    match siblings
        .iter()
        .rposition(|n| n.kind == Kind::Trivia && n.line == "end")
    {
        Some(i) => (i, false),
        None => (siblings.len(), false),
    }
}

fn children_or_create<'a>(nodes: &'a mut Vec<Node>, path: &[String]) -> &'a mut Vec<Node> {
    let mut cur = nodes;
    for p in path {
        let at = match position_of(cur, p) {
            Some(i) => i,
            None => {
                let (at, separate) = insert_position(cur, p);
                // The new block's separator is a copy of its neighbour's, indentation and
                // all (a `!` at the left margin would close every open section).
                let sep = separate.then(|| cur[at - 1].clone());
                cur.insert(at, Node::new(p.clone()));
                if let Some(sep) = sep {
                    cur.insert(at + 1, sep);
                }
                at
            }
        };
        cur = &mut cur[at].children;
    }
    cur
}

fn apply_set(siblings: &mut Vec<Node>, line: &str, syn: &Syntax) {
    if position_of(siblings, line).is_some() {
        return;
    }
    // `ip domain lookup` cancels a stored `no ip domain lookup`.
    let negated = format!("{}{line}", syn.negate_prefix);
    if let Some(i) = position_of(siblings, &negated) {
        // NX-OS `shutdown` takes the place of the `no shutdown` it shows; IOS `ip domain
        // lookup` only removes the `no ip domain lookup` it shows.
        if syn.shows_negation(&negated) {
            siblings[i] = Node::new(line);
        } else {
            siblings.remove(i);
        }
        return;
    }
    if let Some(key) = syn.value_key(line) {
        let found = siblings.iter().position(|n| {
            n.is_config() && n.children.is_empty() && syn.value_key(&n.line) == Some(key)
        });
        if let Some(i) = found {
            siblings[i].line = line.to_string();
            siblings[i].raw = None;
            return;
        }
    }
    let mut node = Node::new(line);
    if line.contains('\n') {
        node.kind = Kind::Literal;
    }
    // Numbered entries (ACLs, prefix lists) are kept in number order by the device.
    if let Some(seq) = sequence(line) {
        let numbered: Vec<Option<u64>> = siblings
            .iter()
            .filter(|n| n.is_config())
            .map(|n| sequence(&n.line))
            .collect();
        if !numbered.is_empty() && numbered.iter().all(Option::is_some) {
            let at = siblings
                .iter()
                .position(|n| n.is_config() && sequence(&n.line).is_some_and(|s| s > seq))
                .unwrap_or_else(|| {
                    siblings
                        .iter()
                        .rposition(Node::is_config)
                        .map_or(siblings.len(), |i| i + 1)
                });
            siblings.insert(at, node);
            return;
        }
    }
    if syn.goes_first(line) {
        let at = siblings.iter().position(Node::is_config).unwrap_or(0);
        siblings.insert(at, node);
        return;
    }
    let at = if siblings.iter().any(Node::is_section) {
        insert_position(siblings, line).0
    } else {
        match siblings
            .iter()
            .rposition(|n| n.kind == Kind::Trivia && n.line == "end")
        {
            Some(i) => i,
            None => siblings.len(),
        }
    };
    siblings.insert(at, node);
}

/// The sequence number a line starts with (`10 permit ip any any`).
fn sequence(line: &str) -> Option<u64> {
    line.split(' ').next()?.parse().ok()
}

/// `no X`: removes X, the statement X begins (`no description` removes `description a`) or
/// the block X names. Some negations are kept as lines when there is nothing to remove.
fn apply_no(siblings: &mut Vec<Node>, what: &str, typed: &str, syn: &Syntax) {
    let prefix = format!("{what} ");
    let found = position_of(siblings, what).or_else(|| {
        siblings.iter().position(|n| {
            // A banner or route policy is named by its first line.
            let head = match n.kind {
                Kind::Literal => n.line.lines().next().unwrap_or_default(),
                _ => n.line.as_str(),
            };
            n.is_config() && (head == what || head.starts_with(&prefix))
        })
    });
    if let Some(i) = found {
        let was_block = siblings[i].is_section();
        let exact = siblings[i].line == what;
        siblings.remove(i);
        // Where the device shows the negated form (NX-OS `no shutdown`), it takes the
        // removed statement's place.
        if exact && !was_block && syn.shows_negation(typed) {
            siblings.insert(i, Node::new(typed));
            return;
        }
        // A separator that would now be doubled goes too.
        let is_sep = |n: &Node| n.kind == Kind::Trivia && n.line == "!";
        if was_block
            && i < siblings.len()
            && is_sep(&siblings[i])
            && (i == 0 || is_sep(&siblings[i - 1]))
        {
            siblings.remove(i);
        }
        return;
    }
    if syn.keeps_negation(typed) && position_of(siblings, typed).is_none() {
        siblings.push(Node::new(typed));
    }
}

/// Junos `set a b c` / `delete a b c` on the tree.
fn apply_braces(nodes: &mut Vec<Node>, cmd: &[String], syn: &Syntax) {
    let (verb, segs) = match cmd {
        [line] => {
            let w = words(line);
            let Some((verb, path)) = w.split_first() else {
                return;
            };
            (verb.clone(), resolve(nodes, path, syn))
        }
        [verb, segs @ ..] => (verb.clone(), segs.to_vec()),
        [] => return,
    };
    match verb.as_str() {
        "set" => {
            let Some((leaf, parents)) = segs.split_last() else {
                return;
            };
            let mut cur = nodes;
            for p in parents {
                let at = match position_of(cur, p) {
                    Some(i) => i,
                    None => {
                        cur.push(Node::new(p.clone()));
                        cur.len() - 1
                    }
                };
                cur = &mut cur[at].children;
            }
            if position_of(cur, leaf).is_some() {
                return;
            }
            if let Some(key) = syn.value_key(leaf) {
                let found = cur.iter().position(|n| {
                    n.is_config() && n.children.is_empty() && syn.value_key(&n.line) == Some(key)
                });
                if let Some(i) = found {
                    cur[i].line = leaf.clone();
                    cur[i].raw = None;
                    return;
                }
            }
            cur.push(Node::new(leaf.clone()));
        }
        "delete" => {
            let Some((last, parents)) = segs.split_last() else {
                return;
            };
            let mut cur = nodes;
            for p in parents {
                let Some(at) = position_of(cur, p) else {
                    return;
                };
                cur = &mut cur[at].children;
            }
            // `delete system host-name` removes `host-name r1`.
            let prefix = format!("{last} ");
            let found = position_of(cur, last).or_else(|| {
                cur.iter()
                    .position(|n| n.is_config() && n.line.starts_with(&prefix))
            });
            if let Some(i) = found {
                cur.remove(i);
            }
        }
        _ => {}
    }
}
