//! Host patterns, as Ansible reads them: `all`, `*`, group and host names, globs (`core-*`),
//! `~regex` (matched from the start of the name), subscripts (`core[0]`, `core[1:2]`),
//! `a:b` / `a,b` union, `a:&b` intersection, `a:!b` exclusion, `@file` (one pattern per
//! line, as `--limit @file` uses it), and netorch's `=name`: exactly the host of that name,
//! never a group, glob or regex (`--rerun-failed` selects the hosts it recorded with it).
//!
//! Terms are applied in Ansible's order whatever their position: unions, then
//! intersections, then exclusions (`!b:a` is `a` minus `b`). A pattern of only `&`/`!` terms
//! starts from `all`. The result is always in inventory order.

use std::path::Path;

use regex::Regex;

use super::{Host, Inventory};
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Intersect,
    Exclude,
}

#[derive(Debug)]
enum Matcher {
    All,
    Exact(String),
    /// `=name`: the host of that name only.
    Host(String),
    Glob(glob::Pattern),
    Regex(Regex),
}

#[derive(Debug)]
enum Subscript {
    Index(i64),
    /// Inclusive; `None` end = to the last host.
    Range(usize, Option<usize>),
}

#[derive(Debug)]
struct Term {
    /// As written, for messages.
    text: String,
    op: Op,
    matcher: Matcher,
    subscript: Option<Subscript>,
}

impl Inventory {
    /// The hosts a pattern selects, in inventory order. Matching nothing is not an error
    /// here (see [`Inventory::unmatched_terms`]); a malformed pattern is.
    pub fn select(&self, pattern: &str) -> Result<Vec<&Host>, Error> {
        let bits = self.select_bits(pattern)?;
        Ok(self.hosts_of(&bits))
    }

    /// `pattern` narrowed by `--limit` (both are patterns; the result is their intersection).
    pub fn select_with_limit(
        &self,
        pattern: &str,
        limit: Option<&str>,
    ) -> Result<Vec<&Host>, Error> {
        let mut bits = self.select_bits(pattern)?;
        if let Some(limit) = limit {
            let lim = self.select_bits(limit)?;
            for (b, l) in bits.iter_mut().zip(lim) {
                *b &= l;
            }
        }
        Ok(self.hosts_of(&bits))
    }

    /// The terms of `pattern` that name no group and no host (as written, with their `!` or
    /// `&`), so a caller can say which part matched nothing. An existing but empty group is
    /// a match, as in Ansible. A malformed pattern gives no terms (`select` reports it).
    pub fn unmatched_terms(&self, pattern: &str) -> Vec<String> {
        let Ok(terms) = parse(pattern) else {
            return Vec::new();
        };
        terms
            .into_iter()
            .filter(|t| !self.term_names_something(t))
            .map(|t| t.text)
            .collect()
    }

    fn select_bits(&self, pattern: &str) -> Result<Vec<bool>, Error> {
        let terms = parse(pattern)?;
        let n = self.hosts.len();
        let unions: Vec<&Term> = terms.iter().filter(|t| t.op == Op::Union).collect();
        let mut bits = if unions.is_empty() {
            vec![true; n]
        } else {
            let mut b = vec![false; n];
            for t in unions {
                for h in self.term_hosts(t) {
                    b[h] = true;
                }
            }
            b
        };
        for t in terms.iter().filter(|t| t.op == Op::Intersect) {
            let mut keep = vec![false; n];
            for h in self.term_hosts(t) {
                keep[h] = true;
            }
            for (b, k) in bits.iter_mut().zip(keep) {
                *b &= k;
            }
        }
        for t in terms.iter().filter(|t| t.op == Op::Exclude) {
            for h in self.term_hosts(t) {
                bits[h] = false;
            }
        }
        Ok(bits)
    }

    fn hosts_of(&self, bits: &[bool]) -> Vec<&Host> {
        self.hosts
            .values()
            .zip(bits)
            .filter(|(_, &b)| b)
            .map(|(h, _)| h)
            .collect()
    }

