//! A daemon with a web interface on a loopback port, over a backup store made with git2
//! and jobs that need no device (local tasks); and a small HTTP client that reads whole
//! responses (the server closes each connection after one answer).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ALICE_PASSWORD: &str = "alice-Passw0rd";
pub const BOB_PASSWORD: &str = "bob-Passw0rd";
pub const TOKEN: &str = "ci-token-0123456789abcdef";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config of a device at version `i`.
pub fn config_at(i: usize) -> String {
    format!(
        "hostname core-ams-1\n! version {i}\ninterface GigabitEthernet0/1\n description uplink {i}\n ip address 10.0.{}.1 255.255.255.0\n no shutdown\nenable secret 5 ********\nsnmp-server location rack-{}\nend\n",
        i % 250,
        i / 2
    )
}

/// A store of `commits` commits made with git2 directly (fast: no working tree): every
/// commit changes `core-ams-1.cfg`; `<script>.cfg` (a config line with HTML in it) is
/// added by the first and changed by the second; `quiet.cfg` only by the first.
pub fn make_store(root: &Path, commits: usize) {
    let repo = git2::Repository::init(root).unwrap();
    let mut parent: Option<git2::Oid> = None;
    for i in 0..commits {
        let mut tb = repo.treebuilder(None).unwrap();
        let mut add = |name: &str, text: &str| {
            let b = repo.blob(text.as_bytes()).unwrap();
            tb.insert(name, b, 0o100644).unwrap();
        };
        add("core-ams-1.cfg", &config_at(i));
        add(
            "<script>.cfg",
            &format!(
                "hostname evil\nbanner motd ^<script>alert('x{}')</script><b>bold</b>^\nend\n",
                i.min(1)
            ),
        );
        add("quiet.cfg", "hostname quiet\nend\n");
        let tree = repo.find_tree(tb.write().unwrap()).unwrap();
        let sig = git2::Signature::new(
            "netorch",
            "netorch@localhost",
            &git2::Time::new(1_700_000_000 + i as i64 * 60, 0),
        )
        .unwrap();
        let parents: Vec<git2::Commit<'_>> = parent
            .iter()
            .map(|p| repo.find_commit(*p).unwrap())
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let id = repo
            .commit(
                Some("HEAD"),
                &sig,
                &sig,
                &format!("Backup {i}"),
                &tree,
                &refs,
            )
            .unwrap();
        parent = Some(id);
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session cookie a response sets (`name=value`).
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| {
                let kv = v.split(';').next()?.trim();
                kv.starts_with("netorch_session=").then(|| kv.to_string())
            })
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// Percent-encode a form value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn get(port: u16, path: &str, cookie: Option<&str>) -> Resp {
    match cookie {
        Some(c) => request(port, "GET", path, &[("Cookie", c)], None),
        None => request(port, "GET", path, &[], None),
    }
}

pub fn post(port: u16, path: &str, cookie: Option<&str>, body: &str) -> Resp {
    match cookie {
        Some(c) => request(port, "POST", path, &[("Cookie", c)], Some(body)),
        None => request(port, "POST", path, &[], Some(body)),
    }
}

/// The daemon, stopped on Drop.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

pub struct LabOptions {
    pub commits: usize,
    pub auth: bool,
    pub metrics_public: bool,
    /// Serve HTTPS with a self-signed certificate made by `openssl`.
    pub tls: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            commits: 5,
            auth: true,
            metrics_public: false,
            tls: false,
        }
    }
}

impl Lab {
    pub fn start(opts: LabOptions) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let store = d.join("store");
        make_store(&store, opts.commits);
        std::fs::write(
            d.join("inventory.yml"),
            "all:\n  children:\n    core:\n      hosts:\n        core-ams-1: {platform: cisco_ios, ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: u, ansible_password: p}\n        \"<script>\": {platform: cisco_ios}\n        new-sw: {platform: arista_eos}\n    edge:\n      hosts:\n        quiet: {platform: cisco_ios}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("hello.yml"),
            "- name: Local check\n  hosts: all\n  gather_facts: false\n  tasks:\n    - name: Say hello\n      debug: { msg: \"hello <b>{{ inventory_hostname }}</b>\" }\n      delegate_to: localhost\n    - name: Only plain names\n      fail: { msg: \"not a plain name: <i>{{ inventory_hostname }}</i>\" }\n      when: \"'<' in inventory_hostname\"\n      delegate_to: localhost\n",
        )
        .unwrap();
        let mut web = String::from("web:\n");
        if opts.metrics_public {
            web.push_str("  metrics_public: true\n");
        }
        if opts.tls {
            let out = Command::new("openssl")
                .current_dir(d)
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    "key.pem",
                    "-out",
                    "cert.pem",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=127.0.0.1",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            web.push_str("  tls: { cert: cert.pem, key: key.pem }\n");
        }
        if opts.auth {
            let alice = netorch::web::auth::hash_password(ALICE_PASSWORD).unwrap();
            let bob = netorch::web::auth::hash_password(BOB_PASSWORD).unwrap();
            std::fs::write(d.join("alice.hash"), format!("{alice}\n")).unwrap();
            std::fs::write(d.join("token"), format!("{TOKEN}\n")).unwrap();
            web.push_str(&format!(
                "  users:\n    - {{ name: alice, role: operator, password_hash_file: alice.hash }}\n    - {{ name: bob, role: read, password_hash: \"{bob}\" }}\n  tokens:\n    - {{ name: ci, role: read, token_file: token }}\n"
            ));
        }
        let schedule = format!(
            "jobs:\n  - name: nightly-backup\n    every: 24h\n    inventory: inventory.yml\n    limit: core\n    backup: {{ store: store }}\n  - name: hello\n    every: 24h\n    inventory: inventory.yml\n    limit: core-ams-1\n    playbook: hello.yml\n  - name: mixed\n    every: 24h\n    inventory: inventory.yml\n    playbook: hello.yml\n{web}"
        );
        std::fs::write(d.join("schedule.yml"), schedule).unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_netorch"))
            .current_dir(d)
            .args(["daemon", "--config", "schedule.yml", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("daemon.log")).unwrap())
            .spawn()
            .unwrap();
        let lab = Lab {
            dir,
            port,
            child: Some(child),
        };
        lab.wait_until("the daemon answers", 60, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        lab
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Poll `pred` every 100 ms until it holds; panics with the daemon's log after `secs`.
    pub fn wait_until(&self, what: &str, secs: u64, mut pred: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !pred() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; daemon log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Log in; the session cookie.
    pub fn login(&self, user: &str, password: &str) -> String {
        let form = get(self.port, "/login", None);
        assert_eq!(form.status, 200, "{}", form.body);
        let r = post(
            self.port,
            "/login",
            None,
            &format!(
                "user={}&password={}&csrf={}&next=%2F",
                enc(user),
                enc(password),
                enc(&form.csrf())
            ),
        );
        assert_eq!(r.status, 303, "{}", r.body);
        r.session_cookie().expect("a session cookie")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
