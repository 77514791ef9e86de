//! `netorch compliance -i INV --intended TEMPLATE_OR_DIR [--running live|STORE]`: compare
//! each host's intended config with its running config and report per host: compliant or
//! not, the missing and extra statements, and the remediation.
//!
//! Live, it is a check-mode run of one `config` task in `mode: replace` (nothing is sent);
//! from a backup store it reads each host's latest backup and connects to nothing. Secrets
//! are compared masked on both sides, as the store holds them.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::{remediate, Scope, Tree};
use crate::error::{ExitCode, Result};
use crate::report::{Layout, Status};
use crate::Error;

use super::common::{absolute, PlayOpts, RunOpts};
use super::run::{execute, playbook_in_memory, RunRequest};

#[derive(Debug, clap::Args)]
pub struct ComplianceArgs {
    #[command(flatten)]
    pub opts: RunOpts,

    #[command(flatten)]
    pub play: PlayOpts,

    /// The intended config: a template rendered per host (Jinja, with the host's
    /// variables), or a folder of `<host>.cfg` files.
    #[arg(long, value_name = "TEMPLATE_OR_DIR")]
    pub intended: PathBuf,

    /// Where the running configs come from: `live` (read over SSH, nothing is sent) or a
    /// backup store folder (each host's latest backup; no connection at all).
    #[arg(long, value_name = "live|STORE", default_value = "live")]
    pub running: String,

    /// Only these top-level sections (glob patterns); repeat for several.
    #[arg(long, value_name = "SECTION")]
    pub scope: Vec<String>,

    /// Statements (regexes) that are no difference; repeat for several.
    #[arg(long, value_name = "REGEX")]
    pub ignore: Vec<String>,
}

/// One host's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct HostCompliance {
    pub host: String,
    /// `compliant`, `not_compliant`, `failed` or `unreachable`.
    pub status: &'static str,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub remediation: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn run(args: ComplianceArgs, verbose: u8) -> Result<ExitCode> {
    Scope::new(&args.scope, &args.ignore).map_err(Error::Usage)?;
    let intended = absolute(&args.intended)?;
    if !intended.exists() {
        return Err(Error::Usage(format!(
            "--intended {}: no such template or folder",
            args.intended.display()
        )));
    }
    let hosts = if args.running == "live" {
        live(&args, &intended, verbose)?
    } else {
        from_store(&args, &intended, Path::new(&args.running))?
    };
    let json = args.opts.json;
    let out = if json {
        let mut s = serde_json::to_string_pretty(&json!({
            "intended": args.intended.display().to_string(),
            "running": args.running,
            "hosts": hosts,
            "summary": summary(&hosts),
        }))
        .map_err(|e| Error::Usage(e.to_string()))?;
        s.push('\n');
        s
    } else {
        text(&hosts)
    };
    if let Some(path) = &args.opts.junit {
        std::fs::write(path, junit(&hosts)).map_err(|e| Error::io(path, e))?;
    }
    super::common::print_out(&out)?;
    let worst = hosts
        .iter()
        .map(|h| match h.status {
            "compliant" => ExitCode::Ok,
            "unreachable" => ExitCode::HostUnreachable,
            _ => ExitCode::HostFailed,
        })
        .max_by_key(|c| c.code())
        .unwrap_or(ExitCode::Ok);
    Ok(worst)
}

/// The intended config as the `config` task reads it: the template, or the host's file.
fn intended_src(intended: &Path) -> String {
    let raw = |p: &Path| format!("{{% raw %}}{}{{% endraw %}}", p.display());
    if intended.is_dir() {
        format!("{}/{{{{ inventory_hostname }}}}.cfg", raw(intended))
    } else {
        raw(intended)
    }
}

