//! `config`: push configuration. Exactly one source: `lines` (with optional `parents`),
//! `template` (rendered per host) or `src` (a file of lines); then `save` and
//! `diff_against`. A bare string or list is shorthand for `lines`.
//!
//! Only the lines not yet in the running config are sent (line match under the same
//! parents, as Ansible's `match: line`), so a second run sends nothing. Lines sent and all
//! accepted are `changed` (as Ansible's `ios_config` reports), without reading the config
//! again: that read costs a round trip and a full config transfer per host. With `--diff`
//! the config is read after the push, the diff shows what the device really holds, and
//! `changed` comes from before vs after (volatile lines ignored), so a line the device
//! stores in another form, or that changes nothing, shows as ok. In check mode nothing is
//! sent and the result lists the pending lines; `--diff` shows a unified diff of the
//! running config (predicted in check mode).

use std::fmt;
use std::time::Duration;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::config_ansible::{BackupOptions, MatchMode, ReplaceMode};
use super::config_lines::{candidate_paths, paths_in, pending, render, unified_diff};
use super::{device_failure, ActionArgs, ActionCtx, Env, Probe};
use crate::config::{remediate, render_commands, Command, Scope, Tree};
use crate::device::profile::PlatformProfile;
use crate::device::Connection;
use crate::playbook::values::{self, describe, parse_bool, STRINGS};
use crate::report::{CommandOutput, Status, TaskResult};

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigArgs {
    pub source: ConfigSource,
    pub save: SaveWhen,
    pub diff_against: Option<DiffAgainst>,
    pub mode: ConfigMode,
    /// `mode: replace`: top-level sections (glob patterns) to converge; empty = all.
    pub scope: Vec<String>,
    /// `mode: replace`: statements (regexes) left alone on both sides.
    pub ignore: Vec<String>,
    /// Ansible's `*_config` arguments beyond the lines.
    pub ansible: AnsibleArgs,
}

/// Ansible's `backup`, `match`, `replace`, `before`/`after`, `intended_config`,
/// `running_config` and `diff_ignore_lines` (templated strings kept as written).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnsibleArgs {
    pub backup: Option<BackupOptions>,
    pub match_mode: MatchMode,
    pub replace: ReplaceMode,
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub intended_config: Option<String>,
    pub running_config: Option<String>,
    pub diff_ignore_lines: Vec<String>,
    /// `save_when` was written (Ansible's meaning: `always` saves even when nothing was
    /// sent); netorch's own `save: true` saves only after a change is sent.
    pub save_when: bool,
    /// Arguments accepted (so that the playbook runs) that netorch does not act on, by
    /// name: every result says so.
    pub not_honoured: Vec<String>,
}

/// How the wanted lines meet the running config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigMode {
    /// Send the lines the running config lacks; remove nothing.
    #[default]
    Merge,
    /// The lines are the intended config (within `scope`): remove what is not in it too.
    Replace,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Lines entered under `parents` (e.g. `interface Gi0/1`), in order.
    Lines {
        lines: Vec<String>,
        parents: Vec<String>,
    },
    /// A template name, looked up by [`crate::playbook::Playbook::resolve_template`].
    Template(String),
    /// A file of configuration lines, found by [`crate::playbook::Playbook::resolve_src`].
    Src(String),
}

/// When to save the running configuration to startup after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveWhen {
    #[default]
    Never,
    Always,
    /// Only when this task changed something.
    WhenChanged,
    /// When the running config differs from the startup config afterwards (Ansible's
    /// `save_when: modified`), whoever changed it.
    Modified,
}

/// What the diff compares the new configuration with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffAgainst {
    Running,
    Startup,
    /// `intended_config`, the config the device should have.
    Intended,
}

fn save_when<'de, D: Deserializer<'de>>(d: D) -> Result<SaveWhen, D::Error> {
    struct V;
    const WHAT: &str =
        "true, false or when_changed (or save_when's always, never, modified, changed)";
    impl Visitor<'_> for V {
        type Value = SaveWhen;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<SaveWhen, E> {
            Ok(if v { SaveWhen::Always } else { SaveWhen::Never })
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<SaveWhen, E> {
            match v {
                "always" => Ok(SaveWhen::Always),
                "never" => Ok(SaveWhen::Never),
                "when_changed" | "changed" => Ok(SaveWhen::WhenChanged),
                "modified" => Ok(SaveWhen::Modified),
                other => match parse_bool(other) {
                    Some(b) => self.visit_bool(b),
                    None => Err(E::custom(format!(
                        "expected {WHAT}, found {}",
                        describe(de::Unexpected::Str(v))
                    ))),
                },
            }
        }
    }
    d.deserialize_any(V)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "opt_strings")]
    lines: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    parents: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    template: Option<String>,
    /// `mode: replace` reads better with `intended: file.j2`; the same as `template`.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    intended: Option<String>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    mode: Option<ConfigMode>,
    #[serde(default, deserialize_with = "opt_strings")]
    scope: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    ignore: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    src: Option<String>,
    #[serde(default, deserialize_with = "opt_save_when")]
    save: Option<SaveWhen>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    diff_against: Option<DiffAgainst>,
    // Ansible's `*_config` arguments.
    #[serde(default, deserialize_with = "opt_save_when")]
    save_when: Option<SaveWhen>,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    backup: Option<bool>,
    #[serde(default)]
    backup_options: Option<BackupOptions>,
    #[serde(default, rename = "match", deserialize_with = "values::opt_keyword")]
    match_: Option<MatchMode>,
    #[serde(default, deserialize_with = "opt_replace")]
    replace: Option<ReplaceMode>,
    #[serde(default, deserialize_with = "opt_strings")]
    before: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    after: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    intended_config: Option<String>,
    #[serde(
        default,
        alias = "config",
        deserialize_with = "values::opt_scalar_string"
    )]
    running_config: Option<String>,
    #[serde(default, deserialize_with = "opt_strings")]
    diff_ignore_lines: Option<Vec<String>>,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    defaults: Option<bool>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    multiline_delimiter: Option<String>,
    /// junos_config's commit comment.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    comment: Option<String>,
    /// junos_config's commit confirmed: a play's `confirm:` here.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    confirm: Option<String>,
}

