//! The Cisco-style CLIs: IOS(-XE), Arista EOS, NX-OS and IOS-XR. They share the exec /
//! privileged / config mode graph, keyword abbreviations and the block-structured running
//! config; they differ in prompts, error texts, save commands (IOS-XR commits a candidate)
//! and the layout of their show output, which is handled here per platform.
//!
//! Confirmed changes: IOS `configure terminal revert timer N` / `configure confirm` /
//! `configure replace flash:FILE [force] [revert trigger timer N]`, EOS `commit timer
//! HH:MM:SS` in a session / `configure session NAME commit`, IOS-XR `commit confirmed
//! [SECONDS | minutes N]` / `commit`. The timers themselves live in `device`.

use crate::clock::Civil;
use crate::content;
use crate::json;
use crate::platform::Platform;
use crate::shell::{
    match_command, split_pipe, words_with_offsets, Args, Confirm, Match, Mode, Pending, Shell, Spec,
};
use crate::tree::{self, Node};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    ShowVersion,
    ShowRun,
    ShowStartup,
    ShowInterfaces,
    ShowIntStatus,
    ShowIntBrief,
    ShowCdpNeighbors,
    ShowLldpNeighbors,
    ShowIpIntBrief,
    ShowVlan,
    ShowClock,
    ShowInventory,
    ShowMemoryStats,
    ShowIpRoute,
    ShowPrivilege,
    ShowHostname,
    ShowUsers,
    ShowConfiguration,
    TermLength,
    TermWidth,
    TermMonitor,
    TermNoTimestamp,
    Enable,
    Disable,
    ConfigureTerminal,
    ConfigureSession,
    ConfigureConfirm,
    ConfigureReplace,
    ConfigureRevert,
    ShowSessions,
    ShowSessionConfig,
    WriteMemory,
    CopyRunStart,
    Exit,
    Ping,
    Ssh,
    Bash,
    Dir,
}

use Cmd::*;

const fn spec(words: &'static [&'static str], id: Cmd, args: Args) -> Spec<Cmd> {
    Spec { words, id, args }
}

static SPECS: &[Spec<Cmd>] = &[
    spec(&["show", "version"], ShowVersion, Args::None),
    spec(&["show", "running-config"], ShowRun, Args::Optional),
    spec(&["show", "startup-config"], ShowStartup, Args::None),
    spec(&["show", "interfaces"], ShowInterfaces, Args::Optional),
    spec(&["show", "interface"], ShowInterfaces, Args::Optional),
    spec(&["show", "interfaces", "status"], ShowIntStatus, Args::None),
    spec(&["show", "interface", "status"], ShowIntStatus, Args::None),
    spec(&["show", "interface", "brief"], ShowIntBrief, Args::None),
    spec(&["show", "cdp", "neighbors"], ShowCdpNeighbors, Args::None),
    spec(
        &["show", "lldp", "neighbors"],
        ShowLldpNeighbors,
        Args::None,
    ),
    spec(
        &["show", "ip", "interface", "brief"],
        ShowIpIntBrief,
        Args::None,
    ),
    spec(
        &["show", "ipv4", "interface", "brief"],
        ShowIpIntBrief,
        Args::None,
    ),
    spec(&["show", "vlan"], ShowVlan, Args::Optional),
    spec(&["show", "clock"], ShowClock, Args::None),
    spec(&["show", "inventory"], ShowInventory, Args::None),
    spec(
        &["show", "memory", "statistics"],
        ShowMemoryStats,
        Args::None,
    ),
    spec(&["show", "ip", "route"], ShowIpRoute, Args::Optional),
    spec(&["show", "route"], ShowIpRoute, Args::Optional),
    spec(&["show", "privilege"], ShowPrivilege, Args::None),
    spec(&["show", "hostname"], ShowHostname, Args::None),
    spec(&["show", "users"], ShowUsers, Args::None),
    spec(
        &["show", "configuration"],
        ShowConfiguration,
        Args::Optional,
    ),
    spec(
        &["show", "commit", "changes", "diff"],
        ShowConfiguration,
        Args::None,
    ),
    spec(&["bash"], Bash, Args::Required),
    spec(&["terminal", "length"], TermLength, Args::Required),
    spec(&["terminal", "width"], TermWidth, Args::Required),
    spec(&["terminal", "monitor"], TermMonitor, Args::None),
    spec(
        &["terminal", "exec", "prompt", "no-timestamp"],
        TermNoTimestamp,
        Args::None,
    ),
    spec(&["enable"], Enable, Args::Optional),
    spec(&["disable"], Disable, Args::None),
    // IOS: `configure terminal revert timer N`.
    spec(
        &["configure", "terminal"],
        ConfigureTerminal,
        Args::Optional,
    ),
    spec(&["configure", "session"], ConfigureSession, Args::Required),
    spec(&["configure", "confirm"], ConfigureConfirm, Args::None),
    spec(&["configure", "replace"], ConfigureReplace, Args::Required),
    spec(&["configure", "revert"], ConfigureRevert, Args::Required),
    spec(
        &["show", "configuration", "sessions"],
        ShowSessions,
        Args::None,
    ),
    spec(
        &["show", "session-config"],
        ShowSessionConfig,
        Args::Optional,
    ),
    spec(&["configure"], ConfigureTerminal, Args::None),
    spec(&["write", "memory"], WriteMemory, Args::None),
    spec(&["write"], WriteMemory, Args::None),
    spec(
        &["copy", "running-config", "startup-config"],
        CopyRunStart,
        Args::None,
    ),
    spec(&["exit"], Exit, Args::None),
    spec(&["logout"], Exit, Args::None),
    spec(&["quit"], Exit, Args::None),
    spec(&["ping"], Ping, Args::Required),
    spec(&["ssh"], Ssh, Args::Required),
    spec(&["send"], Ssh, Args::Required),
    spec(&["dir"], Dir, Args::Optional),
];

/// Whether a command form exists on this platform, in this mode.
fn available(s: &Spec<Cmd>, p: Platform, privileged: bool) -> bool {
    use Platform::*;
    let on_platform = match (s.id, s.words) {
        (ShowInterfaces, w) if w[1] == "interface" => p == CiscoNxos,
        (ShowInterfaces, _) => p != CiscoNxos,
        (ShowIntStatus, w) if w[1] == "interface" => p == CiscoNxos,
        (ShowIntStatus, _) => matches!(p, CiscoIos | AristaEos),
        (ShowIntBrief, _) => p == CiscoNxos,
        (ShowCdpNeighbors, _) => matches!(p, CiscoIos | CiscoNxos),
        (ShowMemoryStats, _) => p == CiscoIos,
        (ShowIpIntBrief, w) if w[1] == "ipv4" => p == CiscoIosxr,
        (ShowVlan, _) => p != CiscoIosxr,
        (ShowIpRoute, w) if w[1] == "route" => p == CiscoIosxr,
        (ShowStartup, _) => p != CiscoIosxr,
        (ShowPrivilege, _) => matches!(p, CiscoIos | AristaEos),
        (ShowHostname, _) => matches!(p, CiscoNxos | AristaEos),
        (ShowConfiguration, _) => p == CiscoIosxr,
        (TermNoTimestamp, _) => p == CiscoIosxr,
        (Enable | Disable, _) => matches!(p, CiscoIos | AristaEos | CiscoNxos),
        (WriteMemory, _) => matches!(p, CiscoIos | AristaEos),
        (CopyRunStart, _) => matches!(p, CiscoIos | AristaEos | CiscoNxos),
        (Bash | ConfigureSession | ShowSessions | ShowSessionConfig, _) => p == AristaEos,
        (ConfigureConfirm | ConfigureReplace | ConfigureRevert, _) => p == CiscoIos,
        (Exit, w) if w[0] == "quit" => p == CiscoIos,
        (Ssh, w) if w[0] == "send" => p == CiscoIos,
        _ => true,
    };
    let needs_priv = matches!(
        s.id,
        ShowRun
            | ShowStartup
            | ShowConfiguration
            | Disable
            | ConfigureTerminal
            | WriteMemory
            | CopyRunStart
            | Dir
            | Bash
            | ConfigureSession
            | ConfigureConfirm
            | ConfigureReplace
            | ConfigureRevert
            | ShowSessions
            | ShowSessionConfig
    );
    on_platform && (privileged || !needs_priv)
}