    /// Host indices one term selects, in inventory order, subscript applied.
    fn term_hosts(&self, t: &Term) -> Vec<usize> {
        let n = self.hosts.len();
        let mut hit = vec![false; n];
        match &t.matcher {
            Matcher::All => hit.iter_mut().for_each(|h| *h = true),
            Matcher::Exact(name) => {
                // A group name wins over a host of the same name, as in Ansible.
                if let Some(g) = self.groups.get_index_of(name) {
                    for &h in &self.members[g] {
                        hit[h] = true;
                    }
                } else if let Some(h) = self.hosts.get_index_of(name) {
                    hit[h] = true;
                }
            }
            Matcher::Host(name) => {
                if let Some(h) = self.hosts.get_index_of(name) {
                    hit[h] = true;
                }
            }
            Matcher::Glob(_) | Matcher::Regex(_) => {
                for (g, name) in self.groups.keys().enumerate() {
                    if matches(&t.matcher, name) {
                        for &h in &self.members[g] {
                            hit[h] = true;
                        }
                    }
                }
                for (h, name) in self.hosts.keys().enumerate() {
                    if matches(&t.matcher, name) {
                        hit[h] = true;
                    }
                }
            }
        }
        let list: Vec<usize> = (0..n).filter(|&h| hit[h]).collect();
        match &t.subscript {
            None => list,
            Some(Subscript::Index(i)) => {
                let idx = if *i < 0 { list.len() as i64 + i } else { *i };
                usize::try_from(idx)
                    .ok()
                    .and_then(|i| list.get(i).copied())
                    .into_iter()
                    .collect()
            }
            Some(Subscript::Range(start, end)) => {
                let end = end.unwrap_or(usize::MAX).min(list.len().saturating_sub(1));
                if *start > end || list.is_empty() {
                    Vec::new()
                } else {
                    list[*start..=end].to_vec()
                }
            }
        }
    }

    fn term_names_something(&self, t: &Term) -> bool {
        match &t.matcher {
            Matcher::All => true,
            Matcher::Exact(name) => self.groups.contains_key(name) || self.hosts.contains_key(name),
            Matcher::Host(name) => self.hosts.contains_key(name),
            m => {
                self.groups.keys().any(|g| matches(m, g))
                    || self.hosts.keys().any(|h| matches(m, h))
            }
        }
    }
}

fn matches(m: &Matcher, name: &str) -> bool {
    match m {
        Matcher::All => true,
        Matcher::Exact(n) | Matcher::Host(n) => n == name,
        Matcher::Glob(p) => p.matches(name),
        Matcher::Regex(r) => r.is_match(name),
    }
}

fn pattern_error(pattern: &str, reason: impl Into<String>) -> Error {
    Error::Pattern {
        pattern: pattern.to_string(),
        reason: reason.into(),
    }
}

/// Check a pattern's grammar without an inventory. The playbook loader checks `hosts:` with
/// it, so a play and `--limit` accept exactly the same patterns. `@file` is read when the
/// pattern is used, not here. `Err` holds the reason.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let t = pattern.trim();
    if t.len() > 1 && t.starts_with('@') {
        return Ok(());
    }
    parse_text(t).map(|_| ())
}

/// Split and compile a pattern; `@file` is read first.
fn parse(pattern: &str) -> Result<Vec<Term>, Error> {
    let trimmed = pattern.trim();
    let expanded;
    let text = if let Some(file) = trimmed.strip_prefix('@') {
        // Bounded and regular files only: `--limit @/dev/zero` must not read for ever.
        let content = crate::source::read_source(Path::new(file))?;
        let lines: Vec<&str> = content
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        if lines.is_empty() {
            return Err(pattern_error(
                pattern,
                format!("the file {file} holds no pattern"),
            ));
        }
        expanded = lines.join(",");
        expanded.as_str()
    } else {
        trimmed
    };
    parse_text(text).map_err(|reason| pattern_error(pattern, reason))
}

