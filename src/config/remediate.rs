//! Remediation: the commands that turn a running config into an intended one, negations
//! included, in an order the device accepts; and the comparison behind compliance.
//!
//! At each level, statements only in the running config are negated (a block at once), and
//! statements only in the intended config are added (a block with its children); blocks in
//! both are compared inside. A line whose last value wins is replaced by sending the new
//! value alone. Sections whose order matters (ACLs) are re-sent entry by entry when the
//! entries carry sequence numbers, else negated and re-sent whole. Negations come before
//! additions within a level, so an ACL entry is removed before its replacement is added.

use std::collections::{HashMap, HashSet};

use super::apply::Command;
use super::syntax::{Style, Syntax};
use super::tree::{Kind, Node, Tree};

/// What to compare: top-level statements matching any of these glob patterns (`interface
/// GigabitEthernet0/*`, `router bgp 65000`); empty means the whole config. Statements
/// matching `ignore` (regexes, at any level) are left alone on both sides.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub sections: Vec<glob::Pattern>,
    pub ignore: Vec<regex::Regex>,
}

impl Scope {
    pub fn whole() -> Scope {
        Scope::default()
    }

    /// Reads scope patterns; a pattern that is not a valid glob is an error naming it.
    pub fn new(sections: &[String], ignore: &[String]) -> Result<Scope, String> {
        Ok(Scope {
            sections: sections
                .iter()
                .map(|s| {
                    glob::Pattern::new(&super::tree::collapse(s))
                        .map_err(|e| format!("scope `{s}`: {e}"))
                })
                .collect::<Result<_, _>>()?,
            ignore: ignore
                .iter()
                .map(|r| regex::Regex::new(r).map_err(|e| format!("ignore rule `{r}`: {e}")))
                .collect::<Result<_, _>>()?,
        })
    }

    fn covers(&self, top: &str) -> bool {
        self.sections.is_empty() || self.sections.iter().any(|p| p.matches(top))
    }

    fn ignores(&self, line: &str) -> bool {
        self.ignore.iter().any(|re| re.is_match(line))
    }
}

/// The outcome of comparing a running config with an intended one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remediation {
    /// The commands, in order (see [`Command`]).
    pub commands: Vec<Command>,
    /// Statements of the intended config the running one lacks, as paths.
    pub missing: Vec<Vec<String>>,
    /// Statements of the running config the intended one does not have, as paths.
    pub extra: Vec<Vec<String>>,
}

impl Remediation {
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// The commands as lines to show or send: indented under their sections (each section
    /// once), or `set`/`delete` lines.
    pub fn lines(&self, syn: &Syntax) -> Vec<String> {
        render_commands(&self.commands, syn)
    }
}

/// Commands as text: parents printed once before their children, indented by depth.
pub fn render_commands(commands: &[Command], syn: &Syntax) -> Vec<String> {
    if syn.style == Style::Braces {
        return commands.iter().map(|c| c.join(" ")).collect();
    }
    let mut out: Vec<String> = Vec::new();
    let mut open: &[String] = &[];
    for c in commands {
        let Some((last, parents)) = c.split_last() else {
            continue;
        };
        let common = open
            .iter()
            .zip(parents.iter())
            .take_while(|(a, b)| a == b)
            .count();
        for (depth, p) in parents.iter().enumerate().skip(common) {
            out.push(format!("{}{p}", " ".repeat(depth * syn.indent)));
        }
        let pad = " ".repeat(parents.len() * syn.indent);
        for l in last.split('\n') {
            out.push(format!("{pad}{l}"));
        }
        open = c;
    }
    out
}

/// The remediation from `running` to `intended` within `scope`.
pub fn remediate(running: &Tree, intended: &Tree, syn: &Syntax, scope: &Scope) -> Remediation {
    // What the device manages itself is never a difference.
    let mut scope = scope.clone();
    scope.ignore.extend(syn.unmanaged.iter().cloned());
    let scope = &scope;
    let keep = |n: &&Node| n.is_config() && scope.covers(&n.line) && !scope.ignores(&n.line);
    let r: Vec<&Node> = running.nodes.iter().filter(keep).collect();
    let i: Vec<&Node> = intended.nodes.iter().filter(keep).collect();
    let mut out = Remediation::default();
    // Top-level changes are grouped per statement so that weights can reorder groups.
    let mut groups: Vec<(i32, Vec<Command>)> = Vec::new();
    level(&r, &i, &mut Vec::new(), syn, scope, &mut out, &mut groups);
    groups.sort_by_key(|(w, _)| *w);
    // The negation of one line can be the addition of another (NX-OS: `shutdown` goes,
    // `no shutdown` comes): the command is sent once.
    let mut seen = HashSet::new();
    out.commands = groups
        .into_iter()
        .flat_map(|(_, c)| c)
        .filter(|c| seen.insert(c.clone()))
        .collect();
    if syn.style == Style::Braces {
        // A candidate takes any order; deletes first read best and never undo a `set`.
        out.commands.sort_by_key(|c| {
            !c.first()
                .is_some_and(|l| l == "delete" || l.starts_with("delete "))
        });
    }
    out
}

