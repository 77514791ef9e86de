//! netorch: network automation and file transfer orchestrator.
//!
//! # Layout
//! Data flows one way: CLI -> load inventory + playbook -> plan -> executor -> actions ->
//! device connection -> transport -> events -> report. The README's Architecture section
//! draws the layers and says where a new action, platform, transport and reporter go.
//!
//! Low level, used by everything above:
//! - [`value`]: values users type (durations, booleans, sizes, YAML as JSON, `Vars`), one
//!   set of rules for playbooks, inventories, host variables and the command line.
//! - [`fs`]: local file writes (atomic replace) shared by actions, the CLI and the daemon.
//! - [`source`]: reading user files (size cap, UTF-8, YAML) into typed values with
//!   file:line:col errors and "did you mean" hints. Every loader goes through it.
//! - [`secret`]: the `Secret` type and the `Redactor` that masks secrets in any output.
//! - [`terminal`]: control characters from devices never reach the user's terminal.
//! - [`error`]: the library's error type and the exit-code contract.
//! - [`interrupt`]: the Ctrl-C flag that long waits check while they sleep.
//! - [`jinja`]: the minijinja environment (strict undefined, network filters) for config
//!   templates and `{{ }}` expressions.
//!
//! Loading and planning:
//! - [`inventory`]: hosts, groups, variables and their precedence, host patterns, the
//!   platform each host resolves to.
//! - [`vars`]: the variables a task sees on a host (inventory < play < extra, magic names).
//! - [`playbook`]: plays and tasks as written (`*Spec`) and validated, with file:line:col.
//!
//! Running:
//! - [`executor`]: the plan (plays x hosts x tasks) run by workers on the blocking pool:
//!   forks, strategies, serial batches, host deadlines, Ctrl-C, one connection per host.
//! - [`actions`]: one file per action (arguments, parsing, run) and the action table.
//! - [`device`]: the one connection type (session + platform + driver), the prompt-aware
//!   channel, the mode-graph driver, platform profiles as data.
//! - [`transport`]: bytes and files over the wire (SSH, SFTP, SCP, FTP/FTPS, host keys,
//!   connection settings read from host variables).
//! - [`config`]: the config model: a platform's config as a tree, remediation between two
//!   configs, the prediction of a change (previews, replace, compliance, rollback).
//! - [`parse`]: structured output: TextFSM templates (ntc-templates' index), JSON, regex.
//! - [`backup`]: config backups into a git store (normalise, sanity checks, one writer).
//!
//! Output and entry points:
//! - [`report`]: events -> live progress, recap, JSON, JUnit; the only printer.
//! - [`cli`]: one file per subcommand; `main.rs` only maps errors to exit codes.
//! - [`schedule`]: the daemon: cron/interval jobs run as child processes, status, metrics.
//! - [`notify`]: change and failure notifications (webhooks, SMTP) after a run or a job.

pub mod actions;
pub mod backup;
pub mod cli;
pub mod config;
pub mod device;
pub mod error;
pub mod executor;
pub mod fs;
pub mod interrupt;
pub mod inventory;
pub mod jinja;
pub mod notify;
pub mod parse;
pub mod playbook;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod source;
pub mod terminal;

pub mod transport;
pub mod value;
pub mod vars;
pub mod vault;
pub mod version;
pub mod web;
pub mod xml;

pub use error::{Error, ExitCode, Result};
