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
/// `git fsck --full` on a backup store finds nothing (no dangling or broken object).
pub fn fsck_clean(store: &std::path::Path) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(store)
        .args(["fsck", "--full", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "git fsck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub mod ftpd;
pub mod report;
pub mod sim;
pub mod sshd;
