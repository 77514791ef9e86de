//! `backup`: fetch the host's running config, normalise it, and hand it to the run's single
//! backup writer ([`BackupRun`]), which checks it against the stored version. The host's
//! result is `ok` (unchanged), `changed` (a new version will be committed) or `failed` (not
//! fetched, or refused by a sanity check: the stored file stays).
//!
//! Split in two so a bad file name or a missing store fails the host before any connection
//! is opened: [`prepare`] (no I/O), then `run` on the open connection.
//!
//! `backup: {}`: every argument is optional; what is not given comes from the run (`netorch backup
//! --store ...`) or the host's variables (`backup_store`, `backup_path`).

use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::args::map_only;
use super::{device_failure, ActionArgs, ActionCtx, Env, Probe};
use crate::backup::{
    normalize, safe_path, BackupRun, Checks, Outcome, Rules, DEFAULT_PATH_TEMPLATE,
};
use crate::device::profile::PlatformProfile;
use crate::device::Connection;
use crate::playbook::values;
use crate::report::{Status, TaskResult};

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupArgs {
    /// The backup store (a git repository folder); default: the run's configured store.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub store: Option<String>,
    /// The file name inside the store, a template (`{{ site }}/{{ name }}.cfg`); default:
    /// `<host name>.cfg`.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub path: Option<String>,
    /// Mask passwords, secrets, SNMP communities and keys (the profile's `secret_patterns`).
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub mask_secrets: Option<bool>,
    /// Refuse a config that shrank by more than this share of the last stored one: a
    /// percentage (`50`, `"50%"`); default 50.
    #[serde(default, deserialize_with = "opt_shrink")]
    pub max_shrink: Option<f64>,
    /// The command that prints the config, instead of the profile's `show_config` (e.g.
    /// `cat /etc/nftables.conf` on a Linux host).
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub command: Option<String>,
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BackupArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{} or {store, path, mask_secrets, max_shrink, command}",
        true,
        Ok,
    ))
}

/// `max_shrink` as a share (0..=1) from a percentage (0..=100, `%` optional).
fn opt_shrink<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct V;
    const WHAT: &str = "a percentage from 0 to 100 (`max_shrink: 50` or \"50%\")";
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            if (0.0..=100.0).contains(&v) {
                Ok(v / 100.0)
            } else {
                Err(E::custom(format!(
                    "max_shrink must be between 0 and 100 (percent), found {v}"
                )))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            match v.trim().trim_end_matches('%').trim().parse::<f64>() {
                Ok(f) if f.is_finite() => self.visit_f64(f),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &WHAT)),
            }
        }
    }
    d.deserialize_any(V).map(Some)
}

impl ActionArgs for BackupArgs {
    fn probes(&self) -> Vec<Probe<'_>> {
        [
            ("store", &self.store),
            ("path", &self.path),
            ("command", &self.command),
        ]
        .into_iter()
        .filter_map(|(what, v)| v.as_deref().map(|s| Probe::line(what, s)))
        .collect()
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d)
    }

    fn summary(&self) -> String {
        String::new()
    }

    /// The file name and store are checked before connecting; the config goes to the run's
    /// single writer (src/backup/), which commits after the run.
    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let Some(backups) = env.backups else {
            return TaskResult::failed("internal: this run has no backup writer");
        };
        let prep = match prepare(&env.ctx, self, backups) {
            Ok(p) => p,
            Err(r) => return r,
        };
        match backup_via_netconf(env) {
            Ok(Some((resp, profile))) => {
                return store(resp, &profile, &env.ctx, &prep, backups, false)
            }
            Ok(None) => {}
            Err(r) => return r,
        }
        match env.connect() {
            Ok((conn, ctx, timeout)) => run(conn, ctx, &prep, backups, timeout),
            Err(r) => r,
        }
    }
}

/// The host variable that fetches configs over NETCONF (`backup_via: netconf`).
pub const VIA_VAR: &str = "backup_via";

