//! Actions: one file per task kind. Each takes its validated arguments and an
//! [`ActionCtx`] and returns a [`TaskResult`]; actions never print. Connection-bound actions
//! (command, config) get the host's open connection from the executor.

pub mod assert;
pub mod backup;
pub mod command;
pub mod config;
pub mod config_lines;
pub mod debug;
pub mod fail;
pub mod set_fact;
pub mod template;
pub mod transfer;
pub mod wait_for;

use crate::template::Templates;
use crate::value::Vars;

/// What every action may look at.
pub struct ActionCtx<'a> {
    pub host: &'a str,
    /// The host's full context: inventory, play and extra vars, facts, registered results.
    pub vars: &'a Vars,
    pub templates: &'a Templates,
    pub check_mode: bool,
    pub diff: bool,
}

impl ActionCtx<'_> {
    /// Render a templated string in this host's context; `what` names it for errors.
    pub fn render(&self, s: &str, what: &str) -> Result<String, crate::Error> {
        self.templates.render_str(s, self.vars, what)
    }
}