fn opt_save_when<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SaveWhen>, D::Error> {
    save_when(d).map(Some)
}

/// Ansible's `replace`: `line` or `block`; `config` (NX-OS, IOS-XR: replace the whole
/// config) is netorch's `mode: replace`.
fn opt_replace<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ReplaceMode>, D::Error> {
    let v: String = values::scalar_string(d)?;
    match v.as_str() {
        "line" => Ok(Some(ReplaceMode::Line)),
        "block" => Ok(Some(ReplaceMode::Block)),
        "config" => Err(de::Error::custom(
            "`replace: config` is netorch's `mode: replace` (with `src`, `template` or `lines` holding the whole intended config)",
        )),
        other => Err(de::Error::custom(format!(
            "replace: expected `line` or `block`, found `{other}`"
        ))),
    }
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

/// Ansible's arguments, checked; `needs_source`: whether the task must have lines (it need
/// not when it only backs up, saves or diffs, as `ios_config: {backup: yes}` does).
fn ansible_args(s: &mut Spec) -> Result<(AnsibleArgs, bool), String> {
    let mut a = AnsibleArgs::default();
    if s.backup_options.is_some() && s.backup != Some(true) {
        return Err(
            "config `backup_options` without `backup: yes`: nothing would be backed up".into(),
        );
    }
    if s.backup == Some(true) {
        a.backup = Some(s.backup_options.take().unwrap_or_default());
    }
    a.match_mode = s.match_.unwrap_or_default();
    a.replace = s.replace.unwrap_or_default();
    a.before = s.before.take().unwrap_or_default();
    a.after = s.after.take().unwrap_or_default();
    a.intended_config = s.intended_config.take();
    a.running_config = s.running_config.take();
    a.diff_ignore_lines = s.diff_ignore_lines.take().unwrap_or_default();
    for re in &a.diff_ignore_lines {
        // Python's `re` as Ansible applies it: look-around included.
        fancy_regex::Regex::new(re).map_err(|e| {
            format!("diff_ignore_lines `{re}` is not a valid regular expression: {e}")
        })?;
    }
    if s.diff_against == Some(DiffAgainst::Intended) && a.intended_config.is_none() {
        return Err("config `diff_against: intended` needs `intended_config` (the config the device should have)".into());
    }
    if s.defaults == Some(true) {
        a.not_honoured.push("defaults".into());
    }
    if s.multiline_delimiter.as_deref().is_some_and(|d| d != "@") {
        a.not_honoured.push("multiline_delimiter".into());
    }
    if s.comment.is_some() {
        a.not_honoured.push("comment".into());
    }
    if s.confirm.as_deref().is_some_and(|c| c.trim() != "0") {
        return Err("junos_config `confirm` (commit confirmed) is netorch's play keyword `confirm: {timeout: 5m, after: [checks]}`: the change is confirmed after the checks".into());
    }
    if s.save.is_some() && s.save_when.is_some() {
        return Err("config takes `save` or `save_when`, not both (they are the same)".into());
    }
    let only_extras = s.backup == Some(true) || s.save_when.is_some() || s.diff_against.is_some();
    if s.save.is_none() {
        a.save_when = s.save_when.is_some();
        s.save = s.save_when;
    }
    Ok((a, !only_extras))
}

fn check(mut s: Spec) -> Result<ConfigArgs, String> {
    let (ansible, needs_source) = ansible_args(&mut s)?;
    if let Some(i) = s.intended.take() {
        if s.template.is_some() {
            return Err(
                "config takes `intended` or `template`, not both (they are the same)".into(),
            );
        }
        s.template = Some(i);
    }
    let mode = s.mode.unwrap_or_default();
    if mode == ConfigMode::Merge && (s.scope.is_some() || s.ignore.is_some()) {
        return Err("config `scope` and `ignore` only go with `mode: replace`".into());
    }
    let scope = s.scope.take().unwrap_or_default();
    let ignore = s.ignore.take().unwrap_or_default();
    // Caught here, with the task's line, rather than on every host.
    crate::config::Scope::new(&scope, &ignore)?;
    let given: Vec<&str> = [
        s.lines.as_ref().map(|_| "lines"),
        s.template.as_ref().map(|_| "template"),
        s.src.as_ref().map(|_| "src"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let has_parents = s.parents.is_some();
    let source = match (s.lines, s.template, s.src) {
        (Some(lines), None, None) => {
            if lines.is_empty() {
                return Err("config `lines` is empty; expected at least one line".into());
            }
            ConfigSource::Lines {
                lines,
                parents: s.parents.unwrap_or_default(),
            }
        }
        (None, Some(t), None) => ConfigSource::Template(t),
        (None, None, Some(src)) => ConfigSource::Src(src),
        (None, None, None) if !needs_source => ConfigSource::Lines {
            lines: Vec::new(),
            parents: s.parents.take().unwrap_or_default(),
        },
        (None, None, None) => {
            return Err(
                "config needs one of `lines`, `template` or `src`; found none of them".into(),
            )
        }
        _ => {
            return Err(format!(
                "config takes exactly one of `lines`, `template` or `src`; found {}",
                given
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))
        }
    };
    if has_parents && !matches!(source, ConfigSource::Lines { .. }) {
        return Err("config `parents` only goes with `lines`".into());
    }
    if mode == ConfigMode::Replace {
        if let ConfigSource::Lines { parents, .. } = &source {
            if !parents.is_empty() {
                return Err("`mode: replace` takes the whole intended config (`template`, `intended`, `src` or `lines`), not `parents`; use `scope` to limit it to sections".into());
            }
        }
    }
    Ok(ConfigArgs {
        source,
        save: s.save.unwrap_or_default(),
        diff_against: s.diff_against,
        mode,
        scope,
        ignore,
        ansible,
    })
}

const EXPECTED: &str =
    "config lines, or a mapping with `lines`, `template` (or `intended`) or `src`";

struct ConfigVisitor;

impl<'de> Visitor<'de> for ConfigVisitor {
    type Value = ConfigArgs;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConfigArgs, A::Error> {
        let spec = Spec::deserialize(MapAccessDeserializer::new(map))?;
        check(spec).map_err(de::Error::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ConfigArgs, E> {
        lines(vec![v.to_string()])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ConfigArgs, A::Error> {
        lines(STRINGS.visit_seq(seq)?)
    }
    fn visit_unit<E: de::Error>(self) -> Result<ConfigArgs, E> {
        Err(E::custom(format!("expected {EXPECTED}, found nothing")))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Bool(v))
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Unsigned(v))
        )))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Signed(v))
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ConfigArgs, E> {
        Err(E::custom(format!(
            "expected {EXPECTED}, found {}",
            describe(de::Unexpected::Float(v))
        )))
    }
}

fn lines<E: de::Error>(lines: Vec<String>) -> Result<ConfigArgs, E> {
    check(Spec {
        lines: Some(lines),
        parents: None,
        template: None,
        intended: None,
        mode: None,
        scope: None,
        ignore: None,
        src: None,
        save: None,
        diff_against: None,
        save_when: None,
        backup: None,
        backup_options: None,
        match_: None,
        replace: None,
        before: None,
        after: None,
        intended_config: None,
        running_config: None,
        diff_ignore_lines: None,
        defaults: None,
        multiline_delimiter: None,
        comment: None,
        confirm: None,
    })
    .map_err(E::custom)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ConfigArgs, D::Error> {
    d.deserialize_any(ConfigVisitor)
}

/// Finds the file a `src:` names, relative to the playbook.
type ResolveSrc<'a> = &'a dyn Fn(&str) -> Option<std::path::PathBuf>;

/// What a config task uses of its [`Env`] besides the connection.
struct RunEnv<'e, 'a> {
    ctx: &'e ActionCtx<'a>,
    resolve_src: ResolveSrc<'e>,
    rollback: Option<&'e crate::config::record::Recorder>,
    confirm: Option<Duration>,
    playbook_dir: &'e std::path::Path,
}

/// A change under the device's revert timer: how to enter and commit, and how to confirm.
struct ConfirmPlan {
    enter: Option<String>,
    commit: Option<String>,
    confirm: Vec<String>,
    mode: String,
}

/// The profile's commit-confirm commands for a timer of `d`, or why there are none.
fn confirm_plan(profile: &PlatformProfile, d: Duration) -> Result<ConfirmPlan, String> {
    static SESSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let Some(spec) = profile.config.as_ref().and_then(|c| c.confirm.as_ref()) else {
        return Err(format!(
            "{} has no revert timer (no `config.confirm` in its profile): the play's `confirm:` \
             cannot protect this change, so nothing was sent",
            profile.name
        ));
    };
    let secs = d.as_secs().max(1);
    let (min, max) = (
        spec.min_seconds.unwrap_or(1),
        spec.max_seconds.unwrap_or(u64::MAX),
    );
    if secs < min || secs > max {
        return Err(format!(
            "confirm timeout {secs}s is outside what {} takes ({min}s to {max}s); nothing was sent",
            profile.name
        ));
    }
    let session = format!(
        "netorch-{}-{}",
        std::process::id(),
        SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let fill = |c: &str| {
        c.replace("{minutes}", &secs.div_ceil(60).to_string())
            .replace("{seconds}", &secs.to_string())
            .replace(
                "{hms}",
                &format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
            )
            .replace("{session}", &session)
    };
    Ok(ConfirmPlan {
        enter: spec.enter.as_deref().map(fill),
        commit: spec.commit.as_deref().map(fill),
        confirm: spec.confirm.iter().map(|c| fill(c)).collect(),
        mode: spec.confirm_mode.clone(),
    })
}

impl ActionArgs for ConfigArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        let a = &self.ansible;
        let mut extra: Vec<Probe<'_>> = a
            .before
            .iter()
            .map(|l| Probe::line("before", l))
            .chain(a.after.iter().map(|l| Probe::line("after", l)))
            .chain(
                a.intended_config
                    .iter()
                    .map(|t| Probe::text("intended_config", t)),
            )
            .chain(
                a.running_config
                    .iter()
                    .map(|t| Probe::text("running_config", t)),
            )
            .collect();
        if let Some(b) = &a.backup {
            extra.extend(
                b.filename
                    .iter()
                    .map(|f| Probe::line("backup_options filename", f)),
            );
            extra.extend(
                b.dir_path
                    .iter()
                    .map(|f| Probe::line("backup_options dir_path", f)),
            );
        }
        let mut own = self.source_probes();
        own.extend(extra);
        own
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        match &self.source {
            ConfigSource::Lines { lines, .. } if lines.is_empty() => {
                let mut what = Vec::new();
                if self.ansible.backup.is_some() {
                    what.push("backup");
                }
                if self.save != SaveWhen::Never {
                    what.push("save");
                }
                if self.diff_against.is_some() {
                    what.push("diff");
                }
                what.join(", ")
            }
            ConfigSource::Lines { lines, .. } => lines.join("; "),
            ConfigSource::Template(t) => format!("template {t}"),
            ConfigSource::Src(s) => format!("src {s}"),
        }
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let resolve_src = env.resolve_src;
        let rollback = env.rollback;
        let confirm = env.confirm;
        let playbook_dir = env.playbook_dir;
        let mut r = match env.connect() {
            Ok((conn, ctx, timeout)) => run(
                conn,
                RunEnv {
                    ctx,
                    resolve_src,
                    rollback,
                    confirm,
                    playbook_dir,
                },
                self,
                timeout,
            ),
            Err(r) => r,
        };
        if !self.ansible.not_honoured.is_empty() {
            let note = format!(
                "accepted but not acted on by netorch: {}",
                self.ansible.not_honoured.join(", ")
            );
            if !r.data.is_object() {
                r.data = serde_json::json!({});
            }
            r.data["not_honoured"] = serde_json::json!(self.ansible.not_honoured);
            r.msg = Some(match r.msg.take() {
                Some(m) => format!("{m}; {note}"),
                None => note,
            });
        }
        r
    }
}

impl ConfigArgs {
    fn source_probes(&self) -> Vec<Probe<'_>> {
        match &self.source {
            ConfigSource::Lines { lines, parents } => parents
                .iter()
                .map(|l| Probe::line("parents", l))
                .chain(lines.iter().map(|l| Probe::line("lines", l)))
                .collect(),
            ConfigSource::Template(name) => vec![Probe::Template {
                what: "template".into(),
                name,
                lines: true,
            }],
            ConfigSource::Src(name) => vec![Probe::ConfigSrc {
                what: "src".into(),
                name,
            }],
        }
    }
}