/// `backup_via: netconf` on a host reached another way: the config comes from a NETCONF
/// session of its own (`netconf_port`, default 830), opened and closed here. `None`: the
/// usual connection fetches it (a `connection: netconf` host reads running over NETCONF
/// anyway).
fn backup_via_netconf(
    env: &Env<'_>,
) -> Result<Option<(crate::device::Response, std::sync::Arc<PlatformProfile>)>, TaskResult> {
    use crate::transport::netconf;
    use crate::transport::settings::{ConnectionKind, ConnectionSettings};
    let ctx = &env.ctx;
    match var_str(ctx, VIA_VAR) {
        None | Some("cli") | Some("ssh") => return Ok(None),
        Some("netconf") => {}
        Some(other) => {
            return Err(TaskResult::failed(format!(
                "host `{}`: `{VIA_VAR}: {other}` is not a way to fetch configs; use `netconf` (or leave it out for the host's connection)",
                ctx.host
            )))
        }
    }
    let mut settings = ConnectionSettings::from_vars(ctx.host, ctx.vars)
        .map_err(|e| TaskResult::failed(e.to_string()))?;
    if settings.kind == ConnectionKind::Netconf {
        return Ok(None);
    }
    settings.kind = ConnectionKind::Netconf;
    settings.port = match ctx.vars.get("netconf_port") {
        None => ConnectionKind::Netconf.default_port(),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                TaskResult::failed(format!(
                    "host `{}`: variable `netconf_port`: expected a port number (1-65535), found {v}",
                    ctx.host
                ))
            })?,
    };
    let profile = env
        .profiles
        .resolve(ctx.host, &settings.platform)
        .map_err(|e| device_failure(&e))?;
    let timeout = env.command_timeout.unwrap_or(settings.command_timeout);
    let mut session = netconf::open_session(&settings, env.profiles, Some(timeout))
        .map_err(|e| device_failure(&e))?;
    let resp = netconf::running_config(&mut session, profile.name.contains("junos"), timeout);
    session.close();
    let resp = resp.map_err(|e| device_failure(&e))?;
    Ok(Some((resp, profile)))
}

/// Host variables that set the store and the file name when the task does not.
pub const STORE_VAR: &str = "backup_store";
pub const PATH_VAR: &str = "backup_path";

/// Where this host's backup goes and how it is checked, resolved before connecting.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub store: PathBuf,
    pub path: String,
    pub mask_secrets: bool,
    pub max_shrink: f64,
    pub command: Option<String>,
}

