//! netorch-sim for the tests: built once per test run, started on 127.0.0.1 with OS-chosen
//! ports from a temp dir, waited for (`READY <n> devices`), killed on Drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value};

/// The sim's device platforms.
pub const PLATFORMS: &[&str] = &[
    "cisco_ios",
    "arista_eos",
    "juniper_junos",
    "cisco_nxos",
    "cisco_iosxr",
];

/// The sim binary, built (once per test process) with the current sources.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = super::root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "-q", "-p", "netorch-sim"])
            .current_dir(&root)
            .status()
            .expect("cargo runs");
        assert!(st.success(), "cargo build -p netorch-sim failed");
        target.join("debug").join("netorch-sim")
    })
    .clone()
}

/// One started device.
#[derive(Debug, Clone)]
pub struct SimHost {
    pub name: String,
    /// Its variables: all.vars merged with the host's own (host, port, platform, ...).
    pub vars: Map<String, Value>,
}

pub struct Sim {
    child: Child,
    pub dir: tempfile::TempDir,
    pub inventory: PathBuf,
    pub known_hosts: PathBuf,
    pub hosts: Vec<SimHost>,
}

impl Sim {
    /// Start the sim with `args` (e.g. `["--count", "1", "--platform", "cisco_ios"]`).
    pub fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let inventory = dir.path().join("sim-inventory.yaml");
        let known_hosts = dir.path().join("sim-known_hosts");
        let mut child = Command::new(binary())
            .args(args)
            .args(["--bind", "127.0.0.1", "--base-port", "0"])
            .arg("--inventory-out")
            .arg(&inventory)
            .arg("--known-hosts-out")
            .arg(&known_hosts)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("netorch-sim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = tx.send(first);
            for _ in lines {}
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        if !line.starts_with("READY") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("netorch-sim did not get ready: {line:?}");
        }
        let hosts = read_inventory(&inventory);
        Sim {
            child,
            dir,
            inventory,
            known_hosts,
            hosts,
        }
    }

    /// A builder for the usual options: `Sim::with("cisco_ios", 2).password(P).start()`.
    pub fn with(platform: &str, count: usize) -> SimBuilder {
        SimBuilder {
            args: vec![
                "--platform".into(),
                platform.into(),
                "--count".into(),
                count.to_string(),
            ],
        }
    }

    /// `netorch CMD -i <this sim's inventory>`, run from the sim's folder.
    pub fn netorch(&self, cmd: &str) -> Command {
        let mut c = super::netorch();
        c.current_dir(self.dir.path())
            .args([cmd, "-i"])
            .arg(&self.inventory);
        c
    }

    /// The variables of device `name`.
    pub fn vars(&self, name: &str) -> Map<String, Value> {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no sim device {name}"))
            .vars
            .clone()
    }
}

/// Options for [`Sim::with`], then [`SimBuilder::start`].
pub struct SimBuilder {
    args: Vec<String>,
}

impl SimBuilder {
    pub fn password(self, pw: &str) -> Self {
        self.arg("--password").arg(pw)
    }

    pub fn enable_secret(self, secret: &str) -> Self {
        self.arg("--enable-secret").arg(secret)
    }

    /// Any other netorch-sim option (`--latency-ms`, `--fail`, `--prompt`, ...).
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    pub fn args(self, more: &[&str]) -> Self {
        more.iter().fold(self, |b, a| b.arg(a))
    }

    pub fn start(self) -> Sim {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Sim::start(&args)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Flatten the sim's inventory (all.vars + children.*.hosts.*) into per-host variables.
fn read_inventory(path: &std::path::Path) -> Vec<SimHost> {
    let text = std::fs::read_to_string(path).expect("sim inventory");
    let doc: Value = serde_yaml::from_str(&text).expect("sim inventory is YAML");
    let all = &doc["all"];
    let base = all["vars"].as_object().cloned().unwrap_or_default();
    let mut out = Vec::new();
    let mut add_hosts = |hosts: &Value| {
        if let Some(h) = hosts.as_object() {
            for (name, v) in h {
                let mut vars = base.clone();
                if let Some(own) = v.as_object() {
                    for (k, val) in own {
                        vars.insert(k.clone(), val.clone());
                    }
                }
                out.push(SimHost {
                    name: name.clone(),
                    vars,
                });
            }
        }
    };
    add_hosts(&all["hosts"]);
    if let Some(children) = all["children"].as_object() {
        for g in children.values() {
            add_hosts(&g["hosts"]);
        }
    }
    out
}