/// Top-level configuration keywords (abbreviable); deeper levels accept any keyword.
static GLOBAL_KEYWORDS: &[&str] = &[
    "aaa",
    "abort",
    "access-list",
    "alias",
    "archive",
    "banner",
    "bfd",
    "boot",
    "call-home",
    "cdp",
    "class-map",
    "clock",
    "commit",
    "control-plane",
    "crypto",
    "default",
    "dns",
    "do",
    "domain",
    "enable",
    "end",
    "errdisable",
    "event",
    "exit",
    "feature",
    "hostname",
    "interface",
    "ip",
    "ipv4",
    "ipv6",
    "key",
    "license",
    "line",
    "lldp",
    "logging",
    "login",
    "mac",
    "management",
    "monitor",
    "no",
    "ntp",
    "object-group",
    "platform",
    "policy-map",
    "prefix-set",
    "radius-server",
    "redundancy",
    "route-map",
    "rollback",
    "route-policy",
    "router",
    "service",
    "show",
    "snmp-server",
    "spanning-tree",
    "ssh",
    "system",
    "tacacs-server",
    "track",
    "transceiver",
    "username",
    "version",
    "vlan",
    "vrf",
    "vtp",
];

fn global_keyword_ok(p: Platform, kw: &str) -> bool {
    match kw {
        "commit" | "abort" => matches!(p, Platform::CiscoIosxr | Platform::AristaEos),
        "rollback" => p == Platform::AristaEos,
        "prefix-set" | "route-policy" | "ipv4" => p == Platform::CiscoIosxr,
        "feature" => p == Platform::CiscoNxos,
        "show" => p != Platform::CiscoIos,
        _ => true,
    }
}

/// Statements that hold one value per block: setting them again replaces the old line.
static SINGLE_VALUED: &[&[&str]] = &[
    &["description"],
    &["hostname"],
    &["ip", "address"],
    &["ipv4", "address"],
    &["switchport", "mode"],
    &["switchport", "access", "vlan"],
    &["mtu"],
    &["speed"],
    &["duplex"],
    &["bandwidth"],
    &["name"],
    &["ip", "domain", "name"],
    &["ip", "domain-name"],
    &["dns", "domain"],
    &["domain", "name"],
    &["snmp-server", "location"],
    &["snmp-server", "contact"],
    &["clock", "timezone"],
    &["logging", "buffered"],
    &["enable", "secret"],
    &["enable", "password"],
    &["exec-timeout"],
    &["vrf", "forwarding"],
    &["vrf", "member"],
    &["encapsulation"],
    &["channel-group"],
    &["load-interval"],
    &["router-id"],
    &["bgp", "router-id"],
    &["transport", "input"],
    &["spanning-tree", "mode"],
    &["ip", "ssh", "version"],
    &["version"],
    &["secret"],
];

/// The part of a statement that identifies it (`ip address` of `ip address 10.0.0.1 ...`).
fn statement_key(line: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.first() == Some(&"username") && words.len() > 1 {
        return Some(words[..2].iter().map(|w| w.to_string()).collect());
    }
    if line.contains(" secondary") {
        return None;
    }
    SINGLE_VALUED
        .iter()
        .find(|k| words.len() > k.len() && words[..k.len()] == k[..])
        .map(|k| k.iter().map(|w| w.to_string()).collect())
}

/// Adds or replaces a statement among its siblings. Returns whether anything changed.
pub fn apply_set(siblings: &mut Vec<Node>, line: &str) -> bool {
    if siblings.iter().any(|n| n.line == line) {
        return false;
    }
    // `ip domain lookup` cancels a stored `no ip domain lookup`.
    let negated = format!("no {line}");
    if let Some(i) = siblings.iter().position(|n| n.line == negated) {
        siblings.remove(i);
        return true;
    }
    if let Some(key) = statement_key(line) {
        let found = siblings.iter().position(|n| {
            let w: Vec<&str> = n.line.split_whitespace().collect();
            w.len() >= key.len() && w[..key.len()].iter().zip(&key).all(|(a, b)| a == b)
        });
        if let Some(i) = found {
            siblings[i].line = line.to_string();
            return true;
        }
    }
    // Numbered entries (ACLs) are listed in number order, as the devices keep them.
    let seq = |l: &str| l.split(' ').next().and_then(|w| w.parse::<u64>().ok());
    if let Some(n) = seq(line) {
        let entries: Vec<&Node> = siblings.iter().filter(|s| !s.is_separator()).collect();
        if !entries.is_empty() && entries.iter().all(|s| seq(&s.line).is_some()) {
            let at = siblings
                .iter()
                .position(|s| seq(&s.line).is_some_and(|m| m > n))
                .unwrap_or_else(|| {
                    siblings
                        .iter()
                        .rposition(|s| !s.is_separator())
                        .map_or(siblings.len(), |i| i + 1)
                });
            siblings.insert(at, Node::leaf(line));
            return true;
        }
    }
    // Devices list a block's description first, whatever order it was typed in.
    if line.starts_with("description ") {
        siblings.insert(0, Node::leaf(line));
        return true;
    }
    let at = if siblings.iter().any(|n| !n.children.is_empty()) {
        tree::insert_position(siblings, line).0
    } else {
        match siblings.iter().rposition(|n| n.line == "end") {
            Some(i) => i,
            None => siblings.len(),
        }
    };
    siblings.insert(at, Node::leaf(line));
    true
}

/// Removes what `no <what>` names: the exact statement, or the one it is a prefix of
/// (`no description` removes `description uplink`), or a whole block. When nothing matches, a
/// short keyword-only negation is stored as a line (`no ip http server`), as IOS shows them.
pub fn apply_no(siblings: &mut Vec<Node>, what: &str) -> bool {
    let prefix = format!("{what} ");
    // `no 35 ...` removes entry 35 whatever the rest says, as the devices do.
    let seq = what
        .split(' ')
        .next()
        .filter(|w| w.parse::<u64>().is_ok())
        .map(|w| format!("{w} "));
    let found = siblings
        .iter()
        .position(|n| n.line == what)
        .or_else(|| siblings.iter().position(|n| n.line.starts_with(&prefix)))
        .or_else(|| {
            let seq = seq.as_deref()?;
            siblings.iter().position(|n| n.line.starts_with(seq))
        });
    if let Some(i) = found {
        let was_block = !siblings[i].children.is_empty();
        siblings.remove(i);
        // Drop a separator that would now be doubled.
        if was_block
            && i < siblings.len()
            && siblings[i].line == "!"
            && (i == 0 || siblings[i - 1].line == "!")
        {
            siblings.remove(i);
        }
        return true;
    }
    let negated = format!("no {what}");
    if what == "shutdown" || siblings.iter().any(|n| n.line == negated) {
        return false;
    }
    let words = what.split_whitespace().count();
    if words <= 3 && !what.chars().any(|c| c.is_ascii_digit()) {
        siblings.insert(siblings.len(), Node::leaf(negated));
        return true;
    }
    false
}

/// Canonical interface names per platform, longest form first for each short form.
fn interface_forms(p: Platform) -> &'static [&'static str] {
    match p {
        Platform::CiscoIos => &[
            "GigabitEthernet",
            "TenGigabitEthernet",
            "FastEthernet",
            "Loopback",
            "Vlan",
            "Port-channel",
            "Tunnel",
            "AppGigabitEthernet",
        ],
        Platform::AristaEos => &[
            "Ethernet",
            "Loopback",
            "Management",
            "Vlan",
            "Port-Channel",
            "Tunnel",
            "Vxlan",
        ],
        Platform::CiscoNxos => &[
            "Ethernet",
            "loopback",
            "mgmt",
            "Vlan",
            "port-channel",
            "nve",
            "Tunnel",
        ],
        _ => &[
            "GigabitEthernet",
            "TenGigE",
            "HundredGigE",
            "Loopback",
            "MgmtEth",
            "Bundle-Ether",
            "BVI",
            "tunnel-ip",
        ],
    }
}

/// `gi1/0/1` -> `GigabitEthernet1/0/1`, `lo 0` -> `Loopback0`, `et1` -> `Ethernet1`.
pub fn normalize_interface(p: Platform, raw: &[&str]) -> String {
    let joined: String = raw.concat();
    let split = joined
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(joined.len());
    let (alpha, rest) = joined.split_at(split);
    if alpha.is_empty() {
        return joined;
    }
    let lower = alpha.to_ascii_lowercase();
    for form in interface_forms(p) {
        if form.to_ascii_lowercase().starts_with(&lower) {
            return format!("{form}{rest}");
        }
    }
    joined
}