/// Config text as a diff shows it: the platform's secrets masked unless `--show-secrets`.
fn shown(
    ctx: &ActionCtx<'_>,
    patterns: &crate::backup::normalize::SecretPatterns,
    text: &str,
) -> String {
    if ctx.show_secrets {
        text.to_string()
    } else {
        crate::backup::normalize::mask_text(text, patterns)
    }
}

fn run(
    conn: &mut Connection,
    env: RunEnv<'_, '_>,
    args: &ConfigArgs,
    timeout: Duration,
) -> TaskResult {
    let ctx = env.ctx;
    let (lines, parents) = match wanted_lines(ctx, args, env.resolve_src) {
        Ok(v) => v,
        Err(msg) => return TaskResult::failed(msg),
    };
    let device_config = match conn.running_config(timeout) {
        Ok(r) => match r.failed {
            Some(f) => return TaskResult::failed(format!("reading the running config: {f}")),
            None => r.output,
        },
        Err(e) => return device_failure(&e),
    };
    let mut r = TaskResult::ok();
    if let Some(b) = &args.ansible.backup {
        match backup(ctx, b, &device_config, env.playbook_dir) {
            Ok(fields) => r.data = serde_json::Value::Object(fields),
            Err(msg) => return TaskResult::failed(msg),
        }
    }
    // Ansible's `running_config`: the config to compare with, instead of the device's.
    let before = match &args.ansible.running_config {
        Some(t) => match ctx.render(t, "running_config") {
            Ok(t) => t,
            Err(e) => return TaskResult::failed(e.to_string()),
        },
        None => device_config,
    };
    let profile = conn.profile_arc();
    let syn = &profile.syntax;
    // The model is needed to replace and to predict; a plain merge push does without it.
    let needs_model = args.mode == ConfigMode::Replace || (ctx.check_mode && ctx.diff);
    let mut running = if needs_model {
        match Tree::parse(&before, syn) {
            Ok(t) => t,
            Err(e) => {
                return TaskResult::failed(format!(
                    "the running config does not read as {}: {e}",
                    profile.name
                ))
            }
        }
    } else {
        Tree::default()
    };
    let commands: Vec<Command> = match args.mode {
        ConfigMode::Merge => {
            // Junos-style `set`/`delete` lines are matched against the `display set` form.
            let set_style = !lines.is_empty()
                && parents.is_empty()
                && lines.iter().all(|l| {
                    let t = l.trim_start();
                    t.starts_with("set ") || t.starts_with("delete ")
                });
            let compare = if set_style {
                match set_form(conn, timeout) {
                    Ok(text) => text,
                    Err(r) => return r,
                }
            } else {
                before.clone()
            };
            let candidates = candidate_paths(&lines, &parents, syn);
            let a = &args.ansible;
            let todo = pending(&compare, &candidates, syn);
            let mut todo = if a.match_mode == MatchMode::Line && a.replace == ReplaceMode::Line {
                todo
            } else {
                let have = paths_in(&compare, syn);
                super::config_ansible::select(&candidates, todo, &have, a.match_mode, a.replace)
            };
            if !todo.is_empty() {
                match before_after(ctx, a) {
                    Ok((b, after)) => {
                        todo.splice(0..0, b);
                        todo.extend(after);
                    }
                    Err(msg) => return TaskResult::failed(msg),
                }
            }
            todo
        }
        ConfigMode::Replace => match replace_plan(&before, &running, &lines, args, &profile) {
            Ok((cmds, skipped, diff)) => {
                if !skipped.is_empty() {
                    r.data["not_restored"] = serde_json::json!(skipped);
                }
                r.data["missing"] = serde_json::json!(diff.missing);
                r.data["extra"] = serde_json::json!(diff.extra);
                cmds
            }
            Err(msg) => return TaskResult::failed(msg),
        },
    };
    if commands.is_empty() {
        let ansible_extras = args.ansible.save_when || args.diff_against.is_some();
        if ansible_extras {
            if let Err(fail) = finish(conn, ctx, args, &mut r, false, &profile, timeout) {
                return fail;
            }
        }
        return r;
    }
    let todo_lines = match args.mode {
        ConfigMode::Merge => render(&commands),
        ConfigMode::Replace => render_commands(&commands, syn),
    };
    let patterns = &profile.secret_patterns;
    let shown_lines: Vec<String> = todo_lines.iter().map(|l| shown(ctx, patterns, l)).collect();
    if ctx.check_mode {
        r.data["pending"] = serde_json::json!(shown_lines);
        r.status = Status::Changed;
        r.msg = Some(format!(
            "{} line(s) would be sent (check mode)",
            todo_lines.len()
        ));
        if ctx.diff {
            // The prediction: the running config with the commands applied as the device
            // applies them, each new line in its place.
            let current = normalize(&profile, &running.render(syn));
            running.apply(&commands, syn);
            r.diff = Some(unified_diff(
                &shown(ctx, patterns, &current),
                &shown(ctx, patterns, &normalize(&profile, &running.render(syn))),
                "running-config",
                "running-config (predicted)",
            ));
        }
        return r;
    }
    let confirm = match env.confirm.map(|d| (d, confirm_plan(&profile, d))) {
        None => None,
        Some((d, Ok(plan))) => Some((d, plan)),
        Some((_, Err(msg))) => return TaskResult::failed(msg),
    };
    if let Some(rec) = env.rollback {
        let masked = crate::backup::normalize::mask_text(&before, patterns);
        if let Err(e) = rec.record(ctx.host, &masked) {
            // No way back, no change: a half-safe change is what this record prevents.
            return TaskResult::failed(format!(
                "keeping the config before the change in {}: {e}; nothing was sent",
                rec.dir().display()
            ));
        }
    }
    let to_send = match syn.style {
        crate::config::Style::Indent => with_exits(&todo_lines, syn),
        crate::config::Style::Braces => todo_lines.clone(),
    };
    let (enter, commit) = match &confirm {
        Some((_, p)) => (p.enter.as_deref(), p.commit.as_deref()),
        None => (None, None),
    };
    match conn.send_config_with(&to_send, enter, commit, timeout) {
        Ok(resp) => {
            let failed = resp.failed.clone();
            r.commands.push(CommandOutput {
                command: shown(ctx, patterns, &to_send.join("\n")),
                output: resp.output,
                exit_status: None,
                error: failed.clone(),
                parsed: None,
            });
            if let Some(f) = failed {
                r.status = Status::Failed;
                r.msg = Some(f);
                return r;
            }
        }
        Err(e) => return device_failure(&e),
    }
    // Every line was accepted. Only a diff needs the config as the device now shows it.
    let changed = if ctx.diff {
        let after = match conn.running_config(timeout) {
            Ok(resp) => match resp.failed {
                Some(f) => {
                    return TaskResult::failed(format!(
                        "reading the running config after the change: {f}"
                    ))
                }
                None => resp.output,
            },
            Err(e) => return device_failure(&e),
        };
        let (before, after) = (
            config_view(&profile, &before),
            config_view(&profile, &after),
        );
        let changed = before != after;
        if changed {
            r.diff = Some(unified_diff(
                &shown(ctx, patterns, &before),
                &shown(ctx, patterns, &after),
                "running-config (before)",
                "running-config (after)",
            ));
        }
        changed
    } else {
        true
    };
    r.status = if changed { Status::Changed } else { Status::Ok };
    r.data["sent"] = serde_json::json!(to_send
        .iter()
        .map(|l| shown(ctx, patterns, l))
        .collect::<Vec<_>>());
    let save = match args.save {
        SaveWhen::Always => true,
        SaveWhen::WhenChanged | SaveWhen::Modified => changed,
        SaveWhen::Never => false,
    };
    if let Some((d, plan)) = &confirm {
        // Saved only once confirmed: a change the device rolls back must not survive in
        // the startup config.
        r.data["facts"] = serde_json::json!({
            crate::actions::confirm::PENDING_FACT: {
                "mode": plan.mode,
                "commands": plan.confirm,
                "save": save,
            }
        });
        r.msg = Some(format!(
            "applied under a revert timer of {}s: the device rolls it back unless the play confirms it",
            d.as_secs()
        ));
        return r;
    }
    if let Err(fail) = finish(conn, ctx, args, &mut r, changed, &profile, timeout) {
        return fail;
    }
    r
}

