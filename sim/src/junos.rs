//! The Junos CLI: operational mode (`admin@host>`), configuration mode (`admin@host#` with
//! `[edit ...]` banners) editing a candidate with `set` / `delete`, `show | compare`, `commit`
//! (`check`, `and-quit`, `comment`, `confirmed [N]`: rolled back after N minutes unless a
//! later commit confirms it), `rollback N`; and the configuration as a statement tree rendered
//! with braces or as `set` commands, and read back from either (`--config-dir`).

use crate::clock::Civil;
use crate::content;
use crate::json;
use crate::shell::{
    match_command, split_pipe, words_with_offsets, Args, Confirm, Match, Mode, Shell, Spec,
};
use crate::tree::Node;

/// Keywords whose next token is their value or name: `host-name X`, `unit 0`, `family inet`.
static PAIRED: &[&str] = &[
    "host-name",
    "domain-name",
    "encrypted-password",
    "user",
    "uid",
    "class",
    "community",
    "authorization",
    "unit",
    "family",
    "address",
    "description",
    "server",
    "route",
    "next-hop",
    "members",
    "vlan-id",
    "mtu",
    "policy-statement",
    "term",
    "neighbor",
    "group",
    "type",
    "peer-as",
    "local-address",
    "autonomous-system",
    "router-id",
    "area",
    "interface",
    "location",
    "contact",
    "filter",
    "prefix-list",
    "instance-type",
    "time-zone",
    "version",
    "file",
    "message",
    "speed",
    "vlan",
    "host",
];

/// Paired statements that hold a single value: setting them again replaces the old value.
static SINGLE: &[&str] = &[
    "host-name",
    "domain-name",
    "encrypted-password",
    "uid",
    "class",
    "authorization",
    "description",
    "vlan-id",
    "mtu",
    "type",
    "peer-as",
    "local-address",
    "autonomous-system",
    "router-id",
    "location",
    "contact",
    "instance-type",
    "time-zone",
    "version",
    "message",
    "speed",
];

/// Top-level configuration statements (`set foo` is a syntax error).
static TOP: &[&str] = &[
    "access",
    "accounting-options",
    "applications",
    "apply-groups",
    "chassis",
    "class-of-service",
    "event-options",
    "firewall",
    "forwarding-options",
    "groups",
    "interfaces",
    "policy-options",
    "protocols",
    "routing-instances",
    "routing-options",
    "security",
    "services",
    "snmp",
    "switch-options",
    "system",
    "version",
    "vlans",
];

/// Splits a line into tokens, keeping `"quoted strings"` whole (without the quotes).
pub fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut had_quote = false;
    for c in line.chars() {
        match c {
            '"' => {
                in_quote = !in_quote;
                had_quote = true;
            }
            c if c.is_whitespace() && !in_quote => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                }
                had_quote = false;
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || had_quote {
        out.push(cur);
    }
    out
}

/// Quotes a value the way Junos prints it.
fn quote(v: &str) -> String {
    if v.is_empty()
        || v.chars()
            .any(|c| c.is_whitespace() || "$;{}#\"'".contains(c))
    {
        format!("\"{}\"", v.replace('"', "\\\""))
    } else {
        v.to_string()
    }
}

/// Groups tokens into statements: `unit 0` and `host-name x` are one node each.
pub fn segments(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if PAIRED.contains(&t.as_str()) && i + 1 < tokens.len() {
            out.push(format!("{} {}", t, quote(&tokens[i + 1])));
            i += 2;
        } else {
            out.push(quote(t));
            i += 1;
        }
    }
    out
}

/// Groups tokens into statements the way the tree under `base` already holds them (a
/// config loaded from a file keeps `client-list POLLERS` as one statement, whatever the
/// keyword table says), then by the keyword table for what is new.
pub fn resolve_segments(tree: &[Node], base: &[String], tokens: &[String]) -> Vec<String> {
    let mut cur: Option<&[Node]> = Some(tree);
    for seg in base {
        cur = cur.and_then(|c| {
            c.iter()
                .find(|n| &n.line == seg)
                .map(|n| n.children.as_slice())
        });
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some(children) = cur else { break };
        let forms: Vec<(usize, String)> = [2usize, 1]
            .iter()
            .filter(|k| i + **k <= tokens.len())
            .map(|k| {
                let line = if *k == 2 {
                    format!("{} {}", tokens[i], quote(&tokens[i + 1]))
                } else {
                    quote(&tokens[i])
                };
                (*k, line)
            })
            .collect();
        let hit = forms
            .iter()
            .find_map(|(k, line)| children.iter().find(|n| &n.line == line).map(|n| (*k, n)));
        match hit {
            Some((k, n)) => {
                out.push(n.line.clone());
                cur = Some(n.children.as_slice());
                i += k;
            }
            None => break,
        }
    }
    out.extend(segments(&tokens[i..]));
    out
}

