//! Host entries as written in an inventory: ranges (`leaf[01:48]`, `sw[a:f]`, with an
//! optional step `[1:9:2]`) and a trailing `:port`, as Ansible's YAML and INI inventories
//! accept them.

/// More names than this from one entry is a typo (`[1:1000000]`), not an inventory.
const MAX_RANGE_HOSTS: usize = 100_000;

/// An inventory host entry: one or more names and maybe a port.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HostEntry {
    pub names: Vec<String>,
    pub port: Option<u16>,
}

/// Parse `name`, `name:port`, `name[1:3]` or `[2001:db8::1]:22`-style entries. The error
/// says what is wrong with the entry in words.
pub(crate) fn parse_host_entry(entry: &str) -> Result<HostEntry, String> {
    let entry = entry.trim();
    if entry.is_empty() {
        return Err("empty host name".into());
    }
    let (name, port) = split_port(entry)?;
    let names = if has_range(name) {
        let mut out = Vec::new();
        expand(name, &mut out)?;
        out
    } else {
        vec![name.to_string()]
    };
    for n in &names {
        check_host_name(n)?;
    }
    Ok(HostEntry { names, port })
}

/// A host name must stay one unambiguous name everywhere it is used: in patterns and
/// `--limit`, in `.netorch/last-failed`, as a file name (backups, downloads) and on the
/// terminal. `Err` says why not, in words.
pub(crate) fn check_host_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty host name".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{name:?} holds the control character {c:?}; a host name is printable"
        ));
    }
    if name.contains(char::is_whitespace) {
        return Err(format!("`{name}` holds a space; a host name is one word"));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a host name (it names a folder)"));
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '/' | '\\')) {
        return Err(format!(
            "`{name}` holds `{c}`; a host name is also a file name and may not hold a path"
        ));
    }
    let ipv6 = name.parse::<std::net::Ipv6Addr>().is_ok();
    if let Some(c) = name
        .chars()
        .find(|&c| matches!(c, ',' | '!' | '&' | '*' | '?' | '[' | ']' | '~') || c == ':' && !ipv6)
    {
        return Err(format!(
            "`{name}` holds `{c}`, which host patterns read as syntax (`,` `:` separate, `!` \
             `&` combine, `*` `?` `[]` match, `~` starts a regex)"
        ));
    }
    if let Some(c) = name.chars().next().filter(|c| matches!(c, '@' | '=')) {
        return Err(format!(
            "`{name}` starts with `{c}`, which host patterns read as syntax (`@file`, `=host`)"
        ));
    }
    Ok(())
}

/// Split a trailing `:port` from an entry. IPv6 addresses (several colons) keep their
/// colons unless bracketed (`[::1]:2222`); colons inside range brackets are not ports.
fn split_port(entry: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, port)) = rest.split_once("]:") {
            if addr.parse::<std::net::Ipv6Addr>().is_ok() {
                return Ok((addr, Some(parse_port(port, entry)?)));
            }
        }
    }
    if entry.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((entry, None));
    }
    let mut depth = 0i32;
    let mut colons = Vec::new();
    for (i, c) in entry.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => colons.push(i),
            _ => {}
        }
    }
    match colons.as_slice() {
        [] => Ok((entry, None)),
        [i] => Ok((&entry[..*i], Some(parse_port(&entry[i + 1..], entry)?))),
        _ => Err(format!(
            "`{entry}` has several `:`; write an IPv6 address with a port as `[addr]:port`"
        )),
    }
}

fn parse_port(text: &str, entry: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!(
            "`{entry}`: `{text}` is not a port number (1-65535)"
        )),
    }
}

/// True when the name holds a `[a:b]` range.
fn has_range(name: &str) -> bool {
    match (name.find('['), name.find(':'), name.find(']')) {
        (Some(a), Some(b), Some(c)) => a < b && b < c,
        _ => false,
    }
}