fn live(args: &ComplianceArgs, intended: &Path, verbose: u8) -> Result<Vec<HostCompliance>> {
    let mut req = RunRequest::load(&args.opts, &[], verbose)?;
    req.check = true;
    req.json = false;
    req.junit = None;
    req.layout = Layout::Quiet;
    let mut play = serde_json::Map::new();
    play.insert("name".into(), Value::from("compliance"));
    play.insert("hosts".into(), Value::from("all"));
    args.play.apply(&mut play);
    play.insert(
        "tasks".into(),
        json!([{
            "name": "compliance",
            "config": {
                "mode": "replace",
                "src": intended_src(intended),
                "scope": args.scope,
                "ignore": args.ignore,
            },
        }]),
    );
    req.playbooks = vec![playbook_in_memory(
        Path::new("<netorch compliance>"),
        Value::Object(play),
    )?];
    let report = execute(req)?;
    let mut out = Vec::new();
    for task in report.plays.iter().flat_map(|p| p.tasks.iter()) {
        for h in &task.hosts {
            let r = &h.result;
            let strings = |key: &str| -> Vec<String> {
                r.data[key]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (missing, extra) = (strings("missing"), strings("extra"));
            // A difference in a line holding a masked secret is a difference, though no
            // command can be shown for it.
            let status = match r.status {
                Status::Ok if missing.is_empty() && extra.is_empty() => "compliant",
                Status::Ok | Status::Changed => "not_compliant",
                Status::Unreachable => "unreachable",
                _ => "failed",
            };
            out.push(HostCompliance {
                host: h.host.clone(),
                status,
                missing,
                extra,
                remediation: strings("pending"),
                error: (status == "failed" || status == "unreachable")
                    .then(|| r.msg.clone().unwrap_or_default()),
            });
        }
    }
    out.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(out)
}

fn from_store(args: &ComplianceArgs, intended: &Path, store: &Path) -> Result<Vec<HostCompliance>> {
    let store = crate::backup::Store::open(store).map_err(|e| {
        Error::Usage(format!(
            "--running {}: not `live` and not a backup store ({e})",
            store.display()
        ))
    })?;
    let files = store.files().map_err(|e| Error::Usage(e.to_string()))?;
    let inventory = args.opts.inv.load(&[])?;
    let extra = args.opts.inv.extra_vars()?;
    let profiles = super::platforms::load_profiles(&args.opts.inv.inventory)?;
    let pattern = args.opts.limit.clone().unwrap_or_else(|| "all".into());
    let selected = inventory.select(&pattern)?;
    let dir = if intended.is_dir() {
        intended.to_path_buf()
    } else {
        intended
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let templates = crate::jinja::Templates::new(vec![dir]);
    let mut out = Vec::new();
    for host in selected {
        let failed = |msg: String| HostCompliance {
            host: host.name.clone(),
            status: "failed",
            missing: Vec::new(),
            extra: Vec::new(),
            remediation: Vec::new(),
            error: Some(msg),
        };
        let Some(profile) = profiles.get(&host.platform()) else {
            out.push(failed(format!("unknown platform `{}`", host.platform())));
            continue;
        };
        let cfg = format!("{}.cfg", host.name);
        let Some(file) = files
            .iter()
            .find(|f| f.rsplit('/').next() == Some(cfg.as_str()))
        else {
            out.push(failed(format!("no backup of `{}` in the store", host.name)));
            continue;
        };
        let running = match store.read(file) {
            Ok(Some(t)) => t,
            Ok(None) => {
                out.push(failed(format!("no backup of `{}` in the store", host.name)));
                continue;
            }
            Err(e) => {
                out.push(failed(e.to_string()));
                continue;
            }
        };
        let path = if intended.is_dir() {
            intended.join(&cfg)
        } else {
            intended.to_path_buf()
        };
        let source = match crate::source::read_source(&path) {
            Ok(s) => s,
            Err(e) => {
                out.push(failed(e.to_string()));
                continue;
            }
        };
        let ctx = crate::vars::host_context(
            &host.name,
            &host.groups,
            &host.vars,
            &Default::default(),
            &extra,
        );
        let (ctx, _) = crate::vars::resolve_vars(&templates, &ctx);
        let text = match templates.render_lines_named(
            &source,
            &ctx,
            &path.display().to_string(),
            "config line",
        ) {
            Ok(t) => t,
            Err(e) => {
                out.push(failed(e.to_string()));
                continue;
            }
        };
        // The store holds configs masked: the intended side is compared masked too.
        let mask = |t: &str| crate::backup::normalize::mask_text(t, &profile.secret_patterns);
        let syn = &profile.syntax;
        let run_tree = match Tree::parse(&mask(&running), syn) {
            Ok(t) => t,
            Err(e) => {
                out.push(failed(format!("backup of `{}`: {e}", host.name)));
                continue;
            }
        };
        let want = match Tree::parse_guided(&mask(&text), syn, Some(&run_tree)) {
            Ok(t) => t,
            Err(e) => {
                out.push(failed(format!("{}: {e}", path.display())));
                continue;
            }
        };
        let scope = Scope::new(&args.scope, &args.ignore).map_err(Error::Usage)?;
        let plan = remediate(&run_tree, &want, syn, &scope);
        let paths = |v: &[Vec<String>]| v.iter().map(|p| p.join(" > ")).collect::<Vec<_>>();
        out.push(HostCompliance {
            host: host.name.clone(),
            status: if plan.is_empty() && plan.missing.is_empty() && plan.extra.is_empty() {
                "compliant"
            } else {
                "not_compliant"
            },
            missing: paths(&plan.missing),
            extra: paths(&plan.extra),
            remediation: plan.lines(syn),
            error: None,
        });
    }
    out.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(out)
}

fn summary(hosts: &[HostCompliance]) -> Value {
    let count = |s: &str| hosts.iter().filter(|h| h.status == s).count();
    json!({
        "hosts": hosts.len(),
        "compliant": count("compliant"),
        "not_compliant": count("not_compliant"),
        "failed": count("failed") + count("unreachable"),
    })
}

fn text(hosts: &[HostCompliance]) -> String {
    let w = hosts.iter().map(|h| h.host.len()).max().unwrap_or(4).max(4);
    let mut out = String::new();
    for h in hosts {
        let what = match h.status {
            "compliant" => "compliant".to_string(),
            "not_compliant" => format!(
                "NOT compliant: {} missing, {} extra",
                h.missing.len(),
                h.extra.len()
            ),
            other => format!(
                "{other}: {}",
                crate::terminal::escape(h.error.as_deref().unwrap_or_default())
            ),
        };
        out.push_str(&format!("{:<w$}  {what}\n", h.host));
        for m in &h.missing {
            out.push_str(&format!("    missing  {}\n", crate::terminal::escape(m)));
        }
        for x in &h.extra {
            out.push_str(&format!("    extra    {}\n", crate::terminal::escape(x)));
        }
        if !h.remediation.is_empty() {
            out.push_str("    remediation:\n");
            for l in &h.remediation {
                out.push_str(&format!("      {}\n", crate::terminal::escape(l)));
            }
        }
    }
    let s = summary(hosts);
    out.push_str(&format!(
        "{} host(s): {} compliant, {} not compliant, {} failed\n",
        s["hosts"], s["compliant"], s["not_compliant"], s["failed"]
    ));
    out
}

fn junit(hosts: &[HostCompliance]) -> String {
    use crate::report::junit::escape;
    let failures = hosts.iter().filter(|h| h.status != "compliant").count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"compliance\" tests=\"{}\" failures=\"{failures}\">\n",
        hosts.len()
    );
    for h in hosts {
        out.push_str(&format!(
            "    <testcase classname=\"compliance\" name=\"{}\"",
            escape(&h.host)
        ));
        if h.status == "compliant" {
            out.push_str("/>\n");
            continue;
        }
        let detail: Vec<String> = h
            .missing
            .iter()
            .map(|m| format!("missing: {m}"))
            .chain(h.extra.iter().map(|x| format!("extra: {x}")))
            .chain(h.error.iter().cloned())
            .collect();
        out.push_str(&format!(
            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
            escape(h.status),
            escape(&detail.join("\n"))
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
