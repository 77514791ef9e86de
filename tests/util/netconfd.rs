//! yuma123's `netconfd` behind a real sshd: sshd runs `netconf-subsystem` for the `netconf`
//! subsystem, which hands the session to netconfd over a Unix socket in the temp dir.
//! netconfd runs as the current user (the one the tests log in as) and is told the sshd
//! port with `--port`, else it refuses the session. `ietf-interfaces` and `ietf-system`
//! give it config to edit; `--no-startup` starts every server empty.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::sshd::{current_user, Sshd};

pub struct Netconfd {
    child: Child,
    // After the child: sshd stops after netconfd (Drop order does not matter for them).
    pub sshd: Sshd,
    pub sock_dir: tempfile::TempDir,
}

impl Netconfd {
    pub fn start() -> Netconfd {
        assert!(
            Path::new("/usr/sbin/netconfd").exists(),
            "netconfd missing: run scripts/setup (it installs the netconfd package)"
        );
        let sock_dir = tempfile::tempdir().expect("temp dir");
        let sock = sock_dir.path().join("ncxserver.sock");
        let sock_s = sock.display().to_string();
        let sshd = Sshd::start_with(|port| {
            format!("Subsystem netconf /usr/sbin/netconf-subsystem --ncxserver-sockname={port}@{sock_s}")
        });
        let log = std::fs::File::create(sock_dir.path().join("netconfd.log")).unwrap();
        let child = Command::new("/usr/sbin/netconfd")
            .arg(format!("--port={}", sshd.port))
            .arg(format!("--ncxserver-sockname={sock_s}"))
            .arg("--no-startup")
            .arg("--module=ietf-interfaces")
            .arg("--module=iana-if-type")
            .arg(format!("--superuser={}", current_user()))
            .arg("--log-level=info")
            .env("HOME", sock_dir.path())
            // It writes backup-cfg.xml where it runs (a confirmed commit's rollback copy).
            .current_dir(sock_dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("netconfd starts");
        let mut nc = Netconfd {
            child,
            sshd,
            sock_dir,
        };
        let t = Instant::now();
        while !sock.exists() {
            if let Ok(Some(st)) = nc.child.try_wait() {
                panic!("netconfd exited ({st}):\n{}", nc.log());
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "netconfd did not open {sock_s}:\n{}",
                nc.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nc
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.sock_dir.path().join("netconfd.log")).unwrap_or_default()
    }

    /// An inventory of one host `r1` on this server over NETCONF; `extra`: more host
    /// variable lines (indented by six spaces).
    pub fn inventory(&self, dir: &Path, extra: &str) -> std::path::PathBuf {
        let inv = format!(
            "all:\n  hosts:\n    r1:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      ansible_connection: ansible.netcommon.netconf\n      user: {}\n      private_key_file: {}\n      known_hosts_file: {}\n      auth_methods: [publickey]\n{extra}",
            self.sshd.port,
            current_user(),
            self.sshd.client_key.display(),
            self.sshd.known_hosts_file().display(),
        );
        super::write(dir, "inventory.yml", &inv)
    }
}

impl Drop for Netconfd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