/// Ansible's `backup: yes`: the running config into a file beside the playbook.
fn backup(
    ctx: &ActionCtx<'_>,
    b: &BackupOptions,
    config: &str,
    playbook_dir: &std::path::Path,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let render = |t: &Option<String>, what: &str| -> Result<Option<String>, String> {
        t.as_ref()
            .map(|t| ctx.render_line(t, what).map_err(|e| e.to_string()))
            .transpose()
    };
    let filename = render(&b.filename, "backup_options filename")?;
    let dir = render(&b.dir_path, "backup_options dir_path")?;
    super::config_ansible::write_backup(
        ctx.host,
        config,
        filename.as_deref(),
        dir.as_deref(),
        playbook_dir,
    )
}

/// `before` and `after` rendered, as top-level lines around what is sent.
fn before_after(
    ctx: &ActionCtx<'_>,
    a: &super::config::AnsibleArgs,
) -> Result<(Vec<Command>, Vec<Command>), String> {
    let lines = |v: &[String], what: &str| -> Result<Vec<Command>, String> {
        let mut out = Vec::new();
        for l in v {
            out.extend(
                expand_line(ctx, l, what)?
                    .into_iter()
                    .map(|l| vec![l.trim().to_string()]),
            );
        }
        Ok(out)
    };
    Ok((lines(&a.before, "before")?, lines(&a.after, "after")?))
}