/// Expands a unique keyword prefix; Err(true) when ambiguous, Err(false) when unknown.
fn expand_keyword(typed: &str, keywords: &[&str]) -> Result<String, bool> {
    let t = typed.to_ascii_lowercase();
    if keywords.contains(&t.as_str()) {
        return Ok(t);
    }
    let hits: Vec<&&str> = keywords.iter().filter(|k| k.starts_with(&t)).collect();
    match hits.len() {
        1 => Ok(hits[0].to_string()),
        0 => Err(false),
        _ => Err(true),
    }
}

/// A unique-prefix expansion for other vendors' keyword lists.
pub fn expand_unique(typed: &str, keywords: &[&str]) -> Option<String> {
    expand_keyword(typed, keywords).ok()
}

/// The prompt label of a configuration sub-mode entered by `line` at `depth`, or None when
/// `line` is a plain statement.
fn submode_label(p: Platform, depth: usize, line: &str) -> Option<String> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let first = *w.first()?;
    use Platform::*;
    if depth == 0 {
        return match first {
            "interface" if w.len() > 1 => Some(match p {
                AristaEos => format!("config-if-{}", content::short_ifname(w[1])),
                _ => "config-if".into(),
            }),
            "router" if w.len() > 1 => Some(match p {
                CiscoIosxr => format!("config-{}", w[1]),
                AristaEos => format!("config-router-{}", w[1]),
                _ => "config-router".into(),
            }),
            "line" => Some("config-line".into()),
            "vlan" if w.len() == 2 && w[1].parse::<u32>().is_ok() => Some(match p {
                AristaEos => format!("config-vlan-{}", w[1]),
                _ => "config-vlan".into(),
            }),
            "vrf" if w.len() > 1 => Some("config-vrf".into()),
            "route-map" => Some("config-route-map".into()),
            "class-map" => Some("config-cmap".into()),
            "policy-map" => Some("config-pmap".into()),
            "control-plane" => Some("config-cp".into()),
            "management" if p == AristaEos => Some("config-mgmt-api-http-cmds".into()),
            "ip" | "ipv6" if w.get(1) == Some(&"access-list") => Some(match p {
                AristaEos => format!("config-acl-{}", w.last().unwrap_or(&"")),
                CiscoNxos => "config-acl".into(),
                _ => "config-ext-nacl".into(),
            }),
            "username" if p == CiscoIosxr && w.len() == 2 => Some("config-un".into()),
            "ntp" if p == CiscoIosxr && w.len() == 1 => Some("config-ntp".into()),
            "archive" if p == CiscoIos && w.len() == 1 => Some("config-archive".into()),
            _ => None,
        };
    }
    match first {
        "address-family" => Some(match p {
            CiscoIosxr => "config-bgp-af".into(),
            _ => "config-router-af".into(),
        }),
        "neighbor" if matches!(p, CiscoIosxr | CiscoNxos) && w.len() == 2 => {
            Some("config-bgp-nbr".into())
        }
        _ => None,
    }
}

impl Shell {
    pub(crate) fn config_label(&self, path: &[String]) -> String {
        let label = match path.last() {
            None => "config".into(),
            Some(last) => submode_label(self.dev.platform, path.len() - 1, last)
                .unwrap_or_else(|| "config".into()),
        };
        match &self.session {
            // EOS shows the first six characters of a session's name: `(config-s-ansibl)`.
            Some(name) => {
                let short: String = name.chars().take(6).collect();
                match label.strip_prefix("config") {
                    Some(rest) => format!("config-s-{short}{rest}"),
                    None => label,
                }
            }
            None => label,
        }
    }

    /// One command line in any IOS-family mode.
    pub(crate) fn ios_run(&mut self, line: &str) {
        match self.mode.clone() {
            Mode::Config(path) => self.ios_config(line, path),
            _ => {
                if let Some(out) = self.ios_exec_line(line, true) {
                    self.finish(&out);
                }
            }
        }
    }

    /// An exec-channel command: the output as text.
    pub(crate) fn ios_exec(&mut self, line: &str) -> String {
        self.xr_timestamp = false;
        self.ios_exec_line(line, false).unwrap_or_default()
    }

    fn caret(&self, line: &str, word: usize, interactive: bool) -> String {
        let offset = words_with_offsets(line)
            .get(word)
            .map(|(o, _)| line[..*o].chars().count())
            .unwrap_or_else(|| line.chars().count());
        let pad = if interactive { self.prompt_width() } else { 0 };
        format!("{}^", " ".repeat(pad + offset))
    }

    pub(crate) fn ios_invalid(&self, line: &str, word: usize, interactive: bool) -> String {
        match self.dev.platform {
            Platform::AristaEos => {
                let w = words_with_offsets(line)
                    .get(word)
                    .map(|(_, w)| w.to_string())
                    .unwrap_or_default();
                format!("% Invalid input (at token {word}: '{w}')")
            }
            Platform::CiscoNxos => format!(
                "{}\n% Invalid command at '^' marker.",
                self.caret(line, word, interactive)
            ),
            _ => format!(
                "{}\n% Invalid input detected at '^' marker.\n",
                self.caret(line, word, interactive)
            ),
        }
    }

    fn ios_incomplete(&self, line: &str, interactive: bool) -> String {
        match self.dev.platform {
            Platform::AristaEos => "% Incomplete command".into(),
            Platform::CiscoNxos => format!(
                "{}\n% Incomplete command at '^' marker.",
                self.caret(line, usize::MAX, interactive)
            ),
            _ => "% Incomplete command.\n".into(),
        }
    }

    fn ios_ambiguous(&self, line: &str, word: usize, interactive: bool) -> String {
        match self.dev.platform {
            Platform::AristaEos => "% Ambiguous command".into(),
            Platform::CiscoNxos | Platform::CiscoIosxr => format!(
                "{}\n% Ambiguous command at '^' marker.",
                self.caret(line, word, interactive)
            ),
            _ => format!("% Ambiguous command:  \"{}\"", line.trim()),
        }
    }

    /// Runs an exec-mode command. Returns the output to show, or None when the command
    /// already emitted what it needed (a question, a password prompt, a close).
    fn ios_exec_line(&mut self, line: &str, interactive: bool) -> Option<String> {
        let (cmd_text, filter) = split_pipe(line);
        let words: Vec<&str> = cmd_text.split_whitespace().collect();
        if words.is_empty() {
            return Some(String::new());
        }
        let privileged = self.mode != Mode::User;
        // The flash: filesystem that SCP writes to (dir, checksums, delete).
        if privileged {
            if let Some(out) = crate::flash::command(&self.dev.name, cmd_text) {
                return Some(out);
            }
        }
        let p = self.dev.platform;
        let specs: Vec<&Spec<Cmd>> = SPECS
            .iter()
            .filter(|s| available(s, p, privileged))
            .collect();
        let (id, args) = match match_command(&specs, &words) {
            Match::Ok { id, args } => (id, args),
            Match::Invalid(i) => return Some(self.ios_invalid(line, i, interactive)),
            Match::Ambiguous(i) => return Some(self.ios_ambiguous(line, i, interactive)),
            Match::Incomplete => return Some(self.ios_incomplete(line, interactive)),
        };
        if matches!(p, Platform::AristaEos | Platform::CiscoNxos)
            && filter.is_some_and(|f| f.trim() == "json")
        {
            return Some(self.json_pipe(id, &args));
        }
        let out = self.ios_command(id, &args, line, interactive)?;
        let out = match filter {
            Some(f) => match apply_filter(&out, f) {
                Ok(o) => o,
                Err(_) => {
                    let idx = cmd_text.split_whitespace().count() + 1;
                    return Some(self.ios_invalid(line, idx, interactive));
                }
            },
            None => out,
        };
        let is_show = words[0].len() >= 2 && "show".starts_with(&words[0].to_ascii_lowercase());
        if p == Platform::CiscoIosxr && self.xr_timestamp && is_show {
            return Some(format!("{}\n{}", Civil::now().xr_stamp(), out));
        }
        Some(out)
    }

