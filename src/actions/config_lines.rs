//! Which configuration lines are not in the running config yet: the heart of `config` in
//! check mode. IOS-like configs are trees by indentation (`interface X` / ` description y`),
//! so a line counts as present only under the same parents. Junos `set`/`delete` lines are
//! compared with the `display set` form of the configuration.

use std::collections::HashSet;

use crate::config::Syntax;

/// A line with its parents, outermost first; all trimmed.
pub type Path = Vec<String>;

/// Every line of an indented config as a path, skipping comments and blanks.
pub fn paths(config: &str) -> Vec<Path> {
    paths_in(config, &Syntax::default())
}

/// [`paths`], a banner (a text-entry literal of `syn`) being one path: its lines as
/// written, joined by newlines. Its text is no statement: a line of it is neither a block
/// nor present because the same text is elsewhere, and the banner goes out whole.
pub fn paths_in(config: &str, syn: &Syntax) -> Vec<Path> {
    let mut out = Vec::new();
    // (indent, line) of the current ancestors.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let lines: Vec<&str> = config.lines().collect();
    let mut next = 0;
    while next < lines.len() {
        let line = lines[next].trim_end();
        next += 1;
        let trimmed = line.trim_start();
        if let Some(n) = syn.text_block(trimmed, &lines[next..]) {
            let mut block = vec![trimmed];
            block.extend(lines[next..next + n].iter().map(|l| l.trim_end()));
            next += n;
            stack.clear();
            out.push(vec![block.join("\n")]);
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('!') || trimmed == "end" {
            if trimmed.starts_with('!') || trimmed == "end" {
                // A `!` closes blocks in IOS output.
                stack.clear();
            }
            continue;
        }
        let indent = line.len() - trimmed.len();
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let line = crate::config::collapse(trimmed);
        let mut path: Path = Vec::with_capacity(stack.len() + 1);
        path.extend(stack.iter().map(|(_, l)| l.clone()));
        path.push(line.clone());
        out.push(path);
        stack.push((indent, line));
    }
    out
}

/// The lines to send, as paths: `lines` under `parents` (when given), else parsed from
/// their own indentation (a rendered template).
pub fn candidate_paths(lines: &[String], parents: &[String], syn: &Syntax) -> Vec<Path> {
    if parents.is_empty() {
        return paths_in(&lines.join("\n"), syn);
    }
    let parents: Path = parents.iter().map(|p| crate::config::collapse(p)).collect();
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('!'))
        .map(|l| {
            let mut p = parents.clone();
            p.push(crate::config::collapse(l));
            p
        })
        .collect()
}

