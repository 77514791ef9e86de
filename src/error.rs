//! The library's error type and the exit-code contract of DESIGN.md.
//!
//! Three tiers: setup errors (this type) stop a run before any connection opens; per-host
//! failures become failed results and the run goes on; device-reported failures are result
//! states. Only `main` decides how an `Error` is printed.

use std::path::PathBuf;

use crate::source::LoadError;

/// Process exit codes, as promised in DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    HostFailed = 2,
    HostUnreachable = 3,
    InvalidInput = 4,
    BadOptions = 5,
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user file (inventory, playbook, vars, profile, template) could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),

    /// Several load errors found in one pass (e.g. `netorch check` over many files).
    #[error(
        "{}\n{} problems found",
        .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
        .0.len()
    )]
    LoadMany(Vec<LoadError>),

    /// A host pattern that is malformed, or matches nothing where that is an error.
    #[error("host pattern `{pattern}`: {reason}")]
    Pattern { pattern: String, reason: String },

    /// Rendering a template or an expression failed.
    #[error("{context}: {message}")]
    Template { context: String, message: String },

    /// A command-line option was wrong in a way clap cannot see.
    #[error("{0}")]
    Usage(String),

    /// Reports that cannot be merged (`netorch report merge`).
    #[error(transparent)]
    Merge(#[from] crate::report::merge::MergeError),

    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The exit code this error maps to when it ends the process.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::BadOptions,
            _ => ExitCode::InvalidInput,
        }
    }
}