    fn ios_command(
        &mut self,
        id: Cmd,
        args: &[String],
        line: &str,
        interactive: bool,
    ) -> Option<String> {
        let p = self.dev.platform;
        let host = self.dev.hostname();
        Some(match id {
            ShowVersion => content::show_version(&self.dev, &host),
            ShowRun => {
                let tree = self.dev.running();
                let first = args.first().map(|a| a.to_ascii_lowercase());
                match first.as_deref() {
                    None => self.render_running(&tree, false),
                    Some("all" | "brief") => self.render_running(&tree, false),
                    // `show running-config interface Gi1/0/1` (abbreviable to `int`).
                    Some(a) if a.len() >= 3 && "interface".starts_with(a) => {
                        let raw: Vec<&str> = args[1..].iter().map(String::as_str).collect();
                        let wanted = format!("interface {}", normalize_interface(p, &raw));
                        let block: Vec<Node> =
                            tree.iter().filter(|n| n.line == wanted).cloned().collect();
                        if block.is_empty() {
                            return Some(self.ios_invalid(line, 3, interactive));
                        }
                        self.render_running(&block, true)
                    }
                    // `show running-config hostname`, `... router bgp`: matching blocks.
                    Some(_) => {
                        let wanted = args.join(" ");
                        let blocks: Vec<Node> = tree
                            .iter()
                            .filter(|n| {
                                n.line == wanted || n.line.starts_with(&format!("{wanted} "))
                            })
                            .cloned()
                            .collect();
                        if blocks.is_empty() {
                            return Some(self.ios_invalid(line, 2, interactive));
                        }
                        self.render_running(&blocks, true)
                    }
                }
            }
            ShowStartup => self.render_startup(),
            ShowInterfaces => {
                let tree = self.dev.running();
                let filter = if args.is_empty() {
                    None
                } else {
                    Some(normalize_interface(
                        p,
                        &args.iter().map(String::as_str).collect::<Vec<_>>(),
                    ))
                };
                match content::show_interfaces(&self.dev, &tree, filter.as_deref()) {
                    Some(o) => o,
                    None => return Some(self.ios_invalid(line, 2, interactive)),
                }
            }
            ShowIntStatus => content::show_interfaces_status(&self.dev, &self.dev.running()),
            ShowIntBrief => content::nxos_show_interface_brief(&self.dev.running()),
            ShowCdpNeighbors => content::show_cdp_neighbors(&self.dev, &self.dev.running()),
            ShowLldpNeighbors => content::show_lldp_neighbors(
                &self.dev,
                &content::interfaces(&self.dev.running()),
            ),
            ShowIpIntBrief => content::show_ip_int_brief(&self.dev, &self.dev.running()),
            ShowVlan => content::show_vlan(&self.dev, &self.dev.running()),
            ShowClock => content::show_clock(p),
            ShowInventory => content::show_inventory(&self.dev),
            ShowMemoryStats => content::show_memory_statistics(),
            ShowIpRoute => content::show_ip_route(&self.dev, &self.dev.running()),
            ShowPrivilege => {
                let level = if self.mode == Mode::User { 1 } else { 15 };
                format!("Current privilege level is {level}")
            }
            ShowHostname if p == Platform::AristaEos => {
                format!("Hostname: {host}\nFQDN:     {host}.lab.example.net")
            }
            ShowHostname => host,
            ShowUsers => format!(
                "    Line       User       Host(s)              Idle       Location\n*  2 vty 0     {:<10} idle                 00:00:00 10.255.0.254",
                self.user
            ),
            ShowConfiguration => self.xr_show_candidate(),
            TermLength => match args[0].parse::<usize>() {
                Ok(n) if n <= 512 => {
                    self.page_len = n;
                    match (p, n) {
                        (Platform::AristaEos, 0) => "Pagination disabled.".into(),
                        (Platform::AristaEos, n) => format!("Pagination set to {n} lines."),
                        _ => String::new(),
                    }
                }
                _ => return Some(self.ios_invalid(line, 2, interactive)),
            },
            TermWidth => match args[0].parse::<usize>() {
                Ok(n) if n <= 32767 => {
                    self.width = n;
                    if p == Platform::AristaEos {
                        format!("Width set to {n} columns.")
                    } else {
                        String::new()
                    }
                }
                _ => return Some(self.ios_invalid(line, 2, interactive)),
            },
            TermMonitor => String::new(),
            TermNoTimestamp => {
                self.xr_timestamp = false;
                String::new()
            }
            Enable => {
                if self.mode != Mode::User {
                    return Some(String::new());
                }
                if !interactive {
                    return Some(String::new());
                }
                self.ask_enable_password();
                return None;
            }
            Disable => {
                self.mode = Mode::User;
                String::new()
            }
            ConfigureTerminal => {
                if !interactive {
                    return Some("% Configuration mode is not available on exec channels".into());
                }
                if !args.is_empty() {
                    if p != Platform::CiscoIos {
                        return Some(self.ios_invalid(line, 2, interactive));
                    }
                    return Some(self.ios_revert_timer(args, 2, line, interactive));
                }
                self.mode = Mode::Config(Vec::new());
                if p.commit_based() {
                    self.candidate = Some(self.dev.running());
                }
                match p {
                    Platform::CiscoIos | Platform::CiscoNxos => {
                        "Enter configuration commands, one per line.  End with CNTL/Z.".into()
                    }
                    _ => String::new(),
                }
            }
            ConfigureSession if args.len() > 1 => {
                let name = &args[0];
                let action = args[1].to_ascii_lowercase();
                let pending = self
                    .dev
                    .pending_revert()
                    .filter(|r| r.session.as_deref() == Some(name.as_str()));
                if args.len() > 2 {
                    return Some(self.ios_invalid(line, 4, interactive));
                }
                if action.len() >= 2 && "commit".starts_with(&action) {
                    match pending {
                        Some(_) => {
                            self.dev.confirm_revert();
                            String::new()
                        }
                        None => format!("% Session {name} has no pending commit timer"),
                    }
                } else if action.len() >= 2 && "abort".starts_with(&action) {
                    if let Some(r) = pending {
                        self.dev.expire_revert(r.id);
                    }
                    String::new()
                } else {
                    return Some(self.ios_invalid(line, 3, interactive));
                }
            }
            ConfigureSession => {
                if !interactive {
                    return Some("% Configuration mode is not available on exec channels".into());
                }
                self.mode = Mode::Config(Vec::new());
                self.candidate = Some(self.dev.running());
                self.session = Some(args[0].clone());
                String::new()
            }
            ShowSessions => {
                let mut out = vec![
                    "Maximum number of completed sessions: 1".to_string(),
                    "Maximum number of pending sessions: 5".into(),
                    String::new(),
                    "  Name             State         User       Terminal".into(),
                    "  ---------------- ------------- ---------- --------".into(),
                ];
                if let Some(name) = &self.session {
                    out.push(format!("* {name:<16} pending       {:<10} vty3", self.user));
                }
                if let Some(r) = self.dev.pending_revert() {
                    if let Some(name) = r.session {
                        out.push(format!("  {name:<16} pendingCommitTimer {:<10}", r.user));
                    }
                }
                out.join("\n")
            }
            ShowSessionConfig => {
                let cand = self.candidate.clone().unwrap_or_else(|| self.dev.running());
                if args.first().is_some_and(|a| "diffs".starts_with(a.as_str())) {
                    let name = self.session.clone().unwrap_or_default();
                    line_diff(&self.dev.running(), &cand, 3, &name)
                } else {
                    let mut body = Vec::new();
                    tree::render_indented(&cand, 3, &mut body);
                    body.join("\n")
                }
            }
            ConfigureConfirm => match self.dev.confirm_revert() {
                Some(_) => String::new(),
                None => "% No Rollback Confirmed Change pending".into(),
            },
            ConfigureRevert => {
                if args[0].len() >= 2 && "now".starts_with(&args[0].to_ascii_lowercase()) {
                    return Some(match self.dev.pending_revert() {
                        Some(r) => {
                            self.dev.expire_revert(r.id);
                            String::new()
                        }
                        None => "% No Rollback Confirmed Change pending".into(),
                    });
                }
                if !interactive {
                    return Some("% Configuration mode is not available on exec channels".into());
                }
                let all: Vec<String> = std::iter::once("revert".to_string())
                    .chain(args.iter().cloned())
                    .collect();
                return Some(self.ios_revert_timer(&all, 1, line, interactive));
            }
            ConfigureReplace => return self.ios_configure_replace(args, line, interactive),
            WriteMemory => {
                self.dev.save();
                match p {
                    Platform::AristaEos => "Copy completed successfully.".into(),
                    _ => "Building configuration...\n[OK]".into(),
                }
            }
            CopyRunStart => match p {
                Platform::CiscoIos if interactive => {
                    self.ask(Confirm::CopyRunStart, "Destination filename [startup-config]? ");
                    return None;
                }
                Platform::CiscoIos => {
                    self.dev.save();
                    "Building configuration...\n[OK]".into()
                }
                Platform::AristaEos => {
                    self.dev.save();
                    "Copy completed successfully.".into()
                }
                _ => {
                    self.dev.save();
                    "[########################################] 100%\nCopy complete, now saving to disk (please wait)...\nCopy complete.".into()
                }
            },
            Exit => {
                self.close();
                return None;
            }
            Ping => {
                let target = &args[0];
                match p {
                    Platform::CiscoIos | Platform::CiscoIosxr => format!(
                        "Type escape sequence to abort.\nSending 5, 100-byte ICMP Echos to {target}, timeout is 2 seconds:\n!!!!!\nSuccess rate is 100 percent (5/5), round-trip min/avg/max = 1/1/2 ms"
                    ),
                    _ => format!(
                        "PING {target} ({target}) 72(100) bytes of data.\n80 bytes from {target}: icmp_seq=1 ttl=64 time=0.9 ms\n\n--- {target} ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss"
                    ),
                }
            }
            Ssh => "% Connection refused by remote host".into(),
            Bash => {
                if args.iter().any(|a| a.ends_with("boot-config")) {
                    "SWI=flash:/vEOS-lab.swi\nCONSOLESPEED=9600".into()
                } else {
                    "bash: command not available in netorch-sim".into()
                }
            }
            Dir => {
                let fs = args.first().cloned().unwrap_or_else(|| "flash:".into());
                format!(
                    "Directory of {fs}/\n\n   12  -rw-        2097  Nov 25 2026 09:00:00 +00:00  vlan.dat\n   13  -rw-       45678  Nov 25 2026 09:00:00 +00:00  packages.conf\n\n11353194496 bytes total (8532901888 bytes free)"
                )
            }
        })
    }