/// The grammar: terms separated by `,` or `:` outside brackets, parentheses and braces (so
/// `~r[0-9]{1,2}` is one term), each with an optional `&` or `!`.
fn parse_text(text: &str) -> Result<Vec<Term>, String> {
    if text.is_empty() {
        return Err("the pattern is empty".into());
    }
    let mut terms = Vec::new();
    for piece in split_top(text, ',') {
        let piece = piece.trim();
        if piece.is_empty() {
            return Err("empty term (two separators in a row, or one at an end)".into());
        }
        // A bare IPv6 address is one host name, not `:`-separated terms; so is an exact
        // `=name` (an IPv6 host name holds colons).
        let exact = piece.trim_start_matches(['!', '&']).starts_with('=');
        let parts = if exact || piece.parse::<std::net::Ipv6Addr>().is_ok() {
            vec![piece]
        } else {
            split_top(piece, ':')
        };
        for part in parts {
            terms.push(parse_term(part.trim())?);
        }
    }
    Ok(terms)
}

/// Split on `sep` outside brackets, parentheses and braces (ranges, subscripts, regexes).
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            c if c == sep && depth <= 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_term(text: &str) -> Result<Term, String> {
    let (op, body) = if let Some(rest) = text.strip_prefix('!') {
        (Op::Exclude, rest)
    } else if let Some(rest) = text.strip_prefix('&') {
        (Op::Intersect, rest)
    } else {
        (Op::Union, text)
    };
    let body = body.trim();
    if body.is_empty() {
        return Err(format!(
            "empty term{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(" after `{text}`")
            }
        ));
    }
    if let Some(name) = body.strip_prefix('=') {
        if name.is_empty() {
            return Err("`=` must be followed by a host name".into());
        }
        return Ok(Term {
            text: text.to_string(),
            op,
            matcher: Matcher::Host(name.to_string()),
            subscript: None,
        });
    }
    if let Some(re) = body.strip_prefix('~') {
        if re.is_empty() {
            return Err("`~` must be followed by a regular expression".into());
        }
        let regex = Regex::new(&format!("^(?:{re})")).map_err(|e| {
            format!(
                "bad regular expression `{re}`: {}",
                first_line(&e.to_string())
            )
        })?;
        return Ok(Term {
            text: text.to_string(),
            op,
            matcher: Matcher::Regex(regex),
            subscript: None,
        });
    }
    // No host or group name holds a space; `core access` is a forgotten separator.
    if body.contains(char::is_whitespace) {
        return Err(format!(
            "`{body}`: patterns contain no spaces; join parts with `:` or `,`"
        ));
    }
    let (base, subscript) = split_subscript(body)?;
    if base.is_empty() {
        return Err(format!(
            "`{body}`: a subscript needs a group or pattern before it"
        ));
    }
    let matcher = if base == "all" || base == "*" {
        Matcher::All
    } else if base.contains(['*', '?', '[']) {
        Matcher::Glob(glob::Pattern::new(base).map_err(|e| format!("bad wildcard `{base}`: {e}"))?)
    } else {
        Matcher::Exact(base.to_string())
    };
    Ok(Term {
        text: text.to_string(),
        op,
        matcher,
        subscript,
    })
}

/// `name[3]`, `name[-1]`, `name[1:4]`, `name[2:]` (Ansible's subscripts; ranges inclusive).
fn split_subscript(body: &str) -> Result<(&str, Option<Subscript>), String> {
    let Some(inner) = body.strip_suffix(']') else {
        return Ok((body, None));
    };
    let Some(open) = inner.rfind('[') else {
        return Ok((body, None));
    };
    let (base, sub) = (&inner[..open], &inner[open + 1..]);
    let is_num = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let too_large = |_| format!("subscript `[{sub}]` is too large");
    if let Some(n) = sub
        .strip_prefix('-')
        .filter(|n| is_num(n))
        .or(Some(sub).filter(|s| is_num(s)))
    {
        let i: i64 = n.parse().map_err(too_large)?;
        let i = if sub.starts_with('-') { -i } else { i };
        return Ok((base, Some(Subscript::Index(i))));
    }
    if let Some((a, b)) = sub.split_once(':') {
        if is_num(a) && (b.is_empty() || is_num(b)) {
            let start: usize = a.parse().map_err(too_large)?;
            let end = if b.is_empty() {
                None
            } else {
                Some(b.parse().map_err(too_large)?)
            };
            return Ok((base, Some(Subscript::Range(start, end))));
        }
    }
    // Not a subscript: a glob character class such as `sw[ab]*` ends in `]` only by chance.
    Ok((body, None))
}

