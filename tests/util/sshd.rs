//! A real OpenSSH sshd for the tests: own config, host key and authorized_keys in a temp
//! dir, listening on 127.0.0.1 on a free port, killed on Drop.
//!
//! Key auth is tested as the current user (root in CI: `PermitRootLogin yes`). Password
//! auth needs an account with a known password that is not root's: when running as root,
//! [`password_user`] creates the system user `netorch-test` (no home, `/bin/sh`) once and
//! sets its password with `chpasswd`. Without root those tests skip themselves.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The password of the `netorch-test` account.
pub const TEST_PASSWORD: &str = "Nt-test-pw-4711";
pub const TEST_USER: &str = "netorch-test";
/// Passphrase of [`Sshd::client_key_pp`].
pub const KEY_PASSPHRASE: &str = "pp-s3cret";

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
    /// `[127.0.0.1]:PORT ssh-ed25519 AAAA...`
    pub known_hosts_line: String,
    /// An unencrypted client key listed in authorized_keys.
    pub client_key: PathBuf,
    /// A passphrase-protected client key (passphrase [`KEY_PASSPHRASE`]) also listed.
    pub client_key_pp: PathBuf,
    log: Arc<Mutex<String>>,
}

fn keygen(path: &Path, passphrase: &str) {
    let st = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "netorch-test",
            "-f",
        ])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(st.success(), "ssh-keygen failed for {}", path.display());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The current user's name (key auth logs in as this user).
pub fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            let out = Command::new("id").arg("-un").output().expect("id runs");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
}

/// Make sure `netorch-test` exists with [`TEST_PASSWORD`]; `None` when not root.
pub fn password_user() -> Option<&'static str> {
    static READY: OnceLock<bool> = OnceLock::new();
    let ok = *READY.get_or_init(|| {
        let uid = Command::new("id").arg("-u").output().ok();
        if uid.map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0") != Some(true) {
            return false;
        }
        let exists = Command::new("id")
            .arg(TEST_USER)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            let st = Command::new("useradd")
                .args(["-r", "-M", "-s", "/bin/sh", TEST_USER])
                .status();
            if !st.is_ok_and(|s| s.success()) {
                return false;
            }
        }
        let mut child = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .expect("chpasswd runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{TEST_USER}:{TEST_PASSWORD}\n").as_bytes())
            .unwrap();
        child.wait().is_ok_and(|s| s.success())
    });
    ok.then_some(TEST_USER)
}

impl Sshd {
    /// Start sshd with `extra` in front of the config (e.g. `KexAlgorithms ...`).
    pub fn start(extra: &str) -> Sshd {
        Sshd::start_with(|_| extra.to_string())
    }

    /// [`Sshd::start`] with config lines that need the port (a subsystem told it).
    pub fn start_with(extra: impl Fn(u16) -> String) -> Sshd {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        keygen(&d.join("host_ed25519"), "");
        keygen(&d.join("client_key"), "");
        keygen(&d.join("client_key_pp"), KEY_PASSPHRASE);
        let mut auth = std::fs::read_to_string(d.join("client_key.pub")).unwrap();
        auth.push_str(&std::fs::read_to_string(d.join("client_key_pp.pub")).unwrap());
        std::fs::write(d.join("authorized_keys"), auth).unwrap();
        let host_pub = std::fs::read_to_string(d.join("host_ed25519.pub")).unwrap();
        let host_pub: Vec<&str> = host_pub.split_whitespace().collect();

        for _attempt in 0..5 {
            let port = free_port();
            let extra = extra(port);
            let cfg = format!(
                // `extra` first: sshd keeps the first value it reads for a keyword.
                "{extra}\nPort {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nUsePAM no\nStrictModes no\nPermitRootLogin yes\n\
                 PasswordAuthentication yes\nPubkeyAuthentication yes\nKbdInteractiveAuthentication no\n\
                 AllowTcpForwarding yes\nLogLevel INFO\nSubsystem sftp internal-sftp\nMaxStartups 100\n\
                 MaxAuthTries 20\n",
                d = d.display()
            );
            let cfg_path = d.join("sshd_config");
            std::fs::write(&cfg_path, cfg).unwrap();
            let mut child = Command::new("/usr/sbin/sshd")
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&cfg_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sshd starts");
            let stderr = child.stderr.take().unwrap();
            let log = Arc::new(Mutex::new(String::new()));
            let (tx, rx) = std::sync::mpsc::channel();
            let log2 = log.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log2.lock().unwrap().push_str(&format!("{line}\n"));
                    if line.contains("Server listening") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(true);
                        }
                    }
                }
                if let Some(tx) = tx.take() {
                    let _ = tx.send(false);
                }
            });
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(true) => {
                    return Sshd {
                        known_hosts_line: format!(
                            "[127.0.0.1]:{port} {} {}",
                            host_pub[0], host_pub[1]
                        ),
                        port,
                        child,
                        client_key: d.join("client_key"),
                        client_key_pp: d.join("client_key_pp"),
                        log,
                        dir,
                    };
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    eprintln!("sshd did not start, retrying:\n{}", log.lock().unwrap());
                }
            }
        }
        panic!("sshd would not start");
    }

    /// A known_hosts file in the temp dir holding this server's key.
    pub fn known_hosts_file(&self) -> PathBuf {
        let p = self.dir.path().join("known_hosts");
        std::fs::write(&p, format!("{}\n", self.known_hosts_line)).unwrap();
        p
    }

    /// `SHA256:...` of the host key, as ssh-keygen prints it.
    pub fn host_fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.dir.path().join("host_ed25519.pub"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    /// What sshd logged so far (for assertion messages).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An inventory with `n` names (`h0`, `h1`, ...) for the same sshd, key auth as the
/// current user; `extra` is more `all.vars` lines (indented by four spaces).
pub fn sshd_inventory(d: &Sshd, dir: &Path, n: usize, extra: &str) -> PathBuf {
    let mut hosts = String::new();
    for i in 0..n {
        hosts.push_str(&format!("    h{i}:\n"));
    }
    let inv = format!(
        "all:\n  vars:\n    host: 127.0.0.1\n    port: {}\n    user: {}\n    private_key_file: {}\n    known_hosts_file: {}\n    auth_methods: [publickey]\n{extra}  hosts:\n{hosts}",
        d.port,
        current_user(),
        d.client_key.display(),
        d.known_hosts_file().display(),
    );
    let p = dir.join("inventory.yml");
    std::fs::write(&p, inv).unwrap();
    p
}
