//! `netorch daemon --config schedule.yml [--listen 127.0.0.1:9469]`: run playbooks and
//! backups on a schedule until SIGTERM (see [`crate::schedule`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser};

use crate::error::{ExitCode, Result};
use crate::schedule::{self, DaemonOptions};
use crate::source::LoadError;
use crate::Error;

use super::common::print_out;
use super::{Cli, Command};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The schedule file (jobs with `cron` or `every`).
    #[arg(short, long, value_name = "FILE", env = "NETORCH_SCHEDULE")]
    pub config: PathBuf,

    /// Serve `GET /status` (JSON) and `GET /metrics` (Prometheus) on this address.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Write the JSON status here (overrides the schedule's `status_file`).
    #[arg(long, value_name = "FILE")]
    pub status_file: Option<PathBuf>,

    /// Only check the schedule: each job's playbook and inventory are loaded and validated
    /// as `netorch check` does; prints each job's command and next run.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: DaemonArgs) -> Result<ExitCode> {
    let mut sched = schedule::load(&args.config)?;
    if let Some(p) = args.status_file {
        sched.status_file = p;
    }
    if args.check {
        return check(&args.config, &sched);
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::Usage(format!("cannot find the netorch executable: {e}")))?;
    schedule::run(DaemonOptions {
        schedule: sched,
        listen: args.listen,
        exe,
    })?;
    Ok(ExitCode::Ok)
}

/// `daemon --check`: every job validated completely (its playbook and inventory exist and
/// pass `check`, its limit matches hosts), so a typo fails now rather than at 3 a.m.
fn check(config: &Path, sched: &schedule::Schedule) -> Result<ExitCode> {
    let now = chrono::Utc::now();
    let mut text = String::new();
    let mut errors = Vec::new();
    for j in &sched.jobs {
        if let Err(e) = check_job(&j.args) {
            errors.push(LoadError::file(
                config,
                format!("job `{}`: {}", j.name, e.to_string().replace('\n', "\n  ")),
            ));
            continue;
        }
        let next = j
            .when
            .next_after(now)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "never".into());
        let env = j.shown_env();
        text.push_str(&format!(
            "{}: {}, next {next}: {env}{}netorch {}\n",
            j.name,
            j.when.describe(),
            if env.is_empty() { "" } else { " " },
            j.args
                .iter()
                .map(|a| shlex::try_quote(a).map_or_else(|_| a.clone(), |q| q.into_owned()))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        if let Some(n) = &j.notify {
            let targets: Vec<String> = n
                .targets
                .iter()
                .map(|t| {
                    let on: Vec<&str> = t.on().iter().map(|e| e.as_str()).collect();
                    format!("{} (on {})", t.label(), on.join(", "))
                })
                .collect();
            text.push_str(&format!("  notify: {}\n", targets.join("; ")));
        }
    }
    print_out(&text)?;
    match errors.len() {
        0 => Ok(ExitCode::Ok),
        1 => Err(Error::Load(errors.remove(0))),
        _ => Err(Error::LoadMany(errors)),
    }
}

/// Validate one job's command line the way its run would load it, without connecting.
fn check_job(args: &[String]) -> Result<()> {
    let cli =
        Cli::try_parse_from(std::iter::once("netorch".to_string()).chain(args.iter().cloned()))
            .map_err(|e| Error::Usage(e.to_string().trim().to_string()))?;
    match cli.command {
        Command::Run(a) => {
            super::check::run(super::check::CheckArgs {
                playbooks: a.playbooks,
                inv: a.opts.inv,
                limit: a.opts.limit,
                quiet: true,
            })?;
        }
        Command::Backup(b) => {
            let req = super::run::RunRequest::load(&b.run.opts, &[], 0)?;
            if let Some(limit) = &req.limit {
                if req.inventory.select(limit)?.is_empty() {
                    return Err(super::run::no_host_for_limit(&req.inventory, limit, &[]));
                }
            } else if req.inventory.hosts.is_empty() {
                return Err(Error::Usage("the inventory has no host".into()));
            }
        }
        _ => {}
    }
    Ok(())
}
