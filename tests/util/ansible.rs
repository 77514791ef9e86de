//! The pinned Ansible test oracle that `scripts/setup` installs (scripts/ansible-env): a venv
//! with ansible-core, netaddr, jmespath and the ansible.utils / ansible.netcommon collections.
//! The differential tests run Ansible's own commands from it, isolated from any user or
//! system Ansible configuration, and compare their answers with netorch's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The venv: `$NETORCH_ANSIBLE_ENV`, else ~/.cache/netorch-test/ansible.
pub fn env_dir() -> PathBuf {
    let dir = std::env::var_os("NETORCH_ANSIBLE_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/netorch-test/ansible")
        });
    assert!(
        dir.join("bin/ansible-playbook").is_file(),
        "the Ansible test oracle is not installed at {}: run scripts/setup (it runs \
         scripts/ansible-env)",
        dir.display()
    );
    dir
}

/// A command for one of the oracle's programs (`ansible-playbook`, `ansible-inventory`,
/// `ansible-vault`), run in `cwd` with a private Ansible home and configuration so that
/// nothing on the machine (an ~/.ansible.cfg, ANSIBLE_* variables) changes its answers.
pub fn command(program: &str, cwd: &Path) -> Command {
    let env = env_dir();
    let mut cmd = Command::new(env.join("bin").join(program));
    cmd.current_dir(cwd);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ANSIBLE_") {
            cmd.env_remove(k);
        }
    }
    let home = cwd.join(".ansible-home");
    cmd.env("ANSIBLE_HOME", &home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("tmp"))
        .env("ANSIBLE_CONFIG", "/dev/null")
        .env("ANSIBLE_COLLECTIONS_PATH", env.join("collections"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "0")
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", env.join("bin").display()),
        )
        .env("LC_ALL", "C.UTF-8");
    cmd
}

/// Runs the command and returns its output, panicking with both streams when it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