/// The candidate paths not yet in `running`, in order. `no X` is pending when `X` is
/// present. For set-style configs (Junos), `set X` is pending when absent and `delete X`
/// when some `set X...` is present.
pub fn pending(running: &str, candidates: &[Path], syn: &Syntax) -> Vec<Path> {
    let have: HashSet<Path> = paths_in(running, syn).into_iter().collect();
    let flat: Vec<String> = have
        .iter()
        .filter(|p| p.len() == 1)
        .map(|p| p[0].clone())
        .collect();
    let mut out = Vec::new();
    for c in candidates {
        let Some(last) = c.last() else { continue };
        let is_pending = if let Some(rest) = last.strip_prefix("no ") {
            let mut positive = c.clone();
            if let Some(l) = positive.last_mut() {
                *l = rest.to_string();
            }
            have.contains(&positive)
        } else if c.len() == 1 && last.starts_with("delete ") {
            let target = format!("set {}", &last["delete ".len()..]);
            flat.iter()
                .any(|l| l == &target || l.starts_with(&format!("{target} ")))
        } else if c.len() > 1 && !have.contains(&c[..c.len() - 1]) {
            true
        } else {
            !have.contains(c)
        };
        if is_pending && !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// Paths as indented lines, each parent printed once before its children.
pub fn render(paths: &[Path]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open: Path = Vec::new();
    for p in paths {
        let parents = &p[..p.len().saturating_sub(1)];
        let common = open
            .iter()
            .zip(parents.iter())
            .take_while(|(a, b)| a == b)
            .count();
        for (depth, parent) in parents.iter().enumerate().skip(common) {
            out.push(format!("{}{}", " ".repeat(depth), parent));
        }
        if let Some(last) = p.last() {
            // A banner's text lines are written as they are.
            for (i, l) in last.split('\n').enumerate() {
                let pad = if i == 0 { parents.len() } else { 0 };
                out.push(format!("{}{l}", " ".repeat(pad)));
            }
        }
        // The line just printed may be the parent of the next one.
        open = p.clone();
    }
    out
}

/// A unified diff of two configs, empty when they are equal.
pub fn unified_diff(before: &str, after: &str, from: &str, to: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(from, to)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::profile::ProfileSet;

    const RUNNING: &str = "\
hostname r1
!
ntp server 10.0.0.1
!
interface GigabitEthernet0/1
 description uplink
 ip address 10.1.1.1 255.255.255.0
!
interface GigabitEthernet0/2
 shutdown
!
end
";

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lines_under_parents_are_matched_in_their_block() {
        // `description uplink` exists under Gi0/1 but not under Gi0/2.
        let c = candidate_paths(
            &lines(&["description uplink"]),
            &lines(&["interface GigabitEthernet0/2"]),
            &Syntax::default(),
        );
        assert_eq!(
            render(&pending(RUNNING, &c, &Syntax::default())),
            vec!["interface GigabitEthernet0/2", " description uplink"]
        );
        let c = candidate_paths(
            &lines(&["description uplink"]),
            &lines(&["interface GigabitEthernet0/1"]),
            &Syntax::default(),
        );
        assert!(pending(RUNNING, &c, &Syntax::default()).is_empty());
    }

    #[test]
    fn template_text_uses_indentation() {
        let text = lines(&[
            "ntp server 10.0.0.1",
            "ntp server 10.0.0.2",
            "interface GigabitEthernet0/1",
            " description uplink",
            "interface GigabitEthernet0/3",
            " description new",
        ]);
        let p = pending(
            RUNNING,
            &candidate_paths(&text, &[], &Syntax::default()),
            &Syntax::default(),
        );
        assert_eq!(
            render(&p),
            vec![
                "ntp server 10.0.0.2",
                "interface GigabitEthernet0/3",
                " description new"
            ]
        );
    }

    #[test]
    fn no_forms_and_junos_set_delete() {
        let c = candidate_paths(
            &lines(&["no ntp server 10.0.0.1", "no ntp server 10.9.9.9"]),
            &[],
            &Syntax::default(),
        );
        assert_eq!(
            render(&pending(RUNNING, &c, &Syntax::default())),
            vec!["no ntp server 10.0.0.1"]
        );
        let junos = "set system host-name j1\nset system ntp server 10.0.0.1\n";
        let c = candidate_paths(
            &lines(&[
                "set system ntp server 10.0.0.1",
                "set system ntp server 10.0.0.2",
                "delete system ntp",
                "delete system syslog",
            ]),
            &[],
            &Syntax::default(),
        );
        assert_eq!(
            render(&pending(junos, &c, &Syntax::default())),
            vec!["set system ntp server 10.0.0.2", "delete system ntp"]
        );
    }

    #[test]
    fn a_new_block_is_printed_once() {
        let text = lines(&["vlan 30", " name printers"]);
        let p = pending(
            RUNNING,
            &candidate_paths(&text, &[], &Syntax::default()),
            &Syntax::default(),
        );
        assert_eq!(render(&p), vec!["vlan 30", " name printers"]);
    }

    #[test]
    fn diff_is_unified() {
        let d = unified_diff("a\nb\n", "a\nc\n", "before", "after");
        assert!(
            d.contains("--- before") && d.contains("-b") && d.contains("+c"),
            "{d}"
        );
        assert!(unified_diff("x\n", "x\n", "a", "b").is_empty());
    }

    #[test]
    fn a_banner_is_one_line_and_goes_out_whole() {
        let profiles = ProfileSet::builtin();
        let syn = &profiles.get("cisco_ios").unwrap().syntax;
        let running =
            "banner login ^C\nhello\n^C\nbanner motd ^C\nold text\n  logged\n^C\n!\nend\n";
        let text = lines(&["banner motd ^C", "old text", "  logged", "^C"]);
        assert!(pending(running, &candidate_paths(&text, &[], syn), syn).is_empty());
        // The `^C` and `  logged` lines are elsewhere too: still sent, as written.
        let text = lines(&["banner motd ^C", "new text", "  logged", "^C"]);
        let p = pending(running, &candidate_paths(&text, &[], syn), syn);
        assert_eq!(render(&p), text);
    }
}