    /// `| json` on EOS and NX-OS, for the commands automation asks for in JSON.
    fn json_pipe(&self, id: Cmd, args: &[String]) -> String {
        let host = self.dev.hostname();
        let tree = self.dev.running();
        match (self.dev.platform, id) {
            (Platform::AristaEos, ShowVersion) => json::eos_version(&self.dev),
            (Platform::AristaEos, ShowHostname) => format!(
                "{{\n    \"hostname\": \"{host}\",\n    \"fqdn\": \"{host}.lab.example.net\"\n}}"
            ),
            (Platform::AristaEos, ShowIntStatus) => json::eos_interfaces_status(&tree),
            (Platform::AristaEos, ShowIpIntBrief) => json::eos_ip_interface_brief(&tree),
            (Platform::AristaEos, ShowVlan) if args.is_empty() => json::eos_vlan(&self.dev, &tree),
            (Platform::AristaEos, _) => "% This is an unconverted command".into(),
            (_, ShowVersion) => json::nxos_version(&self.dev, &host),
            (_, ShowIntBrief) => json::nxos_interface_brief(&tree),
            (_, ShowIpIntBrief) => json::nxos_ip_interface_brief(&tree),
            (_, ShowVlan) if args.iter().all(|a| "brief".starts_with(a.as_str())) => {
                json::nxos_vlan_brief(&self.dev, &tree)
            }
            _ => "% Invalid command: JSON output is not supported for this command".into(),
        }
    }

    /// `show running-config` with the platform's header and volatile lines.
    fn render_running(&self, tree: &[Node], partial: bool) -> String {
        let p = self.dev.platform;
        let st = self.dev.state();
        let changed = crate::clock::Civil::from_system(st.changed_at);
        let by = st.changed_by.clone();
        let saved = crate::clock::Civil::from_system(st.saved_at);
        drop(st);
        let mut body = Vec::new();
        tree::render_indented(tree, p.indent(), &mut body);
        let mut out: Vec<String> = Vec::new();
        match p {
            Platform::CiscoIos => {
                let bytes: usize = body.iter().map(|l| l.len() + 1).sum();
                out.push("Building configuration...".into());
                out.push(String::new());
                out.push(format!("Current configuration : {bytes} bytes"));
                if partial {
                    out.push("!".into());
                    out.extend(body);
                    out.push("end".into());
                } else {
                    out.push("!".into());
                    out.push(format!(
                        "! Last configuration change at {} by {by}",
                        changed.ios()
                    ));
                    out.push(format!(
                        "! NVRAM config last updated at {} by {by}",
                        saved.ios()
                    ));
                    out.push("!".into());
                    out.extend(body);
                }
            }
            Platform::AristaEos => {
                out.push("! Command: show running-config".into());
                out.push(format!(
                    "! device: {} (vEOS-lab, EOS-4.28.3M)",
                    self.dev.hostname()
                ));
                out.push("!".into());
                out.push("! boot system flash:/vEOS-lab.swi".into());
                out.push("!".into());
                out.extend(body);
            }
            Platform::CiscoNxos => {
                out.push(String::new());
                out.push("!Command: show running-config".into());
                out.push(format!(
                    "!Running configuration last done at: {}",
                    changed.unix()
                ));
                out.push(format!("!Time: {}", Civil::now().unix()));
                out.push(String::new());
                out.extend(body);
            }
            _ => {
                out.push("Building configuration...".into());
                out.push("!! IOS XR Configuration 7.3.2".into());
                out.push(format!(
                    "!! Last configuration change at {} by {by}",
                    changed.unix()
                ));
                out.push("!".into());
                out.extend(body);
            }
        }
        out.join("\n")
    }

    fn render_startup(&self) -> String {
        let p = self.dev.platform;
        let tree = self.dev.startup();
        let saved = Civil::from_system(self.dev.state().saved_at);
        let mut body = Vec::new();
        tree::render_indented(&tree, p.indent(), &mut body);
        let mut out: Vec<String> = Vec::new();
        match p {
            Platform::AristaEos => {
                out.push("! Command: show startup-config".into());
                out.push(format!(
                    "! Startup-config last modified at  {} by admin",
                    saved.unix()
                ));
                out.push(format!(
                    "! device: {} (vEOS-lab, EOS-4.28.3M)",
                    self.dev.hostname()
                ));
                out.push("!".into());
            }
            Platform::CiscoNxos => {
                out.push(String::new());
                out.push("!Command: show startup-config".into());
                out.push(format!("!Startup config saved at: {}", saved.unix()));
                out.push(format!("!Time: {}", Civil::now().unix()));
                out.push(String::new());
            }
            _ => {
                let bytes: usize = body.iter().map(|l| l.len() + 1).sum();
                out.push(format!("Using {bytes} out of 2097152 bytes"));
                out.push("!".into());
                out.push(format!(
                    "! NVRAM config last updated at {} by admin",
                    saved.ios()
                ));
                out.push("!".into());
            }
        }
        out.extend(body);
        out.join("\n")
    }

    /// IOS-XR `show configuration` in config mode: the uncommitted blocks.
    fn xr_show_candidate(&self) -> String {
        let running = self.dev.running();
        let Some(cand) = &self.candidate else {
            return String::new();
        };
        let changed: Vec<Node> = cand
            .iter()
            .filter(|n| !n.is_separator() && !running.contains(n))
            .cloned()
            .collect();
        let mut body = Vec::new();
        tree::render_indented(&changed, 1, &mut body);
        let mut out = vec![
            "Building configuration...".to_string(),
            "!! IOS XR Configuration 7.3.2".into(),
        ];
        for b in body {
            out.push(b);
        }
        for n in &running {
            if !n.is_separator() && n.line != "end" && !cand.iter().any(|c| c.line == n.line) {
                out.push(format!("no {}", n.line));
            }
        }
        out.push("end".into());
        out.join("\n")
    }

    pub(crate) fn ios_confirm(&mut self, what: Confirm, answer: &str) {
        match what {
            Confirm::CopyRunStart => {
                self.dev.save();
                let _ = answer;
                self.finish("Building configuration...\n[OK]");
            }
            Confirm::XrEnd => {
                let a = answer.to_ascii_lowercase();
                if a.starts_with('y') {
                    if self.xr_commit() {
                        self.dev.confirm_revert();
                    }
                    self.mode = Mode::Priv;
                    self.candidate = None;
                } else if a.starts_with('n') {
                    self.mode = Mode::Priv;
                    self.candidate = None;
                }
                self.finish("");
            }
            Confirm::ConfigReplace => {
                let a = answer.to_ascii_lowercase();
                let pending = self.replace.take();
                let out = match pending {
                    Some((tree, timer)) if a == "y" || a == "yes" => self.ios_replace(tree, timer),
                    _ => String::new(),
                };
                self.finish(&out);
            }
            Confirm::JunosExit => self.finish(""),
        }
    }

