//! netorch: network automation and file transfer orchestrator.
//!
//! # Layout
//! Data flows one way: CLI -> load inventory + playbook -> plan -> executor -> actions ->
//! transports -> events -> report.
//!
//! - [`source`]: reading user files (size cap, UTF-8, YAML) into typed values with
//!   file:line:col errors and "did you mean" hints. Every loader goes through it.
//! - [`secret`]: the `Secret` type and the `Redactor` that masks secrets in any output.
//! - [`inventory`]: hosts, groups, variables and their precedence, host patterns.
//! - [`playbook`]: plays and tasks as written (`*Spec`) and validated.
//! - [`template`]: the minijinja environment (strict undefined, network filters).
//! - [`transport`]: bytes over the wire (SSH sessions, exec channels).
//! - [`device`]: the interactive device CLI: channel, mode driver, platform profiles.
//! - [`backup`]: config backups into a git store (normalise, sanity checks, one writer).
//! - [`cli`]: one file per subcommand; `main.rs` only maps errors to exit codes.
//! - [`schedule`]: the daemon: cron/interval jobs run as child processes, status, metrics.
//! - [`error`]: the library's error type and the exit-code contract.
//! - [`interrupt`]: the Ctrl-C flag that long waits check while they sleep.

pub mod actions;
pub mod backup;
pub mod cli;
pub mod device;
pub mod error;
pub mod executor;
pub mod interrupt;
pub mod inventory;
pub mod playbook;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod source;
pub mod template;
pub mod transport;
pub mod vars;

pub use error::{Error, ExitCode, Result};
