//! `netorch completions bash|zsh|fish|...`: shell completion scripts from the clap model.

use clap::CommandFactory;

use crate::error::{ExitCode, Result};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = super::Cli::command();
    // Into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "netorch", &mut script);
    super::common::print_out(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::Ok)
}
