//! `netconf_config` (ansible.netcommon): `<edit-config>` with XML (`content`/`src`) or YAML
//! converted to XML. On a server with `:candidate` (or `target: candidate`) the change goes
//! to the candidate under a lock, is validated when asked, and committed (a confirmed
//! commit with `confirm: N`); a failure discards the candidate and unlocks. Without a
//! candidate it goes to running. `changed` compares the running config before and after
//! (the candidate against running in check mode, where nothing is committed).

use std::time::Duration;

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::{json, Value};

use super::get::FilterArg;
use super::{rpc_failure, session, XmlArg};
use crate::actions::args::map_only;
use crate::actions::config_ansible::{write_backup, BackupOptions};
use crate::actions::{device_failure, ActionArgs, ActionCtx, Env, Probe};
use crate::device::DeviceError;
use crate::playbook::values;
use crate::report::{Status, TaskResult};
use crate::transport::netconf::ops::{self, Filter};
use crate::transport::netconf::{xml, NetconfSession};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Auto,
    Candidate,
    Running,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lock {
    Never,
    #[default]
    Always,
    IfSupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultOperation {
    Merge,
    Replace,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorOption {
    StopOnError,
    ContinueOnError,
    RollbackOnError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xml,
    Json,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetconfConfigArgs {
    #[serde(default, alias = "xml")]
    pub content: Option<XmlArg>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub src: Option<String>,
    #[serde(default, alias = "datastore", deserialize_with = "values::opt_keyword")]
    pub target: Option<Target>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub format: Option<Format>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub lock: Option<Lock>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub default_operation: Option<DefaultOperation>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    pub error_option: Option<ErrorOption>,
    /// Seconds a commit stays unconfirmed before the server rolls it back; 0: a plain
    /// commit.
    #[serde(default, deserialize_with = "values::opt_count")]
    pub confirm: Option<u64>,
    /// Commit (confirming an earlier confirmed commit) even without content.
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub confirm_commit: Option<bool>,
    /// The persist id of a confirmed commit (`confirm: N`), to confirm it from another
    /// session.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub persist: Option<String>,
    /// Confirm the confirmed commit made with this persist id.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub persist_id: Option<String>,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub commit: Option<bool>,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub validate: Option<bool>,
    /// Copy running to startup afterwards (servers with `:startup`).
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub save: Option<bool>,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub backup: Option<bool>,
    #[serde(default)]
    pub backup_options: Option<BackupOptions>,
    /// What of running is compared (and backed up): a subtree or XPath filter.
    #[serde(default)]
    pub get_filter: Option<FilterArg>,
}

fn check(a: NetconfConfigArgs) -> Result<NetconfConfigArgs, String> {
    if a.content.is_some() && a.src.is_some() {
        return Err("netconf_config takes `content` or `src`, not both".into());
    }
    let confirming = a.confirm_commit == Some(true) || a.persist_id.is_some();
    if a.content.is_none() && a.src.is_none() && !confirming && a.save != Some(true) {
        return Err(
            "netconf_config needs `content` (XML or YAML) or `src` (a file), or `confirm_commit: true` to confirm an earlier commit"
                .into(),
        );
    }
    if a.persist.is_some() && a.confirm.unwrap_or(0) == 0 {
        return Err("`persist` names a confirmed commit: it needs `confirm: SECONDS`".into());
    }
    if a.backup_options.is_some() && a.backup != Some(true) {
        return Err("`backup_options` without `backup: yes`".into());
    }
    if a.format != Some(Format::Json) {
        if let Some(c) = &a.content {
            c.check_static("content")?;
        }
    }
    Ok(a)
}

impl ActionArgs for NetconfConfigArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "{content or src, target, lock, default_operation, confirm, commit, validate, ...}",
            false,
            check,
        ))
    }

    fn summary(&self) -> String {
        match (&self.src, &self.content) {
            (Some(s), _) => format!("edit-config from {s}"),
            (None, Some(_)) => "edit-config".into(),
            _ => "commit".into(),
        }
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        let mut out = Vec::new();
        if let Some(c) = &self.content {
            c.probes("content", &mut out);
        }
        if let Some(s) = &self.src {
            out.push(Probe::LocalFile {
                what: "src".into(),
                name: s,
            });
        }
        if let Some(p) = &self.persist {
            out.push(Probe::line("persist", p));
        }
        if let Some(p) = &self.persist_id {
            out.push(Probe::line("persist_id", p));
        }
        if let Some(o) = &self.backup_options {
            if let Some(f) = &o.filename {
                out.push(Probe::line("backup_options.filename", f));
            }
            if let Some(d) = &o.dir_path {
                out.push(Probe::line("backup_options.dir_path", d));
            }
        }
        out
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let host = env.ctx.host;
        let prepared = self.prepare(&env.ctx, env.resolve_src);
        let prep = match prepared {
            Ok(p) => p,
            Err(e) => return TaskResult::failed(format!("{host}: {e}")),
        };
        let playbook_dir = env.playbook_dir;
        let (conn, ctx, timeout) = match env.connect() {
            Ok(c) => c,
            Err(r) => return r,
        };
        let s = match session(conn, "netconf_config") {
            Ok(s) => s,
            Err(r) => return r,
        };
        match self.apply(s, ctx, &prep, timeout, playbook_dir) {
            Ok(r) => r,
            Err(Step::Device(e)) => device_failure(&e),
            Err(Step::Failed(r)) => r,
        }
    }
}

