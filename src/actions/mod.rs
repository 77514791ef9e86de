//! Actions: what a task does, one file per kind, and the one table that names them all.
//!
//! Every action is a typed argument struct (validated when the playbook loads; templated
//! strings are kept as written) that implements [`ActionArgs`]: how it is parsed from the
//! task's value, how it is summarised for a task without a name, and how it runs on one
//! host. `run` gets one [`Env`], which the executor builds once per attempt: the host's
//! context ([`ActionCtx`]), its connection (opened lazily through [`Connector`] and kept for
//! the rest of the run), source resolution, progress and the run's backup writer. Actions
//! return a [`TaskResult`]; they never print and never import the executor.
//!
//! Adding an action: one file here with its argument type and its `ActionArgs` impl, and one
//! line in the table at the bottom of this file. The names users may write, the kind, the
//! parsing and the dispatch all come from that table.

pub mod api;
pub(crate) mod args;
pub mod assert;
pub mod backup;
pub mod command;
pub mod command_wait;
pub mod config;
pub mod config_ansible;
pub mod config_lines;
pub mod confirm;
pub mod copy;
pub mod debug;
pub mod facts;
pub mod fail;
pub mod file;
pub mod include_vars;
pub mod keys;
pub mod kv;
pub mod lineinfile;
pub(crate) mod local;
pub mod netconf;
pub mod set_fact;
pub mod template;
pub mod transfer;
pub mod wait_for;

pub use assert::AssertArgs;
pub use backup::BackupArgs;
pub use command::{CommandArgs, Expect};
pub use config::{ConfigArgs, ConfigSource, DiffAgainst, SaveWhen};
pub use debug::{DebugArgs, DebugWhat};
pub use fail::FailArgs;
pub use set_fact::SetFactArgs;
pub use template::TemplateArgs;
pub use transfer::{Download, Protocol, TransferArgs, Upload, Verify};
pub use wait_for::{PortState, WaitForArgs};

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::Deserializer;

use crate::backup::BackupRun;
use crate::device::capability::Need;
use crate::device::profile::ProfileSet;
use crate::device::{Connection, DeviceError};
use crate::jinja::Templates;
use crate::report::{CommandOutput, Status, TaskResult};
use crate::value::Vars;

/// What every action may look at: the host, its variables and how to render them.
pub struct ActionCtx<'a> {
    pub host: &'a str,
    /// The host's full context: inventory, play and extra vars, facts, registered results.
    pub vars: &'a Vars,
    pub templates: &'a Templates,
    pub check_mode: bool,
    pub diff: bool,
    /// `--show-secrets`: config text (diffs, lines sent) is shown as the device has it,
    /// without the platform's secret patterns masked.
    pub show_secrets: bool,
    /// The run's `-v` count.
    pub verbose: u8,
}

impl ActionCtx<'_> {
    /// Render a templated string in this host's context; `what` names it for errors.
    pub fn render(&self, s: &str, what: &str) -> Result<String, crate::Error> {
        self.templates.render_str(s, self.vars, what)
    }

    /// Render a string that goes out as one line (a command, a config line, an answer, a
    /// path): a variable's value may not bring a line break with it.
    pub fn render_line(&self, s: &str, what: &str) -> Result<String, crate::Error> {
        self.templates.render_line(s, self.vars, what)
    }
}

/// The host's connection, opened on first use. The executor implements it so that the
/// session outlives the task (one per host per run); a failure to connect is already the
/// result the task gets (`unreachable` or `failed`).
pub trait Connector {
    fn connection(&mut self) -> Result<&mut Connection, TaskResult>;
}

/// Everything the executor gives an action, built once per attempt.
pub struct Env<'a> {
    pub ctx: ActionCtx<'a>,
    /// Per-command timeout: the task's `timeout`, else the play's; `None`: the host's
    /// `command_timeout`.
    pub command_timeout: Option<Duration>,
    /// The task's own `timeout` (transfers bound the whole copy with it).
    pub task_timeout: Option<Duration>,
    pub connector: &'a mut dyn Connector,
    /// Find a local source file (relative to the playbook's folder, then the project's).
    pub resolve_src: &'a dyn Fn(&str) -> Option<PathBuf>,
    /// Receives transfer progress (throttled by the sender).
    pub progress: &'a dyn Fn(transfer::Progress),
    /// The run's backup writer (`None` outside runs that may back up).
    pub backups: Option<&'a BackupRun>,
    /// Where `config` keeps a host's config before changing it.
    pub rollback: Option<&'a crate::config::record::Recorder>,
    /// The play's `confirm:` timer: `config` applies changes under the device's revert
    /// timer, and a later `confirm` task confirms them.
    pub confirm: Option<Duration>,
    pub profiles: &'a ProfileSet,
    /// The key the task wrote its action with (`cisco.ios.ios_command`): Ansible's
    /// modules register their results in Ansible's shape.
    pub action_key: &'a str,
    /// The playbook's folder (Ansible's `playbook_dir`: where `backup: yes` writes).
    pub playbook_dir: &'a std::path::Path,
}

