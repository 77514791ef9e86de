//! `netorch daemon --config schedule.yml [--listen 127.0.0.1:9469]`: run playbooks and
//! backups on a schedule until SIGTERM (see [`crate::schedule`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::error::{ExitCode, Result};
use crate::schedule::{self, DaemonOptions};
use crate::Error;

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

    /// Only check the schedule and print each job's command and next run.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: DaemonArgs) -> Result<ExitCode> {
    let mut sched = schedule::load(&args.config)?;
    if let Some(p) = args.status_file {
        sched.status_file = p;
    }
    if args.check {
        let now = chrono::Utc::now();
        for j in &sched.jobs {
            let next = j
                .when
                .next_after(now)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_else(|| "never".into());
            println!(
                "{}: {}, next {next}: netorch {}",
                j.name,
                j.when.describe(),
                j.args
                    .iter()
                    .map(|a| shlex::try_quote(a).map_or_else(|_| a.clone(), |q| q.into_owned()))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        return Ok(ExitCode::Ok);
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
