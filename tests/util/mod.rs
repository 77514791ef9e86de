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

pub mod ansible;
pub mod ftpd;
pub mod git_http;
pub mod netconfd;
pub mod report;
pub mod sim;
pub mod smtpd;
pub mod sshd;
pub mod webhookd;

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// `netorch run -i <the sim's inventory> PLAYBOOK ARGS...` from the sim's folder.
pub fn run_playbook(
    sim: &sim::Sim,
    playbook: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    netorch()
        .current_dir(sim.dir.path())
        .arg("run")
        .arg("-i")
        .arg(&sim.inventory)
        .arg(playbook)
        .args(args)
        .output()
        .unwrap()
}

/// ntc-templates' `templates` folder from the pinned test environment that `scripts/setup`
/// installs (scripts/pyenv): `$NETORCH_PYENV`, else ~/.cache/netorch-test/pyenv.
pub fn ntc_templates() -> PathBuf {
    let env = pyenv();
    let pattern = format!(
        "{}/lib/python3*/site-packages/ntc_templates/templates/index",
        env.display()
    );
    glob::glob(&pattern)
        .ok()
        .and_then(|mut g| g.find_map(|p| p.ok()))
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| {
            panic!(
                "ntc-templates not found at {pattern}: run scripts/setup (it runs scripts/pyenv)"
            )
        })
}

/// The pinned Python test environment scripts/pyenv makes: `$NETORCH_PYENV`, else
/// ~/.cache/netorch-test/pyenv.
pub fn pyenv() -> PathBuf {
    std::env::var_os("NETORCH_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/netorch-test/pyenv")
        })
}