/// After the change (or none): `save_when` and, under `--diff`, `diff_against` startup or
/// intended.
fn finish(
    conn: &mut Connection,
    ctx: &ActionCtx<'_>,
    args: &ConfigArgs,
    r: &mut TaskResult,
    changed: bool,
    profile: &PlatformProfile,
    timeout: Duration,
) -> Result<(), TaskResult> {
    let wants_startup = args.save == SaveWhen::Modified
        || (ctx.diff && args.diff_against == Some(DiffAgainst::Startup));
    let wants_running =
        wants_startup || (ctx.diff && args.diff_against == Some(DiffAgainst::Intended));
    let running = if wants_running {
        match conn.running_config(timeout) {
            Ok(resp) => match resp.failed {
                Some(f) => {
                    return Err(TaskResult::failed(format!(
                        "reading the running config: {f}"
                    )))
                }
                None => Some(resp.output),
            },
            Err(e) => return Err(device_failure(&e)),
        }
    } else {
        None
    };
    let startup = if wants_startup {
        super::config_ansible::startup_config(conn, timeout)?
    } else {
        None
    };
    let ignore: Vec<fancy_regex::Regex> = args
        .ansible
        .diff_ignore_lines
        .iter()
        .filter_map(|re| fancy_regex::Regex::new(re).ok())
        .collect();
    let view = |text: &str| super::config_ansible::comparable(&config_view(profile, text), &ignore);
    let patterns = &profile.secret_patterns;
    if ctx.diff {
        let other = match args.diff_against {
            Some(DiffAgainst::Startup) => startup
                .as_deref()
                .map(|t| (t.to_string(), "startup-config")),
            Some(DiffAgainst::Intended) => match &args.ansible.intended_config {
                Some(t) => Some((
                    ctx.render(t, "intended_config")
                        .map_err(|e| TaskResult::failed(e.to_string()))?,
                    "intended_config",
                )),
                None => None,
            },
            _ => None,
        };
        if let (Some((text, name)), Some(run)) = (other, &running) {
            let d = unified_diff(
                &shown(ctx, patterns, &view(&text)),
                &shown(ctx, patterns, &view(run)),
                name,
                "running-config",
            );
            r.diff = if d.is_empty() { None } else { Some(d) };
        }
    }
    let save = match args.save {
        SaveWhen::Always => true,
        SaveWhen::WhenChanged => changed,
        SaveWhen::Never => false,
        SaveWhen::Modified => match (&startup, &running) {
            (Some(st), Some(run)) => view(st) != view(run),
            _ => false,
        },
    };
    if !save || ctx.check_mode {
        return Ok(());
    }
    match conn.save(timeout) {
        Ok(Some(resp)) => {
            let failed = resp.failed.clone();
            r.commands.push(CommandOutput {
                command: resp.command,
                output: resp.output,
                exit_status: None,
                error: failed.clone(),
                parsed: None,
            });
            if let Some(f) = failed {
                r.status = Status::Failed;
                r.msg = Some(format!("saving the config: {f}"));
                return Ok(());
            }
            if !r.data.is_object() {
                r.data = serde_json::json!({});
            }
            r.data["saved"] = serde_json::Value::Bool(true);
            // Ansible's save_when reports a save as a change (netorch's `save` does not).
            if args.ansible.save_when && r.status == Status::Ok {
                r.status = Status::Changed;
            }
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(device_failure(&e)),
    }
}

/// `mode: replace`: the remediation from the running config to the intended lines, within
/// the task's scope; and the commands left out because they hold a masked secret (an
/// intended config read from a backup or rollback record).
fn replace_plan(
    before: &str,
    running: &Tree,
    lines: &[String],
    args: &ConfigArgs,
    profile: &PlatformProfile,
) -> Result<(Vec<Command>, Vec<String>, Differences), String> {
    let syn = &profile.syntax;
    let intended_text = lines.join("\n");
    let intended = Tree::parse_guided(&intended_text, syn, Some(running))
        .map_err(|e| format!("the intended config does not read as {}: {e}", profile.name))?;
    let scope = Scope::new(&args.scope, &args.ignore)?;
    let patterns = &profile.secret_patterns;
    let masked = crate::backup::normalize::holds_masked_secret(&intended_text, patterns);
    // Secrets masked on one side are compared masked on both, so that an unchanged secret
    // is not taken for a change (or, worse, for a line to remove).
    let masked_running;
    let running = if masked {
        let text = crate::backup::normalize::mask_text(before, &profile.secret_patterns);
        masked_running = Tree::parse(&text, syn)
            .map_err(|e| format!("the running config does not read as {}: {e}", profile.name))?;
        &masked_running
    } else {
        running
    };
    if !intended.nodes.iter().any(|n| n.is_config()) {
        return Err(
            "the intended config is empty: replacing with it would remove the whole config \
             in scope; refusing (check the template or file)"
                .into(),
        );
    }
    let plan = remediate(running, &intended, syn, &scope);
    let paths = |v: &[Vec<String>]| -> Vec<String> {
        v.iter()
            .map(|p| crate::backup::normalize::mask_text(&p.join(" > "), &profile.secret_patterns))
            .collect()
    };
    let diff = Differences {
        missing: paths(&plan.missing),
        extra: paths(&plan.extra),
    };
    let (skipped, commands): (Vec<Command>, Vec<Command>) =
        plan.commands.into_iter().partition(|c| {
            c.iter()
                .any(|l| crate::backup::normalize::holds_masked_secret(l, patterns))
        });
    let skipped = skipped.iter().map(|c| c.join(" > ")).collect::<Vec<_>>();
    Ok((commands, skipped, diff))
}

/// What `mode: replace` found, for the result (and `netorch compliance`): statements of
/// the intended config the device lacks, and statements it has that are not intended.
struct Differences {
    missing: Vec<String>,
    extra: Vec<String>,
}

/// The configuration as `set` lines (`show configuration | display set` on Junos).
fn set_form(conn: &mut Connection, timeout: Duration) -> Result<String, TaskResult> {
    let show = conn
        .profile()
        .show_config
        .clone()
        .unwrap_or_else(|| "show configuration".to_string());
    match conn.run_command(&format!("{show} | display set"), timeout) {
        Ok(r) => match r.failed {
            Some(f) => Err(TaskResult::failed(format!(
                "reading the configuration as set lines: {f}"
            ))),
            None => Ok(r.output),
        },
        Err(e) => Err(device_failure(&e)),
    }
}

/// The rendered lines to push and their parents.
fn wanted_lines(
    ctx: &ActionCtx<'_>,
    args: &ConfigArgs,
    resolve_src: ResolveSrc<'_>,
) -> Result<(Vec<String>, Vec<String>), String> {
    let text_lines = |text: String| -> Vec<String> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim_end().to_string())
            .collect()
    };
    match &args.source {
        ConfigSource::Lines { lines, parents } => {
            let render_all = |v: &[String], what: &str| -> Result<Vec<String>, String> {
                let mut out = Vec::new();
                for l in v {
                    out.extend(expand_line(ctx, l, what)?);
                }
                Ok(out)
            };
            Ok((
                render_all(lines, "config line")?,
                render_all(parents, "config parent")?,
            ))
        }
        ConfigSource::Template(name) => {
            // The name may be templated (`{{ inventory_hostname }}.j2`), as validation
            // renders it.
            let name = ctx
                .render_line(name, "config template name")
                .map_err(|e| e.to_string())?;
            ctx.templates
                .render_file_lines(&name, ctx.vars)
                .map(|t| (text_lines(t), Vec::new()))
                .map_err(|e| e.to_string())
        }
        ConfigSource::Src(name) => {
            let name = ctx
                .render_line(name, "config src name")
                .map_err(|e| e.to_string())?;
            let path = resolve_src(&name)
                .or_else(|| ctx.templates.resolve(&name))
                .ok_or_else(|| format!("config src `{name}` not found"))?;
            let text = crate::source::read_source(&path).map_err(|e| e.to_string())?;
            ctx.templates
                .render_lines_named(&text, ctx.vars, &path.display().to_string(), "config line")
                .map(|t| (text_lines(t), Vec::new()))
                .map_err(|e| e.to_string())
        }
    }
}