fn first_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map_or(s, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::builder::Builder;

    /// core: core-ams-1, core-ams-2, core-fra-1; access: sw-ams-1, sw-fra-1;
    /// ams: core-ams-1, core-ams-2, sw-ams-1; dc: children core, access; lone (ungrouped).
    fn inv() -> Inventory {
        let mut b = Builder::new();
        let core = b.group("core");
        let access = b.group("access");
        let ams = b.group("ams");
        let dc = b.group("dc");
        let empty = b.group("empty");
        let _ = empty;
        for h in ["core-ams-1", "core-ams-2", "core-fra-1"] {
            b.host(h, Some(core));
        }
        for h in ["sw-ams-1", "sw-fra-1"] {
            b.host(h, Some(access));
        }
        for h in ["core-ams-1", "core-ams-2", "sw-ams-1"] {
            b.host(h, Some(ams));
        }
        let o = crate::inventory::builder::Origin::file(Path::new("t"));
        b.add_child(dc, core, o.clone());
        b.add_child(dc, access, o);
        b.host("lone", None);
        b.finish(&[], &[], &[]).unwrap()
    }

    fn names<'a>(inv: &'a Inventory, pattern: &str) -> Vec<&'a str> {
        inv.select(pattern)
            .unwrap()
            .iter()
            .map(|h| h.name.as_str())
            .collect()
    }

    #[test]
    fn exact_host_terms_never_match_groups_or_globs() {
        let mut b = Builder::new();
        let g = b.group("r1");
        b.host("r1", None);
        b.host("r1a", Some(g));
        b.host("2001:db8::1", None);
        let inv = b.finish(&[], &[], &[]).unwrap();
        // A group wins over a host of the same name in Ansible's patterns; `=` does not.
        assert_eq!(names(&inv, "r1"), vec!["r1a"]);
        assert_eq!(names(&inv, "=r1"), vec!["r1"]);
        assert_eq!(names(&inv, "=r1,=2001:db8::1"), vec!["r1", "2001:db8::1"]);
        assert_eq!(names(&inv, "all:!=r1"), vec!["r1a", "2001:db8::1"]);
        assert!(names(&inv, "=r*").is_empty());
        assert!(inv.select("=").is_err());
    }

    #[test]
    fn patterns_table() {
        let inv = inv();
        for (pattern, want) in [
            (
                "all",
                "core-ams-1 core-ams-2 core-fra-1 sw-ams-1 sw-fra-1 lone",
            ),
            (
                "*",
                "core-ams-1 core-ams-2 core-fra-1 sw-ams-1 sw-fra-1 lone",
            ),
            ("core", "core-ams-1 core-ams-2 core-fra-1"),
            ("dc", "core-ams-1 core-ams-2 core-fra-1 sw-ams-1 sw-fra-1"),
            ("ungrouped", "lone"),
            ("sw-fra-1", "sw-fra-1"),
            ("core-*", "core-ams-1 core-ams-2 core-fra-1"),
            ("*-fra-*", "core-fra-1 sw-fra-1"),
            ("sw-?ms-1", "sw-ams-1"),
            ("~sw-.*", "sw-ams-1 sw-fra-1"),
            ("~(core|sw)-fra", "core-fra-1 sw-fra-1"),
            ("~ams", "core-ams-1 core-ams-2 sw-ams-1"),
            ("~fra", ""),
            ("access:lone", "sw-ams-1 sw-fra-1 lone"),
            ("lone,access", "sw-ams-1 sw-fra-1 lone"),
            ("core:&ams", "core-ams-1 core-ams-2"),
            ("dc:&ams:!core-ams-2", "core-ams-1 sw-ams-1"),
            ("!core-ams-2:ams:&dc", "core-ams-1 sw-ams-1"),
            ("!core", "sw-ams-1 sw-fra-1 lone"),
            ("&ams", "core-ams-1 core-ams-2 sw-ams-1"),
            (
                "core, access ,lone",
                "core-ams-1 core-ams-2 core-fra-1 sw-ams-1 sw-fra-1 lone",
            ),
            ("core[0]", "core-ams-1"),
            ("core[-1]", "core-fra-1"),
            ("core[1:2]", "core-ams-2 core-fra-1"),
            ("dc[3:]", "sw-ams-1 sw-fra-1"),
            ("core[9]", ""),
            ("sw-[af]*", "sw-ams-1 sw-fra-1"),
            ("nosuch", ""),
            ("empty", ""),
            (
                "access:core",
                "core-ams-1 core-ams-2 core-fra-1 sw-ams-1 sw-fra-1",
            ),
        ] {
            assert_eq!(names(&inv, pattern).join(" "), want, "pattern `{pattern}`");
        }
    }

    #[test]
    fn malformed_patterns() {
        let inv = inv();
        for (pattern, reason) in [
            ("", "empty"),
            ("core::access", "empty term"),
            ("core,,access", "empty term"),
            ("core,", "empty term"),
            ("core:!", "empty term after `!`"),
            ("&", "empty term"),
            ("~(core", "bad regular expression"),
            ("~", "followed by a regular expression"),
            ("[0]", "subscript needs"),
            ("sw-[", "bad wildcard"),
            ("core access", "contain no spaces"),
        ] {
            match inv.select(pattern) {
                Err(Error::Pattern {
                    pattern: p,
                    reason: r,
                }) => {
                    assert_eq!(p, pattern);
                    assert!(r.contains(reason), "`{pattern}`: {r}");
                }
                other => panic!("`{pattern}`: expected a pattern error, got {other:?}"),
            }
        }
    }

    #[test]
    fn limit_and_unmatched_terms() {
        let inv = inv();
        let got: Vec<&str> = inv
            .select_with_limit("dc", Some("*-ams-*"))
            .unwrap()
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(got, ["core-ams-1", "core-ams-2", "sw-ams-1"]);
        assert_eq!(inv.select_with_limit("dc", None).unwrap().len(), 5);
        assert_eq!(
            inv.unmatched_terms("core:acces:!nope:empty:x-*:&dc"),
            ["acces", "!nope", "x-*"]
        );
        assert!(inv.unmatched_terms("core::").is_empty());
    }

    #[test]
    fn limit_from_file() {
        let inv = inv();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("retry");
        std::fs::write(&f, "core-ams-1\n\n# comment\nsw-fra-1\n!nothing\n").unwrap();
        let pat = format!("@{}", f.display());
        let got: Vec<&str> = inv
            .select(&pat)
            .unwrap()
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(got, ["core-ams-1", "sw-fra-1"]);
        let got = inv.select_with_limit("all", Some(&pat)).unwrap();
        assert_eq!(got.len(), 2);
        assert!(matches!(inv.select("@/nonexistent/x"), Err(Error::Load(_))));
        let e = inv.select("@/dev/zero").unwrap_err().to_string();
        assert!(
            e.contains("is a character device, expected a regular file"),
            "{e}"
        );
    }

    #[test]
    fn regex_braces_are_one_term() {
        let mut b = Builder::new();
        for h in ["r1", "r12", "r123", "sw1"] {
            b.host(h, None);
        }
        let inv = b.finish(&[], &[], &[]).unwrap();
        for pattern in ["~r[0-9]{1,2}$", "~r[0-9]{1,2}$:!sw1", "sw9,~r[0-9]{1,2}$"] {
            assert_eq!(names(&inv, pattern), ["r1", "r12"], "`{pattern}`");
            assert_eq!(check_pattern(pattern), Ok(()), "`{pattern}`");
        }
    }

    #[test]
    fn syntax_check_agrees_with_select() {
        let inv = inv();
        for pattern in [
            "all",
            "core:&ams:!core-1",
            "core-*,edge",
            "core, access",
            "~^sw[0-9]+$",
            "~r[0-9]{1,2}",
            "fe80::1",
            "core[1:2]",
            "core:&",
            "a,,b",
            "~sw[",
            "core access",
            " ",
            "[0]",
        ] {
            assert_eq!(
                check_pattern(pattern).is_ok(),
                inv.select(pattern).is_ok(),
                "`{pattern}`"
            );
        }
        assert_eq!(check_pattern("@retry-file"), Ok(()));
    }

    #[test]
    fn ipv6_host_names() {
        let mut b = Builder::new();
        b.host("2001:db8::1", None);
        b.host("r1", None);
        let inv = b.finish(&[], &[], &[]).unwrap();
        let got = inv.select("2001:db8::1").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "2001:db8::1");
    }
}