fn keyword(seg: &str) -> &str {
    seg.split_whitespace().next().unwrap_or("")
}

/// Adds a statement path, replacing single-valued statements.
pub fn set_path(tree: &mut Vec<Node>, segs: &[String]) {
    let mut cur = tree;
    for (depth, seg) in segs.iter().enumerate() {
        let last = depth + 1 == segs.len();
        let kw = keyword(seg);
        let idx = match cur.iter().position(|n| &n.line == seg) {
            Some(i) => i,
            None => {
                let same_kw = if SINGLE.contains(&kw) && seg.contains(' ') {
                    cur.iter().position(|n| keyword(&n.line) == kw)
                } else {
                    None
                };
                match same_kw {
                    Some(i) if last => {
                        cur[i].line = seg.clone();
                        i
                    }
                    _ => {
                        cur.push(Node::leaf(seg.clone()));
                        cur.len() - 1
                    }
                }
            }
        };
        cur = &mut cur[idx].children;
    }
}

/// Removes a statement path (a bare keyword matches its valued statement:
/// `delete system host-name`). Returns whether something was removed.
pub fn delete_path(tree: &mut Vec<Node>, segs: &[String]) -> bool {
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = tree;
    for seg in parents {
        let Some(i) = cur.iter().position(|n| &n.line == seg) else {
            return false;
        };
        cur = &mut cur[i].children;
    }
    let found = cur.iter().position(|n| &n.line == last).or_else(|| {
        cur.iter()
            .position(|n| keyword(&n.line) == last && n.line.contains(' '))
    });
    match found {
        Some(i) => {
            cur.remove(i);
            true
        }
        None => false,
    }
}

/// Builds a tree from `set ...` lines.
pub fn tree_from_set_lines(text: &str) -> Vec<Node> {
    let mut tree = Vec::new();
    for line in text.lines() {
        let toks = tokenize(line);
        if toks.first().map(String::as_str) == Some("set") {
            set_path(&mut tree, &segments(&toks[1..]));
        }
    }
    tree
}

/// Builds a tree from the brace layout of `show configuration` (a saved config file): each
/// statement keeps its text as written, so it renders back the same. Comments (`#` to the end
/// of the line, `/* ... */`) are dropped.
pub fn tree_from_braces(text: &str) -> Result<Vec<Node>, String> {
    // The bottom entry holds the top-level statements.
    let mut stack: Vec<Node> = vec![Node::leaf("")];
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                cur.push('"');
                loop {
                    match chars.next() {
                        None => return Err(format!("line {line}: unterminated quoted string")),
                        Some('\\') => {
                            cur.push('\\');
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        Some('"') => {
                            cur.push('"');
                            break;
                        }
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            cur.push(ch);
                        }
                    }
                }
            }
            '#' if cur.is_empty() => {
                for ch in chars.by_ref() {
                    if ch == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if cur.is_empty() && chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                loop {
                    match chars.next() {
                        None => return Err(format!("line {line}: unterminated comment")),
                        Some('/') if prev == '*' => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            prev = ch;
                        }
                    }
                }
            }
            ';' => {
                flush(&mut cur, &mut words);
                if !words.is_empty() {
                    let leaf = Node::leaf(std::mem::take(&mut words).join(" "));
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(leaf);
                    }
                }
            }
            '{' => {
                flush(&mut cur, &mut words);
                if words.is_empty() {
                    return Err(format!("line {line}: '{{' without a statement"));
                }
                stack.push(Node::leaf(std::mem::take(&mut words).join(" ")));
            }
            '}' => {
                flush(&mut cur, &mut words);
                if !words.is_empty() {
                    return Err(format!(
                        "line {line}: missing ';' after {:?}",
                        words.join(" ")
                    ));
                }
                if stack.len() < 2 {
                    return Err(format!("line {line}: unbalanced '}}'"));
                }
                if let Some(done) = stack.pop() {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(done);
                    }
                }
            }
            c if c.is_whitespace() => {
                if c == '\n' {
                    line += 1;
                }
                flush(&mut cur, &mut words);
            }
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut words);
    if !words.is_empty() {
        return Err(format!(
            "missing ';' after {:?} at the end",
            words.join(" ")
        ));
    }
    if stack.len() != 1 {
        return Err(format!("{} unclosed '{{' at the end", stack.len() - 1));
    }
    Ok(stack.pop().map(|root| root.children).unwrap_or_default())
}