/// One `lines` entry rendered: as Ansible reads `lines: "{{ servers | map(...) | list }}"`,
/// an entry that is one expression yielding a list gives one line per element.
fn expand_line(ctx: &ActionCtx<'_>, l: &str, what: &str) -> Result<Vec<String>, String> {
    let t = l.trim();
    if crate::jinja::is_single_expression(t) {
        if let Ok(serde_json::Value::Array(items)) = ctx.templates.eval(t, ctx.vars, what) {
            return items
                .iter()
                .map(|v| {
                    let line = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if line.contains('\n') {
                        Err(format!("{what} `{l}`: an element holds a line break"))
                    } else {
                        Ok(line)
                    }
                })
                .collect();
        }
    }
    ctx.render_line(l, what)
        .map(|x| vec![x])
        .map_err(|e| e.to_string())
}

/// Indented (child) lines followed by a top-level line need an `exit` in between on
/// IOS-like CLIs, or the top-level command would be tried inside the sub-mode.
fn with_exits(lines: &[String], syn: &crate::config::Syntax) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    // Indents of the lines that opened the sub-modes we are in.
    let mut open: Vec<usize> = Vec::new();
    let mut prev: Option<usize> = None;
    let mut next = 0;
    while next < lines.len() {
        let l = &lines[next];
        next += 1;
        let d = l.len() - l.trim_start().len();
        if let Some(p) = prev {
            if p < d {
                open.push(p);
            }
        }
        while open.last().is_some_and(|&o| o >= d) {
            open.pop();
            out.push("exit".to_string());
        }
        out.push(l.trim().to_string());
        prev = Some(d);
        // Banner text is the banner's, not commands: sent as written, never a sub-mode.
        if let Some(n) = syn.text_block(l.trim(), &lines[next..]) {
            out.extend(
                lines[next..next + n]
                    .iter()
                    .map(|t| t.trim_end().to_string()),
            );
            next += n;
        }
    }
    out
}