    /// `revert timer N` after `configure terminal` (words from `first`, the index of
    /// `revert` in the line): checks the archive path, arms the revert to the current running
    /// config and enters configuration mode.
    fn ios_revert_timer(
        &mut self,
        args: &[String],
        first: usize,
        line: &str,
        interactive: bool,
    ) -> String {
        let kw = |i: usize, word: &str| {
            args.get(i)
                .is_some_and(|a| !a.is_empty() && word.starts_with(&a.to_ascii_lowercase()))
        };
        if !kw(0, "revert") {
            return self.ios_invalid(line, first, interactive);
        }
        if args.len() < 2 {
            return self.ios_incomplete(line, interactive);
        }
        if !kw(1, "timer") {
            return self.ios_invalid(line, first + 1, interactive);
        }
        let Some(n) = args.get(2) else {
            return self.ios_incomplete(line, interactive);
        };
        let minutes = match n.parse::<u64>() {
            Ok(m) if (1..=120).contains(&m) && args.len() == 3 => m,
            Ok(m) if (1..=120).contains(&m) => {
                return self.ios_invalid(line, first + 3, interactive)
            }
            _ => return self.ios_invalid(line, first + 2, interactive),
        };
        let running = self.dev.running();
        let has_path = running
            .iter()
            .any(|n| n.line == "archive" && n.children.iter().any(|c| c.line.starts_with("path ")));
        if !has_path {
            return "% Archive path not set".into();
        }
        let user = self.user.clone();
        self.dev.arm_revert(
            running,
            self.dev.settings.timer_minutes(minutes),
            None,
            &user,
        );
        self.mode = Mode::Config(Vec::new());
        "Enter configuration commands, one per line.  End with CNTL/Z.".into()
    }

    /// `configure replace flash:FILE [force] [revert trigger [error] timer N | time N]
    /// [list] [ignorecase] [nolock]`.
    fn ios_configure_replace(
        &mut self,
        args: &[String],
        line: &str,
        interactive: bool,
    ) -> Option<String> {
        let file = &args[0];
        let mut force = false;
        let mut timer = None;
        let mut i = 1;
        let word = |i: usize| args.get(i).map(|a| a.to_ascii_lowercase());
        let number = |i: usize| {
            args.get(i)
                .and_then(|a| a.parse::<u64>().ok())
                .filter(|m| (1..=120).contains(m))
        };
        while let Some(w) = word(i) {
            let is = |k: &str| !w.is_empty() && k.starts_with(w.as_str());
            if is("force") {
                force = true;
            } else if is("list") || is("ignorecase") || is("nolock") {
                // Accepted for scripts that pass them; they change nothing in the sim.
            } else if w.len() >= 2 && is("time") {
                match number(i + 1) {
                    Some(m) => timer = Some(m),
                    None => return Some(self.ios_invalid(line, i + 3, interactive)),
                }
                i += 1;
            } else if w.len() >= 2 && is("revert") {
                if !word(i + 1).is_some_and(|t| !t.is_empty() && "trigger".starts_with(&t)) {
                    return Some(self.ios_invalid(line, i + 3, interactive));
                }
                i += 2;
                if word(i).is_some_and(|t| !t.is_empty() && "error".starts_with(&t)) {
                    i += 1;
                }
                if word(i).is_some_and(|t| t.len() >= 2 && "timer".starts_with(&t)) {
                    match number(i + 1) {
                        Some(m) => timer = Some(m),
                        None => return Some(self.ios_invalid(line, i + 3, interactive)),
                    }
                    i += 1;
                } else {
                    continue;
                }
            } else {
                return Some(self.ios_invalid(line, i + 2, interactive));
            }
            i += 1;
        }
        let stored =
            crate::flash::normalize(file).and_then(|p| crate::flash::get(&self.dev.name, &p));
        let Some(stored) = stored else {
            return Some(format!("%Error opening {file} (No such file or directory)"));
        };
        let Some(bytes) = stored.content else {
            return Some(format!("%Error opening {file} (File too large)"));
        };
        let text = String::from_utf8_lossy(&bytes);
        let tree = match content::parse_config(Platform::CiscoIos, &text) {
            Ok(t) => t,
            Err(e) => return Some(format!("%Error parsing {file} ({e})")),
        };
        if force || !interactive {
            return Some(self.ios_replace(tree, timer));
        }
        self.replace = Some((tree, timer));
        self.ask(
            Confirm::ConfigReplace,
            "This will apply all necessary additions and deletions\nto replace the current running configuration with the\ncontents of the specified configuration file, which is\nassumed to be a complete configuration, not a partial\nconfiguration. Enter Y if you are sure you want to proceed. ? [no]: ",
        );
        None
    }

    /// Makes `tree` the running config (`configure replace`), with a revert timer if asked.
    fn ios_replace(&mut self, tree: Vec<Node>, timer: Option<u64>) -> String {
        let user = self.user.clone();
        let previous = self.dev.running();
        self.dev.modify_running(&user, |t| *t = tree.clone());
        self.sync_hostname(&tree);
        if let Some(minutes) = timer {
            self.dev.arm_revert(
                previous,
                self.dev.settings.timer_minutes(minutes),
                None,
                &user,
            );
        }
        "Total number of passes: 1\nRollback Done".into()
    }

    fn xr_commit(&mut self) -> bool {
        let Some(cand) = self.candidate.clone() else {
            return false;
        };
        if cand == self.dev.running() {
            return false;
        }
        self.dev.commit(&self.user, cand.clone());
        self.sync_hostname(&cand);
        true
    }

    fn sync_hostname(&self, tree: &[Node]) {
        if let Some(h) = crate::device::hostname_in(self.dev.platform, tree) {
            self.dev.state().hostname = h;
        }
    }

    fn xr_dirty(&self) -> bool {
        match &self.candidate {
            Some(c) => *c != self.dev.running(),
            None => false,
        }
    }