/// The brace layout of `show configuration`.
pub fn render_braces(nodes: &[Node], depth: usize, out: &mut Vec<String>) {
    for n in nodes {
        let pad = "    ".repeat(depth);
        let secret = if keyword(&n.line) == "encrypted-password" {
            " ## SECRET-DATA"
        } else {
            ""
        };
        if n.children.is_empty() {
            out.push(format!("{pad}{};{secret}", n.line));
        } else {
            out.push(format!("{pad}{} {{", n.line));
            render_braces(&n.children, depth + 1, out);
            out.push(format!("{pad}}}"));
        }
    }
}

/// The `| display set` layout.
pub fn display_set(nodes: &[Node], prefix: &str, out: &mut Vec<String>) {
    for n in nodes {
        let path = if prefix.is_empty() {
            n.line.clone()
        } else {
            format!("{prefix} {}", n.line)
        };
        if n.children.is_empty() {
            out.push(format!("set {path}"));
        } else {
            display_set(&n.children, &path, out);
        }
    }
}

/// `show | compare`: leaf statements added and removed, grouped under `[edit ...]` headers.
pub fn compare(old: &[Node], new: &[Node]) -> String {
    let mut a = Vec::new();
    let mut b = Vec::new();
    display_set(old, "", &mut a);
    display_set(new, "", &mut b);
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut push = |line: &str, sign: char| {
        let segs = segments(&tokenize(line.trim_start_matches("set ")));
        let (leaf, parents) = match segs.split_last() {
            Some(x) => x,
            None => return,
        };
        let header = if parents.is_empty() {
            "[edit]".to_string()
        } else {
            format!("[edit {}]", parents.join(" "))
        };
        let entry = format!("{sign}  {leaf};");
        match groups.iter_mut().find(|(h, _)| *h == header) {
            Some((_, v)) => v.push(entry),
            None => groups.push((header, vec![entry])),
        }
    };
    for l in a.iter().filter(|l| !b.contains(l)) {
        push(l, '-');
    }
    for l in b.iter().filter(|l| !a.contains(l)) {
        push(l, '+');
    }
    let mut out = Vec::new();
    for (h, v) in groups {
        out.push(h);
        out.extend(v);
    }
    out.join("\n")
}

fn subtree<'a>(tree: &'a [Node], segs: &[String]) -> Option<&'a [Node]> {
    let mut cur = tree;
    for s in segs {
        let n = cur
            .iter()
            .find(|n| &n.line == s || (keyword(&n.line) == s && n.line.contains(' ')))?;
        cur = &n.children;
    }
    Some(cur)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    ShowVersion,
    ShowConfiguration,
    ShowInterfaces,
    ShowInterfacesTerse,
    ShowUptime,
    ShowRoute,
    ShowChassis,
    ShowLldp,
    ShowClock,
    ShowCommit,
    ScreenLength,
    ScreenWidth,
    CompleteOnSpace,
    Timestamp,
    Configure,
    Exit,
}

const fn op(words: &'static [&'static str], id: Op, args: Args) -> Spec<Op> {
    Spec { words, id, args }
}

static OPS: &[Spec<Op>] = &[
    op(&["show", "version"], Op::ShowVersion, Args::Optional),
    op(
        &["show", "configuration"],
        Op::ShowConfiguration,
        Args::Optional,
    ),
    op(
        &["show", "interfaces", "terse"],
        Op::ShowInterfacesTerse,
        Args::Optional,
    ),
    op(&["show", "interfaces"], Op::ShowInterfaces, Args::Optional),
    op(&["show", "system", "uptime"], Op::ShowUptime, Args::None),
    op(&["show", "route"], Op::ShowRoute, Args::Optional),
    op(
        &["show", "chassis", "hardware"],
        Op::ShowChassis,
        Args::None,
    ),
    op(&["show", "system", "clock"], Op::ShowClock, Args::None),
    op(&["show", "lldp", "neighbors"], Op::ShowLldp, Args::None),
    op(&["show", "system", "commit"], Op::ShowCommit, Args::None),
    op(
        &["set", "cli", "screen-length"],
        Op::ScreenLength,
        Args::Required,
    ),
    op(
        &["set", "cli", "screen-width"],
        Op::ScreenWidth,
        Args::Required,
    ),
    op(
        &["set", "cli", "complete-on-space"],
        Op::CompleteOnSpace,
        Args::Required,
    ),
    op(&["set", "cli", "timestamp"], Op::Timestamp, Args::Optional),
    op(&["configure"], Op::Configure, Args::Optional),
    op(&["exit"], Op::Exit, Args::None),
    op(&["quit"], Op::Exit, Args::None),
];

