//! The command line: argument parsing (clap derive), one file per subcommand, and the one
//! place that prints a fatal error and chooses the exit code.

mod backup;
mod check;
mod common;
mod completions;
mod daemon;
mod exec;
mod inventory;
mod platforms;
mod push;
pub mod run;
mod template;

pub use common::{parse_extra_vars, InventoryOpts};

use clap::{Parser, Subcommand};

use crate::error::ExitCode;

/// netorch: run playbooks against network devices, back up configs into git, distribute files.
#[derive(Debug, Parser)]
#[command(name = "netorch", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More output: -v adds command output, -vv transport detail.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run playbooks against the inventory.
    Run(run::RunArgs),
    /// Validate playbooks and inventory without connecting to anything.
    Check(check::CheckArgs),
    /// Show the inventory: hosts, one host's variables, the group tree.
    Inventory(inventory::InventoryArgs),
    /// Render a template for one host and print it.
    Template(template::TemplateArgs),
    /// Run ad-hoc commands on many hosts, output per host.
    Exec(exec::ExecArgs),
    /// Back up running configs into a git store; `log`, `diff`, `show` read it back.
    Backup(backup::BackupArgs),
    /// Run playbooks and backups on a schedule (cron or interval) until SIGTERM.
    Daemon(daemon::DaemonArgs),
    /// Send a file to many hosts (verified, atomic, resumable), without a playbook.
    Push(push::PushArgs),
    /// Fetch a file from many hosts into LOCAL_DIR/<host>/.
    Pull(push::PullArgs),
    /// Print shell completions.
    Completions(completions::CompletionsArgs),
}

/// Parse the command line, run the subcommand, print any error, return the exit code.
pub fn main_entry() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::Ok,
                _ => ExitCode::BadOptions,
            };
            let _ = e.print();
            return code.code();
        }
    };
    // The daemon's job start/end lines are its main output: info by default.
    let daemon = matches!(cli.command, Command::Daemon(_));
    let log_level = if daemon {
        cli.verbose.max(2)
    } else {
        cli.verbose
    };
    init_logging(log_level);
    let result = match cli.command {
        Command::Run(args) => run::run(args, cli.verbose),
        Command::Check(args) => check::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Template(args) => template::run(args),
        Command::Exec(args) => exec::run(args, cli.verbose),
        Command::Backup(args) => backup::run(args, cli.verbose),
        Command::Daemon(args) => daemon::run(args),
        Command::Push(args) => push::push(args, cli.verbose),
        Command::Pull(args) => push::pull(args, cli.verbose),
        Command::Completions(args) => completions::run(args),
    };
    match result {
        Ok(code) => code.code(),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code().code()
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 | 1 => "warn",
        2 => "info,netorch=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NETORCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