    /// One line in configuration mode (any depth).
    fn ios_config(&mut self, line: &str, mut path: Vec<String>) {
        let p = self.dev.platform;
        let ws = words_with_offsets(line);
        let Some(&(_, first_raw)) = ws.first() else {
            self.finish("");
            return;
        };
        let words: Vec<&str> = ws.iter().map(|(_, w)| *w).collect();
        // Keywords every level understands.
        let common: &[&str] = &["do", "end", "exit", "no", "default"];
        let depth = path.len();
        let first = if depth == 0 {
            let kws: Vec<&str> = GLOBAL_KEYWORDS
                .iter()
                .copied()
                .filter(|k| global_keyword_ok(p, k))
                .collect();
            match expand_keyword(first_raw, &kws) {
                Ok(k) => k,
                Err(true) => {
                    let o = self.ios_ambiguous(line, 0, true);
                    self.finish(&o);
                    return;
                }
                Err(false) => {
                    let o = self.ios_invalid(line, 0, true);
                    self.finish(&o);
                    return;
                }
            }
        } else {
            match expand_keyword(first_raw, common) {
                Ok(k) if first_raw.len() >= 2 || k == first_raw => k,
                _ => first_raw.to_ascii_lowercase(),
            }
        };
        // Inside a block, a line may start with a sequence number (`35 permit ...` in an
        // ACL).
        if !first
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || (depth > 0 && c.is_ascii_digit()))
        {
            let o = self.ios_invalid(line, 0, true);
            self.finish(&o);
            return;
        }
        match first.as_str() {
            "end" => {
                if p == Platform::CiscoIosxr && self.xr_dirty() {
                    self.ask(
                        Confirm::XrEnd,
                        "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:",
                    );
                    return;
                }
                self.mode = Mode::Priv;
                self.candidate = None;
                self.session = None;
                self.finish("");
                return;
            }
            "exit" => {
                if path.pop().is_some() {
                    self.mode = Mode::Config(path);
                } else {
                    if p == Platform::CiscoIosxr && self.xr_dirty() {
                        self.ask(
                            Confirm::XrEnd,
                            "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:",
                        );
                        return;
                    }
                    self.mode = Mode::Priv;
                    self.candidate = None;
                    self.session = None;
                }
                self.finish("");
                return;
            }
            "root" if p == Platform::CiscoIosxr => {
                self.mode = Mode::Config(Vec::new());
                self.finish("");
                return;
            }
            "exit-address-family" if depth > 0 => {
                path.pop();
                self.mode = Mode::Config(path);
                self.finish("");
                return;
            }
            "do" => {
                let rest = line.trim_start()[first_raw.len()..].trim();
                let saved = std::mem::replace(&mut self.mode, Mode::Priv);
                let out = self.ios_exec_line(rest, true);
                if self.mode == Mode::Priv {
                    self.mode = saved;
                }
                if let Some(o) = out {
                    self.finish(&o);
                }
                return;
            }
            "show" if p != Platform::CiscoIos => {
                let saved = std::mem::replace(&mut self.mode, Mode::Priv);
                let out = self.ios_exec_line(line, true);
                self.mode = saved;
                if let Some(o) = out {
                    self.finish(&o);
                }
                return;
            }
            "commit" if p == Platform::CiscoIosxr => {
                let confirmed = match xr_confirmed(&words[1..]) {
                    Ok(c) => c,
                    Err(i) => {
                        let o = self.ios_invalid(line, i + 1, true);
                        self.finish(&o);
                        return;
                    }
                };
                let previous = self.dev.running();
                let pending = self.dev.pending_revert().is_some();
                let out = if self.xr_commit() {
                    self.candidate = Some(self.dev.running());
                    match confirmed {
                        Some(after) => {
                            let user = self.user.clone();
                            let after = self.dev.settings.timer_seconds(after);
                            self.dev.arm_revert(previous, after, None, &user);
                        }
                        None => {
                            self.dev.confirm_revert();
                        }
                    }
                    String::new()
                } else if pending && confirmed.is_none() {
                    self.dev.confirm_revert();
                    "% Confirming commit for trial session.".into()
                } else {
                    "% No configuration changes to commit.".into()
                };
                self.finish(&out);
                return;
            }
            "abort" if p == Platform::CiscoIosxr || self.session.is_some() => {
                self.candidate = None;
                self.session = None;
                self.mode = Mode::Priv;
                self.finish("");
                return;
            }
            "commit" if self.session.is_some() => {
                let timer = match words.get(1) {
                    None => None,
                    Some(w) if !w.is_empty() && "timer".starts_with(&w.to_ascii_lowercase()) => {
                        match words.get(2).map(|t| parse_hms(t)) {
                            None => {
                                let o = self.ios_incomplete(line, true);
                                self.finish(&o);
                                return;
                            }
                            Some(Some(secs)) if words.len() == 3 => Some(secs),
                            Some(_) => {
                                let o = self.ios_invalid(line, 2, true);
                                self.finish(&o);
                                return;
                            }
                        }
                    }
                    Some(_) => {
                        let o = self.ios_invalid(line, 1, true);
                        self.finish(&o);
                        return;
                    }
                };
                let user = self.user.clone();
                let previous = self.dev.running();
                if let Some(cand) = self.candidate.take() {
                    self.dev.modify_running(&user, |t| *t = cand.clone());
                    self.sync_hostname(&cand);
                }
                let name = self.session.clone();
                match timer {
                    Some(secs) => {
                        let after = self.dev.settings.timer_seconds(secs);
                        self.dev.arm_revert(previous, after, name, &user);
                    }
                    None => {
                        // Committing the pending session again confirms it.
                        if self.dev.pending_revert().is_some_and(|r| r.session == name) {
                            self.dev.confirm_revert();
                        }
                    }
                }
                self.session = None;
                self.mode = Mode::Priv;
                self.finish("");
                return;
            }
            "rollback" if self.session.is_some() => {
                // `rollback clean-config`: start the session from an empty config.
                self.candidate = Some(Vec::new());
                self.finish("");
                return;
            }
            _ => {}
        }
        // Normalise the statement: expanded keyword, canonical interface names.
        let mut stmt_words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        stmt_words[0] = first.clone();
        let negate = first == "no" || first == "default";
        let body_start = usize::from(negate);
        if stmt_words.len() <= body_start {
            let o = self.ios_incomplete(line, true);
            self.finish(&o);
            return;
        }
        if depth == 0 && negate {
            let kws: Vec<&str> = GLOBAL_KEYWORDS
                .iter()
                .copied()
                .filter(|k| global_keyword_ok(p, k))
                .collect();
            match expand_keyword(&stmt_words[1], &kws) {
                Ok(k) => stmt_words[1] = k,
                Err(amb) => {
                    let o = if amb {
                        self.ios_ambiguous(line, 1, true)
                    } else {
                        self.ios_invalid(line, 1, true)
                    };
                    self.finish(&o);
                    return;
                }
            }
        }
        if depth == 0 && stmt_words[body_start] == "banner" {
            self.ios_banner(line, &ws, negate);
            return;
        }
        if stmt_words[body_start] == "interface" {
            if stmt_words.len() <= body_start + 1 {
                let o = self.ios_incomplete(line, true);
                self.finish(&o);
                return;
            }
            let raw: Vec<&str> = stmt_words[body_start + 1..]
                .iter()
                .map(String::as_str)
                .collect();
            let name = normalize_interface(p, &raw);
            stmt_words.truncate(body_start + 1);
            stmt_words.push(name);
        }
        let body = stmt_words[body_start..].join(" ");
        let user = self.user.clone();
        if !negate {
            if let Some(_label) = submode_label(p, depth, &body) {
                let mut new_path = path.clone();
                new_path.push(body.clone());
                self.edit_config(&user, |t| {
                    tree::children_mut_or_create(t, &new_path);
                });
                self.mode = Mode::Config(new_path);
                self.finish("");
                return;
            }
        }
        let host_change = depth == 0 && !negate && body.starts_with("hostname ");
        self.edit_config(&user, |t| {
            let siblings = tree::children_mut_or_create(t, &path);
            if negate {
                apply_no(siblings, &body);
            } else {
                apply_set(siblings, &body);
            }
        });
        if host_change && !p.commit_based() {
            if let Some(h) = body.strip_prefix("hostname ") {
                self.dev.state().hostname = h.trim().to_string();
            }
        }
        self.finish("");
    }

    /// `banner TYPE DELIM...` (EOS: `banner TYPE`, then lines up to `EOF`) and `no banner
    /// TYPE`. A banner whose delimiter does not come back on its line takes the following
    /// lines as text, with no prompt until it ends.
    fn ios_banner(&mut self, line: &str, ws: &[(usize, &str)], negate: bool) {
        let p = self.dev.platform;
        let at = usize::from(negate) + 1;
        let Some(&(off, kind_raw)) = ws.get(at) else {
            let o = self.ios_incomplete(line, true);
            self.finish(&o);
            return;
        };
        let kinds: &[&str] = match p {
            Platform::AristaEos => &["login", "motd"],
            Platform::CiscoNxos => &["exec", "motd"],
            _ => &[
                "exec",
                "incoming",
                "login",
                "motd",
                "prompt-timeout",
                "slip-ppp",
            ],
        };
        let kind = match expand_keyword(kind_raw, kinds) {
            Ok(k) => k,
            Err(true) => {
                let o = self.ios_ambiguous(line, at, true);
                self.finish(&o);
                return;
            }
            Err(false) => {
                let o = self.ios_invalid(line, at, true);
                self.finish(&o);
                return;
            }
        };
        let user = self.user.clone();
        if negate {
            self.edit_config(&user, |t| {
                tree::remove_banner(t, &kind);
            });
            self.finish("");
            return;
        }
        let after = line[off + kind_raw.len()..].trim_start();
        if p == Platform::AristaEos {
            if !after.is_empty() {
                let o = self.ios_invalid(line, at + 1, true);
                self.finish(&o);
                return;
            }
            self.emit("Enter TEXT message.  Type 'EOF' on its own line to end.\n");
            self.pending = Pending::Banner {
                kind,
                delim: None,
                text: Vec::new(),
            };
            return;
        }
        if after.is_empty() {
            let o = self.ios_incomplete(line, true);
            self.finish(&o);
            return;
        }
        let delim = if after.starts_with("^C") {
            "^C".to_string()
        } else {
            after.chars().next().map(String::from).unwrap_or_default()
        };
        let first = &after[delim.len()..];
        if let Some(i) = first.find(delim.as_str()) {
            let text = vec![first[..i].to_string()];
            self.end_banner(kind, Some(delim), text);
            return;
        }
        self.emit(&format!(
            "Enter TEXT message.  End with the character '{delim}'.\n"
        ));
        self.pending = Pending::Banner {
            kind,
            delim: Some(delim),
            text: vec![first.to_string()],
        };
    }

    /// One line of banner text (from [`Shell::feed`]): no prompt until the banner ends.
    pub(crate) fn ios_banner_line(&mut self, line: &str) {
        let Pending::Banner {
            kind,
            delim,
            mut text,
        } = std::mem::replace(&mut self.pending, Pending::None)
        else {
            return;
        };
        let end = match &delim {
            // Text before the delimiter on its line is the banner's last text.
            Some(d) => line.find(d.as_str()).map(|i| line[..i].to_string()),
            None => (line.trim() == "EOF").then(String::new),
        };
        match end {
            Some(last) => {
                if delim.is_some() {
                    text.push(last);
                }
                self.end_banner(kind, delim, text);
            }
            None => {
                text.push(line.to_string());
                self.pending = Pending::Banner { kind, delim, text };
            }
        }
    }

    /// Stores a banner as the device shows it, in place of the old one of its type.
    fn end_banner(&mut self, kind: String, delim: Option<String>, text: Vec<String>) {
        let shown = match delim {
            None => {
                let mut lines = vec![format!("banner {kind}")];
                lines.extend(text);
                lines.push("EOF".into());
                lines.join("\n")
            }
            Some(d) => {
                // IOS and IOS-XR show `^C` whatever was typed; NX-OS the typed character.
                let d = if self.dev.platform == Platform::CiscoNxos {
                    d
                } else {
                    "^C".to_string()
                };
                format!("banner {kind} {d}{}{d}", text.join("\n"))
            }
        };
        let user = self.user.clone();
        self.edit_config(&user, |t| tree::set_banner(t, &kind, &shown));
        self.finish("");
    }

    /// Applies a change to the candidate (IOS-XR) or straight to the running config.
    fn edit_config(&mut self, user: &str, change: impl FnOnce(&mut Vec<Node>)) {
        if self.dev.platform.commit_based() || self.session.is_some() {
            let mut cand = match self.candidate.take() {
                Some(c) => c,
                None => self.dev.running(),
            };
            change(&mut cand);
            self.candidate = Some(cand);
        } else {
            self.dev.modify_running(user, change);
        }
    }
}