fn statements<'a>(nodes: &'a [Node], scope: &Scope) -> Vec<&'a Node> {
    nodes
        .iter()
        .filter(|n| n.is_config() && !scope.ignores(&n.line))
        .collect()
}

/// Compares one level. `groups` receives one entry per change at this level (only the top
/// level's groups are reordered by weight; deeper levels keep negations first).
fn level(
    running: &[&Node],
    intended: &[&Node],
    path: &mut Vec<String>,
    syn: &Syntax,
    scope: &Scope,
    out: &mut Remediation,
    groups: &mut Vec<(i32, Vec<Command>)>,
) {
    let in_running: HashMap<&str, &Node> = running.iter().map(|n| (n.line.as_str(), *n)).collect();
    let in_intended: HashSet<&str> = intended.iter().map(|n| n.line.as_str()).collect();
    // Keys of last-value-wins lines the intended config sets to a new value here.
    let replaced: HashSet<&str> = intended
        .iter()
        .filter(|n| !in_running.contains_key(n.line.as_str()) && n.children.is_empty())
        .filter_map(|n| syn.value_key(&n.line))
        .collect();
    let mut negations = Vec::new();
    for r in running {
        if in_intended.contains(r.line.as_str()) {
            continue;
        }
        record(&mut out.extra, path, r);
        let replaced_by_new_value =
            r.children.is_empty() && syn.value_key(&r.line).is_some_and(|k| replaced.contains(k));
        if !replaced_by_new_value {
            let cmd = negation(path, r, syn);
            negations.push((syn.weight(&cmd_head(&cmd)), vec![cmd]));
        }
    }
    let mut additions = Vec::new();
    for i in intended {
        match in_running.get(i.line.as_str()) {
            None => {
                record(&mut out.missing, path, i);
                let mut cmds = Vec::new();
                add_subtree(path, i, syn, &mut cmds);
                additions.push((syn.weight(&cmd_head(&cmds[0])), cmds));
            }
            Some(r) => {
                let rc = statements(&r.children, scope);
                let ic = statements(&i.children, scope);
                if rc.is_empty() && ic.is_empty() {
                    continue;
                }
                path.push(i.line.clone());
                let mut inner = Remediation::default();
                let mut inner_groups = Vec::new();
                let ordered = syn.is_ordered(&i.line) && !same_sequence(&rc, &ic);
                if ordered && !sequenced(&ic) && !appends_only(&rc, &ic) {
                    // Entries without sequence numbers can only be put in order by
                    // sending the section again from the start.
                    path.pop();
                    record(&mut out.extra, path, r);
                    record(&mut out.missing, path, i);
                    let mut cmds = vec![negation(path, r, syn)];
                    add_subtree(path, i, syn, &mut cmds);
                    additions.push((syn.weight(&i.line), cmds));
                    continue;
                }
                if ordered {
                    // Numbered entries: an entry whose number stays but text changes is
                    // removed first (devices refuse a duplicate sequence number).
                    level_numbered(&rc, &ic, path, syn, &mut inner, &mut inner_groups);
                } else {
                    level(&rc, &ic, path, syn, scope, &mut inner, &mut inner_groups);
                }
                path.pop();
                out.missing.append(&mut inner.missing);
                out.extra.append(&mut inner.extra);
                let cmds: Vec<Command> = inner_groups.into_iter().flat_map(|(_, c)| c).collect();
                if !cmds.is_empty() {
                    additions.push((syn.weight(&i.line), cmds));
                }
            }
        }
    }
    groups.append(&mut negations);
    groups.append(&mut additions);
}

fn level_numbered(
    running: &[&Node],
    intended: &[&Node],
    path: &mut Vec<String>,
    syn: &Syntax,
    out: &mut Remediation,
    groups: &mut Vec<(i32, Vec<Command>)>,
) {
    let in_intended: HashSet<&str> = intended.iter().map(|n| n.line.as_str()).collect();
    let in_running: HashSet<&str> = running.iter().map(|n| n.line.as_str()).collect();
    for r in running
        .iter()
        .filter(|r| !in_intended.contains(r.line.as_str()))
    {
        record(&mut out.extra, path, r);
        groups.push((0, vec![negation(path, r, syn)]));
    }
    for i in intended
        .iter()
        .filter(|i| !in_running.contains(i.line.as_str()))
    {
        record(&mut out.missing, path, i);
        let mut cmds = Vec::new();
        add_subtree(path, i, syn, &mut cmds);
        groups.push((0, cmds));
    }
}

