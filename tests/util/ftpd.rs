//! A real vsftpd for the tests: own config in a temp dir, listening on 127.0.0.1 on a free
//! port (passive ports from a free range), plain or with explicit TLS using a test CA made
//! with openssl; killed on Drop.
//!
//! Logins use the `netorch-test` account (see [`super::sshd::password_user`]), so these tests
//! need root; without it they skip themselves. The served folder is owned by that account.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::sshd;

pub struct Ftpd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// Where uploads land (writable by the test account).
    pub root: PathBuf,
    /// The CA that signed the server certificate (TLS only).
    pub ca_file: Option<PathBuf>,
    pub user: String,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
pub fn make_certs(d: &Path) {
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=netorch test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

impl Ftpd {
    /// Start vsftpd; `None` when the test account cannot be made (not root).
    pub fn start(tls: bool) -> Option<Ftpd> {
        Ftpd::start_with(tls, "127.0.0.1")
    }

    /// [`Ftpd::start`] with passive-mode replies naming `pasv_address` (a hostile or
    /// misconfigured server names another machine than itself).
    pub fn start_with(tls: bool, pasv_address: &str) -> Option<Ftpd> {
        let user = sshd::password_user()?.to_string();
        // vsftpd enters the account's home before `local_root`; the account was made
        // without one.
        let home = PathBuf::from(format!("/home/{user}"));
        if !home.exists() {
            std::fs::create_dir_all(&home).unwrap();
            let _ = Command::new("chown").arg(&user).arg(&home).status();
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let root = d.join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(d.join("empty")).unwrap();
        let st = Command::new("chown")
            .arg(&user)
            .arg(&root)
            .status()
            .unwrap();
        assert!(st.success());
        if tls {
            make_certs(d);
        }
        for _ in 0..5 {
            let port = free_port();
            let pasv = free_port();
            let mut cfg = format!(
                "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
                 anonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\nlocal_umask=022\n\
                 local_root={root}\nchroot_local_user=NO\npam_service_name=vsftpd\n\
                 secure_chroot_dir={d}/empty\nseccomp_sandbox=NO\nisolate=NO\nisolate_network=NO\n\
                 pasv_enable=YES\npasv_min_port={pasv}\npasv_max_port={pasv_hi}\npasv_address={pasv_address}\n\
                 port_enable=YES\nconnect_from_port_20=NO\nxferlog_enable=NO\nuse_localtime=NO\n\
                 max_clients=200\nmax_per_ip=200\n",
                root = root.display(),
                d = d.display(),
                pasv_hi = pasv.saturating_add(200),
            );
            if tls {
                cfg.push_str(&format!(
                    "ssl_enable=YES\nrsa_cert_file={d}/server.pem\nrsa_private_key_file={d}/server.key\n\
                     force_local_logins_ssl=YES\nforce_local_data_ssl=YES\nrequire_ssl_reuse=NO\n\
                     ssl_ciphers=HIGH\nallow_anon_ssl=NO\n",
                    d = d.display()
                ));
            }
            let cfg_path = d.join("vsftpd.conf");
            std::fs::write(&cfg_path, cfg).unwrap();
            let mut child = Command::new("/usr/sbin/vsftpd")
                .arg(&cfg_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("vsftpd starts");
            let t = Instant::now();
            let mut up = false;
            while t.elapsed() < Duration::from_secs(5) {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    up = true;
                    break;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if up {
                return Some(Ftpd {
                    ca_file: tls.then(|| d.join("ca.pem")),
                    port,
                    root,
                    user,
                    child,
                    dir,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("vsftpd would not start");
    }

    /// Inventory variables for this server (FTP login with the test account).
    pub fn vars(&self) -> String {
        let mut v = format!(
            "    host: 127.0.0.1\n    user: {}\n    ftp_password: {}\n    ftp_port: {}\n",
            self.user,
            sshd::TEST_PASSWORD,
            self.port
        );
        if let Some(ca) = &self.ca_file {
            v.push_str(&format!(
                "    ftps: explicit\n    ftps_ca_file: {}\n",
                ca.display()
            ));
        }
        v
    }
}

impl Drop for Ftpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
