//! `netorch daemon --config schedule.yml [--listen 127.0.0.1:9469]`: run playbooks and
//! backups on a schedule until SIGTERM (see [`crate::schedule`]) and serve the web
//! interface ([`crate::web`]); `netorch daemon hash-password` makes a web user's hash.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::error::{ExitCode, Result};
use crate::schedule::{self, DaemonOptions};
use crate::source::LoadError;
use crate::Error;

use super::common::print_out;
use super::{Cli, Command};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub action: Option<DaemonAction>,

    /// The schedule file (jobs with `cron` or `every`).
    #[arg(short, long, value_name = "FILE", env = "NETORCH_SCHEDULE")]
    pub config: Option<PathBuf>,

    /// Serve the web interface, `GET /status` (JSON) and `GET /metrics` (Prometheus) on
    /// this address (overrides the schedule's `web: {listen: ...}`).
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

#[derive(Debug, Subcommand)]
pub enum DaemonAction {
    /// Print an argon2 hash of a password for a web user (`password_hash:` under `web:
    /// users:`). The password is read from the terminal without echo, or from standard input.
    HashPassword,
}

pub fn run(args: DaemonArgs) -> Result<ExitCode> {
    if let Some(DaemonAction::HashPassword) = args.action {
        return hash_password();
    }
    let Some(config) = args.config else {
        return Err(Error::Usage(
            "daemon: give the schedule with --config FILE (or NETORCH_SCHEDULE)".into(),
        ));
    };
    let mut sched = schedule::load(&config)?;
    if let Some(p) = args.status_file {
        sched.status_file = p;
    }
    if args.check {
        return check(&config, &sched);
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

/// `daemon hash-password`: read a password (twice on a terminal, without echo; once from a
/// pipe) and print its argon2id hash.
fn hash_password() -> Result<ExitCode> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let read_line = |prompt: &str| -> Result<String> {
        let tty = stdin.is_terminal();
        let mut err = std::io::stderr();
        let saved = if tty {
            let _ = err.write_all(prompt.as_bytes());
            let _ = err.flush();
            let saved = rustix::termios::tcgetattr(&stdin).ok();
            if let Some(t) = &saved {
                let mut quiet = t.clone();
                quiet.local_modes -= rustix::termios::LocalModes::ECHO;
                let _ = rustix::termios::tcsetattr(
                    &stdin,
                    rustix::termios::OptionalActions::Now,
                    &quiet,
                );
            }
            saved
        } else {
            None
        };
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        if let Some(t) = &saved {
            let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, t);
        }
        if tty {
            let _ = err.write_all(b"\n");
        }
        read.map_err(|e| Error::Usage(format!("cannot read the password: {e}")))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let password = read_line("Password: ")?;
    if password.is_empty() {
        return Err(Error::Usage("the password is empty".into()));
    }
    if stdin.is_terminal() && read_line("Again: ")? != password {
        return Err(Error::Usage("the two passwords differ".into()));
    }
    let hash = crate::web::auth::hash_password(&password).map_err(Error::Usage)?;
    print_out(&format!("{hash}\n"))?;
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