/// Whether `intended` keeps the entries of `running` it has in their order and only adds
/// after them: then removing and appending reaches it, and the section (an ACL in use,
/// perhaps the one that lets this session in) is never taken down to be sent again.
fn appends_only(running: &[&Node], intended: &[&Node]) -> bool {
    let in_running: HashSet<&str> = running.iter().map(|n| n.line.as_str()).collect();
    let in_intended: HashSet<&str> = intended.iter().map(|n| n.line.as_str()).collect();
    let kept_running: Vec<&str> = running
        .iter()
        .map(|n| n.line.as_str())
        .filter(|l| in_intended.contains(l))
        .collect();
    let first_new = intended
        .iter()
        .position(|n| !in_running.contains(n.line.as_str()))
        .unwrap_or(intended.len());
    let kept_intended: Vec<&str> = intended.iter().map(|n| n.line.as_str()).collect();
    kept_intended[..first_new] == kept_running[..]
        && intended[first_new..]
            .iter()
            .all(|n| !in_running.contains(n.line.as_str()))
}

fn same_sequence(a: &[&Node], b: &[&Node]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.line == y.line)
}

/// Whether every entry starts with a sequence number (`10 permit ...`).
fn sequenced(entries: &[&Node]) -> bool {
    entries.iter().all(|n| {
        n.line
            .split(' ')
            .next()
            .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn cmd_head(cmd: &Command) -> String {
    cmd.first().cloned().unwrap_or_default()
}

fn record(list: &mut Vec<Vec<String>>, path: &[String], n: &Node) {
    let mut p = path.to_vec();
    p.push(n.line.clone());
    list.push(p);
}

fn negation(path: &[String], n: &Node, syn: &Syntax) -> Command {
    match syn.style {
        Style::Indent => {
            let mut c = path.to_vec();
            let line = if n.kind == Kind::Literal {
                // A banner is removed by its first line's statement (`banner motd`).
                let first = n.line.lines().next().unwrap_or_default();
                first
                    .split(' ')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_string()
            } else {
                n.line.clone()
            };
            c.push(syn.negate(&line));
            c
        }
        Style::Braces => {
            let mut c = vec!["delete".to_string()];
            c.extend(path.iter().cloned());
            c.push(n.line.clone());
            c
        }
    }
}

fn add_subtree(path: &mut Vec<String>, n: &Node, syn: &Syntax, out: &mut Vec<Command>) {
    match syn.style {
        Style::Indent => {
            let mut c = path.clone();
            c.push(n.line.clone());
            out.push(c);
            path.push(n.line.clone());
            for child in n.children.iter().filter(|c| c.is_config()) {
                add_subtree(path, child, syn, out);
            }
            path.pop();
        }
        Style::Braces => {
            path.push(n.line.clone());
            let children: Vec<&Node> = n.statements().collect();
            if children.is_empty() {
                let mut c = vec!["set".to_string()];
                c.extend(path.iter().cloned());
                out.push(c);
            }
            for child in children {
                add_subtree(path, child, syn, out);
            }
            path.pop();
        }
    }
}

/// Whether two trees hold the same configuration: the same statements under the same
/// parents, in the same order where order matters (ordered sections).
pub fn equivalent(a: &Tree, b: &Tree, syn: &Syntax) -> bool {
    fn same(a: &[Node], b: &[Node], ordered: bool, syn: &Syntax) -> bool {
        let a: Vec<&Node> = a.iter().filter(|n| n.is_config()).collect();
        let b: Vec<&Node> = b.iter().filter(|n| n.is_config()).collect();
        if a.len() != b.len() {
            return false;
        }
        if ordered {
            return a
                .iter()
                .zip(&b)
                .all(|(x, y)| x.line == y.line && same(&x.children, &y.children, false, syn));
        }
        let index: HashMap<&str, &Node> = b.iter().map(|n| (n.line.as_str(), *n)).collect();
        index.len() == b.len()
            && a.iter().all(|x| {
                index
                    .get(x.line.as_str())
                    .is_some_and(|y| same(&x.children, &y.children, syn.is_ordered(&x.line), syn))
            })
    }
    same(&a.nodes, &b.nodes, false, syn)
}
