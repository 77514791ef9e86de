//! The command line: argument parsing (clap derive), one file per subcommand, and the one
//! place that prints a fatal error and chooses the exit code.

mod backup;
mod check;
mod common;
mod completions;
mod compliance;
mod config;
mod daemon;
mod exec;
mod inventory;
mod manpages;
mod parse;
mod platforms;
mod push;
mod report;
mod rollback;
pub mod run;
mod template;

pub use common::{parse_extra_vars, InventoryOpts};

use clap::{Parser, Subcommand};

use crate::error::ExitCode;

/// The exit-code contract, shown by `netorch --help` (scripts and schedulers rely on it).
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    every host ok
  2    some host failed
  3    some host unreachable
  4    invalid input (inventory, playbook, template, schedule, vars file)
  5    bad command-line options
  130  interrupted (Ctrl-C)
  141  stdout was closed by its reader (`| head`)
Any other status (101: a panic) is a defect in netorch: please report it.";

/// netorch: run playbooks against network devices, back up configs into git, distribute files.
#[derive(Debug, Parser)]
#[command(
    name = "netorch",
    about,
    version,
    // `--version` says which commit and when; `-V` the version alone.
    long_version = crate::version::LONG,
    propagate_version = true,
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// With --version: print it as JSON (name, version, commit, build_date, target).
    #[arg(long, hide_short_help = true)]
    pub json: bool,

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
    /// Run playbooks and backups on a schedule (cron or interval) until SIGTERM, with a web
    /// interface.
    Daemon(daemon::DaemonArgs),
    /// Send a file to many hosts (verified, atomic, resumable), without a playbook.
    Push(push::PushArgs),
    /// Fetch a file from many hosts into LOCAL_DIR/<host>/.
    Pull(push::PullArgs),
    /// Compare each host's intended config with its running config (live or backed up).
    Compliance(compliance::ComplianceArgs),
    /// Bring hosts back to the config they had before a run changed it.
    Rollback(rollback::RollbackArgs),
    /// Work with configs offline: `remediate` prints the commands from one config to another.
    Config(config::ConfigArgs),
    /// Parse saved command output into records offline (TextFSM, JSON, regex).
    Parse(parse::ParseArgs),
    /// Work with run reports: `merge` joins a sharded run's reports into one.
    Report(report::ReportArgs),
    /// Print shell completions.
    Completions(completions::CompletionsArgs),
    /// Write the man pages into a folder (for packagers).
    #[command(hide = true)]
    Manpages(manpages::ManpagesArgs),
}

fn print_version(json: bool) -> i32 {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&crate::version::BUILD).unwrap_or_default()
        );
    } else {
        println!("netorch {}", crate::version::LONG);
    }
    ExitCode::Ok.code()
}

/// Parse the command line, run the subcommand, print any error, return the exit code.
pub fn main_entry() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints --version as soon as it meets it; `--json` asks for the same as
            // data, wherever it stands.
            if e.kind() == clap::error::ErrorKind::DisplayVersion
                && std::env::args().any(|a| a == "--json")
            {
                return print_version(true);
            }
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
    let command = cli.command;
    // The daemon's job start/end lines are its main output: info by default.
    let daemon = matches!(command, Command::Daemon(_));
    init_logging(cli.verbose, daemon);
    let result = match command {
        Command::Run(args) => run::run(args, cli.verbose),
        Command::Check(args) => check::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Template(args) => template::run(args),
        Command::Exec(args) => exec::run(args, cli.verbose),
        Command::Backup(args) => backup::run(args, cli.verbose),
        Command::Daemon(args) => daemon::run(args),
        Command::Push(args) => push::push(args, cli.verbose),
        Command::Pull(args) => push::pull(args, cli.verbose),
        Command::Config(args) => config::run(args),
        Command::Rollback(args) => rollback::run(args, cli.verbose),
        Command::Compliance(args) => compliance::run(args, cli.verbose),
        Command::Parse(args) => parse::run(args),
        Command::Report(args) => report::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Manpages(args) => manpages::run(args),
    };
    match result {
        Ok(code) => code.code(),
        Err(e) if common::is_closed_pipe(&e) => common::CLOSED_PIPE_STATUS,
        Err(e) => {
            // An error may quote a value decrypted from ansible-vault (or a vault password).
            let mut redactor = crate::secret::Redactor::new();
            for v in crate::vault::secret_values() {
                redactor.add(&v);
            }
            eprintln!("error: {}", redactor.redact(&e.to_string()));
            e.exit_code().code()
        }
    }
}

fn init_logging(verbose: u8, daemon: bool) {
    let default = match (daemon, verbose) {
        (false, 0 | 1) => "warn",
        (true, 0) => "info",
        (false, 2) | (true, 1) => "info,netorch=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NETORCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // The FTP library traces every control command it sends, `PASS <password>` included:
    // its control channel is never logged below debug, whatever NETORCH_LOG asks.
    let filter = match "suppaftp::sync_ftp::control=debug".parse() {
        Ok(d) => filter.add_directive(d),
        Err(_) => filter,
    };
    // The HTTP client's trace level dumps the wire, the Authorization header included:
    // where trace is asked for, the client stops at debug (a directive raises as well as
    // lowers, so it is added only then).
    let filter = if filter.max_level_hint() == Some(tracing_subscriber::filter::LevelFilter::TRACE)
    {
        ["ureq=debug", "ureq_proto=debug"]
            .iter()
            .filter_map(|d| d.parse().ok())
            .fold(filter, |f, d| f.add_directive(d))
    } else {
        filter
    };
    // Colour codes only for a person at a terminal: a daemon's log file or journal, and a
    // job's captured stderr, must stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every argument of every subcommand, with the subcommand path, for the help checks.
    fn all_args(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        for a in cmd.get_arguments() {
            out.push((path.to_string(), a.clone()));
        }
        for sub in cmd.get_subcommands() {
            all_args(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_has_help_that_speaks_to_users() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut args = Vec::new();
        all_args(&cmd, "netorch", &mut args);
        assert!(args.len() > 40, "{}", args.len());
        let bad: Vec<String> = args
            .iter()
            .filter_map(|(path, a)| {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                if help.trim().is_empty() {
                    Some(format!("{path}: `{}` has no help", a.get_id()))
                } else if help.to_lowercase().contains("clap") {
                    Some(format!(
                        "{path}: `{}` talks about the parser: {help}",
                        a.get_id()
                    ))
                } else {
                    None
                }
            })
            .collect();
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn help_lists_the_exit_codes() {
        let help = Cli::command().render_help().to_string();
        for code in ["0 ", "2 ", "3 ", "4 ", "5 ", "130 "] {
            assert!(help.contains(&format!("\n  {code}")), "{code}: {help}");
        }
    }
}
