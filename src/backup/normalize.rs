//! What a fetched config becomes before it is compared and stored: Unix line endings, no
//! trailing spaces, no leading/trailing blank lines, the profile's volatile lines dropped
//! (`backup.strip`: timestamps, `ntp clock-period`, ...) and, when asked, secrets masked
//! (the first capture group of each of the profile's `secret_patterns`).
//!
//! Normalising is what keeps the store quiet: the same device config must give the same
//! bytes on every run, or every run would be a commit.

use regex::{Regex, RegexSet};

use crate::secret::MASK;

/// A platform's `secret_patterns`, compiled once with a set that tells in one pass over
/// a line whether any of them applies: every line of every output goes through masking,
/// and most lines hold no secret.
#[derive(Debug, Clone, Default)]
pub struct SecretPatterns {
    list: Vec<Regex>,
    /// `None` when the patterns are too big for one set: each is then tried on its own.
    any: Option<RegexSet>,
}

impl SecretPatterns {
    pub fn new(list: Vec<Regex>) -> SecretPatterns {
        let any = RegexSet::new(list.iter().map(Regex::as_str)).ok();
        SecretPatterns { list, any }
    }

    pub fn list(&self) -> &[Regex] {
        &self.list
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn any_match(&self, line: &str) -> bool {
        match &self.any {
            Some(set) => set.is_match(line),
            None => self.list.iter().any(|re| re.is_match(line)),
        }
    }
}

/// How to normalise one config.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Lines matching any of these are volatile and dropped.
    pub strip: &'a [Regex],
    /// Masked when `mask_secrets` is true: the first capture group (or the whole match).
    pub secret_patterns: &'a SecretPatterns,
    pub mask_secrets: bool,
}

/// The config as it is stored.
pub fn normalize(raw: &str, rules: Rules<'_>) -> String {
    let mut out = String::with_capacity(raw.len());
    // `lines()` already splits on `\n` and drops a `\r` before it; lone `\r` (old Macs,
    // some pagers) also ends a line.
    for line in raw.lines().flat_map(|l| l.split('\r')) {
        let line = line.trim_end();
        if rules.strip.iter().any(|r| r.is_match(line)) {
            continue;
        }
        if rules.mask_secrets {
            out.push_str(&mask_line(line, rules.secret_patterns));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    if trimmed.is_empty() {
        return String::new();
    }
    let mut s = trimmed.to_string();
    s.push('\n');
    s
}

/// Replace the secret parts of `line` with [`MASK`] for every pattern that matches: each
/// capture group that took part (SNMPv3 lines hold two keys), or the whole match for a
/// pattern without groups.
pub fn mask_line(line: &str, patterns: &SecretPatterns) -> String {
    mask_line_cow(line, patterns).into_owned()
}

/// [`mask_line`] without a copy of a line that holds no secret (most lines).
fn mask_line_cow<'a>(line: &'a str, patterns: &SecretPatterns) -> std::borrow::Cow<'a, str> {
    if !patterns.any_match(line) {
        return mask_negation(line, patterns)
            .map_or(std::borrow::Cow::Borrowed(line), std::borrow::Cow::Owned);
    }
    let mut line = line.to_string();
    for re in patterns.list() {
        // A match test (literal prefilter, no captures) is far cheaper than looking for
        // captures, and only a pattern or two of the list applies to a line.
        if !re.is_match(&line) {
            continue;
        }
        // Collect first: the replacement changes the offsets of later matches.
        for (s, e) in secret_spans(re, &line).into_iter().rev() {
            line.replace_range(s..e, MASK);
        }
    }
    std::borrow::Cow::Owned(line)
}

/// Where `re` finds secrets in `line`: each capture group that took part, or the whole
/// match for a pattern without groups; sorted, without overlaps.
fn secret_spans(re: &Regex, line: &str) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for c in re.captures_iter(line) {
        let groups: Vec<_> = c.iter().skip(1).flatten().collect();
        let parts = if groups.is_empty() {
            c.get(0).into_iter().collect()
        } else {
            groups
        };
        spans.extend(parts.iter().map(|m| (m.start(), m.end())));
    }
    spans.retain(|(s, e)| s < e);
    spans.sort_unstable();
    spans.dedup_by(|later, earlier| later.0 < earlier.1);
    spans
}