/// What is rendered before the device is touched.
struct Prepared {
    config: Option<String>,
    filter: Option<Filter>,
    persist: Option<String>,
    persist_id: Option<String>,
}

enum Step {
    Device(DeviceError),
    Failed(TaskResult),
}

impl From<DeviceError> for Step {
    fn from(e: DeviceError) -> Self {
        Step::Device(e)
    }
}

impl NetconfConfigArgs {
    fn prepare(
        &self,
        ctx: &ActionCtx<'_>,
        resolve_src: &dyn Fn(&str) -> Option<std::path::PathBuf>,
    ) -> Result<Prepared, String> {
        let body = match (&self.content, &self.src) {
            (Some(XmlArg(Value::String(s))), None) if self.format == Some(Format::Json) => {
                let t = ctx.render(s, "content").map_err(|e| e.to_string())?;
                let v: Value = serde_json::from_str(&t)
                    .map_err(|e| format!("content (format: json) is not JSON: {e}"))?;
                Some(xml::from_value(&v).map_err(|e| format!("content: {e}"))?)
            }
            (Some(c), None) => Some(c.render(ctx, "content")?),
            (None, Some(src)) => {
                let name = ctx.render_line(src, "src").map_err(|e| e.to_string())?;
                let path = resolve_src(&name).ok_or_else(|| format!("src `{name}` not found"))?;
                let text = crate::source::read_source(&path).map_err(|e| e.to_string())?;
                let what = format!("src {}", path.display());
                let text = ctx.render(&text, &what).map_err(|e| e.to_string())?;
                Some(xml::fragment(&text, &what)?)
            }
            _ => None,
        };
        // Ansible's content may or may not be wrapped in <config>.
        let config = body.map(|b| {
            let wrapped = xml::parse(&format!("<w>{b}</w>"), "content").ok().is_some_and(|d| {
                let mut els = d.root_element().children().filter(|n| n.is_element());
                matches!((els.next(), els.next()), (Some(n), None) if n.tag_name().name() == "config")
            });
            if wrapped {
                b
            } else {
                format!("<config>{b}</config>")
            }
        });
        let filter = match &self.get_filter {
            Some(f) => Some(f.render(ctx)?),
            None => None,
        };
        let line = |v: &Option<String>, what: &str| -> Result<Option<String>, String> {
            v.as_ref()
                .map(|p| ctx.render_line(p, what).map_err(|e| e.to_string()))
                .transpose()
        };
        Ok(Prepared {
            config,
            filter,
            persist: line(&self.persist, "persist")?,
            persist_id: line(&self.persist_id, "persist_id")?,
        })
    }

