//! Helpers shared by the integration tests: the netorch binary, temp dirs, real servers.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `std::process::Command` for the netorch binary built for this test run.
pub fn netorch() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_netorch"))
}
pub mod ftpd;
pub mod report;
pub mod sim;
pub mod sshd;