impl<'a> Env<'a> {
    /// The host's connection with the command timeout that applies to it, beside the
    /// context (split so that an action can hold both).
    pub fn connect(&mut self) -> Result<(&mut Connection, &ActionCtx<'a>, Duration), TaskResult> {
        let conn = self.connector.connection()?;
        let timeout = self
            .command_timeout
            .unwrap_or_else(|| conn.command_timeout());
        Ok((conn, &self.ctx, timeout))
    }
}

/// One kind of action: its typed arguments and how they run.
pub trait ActionArgs: Sized {
    /// Read the value of the task's action key (file:line errors come from the caller's
    /// deserializer).
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;

    /// A one-line detail for a task without a name (`show version`); empty for none.
    fn summary(&self) -> String;

    /// Run on one host.
    fn run(&self, env: &mut Env<'_>) -> TaskResult;

    /// Every templated field and named file, for validation before a run: what `run`
    /// renders or opens must be listed here, or `check` cannot find its mistakes.
    fn probes(&self) -> Vec<Probe<'_>>;
}

/// One field of an action that validation renders or resolves for each host before a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe<'a> {
    /// A templated string (`msg`); every name it uses must be defined.
    Text { what: String, source: &'a str },
    /// A templated string sent or used as one line (a command, a config line, a path): as
    /// [`Probe::Text`], and a value may not bring a line break into it.
    Line { what: String, source: &'a str },
    /// An expression (`that`, debug `var`): it must compile and name known filters and
    /// tests; its names may be undefined (`x is defined`).
    Expr { what: String, source: &'a str },
    /// A template file's name (itself maybe templated), looked up in the template folders;
    /// `lines`: its output is config lines, each of which a value may not break.
    Template {
        what: String,
        name: &'a str,
        lines: bool,
    },
    /// A local file's name (itself maybe templated), looked up in the file folders.
    LocalFile { what: String, name: &'a str },
    /// An `include_vars` file's name (itself maybe templated), found as the run finds it
    /// ([`include_vars::find`]: beside the playbook, then in its `vars/`).
    VarsFile { what: String, name: &'a str },
    /// A config `src`: a local file, else (as Ansible's `*_config` finds it) a template.
    ConfigSrc { what: String, name: &'a str },
    /// A TextFSM template file (`parse: {textfsm: FILE}`): found in parsers/ or the playbook
    /// folders, and compiled, before any device is touched.
    TextFsm { what: String, name: &'a str },
    /// `parse: textfsm`: a template library must be found for the host (`dir`: its
    /// `textfsm_dir`, rendered), else every host would fail at run time.
    TextFsmLibrary { what: String, dir: &'a str },
}

impl<'a> Probe<'a> {
    pub fn text(what: impl Into<String>, source: &'a str) -> Self {
        Probe::Text {
            what: what.into(),
            source,
        }
    }

    pub fn line(what: impl Into<String>, source: &'a str) -> Self {
        Probe::Line {
            what: what.into(),
            source,
        }
    }

    pub fn expr(what: impl Into<String>, source: &'a str) -> Self {
        Probe::Expr {
            what: what.into(),
            source,
        }
    }
}

/// A device error as a task result: a dropped or hung session makes the host unreachable
/// for the rest of the run; anything else is a failure. Output received before the error
/// is kept as a command of its own.
pub fn device_failure(e: &DeviceError) -> TaskResult {
    let lost = matches!(e, DeviceError::Closed { .. })
        || matches!(e, DeviceError::Transport(t) if t.is_unreachable());
    let status = if lost {
        Status::Unreachable
    } else {
        Status::Failed
    };
    let mut r = TaskResult::new(status).with_msg(e.to_string());
    if let Some(partial) = e.partial_output() {
        if !partial.is_empty() {
            r.commands.push(CommandOutput {
                command: String::from("(output before the error)"),
                output: partial.to_string(),
                exit_status: None,
                error: Some(e.to_string()),
                parsed: None,
            });
        }
    }
    r
}

/// Generates [`Action`], [`ActionKind`] and their dispatch from one table, so that a new
/// action cannot be half-registered.
macro_rules! action_table {
    ($( $variant:ident = $key:literal => $args:ty ),* $(,)?) => {
        /// A task's action with its validated arguments. Templated strings (`{{ }}`) are kept
        /// as written; they are rendered per host at run time.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Action {
            $( $variant($args), )*
        }

        /// The kinds of action, without arguments.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ActionKind {
            $( $variant, )*
        }

        impl ActionKind {
            pub const ALL: &'static [ActionKind] = &[ $( ActionKind::$variant, )* ];

            /// The canonical key (`wait_for`).
            pub fn name(self) -> &'static str {
                match self {
                    $( ActionKind::$variant => $key, )*
                }
            }

            /// Parse the value of a task key of this kind.
            pub fn parse<'de, D: Deserializer<'de>>(self, d: D) -> Result<Action, D::Error> {
                Ok(match self {
                    $( ActionKind::$variant => Action::$variant(<$args as ActionArgs>::parse(d)?), )*
                })
            }
        }

        impl Action {
            pub fn kind(&self) -> ActionKind {
                match self {
                    $( Action::$variant(_) => ActionKind::$variant, )*
                }
            }

            /// A one-line summary for a task without a name (`command: show version`).
            pub fn summary(&self) -> String {
                let detail = match self {
                    $( Action::$variant(a) => a.summary(), )*
                };
                if detail.is_empty() {
                    self.kind().name().to_string()
                } else {
                    format!("{}: {detail}", self.kind().name())
                }
            }

            /// Run on one host.
            pub fn run(&self, env: &mut Env<'_>) -> TaskResult {
                match self {
                    $( Action::$variant(a) => a.run(env), )*
                }
            }

            /// The fields validation looks at (see [`ActionArgs::probes`]).
            pub fn probes(&self) -> Vec<Probe<'_>> {
                match self {
                    $( Action::$variant(a) => a.probes(), )*
                }
            }
        }
    };
}

action_table! {
    Command = "command" => command::CommandArgs,
    Config = "config" => config::ConfigArgs,
    Confirm = "confirm" => confirm::ConfirmArgs,
    Template = "template" => template::TemplateArgs,
    Backup = "backup" => backup::BackupArgs,
    Upload = "upload" => transfer::Upload,
    Download = "download" => transfer::Download,
    WaitFor = "wait_for" => wait_for::WaitForArgs,
    Assert = "assert" => assert::AssertArgs,
    SetFact = "set_fact" => set_fact::SetFactArgs,
    Fail = "fail" => fail::FailArgs,
    Debug = "debug" => debug::DebugArgs,
    Copy = "copy" => copy::CopyArgs,
    LineInFile = "lineinfile" => lineinfile::LineInFileArgs,
    File = "file" => file::FileArgs,
    Facts = "gather_facts" => facts::FactsArgs,
    IncludeVars = "include_vars" => include_vars::IncludeVarsArgs,
    Api = "api" => api::ApiArgs,
    NetconfGet = "netconf_get" => netconf::get::NetconfGetArgs,
    NetconfConfig = "netconf_config" => netconf::config::NetconfConfigArgs,
    NetconfRpc = "netconf_rpc" => netconf::rpc::NetconfRpcArgs,
}

impl Action {
    /// What the task needs from its host's connection, checked against the transport
    /// before a run ([`crate::device::capability`]); `None`: the task opens none, or its
    /// own (`api` builds an HTTP client when the host has no API connection).
    pub fn need(&self, vars: &Vars, profiles: &ProfileSet) -> Option<Need> {
        Some(match self {
            Action::Command(_) | Action::Facts(_) => Need::Commands,
            Action::Config(_) | Action::Confirm(_) => Need::Config,
            Action::Backup(_) => Need::Backup,
            Action::Upload(t) => transfer_need(t, vars, profiles)?,
            Action::Download(t) => transfer_need(t, vars, profiles)?,
            Action::NetconfGet(_) | Action::NetconfConfig(_) | Action::NetconfRpc(_) => {
                Need::Netconf
            }
            _ => return None,
        })
    }
}

fn transfer_need(args: &TransferArgs, vars: &Vars, profiles: &ProfileSet) -> Option<Need> {
    transfer::needs_ssh(transfer::protocol_for(args, vars, profiles)).then_some(Need::SshFiles)
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
