//! Platform profiles as data: what a device's CLI looks like and how to drive it.
//!
//! A profile is YAML ([`PlatformProfileSpec`], as written) compiled into a
//! [`PlatformProfile`] (regexes built, the mode graph checked). The built-ins in
//! `platforms/*.yaml` are embedded in the binary; a `platforms/` folder beside the
//! inventory adds profiles or overrides built-ins by name ([`ProfileSet::load_dir`]).
//!
//! Rust's `regex` has no look-around, so a prompt pattern can be narrowed with
//! `prompt_excludes` (substrings that must not appear in the prompt line), as scrapli does.
//!
//! A prompt has a stable part, its *base* (`core-1`, `admin@core-1`,
//! `RP/0/RSP0/CPU0:core-1`): the channel learns it from the first prompt and from then on
//! a line is a prompt only if its base is that one ([`Mode::base_of`], [`Mode::base_fits`]),
//! as Netmiko's `set_base_prompt` does. The mode regexes can then be tolerant of real-world
//! variants without taking output lines for prompts.

use crate::backup::normalize::SecretPatterns;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;

use crate::source::{self, LoadError};

/// The built-in profiles: (name, YAML text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("cisco_ios", include_str!("platforms/cisco_ios.yaml")),
    ("cisco_nxos", include_str!("platforms/cisco_nxos.yaml")),
    ("cisco_iosxr", include_str!("platforms/cisco_iosxr.yaml")),
    ("arista_eos", include_str!("platforms/arista_eos.yaml")),
    (
        "juniper_junos",
        include_str!("platforms/juniper_junos.yaml"),
    ),
    ("linux", include_str!("platforms/linux.yaml")),
    ("generic", include_str!("platforms/generic.yaml")),
];

/// How commands reach the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Session {
    /// An interactive shell on a PTY, driven by prompts (network devices).
    Pty,
    /// One exec channel per command, with exit status (Linux and other shell hosts).
    Exec,
}

/// One mode as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSpec {
    /// Regex matched against the last line of output (ANSI codes removed).
    pub prompt: String,
    /// Substrings that disqualify a prompt line (look-around substitute).
    #[serde(default)]
    pub prompt_excludes: Vec<String>,
    /// The mode this one is entered from.
    #[serde(default)]
    pub previous: Option<String>,
    /// Command (sent in `previous`) that enters this mode.
    #[serde(default)]
    pub escalate: Option<String>,
    /// Entering asks for the enable secret (see `enable`).
    #[serde(default)]
    pub escalate_auth: bool,
    /// Command that goes back to `previous`.
    #[serde(default)]
    pub deescalate: Option<String>,
    /// The device may shorten the prompt's base in this mode (IOS abbreviates long
    /// hostnames in configuration modes): a base that is a prefix of the learned one, at
    /// least this many characters long, still counts.
    #[serde(default)]
    pub base_prefix_min: Option<usize>,
}

/// An expected prompt and the answer to send (a line; `""` = just Enter).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    pub prompt: String,
    #[serde(default)]
    pub answer: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableSpec {
    /// The secret prompt after the escalate command (e.g. `^[Pp]assword:\s*$`).
    pub password_prompt: String,
    /// Device texts that mean the secret was wrong.
    #[serde(default)]
    pub failure: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveSpec {
    pub command: String,
    #[serde(default)]
    pub expect: Vec<ExpectSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// The mode config lines are sent in.
    #[serde(default = "default_config_mode")]
    pub mode: String,
    /// Commit command for candidate-config platforms (Junos, IOS-XR); absent = changes
    /// apply line by line.
    #[serde(default)]
    pub commit: Option<String>,
    /// Throws the candidate away after a failed line (commit platforms).
    #[serde(default)]
    pub abort: Option<String>,
    /// Persists the running config (IOS `write memory`); commit platforms need none.
    #[serde(default)]
    pub save: Option<SaveSpec>,
    /// How a change is applied under the device's own revert timer and confirmed (a
    /// play's `confirm:`); absent: the platform has no revert timer.
    #[serde(default)]
    pub confirm: Option<ConfirmSpec>,
}

/// Commit-confirm: `{minutes}`, `{seconds}`, `{hms}` (HH:MM:SS) and `{session}` are
/// replaced in every command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmSpec {
    /// Enters config mode with the timer armed (IOS `configure terminal revert timer
    /// {minutes}`, EOS `configure session {session}`).
    #[serde(default)]
    pub enter: Option<String>,
    /// Commits with the timer armed (Junos `commit confirmed {minutes}`).
    #[serde(default)]
    pub commit: Option<String>,
    /// The commands that confirm, sent in `confirm_mode`.
    pub confirm: Vec<String>,
    /// The mode the confirmation is typed in.
    pub confirm_mode: String,
    /// The shortest and longest timer the device takes, in seconds.
    #[serde(default)]
    pub min_seconds: Option<u64>,
    #[serde(default)]
    pub max_seconds: Option<u64>,
}

fn yes() -> bool {
    true
}

