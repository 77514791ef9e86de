//! netorch-sim binary: parse the command line and run the simulator until SIGTERM/SIGINT.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let opts = netorch_sim::app::Opts::parse();
    match netorch_sim::app::run(opts) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netorch-sim: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
