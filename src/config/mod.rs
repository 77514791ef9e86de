//! The config model: a platform's configuration as a tree ([`Tree`]), read from what the
//! device prints or an engineer writes; the commands that turn one config into another
//! ([`remediate`]); and what a device does with commands ([`Tree::apply`]), which predicts
//! the config after a change. What differs between platforms is data ([`Syntax`], the
//! profile's `syntax:` section), not code.
//!
//! Used by `config` (exact previews, `mode: replace`), `netorch config remediate`,
//! `netorch compliance` and `netorch rollback`.

mod apply;
pub mod record;
mod remediate;
mod syntax;
mod tree;

pub use apply::Command;
pub use remediate::{equivalent, remediate, render_commands, Remediation, Scope};
pub use syntax::{Style, Syntax, SyntaxProblem, SyntaxSpec};
pub use tree::{collapse, Kind, Node, ParseError, Tree};

/// A remediation with the config it leads to.
#[derive(Debug, Clone)]
pub struct Plan {
    pub remediation: Remediation,
    /// The running config after the commands, in the device's layout.
    pub predicted: String,
}

/// Parses both configs, computes the remediation within `scope` and predicts the result.
/// The error says which side does not parse.
pub fn plan(running: &str, intended: &str, syn: &Syntax, scope: &Scope) -> Result<Plan, String> {
    let mut run = Tree::parse(running, syn).map_err(|e| format!("running config, {e}"))?;
    let want = Tree::parse_guided(intended, syn, Some(&run))
        .map_err(|e| format!("intended config, {e}"))?;
    let remediation = remediate(&run, &want, syn, scope);
    run.apply(&remediation.commands, syn);
    Ok(Plan {
        remediation,
        predicted: run.render(syn),
    })
}

#[cfg(test)]
mod tests;