    fn apply(
        &self,
        s: &mut NetconfSession,
        ctx: &ActionCtx<'_>,
        prep: &Prepared,
        timeout: Duration,
        playbook_dir: &std::path::Path,
    ) -> Result<TaskResult, Step> {
        let host = ctx.host;
        let has_candidate = s.has(":candidate");
        let target = match self.target.unwrap_or_default() {
            Target::Auto if has_candidate => "candidate",
            Target::Auto | Target::Running => "running",
            Target::Candidate if has_candidate => "candidate",
            Target::Candidate => {
                return Err(Step::Failed(TaskResult::failed(format!(
                    "{host}: target candidate, but the server has no :candidate capability; use `target: running`"
                ))))
            }
        };
        if target == "running" && !s.has(":writable-running") {
            return Err(Step::Failed(TaskResult::failed(format!(
                "{host}: the server has neither :candidate nor :writable-running; it cannot be configured with edit-config"
            ))));
        }
        let candidate = target == "candidate";
        let capabilities = s.capabilities().to_vec();
        let before = get_config(s, "running", prep.filter.as_ref(), timeout, host)?;
        let mut r = TaskResult::ok();
        let mut data = serde_json::Map::new();
        data.insert("server_capabilities".into(), json!(capabilities));
        if self.backup == Some(true) {
            let o = self.backup_options.clone().unwrap_or_default();
            let filename = o
                .filename
                .map(|f| ctx.render_line(&f, "backup_options.filename"))
                .transpose()
                .map_err(|e| Step::Failed(TaskResult::failed(e.to_string())))?;
            let dir = o
                .dir_path
                .map(|d| ctx.render_line(&d, "backup_options.dir_path"))
                .transpose()
                .map_err(|e| Step::Failed(TaskResult::failed(e.to_string())))?;
            let b = write_backup(
                host,
                &before,
                filename.as_deref(),
                dir.as_deref(),
                playbook_dir,
            )
            .map_err(|e| Step::Failed(TaskResult::failed(format!("{host}: {e}"))))?;
            data.extend(b);
        }
        // Confirming a commit edits nothing, and servers refuse locks while one is pending.
        let lock_mode = match prep.config {
            Some(_) => self.lock.unwrap_or_default(),
            None => Lock::Never,
        };
        let locked = match lock_mode {
            Lock::Never => false,
            mode => {
                let reply = s.rpc(&ops::lock(target), timeout)?;
                match reply.error_text() {
                    None => true,
                    Some(_) if mode == Lock::Always => {
                        return Err(Step::Failed(rpc_failure(
                            host,
                            &format!("locking {target}"),
                            &reply,
                        )))
                    }
                    Some(_) => false,
                }
            }
        };
        let outcome = self.change(s, ctx, prep, target, timeout, &before);
        if outcome.is_err() && candidate {
            // Leave nothing half-applied in the candidate for the next session.
            let _ = s.rpc(&ops::discard_changes(), timeout);
        }
        if locked {
            let _ = s.rpc(&ops::unlock(target), timeout);
        }
        let (changed, after) = outcome?;
        if changed {
            r.status = Status::Changed;
            if ctx.diff {
                r.diff = Some(unified(&before, &after));
            }
        }
        if self.save == Some(true) && !ctx.check_mode && s.has(":startup") {
            let reply = s.rpc(
                "<copy-config><target><startup/></target><source><running/></source></copy-config>",
                timeout,
            )?;
            if reply.error_text().is_some() {
                return Err(Step::Failed(rpc_failure(host, "saving to startup", &reply)));
            }
        }
        r.data = Value::Object(data);
        Ok(r)
    }

