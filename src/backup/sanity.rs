//! Sanity checks before a config may replace the stored one, and the rules that turn a
//! rendered file name into a path that can only land inside the store.
//!
//! A backup tool's worst failure is quietly overwriting a good backup with garbage: an empty
//! answer from a half-dead device, a session cut mid-config, a pager that ate half the
//! output. So a config that is empty, lacks the platform's end marker, or shrank a lot is
//! refused, and the old file stays.

use regex::Regex;

/// Default largest allowed shrink against the last stored version (a share, 0..1).
pub const DEFAULT_MAX_SHRINK: f64 = 0.5;

/// Names Windows refuses as file names, so a store cloned there would break.
const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The longest file name component most file systems accept.
const MAX_COMPONENT_BYTES: usize = 255;

/// Why a fetched config was not stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Empty,
    NoEndMarker {
        marker: String,
        last_line: String,
    },
    Shrank {
        old_lines: usize,
        new_lines: usize,
        max_shrink: f64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Empty => write!(f, "the config is empty; the old backup is kept"),
            Refusal::NoEndMarker { marker, last_line } => write!(
                f,
                "the config looks truncated: it does not end with the platform's end marker \
                 `{marker}` (last line: `{last_line}`); the old backup is kept"
            ),
            Refusal::Shrank {
                old_lines,
                new_lines,
                max_shrink,
            } => write!(
                f,
                "the config shrank from {old_lines} to {new_lines} lines, more than the allowed \
                 {:.0}%; the old backup is kept (raise `max_shrink` if this is intended)",
                max_shrink * 100.0
            ),
        }
    }
}

/// Check a normalised config against the platform's end marker and the last stored version.
pub fn check(
    new: &str,
    old: Option<&str>,
    end_marker: Option<&Regex>,
    max_shrink: f64,
) -> Result<(), Refusal> {
    if new.trim().is_empty() {
        return Err(Refusal::Empty);
    }
    if let Some(re) = end_marker {
        // The marker must be among the last lines (Junos may put a comment after `}`).
        let tail: Vec<&str> = new
            .lines()
            .rev()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        if !tail.iter().any(|l| re.is_match(l)) {
            return Err(Refusal::NoEndMarker {
                marker: re.as_str().to_string(),
                last_line: tail
                    .first()
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default(),
            });
        }
    }
    if let Some(old) = old {
        let old_lines = old.lines().count();
        let new_lines = new.lines().count();
        // Compare both lines and bytes: a config can lose half its bytes in a few long lines.
        let shrink = |o: usize, n: usize| {
            if o == 0 || n >= o {
                0.0
            } else {
                (o - n) as f64 / o as f64
            }
        };
        let worst = shrink(old_lines, new_lines).max(shrink(old.len(), new.len()));
        if worst > max_shrink {
            return Err(Refusal::Shrank {
                old_lines,
                new_lines,
                max_shrink,
            });
        }
    }
    Ok(())
}

/// Make a rendered file name safe: relative, `/`-separated, no `.`/`..`/empty components,
/// no control characters or backslashes, no `.git`, no reserved device names. Returns the
/// cleaned path or the reason it is refused.
pub fn safe_path(rendered: &str) -> Result<String, String> {
    let p = rendered.trim();
    let quoted = format!("{p:?}");
    if p.is_empty() {
        return Err("the backup file name is empty".into());
    }
    if p.starts_with('/') || p.starts_with('\\') || p.as_bytes().get(1) == Some(&b':') {
        return Err(format!(
            "the backup file name {quoted} is an absolute path; it must be relative to the store"
        ));
    }
    if let Some(c) = p.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the backup file name {quoted} contains a control character ({:?})",
            c
        ));
    }
    if p.contains('\\') {
        return Err(format!(
            "the backup file name {quoted} contains a backslash; use `/` between folders"
        ));
    }
    let mut parts = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" => {
                return Err(format!(
                "the backup file name {quoted} has an empty folder name (`//` or a trailing `/`)"
            ))
            }
            "." | ".." => {
                return Err(format!(
                "the backup file name {quoted} contains `{comp}`; it could point outside the store"
            ))
            }
            _ => {}
        }
        if comp.eq_ignore_ascii_case(".git") {
            return Err(format!(
                "the backup file name {quoted} would write into the store's `.git` folder"
            ));
        }
        let stem = comp.split('.').next().unwrap_or(comp).to_ascii_lowercase();
        if RESERVED.contains(&stem.as_str()) {
            return Err(format!(
                "the backup file name {quoted} uses the reserved name `{comp}`"
            ));
        }
        if comp.len() > MAX_COMPONENT_BYTES {
            return Err(format!(
                "the backup file name {quoted} has a part longer than {MAX_COMPONENT_BYTES} bytes"
            ));
        }
        parts.push(comp);
    }
    Ok(parts.join("/"))
}