/// The secret texts the patterns find in `text` (what [`mask_text`] hides), so that the
/// same values can be hidden where they were copied out of it (parsed records).
pub fn secrets_in(text: &str, patterns: &SecretPatterns) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if !patterns.any_match(line) {
            continue;
        }
        for re in patterns.list() {
            for (s, e) in secret_spans(re, line) {
                let secret = line[s..e].to_string();
                if !out.contains(&secret) {
                    out.push(secret);
                }
            }
        }
    }
    out
}

/// A negation carries the secret of the line it removes (`no username x password 7 ...`,
/// Junos `delete snmp community x`): it is masked as that line would be.
fn mask_negation(line: &str, patterns: &SecretPatterns) -> Option<String> {
    let indent = &line[..line.len() - line.trim_start().len()];
    let body = &line[indent.len()..];
    for (negation, positive) in [("no ", ""), ("delete ", "set ")] {
        let Some(rest) = body.strip_prefix(negation) else {
            continue;
        };
        let probe = format!("{indent}{positive}{rest}");
        if !patterns.any_match(&probe) {
            return None;
        }
        let masked = mask_line_cow(&probe, patterns);
        let tail = masked.get(indent.len() + positive.len()..)?;
        return Some(format!("{indent}{negation}{tail}"));
    }
    None
}

/// Whether `text` holds a secret that was masked (a secret pattern captures a [`MASK`]),
/// as opposed to a run of asterisks in a banner: such a line cannot be sent back.
pub fn holds_masked_secret(text: &str, patterns: &SecretPatterns) -> bool {
    const STAND_IN: &str = "netorch-masked-0f3a9c";
    text.contains(MASK)
        && text.lines().any(|l| {
            if !l.contains(MASK) {
                return false;
            }
            let probe = l.replace(MASK, STAND_IN);
            !mask_line_cow(&probe, patterns).contains(STAND_IN)
        })
}

/// A unified diff with the secrets of its `+`, `-` and context lines masked (the patterns
/// are anchored at the start of a config line, after the diff's one-character prefix).
pub fn mask_diff(diff: &str, patterns: &SecretPatterns) -> String {
    if patterns.is_empty() {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len());
    for piece in diff.split_inclusive('\n') {
        let body = piece.trim_end_matches(['\n', '\r']);
        let header = body.starts_with("+++ ") || body.starts_with("--- ") || body.starts_with("@@");
        match body.chars().next() {
            Some(c @ ('+' | '-' | ' ')) if !header => {
                out.push(c);
                out.push_str(&mask_line_cow(&body[1..], patterns));
            }
            _ => out.push_str(body),
        }
        out.push_str(&piece[body.len()..]);
    }
    out
}

