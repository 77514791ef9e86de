//! `netorch exec -i INV --limit P 'COMMAND'...`: ad-hoc commands on many hosts at once,
//! output per host (or one JSON document keyed by host with `--json`).

use std::io::Write;
use std::sync::Arc;

use crate::device::{run_commands_on_host, CommandStatus, HostOutcome, HostStatus};
use crate::error::{ExitCode, Result};
use crate::secret::Redactor;
use crate::template::Templates;
use crate::transport::settings::{ConnectionSettings, HostKeyChecking, CONNECTION_VARS};
use crate::transport::ssh::SshOptions;
use crate::vars::{host_context, resolve_vars};
use crate::Error;

use super::common::InventoryOpts;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub inv: InventoryOpts,

    /// Hosts to run on (a host pattern; default: all).
    #[arg(short, long, default_value = "all")]
    pub limit: String,

    /// How many hosts at once.
    #[arg(short, long, default_value_t = crate::executor::DEFAULT_FORKS, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub forks: u32,

    /// One JSON document keyed by host instead of text.
    #[arg(long)]
    pub json: bool,

    /// Host key checking for every host: strict, accept-new or off (overrides the inventory).
    #[arg(long, value_name = "MODE", value_parser = super::common::parse_host_key_checking)]
    pub host_key_checking: Option<HostKeyChecking>,

    /// The commands, sent in order on each host.
    #[arg(required = true, value_name = "COMMAND")]
    pub commands: Vec<String>,
}

pub fn run(args: ExecArgs, verbose: u8) -> Result<ExitCode> {
    let inventory = args.inv.load(&[])?;
    let extra = args.inv.extra_vars()?;
    let profiles = Arc::new(super::platforms::load_profiles(&args.inv.inventory)?);
    let hosts = inventory.select(&args.limit)?;
    if hosts.is_empty() {
        return Err(Error::Usage(format!(
            "--limit `{}` matches no host in the inventory",
            args.limit
        )));
    }
    let templates = Templates::new(Vec::new());
    let mut redactor = Redactor::new();
    for s in inventory.secret_values() {
        redactor.add(&s);
    }
    // Settings per host, rendered now; a host whose settings are wrong fails alone.
    let mut jobs = Vec::with_capacity(hosts.len());
    let mut early: Vec<HostOutcome> = Vec::new();
    for h in &hosts {
        let ctx = host_context(&h.name, &h.groups, &h.vars, &Default::default(), &extra);
        let (vars, unresolved) = resolve_vars(&templates, &ctx);
        for secret in crate::inventory::secret_values_of(&vars) {
            redactor.add(&secret);
        }
        let problem = unresolved
            .iter()
            .find(|(k, _)| CONNECTION_VARS.contains(&k.as_str()))
            .map(|(k, e)| format!("variable `{k}` could not be rendered: {e}"));
        match (problem, ConnectionSettings::from_vars(&h.name, &vars)) {
            (None, Ok(s)) => jobs.push(s),
            (Some(p), _) => early.push(failed_outcome(&h.name, &h.platform(), p)),
            (None, Err(e)) => early.push(failed_outcome(&h.name, &h.platform(), e.to_string())),
        }
    }
    let ssh = SshOptions {
        host_key_checking: args.host_key_checking,
        verbose: (verbose >= 2).then(|| {
            Arc::new(|host: &str, msg: &str| tracing::info!("{host}: {msg}"))
                as Arc<dyn Fn(&str, &str) + Send + Sync>
        }),
    };
    let forks = args.forks as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(forks + 8)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let commands = Arc::new(args.commands.clone());
    let json = args.json;
    let mut outcomes: Vec<HostOutcome> = rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(forks));
        let mut set = tokio::task::JoinSet::new();
        let mut done = Vec::with_capacity(jobs.len());
        for settings in jobs {
            let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
                break;
            };
            let profiles = Arc::clone(&profiles);
            let commands = Arc::clone(&commands);
            let ssh = ssh.clone();
            set.spawn_blocking(move || {
                let out = run_commands_on_host(&settings, &profiles, &commands, &ssh);
                drop(permit);
                out
            });
            while let Some(Ok(o)) = set.try_join_next() {
                if !json {
                    print_outcome(&o, &redactor, verbose);
                }
                done.push(o);
            }
        }
        while let Some(r) = set.join_next().await {
            if let Ok(o) = r {
                if !json {
                    print_outcome(&o, &redactor, verbose);
                }
                done.push(o);
            }
        }
        done
    });
    rt.shutdown_background();
    for o in &early {
        if !json {
            print_outcome(o, &redactor, verbose);
        }
    }
    outcomes.append(&mut early);
    let order: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    outcomes.sort_by_key(|o| {
        order
            .iter()
            .position(|n| *n == o.host)
            .unwrap_or(usize::MAX)
    });
    if json {
        let doc: serde_json::Map<String, serde_json::Value> = outcomes
            .iter()
            .map(|o| (o.host.clone(), serde_json::to_value(o).unwrap_or_default()))
            .collect();
        let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
        println!("{}", redactor.redact(&text));
    } else {
        let failed = outcomes
            .iter()
            .filter(|o| o.status != HostStatus::Ok)
            .count();
        println!("{} hosts, {failed} with failures", outcomes.len());
    }
    let code = if outcomes.iter().any(|o| o.status == HostStatus::Unreachable) {
        ExitCode::HostUnreachable
    } else if outcomes.iter().any(|o| o.status == HostStatus::Failed) {
        ExitCode::HostFailed
    } else {
        ExitCode::Ok
    };
    Ok(code)
}

fn failed_outcome(host: &str, platform: &str, error: String) -> HostOutcome {
    HostOutcome {
        host: host.to_string(),
        platform: platform.to_string(),
        status: HostStatus::Failed,
        credential: None,
        warnings: Vec::new(),
        error: Some(error),
        commands: Vec::new(),
        elapsed_ms: 0,
    }
}

fn print_outcome(o: &HostOutcome, redactor: &Redactor, verbose: u8) {
    let status = match o.status {
        HostStatus::Ok => "ok",
        HostStatus::Failed => "failed",
        HostStatus::Unreachable => "unreachable",
    };
    let mut text = format!(
        "{} [{}] {status} ({:.2}s)",
        o.host,
        o.platform,
        o.elapsed_ms as f64 / 1000.0
    );
    if verbose > 0 {
        if let Some(c) = &o.credential {
            text.push_str(&format!(" as {c}"));
        }
    }
    for w in &o.warnings {
        text.push_str(&format!("\n  warning: {w}"));
    }
    if let Some(e) = &o.error {
        text.push_str(&format!("\n  error: {e}"));
    }
    for c in &o.commands {
        let mark = match c.status {
            CommandStatus::Ok => "",
            CommandStatus::Failed => " (device rejected it)",
            CommandStatus::Error => " (session error)",
            CommandStatus::Skipped => " (not run)",
        };
        text.push_str(&format!("\n  $ {}{mark}", c.command));
        for l in c.output.lines() {
            text.push_str("\n  ");
            text.push_str(l);
        }
        if let Some(e) = &c.error {
            text.push_str(&format!("\n  error: {e}"));
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", redactor.redact(&text));
}
