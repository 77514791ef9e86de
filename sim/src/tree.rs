//! The configuration tree every simulated device keeps: an ordered tree of lines (IOS-style
//! blocks such as `interface X` with indented children, or Junos statements), parsed from
//! indented text and rendered back in the platform's own layout.

/// One configuration statement and the statements nested under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub line: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn leaf(line: impl Into<String>) -> Node {
        Node {
            line: line.into(),
            children: Vec::new(),
        }
    }

    /// `!` and blank lines only separate blocks; they are never matched or removed.
    pub fn is_separator(&self) -> bool {
        let t = self.line.trim();
        t.is_empty() || t == "!"
    }
}

/// Parses indented text (any indentation width) into a tree. Deeper indentation than the
/// previous line nests under it; comment lines starting with `!` at the top level are kept as
/// separators.
pub fn parse_indented(text: &str) -> Vec<Node> {
    // Stack of (indent, path of indices) from the root.
    let mut roots: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new(); // indents of the open ancestors
    for raw in text.lines() {
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim().to_string();
        while let Some(&top) = stack.last() {
            if top >= indent {
                stack.pop();
            } else {
                break;
            }
        }
        let depth = stack.len();
        let siblings = children_at_depth(&mut roots, depth);
        siblings.push(Node::leaf(line));
        stack.push(indent);
    }
    roots
}

/// The children list of the last node at each level down to `depth`.
fn children_at_depth(roots: &mut Vec<Node>, depth: usize) -> &mut Vec<Node> {
    let mut cur = roots;
    for _ in 0..depth {
        let len = cur.len();
        if len == 0 {
            break;
        }
        cur = &mut cur[len - 1].children;
    }
    cur
}

/// Renders a tree with `unit` spaces per level (IOS: 1, NX-OS: 2, EOS: 3).
pub fn render_indented(nodes: &[Node], unit: usize, out: &mut Vec<String>) {
    fn walk(nodes: &[Node], depth: usize, unit: usize, out: &mut Vec<String>) {
        for n in nodes {
            if n.line.is_empty() {
                out.push(String::new());
            } else {
                out.push(format!("{}{}", " ".repeat(depth * unit), n.line));
            }
            walk(&n.children, depth + 1, unit, out);
        }
    }
    walk(nodes, 0, unit, out);
}

/// Walks a path of block lines (e.g. `["router bgp 65000", "address-family ipv4"]`) and
/// returns the children list of the last one, or None when a block on the path is missing.
pub fn children_mut<'a>(nodes: &'a mut Vec<Node>, path: &[String]) -> Option<&'a mut Vec<Node>> {
    let mut cur = nodes;
    for p in path {
        let idx = cur.iter().position(|n| &n.line == p)?;
        cur = &mut cur[idx].children;
    }
    Some(cur)
}

/// Like [`children_mut`] but creates missing blocks on the way.
pub fn children_mut_or_create<'a>(nodes: &'a mut Vec<Node>, path: &[String]) -> &'a mut Vec<Node> {
    let mut cur = nodes;
    for p in path {
        let idx = match cur.iter().position(|n| &n.line == p) {
            Some(i) => i,
            None => {
                let (at, separate) = insert_position(cur, p);
                cur.insert(at, Node::leaf(p.clone()));
                if separate {
                    cur.insert(at + 1, Node::leaf("!"));
                }
                at
            }
        };
        cur = &mut cur[idx].children;
    }
    cur
}

/// Where a new block goes: after the last sibling that starts with the same keyword (so a new
/// interface lands after the other interfaces, as on the real devices), else before a
/// trailing `end`, else at the end. The flag says a `!` separator should follow the new block
/// because its neighbours are separated that way.
pub fn insert_position(siblings: &[Node], line: &str) -> (usize, bool) {
    let kw = line.split_whitespace().next().unwrap_or("");
    if let Some(last) = siblings
        .iter()
        .rposition(|n| n.line.split_whitespace().next() == Some(kw))
    {
        return match siblings.get(last + 1) {
            Some(n) if n.line.trim() == "!" => (last + 2, true),
            _ => (last + 1, false),
        };
    }
    match siblings.iter().rposition(|n| n.line == "end") {
        Some(i) => (i, false),
        None => (siblings.len(), false),
    }
}

/// Counts lines a tree renders to (for `Current configuration : N bytes` style headers).
pub fn count_lines(nodes: &[Node]) -> usize {
    nodes.iter().map(|n| 1 + count_lines(&n.children)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render_round_trip() {
        let text = "hostname r1\n!\ninterface Gi0/1\n description x\n ip address 1.1.1.1 255.0.0.0\n!\nrouter bgp 1\n address-family ipv4\n  network 1.0.0.0\n exit-address-family\n!\nend";
        let tree = parse_indented(text);
        assert_eq!(tree[2].line, "interface Gi0/1");
        assert_eq!(tree[2].children.len(), 2);
        assert_eq!(tree[4].children[0].children[0].line, "network 1.0.0.0");
        let mut out = Vec::new();
        render_indented(&tree, 1, &mut out);
        assert_eq!(out.join("\n"), text);
    }

    #[test]
    fn new_blocks_land_after_their_kind() {
        let mut tree =
            parse_indented("hostname r1\ninterface A\n x\ninterface B\nline vty 0 4\nend");
        children_mut_or_create(&mut tree, &["interface C".to_string()]).push(Node::leaf("y"));
        let lines: Vec<_> = tree.iter().map(|n| n.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "hostname r1",
                "interface A",
                "interface B",
                "interface C",
                "line vty 0 4",
                "end"
            ]
        );
        tree.push(Node::leaf("z"));
        assert!(children_mut(&mut tree, &["interface Q".to_string()]).is_none());
    }
}