fn default_config_mode() -> String {
    "configuration".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerSpec {
    /// Regex for the pager prompt on the last line.
    pub pattern: String,
    /// What to send to get the next page.
    #[serde(default = "default_pager_answer")]
    pub answer: String,
}

fn default_pager_answer() -> String {
    " ".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    /// Regexes of volatile lines to drop from backups.
    #[serde(default)]
    pub strip: Vec<String>,
    /// Regex the last non-blank line of a complete config matches (`^end$`, `^}$`).
    #[serde(default)]
    pub end_marker: Option<String>,
}

/// A profile as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformProfileSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_session")]
    pub session: Session,
    #[serde(default)]
    pub modes: IndexMap<String, ModeSpec>,
    /// The mode commands run in (normally `privileged`).
    #[serde(default)]
    pub default_mode: Option<String>,
    /// Commands sent once after login (paging off, width).
    #[serde(default)]
    pub on_open: Vec<String>,
    /// Send `on_open` in one write (one round trip). `false` for a device that drops
    /// input typed ahead of its prompt: one command per exchange then.
    #[serde(default = "yes")]
    pub on_open_pipelined: bool,
    /// Sent before closing.
    #[serde(default)]
    pub on_close: Vec<String>,
    #[serde(default)]
    pub enable: Option<EnableSpec>,
    #[serde(default)]
    pub config: Option<ConfigSpec>,
    /// Substrings (or `re:`-prefixed regexes) in output that mean the device rejected the
    /// command.
    #[serde(default)]
    pub failure_indicators: Vec<String>,
    /// Regexes of output lines to drop (Junos `[edit]`).
    #[serde(default)]
    pub output_strip: Vec<String>,
    #[serde(default)]
    pub pager: Option<PagerSpec>,
    #[serde(default)]
    pub show_config: Option<String>,
    #[serde(default)]
    pub backup: BackupSpec,
    /// Regexes whose capture groups (or whole match, without groups) are secrets to mask in
    /// backups, diffs and output.
    #[serde(default)]
    pub secret_patterns: Vec<String>,
    /// File checksum command; `{path}` is replaced (e.g. `verify /md5 {path}`).
    #[serde(default)]
    pub checksum: Option<String>,
    /// Regex capturing the hex digest in the checksum command's output.
    #[serde(default)]
    pub checksum_pattern: Option<String>,
    /// Free space command; `{filesystem}` is replaced.
    #[serde(default)]
    pub free_space: Option<String>,
    /// Command that removes a file without asking (`delete /force {path}`): a copy that
    /// failed verification on a target that cannot rename is removed with it.
    #[serde(default)]
    pub delete: Option<String>,
    /// How the configuration is written, for the config model (previews, remediation,
    /// compliance, rollback).
    #[serde(default)]
    pub syntax: crate::config::SyntaxSpec,
    /// Structured output: the platform's name in ntc-templates' index and how it is asked
    /// for JSON.
    #[serde(default)]
    pub parse: ParseSpec,
    /// The login dialogue over telnet and on console lines.
    #[serde(default)]
    pub login: crate::transport::telnet::LoginSpec,
}

/// The `parse:` section of a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParseSpec {
    /// The platform's name in TextFSM indexes (ntc-templates), when it is not the profile's.
    #[serde(default)]
    pub textfsm_platform: Option<String>,
    /// Appended to a command for a JSON answer (`| json`); none: the platform has no JSON.
    #[serde(default)]
    pub json_suffix: Option<String>,
}

fn default_session() -> Session {
    Session::Pty
}

/// A compiled prompt matcher for one mode.
#[derive(Debug, Clone)]
pub struct Mode {
    pub name: String,
    pub prompt: Regex,
    pub prompt_excludes: Vec<String>,
    pub previous: Option<String>,
    pub escalate: Option<String>,
    pub escalate_auth: bool,
    pub deescalate: Option<String>,
    pub base_prefix_min: Option<usize>,
    /// The prompt regex has a `base` group (checked once: captures cost more than a match).
    pub has_base_group: bool,
}

impl Mode {
    /// Does `line` (the last line of output) look like this mode's prompt?
    pub fn matches(&self, line: &str) -> bool {
        self.prompt.is_match(line) && !self.prompt_excludes.iter().any(|x| line.contains(x))
    }

    /// The base of `line`, a prompt of this mode: the regex's `base` group when it has
    /// one, else the line without its mode marker and `(...)` suffixes ([`prompt_base`]).
    pub fn base_of<'a>(&self, line: &'a str) -> &'a str {
        if self.has_base_group {
            if let Some(b) = self.prompt.captures(line).and_then(|c| c.name("base")) {
                return b.as_str();
            }
        }
        prompt_base(line)
    }

    /// Whether `seen` (a prompt's base in this mode) is the `learned` base: equal, or
    /// abbreviated where the mode allows it (`base_prefix_min`).
    pub fn base_fits(&self, seen: &str, learned: &str) -> bool {
        if seen == learned {
            return true;
        }
        match self.base_prefix_min {
            Some(min) => {
                !seen.is_empty()
                    && learned.starts_with(seen)
                    && seen.chars().count() >= min.min(learned.chars().count())
            }
            None => false,
        }
    }
}

/// The stable part of a prompt line: without the mode marker (`>`, `#`, `$`, `%`), trailing
/// spaces and `(config...)`-style suffixes.
pub fn prompt_base(prompt: &str) -> &str {
    let p = prompt.trim();
    let p = p.trim_end_matches(['>', '#', '$', '%', ' ']);
    match p.find('(') {
        Some(i) if i > 0 => &p[..i],
        _ => p,
    }
}

/// A failure indicator: a plain substring or a regex.
#[derive(Debug, Clone)]
pub enum Indicator {
    Text(String),
    Pattern(Regex),
}