fn var_str<'a>(ctx: &'a ActionCtx<'_>, name: &str) -> Option<&'a str> {
    ctx.vars
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Resolve the store, the file name (rendered and made safe) and the options.
pub fn prepare(
    ctx: &ActionCtx<'_>,
    args: &BackupArgs,
    run: &BackupRun,
) -> Result<Prepared, TaskResult> {
    let fail = |e: crate::Error| TaskResult::failed(e.to_string());
    let settings = run.settings();
    let store = match (&args.store, var_str(ctx, STORE_VAR)) {
        (Some(s), _) => PathBuf::from(ctx.render_line(s, "backup store").map_err(fail)?),
        (None, Some(s)) => PathBuf::from(s),
        (None, None) => match &settings.default_store {
            Some(s) => s.clone(),
            None => {
                return Err(TaskResult::failed(format!(
                    "no backup store: give `store:` to the task, set the `{STORE_VAR}` variable, \
                     or run `netorch backup --store DIR`"
                )))
            }
        },
    };
    let template = args
        .path
        .as_deref()
        .or_else(|| var_str(ctx, PATH_VAR))
        .or(settings.path_template.as_deref())
        .unwrap_or(DEFAULT_PATH_TEMPLATE);
    // `{{ name }}` is the host's name in path templates unless the inventory defines `name`.
    let rendered = if ctx.vars.contains_key("name") {
        ctx.render_line(template, "backup path")
    } else {
        let mut vars = ctx.vars.clone();
        vars.insert("name".into(), Value::from(ctx.host));
        ctx.templates.render_line(template, &vars, "backup path")
    }
    .map_err(fail)?;
    let path = safe_path(&rendered)
        .map_err(|e| TaskResult::failed(format!("host `{}`: {e}", ctx.host)))?;
    let command = match &args.command {
        Some(c) => Some(ctx.render_line(c, "backup command").map_err(fail)?),
        None => None,
    };
    Ok(Prepared {
        store,
        path,
        mask_secrets: args.mask_secrets.unwrap_or(settings.mask_secrets),
        max_shrink: args.max_shrink.unwrap_or(settings.max_shrink),
        command,
    })
}

/// Fetch, normalise and submit the config.
fn run(
    conn: &mut Connection,
    ctx: &ActionCtx<'_>,
    prep: &Prepared,
    backups: &BackupRun,
    timeout: Duration,
) -> TaskResult {
    let response = match &prep.command {
        Some(cmd) => conn.run_command(cmd, timeout),
        None => conn.running_config(timeout),
    };
    let resp = match response {
        Ok(r) => r,
        Err(e) => return device_failure(&e),
    };
    // A device's CLI config ends with its platform's marker; NETCONF's XML does not.
    let cli = conn.kind() != crate::transport::settings::ConnectionKind::Netconf;
    let profile = conn.profile_arc();
    store(resp, &profile, ctx, prep, backups, cli)
}

/// Normalise a fetched config and submit it to the run's writer.
fn store(
    resp: crate::device::Response,
    profile: &PlatformProfile,
    ctx: &ActionCtx<'_>,
    prep: &Prepared,
    backups: &BackupRun,
    cli: bool,
) -> TaskResult {
    if let Some(f) = &resp.failed {
        return TaskResult::failed(format!("`{}`: {f}; the old backup is kept", resp.command));
    }
    let mut text = normalize(
        &resp.output,
        Rules {
            strip: &profile.backup_strip,
            secret_patterns: &profile.secret_patterns,
            mask_secrets: prep.mask_secrets,
        },
    );
    if prep.mask_secrets {
        // The run's own secrets too (an inventory password in a config line), as in its
        // output: the profile's patterns only know the line kinds of its platform.
        text = backups.redact(&text);
    }
    // A device platform's config ends with its marker whichever command printed it; a shell
    // host's files (a custom `command:` on a profile without `show_config`) have none.
    let end_marker = match profile.show_config {
        Some(_) if cli => profile.backup_end_marker.as_ref(),
        _ => None,
    };
    let outcome = backups.submit(
        &prep.store,
        ctx.host,
        &prep.path,
        text,
        Checks {
            end_marker,
            max_shrink: prep.max_shrink,
            diff: ctx.diff,
        },
        ctx.check_mode,
    );
    let mut data = serde_json::json!({
        "store": prep.store.display().to_string(),
        "path": prep.path,
    });
    match outcome {
        Ok(Outcome::Unchanged) => {
            let mut r = TaskResult::ok();
            r.data = data;
            r
        }
        Ok(Outcome::Changed {
            new,
            added,
            removed,
            diff,
        }) => {
            let mut r = TaskResult::new(Status::Changed);
            r.msg = Some(format!(
                "{}: +{added} -{removed}{}",
                prep.path,
                if new { " (new)" } else { "" }
            ));
            if let Value::Object(o) = &mut data {
                o.insert("added".into(), Value::from(added));
                o.insert("removed".into(), Value::from(removed));
                o.insert("new".into(), Value::from(new));
            }
            r.data = data;
            if ctx.diff {
                // Stored with secrets (`mask_secrets: false`) or not, a diff on the
                // terminal masks them unless the run asks to see them.
                r.diff = Some(if ctx.show_secrets {
                    diff
                } else {
                    crate::backup::normalize::mask_diff(&diff, &profile.secret_patterns)
                });
            }
            r
        }
        Err(reason) => {
            let mut r = TaskResult::failed(format!("{}: {reason}", prep.path));
            r.data = data;
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_as_number_or_percent() {
        let a: BackupArgs = serde_yaml::from_str("max_shrink: 30").unwrap();
        assert_eq!(a.max_shrink, Some(0.3));
        let a: BackupArgs = serde_yaml::from_str("max_shrink: '80%'\nmask_secrets: yes").unwrap();
        assert_eq!(a.max_shrink, Some(0.8));
        assert_eq!(a.mask_secrets, Some(true));
        let e = serde_yaml::from_str::<BackupArgs>("max_shrink: 150").unwrap_err();
        assert!(e.to_string().contains("between 0 and 100"), "{e}");
        assert!(serde_yaml::from_str::<BackupArgs>("max_shrink: lots").is_err());
    }

    use crate::backup::BackupSettings;
    use crate::jinja::Templates;

    fn prep(
        vars: serde_json::Value,
        args: BackupArgs,
        settings: BackupSettings,
    ) -> Result<Prepared, String> {
        let t = Templates::new(Vec::new());
        let vars = vars.as_object().cloned().unwrap();
        let host = vars["inventory_hostname"].as_str().unwrap().to_string();
        let ctx = ActionCtx {
            host: &host,
            vars: &vars,
            templates: &t,
            check_mode: false,
            diff: false,
            show_secrets: false,
            verbose: 0,
        };
        prepare(&ctx, &args, &BackupRun::new(settings)).map_err(|r| r.msg.unwrap_or_default())
    }

    #[test]
    fn store_and_path_precedence() {
        let settings = BackupSettings {
            default_store: Some("/run-store".into()),
            ..Default::default()
        };
        let p = prep(
            serde_json::json!({"inventory_hostname": "r1"}),
            BackupArgs::default(),
            settings.clone(),
        )
        .unwrap();
        assert_eq!(p.store, PathBuf::from("/run-store"));
        assert_eq!(p.path, "r1.cfg");
        // Secrets are masked unless someone asks to keep them.
        assert!(p.mask_secrets);
        // The host's variables beat the run's defaults; the task's arguments beat both.
        let vars = serde_json::json!({"inventory_hostname": "r1", "site": "ams",
            "backup_store": "/host-store", "backup_path": "{{ site }}/{{ name }}.cfg"});
        let p = prep(vars.clone(), BackupArgs::default(), settings.clone()).unwrap();
        assert_eq!(
            (p.store.to_str().unwrap(), p.path.as_str()),
            ("/host-store", "ams/r1.cfg")
        );
        let args = BackupArgs {
            store: Some("/task-{{ site }}".into()),
            path: Some("{{ inventory_hostname | upper }}.txt".into()),
            mask_secrets: Some(false),
            ..Default::default()
        };
        let p = prep(vars, args, settings).unwrap();
        assert_eq!(
            (p.store.to_str().unwrap(), p.path.as_str()),
            ("/task-ams", "R1.txt")
        );
        assert!(!p.mask_secrets);
    }

    #[test]
    fn refused_before_connecting() {
        let e = prep(
            serde_json::json!({"inventory_hostname": "r1"}),
            BackupArgs::default(),
            BackupSettings::default(),
        )
        .unwrap_err();
        assert!(e.contains("no backup store"), "{e}");
        let settings = BackupSettings {
            default_store: Some("/s".into()),
            ..Default::default()
        };
        let e = prep(
            serde_json::json!({"inventory_hostname": "../../etc/cron.d/x"}),
            BackupArgs::default(),
            settings.clone(),
        )
        .unwrap_err();
        assert!(e.contains("outside the store"), "{e}");
        let e = prep(
            serde_json::json!({"inventory_hostname": "r1"}),
            BackupArgs {
                path: Some("{{ nope }}.cfg".into()),
                ..Default::default()
            },
            settings,
        )
        .unwrap_err();
        assert!(e.contains("nope"), "{e}");
    }
}