/// Lines added and removed from `old` to `new` (a line diff).
pub fn line_changes(old: &str, new: &str) -> (usize, usize) {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut added = 0;
    let mut removed = 0;
    for op in diff.ops() {
        for change in diff.iter_changes(op) {
            match change.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
    }
    (added, removed)
}

/// A unified diff of two versions, `a`/`b` naming them in the header.
pub fn unified_diff(old: &str, new: &str, a: &str, b: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(a, b)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end() -> Regex {
        Regex::new(r"^end\s*$").unwrap()
    }

    #[test]
    fn refuses_empty_truncated_and_shrunk() {
        let good: String = (0..100).map(|i| format!("line {i}\n")).collect::<String>() + "end\n";
        assert_eq!(check("", None, Some(&end()), 0.5), Err(Refusal::Empty));
        assert_eq!(check(" \n", Some(&good), None, 0.5), Err(Refusal::Empty));
        let truncated = "hostname r1\ninterface Gi0/1\n";
        let e = check(truncated, Some(&good), Some(&end()), 0.5).unwrap_err();
        assert!(matches!(e, Refusal::NoEndMarker { .. }), "{e:?}");
        assert!(e.to_string().contains("`interface Gi0/1`"), "{e}");
        let small = "hostname r1\nend\n";
        let e = check(small, Some(&good), Some(&end()), 0.5).unwrap_err();
        assert!(
            matches!(
                e,
                Refusal::Shrank {
                    old_lines: 101,
                    new_lines: 2,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(check(small, Some(&good), Some(&end()), 1.0).is_ok());
        assert!(check(small, None, Some(&end()), 0.5).is_ok());
        assert!(check(&good, Some(small), Some(&end()), 0.5).is_ok());
    }

    #[test]
    fn hostile_names_refused() {
        for bad in [
            "../evil.cfg",
            "a/../../evil.cfg",
            "/etc/passwd",
            "C:/x.cfg",
            "a\\..\\b.cfg",
            "a//b.cfg",
            "dir/",
            "./x.cfg",
            ".git/config",
            "site/.GIT/hooks/x",
            "ok\nname.cfg",
            "tab\tname.cfg",
            "con.cfg",
            "LPT1",
            "",
            "  ",
        ] {
            assert!(safe_path(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(safe_path("ams/r1.cfg").unwrap(), "ams/r1.cfg");
        assert_eq!(safe_path(" r1.cfg ").unwrap(), "r1.cfg");
        assert_eq!(safe_path("..r1..cfg").unwrap(), "..r1..cfg");
        let long = "x".repeat(300);
        assert!(safe_path(&long).is_err());
        let e = safe_path("../evil.cfg").unwrap_err();
        assert!(
            e.contains("\"../evil.cfg\"") && e.contains("outside the store"),
            "{e}"
        );
    }

    #[test]
    fn counts_lines() {
        assert_eq!(line_changes("a\nb\nc\n", "a\nB\nc\nd\n"), (2, 1));
        assert_eq!(line_changes("", "a\n"), (1, 0));
        let d = unified_diff("a\nb\n", "a\nc\n", "old", "new");
        assert!(d.contains("-b\n+c\n"), "{d}");
    }
}
