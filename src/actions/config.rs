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

use super::config_lines::{candidate_paths, pending, render, unified_diff};
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
}

/// What the diff compares the new configuration with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffAgainst {
    Running,
    Startup,
}

fn save_when<'de, D: Deserializer<'de>>(d: D) -> Result<SaveWhen, D::Error> {
    struct V;
    const WHAT: &str = "true, false or when_changed";
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
                "when_changed" | "changed" | "modified" => Ok(SaveWhen::WhenChanged),
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
    #[serde(default, deserialize_with = "save_when")]
    save: SaveWhen,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    diff_against: Option<DiffAgainst>,
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

fn check(mut s: Spec) -> Result<ConfigArgs, String> {
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
        save: s.save,
        diff_against: s.diff_against,
        mode,
        scope,
        ignore,
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
        save: SaveWhen::Never,
        diff_against: None,
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
            ConfigSource::Src(name) => vec![Probe::LocalFile {
                what: "src".into(),
                name,
            }],
        }
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        match &self.source {
            ConfigSource::Lines { lines, .. } => lines.join("; "),
            ConfigSource::Template(t) => format!("template {t}"),
            ConfigSource::Src(s) => format!("src {s}"),
        }
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let resolve_src = env.resolve_src;
        let rollback = env.rollback;
        let confirm = env.confirm;
        match env.connect() {
            Ok((conn, ctx, timeout)) => run(
                conn,
                RunEnv {
                    ctx,
                    resolve_src,
                    rollback,
                    confirm,
                },
                self,
                timeout,
            ),
            Err(r) => r,
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
    let before = match conn.running_config(timeout) {
        Ok(r) => match r.failed {
            Some(f) => return TaskResult::failed(format!("reading the running config: {f}")),
            None => r.output,
        },
        Err(e) => return device_failure(&e),
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
    let mut r = TaskResult::ok();
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
            pending(&compare, &candidate_paths(&lines, &parents, syn), syn)
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
        SaveWhen::WhenChanged => changed,
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
    if save {
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
                    return r;
                }
                r.data["saved"] = serde_json::Value::Bool(true);
            }
            Ok(None) => {}
            Err(e) => return device_failure(&e),
        }
    }
    r
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
                v.iter()
                    .map(|l| ctx.render_line(l, what).map_err(|e| e.to_string()))
                    .collect()
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
            let path =
                resolve_src(&name).ok_or_else(|| format!("config src `{name}` not found"))?;
            let text = crate::source::read_source(&path).map_err(|e| e.to_string())?;
            ctx.templates
                .render_lines_named(&text, ctx.vars, &path.display().to_string(), "config line")
                .map(|t| (text_lines(t), Vec::new()))
                .map_err(|e| e.to_string())
        }
    }
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