    /// Edit, validate, commit or discard; (changed, the config after).
    fn change(
        &self,
        s: &mut NetconfSession,
        ctx: &ActionCtx<'_>,
        prep: &Prepared,
        target: &str,
        timeout: Duration,
        before: &str,
    ) -> Result<(bool, String), Step> {
        let host = ctx.host;
        let candidate = target == "candidate";
        let fail = |what: &str, reply: &crate::transport::netconf::Reply| {
            Step::Failed(rpc_failure(host, what, reply))
        };
        if ctx.check_mode && !candidate {
            // Nothing can be tried without changing the device.
            return Ok((prep.config.is_some(), before.to_string()));
        }
        if let Some(config) = &prep.config {
            let mut op = ops::edit_config(
                target,
                self.default_operation.map(|o| match o {
                    DefaultOperation::Merge => "merge",
                    DefaultOperation::Replace => "replace",
                    DefaultOperation::None => "none",
                }),
                config,
            );
            if let Some(e) = self.error_option {
                let name = match e {
                    ErrorOption::StopOnError => "stop-on-error",
                    ErrorOption::ContinueOnError => "continue-on-error",
                    ErrorOption::RollbackOnError => "rollback-on-error",
                };
                op = op.replacen(
                    "</target>",
                    &format!("</target><error-option>{name}</error-option>"),
                    1,
                );
            }
            let reply = s.rpc(&op, timeout)?;
            if reply.error_text().is_some() {
                return Err(fail(&format!("edit-config on {target}"), &reply));
            }
        }
        if self.validate == Some(true) {
            if !s.has(":validate") {
                return Err(Step::Failed(TaskResult::failed(format!(
                    "{host}: `validate: true`, but the server has no :validate capability"
                ))));
            }
            let reply = s.rpc(&ops::validate(target), timeout)?;
            if reply.error_text().is_some() {
                return Err(fail(&format!("validate {target}"), &reply));
            }
        }
        if !candidate {
            let after = get_config(s, "running", prep.filter.as_ref(), timeout, host)?;
            return Ok((after != before, after));
        }
        let pending = get_config(s, "candidate", prep.filter.as_ref(), timeout, host)?;
        let changed = pending != before;
        let confirming = self.confirm_commit == Some(true) || prep.persist_id.is_some();
        let commit = self.commit.unwrap_or(true) && !ctx.check_mode && (changed || confirming);
        if !commit {
            let reply = s.rpc(&ops::discard_changes(), timeout)?;
            if reply.error_text().is_some() {
                return Err(fail("discard-changes", &reply));
            }
            return Ok((changed, pending));
        }
        let confirm = self.confirm.filter(|c| *c > 0);
        if (confirm.is_some() || prep.persist_id.is_some()) && !s.has(":confirmed-commit") {
            return Err(Step::Failed(TaskResult::failed(format!(
                "{host}: a confirmed commit needs the server's :confirmed-commit capability"
            ))));
        }
        let reply = s.rpc(
            &ops::commit(confirm, prep.persist.as_deref(), prep.persist_id.as_deref()),
            timeout,
        )?;
        if reply.error_text().is_some() {
            return Err(fail("commit", &reply));
        }
        let after = get_config(s, "running", prep.filter.as_ref(), timeout, host)?;
        Ok((after != before || confirming, after))
    }
}

fn get_config(
    s: &mut NetconfSession,
    source: &str,
    filter: Option<&Filter>,
    timeout: Duration,
    host: &str,
) -> Result<String, Step> {
    let reply = s.rpc(&ops::get_config(source, filter), timeout)?;
    if reply.error_text().is_some() {
        return Err(Step::Failed(rpc_failure(
            host,
            &format!("get-config {source}"),
            &reply,
        )));
    }
    Ok(ops::data_xml(&reply.xml, true).unwrap_or_default())
}

fn unified(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .header("running (before)", "running (after)")
        .to_string()
}
