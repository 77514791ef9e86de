//! Server-side syntax highlighting of device configs (a CSS class per piece of a line,
//! chosen by platform family) and diff rows (unified and side by side) from `similar`.
//! Everything here returns plain text pieces; the templates escape them.

use std::sync::LazyLock;
use std::time::Duration;

use serde::Serialize;
use similar::{ChangeTag, DiffOp, TextDiff};

/// How long one diff may compute before it settles for a coarser answer.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// A piece of a line and its CSS class (empty: plain).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Piece(pub &'static str, pub String);

/// The comment syntax of a platform family.
fn comment_starts(platform: &str) -> &'static [&'static str] {
    let p = platform.to_ascii_lowercase();
    if p.contains("junos") || p.contains("juniper") {
        &["#", "/*", "##"]
    } else if p.contains("linux") || p.contains("vyos") || p.contains("routeros") {
        &["#"]
    } else {
        // IOS, IOS-XE, IOS-XR, NX-OS, EOS and most CLIs that imitate them.
        &["!"]
    }
}

static TOKENS: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?P<sec>\*{8})|(?P<ip>\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?\b)|(?P<neg>^\s*(?:no|delete|deactivate)\s)",
    )
    .ok()
});

/// Highlight one config line.
pub fn line(platform: &str, text: &str) -> Vec<Piece> {
    let trimmed = text.trim_start();
    if comment_starts(platform)
        .iter()
        .any(|c| trimmed.starts_with(c))
    {
        return vec![Piece("c", text.to_string())];
    }
    let mut out = Vec::new();
    let mut rest_start = 0;
    // A top-level statement's first word marks the section.
    let top = !text.starts_with([' ', '\t']) && !text.is_empty();
    if top {
        let end = text.find(' ').unwrap_or(text.len());
        let word = &text[..end];
        if !matches!(word, "no" | "delete" | "deactivate") {
            out.push(Piece("k", word.to_string()));
            rest_start = end;
        }
    }
    let rest = &text[rest_start..];
    let mut last = 0;
    if let Some(re) = TOKENS.as_ref() {
        for caps in re.captures_iter(rest) {
            let Some(m) = caps.get(0) else { continue };
            // `^` anchors only match at the start of the whole line.
            if caps.name("neg").is_some() && rest_start != 0 {
                continue;
            }
            if m.start() > last {
                out.push(Piece("", rest[last..m.start()].to_string()));
            }
            let class = if caps.name("sec").is_some() {
                "s"
            } else if caps.name("ip").is_some() {
                "a"
            } else {
                "n"
            };
            out.push(Piece(class, m.as_str().to_string()));
            last = m.end();
        }
    }
    if last < rest.len() {
        out.push(Piece("", rest[last..].to_string()));
    }
    out
}

/// A config as highlighted lines.
pub fn config(platform: &str, text: &str) -> Vec<Vec<Piece>> {
    text.lines().map(|l| line(platform, l)).collect()
}

/// A row of a unified diff.
#[derive(Debug, Clone, Serialize)]
pub struct UnifiedRow {
    /// `hunk`, `ins`, `del` or `eq`.
    pub kind: &'static str,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}

/// A row of a side-by-side diff; a missing side is `None`.
#[derive(Debug, Clone, Serialize)]
pub struct SplitRow {
    /// `eq`, `chg`, `del`, `ins` or `hunk`.
    pub kind: &'static str,
    pub old_no: Option<usize>,
    pub old: Option<String>,
    pub new_no: Option<usize>,
    pub new: Option<String>,
}

fn text_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new)
}

fn strip(s: &str) -> String {
    s.trim_end_matches(['\n', '\r']).to_string()
}