/// EOS `commit timer HH:MM:SS` as seconds (1 s to 24 h).
fn parse_hms(text: &str) -> Option<u64> {
    let parts: Vec<u64> = text
        .split(':')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    let [h, m, s] = parts[..] else {
        return None;
    };
    let total = h.saturating_mul(3600).saturating_add(m * 60 + s);
    (m < 60 && s < 60 && (1..=86_400).contains(&total)).then_some(total)
}

/// The words after IOS-XR `commit`: nothing, or `confirmed [SECONDS]` (30..65535, default
/// 60) or `confirmed minutes N` (1..65535). Ok(Some(seconds)) for a confirmed commit; Err
/// with the index of the offending word.
fn xr_confirmed(words: &[&str]) -> Result<Option<u64>, usize> {
    let Some(first) = words.first() else {
        return Ok(None);
    };
    let is = |w: &str, k: &str| !w.is_empty() && k.starts_with(&w.to_ascii_lowercase());
    if !is(first, "confirmed") {
        return Err(0);
    }
    match words[1..] {
        [] => Ok(Some(60)),
        [n] => match n.parse::<u64>() {
            Ok(s) if (30..=65535).contains(&s) => Ok(Some(s)),
            _ => Err(1),
        },
        [m, n] if is(m, "minutes") => match n.parse::<u64>() {
            Ok(x) if (1..=65535).contains(&x) => Ok(Some(x * 60)),
            _ => Err(2),
        },
        [_, ..] if !is(words[1], "minutes") => Err(1),
        _ => Err(3),
    }
}

/// A unified-style diff of two configs (EOS `show session-config diffs`): lines only in the
/// old config with `-`, only in the new one with `+`, matched within their parent block.
pub fn line_diff(old: &[Node], new: &[Node], unit: usize, session: &str) -> String {
    fn walk(old: &[Node], new: &[Node], depth: usize, unit: usize, out: &mut Vec<String>) {
        let pad = " ".repeat(depth * unit);
        for n in new {
            match old.iter().find(|o| o.line == n.line) {
                Some(o) => {
                    let mut inner = Vec::new();
                    walk(&o.children, &n.children, depth + 1, unit, &mut inner);
                    if !inner.is_empty() {
                        out.push(format!(" {pad}{}", n.line));
                        out.extend(inner);
                    }
                }
                None if n.is_separator() => {}
                None => {
                    let mut lines = Vec::new();
                    tree::render_indented(std::slice::from_ref(n), unit, &mut lines);
                    out.extend(lines.into_iter().map(|l| format!("+{pad}{l}")));
                }
            }
        }
        for o in old {
            if !o.is_separator() && !new.iter().any(|n| n.line == o.line) {
                let mut lines = Vec::new();
                tree::render_indented(std::slice::from_ref(o), unit, &mut lines);
                out.extend(lines.into_iter().map(|l| format!("-{pad}{l}")));
            }
        }
    }
    let mut body = Vec::new();
    walk(old, new, 0, unit, &mut body);
    if body.is_empty() {
        return String::new();
    }
    let mut out = vec![
        "--- system:/running-config".to_string(),
        format!("+++ session:/{session}-session-config"),
    ];
    out.extend(body);
    out.join("\n")
}

/// `| include X`, `| exclude X`, `| begin X`, `| section X`, `| count X` (substring or
/// `^`/`$`-anchored matching). Err when the filter keyword is unknown.
pub fn apply_filter(text: &str, filter: &str) -> Result<String, String> {
    let (kw, pat) = match filter.split_once(char::is_whitespace) {
        Some((k, p)) => (k, p.trim()),
        None => (filter, ""),
    };
    let kw = expand_keyword(
        kw,
        &[
            "include", "exclude", "begin", "section", "count", "no-more", "grep", "utility",
        ],
    )
    .map_err(|_| format!("unknown filter {kw:?}"))?;
    let matches = |line: &str| -> bool {
        let (anchored_start, p) = match pat.strip_prefix('^') {
            Some(p) => (true, p),
            None => (false, pat),
        };
        let (anchored_end, p) = match p.strip_suffix('$') {
            Some(p) => (true, p),
            None => (false, p),
        };
        match (anchored_start, anchored_end) {
            (true, true) => line == p,
            (true, false) => line.starts_with(p),
            (false, true) => line.ends_with(p),
            (false, false) => line.contains(p),
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let out: Vec<&str> = match kw.as_str() {
        "include" | "grep" => lines.into_iter().filter(|l| matches(l)).collect(),
        "exclude" => lines.into_iter().filter(|l| !matches(l)).collect(),
        "begin" => lines.iter().skip_while(|l| !matches(l)).copied().collect(),
        "section" => {
            let mut keep = Vec::new();
            let mut i = 0;
            while i < lines.len() {
                let mut j = i + 1;
                while j < lines.len() && lines[j].starts_with(' ') {
                    j += 1;
                }
                if lines[i..j].iter().any(|l| matches(l)) {
                    keep.extend_from_slice(&lines[i..j]);
                }
                i = j;
            }
            keep
        }
        "count" => {
            let n = lines.iter().filter(|l| matches(l)).count();
            return Ok(format!("Number of lines which match regexp = {n}"));
        }
        // IOS-XR `| utility head -n 20` / `| utility tail -n 5`.
        "utility" => {
            let args: Vec<&str> = pat.split_whitespace().collect();
            let n = args
                .iter()
                .rev()
                .find_map(|a| a.trim_start_matches('-').parse::<usize>().ok())
                .unwrap_or(10);
            match args.first() {
                Some(&"head") => lines.into_iter().take(n).collect(),
                Some(&"tail") => {
                    let skip = lines.len().saturating_sub(n);
                    lines.into_iter().skip(skip).collect()
                }
                _ => return Err(format!("unsupported utility {pat:?}")),
            }
        }
        _ => lines,
    };
    Ok(out.join("\n"))
}
