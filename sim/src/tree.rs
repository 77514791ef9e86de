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
    let lines: Vec<&str> = text.lines().collect();
    let mut next = 0;
    while next < lines.len() {
        let raw = lines[next];
        next += 1;
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim().to_string();
        if indent == 0 {
            // A banner's text lines are text: top-level lines kept as written, never the
            // children of the line before them.
            let text = banner_span(&lines[next - 1..]) - 1;
            if text > 0 {
                roots.push(Node::leaf(line));
                roots.extend(
                    lines[next..next + text]
                        .iter()
                        .map(|l| Node::leaf(l.trim_end())),
                );
                next += text;
                stack.clear();
                continue;
            }
        }
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

/// How a `banner TYPE ...` line's banner ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BannerEnd {
    /// The delimiter comes back on the same line (`banner motd ^Chello^C`).
    Same,
    /// At the first later line holding the delimiter (`^C`, or any one character).
    Delim(String),
    /// At a line `EOF` (EOS: `banner motd` alone).
    Eof,
}

/// The type of banner `line` opens and how it ends; None when it opens none.
pub fn banner_open(line: &str) -> Option<(String, BannerEnd)> {
    let rest = line.trim_start().strip_prefix("banner ")?.trim_start();
    let kind = rest.split_whitespace().next()?;
    let after = rest[kind.len()..].trim();
    if after.is_empty() {
        return Some((kind.to_string(), BannerEnd::Eof));
    }
    // `show running-config` prints the delimiter as the two characters `^C`.
    let delim = if after.starts_with("^C") {
        "^C".to_string()
    } else {
        after.chars().next()?.to_string()
    };
    if after[delim.len()..].contains(delim.as_str()) {
        return Some((kind.to_string(), BannerEnd::Same));
    }
    Some((kind.to_string(), BannerEnd::Delim(delim)))
}

/// How many of `lines` the banner opened by the first takes (1 when it opens none, or
/// never ends: an unclosed banner must not swallow the rest of the config).
pub fn banner_span<S: AsRef<str>>(lines: &[S]) -> usize {
    let Some((first, rest)) = lines.split_first() else {
        return 0;
    };
    let end = match banner_open(first.as_ref()) {
        Some((_, BannerEnd::Delim(d))) => rest.iter().position(|l| l.as_ref().contains(&d)),
        Some((_, BannerEnd::Eof)) => rest.iter().position(|l| l.as_ref().trim() == "EOF"),
        _ => None,
    };
    end.map_or(1, |e| e + 2)
}

/// Where the banner of `kind` is among the top-level nodes: its first node and how many
/// nodes it takes.
pub fn find_banner(nodes: &[Node], kind: &str) -> Option<(usize, usize)> {
    let at = nodes
        .iter()
        .position(|n| banner_open(&n.line).is_some_and(|(k, _)| k == kind))?;
    let lines: Vec<&str> = nodes[at..].iter().map(|n| n.line.as_str()).collect();
    Some((at, banner_span(&lines)))
}

/// Replaces the banner of `kind` by `text` (as shown, one node a line), in its place; a
/// new one goes where the devices list banners: after the other banners, else before the
/// `line` blocks, else before `end`, else last.
pub fn set_banner(nodes: &mut Vec<Node>, kind: &str, text: &str) {
    let new = text.split('\n').map(Node::leaf);
    if let Some((at, n)) = find_banner(nodes, kind) {
        nodes.splice(at..at + n, new);
        return;
    }
    // After the other banners, as the devices list them together.
    let last = nodes.iter().enumerate().rev().find_map(|(i, n)| {
        banner_open(&n.line).map(|_| {
            let lines: Vec<&str> = nodes[i..].iter().map(|n| n.line.as_str()).collect();
            i + banner_span(&lines)
        })
    });
    if let Some(at) = last {
        nodes.splice(at..at, new);
        return;
    }
    let at = nodes
        .iter()
        .position(|n| n.line.starts_with("line "))
        .or_else(|| nodes.iter().rposition(|n| n.line == "end"))
        .unwrap_or(nodes.len());
    let separated = at > 0 && nodes[at - 1].line == "!";
    let mut block: Vec<Node> = new.collect();
    if separated {
        block.push(Node::leaf("!"));
    }
    nodes.splice(at..at, block);
}

/// Removes the banner of `kind`, all its lines. Returns whether there was one.
pub fn remove_banner(nodes: &mut Vec<Node>, kind: &str) -> bool {
    let Some((at, n)) = find_banner(nodes, kind) else {
        return false;
    };
    nodes.drain(at..at + n);
    // Drop a separator that would now be doubled.
    if at > 0 && nodes[at - 1].line == "!" && nodes.get(at).is_some_and(|n| n.line == "!") {
        nodes.remove(at);
    }
    true
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
    fn banners_parse_as_top_level_lines_and_round_trip() {
        let text = "hostname r1\nbanner motd ^C\n  Authorized access only\n\n line two\n^C\nbanner login ^Chi^C\n!\nline con 0\n logging synchronous\nend";
        let tree = parse_indented(text);
        let lines: Vec<_> = tree.iter().map(|n| n.line.as_str()).collect();
        assert_eq!(
            lines[..7],
            [
                "hostname r1",
                "banner motd ^C",
                "  Authorized access only",
                "",
                " line two",
                "^C",
                "banner login ^Chi^C"
            ]
        );
        let mut out = Vec::new();
        render_indented(&tree, 1, &mut out);
        assert_eq!(out.join("\n"), text);
        assert_eq!(find_banner(&tree, "motd"), Some((1, 5)));
        assert_eq!(find_banner(&tree, "login"), Some((6, 1)));

        let eos = parse_indented("banner motd\nhello\nEOF\n!\nend");
        assert_eq!(find_banner(&eos, "motd"), Some((0, 3)));
        // Never closed: one line, the rest is configuration.
        let open = parse_indented("banner motd #\ninterface A\n x");
        assert_eq!(open[1].children.len(), 1);
    }

    #[test]
    fn banners_are_replaced_in_place_or_placed_before_the_lines() {
        let mut tree = parse_indented("hostname r1\n!\nline con 0\n x\nend");
        set_banner(&mut tree, "motd", "banner motd ^C\nhello\n^C");
        let mut out = Vec::new();
        render_indented(&tree, 1, &mut out);
        assert_eq!(
            out.join("\n"),
            "hostname r1\n!\nbanner motd ^C\nhello\n^C\n!\nline con 0\n x\nend"
        );
        set_banner(&mut tree, "motd", "banner motd ^Cbye^C");
        assert_eq!(tree[2].line, "banner motd ^Cbye^C");
        assert_eq!(tree[3].line, "!");
        assert!(remove_banner(&mut tree, "motd"));
        assert!(!remove_banner(&mut tree, "motd"));
        let lines: Vec<_> = tree.iter().map(|n| n.line.as_str()).collect();
        assert_eq!(lines, ["hostname r1", "!", "line con 0", "end"]);
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