/// The config as the model reads it (blank lines dropped), without volatile lines: the
/// text diffs compare, so that a real diff and a predicted one look alike.
fn config_view(profile: &PlatformProfile, config: &str) -> String {
    match Tree::parse(config, &profile.syntax) {
        Ok(t) => normalize(profile, &t.render(&profile.syntax)),
        Err(_) => normalize(profile, config),
    }
}

/// The config without the platform's volatile lines, for change detection and diffs.
pub fn normalize(profile: &PlatformProfile, config: &str) -> String {
    let mut out = String::with_capacity(config.len());
    for line in config.lines() {
        let l = line.trim_end();
        if profile.backup_strip.iter().any(|re| re.is_match(l)) {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_between_blocks_and_top_level() {
        let syn = crate::config::Syntax::default();
        let lines: Vec<String> = ["interface Gi0/1", " description a", "ntp server 1.1.1.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            with_exits(&lines, &syn),
            vec![
                "interface Gi0/1",
                "description a",
                "exit",
                "ntp server 1.1.1.1"
            ]
        );
        let nested: Vec<String> = [
            "router bgp 1",
            " address-family ipv4",
            "  network 10.0.0.0",
            "ntp server x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            with_exits(&nested, &syn),
            vec![
                "router bgp 1",
                "address-family ipv4",
                "network 10.0.0.0",
                "exit",
                "exit",
                "ntp server x"
            ]
        );
    }

    #[test]
    fn banner_text_is_sent_as_written_without_exits() {
        let ios = crate::device::profile::ProfileSet::builtin();
        let syn = &ios.get("cisco_ios").unwrap().syntax;
        let lines: Vec<String> = [
            "banner motd ^C",
            "  Authorized access only",
            "",
            "^C",
            "interface Gi0/1",
            " description a",
            "ntp server x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            with_exits(&lines, syn),
            vec![
                "banner motd ^C",
                "  Authorized access only",
                "",
                "^C",
                "interface Gi0/1",
                "description a",
                "exit",
                "ntp server x"
            ]
        );
    }
}