/// The unified diff of two texts with `context` lines around each change, and the
/// numbers of added and removed lines.
pub fn unified(old: &str, new: &str, context: usize) -> (Vec<UnifiedRow>, usize, usize) {
    let diff = text_diff(old, new);
    let mut rows = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for group in diff.grouped_ops(context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let o = first.old_range().start..last.old_range().end;
        let n = first.new_range().start..last.new_range().end;
        rows.push(UnifiedRow {
            kind: "hunk",
            old: None,
            new: None,
            text: format!(
                "@@ -{},{} +{},{} @@",
                o.start + 1,
                o.len(),
                n.start + 1,
                n.len()
            ),
        });
        for op in &group {
            for ch in diff.iter_changes(op) {
                let kind = match ch.tag() {
                    ChangeTag::Equal => "eq",
                    ChangeTag::Insert => {
                        added += 1;
                        "ins"
                    }
                    ChangeTag::Delete => {
                        removed += 1;
                        "del"
                    }
                };
                rows.push(UnifiedRow {
                    kind,
                    old: ch.old_index().map(|i| i + 1),
                    new: ch.new_index().map(|i| i + 1),
                    text: strip(ch.value()),
                });
            }
        }
    }
    (rows, added, removed)
}

/// The side-by-side diff of two texts with `context` lines around each change.
pub fn split(old: &str, new: &str, context: usize) -> Vec<SplitRow> {
    let diff = text_diff(old, new);
    let old_lines: Vec<&str> = diff.old_slices().to_vec();
    let new_lines: Vec<&str> = diff.new_slices().to_vec();
    let mut rows = Vec::new();
    for group in diff.grouped_ops(context) {
        let Some(first) = group.first() else { continue };
        rows.push(SplitRow {
            kind: "hunk",
            old_no: Some(first.old_range().start + 1),
            old: None,
            new_no: Some(first.new_range().start + 1),
            new: None,
        });
        for op in &group {
            let (o, n) = (op.old_range(), op.new_range());
            match op {
                DiffOp::Equal { .. } => {
                    for (i, j) in o.zip(n) {
                        rows.push(SplitRow {
                            kind: "eq",
                            old_no: Some(i + 1),
                            old: old_lines.get(i).map(|s| strip(s)),
                            new_no: Some(j + 1),
                            new: new_lines.get(j).map(|s| strip(s)),
                        });
                    }
                }
                _ => {
                    let (ol, nl) = (o.len(), n.len());
                    for k in 0..ol.max(nl) {
                        let i = (k < ol).then(|| o.start + k);
                        let j = (k < nl).then(|| n.start + k);
                        let kind = match (i, j) {
                            (Some(_), Some(_)) => "chg",
                            (Some(_), None) => "del",
                            _ => "ins",
                        };
                        rows.push(SplitRow {
                            kind,
                            old_no: i.map(|i| i + 1),
                            old: i.and_then(|i| old_lines.get(i)).map(|s| strip(s)),
                            new_no: j.map(|j| j + 1),
                            new: j.and_then(|j| new_lines.get(j)).map(|s| strip(s)),
                        });
                    }
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        let l = line("cisco_ios", " ip address 10.0.0.1 255.255.255.0");
        assert!(l.contains(&Piece("a", "10.0.0.1".into())), "{l:?}");
        assert_eq!(line("cisco_ios", "! comment")[0].0, "c");
        assert_eq!(line("junos", "# comment")[0].0, "c");
        let l = line("cisco_ios", "enable secret 5 ********");
        assert_eq!(l[0], Piece("k", "enable".into()));
        assert!(l.contains(&Piece("s", "********".into())), "{l:?}");
        let l = line("cisco_ios", " no shutdown");
        assert_eq!(l[0].0, "n");
        // Nothing is lost.
        let text = "interface Gi0/1 <script>alert(1)</script> 1.2.3.4/24";
        let joined: String = line("eos", text).into_iter().map(|p| p.1).collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn diffs() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nc\nd\ne\n";
        let (rows, added, removed) = unified(old, new, 1);
        assert_eq!((added, removed), (2, 1));
        assert_eq!(rows[0].kind, "hunk");
        assert!(rows.iter().any(|r| r.kind == "del" && r.text == "b"));
        let rows = split(old, new, 3);
        assert!(rows.iter().any(|r| r.kind == "chg"
            && r.old.as_deref() == Some("b")
            && r.new.as_deref() == Some("B")));
        assert!(rows
            .iter()
            .any(|r| r.kind == "ins" && r.old.is_none() && r.new.as_deref() == Some("e")));
    }
}