impl Indicator {
    fn parse(s: &str) -> Result<Indicator, regex::Error> {
        match s.strip_prefix("re:") {
            Some(p) => Ok(Indicator::Pattern(Regex::new(p)?)),
            None => Ok(Indicator::Text(s.to_string())),
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        match self {
            Indicator::Text(t) => text.contains(t.as_str()),
            Indicator::Pattern(r) => r.is_match(text),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Indicator::Text(t) => t,
            Indicator::Pattern(r) => r.as_str(),
        }
    }
}

/// A compiled expect/answer pair.
#[derive(Debug, Clone)]
pub struct Expect {
    pub prompt: Regex,
    pub answer: String,
}

/// A compiled, validated platform profile.
#[derive(Debug, Clone)]
pub struct PlatformProfile {
    pub name: String,
    pub description: Option<String>,
    pub session: Session,
    /// In YAML order; prompt detection tries them in this order.
    pub modes: Vec<Mode>,
    pub default_mode: Option<String>,
    pub on_open: Vec<String>,
    pub on_open_pipelined: bool,
    pub on_close: Vec<String>,
    pub enable_prompt: Option<Regex>,
    pub enable_failure: Vec<String>,
    pub config: Option<ConfigSpec>,
    pub save_expect: Vec<Expect>,
    pub failure_indicators: Vec<Indicator>,
    pub output_strip: Vec<Regex>,
    pub pager: Option<(Regex, String)>,
    pub show_config: Option<String>,
    pub backup_strip: Vec<Regex>,
    pub backup_end_marker: Option<Regex>,
    pub secret_patterns: SecretPatterns,
    pub checksum: Option<String>,
    pub checksum_pattern: Option<Regex>,
    pub free_space: Option<String>,
    pub delete: Option<String>,
    pub syntax: crate::config::Syntax,
    pub parse: ParseSpec,
    pub login: crate::transport::telnet::LoginPatterns,
    /// Where it came from (`builtin` or a file path).
    pub origin: String,
}

/// Why a profile does not compile: the field (dotted path) and the problem.
#[derive(Debug, Clone)]
pub struct ProfileProblem {
    pub field: String,
    /// The offending text, used to find the line in the file.
    pub value: Option<String>,
    pub message: String,
}

impl PlatformProfile {
    /// Compile a spec.
    pub fn compile(
        spec: PlatformProfileSpec,
        origin: &str,
    ) -> Result<PlatformProfile, ProfileProblem> {
        let re = |field: &str, s: &str| -> Result<Regex, ProfileProblem> {
            Regex::new(s).map_err(|e| ProfileProblem {
                field: field.to_string(),
                value: Some(s.to_string()),
                message: format!("invalid regex: {}", first_line(&e.to_string())),
            })
        };
        let res = |field: &str, list: &[String]| -> Result<Vec<Regex>, ProfileProblem> {
            list.iter().map(|s| re(field, s)).collect()
        };
        let problem = |field: &str, value: Option<&str>, message: String| ProfileProblem {
            field: field.to_string(),
            value: value.map(str::to_string),
            message,
        };
        if spec.name.trim().is_empty() {
            return Err(problem("name", None, "the name is empty".into()));
        }
        let mut modes = Vec::new();
        for (name, m) in &spec.modes {
            let prompt = re(&format!("modes.{name}.prompt"), &m.prompt)?;
            modes.push(Mode {
                name: name.clone(),
                has_base_group: prompt.capture_names().any(|n| n == Some("base")),
                prompt,
                prompt_excludes: m.prompt_excludes.clone(),
                previous: m.previous.clone(),
                escalate: m.escalate.clone(),
                escalate_auth: m.escalate_auth,
                deescalate: m.deescalate.clone(),
                base_prefix_min: m.base_prefix_min,
            });
        }
        let names: Vec<&str> = spec.modes.keys().map(String::as_str).collect();
        let check_mode = |field: &str, m: &str| -> Result<(), ProfileProblem> {
            if names.contains(&m) {
                Ok(())
            } else {
                let hint = source::suggest(m, names.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                Err(problem(
                    field,
                    Some(m),
                    format!("unknown mode `{m}`; modes are: {}{hint}", names.join(", ")),
                ))
            }
        };
        for (name, m) in &spec.modes {
            if let Some(p) = &m.previous {
                check_mode(&format!("modes.{name}.previous"), p)?;
                if m.escalate.is_none() {
                    return Err(problem(
                        &format!("modes.{name}"),
                        Some(name),
                        format!(
                            "mode `{name}` has `previous` but no `escalate` command to enter it"
                        ),
                    ));
                }
            }
        }
        if spec.session == Session::Pty && spec.modes.is_empty() {
            return Err(problem(
                "modes",
                None,
                "a pty profile needs at least one mode".into(),
            ));
        }
        if let Some(d) = &spec.default_mode {
            check_mode("default_mode", d)?;
        }
        if let Some(c) = &spec.config {
            check_mode("config.mode", &c.mode)?;
        }
        let any_auth = spec.modes.values().any(|m| m.escalate_auth);
        if any_auth && spec.enable.is_none() {
            return Err(problem(
                "enable",
                None,
                "a mode has `escalate_auth: true` but there is no `enable` section with its password prompt".into(),
            ));
        }
        let mut failure_indicators = Vec::new();
        for f in &spec.failure_indicators {
            failure_indicators.push(Indicator::parse(f).map_err(|e| {
                problem(
                    "failure_indicators",
                    Some(f),
                    format!("invalid regex: {}", first_line(&e.to_string())),
                )
            })?);
        }
        let mut save_expect = Vec::new();
        if let Some(save) = spec.config.as_ref().and_then(|c| c.save.as_ref()) {
            for e in &save.expect {
                save_expect.push(Expect {
                    prompt: re("config.save.expect.prompt", &e.prompt)?,
                    answer: e.answer.clone(),
                });
            }
        }
        let pager = match &spec.pager {
            Some(p) => Some((re("pager.pattern", &p.pattern)?, p.answer.clone())),
            None => None,
        };
        if spec
            .checksum
            .as_deref()
            .is_some_and(|c| !c.contains("{path}"))
        {
            return Err(problem(
                "checksum",
                spec.checksum.as_deref(),
                "the command must contain `{path}`".into(),
            ));
        }
        let backup_strip = res("backup.strip", &spec.backup.strip)?;
        let syntax = crate::config::Syntax::compile(&spec.syntax, &backup_strip).map_err(|p| {
            ProfileProblem {
                field: p.field,
                value: Some(p.value),
                message: p.message,
            }
        })?;
        Ok(PlatformProfile {
            name: spec.name.clone(),
            description: spec.description.clone(),
            session: spec.session,
            default_mode: spec.default_mode.clone(),
            on_open: spec.on_open.clone(),
            on_open_pipelined: spec.on_open_pipelined,
            on_close: spec.on_close.clone(),
            enable_prompt: match &spec.enable {
                Some(e) => Some(re("enable.password_prompt", &e.password_prompt)?),
                None => None,
            },
            enable_failure: spec
                .enable
                .as_ref()
                .map(|e| e.failure.clone())
                .unwrap_or_default(),
            config: spec.config.clone(),
            save_expect,
            failure_indicators,
            output_strip: res("output_strip", &spec.output_strip)?,
            pager,
            show_config: spec.show_config.clone(),
            backup_strip,
            syntax,
            parse: spec.parse.clone(),
            login: spec.login.compile()?,
            backup_end_marker: match &spec.backup.end_marker {
                Some(m) => Some(re("backup.end_marker", m)?),
                None => None,
            },
            secret_patterns: SecretPatterns::new(res("secret_patterns", &spec.secret_patterns)?),
            checksum: spec.checksum.clone(),
            checksum_pattern: match &spec.checksum_pattern {
                Some(p) => Some(re("checksum_pattern", p)?),
                None => None,
            },
            free_space: spec.free_space.clone(),
            delete: spec.delete.clone(),
            origin: origin.to_string(),
            modes,
        })
    }

    /// The platform's name in ntc-templates' index.
    pub fn textfsm_platform(&self) -> &str {
        self.parse.textfsm_platform.as_deref().unwrap_or(&self.name)
    }

    pub fn mode(&self, name: &str) -> Option<&Mode> {
        self.modes.iter().find(|m| m.name == name)
    }

    /// The mode whose prompt `line` is, trying modes in profile order.
    pub fn mode_of_prompt(&self, line: &str) -> Option<&Mode> {
        self.modes.iter().find(|m| m.matches(line))
    }

    /// [`PlatformProfile::mode_of_prompt`] for a session whose base is known: a line
    /// that looks like a prompt but carries another base (`core-10#` for `core-1`, an
    /// output line ending in `#`) is not one.
    pub fn mode_of_prompt_at(&self, line: &str, learned: Option<&str>) -> Option<&Mode> {
        self.modes.iter().find(|m| {
            m.matches(line) && learned.is_none_or(|base| m.base_fits(m.base_of(line), base))
        })
    }

    /// The mode commands run in: `default_mode`, else `privileged` if present, else the first.
    pub fn command_mode(&self) -> Option<&str> {
        self.default_mode
            .as_deref()
            .or_else(|| self.mode("privileged").map(|m| m.name.as_str()))
            .or_else(|| self.modes.first().map(|m| m.name.as_str()))
    }

    /// The first failure indicator found in `output`, with the device line that carries it.
    pub fn failure_in(&self, output: &str) -> Option<String> {
        for ind in &self.failure_indicators {
            if ind.matches(output) {
                // Quote the device's own line(s): the indicator's line and a caret line
                // before it when the device drew one.
                let lines: Vec<&str> = output.lines().collect();
                if let Some(i) = lines.iter().position(|l| ind.matches(l)) {
                    let start = if i > 0 && lines[i - 1].trim() == "^" {
                        i - 1
                    } else {
                        i
                    };
                    return Some(
                        lines[start..=i]
                            .iter()
                            .map(|l| l.trim_end())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                }
                return Some(ind.as_str().to_string());
            }
        }
        None
    }

    /// Drop `backup.strip` lines from a config.
    pub fn strip_backup(&self, config: &str) -> String {
        let mut out = String::with_capacity(config.len());
        for l in config.lines() {
            if !self.backup_strip.iter().any(|r| r.is_match(l)) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

/// All known profiles by name: built-ins plus user overrides.
#[derive(Debug, Clone)]
pub struct ProfileSet {
    // Shared: every host of a platform uses the same compiled regexes (a clone per host
    // would cost each one its own regex pools and caches).
    profiles: IndexMap<String, Arc<PlatformProfile>>,
}

impl ProfileSet {
    /// The embedded profiles. They are tested to compile, so a failure here is a bug in the
    /// build; it is logged and that profile skipped rather than panicking.
    pub fn builtin() -> ProfileSet {
        let mut profiles = IndexMap::new();
        for (name, text) in BUILTIN {
            match parse_profile(
                Path::new(&format!("<builtin>/{name}.yaml")),
                text,
                "builtin",
            ) {
                Ok(p) => {
                    profiles.insert(p.name.clone(), Arc::new(p));
                }
                Err(e) => tracing::error!("built-in profile {name} is broken: {e}"),
            }
        }
        ProfileSet { profiles }
    }

    /// Built-ins plus every `*.yaml` / `*.yml` in `dir` (adding or overriding by `name`).
    /// A missing directory is not an error.
    pub fn load_dir(dir: &Path) -> Result<ProfileSet, LoadError> {
        let mut set = ProfileSet::builtin();
        if !dir.is_dir() {
            return Ok(set);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| LoadError::file(dir, format!("cannot list the platforms folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        let mut seen: IndexMap<String, PathBuf> = IndexMap::new();
        for f in files {
            let text = source::read_source(&f)?;
            let p = parse_profile(&f, &text, &f.display().to_string())?;
            if let Some(first) = seen.get(&p.name) {
                let msg = format!(
                    "platform `{}` is already defined in {}",
                    p.name,
                    first.display()
                );
                return Err(match find_in(&text, "name:") {
                    Some((line, col)) => LoadError::at(&f, Some(&text), line, col, msg),
                    None => LoadError::file(&f, msg),
                }
                .with_hint("each file in platforms/ defines one platform; rename or remove one"));
            }
            seen.insert(p.name.clone(), f.clone());
            set.profiles.insert(p.name.clone(), Arc::new(p));
        }
        Ok(set)
    }

    pub fn get(&self, name: &str) -> Option<&PlatformProfile> {
        self.profiles.get(name).map(Arc::as_ref)
    }

    /// The profile as a shared handle, for sessions that keep it (no copy of its regexes).
    pub fn shared(&self, name: &str) -> Option<Arc<PlatformProfile>> {
        self.profiles.get(name).cloned()
    }

    /// The profile for `host`'s platform, or an error listing the known platforms with a
    /// "did you mean".
    pub fn resolve(
        &self,
        host: &str,
        platform: &str,
    ) -> Result<Arc<PlatformProfile>, super::DeviceError> {
        self.shared(platform).ok_or_else(|| {
            let known: Vec<&str> = self.names().collect();
            super::DeviceError::UnknownPlatform {
                host: host.to_string(),
                platform: platform.to_string(),
                known: known.join(", "),
                hint: crate::source::suggest(platform, known.iter().copied()).map(str::to_string),
            }
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// Add or replace one profile.
    pub fn insert(&mut self, p: PlatformProfile) {
        self.profiles.insert(p.name.clone(), Arc::new(p));
    }
}

/// Parse and compile one profile file; errors point at the file and, where possible, line.
pub fn parse_profile(path: &Path, text: &str, origin: &str) -> Result<PlatformProfile, LoadError> {
    let spec: PlatformProfileSpec =
        source::parse_yaml(path, text, "a platform profile (name, modes, ...)")?;
    PlatformProfile::compile(spec, origin).map_err(|p| {
        let msg = format!("`{}`: {}", p.field, p.message);
        let key = p.field.rsplit('.').next().unwrap_or(&p.field).to_string();
        // Find the line: the offending value if it appears verbatim, else the key.
        let pos = p
            .value
            .as_deref()
            .and_then(|v| find_in(text, v))
            .or_else(|| find_in(text, &format!("{key}:")));
        match pos {
            Some((line, col)) => LoadError::at(path, Some(text), line, col, msg),
            None => LoadError::file(path, msg),
        }
    })
}

fn find_in(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_compile() {
        for (name, text) in BUILTIN {
            let p =
                parse_profile(Path::new(name), text, "builtin").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&p.name, name);
        }
        assert_eq!(ProfileSet::builtin().names().count(), BUILTIN.len());
    }

    /// (platform, mode, prompt line, should match).
    const PROMPTS: &[(&str, &str, &str, bool)] = &[
        ("cisco_ios", "exec", "ios-001>", true),
        ("cisco_ios", "exec", "ios-001#", false),
        ("cisco_ios", "privileged", "ios-001#", true),
        ("cisco_ios", "privileged", "sw1.ams-2#", true),
        ("cisco_ios", "privileged", "ios-001(config)#", false),
        (
            "cisco_ios",
            "privileged",
            "Destination filename [startup-config]?",
            false,
        ),
        ("cisco_ios", "configuration", "ios-001(config)#", true),
        ("cisco_ios", "configuration", "ios-001(config-if)#", true),
        (
            "cisco_ios",
            "configuration",
            "ios-001(config-router)#",
            true,
        ),
        ("cisco_ios", "configuration", "ios-001(config-line)# ", true),
        ("cisco_ios", "configuration", "ios-001#", false),
        ("cisco_ios", "configuration", "ios-001(cfg-map)#", true),
        ("cisco_nxos", "privileged", "nxos-001# ", true),
        ("cisco_nxos", "privileged", "nxos-001(config)# ", false),
        ("cisco_nxos", "configuration", "nxos-001(config-if)# ", true),
        ("cisco_nxos", "configuration", "nxos-001# ", false),
        ("cisco_iosxr", "privileged", "RP/0/RP0/CPU0:xr-001#", true),
        ("cisco_iosxr", "privileged", "RP/0/RSP0/CPU0:edge#", true),
        (
            "cisco_iosxr",
            "privileged",
            "RP/0/RP0/CPU0:xr-001(config)#",
            false,
        ),
        (
            "cisco_iosxr",
            "configuration",
            "RP/0/RP0/CPU0:xr-001(config)#",
            true,
        ),
        (
            "cisco_iosxr",
            "configuration",
            "RP/0/RP0/CPU0:xr-001(config-if)#",
            true,
        ),
        (
            "cisco_iosxr",
            "configuration",
            "RP/0/RP0/CPU0:xr-001#",
            false,
        ),
        ("arista_eos", "exec", "eos-001>", true),
        ("arista_eos", "privileged", "eos-001#", true),
        ("arista_eos", "privileged", "eos-001(config)#", false),
        ("arista_eos", "configuration", "eos-001(config)#", true),
        (
            "arista_eos",
            "configuration",
            "eos-001(config-if-Et1)#",
            true,
        ),
        (
            "arista_eos",
            "configuration",
            "eos-001(config-s-sess1)#",
            true,
        ),
        ("juniper_junos", "exec", "admin@junos-001> ", true),
        ("juniper_junos", "exec", "admin@junos-001# ", false),
        ("juniper_junos", "configuration", "admin@junos-001# ", true),
        ("juniper_junos", "configuration", "{master:0}[edit]", false),
        ("juniper_junos", "exec", "---(more 45%)---", false),
        // Real-world variants (issue 11): hostnames with dots, slashes, long names.
        ("cisco_ios", "privileged", "core-1.ams.example.net#", true),
        ("cisco_ios", "privileged", "dc1/rack-12/sw-3#", true),
        (
            "cisco_ios",
            "privileged",
            "this-is-a-very-long-hostname-for-a-core-switch#",
            true,
        ),
        ("cisco_ios", "exec", "core-1.ams.example.net>", true),
        (
            "cisco_ios",
            "configuration",
            "core-1(config-if-range)#",
            true,
        ),
        ("cisco_ios", "privileged", "core-1(config-if-range)#", false),
        (
            "cisco_ios",
            "configuration",
            "this-is-a-very-long-(config)#",
            true,
        ),
        ("cisco_ios", "configuration", "core-1(config-line)#", true),
        ("cisco_nxos", "exec", "nxos-001> ", true),
        ("cisco_nxos", "exec", "nxos-001# ", false),
        ("cisco_nxos", "privileged", "nxos-001> ", false),
        ("cisco_nxos", "privileged", "nxos-001(maint-mode)# ", true),
        ("cisco_nxos", "exec", "nxos-001(maint-mode)> ", true),
        (
            "cisco_nxos",
            "configuration",
            "nxos-001(maint-mode)# ",
            false,
        ),
        (
            "cisco_nxos",
            "configuration",
            "nxos-001(maint-mode)(config)# ",
            true,
        ),
        (
            "cisco_nxos",
            "configuration",
            "nxos-001(maint-mode)(config-if)# ",
            true,
        ),
        ("cisco_nxos", "privileged", "n9k.dc1.example.net# ", true),
        (
            "cisco_iosxr",
            "privileged",
            "RP/0/RSP0/CPU0:pe-1.ams.example.net#",
            true,
        ),
        (
            "cisco_iosxr",
            "configuration",
            "RP/0/RSP1/CPU0:edge(config-bgp-nbr)#",
            true,
        ),
        ("cisco_iosxr", "privileged", "edge#", true),
        (
            "arista_eos",
            "configuration",
            "eos-001(config-s-change1)#",
            true,
        ),
        (
            "arista_eos",
            "privileged",
            "eos-001(config-s-change1)#",
            false,
        ),
        ("arista_eos", "privileged", "leaf-1.dc1.example.net#", true),
        ("juniper_junos", "exec", "junos-001> ", true),
        ("juniper_junos", "configuration", "junos-001# ", true),
        ("juniper_junos", "exec", "junos-001# ", false),
        (
            "juniper_junos",
            "exec",
            "admin@mx-1.ams.example.net> ",
            true,
        ),
        ("juniper_junos", "exec", "{master:0}", false),
        ("juniper_junos", "exec", "{primary:node0}", false),
        (
            "juniper_junos",
            "configuration",
            "{primary:node0}[edit]",
            false,
        ),
        ("linux", "shell", "root@web1:~# ", true),
        ("linux", "shell", "user@web1:/tmp$ ", true),
        ("generic", "exec", "core-sw> ", true),
        ("generic", "exec", "fw1 % ", true),
        ("generic", "exec", "host$", true),
        ("generic", "exec", "Interface is up", false),
    ];

    #[test]
    fn prompts_per_platform() {
        let set = ProfileSet::builtin();
        for (platform, mode, line, want) in PROMPTS {
            let p = set.get(platform).unwrap();
            let m = p
                .mode(mode)
                .unwrap_or_else(|| panic!("{platform} has no mode {mode}"));
            assert_eq!(m.matches(line), *want, "{platform} {mode} {line:?}");
        }
    }

    /// (platform, prompt line, base learned from it, mode).
    const BASES: &[(&str, &str, &str, &str)] = &[
        ("cisco_ios", "core-1#", "core-1", "privileged"),
        ("cisco_ios", "core-1(config-if)#", "core-1", "configuration"),
        ("cisco_ios", "sw1.ams/2>", "sw1.ams/2", "exec"),
        ("cisco_nxos", "sw1(maint-mode)# ", "sw1", "privileged"),
        (
            "cisco_nxos",
            "sw1(maint-mode)(config)# ",
            "sw1",
            "configuration",
        ),
        ("cisco_iosxr", "RP/0/RSP0/CPU0:pe1#", "pe1", "privileged"),
        (
            "cisco_iosxr",
            "RP/0/RP1/CPU0:pe1(config)#",
            "pe1",
            "configuration",
        ),
        ("juniper_junos", "admin@mx1> ", "admin@mx1", "exec"),
        ("juniper_junos", "mx1# ", "mx1", "configuration"),
        (
            "arista_eos",
            "leaf1(config-s-s1)#",
            "leaf1",
            "configuration",
        ),
        ("generic", "fw1 % ", "fw1", "exec"),
    ];

    #[test]
    fn the_base_of_each_prompt_form() {
        let set = ProfileSet::builtin();
        for (platform, line, base, mode) in BASES {
            let p = set.get(platform).unwrap();
            let m = p.mode_of_prompt(line).unwrap_or_else(|| panic!("{line:?}"));
            assert_eq!(m.name, *mode, "{platform} {line:?}");
            assert_eq!(m.base_of(line), *base, "{platform} {line:?}");
            assert!(p.mode_of_prompt_at(line, Some(base)).is_some(), "{line:?}");
        }
    }

    /// (platform, learned base, line, the mode it is a prompt of, if any).
    const LEARNED: &[(&str, &str, &str, Option<&str>)] = &[
        (
            "cisco_ios",
            "core-1",
            "core-1(config)#",
            Some("configuration"),
        ),
        ("cisco_ios", "core-1", "core-1#", Some("privileged")),
        ("cisco_ios", "core-1", "core-10#", None),
        ("cisco_ios", "core-1", "core-1-old#", None),
        ("cisco_ios", "core-1", "core#", None),
        ("cisco_ios", "core-1", "core-1-old(config)#", None),
        (
            "cisco_ios",
            "this-is-a-very-long-hostname",
            "this-is-a-very-long-(config-if)#",
            Some("configuration"),
        ),
        (
            "cisco_ios",
            "this-is-a-very-long-hostname",
            "this-is-a#",
            None,
        ),
        (
            "cisco_ios",
            "this-is-a-very-long-hostname",
            "this-is-a(config)#",
            None,
        ),
        ("generic", "fw1", "fw1 CPU at 50%", None),
        ("generic", "fw1", "fw1 % ", Some("exec")),
        (
            "cisco_iosxr",
            "pe1",
            "RP/0/RSP1/CPU0:pe1#",
            Some("privileged"),
        ),
        ("cisco_iosxr", "pe1", "RP/0/RSP1/CPU0:pe10#", None),
        (
            "juniper_junos",
            "admin@mx1",
            "admin@mx1# ",
            Some("configuration"),
        ),
        ("juniper_junos", "admin@mx1", "mx1# ", None),
    ];

    #[test]
    fn a_learned_base_makes_prompts_precise() {
        let set = ProfileSet::builtin();
        for (platform, base, line, want) in LEARNED {
            let p = set.get(platform).unwrap();
            let got = p
                .mode_of_prompt_at(line, Some(base))
                .map(|m| m.name.as_str());
            assert_eq!(got, *want, "{platform} learned {base:?}, line {line:?}");
        }
    }

    #[test]
    fn junos_cluster_lines_are_not_output() {
        let set = ProfileSet::builtin();
        let junos = set.get("juniper_junos").unwrap();
        for l in [
            "{master:0}",
            "{master}",
            "{primary:node0}",
            "{secondary:node1}[edit]",
        ] {
            assert!(junos.output_strip.iter().any(|r| r.is_match(l)), "{l}");
        }
    }

    #[test]
    fn mode_of_prompt_picks_the_right_mode() {
        let set = ProfileSet::builtin();
        let ios = set.get("cisco_ios").unwrap();
        assert_eq!(
            ios.mode_of_prompt("r1(config-if)#").unwrap().name,
            "configuration"
        );
        assert_eq!(ios.mode_of_prompt("r1#").unwrap().name, "privileged");
        assert_eq!(ios.mode_of_prompt("r1>").unwrap().name, "exec");
        assert!(ios.mode_of_prompt("Password: ").is_none());
        let junos = set.get("juniper_junos").unwrap();
        assert_eq!(
            junos.mode_of_prompt("admin@j1# ").unwrap().name,
            "configuration"
        );
    }

    #[test]
    fn failure_indicators_quote_the_device() {
        let set = ProfileSet::builtin();
        let ios = set.get("cisco_ios").unwrap();
        let out = "show verzion\n          ^\n% Invalid input detected at '^' marker.\n";
        let f = ios.failure_in(out).unwrap();
        assert!(f.contains("% Invalid input detected"), "{f}");
        assert!(f.starts_with('^') || f.trim_start().starts_with('^'), "{f}");
        assert!(ios.failure_in("Cisco IOS Software, Version 15.2").is_none());
        let junos = set.get("juniper_junos").unwrap();
        assert!(junos
            .failure_in("error: commit failed: (statements constraint check failed)")
            .is_some());
        assert!(junos
            .failure_in("set foo\n                  ^\nsyntax error.")
            .is_some());
    }

    #[test]
    fn backup_strip_and_end_marker() {
        let set = ProfileSet::builtin();
        let ios = set.get("cisco_ios").unwrap();
        let cfg = "Building configuration...\n\n! Last configuration change at 10:00:00 UTC\nhostname r1\nntp clock-period 17179\nend\n";
        let s = ios.strip_backup(cfg);
        assert!(!s.contains("Last configuration change") && !s.contains("clock-period"));
        assert!(s.contains("hostname r1"));
        assert!(ios.backup_end_marker.as_ref().unwrap().is_match("end"));
        assert_eq!(ios.checksum.as_deref(), Some("verify /md5 {path}"));
    }

    #[test]
    fn the_documented_example_compiles_and_works() {
        let doc = include_str!("platforms/README.md");
        let yaml = doc
            .split("```yaml\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .unwrap();
        let p =
            parse_profile(Path::new("README.md"), yaml, "doc").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.name, "cisco_asa");
        assert_eq!(p.mode_of_prompt("fw1>").unwrap().name, "exec");
        assert!(p.mode_of_prompt("<--- More --->").is_none());
        assert_eq!(
            p.mode_of_prompt("fw1(config)#").unwrap().name,
            "configuration"
        );
        assert!(p
            .failure_in("ERROR: % Invalid input detected at '^' marker.")
            .is_some());
        assert_eq!(p.save_expect.len(), 1);
    }

    #[test]
    fn user_dir_overrides_and_adds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cisco_ios.yaml"),
            "name: cisco_ios\nmodes:\n  privileged:\n    prompt: '^X#$'\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("acme.yml"),
            "name: acme_os\nmodes:\n  exec:\n    prompt: '^acme> $'\non_open: [no pager]\n",
        )
        .unwrap();
        let set = ProfileSet::load_dir(dir.path()).unwrap();
        assert_eq!(set.get("cisco_ios").unwrap().modes.len(), 1);
        assert!(set
            .get("acme_os")
            .unwrap()
            .mode("exec")
            .unwrap()
            .matches("acme> "));
        assert!(set.get("arista_eos").is_some());
        assert!(ProfileSet::load_dir(&dir.path().join("missing")).is_ok());

        std::fs::write(
            dir.path().join("zz_acme_again.yaml"),
            "# again\nname: acme_os\nmodes:\n  exec:\n    prompt: '^acme> $'\n",
        )
        .unwrap();
        let e = ProfileSet::load_dir(dir.path()).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            e.message.contains("already defined in") && e.message.contains("acme.yml"),
            "{e}"
        );
    }

    #[test]
    fn malformed_profiles_point_at_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.yaml");
        std::fs::write(
            &f,
            "name: bad\nmodes:\n  exec:\n    prompt: '^x>$'\n    escalat: enable\n",
        )
        .unwrap();
        let e = ProfileSet::load_dir(dir.path()).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.to_string().contains("escalat"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `escalate`?"));

        std::fs::write(&f, "name: bad\nmodes:\n  exec:\n    prompt: '^x>$'\n  cfg:\n    prompt: '^(x#$'\n    previous: exec\n    escalate: conf\n").unwrap();
        let e = ProfileSet::load_dir(dir.path()).unwrap_err();
        assert_eq!(e.line, Some(6), "{e}");
        assert!(
            e.message.contains("modes.cfg.prompt") && e.message.contains("regex"),
            "{e}"
        );

        std::fs::write(&f, "name: bad\nmodes:\n  exec:\n    prompt: '^x>$'\n  cfg:\n    prompt: '^x#$'\n    previous: exc\n    escalate: conf\n").unwrap();
        let e = ProfileSet::load_dir(dir.path()).unwrap_err();
        assert_eq!(e.line, Some(7), "{e}");
        assert!(e.message.contains("did you mean `exec`"), "{e}");
    }
}

/// What each built-in platform stores that is secret, line kind by line kind, and how a
/// backup or a diff shows it (`¤` stands for the mask).
#[cfg(test)]
mod secret_tests {
    use super::ProfileSet;
    use crate::backup::normalize::mask_line;

    const M: &str = crate::secret::MASK;

    fn check(platform: &str, table: &[(&str, &str)]) {
        let set = ProfileSet::builtin();
        let Some(p) = set.get(platform) else {
            panic!("no built-in profile {platform}");
        };
        let mut wrong = Vec::new();
        for (line, want) in table {
            let want = want.replace('¤', M);
            let got = mask_line(line, &p.secret_patterns);
            if got != want {
                wrong.push(format!("  {line}\n    got:  {got}\n    want: {want}"));
            }
        }
        assert!(wrong.is_empty(), "{platform}:\n{}", wrong.join("\n"));
    }

    #[test]
    fn cisco_ios() {
        check(
            "cisco_ios",
            &[
                (
                    "enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0",
                    "enable secret 9 ¤",
                ),
                ("enable password 7 0822455D0A16", "enable password 7 ¤"),
                (
                    "enable secret level 5 5 $1$abc$def",
                    "enable secret level 5 5 ¤",
                ),
                (
                    "username admin privilege 15 secret 9 $9$xyz",
                    "username admin privilege 15 secret 9 ¤",
                ),
                (
                    "username bob password 0 Pl4inText",
                    "username bob password 0 ¤",
                ),
                (
                    "snmp-server community Publ1cC0mm RO 10",
                    "snmp-server community ¤ RO 10",
                ),
                (
                    "snmp-server host 10.0.0.9 version 2c TrapC0mm",
                    "snmp-server host 10.0.0.9 version 2c ¤",
                ),
                (
                    "snmp-server user mon v3grp v3 auth sha AuthK3y priv aes 128 PrivK3y",
                    "snmp-server user mon v3grp v3 auth sha ¤ priv aes 128 ¤",
                ),
                (
                    " ip ospf message-digest-key 1 md5 7 0822455D0A16",
                    " ip ospf message-digest-key 1 md5 7 ¤",
                ),
                (
                    " ip ospf authentication-key 7 1234ABCD",
                    " ip ospf authentication-key 7 ¤",
                ),
                (
                    " neighbor 10.0.0.2 password 7 BgpK3y99",
                    " neighbor 10.0.0.2 password 7 ¤",
                ),
                (
                    "ntp authentication-key 1 md5 NtpK3y 7",
                    "ntp authentication-key 1 md5 ¤ 7",
                ),
                (
                    "crypto isakmp key IkeK3y address 192.0.2.1",
                    "crypto isakmp key ¤ address 192.0.2.1",
                ),
                (
                    "tacacs-server host 10.1.1.1 key 7 TacK3y",
                    "tacacs-server host 10.1.1.1 key 7 ¤",
                ),
                ("tacacs-server key TacK3y2", "tacacs-server key ¤"),
                ("radius-server key 7 RadK3y", "radius-server key 7 ¤"),
                (" key 7 TacServerK3y", " key 7 ¤"),
                (" key-string 7 070C285F4D06", " key-string 7 ¤"),
                (" key-string Cha1nK3y", " key-string ¤"),
                (" password 7 LineP4ss", " password 7 ¤"),
                // Not secrets: left alone.
                ("key chain OSPF-KEYS", "key chain OSPF-KEYS"),
                (" key 1", " key 1"),
                ("hostname r1", "hostname r1"),
                (
                    "interface GigabitEthernet1/0/1",
                    "interface GigabitEthernet1/0/1",
                ),
            ],
        );
    }

    #[test]
    fn cisco_iosxr() {
        check(
            "cisco_iosxr",
            &[
                (" secret 10 $6$abc$def", " secret 10 ¤"),
                (" password encrypted 13061E010803", " password encrypted ¤"),
                ("snmp-server community Publ1c RO", "snmp-server community ¤ RO"),
                (
                    "snmp-server user mon grp v3 auth sha encrypted AuthK priv aes 128 encrypted PrivK",
                    "snmp-server user mon grp v3 auth sha encrypted ¤ priv aes 128 encrypted ¤",
                ),
                ("  message-digest-key 1 md5 encrypted 0822455D0A16", "  message-digest-key 1 md5 encrypted ¤"),
                ("ntp authentication-key 1 md5 encrypted NtpK", "ntp authentication-key 1 md5 encrypted ¤"),
                ("  key-string password encrypted 0822455D", "  key-string password encrypted ¤"),
                (" key 7 TacK3y", " key 7 ¤"),
                ("hostname xr1", "hostname xr1"),
            ],
        );
    }

    #[test]
    fn juniper_junos() {
        check(
            "juniper_junos",
            &[
                (
                    "        encrypted-password \"$6$salt$hashhash\"; ## SECRET-DATA",
                    "        encrypted-password \"¤\"; ## SECRET-DATA",
                ),
                (
                    "    secret \"$9$dkmfQ3nCtOB\"; ## SECRET-DATA",
                    "    secret \"¤\"; ## SECRET-DATA",
                ),
                (
                    "    authentication-key \"$9$abc\";",
                    "    authentication-key \"¤\";",
                ),
                ("  authentication-key PlainK3y;", "  authentication-key ¤;"),
                ("    community Publ1c {", "    community ¤ {"),
                (
                    "set snmp community Publ1c authorization read-only",
                    "set snmp community ¤ authorization read-only",
                ),
                (
                    "set system root-authentication encrypted-password \"$1$abc$def\"",
                    "set system root-authentication encrypted-password \"¤\"",
                ),
                ("    privacy-key \"$9$pk\";", "    privacy-key \"¤\";"),
                (
                    "    pre-shared-key ascii-text \"$9$ike\";",
                    "    pre-shared-key ascii-text \"¤\";",
                ),
                (
                    "    description \"uses $9$abcd\";",
                    "    description \"uses ¤\";",
                ),
                ("    host-name vmx1;", "    host-name vmx1;"),
            ],
        );
    }

    #[test]
    fn arista_eos() {
        check(
            "arista_eos",
            &[
                (
                    "enable password sha512 $6$abc$def",
                    "enable password sha512 ¤",
                ),
                (
                    "aaa root secret sha512 $6$root$hash",
                    "aaa root secret sha512 ¤",
                ),
                (
                    "username admin privilege 15 role network-admin secret sha512 $6$u$h",
                    "username admin privilege 15 role network-admin secret sha512 ¤",
                ),
                (
                    "snmp-server community Publ1c ro",
                    "snmp-server community ¤ ro",
                ),
                (
                    "snmp-server user mon grp v3 localized 0000 auth sha AuthK priv aes PrivK",
                    "snmp-server user mon grp v3 localized 0000 auth sha ¤ priv aes ¤",
                ),
                (
                    "   neighbor 10.0.0.2 password 7 BgpK3y==",
                    "   neighbor 10.0.0.2 password 7 ¤",
                ),
                (
                    "   ip ospf message-digest-key 1 md5 7 OspfK",
                    "   ip ospf message-digest-key 1 md5 7 ¤",
                ),
                (
                    "ntp authentication-key 1 md5 7 NtpK",
                    "ntp authentication-key 1 md5 7 ¤",
                ),
                (
                    "tacacs-server host 10.1.1.1 key 7 TacK",
                    "tacacs-server host 10.1.1.1 key 7 ¤",
                ),
                ("radius-server key 7 RadK", "radius-server key 7 ¤"),
                ("hostname eos1", "hostname eos1"),
            ],
        );
    }

    #[test]
    fn cisco_nxos() {
        check(
            "cisco_nxos",
            &[
                ("username admin password 5 $5$abc$def role network-admin", "username admin password 5 ¤ role network-admin"),
                (
                    "snmp-server user admin network-admin auth md5 0xAuthK priv 0xPrivK localizedkey",
                    "snmp-server user admin network-admin auth md5 ¤ priv ¤ localizedkey",
                ),
                ("snmp-server community Publ1c group network-operator", "snmp-server community ¤ group network-operator"),
                ("    ip ospf message-digest-key 1 md5 3 OspfK", "    ip ospf message-digest-key 1 md5 3 ¤"),
                ("    password 3 BgpK3y", "    password 3 ¤"),
                ("ntp authentication-key 1 md5 NtpK 7", "ntp authentication-key 1 md5 ¤ 7"),
                ("tacacs-server host 10.1.1.1 key 7 \"TacK\"", "tacacs-server host 10.1.1.1 key 7 \"¤\""),
                ("  key-string 7 070C285F", "  key-string 7 ¤"),
                ("hostname nx1", "hostname nx1"),
            ],
        );
    }
}