impl Shell {
    fn junos_error(&self, line: &str, word: usize, msg: &str, interactive: bool) -> String {
        let offset = words_with_offsets(line)
            .get(word)
            .map(|(o, _)| line[..*o].chars().count())
            .unwrap_or_else(|| line.chars().count() + 1);
        let pad = if interactive { self.prompt_width() } else { 0 };
        format!("{}^\n{msg}", " ".repeat(pad + offset))
    }

    pub(crate) fn junos_run(&mut self, line: &str) {
        match self.mode.clone() {
            Mode::Config(path) => self.junos_config(line, path),
            _ => {
                if let Some(out) = self.junos_op(line, true) {
                    self.finish(&out);
                }
            }
        }
    }

    pub(crate) fn junos_exec(&mut self, line: &str) -> String {
        self.junos_op(line, false).unwrap_or_default()
    }

    fn junos_op(&mut self, line: &str, interactive: bool) -> Option<String> {
        let (cmd, filter) = split_pipe(line);
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let specs: Vec<&Spec<Op>> = OPS.iter().collect();
        let (id, args) = match match_command(&specs, &words) {
            Match::Ok { id, args } => (id, args),
            Match::Invalid(0) => {
                return Some(self.junos_error(line, 0, "unknown command.", interactive))
            }
            Match::Invalid(i) => {
                return Some(self.junos_error(
                    line,
                    i,
                    "syntax error, expecting <command>.",
                    interactive,
                ))
            }
            Match::Ambiguous(i) => {
                let w = words.get(i).copied().unwrap_or("");
                return Some(self.junos_error(
                    line,
                    i,
                    &format!("'{w}' is ambiguous."),
                    interactive,
                ));
            }
            Match::Incomplete => {
                return Some(self.junos_error(
                    line,
                    words.len(),
                    "syntax error, expecting <command>.",
                    interactive,
                ))
            }
        };
        let host = self.dev.hostname();
        if filter.is_some_and(|f| f.split_whitespace().collect::<Vec<_>>() == ["display", "json"]) {
            return Some(match id {
                Op::ShowVersion => json::junos_version(&host),
                Op::ShowInterfacesTerse => json::junos_interfaces_terse(&self.junos_ifaces()),
                _ => "error: netorch-sim has no JSON form of this command".into(),
            });
        }
        let out = match id {
            Op::ShowVersion => content::show_version(&self.dev, &host),
            Op::ShowLldp => {
                let ifaces: Vec<content::Iface> = self
                    .junos_ifaces()
                    .into_iter()
                    .map(|j| content::Iface {
                        name: j.name,
                        description: j.description,
                        address: None,
                        shutdown: j.disabled,
                        access_vlan: None,
                        trunk: false,
                        vrf: None,
                    })
                    .collect();
                content::show_lldp_neighbors(&self.dev, &ifaces)
            }
            Op::ShowConfiguration => {
                let tree = self.dev.running();
                let segs = segments(&args);
                let Some(sub) = subtree(&tree, &segs) else {
                    return Some(String::new());
                };
                self.junos_render(sub, segs.is_empty(), filter)
            }
            Op::ShowInterfaces | Op::ShowInterfacesTerse => self.junos_interfaces(id == Op::ShowInterfacesTerse),
            Op::ShowUptime => {
                let (changed_at, changed_by) = {
                    let st = self.dev.state();
                    (st.changed_at, st.changed_by.clone())
                };
                let ago = std::time::SystemTime::now()
                    .duration_since(changed_at)
                    .unwrap_or_default()
                    .as_secs();
                format!(
                "Current time: {}\nTime Source:  NTP CLOCK \nSystem booted: {} (12w3d 04:05 ago)\nProtocols started: {} (12w3d 04:04 ago)\nLast configured: {} ({} ago) by {}\n 11:52AM  up 87 days,  4:05, 1 user, load averages: 0.08, 0.05, 0.01",
                Civil::now().iso(),
                Civil::from_system(self.dev.settings.started).iso(),
                Civil::from_system(self.dev.settings.started).iso(),
                Civil::from_system(changed_at).iso(),
                junos_ago(ago),
                changed_by
            )
            }
            Op::ShowRoute => "\ninet.0: 4 destinations, 4 routes (4 active, 0 holddown, 0 hidden)\n+ = Active Route, - = Last Active, * = Both\n\n0.0.0.0/0          *[Static/5] 12w3d 04:05:00\n                    >  to 10.255.0.254 via fxp0.0".into(),
            Op::ShowChassis => format!(
                "Hardware inventory:\nItem             Version  Part number  Serial number     Description\nChassis                                {}      VSRX\nMidplane\nSystem IO\nRouting Engine                                            VSRX-2CPU-4G memory",
                content::token(&host, "serial", 12).to_uppercase()
            ),
            Op::ShowClock => content::show_clock(self.dev.platform),
            Op::ShowCommit => self.junos_commit_list(),
            Op::ScreenLength => match args[0].parse::<usize>() {
                Ok(n) => {
                    self.page_len = n.saturating_sub(1);
                    format!("Screen length set to {n}")
                }
                Err(_) => return Some(self.junos_error(line, 3, "syntax error, expecting <number>.", interactive)),
            },
            Op::ScreenWidth => match args[0].parse::<usize>() {
                Ok(n) => {
                    self.width = n;
                    format!("Screen width set to {n}")
                }
                Err(_) => return Some(self.junos_error(line, 3, "syntax error, expecting <number>.", interactive)),
            },
            Op::CompleteOnSpace => match args[0].as_str() {
                "off" => "Disabling complete-on-space".into(),
                "on" => "Enabling complete-on-space".into(),
                _ => return Some(self.junos_error(line, 3, "syntax error.", interactive)),
            },
            Op::Timestamp => {
                if args.first().map(String::as_str) == Some("disable") {
                    "Timestamp disabled".into()
                } else {
                    "Timestamp enabled".into()
                }
            }
            Op::Configure => {
                if !interactive {
                    return Some("error: configuration mode is not available on exec channels".into());
                }
                self.mode = Mode::Config(Vec::new());
                self.candidate = Some(self.dev.running());
                "Entering configuration mode".into()
            }
            Op::Exit => {
                self.close();
                return None;
            }
        };
        if id == Op::ShowConfiguration {
            return Some(out);
        }
        match filter {
            Some(f) => Some(junos_filter(&out, f)),
            None => Some(out),
        }
    }