/// Every line of `text` with its secrets masked (the profile's `secret_patterns`), line
/// endings kept; for diffs and previews of configs that are not stored.
pub fn mask_text(text: &str, patterns: &SecretPatterns) -> String {
    if patterns.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive('\n') {
        let body = piece.trim_end_matches(['\n', '\r']);
        out.push_str(&mask_line_cow(body, patterns));
        out.push_str(&piece[body.len()..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ios_rules(mask: bool) -> (Vec<Regex>, SecretPatterns, bool) {
        let strip = vec![
            Regex::new(r"^! Last configuration change").unwrap(),
            Regex::new(r"^ntp clock-period").unwrap(),
        ];
        let secrets = vec![
            Regex::new(r"^\s*enable (?:secret|password)(?: \d+)? (\S+)").unwrap(),
            Regex::new(r"^\s*snmp-server community (\S+)").unwrap(),
        ];
        (strip, SecretPatterns::new(secrets), mask)
    }

    #[test]
    fn a_masked_secret_is_told_from_a_row_of_asterisks() {
        let (_, secrets, _) = ios_rules(true);
        assert!(holds_masked_secret("enable secret 5 ********", &secrets));
        assert!(holds_masked_secret(
            "x\nsnmp-server community ******** RO",
            &secrets
        ));
        assert!(!holds_masked_secret(
            "banner motd ^C\n********************\n^C",
            &secrets
        ));
        assert!(!holds_masked_secret("enable secret 5 $1$abc", &secrets));
    }

    #[test]
    fn a_negation_is_masked_as_the_line_it_removes() {
        let (_, secrets, _) = ios_rules(true);
        assert_eq!(
            mask_line("no snmp-server community s3cret RO", &secrets),
            "no snmp-server community ******** RO"
        );
        assert_eq!(
            mask_line(" no enable secret 5 $1$x", &secrets),
            " no enable secret 5 ********"
        );
        assert_eq!(mask_line("no shutdown", &secrets), "no shutdown");
    }

    #[test]
    fn line_endings_trailing_space_and_volatile_lines() {
        let (strip, secrets, mask) = ios_rules(false);
        let rules = Rules {
            strip: &strip,
            secret_patterns: &secrets,
            mask_secrets: mask,
        };
        let a = "\r\n\r\n! Last configuration change at 10:00:01 UTC Mon\r\nhostname r1  \r\nntp clock-period 17179\r\nend\r\n\r\n";
        let b = "! Last configuration change at 11:59:59 UTC Tue\nhostname r1\nntp clock-period 17180\nend";
        assert_eq!(normalize(a, rules), "hostname r1\nend\n");
        assert_eq!(normalize(a, rules), normalize(b, rules));
        assert_eq!(normalize("\n \r\n", rules), "");
    }

    #[test]
    fn diffs_and_texts_mask_each_line() {
        let (_, secrets, _) = ios_rules(true);
        let diff = "--- a/r1.cfg\n+++ b/r1.cfg\n@@ -1,2 +1,2 @@\n hostname r1\n-snmp-server community old1 RO\n+snmp-server community new2 RO\n";
        let masked = mask_diff(diff, &secrets);
        assert!(
            !masked.contains("old1") && !masked.contains("new2"),
            "{masked}"
        );
        assert!(
            masked.contains("\n+snmp-server community ******** RO\n"),
            "{masked}"
        );
        assert!(masked.starts_with("--- a/r1.cfg\n+++ b/r1.cfg\n@@ -1,2 +1,2 @@\n hostname r1\n"));
        let text = "enable secret 5 $1$x$y\r\nhostname r1\n";
        assert_eq!(
            mask_text(text, &secrets),
            "enable secret 5 ********\r\nhostname r1\n"
        );
    }

    #[test]
    fn secrets_masked_only_when_asked() {
        let (strip, secrets, _) = ios_rules(true);
        let cfg = "enable secret 9 $9$abc$def\nsnmp-server community s3cr3t RO\nhostname r1\n";
        let masked = normalize(
            cfg,
            Rules {
                strip: &strip,
                secret_patterns: &secrets,
                mask_secrets: true,
            },
        );
        assert!(
            !masked.contains("s3cr3t") && !masked.contains("$9$abc"),
            "{masked}"
        );
        assert!(masked.contains("enable secret 9 ********\n"), "{masked}");
        assert!(
            masked.contains("snmp-server community ******** RO\n"),
            "{masked}"
        );
        let plain = normalize(
            cfg,
            Rules {
                strip: &strip,
                secret_patterns: &secrets,
                mask_secrets: false,
            },
        );
        assert!(plain.contains("s3cr3t"));
    }

    #[test]
    fn the_one_pass_set_and_each_pattern_alone_mask_the_same() {
        let (_, with_set, _) = ios_rules(true);
        assert!(with_set.any.is_some());
        let alone = SecretPatterns {
            list: with_set.list.clone(),
            any: None,
        };
        let text = "hostname r1\nenable secret 5 $1$abc\nsnmp-server community public RO\n";
        let masked = mask_text(text, &with_set);
        assert_eq!(masked, mask_text(text, &alone));
        assert!(
            !masked.contains("public") && !masked.contains("$1$abc"),
            "{masked}"
        );
        assert!(masked.starts_with("hostname r1\n"), "{masked}");
    }
}
