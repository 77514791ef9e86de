//! A real SMTP server for the notification tests: aiosmtpd (pinned, installed into the
//! test venv by scripts/pyenv) run by tests/util/smtpd.py on 127.0.0.1, with AUTH and
//! STARTTLS (a CA and certificate made by openssl for the test). Killed on Drop.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How the server protects its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    None,
    /// STARTTLS, required before AUTH and MAIL.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Implicit,
}

pub struct Smtpd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub user: String,
    pub password: String,
}

impl Smtpd {
    /// Plain SMTP (loopback) with AUTH, or STARTTLS (required) with AUTH.
    pub fn start(starttls: bool) -> Smtpd {
        Smtpd::start_with(if starttls { Tls::Starttls } else { Tls::None })
    }

    pub fn start_with(tls: Tls) -> Smtpd {
        let python = super::pyenv().join("bin/python");
        assert!(
            python.exists(),
            "{} not found: run scripts/setup (it runs scripts/pyenv, which installs aiosmtpd)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut cmd = Command::new(python);
        cmd.arg(super::root().join("tests/util/smtpd.py"))
            .args(["--port", &port.to_string(), "--out"])
            .arg(&out)
            .args(["--user", "netorch", "--password", "m4il-pa55"]);
        if tls != Tls::None {
            super::ftpd::make_certs(dir.path());
            cmd.arg(if tls == Tls::Starttls {
                "--starttls"
            } else {
                "--implicit-tls"
            })
            .arg(dir.path().join("server.pem"))
            .arg(dir.path().join("server.key"));
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
            for _ in lines {}
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        if line != "READY" {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the SMTP server did not start ({line:?}): is aiosmtpd installed (scripts/pyenv)?"
            );
        }
        Smtpd {
            child,
            port,
            dir,
            user: "netorch".into(),
            password: "m4il-pa55".into(),
        }
    }

    /// The CA that signed the STARTTLS certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .filter_map(|e| {
                let p = e.ok()?.path();
                let n = p.file_stem()?.to_str()?.parse().ok()?;
                (p.extension()? == "json").then_some((n, p))
            })
            .collect();
        files.sort();
        files
            .iter()
            .map(|(_, p)| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Wait until at least `n` messages came (panics after `secs`).
    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(Instant::now() < deadline, "{} mails, wanted {n}", m.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