    fn junos_render(&self, tree: &[Node], whole: bool, filter: Option<&str>) -> String {
        let mut out = Vec::new();
        let display_set_wanted =
            filter.is_some_and(|f| f.replace(' ', "").starts_with("displayset"));
        if display_set_wanted {
            display_set(tree, "", &mut out);
            return out.join("\n");
        }
        if whole {
            let st = self.dev.state();
            out.push(format!(
                "## Last commit: {} by {}",
                Civil::from_system(st.changed_at).iso(),
                st.changed_by
            ));
        }
        render_braces(tree, 0, &mut out);
        let text = out.join("\n");
        match filter {
            Some(f) => junos_filter(&text, f),
            None => text,
        }
    }

    /// The interfaces of the running config, as `show interfaces` reports them.
    fn junos_ifaces(&self) -> Vec<json::JunosIface> {
        let tree = self.dev.running();
        let Some(ifs) = subtree(&tree, &["interfaces".to_string()]) else {
            return Vec::new();
        };
        ifs.iter()
            .map(|i| {
                let mut addresses = Vec::new();
                for u in &i.children {
                    if let Some(unit) = u.line.strip_prefix("unit ") {
                        for f in &u.children {
                            if let Some(fam) = f.line.strip_prefix("family ") {
                                for a in &f.children {
                                    if let Some(ad) = a.line.strip_prefix("address ") {
                                        addresses.push((
                                            unit.to_string(),
                                            fam.to_string(),
                                            ad.to_string(),
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                json::JunosIface {
                    name: i.line.clone(),
                    disabled: i.children.iter().any(|c| c.line == "disable"),
                    description: i
                        .children
                        .iter()
                        .find_map(|c| c.line.strip_prefix("description "))
                        .map(|d| d.trim_matches('"').to_string()),
                    addresses,
                }
            })
            .collect()
    }

    fn junos_interfaces(&self, terse: bool) -> String {
        let ifs = self.junos_ifaces();
        let mut out = Vec::new();
        if terse {
            out.push(
                "Interface               Admin Link Proto    Local                 Remote".into(),
            );
        }
        for (n, i) in ifs.iter().enumerate() {
            let admin = if i.disabled { "down" } else { "up" };
            if terse {
                out.push(format!("{:<24}{:<6}{:<5}", i.name, admin, admin));
                for (unit, fam, ad) in &i.addresses {
                    out.push(format!(
                        "{:<24}{:<6}{:<5}{:<9}{:<22}",
                        format!("{}.{}", i.name, unit),
                        admin,
                        admin,
                        fam,
                        ad
                    ));
                }
                continue;
            }
            out.push(format!(
                "Physical interface: {}, {}, Physical link is {}",
                i.name,
                if i.disabled {
                    "Administratively down"
                } else {
                    "Enabled"
                },
                if i.disabled { "Down" } else { "Up" }
            ));
            out.push(format!(
                "  Interface index: {}, SNMP ifIndex: {}",
                148 + n,
                526 + n
            ));
            if let Some(d) = &i.description {
                out.push(format!("  Description: {d}"));
            }
            out.push(
                "  Link-level type: Ethernet, MTU: 1514, Link-mode: Full-duplex, Speed: 1000mbps"
                    .into(),
            );
            out.push("  Device flags   : Present Running".into());
            out.push("  Interface flags: SNMP-Traps Internal: 0x4000".into());
            let mac = content::colon_mac(&content::mac(self.dev.index, n + 1));
            out.push(format!("  Current address: {mac}, Hardware address: {mac}"));
            out.push("  Last flapped   : Never".into());
            out.push("  Input rate     : 1024 bps (2 pps)".into());
            out.push("  Output rate    : 512 bps (1 pps)".into());
            for (k, (unit, fam, ad)) in i.addresses.iter().enumerate() {
                out.push(String::new());
                out.push(format!(
                    "  Logical interface {}.{} (Index {}) (SNMP ifIndex {})",
                    i.name,
                    unit,
                    70 + n + k,
                    600 + n + k
                ));
                out.push("    Flags: Up SNMP-Traps 0x4000 Encapsulation: ENET2".into());
                out.push("    Input packets : 123456".into());
                out.push("    Output packets: 98765".into());
                out.push(format!("    Protocol {fam}, MTU: 1500"));
                out.push("      Flags: Sendbcast-pkt-to-re".into());
                out.push("      Addresses, Flags: Is-Preferred Is-Primary".into());
                out.push(format!("        {}", junos_address_line(ad)));
            }
            out.push(String::new());
        }
        out.join("\n")
    }

    fn candidate_or_running(&self) -> Vec<Node> {
        match &self.candidate {
            Some(c) => c.clone(),
            None => self.dev.running(),
        }
    }

    fn junos_config(&mut self, line: &str, mut path: Vec<String>) {
        let (cmd, filter) = split_pipe(line);
        let toks = tokenize(cmd);
        let Some(first) = toks.first() else {
            self.finish("");
            return;
        };
        let verbs = [
            "set", "delete", "show", "commit", "rollback", "exit", "quit", "top", "up", "edit",
            "run", "status", "compare",
        ];
        let verb = match crate::ios::expand_unique(first, &verbs) {
            Some(v) => v,
            None => {
                let o = self.junos_error(line, 0, "unknown command.", true);
                self.finish(&o);
                return;
            }
        };
        let rest: Vec<String> = toks[1..].to_vec();
        let user = self.user.clone();
        let out = match verb.as_str() {
            "set" | "delete" => {
                if rest.is_empty() {
                    self.junos_error(
                        line,
                        1,
                        "syntax error, expecting <statement> or <identifier>.",
                        true,
                    )
                } else {
                    let mut full: Vec<String> = Vec::new();
                    let mut rest = rest.clone();
                    if path.is_empty() {
                        match crate::ios::expand_unique(&rest[0], TOP) {
                            Some(k) => rest[0] = k,
                            None => {
                                let o = self.junos_error(line, 1, "syntax error.", true);
                                self.finish(&o);
                                return;
                            }
                        }
                    }
                    let mut cand = self.candidate_or_running();
                    let rel = resolve_segments(&cand, &path, &rest);
                    full.extend(path.iter().cloned());
                    full.extend(rel);
                    let msg = if verb == "set" {
                        set_path(&mut cand, &full);
                        String::new()
                    } else if delete_path(&mut cand, &full) {
                        String::new()
                    } else {
                        "warning: statement not found".into()
                    };
                    self.candidate = Some(cand);
                    msg
                }
            }
            "show" => {
                let cand = self.candidate_or_running();
                let compare_wanted = filter.is_some_and(|f| f.starts_with("compare"));
                if compare_wanted {
                    compare(&self.dev.running(), &cand)
                } else {
                    let mut segs = path.clone();
                    segs.extend(segments(&rest));
                    match subtree(&cand, &segs) {
                        Some(sub) => {
                            let mut out = Vec::new();
                            if filter.is_some_and(|f| f.replace(' ', "").starts_with("displayset"))
                            {
                                display_set(sub, &segs.join(" "), &mut out);
                            } else {
                                render_braces(sub, 0, &mut out);
                            }
                            out.join("\n")
                        }
                        None => String::new(),
                    }
                }
            }
            "compare" => compare(&self.dev.running(), &self.candidate_or_running()),
            "commit" => {
                let opts = match parse_commit_options(&rest) {
                    Ok(o) => o,
                    Err((word, msg)) => {
                        let o = self.junos_error(line, word, &msg, true);
                        self.finish(&o);
                        return;
                    }
                };
                let cand = self.candidate_or_running();
                if opts.check {
                    "configuration check succeeds".into()
                } else {
                    let previous = self.dev.running();
                    let note = match opts.confirmed {
                        Some(m) => format!("commit confirmed, rollback in {m}mins"),
                        None => String::new(),
                    };
                    self.dev
                        .commit_noted(&user, cand.clone(), note, opts.comment.clone());
                    self.junos_sync_hostname(&cand);
                    let mut out = String::new();
                    match opts.confirmed {
                        Some(minutes) => {
                            let after = self.dev.settings.timer_minutes(minutes);
                            self.dev.arm_revert(previous, after, None, &user);
                            out.push_str(&format!(
                                "commit confirmed will be automatically rolled back in {minutes} minutes unless confirmed\n"
                            ));
                        }
                        // Any plain commit confirms a pending `commit confirmed`.
                        None => {
                            self.dev.confirm_revert();
                        }
                    }
                    out.push_str("commit complete");
                    if opts.and_quit {
                        self.mode = Mode::Priv;
                        self.candidate = None;
                        out.push_str("\nExiting configuration mode");
                        self.finish(&out);
                        return;
                    }
                    out
                }
            }
            "rollback" => {
                let n: usize = rest.first().and_then(|r| r.parse().ok()).unwrap_or(0);
                if n == 0 {
                    self.candidate = Some(self.dev.running());
                    "load complete".into()
                } else {
                    let hist = self.dev.state().history.get(n - 1).cloned();
                    match hist {
                        Some(h) => {
                            self.candidate = Some(h);
                            "load complete".into()
                        }
                        None => format!("error: rollback {n} does not exist"),
                    }
                }
            }
            "exit" | "quit" => {
                if rest.first().map(String::as_str) != Some("configuration-mode")
                    && path.pop().is_some()
                {
                    self.mode = Mode::Config(path);
                    String::new()
                } else {
                    let dirty = self.candidate_or_running() != self.dev.running();
                    if dirty {
                        self.ask(
                            Confirm::JunosExit,
                            "The configuration has been changed but not committed\nExit with uncommitted changes? [yes,no] (yes) ",
                        );
                        return;
                    }
                    self.mode = Mode::Priv;
                    self.candidate = None;
                    self.finish("Exiting configuration mode");
                    return;
                }
            }
            "top" => {
                self.mode = Mode::Config(Vec::new());
                String::new()
            }
            "up" => {
                path.pop();
                self.mode = Mode::Config(path);
                String::new()
            }
            "edit" => {
                path.extend(segments(&rest));
                self.mode = Mode::Config(path);
                String::new()
            }
            "run" => {
                let op_line = rest.join(" ");
                let op_line = match filter {
                    Some(f) => format!("{op_line} | {f}"),
                    None => op_line,
                };
                let saved = std::mem::replace(&mut self.mode, Mode::Priv);
                let out = self.junos_op(&op_line, false);
                if self.mode == Mode::Priv {
                    self.mode = saved;
                }
                out.unwrap_or_default()
            }
            _ => String::new(),
        };
        self.finish(&out);
    }

    /// `show system commit`: one line per stored configuration, newest (0) first; the
    /// configurations older than the log (the factory one) show the boot time.
    fn junos_commit_list(&self) -> String {
        let st = self.dev.state();
        let mut out = Vec::new();
        for n in 0..=st.history.len() {
            let line = match st.commit_log.get(n) {
                Some(r) => {
                    let mut l = format!(
                        "{n:<4}{} by {} via {}",
                        Civil::from_system(r.at).iso(),
                        r.user,
                        r.via
                    );
                    if !r.note.is_empty() {
                        l.push(' ');
                        l.push_str(&r.note);
                    }
                    if let Some(c) = &r.comment {
                        l.push_str(&format!("\n    {c}"));
                    }
                    l
                }
                None => format!(
                    "{n:<4}{} by root via other",
                    Civil::from_system(self.dev.settings.started).iso()
                ),
            };
            out.push(line);
        }
        out.join("\n")
    }

    fn junos_sync_hostname(&self, tree: &[Node]) {
        if let Some(sys) = subtree(tree, &["system".to_string()]) {
            if let Some(h) = sys.iter().find_map(|n| n.line.strip_prefix("host-name ")) {
                self.dev.state().hostname = h.trim_matches('"').to_string();
            }
        }
    }

    pub(crate) fn junos_confirm(&mut self, what: Confirm, answer: &str) {
        if what == Confirm::JunosExit && (answer.is_empty() || answer.starts_with('y')) {
            self.mode = Mode::Priv;
            self.candidate = None;
            self.finish("Exiting configuration mode");
        } else {
            self.finish("");
        }
    }
}

/// What `commit ...` asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct CommitOptions {
    check: bool,
    and_quit: bool,
    /// `confirmed [minutes]`: roll back unless confirmed within this many minutes.
    confirmed: Option<u64>,
    comment: Option<String>,
}

/// Parses the words after `commit`: `check`, `and-quit`, `comment TEXT`, `confirmed [1..65535]`
/// (10 minutes when bare), `synchronize`. Err carries the word index (from `commit`, for the
/// caret) and the message.
fn parse_commit_options(rest: &[String]) -> Result<CommitOptions, (usize, String)> {
    let mut o = CommitOptions::default();
    let mut i = 0;
    while i < rest.len() {
        let word = i + 1;
        let kw = crate::ios::expand_unique(
            &rest[i],
            &["check", "and-quit", "comment", "confirmed", "synchronize"],
        );
        match kw.as_deref() {
            Some("check") => o.check = true,
            Some("and-quit") => o.and_quit = true,
            Some("comment") => {
                i += 1;
                match rest.get(i) {
                    Some(c) => o.comment = Some(c.clone()),
                    None => return Err((word + 1, "syntax error, expecting <data>.".into())),
                }
            }
            Some("confirmed") => {
                let mut minutes = 10;
                if let Some(n) = rest
                    .get(i + 1)
                    .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()))
                {
                    minutes = match n.parse::<u64>() {
                        Ok(m) if (1..=65535).contains(&m) => m,
                        _ => {
                            return Err((
                                word + 1,
                                format!("error: value {n} is not within range (1..65535)"),
                            ))
                        }
                    };
                    i += 1;
                }
                o.confirmed = Some(minutes);
            }
            Some(_) => {}
            None => return Err((word, "syntax error.".into())),
        }
        i += 1;
    }
    // `and-quit` and `check` stand alone on Junos: neither combines with `confirmed`.
    if o.confirmed.is_some() && (o.and_quit || o.check) {
        let at = rest
            .iter()
            .position(|w| {
                let w = w.as_str();
                "and-quit".starts_with(w) || "check".starts_with(w)
            })
            .map_or(rest.len(), |p| p + 1);
        return Err((at, "syntax error.".into()));
    }
    Ok(o)
}

/// `06:23:48` / `3d 04:05` / `12w3d 04:05`: how long ago, as Junos prints it.
fn junos_ago(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (d / 7, d % 7) {
        (0, 0) => format!("{h:02}:{m:02}:{:02}", secs % 60),
        (0, d) => format!("{d}d {h:02}:{m:02}"),
        (w, d) => format!("{w}w{d}d {h:02}:{m:02}"),
    }
}

/// `Destination: 10.0.0/24, Local: 10.0.0.1, Broadcast: 10.0.0.255`, or `Local: X` alone for
/// a /32 (a loopback address), as `show interfaces` prints a logical interface's address.
fn junos_address_line(addr: &str) -> String {
    let (ip, len) = addr.split_once('/').unwrap_or((addr, "32"));
    let len: u32 = len.parse().unwrap_or(32).min(32);
    let Ok(v4) = ip.parse::<std::net::Ipv4Addr>() else {
        return format!("Local: {ip}");
    };
    if len == 32 {
        return format!("Local: {ip}");
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let net = u32::from(v4) & mask;
    let bcast = net | !mask;
    // Junos drops the trailing zero octets of a network: 10.0.0.0/24 -> 10.0.0/24.
    let octets = std::net::Ipv4Addr::from(net).octets();
    let keep = (len as usize).div_ceil(8).max(1);
    let dest = octets[..keep]
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(".");
    format!(
        "Destination: {dest}/{len}, Local: {ip}, Broadcast: {}",
        std::net::Ipv4Addr::from(bcast)
    )
}

/// `| match X`, `| except X`, `| count`, `| no-more`, `| display set` (handled by callers).
fn junos_filter(text: &str, filter: &str) -> String {
    let (kw, pat) = match filter.split_once(char::is_whitespace) {
        Some((k, p)) => (k, p.trim().trim_matches('"')),
        None => (filter, ""),
    };
    match kw {
        "match" => text
            .lines()
            .filter(|l| l.contains(pat))
            .collect::<Vec<_>>()
            .join("\n"),
        "except" => text
            .lines()
            .filter(|l| !l.contains(pat))
            .collect::<Vec<_>>()
            .join("\n"),
        "count" => format!("Count: {} lines", text.lines().count()),
        _ => text.to_string(),
    }
}