/// Expand the first range in `name`, recursing for the rest.
fn expand(name: &str, out: &mut Vec<String>) -> Result<(), String> {
    let (Some(open), Some(close)) = (name.find('['), name.find(']')) else {
        out.push(name.to_string());
        return Ok(());
    };
    if close < open {
        return Err(format!("`{name}`: `]` before `[`"));
    }
    let (head, range, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let bounds: Vec<&str> = range.split(':').collect();
    let (beg, end, step) = match bounds.as_slice() {
        [b, e] => (*b, *e, "1"),
        [b, e, s] => (*b, *e, *s),
        _ => {
            return Err(format!(
                "`{name}`: a host range is [begin:end] or [begin:end:step]"
            ))
        }
    };
    let step: usize = match step.parse() {
        Ok(s) if s > 0 => s,
        _ => {
            return Err(format!(
                "`{name}`: the range step `{step}` must be a positive number"
            ))
        }
    };
    let beg = if beg.is_empty() { "0" } else { beg };
    if end.is_empty() {
        return Err(format!("`{name}`: the host range has no end value"));
    }
    let items: Vec<String> = if let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) {
        let width = if beg.len() > 1 && beg.starts_with('0') {
            if beg.len() != end.len() {
                return Err(format!(
                    "`{name}`: a zero-padded range needs begin and end of the same width"
                ));
            }
            beg.len()
        } else {
            0
        };
        if b > e {
            return Err(format!("`{name}`: the range begins after it ends"));
        }
        let count = (e - b) / step as u64 + 1;
        if count as usize > MAX_RANGE_HOSTS || out.len() + count as usize > MAX_RANGE_HOSTS {
            return Err(format!(
                "`{name}`: the range makes more than {MAX_RANGE_HOSTS} hosts"
            ));
        }
        (b..=e)
            .step_by(step)
            .map(|i| format!("{i:0width$}"))
            .collect()
    } else {
        let (mut bc, mut ec) = (beg.chars(), end.chars());
        match (bc.next(), bc.next(), ec.next(), ec.next()) {
            (Some(b), None, Some(e), None)
                if b.is_ascii_alphabetic() && e.is_ascii_alphabetic() =>
            {
                const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                let (Some(bi), Some(ei)) = (LETTERS.find(b), LETTERS.find(e)) else {
                    return Err(format!("`{name}`: bad letter range"));
                };
                if bi > ei {
                    return Err(format!("`{name}`: the range begins after it ends"));
                }
                LETTERS[bi..=ei]
                    .chars()
                    .step_by(step)
                    .map(String::from)
                    .collect()
            }
            _ => {
                return Err(format!(
                    "`{name}`: a host range is numbers ([01:10]) or single letters ([a:f])"
                ))
            }
        }
    };
    for item in items {
        let expanded = format!("{head}{item}{tail}");
        if has_range(&expanded) {
            expand(&expanded, out)?;
        } else {
            out.push(expanded);
        }
        if out.len() > MAX_RANGE_HOSTS {
            return Err(format!(
                "`{name}`: the range makes more than {MAX_RANGE_HOSTS} hosts"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: &str) -> Vec<String> {
        parse_host_entry(e).unwrap().names
    }

    #[test]
    fn entries() {
        assert_eq!(names("r1"), ["r1"]);
        assert_eq!(names("leaf[01:03]"), ["leaf01", "leaf02", "leaf03"]);
        assert_eq!(names("sw[a:c].lab"), ["swa.lab", "swb.lab", "swc.lab"]);
        assert_eq!(names("x[1:5:2]"), ["x1", "x3", "x5"]);
        assert_eq!(names("r[1:2]-[a:b]"), ["r1-a", "r1-b", "r2-a", "r2-b"]);
        assert_eq!(parse_host_entry("r1:2222").unwrap().port, Some(2222));
        let e = parse_host_entry("leaf[01:02]:22").unwrap();
        assert_eq!((e.names.len(), e.port), (2, Some(22)));
        assert_eq!(parse_host_entry("2001:db8::1").unwrap().port, None);
        let e = parse_host_entry("[2001:db8::1]:22").unwrap();
        assert_eq!((e.names[0].as_str(), e.port), ("2001:db8::1", Some(22)));
    }

    #[test]
    fn bad_entries_say_why() {
        for (entry, why) in [
            ("r1:ssh", "not a port"),
            ("r[1:1000000]", "more than"),
            ("r[01:100]", "same width"),
            ("r[5:1]", "begins after"),
            ("r[1:]", "no end"),
            ("r[1:3:0]", "positive"),
            ("", "empty"),
        ] {
            let e = parse_host_entry(entry).unwrap_err();
            assert!(e.contains(why), "{entry}: {e}");
        }
    }

    #[test]
    fn names_that_patterns_files_or_terminals_would_misread_are_refused() {
        for (name, why) in [
            ("r1\x1b]0;x\x07", "control character"),
            ("r1\nr2", "control character"),
            ("a b", "space"),
            (".", "folder"),
            ("..", "folder"),
            ("../evil", "path"),
            ("a\\b", "path"),
            ("a,b", "`,`"),
            ("core!x", "`!`"),
            ("a&b", "`&`"),
            ("sw*", "`*`"),
            ("sw?", "`?`"),
            ("~re", "`~`"),
            ("@file", "starts with `@`"),
            ("=r1", "starts with `=`"),
        ] {
            let e = check_host_name(name).unwrap_err();
            assert!(e.contains(why), "{name:?}: {e}");
        }
        for name in [
            "r1",
            "core-ams-1.example.net",
            "10.0.0.1",
            "2001:db8::1",
            "r_1",
            "{{7-6}}",
        ] {
            assert_eq!(check_host_name(name), Ok(()), "{name}");
        }
        // Ranges expand first; each name is then checked.
        assert!(parse_host_entry("sw[1:2]").is_ok());
        assert!(parse_host_entry("a b[1:2]").is_err());
    }
}
